/**
 * The hypervector operations: bind, permute, bundle, Hamming distance and top-k search,
 * random vectors. Each function validates its arguments, allocates its output, and calls the
 * backend in use (native or TypeScript), which give identical bits.
 */
import { backend } from '../backend/index.js';
import { ErrorCode, rangeError, typeError } from '../errors.js';
import {
  checkCount,
  checkDim,
  checkOptions,
  checkPacked,
  checkSafeInteger,
  checkSameDim,
  checkSeed,
  checkWeights,
  describe,
  wordsOf,
} from '../validate.js';
import { HVBatch, Hypervector } from './hv.js';

/** Options naming the seed of the random vectors a call derives. */
export interface SeedOptions {
  /** Seed of the counter-based generator: a non-negative safe integer or a bigint below 2^64. Default 0. */
  seed?: number | bigint;
}

/** How a bundle resolves a bit where as many rows say +1 as say -1 (only possible for an even count). */
export type TieRule = 'tiebreak' | 'ones';

/** Options of {@link bundle}. */
export interface BundleOptions extends SeedOptions {
  /**
   * `'tiebreak'` (default): ties take the bit of a fixed tie-breaker vector derived from `seed`,
   * so the bundle stays unbiased. `'ones'`: ties give +1 (bit 0), vsax's rule.
   */
  tie?: TieRule;
  /** Integer weight per row (int32): the bundle is then the sign of the weighted bipolar sum. */
  weights?: Int32Array | readonly number[];
}

/** Result of {@link topK}: for each of `queries` queries, `k` rows by ascending distance. */
export interface TopK {
  /** Number of queries. */
  queries: number;
  /** Rows per query. */
  k: number;
  /** Row indices, `queries * k`, query-major; equal distances are ordered by index. */
  indices: Uint32Array;
  /** Hamming distances matching `indices`. */
  distances: Uint32Array;
}

const encoder = new TextEncoder();

/**
 * A random hypervector as a pure function of (seed, name): the same arguments give the same
 * bits on every platform, backend and run, whatever else was generated before.
 * @param dim - bits
 * @param name - any string; its UTF-8 bytes are hashed
 */
export function randomHV(dim: number, name: string, options?: SeedOptions): Hypervector {
  checkDim(dim);
  if (typeof name !== 'string') throw typeError(`name must be a string, got ${describe(name)}`);
  const seed = checkSeed(checkOptions(options).seed ?? 0);
  const hv = new Hypervector(dim);
  backend().randomHV(seed, encoder.encode(name), dim, hv.data);
  return hv;
}

/**
 * Random hypervectors for several names, one row each, in the order given.
 */
export function randomBatch(dim: number, names: readonly string[], options?: SeedOptions): HVBatch {
  checkDim(dim);
  if (!Array.isArray(names)) throw typeError(`names must be an array of strings, got ${describe(names)}`);
  const seed = checkSeed(checkOptions(options).seed ?? 0);
  const batch = new HVBatch(dim, names.length);
  const stride = 2 * wordsOf(dim);
  const be = backend();
  for (let i = 0; i < names.length; i++) {
    const name: unknown = names[i];
    if (typeof name !== 'string') throw typeError(`names[${i}] must be a string, got ${describe(name)}`);
    be.randomHV(seed, encoder.encode(name), dim, batch.data.subarray(i * stride, (i + 1) * stride));
  }
  return batch;
}

const tieCache = new Map<string, Hypervector>();

// The cached vectors never leave this module (callers get copies), so no caller can change the
// tie-breaker every later bundle relies on.
function cachedTie(dim: number, seed: bigint): Hypervector {
  const key = `${seed}:${dim}`;
  let hv = tieCache.get(key);
  if (!hv) {
    hv = randomHV(dim, 'hdglue/tiebreak', { seed });
    if (tieCache.size > 64) tieCache.clear();
    tieCache.set(key, hv);
  }
  return hv;
}

