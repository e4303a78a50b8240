/**
 * Packed hypervectors. A {@link Hypervector} is one row of `dim` bits and an {@link HVBatch}
 * is `count` rows, both stored as `Uint32Array` in the layout of docs/ARCHITECTURE.md, invariant 1
 * (2 * ceil(dim / 64) entries per row, little-endian halves of 64-bit words, zero padding), so
 * the native core reads them in place without copying.
 */
import { ErrorCode, rangeError, typeError } from '../errors.js';
import {
  checkCount,
  checkDim,
  checkPacked,
  checkPadding,
  checkSameDim,
  checkU32,
  describe,
  lengthOf,
  wordsOf,
} from '../validate.js';

/** One packed hypervector of `dim` bits; bit 0 means +1, bit 1 means -1. */
export class Hypervector {
  /** Number of bits. */
  readonly dim: number;
  /** Packed storage: 2 * ceil(dim / 64) entries, bits at and above `dim` zero. */
  readonly data: Uint32Array;

  /**
   * Wrap packed bits (no copy) or make an all-zero (all +1) vector.
   * @param dim - bits, an integer in [1, 2^24]
   * @param data - packed storage of exactly 2 * ceil(dim / 64) entries with zero padding
   */
  constructor(dim: number, data?: Uint32Array) {
    this.dim = checkDim(dim);
    const len = 2 * wordsOf(dim);
    if (data === undefined) {
      this.data = new Uint32Array(len);
    } else {
      this.data = checkU32(data, 'data', len);
      checkPadding(data, dim, 1, 'data');
    }
  }

  /** 64-bit words per vector. */
  get words(): number {
    return wordsOf(this.dim);
  }

  /**
   * Pack bipolar values: +1 becomes bit 0, -1 becomes bit 1 (any other value is an error).
   * @param values - `dim` entries of +1 or -1
   */
  static fromBipolar(values: ArrayLike<number>): Hypervector {
    if (values === null || typeof values !== 'object' || typeof values.length !== 'number') {
      throw typeError(`values must be an array-like of +1/-1, got ${describe(values)}`);
    }
    const hv = new Hypervector(checkDim(lengthOf(values), 'values.length'));
    packBipolar(values, 0, hv.dim, hv.data, 0);
    return hv;
  }

  /** Unpack to +1 / -1 values. */
  toBipolar(): Int8Array {
    const out = new Int8Array(this.dim);
    unpackBipolar(this.data, 0, this.dim, out, 0);
    return out;
  }

  /** Bit `i` (0 for +1, 1 for -1). */
  bit(i: number): 0 | 1 {
    checkCount(i, 'i', this.dim - 1);
    return ((this.data[i >>> 5] >>> (i & 31)) & 1) as 0 | 1;
  }

  /** True when `other` has the same dimension and the same bits. */
  equals(other: Hypervector): boolean {
    return other instanceof Hypervector && other.dim === this.dim && sameWords(this.data, other.data);
  }

  /** A copy with its own storage. */
  clone(): Hypervector {
    return new Hypervector(this.dim, this.data.slice());
  }
}

/** `count` packed hypervectors of `dim` bits each, contiguous. */
export class HVBatch {
  /** Bits per row. */
  readonly dim: number;
  /** Number of rows. */
  readonly count: number;
  /** Packed storage: `count` rows of 2 * ceil(dim / 64) entries. */
  readonly data: Uint32Array;

  /**
   * Wrap packed rows (no copy) or make `count` all-zero rows.
   * @param dim - bits per row, an integer in [1, 2^24]
   * @param count - rows
   * @param data - packed storage of exactly count * 2 * ceil(dim / 64) entries with zero padding
   */
  constructor(dim: number, count: number, data?: Uint32Array) {
    this.dim = checkDim(dim);
    this.count = checkCount(count, 'count');
    const stride = 2 * wordsOf(dim);
    if (count > Math.floor(0xffffffff / stride)) {
      throw rangeError(ErrorCode.OUT_OF_RANGE, `count ${count} of ${dim}-bit rows exceeds the largest typed array`);
    }
    if (data === undefined) {
      this.data = new Uint32Array(count * stride);
    } else {
      this.data = checkU32(data, 'data', count * stride);
      checkPadding(data, dim, count, 'data');
    }
  }

  /** 64-bit words per row. */
  get words(): number {
    return wordsOf(this.dim);
  }

