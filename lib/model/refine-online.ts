/**
 * The engines of the online schedule of {@link HIL.refine} (lib/model/refine.ts): margin error
 * correction of an HIL's class counters, the perceptron with a margin.
 *
 * Each epoch visits the training rows one at a time in a seeded shuffled order and updates the
 * counters at once: when a row is misclassified, or classified right with a cosine lead under
 * the margin over its best rival, the row is added to its true class and (rule `'adapt'`)
 * subtracted from the rival. The next row is scored with the updated counters. The order of
 * epoch e is a pure function of (seed, e), and every score is the same sequence of IEEE double
 * operations on exact integers in both backends, so the native and TypeScript backends end with
 * identical counters.
 *
 * Two engines give the same result:
 * - the dual one (small n): every row's integer dot with every class is kept current from the
 *   Gram matrix (adding row j to a class adds dim - 2 hamming(i, j) to row i's dot with it), so a
 *   row is scored in O(classes) and an update costs O(n) plus the counter row;
 * - the primal one (any n, memory O(classes x dim)): the backend's `refineOnline` epoch driver
 *   (native SIMD kernels, or their TypeScript twin) computes each visited row's dots against the
 *   counters directly.
 *
 * @internal
 */
import { backend } from '../backend/index.js';
import type { HVBatch } from '../core/hv.js';
import { hammingMatrix } from '../core/ops.js';
import { ErrorCode, HdglueError } from '../errors.js';
import { mix64, mulberry32 } from '../rng.js';
import { wordsOf } from '../validate.js';

/**
 * The visiting order of one epoch: a Fisher-Yates shuffle of 0..n-1 driven by mulberry32, seeded
 * with the low 32 bits of mix64(seed + epoch * golden ratio). A pure function of (n, seed,
 * epoch), so a refit with the same seed retraces every step.
 */
export function epochOrder(n: number, seed: bigint, epoch: number): Uint32Array {
  const key = mix64(BigInt.asUintN(64, seed + BigInt(epoch) * 0x9e3779b97f4a7c15n));
  const next = mulberry32(Number(key & 0xffffffffn));
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    const t = order[i] as number;
    order[i] = order[j] as number;
    order[j] = t;
  }
  return order;
}

/**
 * dot(x_i, x_j) = dim - 2 hamming(x_i, x_j) for every pair of rows (bipolar, exact), n x n int32,
 * converted in place (a distance is at most dim < 2^31) so only one n x n array is alive.
 */
export function gramMatrix(hvs: HVBatch): Int32Array {
  const h = hammingMatrix(hvs, hvs);
  const g = new Int32Array(h.buffer, h.byteOffset, h.length);
  for (let i = 0; i < h.length; i++) g[i] = hvs.dim - 2 * (h[i] as number);
  return g;
}

/** Each class row's sum of squares, summed in index order in doubles (the scoring path's own norms, squared). */
export function squaredNorms(counters: Int32Array, classes: number, dim: number): Float64Array {
  const out = new Float64Array(classes);
  for (let k = 0; k < classes; k++) {
    let s = 0;
    for (let i = k * dim; i < (k + 1) * dim; i++) {
      const v = counters[i] as number;
      s += v * v;
    }
    out[k] = s;
  }
  return out;
}

/**
 * Refuses a correction whose integers could leave the exact range: every dot is bounded by
 * dim * max|counter|, and `count` visits move a counter by at most `count`.
 */
export function checkExactRange(counters: Int32Array, dim: number, count: number): void {
  let big = 0;
  for (let i = 0; i < counters.length; i++) {
    const v = counters[i] as number;
    const a = v < 0 ? -v : v;
    if (a > big) big = a;
  }
  // Past 2^53 a double dot could round; past 2^31 an int32 counter could wrap (the backends
  // agree on neither).
  if (dim * (big + count) >= 2 ** 53 || big + count >= 2 ** 31) {
    throw new HdglueError(
      ErrorCode.LIMIT,
      `refine: counters of magnitude ${big} moved by up to ${count} visits (rows x epochs) at dim ${dim} could leave the exact integer range; use fewer epochs or rows`,
    );
  }
}

/** Settings of one online epoch. */
export interface OnlineEpoch {
  /** Rows to visit, in this order (repeats allowed). */
  order: Uint32Array;
  /** Update a correct row whose cosine lead over its rival is below this. */
  margin: number;
  /** 1: subtract the row from the rival too ('adapt'); 0: only add it to its class ('tutorial'). */
  adapt: 0 | 1;
}

/** Counts of one online epoch: rows misclassified when visited, rows that updated the counters. */
export interface OnlineCounts {
  errors: number;
  updates: number;
}