/**
 * The tie-breaker vector of a seed and dimension (the random vector named `hdglue/tiebreak`),
 * used by bundles and thresholds with the `'tiebreak'` rule. Returns a copy.
 */
export function tieBreaker(dim: number, options?: SeedOptions): Hypervector {
  const seed = checkSeed(checkOptions(options).seed ?? 0);
  return cachedTie(checkDim(dim), seed).clone();
}

/** The tie vector's storage for a rule, or null for the ones rule. @internal */
export function tieData(dim: number, tie: unknown, seed: number | bigint | undefined): Uint32Array | null {
  if (tie === undefined || tie === 'tiebreak') return cachedTie(dim, checkSeed(seed ?? 0)).data;
  if (tie === 'ones') return null;
  throw rangeError(ErrorCode.OUT_OF_RANGE, `tie must be 'tiebreak' or 'ones', got ${String(tie)}`);
}

/**
 * Bind (XOR): of two vectors, of a batch with one vector (each row), or of two batches row by row.
 */
export function bind(a: Hypervector, b: Hypervector): Hypervector;
export function bind(a: HVBatch, b: Hypervector | HVBatch): HVBatch;
export function bind(a: Hypervector | HVBatch, b: Hypervector | HVBatch): Hypervector | HVBatch {
  checkEither(a, 'a');
  checkEither(b, 'b');
  checkSameDim(a.dim, b.dim, 'bind');
  if (a instanceof Hypervector) {
    if (!(b instanceof Hypervector)) throw typeError('bind(Hypervector, HVBatch): put the batch first');
    const out = new Hypervector(a.dim);
    backend().bind(a.data, b.data, 0, 1, a.words, out.data);
    return out;
  }
  const out = new HVBatch(a.dim, a.count);
  if (b instanceof Hypervector) {
    backend().bind(a.data, b.data, 0, a.count, a.words, out.data);
  } else {
    if (a.count !== b.count) throw rangeError(ErrorCode.SHAPE, `bind: batches have ${a.count} and ${b.count} rows`);
    backend().bind(a.data, b.data, 1, a.count, a.words, out.data);
  }
  return out;
}

/**
 * The rows of several batches side by side: row r of the result holds row r of `batches[0]`
 * in its first `batches[0].dim` bits, then row r of `batches[1]`, and so on (dimension: the sum).
 * Every batch must have the same row count; the result is exact bit for bit.
 */
export function concat(batches: readonly HVBatch[]): HVBatch {
  if (!Array.isArray(batches) || batches.length === 0)
    throw typeError(`batches must be a non-empty array, got ${describe(batches)}`);
  batches.forEach((b, i) => {
    checkBatch(b, `batches[${i}]`);
  });
  const n = (batches[0] as HVBatch).count;
  if (batches.some((b) => b.count !== n)) {
    throw rangeError(ErrorCode.SHAPE, `batches have different row counts: ${batches.map((b) => b.count).join(', ')}`);
  }
  const dim = checkDim(batches.reduce((a, b) => a + b.dim, 0));
  const out = new HVBatch(dim, n);
  const stride = 2 * wordsOf(dim);
  for (let r = 0; r < n; r++) {
    const row = out.data.subarray(r * stride, (r + 1) * stride);
    let off = 0;
    for (const b of batches) {
      const s = 2 * wordsOf(b.dim);
      const src = b.data.subarray(r * s, (r + 1) * s);
      const used = Math.ceil(b.dim / 32); // 32-bit words holding bits; the rest is padding (zero)
      const shift = off & 31;
      let at = off >>> 5;
      for (let t = 0; t < used; t++, at++) {
        const w = src[t] as number;
        row[at] = ((row[at] as number) | (w << shift)) >>> 0;
        // Bits pushed past this word; never past the row, since they exist only below dim.
        if (shift !== 0 && at + 1 < stride) row[at + 1] = ((row[at + 1] as number) | (w >>> (32 - shift))) >>> 0;
      }
      off += b.dim;
    }
  }
  return out;
}