  /**
   * Copy hypervectors of one dimension into a new batch.
   * @param hvs - the rows
   * @param dim - required when `hvs` is empty; otherwise must match
   */
  static from(hvs: readonly Hypervector[], dim?: number): HVBatch {
    if (!Array.isArray(hvs)) throw typeError(`hvs must be an array of Hypervector, got ${describe(hvs)}`);
    const first = hvs[0];
    if (first === undefined && dim === undefined) {
      throw rangeError(ErrorCode.SHAPE, 'HVBatch.from([]) needs the dimension: HVBatch.from([], dim)');
    }
    const d = dim ?? (first as Hypervector).dim;
    const batch = new HVBatch(d, hvs.length);
    const stride = 2 * wordsOf(d);
    // A plain loop, not forEach: holes in a sparse array must be rejected, not skipped.
    for (let i = 0; i < hvs.length; i++) {
      const hv: unknown = hvs[i];
      if (!(hv instanceof Hypervector)) throw typeError(`hvs[${i}] must be a Hypervector, got ${describe(hv)}`);
      checkSameDim(hv.dim, d, `HVBatch.from: hvs[${i}]`);
      checkPacked(hv.data, hv.dim, 1, `HVBatch.from: hvs[${i}]`);
      batch.data.set(hv.data, i * stride);
    }
    return batch;
  }

  /**
   * Pack `count` rows of `dim` bipolar values (row-major): +1 -> bit 0, -1 -> bit 1.
   */
  static fromBipolar(values: ArrayLike<number>, count: number, dim: number): HVBatch {
    const batch = new HVBatch(dim, count);
    if (values === null || typeof values !== 'object' || typeof values.length !== 'number') {
      throw typeError(`values must be an array-like of +1/-1, got ${describe(values)}`);
    }
    if (lengthOf(values) !== count * dim) {
      throw rangeError(
        ErrorCode.SHAPE,
        `values must have count * dim = ${count * dim} entries, got ${lengthOf(values)}`,
      );
    }
    const stride = 2 * wordsOf(dim);
    for (let r = 0; r < count; r++) packBipolar(values, r * dim, dim, batch.data, r * stride);
    return batch;
  }

  /** Unpack to +1 / -1 values, row-major (`count * dim` entries). */
  toBipolar(): Int8Array {
    const out = new Int8Array(this.count * this.dim);
    const stride = 2 * this.words;
    for (let r = 0; r < this.count; r++) unpackBipolar(this.data, r * stride, this.dim, out, r * this.dim);
    return out;
  }

  /** Row `i` as a Hypervector sharing this batch's storage. */
  row(i: number): Hypervector {
    checkCount(i, 'row index', this.count - 1);
    const stride = 2 * this.words;
    return new Hypervector(this.dim, this.data.subarray(i * stride, (i + 1) * stride));
  }

  /** Rows [start, end) as a batch sharing this batch's storage. */
  slice(start: number, end: number = this.count): HVBatch {
    checkCount(end, 'end', this.count);
    checkCount(start, 'start', end);
    const stride = 2 * this.words;
    return new HVBatch(this.dim, end - start, this.data.subarray(start * stride, end * stride));
  }

  /** The rows in order, each sharing this batch's storage. */
  *[Symbol.iterator](): IterableIterator<Hypervector> {
    for (let i = 0; i < this.count; i++) yield this.row(i);
  }

  /** True when `other` has the same dimension, count and bits. */
  equals(other: HVBatch): boolean {
    return (
      other instanceof HVBatch &&
      other.dim === this.dim &&
      other.count === this.count &&
      sameWords(this.data, other.data)
    );
  }
}

function sameWords(a: Uint32Array, b: Uint32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function packBipolar(values: ArrayLike<number>, from: number, dim: number, out: Uint32Array, at: number): void {
  for (let i = 0; i < dim; i++) {
    const v = values[from + i];
    if (v === -1) out[at + (i >>> 5)] |= 1 << (i & 31);
    else if (v !== 1) {
      throw rangeError(ErrorCode.OUT_OF_RANGE, `bipolar values must be +1 or -1; entry ${from + i} is ${String(v)}`);
    }
  }
}

function unpackBipolar(data: Uint32Array, at: number, dim: number, out: Int8Array, to: number): void {
  for (let i = 0; i < dim; i++) out[to + i] = (data[at + (i >>> 5)] >>> (i & 31)) & 1 ? -1 : 1;
}
