/**
 * Argument checks shared by every public entry point, so both backends see only valid input
 * and raise identical errors. Each check runs before any kernel reads memory.
 * @internal
 */
import { ErrorCode, HdglueError, rangeError, typeError } from './errors.js';

/** Largest supported dimension, as in native/include/hdglue.h. */
export const MAX_DIM = 1 << 24;

/**
 * The documented maximums. Each is checked before anything is allocated, so a request beyond one
 * fails at once with a coded RangeError instead of exhausting memory: `dim` with
 * `ERR_HDGLUE_INVALID_DIM`, `features` and `bins` with `ERR_HDGLUE_OUT_OF_RANGE` (as always), the
 * others with `ERR_HDGLUE_LIMIT`.
 */
export const LIMITS = Object.freeze({
  /** Bits per hypervector. */
  dim: MAX_DIM,
  /** Values per embedding (either encoder); the native binning stores bins in 16 bits. */
  features: 65536,
  /** Bins (level vectors) per feature. */
  bins: 65536,
  /** Classes of one HIL. */
  classes: 65536,
  /** Counters of one HIL, classes * dim: 2^28 int32, 1 GiB. */
  counters: 2 ** 28,
  /** Members of one glue. */
  members: 1024,
  /** Rows encoded or predicted in one call; split larger batches. */
  rows: 2 ** 24,
  /** Scores made by one call, rows * classes (doubles): 2^28, 2 GiB; split larger batches. */
  scores: 2 ** 28,
});

/** A count that must not pass one of {@link LIMITS}. */
export function checkLimit(value: number, max: number, what: string, advice = ''): void {
  if (value > max) {
    throw rangeError(
      ErrorCode.LIMIT,
      `${what} would be ${value}, above the limit of ${max}${advice ? `: ${advice}` : ''}`,
    );
  }
}

/** 64-bit words per row of a `dim`-bit hypervector. */
export function wordsOf(dim: number): number {
  return Math.ceil(dim / 64);
}

/** A dimension: an integer in [1, 2^24]. */
export function checkDim(dim: unknown, what = 'dim'): number {
  if (typeof dim !== 'number') throw typeError(`${what} must be a number, got ${describe(dim)}`);
  if (!Number.isInteger(dim) || dim < 1 || dim > MAX_DIM) {
    throw rangeError(ErrorCode.INVALID_DIM, `${what} must be an integer in [1, ${MAX_DIM}], got ${dim}`);
  }
  return dim;
}

/** A count or index: an integer in [0, max]. */
export function checkCount(n: unknown, what: string, max = 0xffffffff): number {
  if (typeof n !== 'number') throw typeError(`${what} must be a number, got ${describe(n)}`);
  if (max < 0) throw rangeError(ErrorCode.OUT_OF_RANGE, `${what} ${n} is out of range: there are none`);
  if (!Number.isInteger(n) || n < 0 || n > max) {
    throw rangeError(ErrorCode.OUT_OF_RANGE, `${what} must be an integer in [0, ${max}], got ${n}`);
  }
  return n;
}

/** A safe integer of either sign. */
export function checkSafeInteger(n: unknown, what: string): number {
  if (typeof n !== 'number') throw typeError(`${what} must be a number, got ${describe(n)}`);
  if (!Number.isSafeInteger(n)) throw rangeError(ErrorCode.OUT_OF_RANGE, `${what} must be a safe integer, got ${n}`);
  return n;
}

/**
 * A seed as files and descriptions store it: a decimal string of at most 20 digits (2^64 - 1 has
 * 20). The length is checked before BigInt parses it, whose cost grows faster than linearly: a
 * model file with a seed of millions of digits took seconds per million to be refused.
 */
export const SEED_STRING = /^[0-9]{1,20}$/;

/** A seed: a non-negative safe integer or a bigint in [0, 2^64). */
export function checkSeed(seed: unknown): bigint {
  if (typeof seed === 'bigint') {
    if (seed < 0n || seed >= 1n << 64n)
      throw rangeError(ErrorCode.OUT_OF_RANGE, `seed must be in [0, 2^64), got ${seed}`);
    return seed;
  }
  if (typeof seed === 'number') {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw rangeError(ErrorCode.OUT_OF_RANGE, `seed must be a non-negative safe integer or a bigint, got ${seed}`);
    }
    return BigInt(seed);
  }
  throw typeError(`seed must be a number or a bigint, got ${describe(seed)}`);
}

/**
 * Entries of a typed array (or `length` of any other array-like), taken from its byte length.
 * `length` alone cannot be trusted: V8 11 (Node 20) optimized code reports a detached typed
 * array's old length once views of resizable ArrayBuffers have passed through the same code, and
 * then reads the transferred memory as if it were still there (the property tests found it: the
 * TypeScript backend computed on detached arrays the addon refused). `byteLength` stays right.
 */
