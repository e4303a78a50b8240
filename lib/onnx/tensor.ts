/**
 * Raw inputs of an ONNX member as hdglue takes them, checked against the model's declared input
 * before anything runs, and cut into batches along the first dimension in the element type the
 * model wants.
 */
import { ErrorCode, rangeError, typeError } from '../errors.js';
import { describe } from '../validate.js';

/** Element types an ONNX member's input may have, as onnxruntime names them. */
export type ElementType = 'float32' | 'float64' | 'int32' | 'int64' | 'uint8' | 'int8';

/** A typed array of one of the {@link ElementType}s. */
export type TypedData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array;

/** A named tensor: flat row-major data and its dimensions, the first being the rows (examples). */
export interface TensorInput {
  /** The values, row-major; plain numbers are converted to the model's element type. */
  data: TypedData | readonly number[];
  /** Dimensions, e.g. `[n, 1, 28, 28]` for n single-channel images. */
  dims: readonly number[];
}

/**
 * What an ONNX member takes: a {@link TensorInput}, a flat typed array (its row shape then comes
 * from the model, which must fix every dimension but the first), or an array of rows.
 */
export type RawInput = TensorInput | TypedData | readonly ArrayLike<number>[];

/** A checked input: flat data, its dimensions, and the values per row. @internal */
export interface CheckedInput {
  data: TypedData | readonly number[];
  dims: number[];
  rows: number;
  rowSize: number;
}

const CTORS = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  int64: BigInt64Array,
  uint8: Uint8Array,
  int8: Int8Array,
} as const;

/** Whether onnxruntime's type name is one hdglue can feed. @internal */
export function isElementType(t: string | undefined): t is ElementType {
  return t !== undefined && Object.hasOwn(CTORS, t);
}

function isTyped(x: unknown): x is TypedData {
  return Object.values(CTORS).some((C) => x instanceof C);
}

/**
 * Check `x` against the model's input shape (numbers fixed, strings free) and return it flat.
 * `label` starts every message (it names the member and the file).
 * @internal
 */
export function checkInput(x: RawInput, shape: readonly (number | string)[], label: string): CheckedInput {
  const want = `[${shape.join(', ')}]`;
  let data: TypedData | readonly number[];
  let dims: number[];
  if (isTyped(x) || Array.isArray(x)) {
    const rowShape = shape.slice(1);
    if (!rowShape.every((d): d is number => typeof d === 'number')) {
      throw rangeError(
        ErrorCode.SHAPE,
        `${label}: the model's input has shape ${want}, with free dimensions after the first; pass { data, dims } so the shape is known`,
      );
    }
    const rowSize = rowShape.reduce((a, b) => a * b, 1);
    if (isTyped(x)) {
      data = x;
      if (x.length === 0 || x.length % rowSize !== 0) {
        throw rangeError(
          ErrorCode.SHAPE,
          `${label}: ${x.length} values are not a whole, non-zero number of rows of ${rowSize} (input shape ${want})`,
        );
      }
      dims = [x.length / rowSize, ...rowShape];
    } else {
      const rows = x as readonly ArrayLike<number>[];
      if (rows.length === 0) throw rangeError(ErrorCode.SHAPE, `${label}: the batch is empty: there is nothing to run`);
      const flat = new Array<number>(rows.length * rowSize);
      rows.forEach((row, r) => {
        if (row === null || typeof row !== 'object' || typeof row.length !== 'number') {
          throw typeError(`${label}: row ${r} must be an array of numbers, got ${describe(row)}`);
        }
        if (row.length !== rowSize) {
          throw rangeError(
            ErrorCode.SHAPE,
            `${label}: row ${r} has ${row.length} values, but the model's input ${want} takes ${rowSize} per row`,
          );
        }
        for (let k = 0; k < rowSize; k++) flat[r * rowSize + k] = row[k] as number;
      });
      data = flat;
      dims = [rows.length, ...rowShape];
    }
  } else if (x !== null && typeof x === 'object' && 'dims' in x && 'data' in x) {
    if (!Array.isArray(x.dims) || !x.dims.every((d) => Number.isSafeInteger(d) && d >= 1)) {
      throw rangeError(ErrorCode.SHAPE, `${label}: dims must be positive integers, got ${describe(x.dims)}`);
    }
    if (!(isTyped(x.data) || Array.isArray(x.data))) {
      throw typeError(`${label}: data must be a typed array or an array of numbers, got ${describe(x.data)}`);
    }
    data = x.data;
    dims = [...x.dims];
    const size = dims.reduce((a, b) => a * b, 1);
    if (data.length !== size) {
      throw rangeError(
        ErrorCode.SHAPE,
        `${label}: dims [${dims.join(', ')}] need ${size} values, data has ${data.length}`,
      );
    }
  } else {
    throw typeError(
      `${label}: the input must be { data, dims }, a typed array or an array of rows, got ${describe(x)}`,
    );
  }
  const bad =
    dims.length !== shape.length ||
    shape.some((d, i) => i > 0 && typeof d === 'number' && d >= 0 && d !== dims[i]) ||
    (typeof shape[0] === 'number' && (dims[0] as number) % shape[0] !== 0);
  if (bad) {
    throw rangeError(ErrorCode.SHAPE, `${label}: the model's input takes shape ${want}, got [${dims.join(', ')}]`);
  }
  return { data, dims, rows: dims[0] as number, rowSize: dims.slice(1).reduce((a, b) => a * b, 1) };
}

/** Rows [start, end) of a checked input as a fresh array of the model's element type. @internal */
export function batchOf(x: CheckedInput, start: number, end: number, type: ElementType, label: string): TypedData {
  const from = start * x.rowSize;
  const to = end * x.rowSize;
  const C = CTORS[type];
  if (x.data instanceof C) return x.data.slice(from, to);
  const out = new C(to - from);
  const src = x.data;
  if (type === 'int64') {
    const o = out as BigInt64Array;
    for (let i = from; i < to; i++) {
      const v = src[i] as number | bigint;
      if (typeof v === 'bigint') o[i - from] = v;
      else if (Number.isSafeInteger(v)) o[i - from] = BigInt(v);
      else
        throw rangeError(
          ErrorCode.OUT_OF_RANGE,
          `${label}: value ${String(v)} at ${i} is not an integer (input type int64)`,
        );
    }
    return o;
  }
  const o = out as Exclude<TypedData, BigInt64Array>;
  const integer = type !== 'float32' && type !== 'float64';
  for (let i = from; i < to; i++) {
    const v = Number(src[i]);
    if (typeof src[i] !== 'number' && typeof src[i] !== 'bigint') {
      throw typeError(`${label}: value ${i} must be a number, got ${describe(src[i])}`);
    }
    if (integer && !Number.isInteger(v)) {
      throw rangeError(
        ErrorCode.OUT_OF_RANGE,
        `${label}: value ${String(v)} at ${i} is not an integer (input type ${type})`,
      );
    }
    o[i - from] = v;
  }
  return o;
}