/**
 * Cyclic rotation by `k` bits within the dimension (bit i moves to (i + k) mod dim); negative
 * `k` rotates the other way. Applies to each row of a batch.
 */
export function permute(x: Hypervector, k: number): Hypervector;
export function permute(x: HVBatch, k: number): HVBatch;
export function permute(x: Hypervector | HVBatch, k: number): Hypervector | HVBatch {
  checkEither(x, 'x');
  checkSafeInteger(k, 'k');
  if (x instanceof Hypervector) {
    const out = new Hypervector(x.dim);
    backend().permute(x.data, 1, x.dim, k, out.data);
    return out;
  }
  const out = new HVBatch(x.dim, x.count);
  backend().permute(x.data, x.count, x.dim, k, out.data);
  return out;
}

/** Hamming distance between two vectors. */
export function hamming(a: Hypervector, b: Hypervector): number {
  checkHV(a, 'a');
  checkHV(b, 'b');
  checkSameDim(a.dim, b.dim, 'hamming');
  const out = new Uint32Array(1);
  backend().hamming1xN(a.data, b.data, 1, a.words, out);
  return out[0] as number;
}

/** Similarity `1 - hamming / dim` (1 for equal vectors, about 0.5 for unrelated ones). */
export function similarity(a: Hypervector, b: Hypervector): number {
  return 1 - hamming(a, b) / a.dim;
}

/** Hamming distance from `query` to every row of `batch`, in one call. */
export function hammingMany(query: Hypervector, batch: HVBatch): Uint32Array {
  const out = prepMany(query, batch);
  backend().hamming1xN(query.data, batch.data, batch.count, batch.words, out);
  return out;
}

/** {@link hammingMany} off the event loop (on the native backend). */
export async function hammingManyAsync(query: Hypervector, batch: HVBatch): Promise<Uint32Array> {
  const out = prepMany(query, batch);
  await backend().hamming1xNAsync(query.data, batch.data, batch.count, batch.words, out);
  return out;
}

/** Distances between every row of `a` and every row of `b`: `a.count * b.count`, row-major by `a`. */
export function hammingMatrix(a: HVBatch, b: HVBatch): Uint32Array {
  const out = prepMatrix(a, b);
  backend().hammingMxN(a.data, a.count, b.data, b.count, a.words, out);
  return out;
}

/** {@link hammingMatrix} off the event loop (on the native backend). */
export async function hammingMatrixAsync(a: HVBatch, b: HVBatch): Promise<Uint32Array> {
  const out = prepMatrix(a, b);
  await backend().hammingMxNAsync(a.data, a.count, b.data, b.count, a.words, out);
  return out;
}

/**
 * The `k` rows of `batch` nearest to each query, selected in the same pass that computes the
 * distances. Ties are ordered by row index, so results are deterministic.
 */
export function topK(queries: Hypervector | HVBatch, batch: HVBatch, k: number): TopK {
  const r = prepTopK(queries, batch, k);
  backend().topK(r.q.data, r.queries, batch.data, batch.count, batch.words, r.k, r.indices, r.distances);
  return r.result;
}

/** {@link topK} off the event loop (on the native backend). */
export async function topKAsync(queries: Hypervector | HVBatch, batch: HVBatch, k: number): Promise<TopK> {
  const r = prepTopK(queries, batch, k);
  await backend().topKAsync(r.q.data, r.queries, batch.data, batch.count, batch.words, r.k, r.indices, r.distances);
  return r.result;
}

/**
 * Majority (bundle) of the rows, bit by bit, computed with bit-sliced counters; with `weights`,
 * the sign of the weighted bipolar sum. A bundle of no rows is all ties.
 */
export function bundle(rows: HVBatch | readonly Hypervector[], options?: BundleOptions): Hypervector {
  const { batch, tie, weights } = prepBundle(rows, options);
  const out = new Hypervector(batch.dim);
  if (weights) backend().bundleWeighted(batch.data, batch.count, batch.dim, weights, tie, out.data);
  else backend().bundle(batch.data, batch.count, batch.words, tie, out.data);
  return out;
}

