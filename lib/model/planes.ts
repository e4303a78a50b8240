/**
 * The bit-plane scorer of an HIL's cosine metric: the integer dot of a query with every class's
 * counters, computed from one Hamming kernel call against bit planes of the counters instead of
 * dotCounters' scan of every counter. Bit-identical to the dotCounters path (same integers, same
 * division), only faster once enough queries share one set of counters.
 *
 * @internal
 */
import { backend } from '../backend/index.js';
import { popcount32 } from '../bits.js';
import type { HVBatch } from '../core/hv.js';
import { wordsOf } from '../validate.js';

/**
 * Queries after which building the bit planes has paid for itself against dotCounters. At
 * dim 10,000 with 10 classes of 11 planes the build takes ~2 ms in either backend, about what
 * the native dotCounters spends on 300-400 queries (the TypeScript one on ~70): both sides
 * scale with classes * dim, so one count serves every shape.
 */
const PLANE_BREAK_EVEN = 256;

/**
 * The counters in a form a Hamming kernel can score exactly. With m_k the smallest counter of
 * class k, u_i = c_i - m_k >= 0 is split into bit planes (plane p holds bit p of every u_i),
 * stacked for all classes and followed by one all-zero row. For a query q with |q| set bits,
 * each counter weighing +1 where q's bit is 0 and -1 where it is 1,
 *
 *   dot(q, c_k) = sum_p 2^p * hamming(q, plane_kp) - |q| * sum_p 2^p + m_k * (dim - 2|q|),
 *
 * because a 0/1 plane gives sum_i p_i (1 - 2 q_i) = |p| - 2|p AND q| = hamming(q, p) - |q|,
 * and |q| = hamming(q, zero row). So one hammingMxN call (the fastest kernel, SIMD and threaded
 * natively) against the planes replaces dotCounters' scan of every counter. An all-zero plane
 * adds nothing to either sum, so it is left out: that always drops plane 0, since learning adds
 * or removes whole examples and so every counter of a class has the same parity.
 */
export interface Planes {
  /** Plane rows plus the zero row (the last one). */
  rows: number;
  /** rows * 2W Uint32 entries, zero-padded like any hypervector. */
  data: Uint32Array;
  /** Class k's planes are rows first[k] .. first[k + 1] - 1. */
  first: Int32Array;
  /** 2^p of each plane row. */
  weight: Float64Array;
  /** Per class: -(sum of its planes' weights) - 2 m_k, the coefficient of |q|. */
  perPop: Float64Array;
  /** Per class: m_k * dim. */
  constant: Float64Array;
  /**
   * Every intermediate value is an integer below 2^53 in magnitude, so the double arithmetic is
   * exact and the result is the very number dotCounters returns. Only counters far beyond any
   * training run (|c| near 2^31 at dim near 2^24) fail this; they are scored by dotCounters.
   */
  exact: boolean;
}

/**
 * The planes of one set of counters, built once enough queries have been scored against them.
 * Building costs about as much as scoring PLANE_BREAK_EVEN queries the reference way, so they
 * are built once that many queries have been (or are about to be) scored since the counters
 * last changed: a batch that large (a refine epoch over that many examples) builds at once,
 * smaller refits keep the dotCounters cost, and a trickle of single queries after partialFit
 * pays at most about twice the cheaper choice.
 */
export class PlaneCache {
  #planes: Planes | null = null;
  // Queries scored through dotCounters since the counters last changed.
  #unplanned = 0;

  /** The counters changed: the planes (and the queries counted towards them) no longer apply. */
  reset(): void {
    this.#planes = null;
    this.#unplanned = 0;
  }

