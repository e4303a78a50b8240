/**
 * Embedding matrices as the encoders take them: `n` rows of `features` numbers, row-major, in a
 * Float32Array or Float64Array (read in place by the native backend), or an array of rows
 * (copied once into a Float64Array).
 */
import { ErrorCode, rangeError, typeError } from '../errors.js';
import { checkCount, checkLimit, describe, LIMITS, lengthOf } from '../validate.js';

/** What the encoders accept as a batch: a flat row-major typed array, or an array of rows. */
export type EmbeddingMatrix = Float32Array | Float64Array | readonly ArrayLike<number>[];

/** One embedding: `features` numbers. */
export type Embedding = Float32Array | Float64Array | ArrayLike<number>;

/** A checked matrix: flat data and its row count. @internal */
export interface Matrix {
  data: Float32Array | Float64Array;
  n: number;
}

/**
 * Check and normalise a batch of embeddings. `n` is required with a flat typed array (and must
 * match its length) and optional with an array of rows.
 * @internal
 */
export function toMatrix(x: EmbeddingMatrix, features: number, n?: number): Matrix {
  if (x instanceof Float32Array || x instanceof Float64Array) {
    const length = lengthOf(x);
    if (n === undefined && length % features !== 0) {
      throw rangeError(
        ErrorCode.SHAPE,
        `embeddings have ${length} values, not a whole number of rows of ${features} features`,
      );
    }
    const rows = n ?? length / features;
    checkCount(rows, 'n');
    checkLimit(rows, LIMITS.rows, 'the rows of one batch', 'encode it in parts');
    if (rows === 0) throw rangeError(ErrorCode.SHAPE, 'the batch is empty: there is nothing to encode');
    if (length !== rows * features) {
      throw rangeError(
        ErrorCode.SHAPE,
        `embeddings have ${length} values, but ${rows} rows of ${features} features need ${rows * features}`,
      );
    }
    return { data: x, n: rows };
  }
  if (!Array.isArray(x)) {
    throw typeError(`embeddings must be a Float32Array, a Float64Array or an array of rows, got ${describe(x)}`);
  }
  if (n !== undefined && n !== x.length) throw rangeError(ErrorCode.SHAPE, `n is ${n} but ${x.length} rows were given`);
  if (x.length === 0) throw rangeError(ErrorCode.SHAPE, 'the batch is empty: there is nothing to encode');
  checkLimit(x.length, LIMITS.rows, 'the rows of one batch', 'encode it in parts');
  const data = new Float64Array(x.length * features);
  for (let r = 0; r < x.length; r++) {
    const row: unknown = x[r];
    if (row === null || typeof row !== 'object' || typeof (row as ArrayLike<number>).length !== 'number') {
      throw typeError(`embeddings[${r}] must be an array of numbers, got ${describe(row)}`);
    }
    const values = row as ArrayLike<number>;
    if (lengthOf(values) !== features) {
      throw rangeError(ErrorCode.SHAPE, `embeddings[${r}] has ${lengthOf(values)} features, expected ${features}`);
    }
    for (let f = 0; f < features; f++) {
      const v: unknown = values[f];
      if (typeof v !== 'number') throw typeError(`embeddings[${r}][${f}] must be a number, got ${describe(v)}`);
      data[r * features + f] = v;
    }
  }
  return { data, n: x.length };
}

/** One embedding as a one-row matrix. @internal */
export function toRow(x: Embedding, features: number): Matrix {
  if (x instanceof Float32Array || x instanceof Float64Array) return toMatrix(x, features, 1);
  if (x === null || typeof x !== 'object' || typeof x.length !== 'number') {
    throw typeError(`an embedding must be an array of numbers or a typed array, got ${describe(x)}`);
  }
  return toMatrix([x], features);
}

/** The error for a non-finite value at flat index `index`. @internal */
export function notFinite(data: Float32Array | Float64Array, index: number, features: number): RangeError {
  const row = Math.floor(index / features);
  const feature = index % features;
  return rangeError(
    ErrorCode.NOT_FINITE,
    `embedding row ${row}, feature ${feature} is ${String(data[index])}: values must be finite numbers`,
  );
}

/** Throws when the backend reported a non-finite value. @internal */
export function checkEncoded(result: number, data: Float32Array | Float64Array, features: number): void {
  if (result >= 0) throw notFinite(data, result, features);
}

/** The given rows of a row-major matrix, in that order, in a new array of the same type. @internal */
export function pickRows<T extends Float32Array | Float64Array>(x: T, features: number, rows: readonly number[]): T {
  const out = (
    x instanceof Float32Array ? new Float32Array(rows.length * features) : new Float64Array(rows.length * features)
  ) as T;
  rows.forEach((r, i) => {
    out.set(x.subarray(r * features, (r + 1) * features), i * features);
  });
  return out;
}