/** {@link bundle} off the event loop (on the native backend; weighted bundles run synchronously). */
export async function bundleAsync(
  rows: HVBatch | readonly Hypervector[],
  options?: BundleOptions,
): Promise<Hypervector> {
  const { batch, tie, weights } = prepBundle(rows, options);
  const out = new Hypervector(batch.dim);
  if (weights) backend().bundleWeighted(batch.data, batch.count, batch.dim, weights, tie, out.data);
  else await backend().bundleAsync(batch.data, batch.count, batch.words, tie, out.data);
  return out;
}

/** A Hypervector whose storage is still intact. @internal */
export function checkHV(x: unknown, what: string): asserts x is Hypervector {
  if (!(x instanceof Hypervector)) throw typeError(`${what} must be a Hypervector, got ${describe(x)}`);
  checkPacked(x.data, x.dim, 1, what);
}

/** An HVBatch whose storage is still intact. @internal */
export function checkBatch(x: unknown, what: string): asserts x is HVBatch {
  if (!(x instanceof HVBatch)) throw typeError(`${what} must be an HVBatch, got ${describe(x)}`);
  checkPacked(x.data, x.dim, x.count, what);
}

function checkEither(x: unknown, what: string): asserts x is Hypervector | HVBatch {
  if (x instanceof Hypervector) checkHV(x, what);
  else if (x instanceof HVBatch) checkBatch(x, what);
  else throw typeError(`${what} must be a Hypervector or an HVBatch, got ${describe(x)}`);
}

function prepMany(query: Hypervector, batch: HVBatch): Uint32Array {
  checkHV(query, 'query');
  checkBatch(batch, 'batch');
  checkSameDim(query.dim, batch.dim, 'hammingMany');
  return new Uint32Array(batch.count);
}

function prepMatrix(a: HVBatch, b: HVBatch): Uint32Array {
  checkBatch(a, 'a');
  checkBatch(b, 'b');
  checkSameDim(a.dim, b.dim, 'hammingMatrix');
  return new Uint32Array(a.count * b.count);
}

function prepTopK(queries: Hypervector | HVBatch, batch: HVBatch, k: number) {
  checkEither(queries, 'queries');
  checkBatch(batch, 'batch');
  const q = queries instanceof Hypervector ? new HVBatch(queries.dim, 1, queries.data) : queries;
  checkBatch(q, 'queries');
  checkSameDim(q.dim, batch.dim, 'topK');
  checkCount(k, 'k', batch.count);
  const indices = new Uint32Array(q.count * k);
  const distances = new Uint32Array(q.count * k);
  return { q, queries: q.count, k, indices, distances, result: { queries: q.count, k, indices, distances } };
}

function prepBundle(rows: HVBatch | readonly Hypervector[], opts: BundleOptions | undefined) {
  const options = checkOptions(opts);
  let batch: HVBatch;
  if (rows instanceof HVBatch) {
    checkBatch(rows, 'rows');
    batch = rows;
  } else if (Array.isArray(rows)) {
    if (rows.length === 0)
      throw rangeError(ErrorCode.SHAPE, 'bundle([]) has no dimension: pass an empty HVBatch instead');
    batch = HVBatch.from(rows);
  } else throw typeError(`bundle: rows must be an HVBatch or an array of Hypervector, got ${describe(rows)}`);
  const tie = tieData(batch.dim, options.tie, options.seed);
  const weights = options.weights === undefined ? null : checkWeights(options.weights, batch.count);
  if (weights) {
    // A bundle is one-shot, so unlike accumulators (which wrap by design) an overflowing sum is
    // cheap to rule out here, and would otherwise flip bits silently.
    let total = 0;
    for (const w of weights) total += Math.abs(w);
    if (total > 0x7fffffff) {
      throw rangeError(ErrorCode.OUT_OF_RANGE, `bundle weights: the sum of |weights| is ${total}, above 2^31 - 1`);
    }
  }
  return { batch, tie, weights };
}
