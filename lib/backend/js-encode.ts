/**
 * The encoders of the TypeScript backend, twins of native/core/encode.cc: the same binning and
 * quantizing arithmetic, operation for operation (JavaScript never fuses a multiply-add, and the
 * native build is compiled not to), then the same kernels as the rest of the backend.
 * @internal
 */
import { jsKernels } from './js.js';

/** numpy's clip(digitize(v, linspace(lo, hi, bins + 1)) - 1, 0, bins - 1) for a finite v (see hdg_bin). */
export function bin(v: number, lo: number, hi: number, bins: number): number {
  if (!(v >= lo)) return 0;
  if (v >= hi) return bins - 1;
  const step = (hi - lo) / bins;
  const c = (v - lo) / step;
  let j = !(c > 0) ? 0 : c >= bins - 1 ? bins - 1 : Math.floor(c);
  while (j > 0 && v < j * step + lo) j--;
  while (j + 1 < bins && v >= (j + 1) * step + lo) j++;
  return j;
}

/** clamp(floor(v * mult + 0.5), -32767, 32767), as hdg_quantize. */
export function quantize(v: number, mult: number): number {
  const t = Math.floor(v * mult + 0.5);
  if (!(t > -32767)) return -32767;
  if (t > 32767) return 32767;
  return t;
}

function firstNonFinite(x: Float32Array | Float64Array, count: number): number {
  for (let i = 0; i < count; i++) if (!Number.isFinite(x[i])) return i;
  return -1;
}

/** Level encoder (see hdg_encode_f64): -1 when done, else the index of the first non-finite value. */
export function encodeLevels(
  x: Float32Array | Float64Array,
  n: number,
  features: number,
  lo: Float64Array,
  hi: Float64Array,
  bins: number,
  levels: Uint32Array,
  _levelCount: number,
  positions: Uint32Array,
  dim: number,
  tie: Uint32Array | null,
  out: Uint32Array,
): number {
  const bad = firstNonFinite(x, n * features);
  if (bad >= 0) return bad;
  const words = Math.ceil(dim / 64);
  const len = 2 * words;
  // The bound rows of one embedding, then the same bundle kernel as everywhere else.
  const rows = new Uint32Array(features * len);
  for (let r = 0; r < n; r++) {
    for (let f = 0; f < features; f++) {
      const b = bin(x[r * features + f] as number, lo[f] as number, hi[f] as number, bins);
      const lv = b * len;
      const ps = f * len;
      const o = f * len;
      for (let j = 0; j < len; j++) rows[o + j] = (levels[lv + j] as number) ^ (positions[ps + j] as number);
    }
    jsKernels.bundle(rows, features, words, tie, out.subarray(r * len, (r + 1) * len));
  }
  return -1;
}

/** Projection encoder (see hdg_project_f64): -1 when done, else the index of the first non-finite value. */
export function project(
  x: Float32Array | Float64Array,
  n: number,
  features: number,
  mult: Float64Array,
  proj: Uint32Array,
  dim: number,
  tie: Uint32Array | null,
  out: Uint32Array,
): number {
  const bad = firstNonFinite(x, n * features);
  if (bad >= 0) return bad;
  const len = 2 * Math.ceil(dim / 64);
  const counters = new Int32Array(dim);
  const q = new Int32Array(features);
  for (let r = 0; r < n; r++) {
    for (let f = 0; f < features; f++) q[f] = quantize(x[r * features + f] as number, mult[f] as number);
    counters.fill(0);
    jsKernels.accAdd(counters, dim, proj, features, q);
    jsKernels.threshold(counters, 1, dim, tie, out.subarray(r * len, (r + 1) * len));
  }
  return -1;
}