/** The primal engine: one epoch through the backend's driver. Counters and norms2 change in place. */
export function primalEpoch(
  hvs: HVBatch,
  truth: Int32Array,
  counters: Int32Array,
  classes: number,
  norms2: Float64Array,
  e: OnlineEpoch,
): OnlineCounts {
  const stats = new Float64Array(2);
  backend().refineOnline(
    hvs.data,
    hvs.count,
    hvs.dim,
    truth,
    e.order,
    e.order.length,
    counters,
    classes,
    norms2,
    e.margin,
    e.adapt,
    stats,
  );
  return { errors: stats[0] as number, updates: stats[1] as number };
}

/**
 * The dual engine: holds the Gram matrix (n x n int32) and every row's dot with every class,
 * class-major, and updates both as the counters move. Exact integers throughout (dots below
 * 2^53 by {@link checkExactRange}), so it matches the primal engine step for step.
 */
export class DualEngine {
  readonly #hvs: HVBatch;
  readonly #gram: Int32Array;
  readonly #dots: Float64Array;
  readonly #classes: number;
  readonly #dim: number;
  readonly #n: number;

  constructor(hvs: HVBatch, counters: Int32Array, classes: number) {
    const n = hvs.count;
    this.#hvs = hvs;
    this.#n = n;
    this.#classes = classes;
    this.#dim = hvs.dim;
    this.#gram = gramMatrix(hvs);
    const byRow = new Float64Array(n * classes);
    backend().dotCounters(hvs.data, n, counters, classes, this.#dim, byRow);
    this.#dots = new Float64Array(n * classes);
    for (let i = 0; i < n; i++)
      for (let k = 0; k < classes; k++) this.#dots[k * n + i] = byRow[i * classes + k] as number;
  }

  /** One online epoch; counters and norms2 change in place, as the primal driver's do. */
  epoch(truth: Int32Array, counters: Int32Array, norms2: Float64Array, e: OnlineEpoch): OnlineCounts {
    const n = this.#n;
    const c = this.#classes;
    const dim = this.#dim;
    const dots = this.#dots;
    const gram = this.#gram;
    const stride = 2 * wordsOf(dim);
    const qn = Math.sqrt(dim);
    const s = new Float64Array(c);
    // qn * sqrt(norms2[k]) per class, recomputed only when the class's counters move (the same
    // value every time, so caching it changes no score).
    const scale = new Float64Array(c);
    for (let k = 0; k < c; k++) scale[k] = qn * Math.sqrt(norms2[k] as number);
    const minusOne = new Int32Array([-1]);
    let errors = 0;
    let updates = 0;
    for (let v = 0; v < e.order.length; v++) {
      const i = e.order[v] as number;
      const t = truth[i] as number;
      for (let k = 0; k < c; k++) {
        s[k] = (norms2[k] as number) > 0 ? (dots[k * n + i] as number) / (scale[k] as number) : 0;
      }
      let p = 0;
      for (let k = 1; k < c; k++) if ((s[k] as number) > (s[p] as number)) p = k;
      let rival = p;
      if (p === t) {
        rival = -1;
        for (let k = 0; k < c; k++) if (k !== t && (rival < 0 || (s[k] as number) > (s[rival] as number))) rival = k;
      } else errors++;
      const lead = rival < 0 ? Number.POSITIVE_INFINITY : (s[t] as number) - (s[rival] as number);
      if (p === t && !(lead < e.margin)) continue;
      updates++;
      const row = this.#hvs.data.subarray(i * stride, (i + 1) * stride);
      const g = gram.subarray(i * n, (i + 1) * n);
      norms2[t] = (norms2[t] as number) + (2 * (dots[t * n + i] as number) + dim);
      scale[t] = qn * Math.sqrt(norms2[t] as number);
      backend().accAdd(counters.subarray(t * dim, (t + 1) * dim), dim, row, 1, null);
      const dt = dots.subarray(t * n, (t + 1) * n);
      for (let j = 0; j < n; j++) dt[j] += g[j] as number;
      if (e.adapt && rival >= 0) {
        norms2[rival] = (norms2[rival] as number) + (-2 * (dots[rival * n + i] as number) + dim);
        scale[rival] = qn * Math.sqrt(norms2[rival] as number);
        backend().accAdd(counters.subarray(rival * dim, (rival + 1) * dim), dim, row, 1, minusOne);
        const dr = dots.subarray(rival * n, (rival + 1) * n);
        for (let j = 0; j < n; j++) dr[j] -= g[j] as number;
      }
    }
    return { errors, updates };
  }
}
