/**
 * The rows of one request, checked and copied before it joins a batch, and the rows of a batch,
 * gathered from its requests. Every check a glue makes of its inputs (member names, row widths,
 * types, row counts, finite values) runs here, per request and with the glue's own codes and
 * messages, so a bad request is refused alone and never fails the other callers' rows.
 */
import { type EmbeddingMatrix, notFinite, toMatrix } from '../encode/embeddings.js';
import { ErrorCode, HdglueError, rangeError, typeError } from '../errors.js';
import { describe, LIMITS } from '../validate.js';

/** A batch's rows of one member, row-major: what `run` receives. */
export type RowMatrix = Float32Array | Float64Array;

/**
 * Values per row of each input (member) a batcher accepts: a map, or a function of the name that
 * returns the width, or `undefined` (or throws its own error) for a name it does not know. A
 * function is read at every request, so the set of members may change while the batcher lives.
 */
export type Widths = Readonly<Record<string, number>> | ((member: string) => number | undefined);

/**
 * The element type of the arrays `run` receives. `'auto'` (default): a Float32Array when every
 * request gave that member's rows as a Float32Array, else a Float64Array (float32 values widen
 * to it exactly, so the values are the ones given). `'float32'` always (float64 values are
 * rounded; a value too large for float32 is refused as not finite), `'float64'` always.
 */
export type BatchDtype = 'auto' | 'float32' | 'float64';

/** Where a request's inputs are, before copying: its member names (sorted), widths, row count. @internal */
export interface RequestShape {
  /** Names of the members present, sorted: with `widths`, what decides which requests may share a call. */
  names: string[];
  widths: number[];
  rows: number;
  /** The checked matrices, in `names` order; `fresh` when the check already copied them (arrays of rows). */
  matrices: { data: RowMatrix; fresh: boolean }[];
  /** Requests with equal keys may share a call of `run`. */
  key: string;
}

/** A width, checked: an integer in [1, LIMITS.features]. @internal */
export function checkWidth(w: unknown, name: string): number {
  if (typeof w !== 'number')
    throw typeError(`the width of ${JSON.stringify(name)} must be a number, got ${describe(w)}`);
  if (!Number.isInteger(w) || w < 1 || w > LIMITS.features)
    throw rangeError(
      ErrorCode.OUT_OF_RANGE,
      `the width of ${JSON.stringify(name)} must be an integer in [1, ${LIMITS.features}], got ${w}`,
    );
  return w;
}

/** `widths` checked: a function, or a map whose every width is checked now. @internal */
export function checkWidths(widths: unknown): Widths {
  if (typeof widths === 'function') return widths as Widths;
  if (widths === null || typeof widths !== 'object' || Array.isArray(widths))
    throw typeError(`widths must map input names to row widths (an object or a function), got ${describe(widths)}`);
  const copy: Record<string, number> = {};
  for (const [name, w] of Object.entries(widths)) copy[name] = checkWidth(w, name);
  if (Object.keys(copy).length === 0) throw rangeError(ErrorCode.SHAPE, 'widths names no input');
  // A frozen copy: changing the caller's object later cannot change what was checked.
  return Object.freeze(copy);
}

function widthOf(widths: Widths, name: string): number {
  if (typeof widths === 'function') {
    const w = widths(name);
    if (w === undefined) throw new HdglueError(ErrorCode.UNKNOWN_MEMBER, `${JSON.stringify(name)} is not a member`);
    return checkWidth(w, name);
  }
  if (!Object.hasOwn(widths, name)) {
    const known = Object.keys(widths)
      .map((n) => JSON.stringify(n))
      .join(', ');
    throw new HdglueError(ErrorCode.UNKNOWN_MEMBER, `${JSON.stringify(name)} is not a member (members: ${known})`);
  }
  return widths[name] as number;
}

/**
 * Check a request without copying it, in the order a glue checks its inputs: an object, every
 * name known, at least one, each matrix well formed for its width, equal row counts.
 * @internal
 */
export function requestShape(inputs: unknown, widths: Widths): RequestShape {
  if (inputs === null || typeof inputs !== 'object' || Array.isArray(inputs) || ArrayBuffer.isView(inputs))
    throw typeError(`inputs must map member names to embeddings, got ${describe(inputs)}`);
  const given = Object.keys(inputs);
  const width = new Map(given.map((n) => [n, widthOf(widths, n)]));
  if (given.length === 0)
    throw new HdglueError(ErrorCode.NO_INPUT, 'no member has an input: pass embeddings for at least one member');
  const names = given.sort();
  const ws = names.map((n) => width.get(n) as number);
  const record = inputs as Record<string, EmbeddingMatrix>;
  const matrices = names.map((n, i) => {
    const x = record[n] as EmbeddingMatrix;
    const m = toMatrix(x, ws[i] as number);
    return { data: m.data, fresh: m.data !== x, n: m.n };
  });
  const counts = new Set(matrices.map((m) => m.n));
  if (counts.size > 1)
    throw rangeError(ErrorCode.SHAPE, `members' inputs have different row counts: ${[...counts].join(', ')}`);
  const key = JSON.stringify(names.map((n, i) => [n, ws[i]]));
  return { names, widths: ws, rows: matrices[0]?.n as number, matrices, key };
}

/**
 * The request's rows as the batcher's own arrays (of `dtype`), every value checked finite:
 * the caller may reuse or change its arrays as soon as `submit` returns, and a value changed
 * to NaN later cannot reach a shared call.
 * @internal
 */
export function ownRows(shape: RequestShape, dtype: BatchDtype): RowMatrix[] {
  return shape.matrices.map(({ data, fresh }, i) => {
    const wide = dtype === 'float64' || (dtype === 'auto' && data instanceof Float64Array);
    let out: RowMatrix;
    if (fresh && wide === data instanceof Float64Array) out = data;
    else {
      out = wide ? new Float64Array(data.length) : new Float32Array(data.length);
      out.set(data);
    }
    // Checked after the conversion: a finite float64 beyond float32's range becomes Infinity.
    for (let k = 0; k < out.length; k++)
      if (!Number.isFinite(out[k])) throw notFinite(out, k, shape.widths[i] as number);
    return out;
  });
}

/** One request's share of a batch: `count` rows from row `start` of its copied arrays. @internal */
export interface Slice {
  data: readonly RowMatrix[];
  start: number;
  count: number;
  /** Rows of the whole request: a slice of all of them is passed on without a copy. */
  rows: number;
}

/**
 * A batch's arrays, one per member in `names` order: the slices' rows concatenated in order.
 * A batch of one whole request passes that request's arrays on (they are the batcher's copies,
 * so `run` may keep, change or transfer them); any other batch gets new arrays.
 * @internal
 */
export function gatherRows(
  slices: readonly Slice[],
  widths: readonly number[],
  rows: number,
  dtype: BatchDtype,
): RowMatrix[] {
  const only = slices.length === 1 ? (slices[0] as Slice) : undefined;
  if (only && only.start === 0 && only.count === only.rows) return [...only.data];
  return widths.map((w, i) => {
    const wide = dtype === 'float64' || (dtype === 'auto' && slices.some((s) => s.data[i] instanceof Float64Array));
    const out = wide ? new Float64Array(rows * w) : new Float32Array(rows * w);
    let at = 0;
    for (const s of slices) {
      out.set((s.data[i] as RowMatrix).subarray(s.start * w, (s.start + s.count) * w), at);
      at += s.count * w;
    }
    return out;
  });
}