export function lengthOf(a: ArrayLike<unknown>): number {
  if (ArrayBuffer.isView(a)) {
    return a.byteLength / ((a as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1);
  }
  return a.length;
}

/** A Uint32Array of exactly `length` entries. */
export function checkU32(a: unknown, what: string, length?: number): Uint32Array {
  if (!(a instanceof Uint32Array)) throw typeError(`${what} must be a Uint32Array, got ${describe(a)}`);
  if (length !== undefined && lengthOf(a) !== length) {
    throw rangeError(ErrorCode.SHAPE, `${what} must have ${length} entries, got ${lengthOf(a)}`);
  }
  return a;
}

/** An Int32Array of exactly `length` entries. */
export function checkI32(a: unknown, what: string, length?: number): Int32Array {
  if (!(a instanceof Int32Array)) throw typeError(`${what} must be an Int32Array, got ${describe(a)}`);
  if (length !== undefined && lengthOf(a) !== length) {
    throw rangeError(ErrorCode.SHAPE, `${what} must have ${length} entries, got ${lengthOf(a)}`);
  }
  return a;
}

/** Integer weights, one per row: an Int32Array or an array of int32 integers. */
export function checkWeights(w: unknown, rows: number): Int32Array {
  if (w instanceof Int32Array) return checkI32(w, 'weights', rows);
  if (!Array.isArray(w)) throw typeError(`weights must be an Int32Array or an array of integers, got ${describe(w)}`);
  if (w.length !== rows) throw rangeError(ErrorCode.SHAPE, `weights must have ${rows} entries, got ${w.length}`);
  const out = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const v: unknown = w[i];
    if (typeof v !== 'number') throw typeError(`weights[${i}] must be a number, got ${describe(v)}`);
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) {
      throw rangeError(ErrorCode.OUT_OF_RANGE, `weights[${i}] must be an int32 integer, got ${v}`);
    }
    out[i] = v;
  }
  return out;
}

/** An options argument: undefined (use defaults) or an object. */
export function checkOptions<T extends object>(options: T | undefined): Partial<T> {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object') {
    throw typeError(`options must be an object, got ${describe(options)}`);
  }
  return options;
}

/**
 * Options renamed before the first release (there are no aliases): an old name is refused with
 * its new one rather than silently ignored, which from JavaScript would change what a call does.
 */
export function refuseRenamed(options: object, renamed: Readonly<Record<string, string>>): void {
  for (const [old, now] of Object.entries(renamed))
    if (Object.hasOwn(options, old)) throw typeError(`option '${old}' is now called '${now}'`);
}

/**
 * Storage of `rows` packed rows, re-checked on every use: its length (the buffer may have been
 * detached, transferred or resized since construction) and its zero padding (the array is
 * writable, and a stray bit above `dim` would corrupt distances and counter indexing).
 */
export function checkPacked(data: Uint32Array, dim: number, rows: number, what: string): void {
  const want = rows * 2 * wordsOf(dim);
  if (lengthOf(data) !== want) {
    throw rangeError(
      ErrorCode.SHAPE,
      `${what}: storage has ${lengthOf(data)} entries where ${want} are needed (was its buffer detached or resized?)`,
    );
  }
  checkPadding(data, dim, rows, what);
}

/** Packed rows must have zero padding above `dim` (docs/ARCHITECTURE.md, invariant 1). */
export function checkPadding(data: Uint32Array, dim: number, rows: number, what: string): void {
  const stride = 2 * wordsOf(dim);
  const full = dim >>> 5;
  const rem = dim & 31;
  for (let r = 0; r < rows; r++) {
    const base = r * stride;
    if (rem !== 0 && data[base + full] >>> rem !== 0) throw paddingError(what, r, dim);
    for (let j = full + (rem !== 0 ? 1 : 0); j < stride; j++) {
      if (data[base + j] !== 0) throw paddingError(what, r, dim);
    }
  }
}

function paddingError(what: string, row: number, dim: number): RangeError {
  return rangeError(ErrorCode.PADDING, `${what}: row ${row} has bits set at or above dim ${dim}`);
}

/** Two operands must share a dimension. */
export function checkSameDim(a: number, b: number, what: string): void {
  if (a !== b) throw new HdglueError(ErrorCode.DIM_MISMATCH, `${what}: dimensions differ (${a} vs ${b})`);
}

/** A short description of a value's type for error messages. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`;
  if (typeof v === 'object') return `an object (${(v as object).constructor?.name ?? 'no prototype'})`;
  return `a ${typeof v}`;
}
