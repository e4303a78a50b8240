/**
 * Class accumulators: one signed int32 counter per bit for each of `rows` classes. Adding a
 * hypervector with weight w adds +w where its bit is 0 (+1) and -w where it is 1 (-1), so the
 * sign of a row is the bundle of what was added, and subtracting undoes adding exactly
 * (docs/ARCHITECTURE.md, invariant 4). Counters wrap modulo 2^32 in both backends alike; keep
 * the sum of absolute weights per row below 2^31 to stay clear of it.
 */
import { backend, detachedError } from '../backend/index.js';
import { ErrorCode, HdglueError, typeError } from '../errors.js';
import { checkCount, checkDim, checkI32, checkOptions, checkSameDim, checkWeights, describe } from '../validate.js';
import { HVBatch, Hypervector } from './hv.js';
import { checkBatch, type SeedOptions, type TieRule, tieData } from './ops.js';

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

/**
 * Signed per-bit counters for `rows` classes of `dim`-bit hypervectors.
 *
 * Async methods run one after another in call order (on the native backend they run off the
 * event loop, and two at once would race on the counters); while any is pending, the
 * synchronous methods throw `ERR_HDGLUE_BUSY` rather than read or write half-updated counters.
 */
export class Accumulators {
  /** Bits per hypervector. */
  readonly dim: number;
  /** Number of counter rows (classes). */
  readonly rows: number;
  /** Counters, row-major: `rows * dim` int32 values. */
  readonly counters: Int32Array;
  #tail: Promise<void> = Promise.resolve();
  #pending = 0;

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
  add(row: number, batch: HVBatch, options?: AccumulateOptions): this {
    this.#idle();
    const p = this.#prep(row, batch, options, false);
    backend().accAdd(p.target, this.dim, batch.data, batch.count, p.weights);
    return this;
  }

  /** Subtract every row of `batch` (with optional weights) from counter row `row`: undoes {@link add}. */
  subtract(row: number, batch: HVBatch, options?: AccumulateOptions): this {
    this.#idle();
    const p = this.#prep(row, batch, options, true);
    backend().accAdd(p.target, this.dim, batch.data, batch.count, p.weights);
    return this;
  }

  /**
   * {@link add} off the event loop (on the native backend). Arguments are checked now; the
   * work runs after every earlier async call on these counters. Do not modify or transfer
   * `batch` until it settles.
   */
  addAsync(row: number, batch: HVBatch, options?: AccumulateOptions): Promise<this> {
    const p = this.#prep(row, batch, options, false);
    const unchanged = sizesKept([p.target, batch.data, p.weights]);
    return this.#enqueue(async () => {
      unchanged();
      await backend().accAddAsync(p.target, this.dim, batch.data, batch.count, p.weights);
      return this;
    });
  }

  /** Binarize every row: counter < 0 gives bit 1, > 0 bit 0, 0 the tie rule. */
  threshold(options?: ThresholdOptions): HVBatch {
    this.#idle();
    const o = checkOptions(options);
    const out = new HVBatch(this.dim, this.rows);
    backend().threshold(this.counters, this.rows, this.dim, tieData(this.dim, o.tie, o.seed), out.data);
    return out;
  }

  /** Binarize one row. */
  thresholdRow(row: number, options?: ThresholdOptions): Hypervector {
    this.#idle();
    const o = checkOptions(options);
    checkCount(row, 'row', this.rows - 1);
    const out = new Hypervector(this.dim);
    const c = this.counters.subarray(row * this.dim, (row + 1) * this.dim);
    backend().threshold(c, 1, this.dim, tieData(this.dim, o.tie, o.seed), out.data);
    return out;
  }

  /**
   * Dot product of each hypervector (as +1/-1) with each counter row: `batch.count * rows`
   * values, row-major by hypervector, exact integers (as long as they stay below 2^53).
   */
  dot(batch: HVBatch): Float64Array {
    this.#idle();
    this.#checkBatch(batch);
    const out = new Float64Array(batch.count * this.rows);
    backend().dotCounters(batch.data, batch.count, this.counters, this.rows, this.dim, out);
    return out;
  }

  /** {@link dot} off the event loop (on the native backend), after earlier async calls. */
  dotAsync(batch: HVBatch): Promise<Float64Array> {
    this.#checkBatch(batch);
    const out = new Float64Array(batch.count * this.rows);
    const unchanged = sizesKept([batch.data, this.counters]);
    return this.#enqueue(async () => {
      unchanged();
      await backend().dotCountersAsync(batch.data, batch.count, this.counters, this.rows, this.dim, out);
      return out;
    });
  }

  #idle(): void {
    if (this.#pending > 0) {
      throw new HdglueError(
        ErrorCode.BUSY,
        `Accumulators: ${this.#pending} async call(s) on these counters have not settled; await them first`,
      );
    }
  }

  #enqueue<T>(work: () => Promise<T>): Promise<T> {
    this.#pending++;
    // The count drops before the caller's await resumes, so `await acc.addAsync(...)` followed
    // by a synchronous call is never refused.
    const result = this.#tail.then(async () => {
      try {
        return await work();
      } finally {
        this.#pending--;
      }
    });
    this.#tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  #checkBatch(batch: HVBatch): void {
    if (!(batch instanceof HVBatch)) throw typeError(`batch must be an HVBatch, got ${describe(batch)}`);
    checkBatch(batch, 'batch');
    checkSameDim(batch.dim, this.dim, 'Accumulators');
  }

  #prep(row: number, batch: HVBatch, opts: AccumulateOptions | undefined, negate: boolean) {
    const options = checkOptions(opts);
    checkCount(row, 'row', this.rows - 1);
    this.#checkBatch(batch);
    let weights: Int32Array | null = options.weights === undefined ? null : checkWeights(options.weights, batch.count);
    if (negate) {
      // Copy before negating: the caller's weights are never modified.
      weights = weights ? weights.map((w) => -w | 0) : new Int32Array(batch.count).fill(-1);
    }
    return { target: this.counters.subarray(row * this.dim, (row + 1) * this.dim), weights };
  }
}

/**
 * Queued work runs after the earlier calls settle, long after its arguments were checked: the
 * returned function throws ERR_HDGLUE_DETACHED if any of these arrays was detached, transferred or
 * resized meanwhile (the TypeScript backend would otherwise read a detached array as zeros and
 * corrupt the counters silently; the addon reported a shape error instead).
 */
function sizesKept(views: readonly (ArrayBufferView | null)[]): () => void {
  const sizes = views.map((v) => v?.byteLength ?? 0);
  return () => {
    if (views.some((v, i) => (v?.byteLength ?? 0) !== sizes[i])) throw detachedError();
  };
}