  /** The planes to score `n` more queries of these counters with, or null to use dotCounters. */
  planesFor(n: number, counters: Int32Array, classes: number, dim: number): Planes | null {
    if (this.#planes) return this.#planes.exact ? this.#planes : null;
    this.#unplanned += n;
    if (this.#unplanned < PLANE_BREAK_EVEN) return null;
    this.#planes = buildPlanes(counters, classes, dim);
    return this.#planes.exact ? this.#planes : null;
  }
}

// The planes of `classes` rows of `dim` counters (see Planes).
function buildPlanes(counters: Int32Array, classes: number, dim: number): Planes {
  const stride = 2 * wordsOf(dim);
  const first = new Int32Array(classes + 1);
  const mins = new Int32Array(classes);
  const used = new Float64Array(classes);
  const perPop = new Float64Array(classes);
  const constant = new Float64Array(classes);
  let exact = true;
  for (let k = 0; k < classes; k++) {
    const end = (k + 1) * dim;
    let lo = 0x7fffffff;
    for (let i = k * dim; i < end; i++) if ((counters[i] as number) < lo) lo = counters[i] as number;
    // OR of every u_i: its set bits are the non-empty planes. u < 2^32, so the int32 wrap of
    // (c - lo) | 0 keeps all its bits (and lets the JIT stay in integer arithmetic).
    let any = 0;
    for (let i = k * dim; i < end; i++) any |= ((counters[i] as number) - lo) | 0;
    const bits = any >>> 0;
    first[k + 1] = (first[k] as number) + popcount32(bits);
    mins[k] = lo;
    used[k] = bits;
    perPop[k] = -bits - 2 * lo;
    constant[k] = lo * dim;
    // Bounds of the running sum in planeScores: the plane sum <= dim * bits, |q| * perPop
    // <= dim (bits + 2|m|), the constant <= dim |m|.
    if (dim * (2 * bits + 3 * Math.abs(lo)) > 2 ** 53) exact = false;
  }
  const planes = first[classes] as number;
  const rows = planes + 1;
  const weight = new Float64Array(planes);
  if (!exact) return { rows, data: new Uint32Array(0), first, weight, perPop, constant, exact };
  const data = new Uint32Array(rows * stride);
  // Plane b is the sign of u << (31 - b), so the threshold kernel (c < 0 -> 1; a zero counter
  // means bit b is 0, hence no tie vector) packs a whole class's planes in one call.
  let scratch = new Int32Array(0);
  for (let k = 0; k < classes; k++) {
    const bits = used[k] as number;
    const row = first[k] as number;
    const count = (first[k + 1] as number) - row;
    if (count === 0) continue;
    if (scratch.length < count * dim) scratch = new Int32Array(count * dim);
    const cb = k * dim;
    const m = mins[k] as number;
    for (let b = 0, p = 0; b < 32; b++) {
      if (((bits >>> b) & 1) === 0) continue;
      weight[row + p] = 2 ** b;
      const shift = 31 - b;
      const at = p++ * dim;
      for (let i = 0; i < dim; i++) scratch[at + i] = (((counters[cb + i] as number) - m) | 0) << shift;
    }
    backend().threshold(scratch, count, dim, null, data.subarray(row * stride, (row + count) * stride));
  }
  return { rows, data, first, weight, perPop, constant, exact };
}

/**
 * out[r * C + k] = dot(query r, counters k) / (qn * norms[k]), or 0 for a zero class, with the
 * dot exactly the number dotCounters returns (see {@link Planes}).
 */
export function planeScores(
  p: Planes,
  hvs: HVBatch,
  dim: number,
  norms: Float64Array,
  qn: number,
  out: Float64Array,
): void {
  const words = wordsOf(dim);
  const stride = 2 * words;
  const { rows, first, weight, perPop, constant } = p;
  const classes = perPop.length;
  // Chunks of queries keep the distance matrix near 4 MiB however many queries come in.
  const chunk = Math.max(1, Math.floor((1 << 20) / rows));
  const ham = new Uint32Array(Math.min(chunk, hvs.count) * rows);
  for (let r0 = 0; r0 < hvs.count; r0 += chunk) {
    const n = Math.min(chunk, hvs.count - r0);
    backend().hammingMxN(hvs.data.subarray(r0 * stride, (r0 + n) * stride), n, p.data, rows, words, ham);
    for (let j = 0; j < n; j++) {
      const o = j * rows;
      const pop = ham[o + rows - 1] as number;
      const at = (r0 + j) * classes;
      let q = first[0] as number;
      for (let k = 0; k < classes; k++) {
        // Integer products and sums below 2^53 (Planes.exact): every step is exact.
        let s = 0;
        for (const end = first[k + 1] as number; q < end; q++) s += (weight[q] as number) * (ham[o + q] as number);
        const nk = norms[k] as number;
        out[at + k] = nk > 0 ? (s + pop * (perPop[k] as number) + (constant[k] as number)) / (qn * nk) : 0;
      }
    }
  }
}
