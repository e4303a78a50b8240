/**
 * Counter kernels of the TypeScript backend (class accumulators: adding rows, thresholding them
 * back to HVs, dots of HVs with them), bit for bit the scalar C++ kernels
 * (native/core/kernels_scalar.cc). Counters wrap modulo 2^32 as the C++ int32 arithmetic does.
 *
 * Hot loops are written for V8: monomorphic typed-array access, state in locals, no closures,
 * no allocation per row.
 *
 * @internal Not exported from the package.
 */

/** counters[i] += w_r * (bit ? -1 : +1), wrapping int32 (contract: Kernels.accAdd). */
export function accAdd(
  counters: Int32Array,
  dim: number,
  batch: Uint32Array,
  n: number,
  weights: Int32Array | null,
): void {
  const len = Math.ceil(dim / 64) * 2;
  for (let r = 0; r < n; r++) {
    const w = weights === null ? 1 : weights[r]!;
    const o = r * len;
    for (let e = 0; e < len; e++) {
      const base = e << 5;
      if (base >= dim) break;
      const x = batch[o + e]!;
      const lim = Math.min(32, dim - base);
      for (let b = 0; b < lim; b++) {
        // Branch-free conditional negate (bits are random, a branch mispredicts half the time);
        // int32 arithmetic wraps as the C++ does, including -(-2^31) = -2^31.
        const m = -((x >>> b) & 1);
        const i = base + b;
        counters[i] = (counters[i]! + ((w ^ m) - m)) | 0;
      }
    }
  }
}

/** Counter rows to HVs: c < 0 -> 1, c > 0 -> 0, c == 0 -> tie bit (contract: Kernels.threshold). */
export function threshold(
  counters: Int32Array,
  m: number,
  dim: number,
  tie: Uint32Array | null,
  out: Uint32Array,
): void {
  const len = Math.ceil(dim / 64) * 2;
  for (let c = 0; c < m; c++) {
    const cb = c * dim;
    const o = c * len;
    for (let e = 0; e < len; e++) {
      const base = e << 5;
      if (base >= dim) {
        out[o + e] = 0;
        continue;
      }
      const lim = Math.min(32, dim - base);
      const tb = tie === null ? 0 : tie[e]!;
      let w = 0;
      for (let b = 0; b < lim; b++) {
        const v = counters[cb + base + b]!;
        // Branch-free v < 0 ? 1 : v > 0 ? 0 : tie bit; v | -v has its sign bit set iff v != 0.
        const bit = (v >>> 31) | (~((v | -v) >>> 31) & (tb >>> b) & 1);
        w |= bit << b;
      }
      out[o + e] = w;
    }
  }
}

// Bits per chunk of the dot product: |partial sums| <= 2^22 * 2^31 = 2^53 stay exact doubles.
const DOT_CHUNK = 1 << 22;

/** sum over bits [lo, hi) of counters[cb + i] * (bit i ? -1 : +1), exact because hi - lo <= DOT_CHUNK. */
function dotRange(hv: Uint32Array, o: number, counters: Int32Array, cb: number, lo: number, hi: number): number {
  let total = 0;
  for (let i = lo; i < hi; i++) total += counters[cb + i]!;
  let neg = 0;
  const e0 = lo >>> 5;
  const e1 = (hi + 31) >>> 5;
  for (let e = e0; e < e1; e++) {
    let x = hv[o + e]!;
    const base = cb + (e << 5);
    while (x !== 0) {
      const low = x & -x;
      neg += counters[base + 31 - Math.clz32(low)]!;
      x ^= low;
    }
  }
  return total - 2 * neg;
}

/** Exact integer dots of HVs with counter rows (contract: Kernels.dotCounters). */
export function dotCounters(
  hvs: Uint32Array,
  n: number,
  counters: Int32Array,
  m: number,
  dim: number,
  out: Float64Array,
): void {
  const len = Math.ceil(dim / 64) * 2;
  for (let c = 0; c < m; c++) {
    const cb = c * dim;
    if (dim <= DOT_CHUNK) {
      // One counter total per class, reused for every row, as in the C++ kernel.
      let total = 0;
      for (let i = 0; i < dim; i++) total += counters[cb + i]!;
      for (let r = 0; r < n; r++) {
        const o = r * len;
        let neg = 0;
        for (let e = 0; e < len; e++) {
          let x = hvs[o + e]!;
          const base = cb + (e << 5);
          while (x !== 0) {
            const low = x & -x;
            neg += counters[base + 31 - Math.clz32(low)]!;
            x ^= low;
          }
        }
        out[r * m + c] = total - 2 * neg;
      }
    } else {
      // Past 2^22 bits a double sum could round; exact chunks summed as BigInt then round
      // once, as the native int64 -> double conversion does.
      for (let r = 0; r < n; r++) {
        let acc = 0n;
        for (let lo = 0; lo < dim; lo += DOT_CHUNK) {
          acc += BigInt(dotRange(hvs, r * len, counters, cb, lo, Math.min(dim, lo + DOT_CHUNK)));
        }
        out[r * m + c] = Number(acc);
      }
    }
  }
}

/** Exact integer dots of one HV with m counter rows (contract: Kernels.dotsOne). */
export function dotsOne(hv: Uint32Array, counters: Int32Array, m: number, dim: number, out: Float64Array): void {
  dotCounters(hv, 1, counters, m, dim, out);
}

/** One HV into one counter row, wrapping int32 (contract: Kernels.rowAdd). */
export function rowAdd(counters: Int32Array, dim: number, hv: Uint32Array, w: 1 | -1): void {
  const entries = Math.ceil(dim / 32);
  for (let e = 0; e < entries; e++) {
    const x = hv[e]!;
    const base = e << 5;
    const lim = Math.min(32, dim - base);
    for (let b = 0; b < lim; b++) {
      // Branch-free conditional negate, as in accAdd; the Int32Array store wraps.
      const m = -((x >>> b) & 1);
      counters[base + b] = counters[base + b]! + ((w ^ m) - m);
    }
  }
}
