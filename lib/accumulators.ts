/**
 * Class accumulators: one signed int32 counter per bit for each of `rows` classes. Adding a
 * hypervector with weight w adds +w where its bit is 0 (+1) and -w where it is 1 (-1), so the
 * sign of a row is the bundle of what was added, and subtracting undoes adding exactly
 * (DESIGN.md invariant 4). Counters wrap modulo 2^32 in both backends alike; keep the sum of
 * absolute weights per row below 2^31 to stay clear of it.
 */
import { backend } from './backend/index.js';
import { typeError } from './errors.js';
import { HVBatch, Hypervector } from './hv.js';
import { type SeedOptions, type TieRule, tieData } from './ops.js';
import { checkCount, checkDim, checkI32, checkSameDim, checkWeights, describe } from './validate.js';

/** Options of {@link Accumulators.add} and {@link Accumulators.subtract}. */
export interface AccumulateOptions {
  /** Integer weight per row of the batch (int32); default 1 each. */
  weights?: Int32Array | readonly number[];
}

/** Options of {@link Accumulators.threshold}. */
export interface ThresholdOptions extends SeedOptions {
  /** How a zero counter becomes a bit: `'tiebreak'` (default, seed-derived) or `'ones'` (+1). */
  tie?: TieRule;
}

/** Signed per-bit counters for `rows` classes of `dim`-bit hypervectors. */
export class Accumulators {
  /** Bits per hypervector. */
  readonly dim: number;
  /** Number of counter rows (classes). */
  readonly rows: number;
  /** Counters, row-major: `rows * dim` int32 values. */
  readonly counters: Int32Array;

  /**
   * @param dim - bits per hypervector
   * @param rows - counter rows
   * @param counters - existing counters to wrap (no copy), `rows * dim` entries
   */
  constructor(dim: number, rows: number, counters?: Int32Array) {
    this.dim = checkDim(dim);
    this.rows = checkCount(rows, 'rows', Math.floor(0x7fffffff / dim));
    this.counters = counters === undefined ? new Int32Array(rows * dim) : checkI32(counters, 'counters', rows * dim);
  }

  /** Add every row of `batch` (with optional weights) into counter row `row`. */
  add(row: number, batch: HVBatch, options: AccumulateOptions = {}): this {
    const p = this.prep(row, batch, options, false);
    backend().accAdd(p.target, this.dim, batch.data, batch.count, p.weights);
    return this;
  }

  /** Subtract every row of `batch` (with optional weights) from counter row `row`: undoes {@link add}. */
  subtract(row: number, batch: HVBatch, options: AccumulateOptions = {}): this {
    const p = this.prep(row, batch, options, true);
    backend().accAdd(p.target, this.dim, batch.data, batch.count, p.weights);
    return this;
  }

  /** {@link add} off the event loop (on the native backend). Do not touch the counters until it settles. */
  async addAsync(row: number, batch: HVBatch, options: AccumulateOptions = {}): Promise<this> {
    const p = this.prep(row, batch, options, false);
    await backend().accAddAsync(p.target, this.dim, batch.data, batch.count, p.weights);
    return this;
  }

  /** Binarize every row: counter < 0 gives bit 1, > 0 bit 0, 0 the tie rule. */
  threshold(options: ThresholdOptions = {}): HVBatch {
    const out = new HVBatch(this.dim, this.rows);
    backend().threshold(this.counters, this.rows, this.dim, tieData(this.dim, options.tie, options.seed), out.data);
    return out;
  }

  /** Binarize one row. */
  thresholdRow(row: number, options: ThresholdOptions = {}): Hypervector {
    checkCount(row, 'row', this.rows - 1);
    const out = new Hypervector(this.dim);
    const c = this.counters.subarray(row * this.dim, (row + 1) * this.dim);
    backend().threshold(c, 1, this.dim, tieData(this.dim, options.tie, options.seed), out.data);
    return out;
  }

  /**
   * Dot product of each hypervector (as +1/-1) with each counter row: `batch.count * rows`
   * values, row-major by hypervector, exact integers (as long as they stay below 2^53).
   */
  dot(batch: HVBatch): Float64Array {
    this.checkBatch(batch);
    const out = new Float64Array(batch.count * this.rows);
    backend().dotCounters(batch.data, batch.count, this.counters, this.rows, this.dim, out);
    return out;
  }

  /** {@link dot} off the event loop (on the native backend). */
  async dotAsync(batch: HVBatch): Promise<Float64Array> {
    this.checkBatch(batch);
    const out = new Float64Array(batch.count * this.rows);
    await backend().dotCountersAsync(batch.data, batch.count, this.counters, this.rows, this.dim, out);
    return out;
  }

  private checkBatch(batch: HVBatch): void {
    if (!(batch instanceof HVBatch)) throw typeError(`batch must be an HVBatch, got ${describe(batch)}`);
    checkSameDim(batch.dim, this.dim, 'Accumulators');
  }

  private prep(row: number, batch: HVBatch, options: AccumulateOptions, negate: boolean) {
    checkCount(row, 'row', this.rows - 1);
    this.checkBatch(batch);
    if (options === null || typeof options !== 'object')
      throw typeError(`options must be an object, got ${describe(options)}`);
    let weights: Int32Array | null = options.weights === undefined ? null : checkWeights(options.weights, batch.count);
    if (negate) {
      // Copy before negating: the caller's weights are never modified.
      weights = weights ? weights.map((w) => -w | 0) : new Int32Array(batch.count).fill(-1);
    }
    return { target: this.counters.subarray(row * this.dim, (row + 1) * this.dim), weights };
  }
}
