/**
 * The encoders of the TypeScript backend, twins of native/core/encode.cc: the same binning and
 * quantizing arithmetic, operation for operation (JavaScript never fuses a multiply-add, and the
 * native build is compiled not to), then the same kernels as the rest of the backend; the level
 * encoder's own kernel is in encode-levels.ts.
 * @internal
 */
import { accAdd, threshold } from './counters.js';
import { majorityRows, offsetWidth, paddedBlock, planeStride } from './encode-levels.js';

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
  if (Number.isNaN(t)) return 0;
  if (!(t > -32767)) return -32767;
  if (t > 32767) return 32767;
  return t;
}

function firstNonFinite(x: Float32Array | Float64Array, count: number): number {
  for (let i = 0; i < count; i++) if (!Number.isFinite(x[i])) return i;
  return -1;
}

/**
 * bin()'s per-feature constants, computed once per call as the native Binning does: step at f,
 * its inverse at features + f, and at 2 * features + f 1 where the range has no width to step
 * through (bin() itself decides those).
 */
function binConstants(lo: Float64Array, hi: Float64Array, features: number, bins: number): Float64Array {
  const k = new Float64Array(3 * features);
  for (let f = 0; f < features; f++) {
    const l = lo[f]!;
    const h = hi[f]!;
    const step = (h - l) / bins;
    k[f] = step;
    k[features + f] = bins / (h - l);
    k[2 * features + f] = !(h > l) || !(step > 0) ? 1 : 0;
  }
  return k;
}

/**
 * The bins of x[base + f], f < features, times `scale`, into out[o + f]: bin() with the constants
 * of binConstants(), as bin_one. The first guess comes from a multiplication instead of a
 * division; the same comparisons with the same edges j * step + lo then move it to the one bin
 * they allow (the edges only grow with j), so every finite value gets bin()'s bin. Values below
 * lo need no test of their own (the guess is 0 and stays there); the top is decided against hi
 * itself, as numpy's last edge (an edge j * step + lo with an infinite step is no guide).
 */
function binRow(
  x: Float32Array | Float64Array,
  base: number,
  features: number,
  lo: Float64Array,
  hi: Float64Array,
  bins: number,
  k: Float64Array,
  scale: number,
  out: Int32Array,
  o: number,
): void {
  const top = bins - 1;
  for (let f = 0; f < features; f++) {
    const v = x[base + f]!;
    const l = lo[f]!;
    let j: number;
    if (k[2 * features + f] === 1) j = bin(v, l, hi[f]!, bins);
    else {
      const s = k[f]!;
      const c = (v - l) * k[features + f]!;
      j = !(c > 0) ? 0 : c >= top ? top : Math.floor(c);
      while (j > 0 && v < j * s + l) j--;
      while (j + 1 < bins && v >= (j + 1) * s + l) j++;
      if (v >= hi[f]!) j = top;
    }
    out[o + f] = j * scale;
  }
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
  const len = 2 * Math.ceil(dim / 64);
  const k = binConstants(lo, hi, features, bins);
  // Plain typed arrays and functions, no per-call objects: optimized code that checks the map
  // of an object made per call is thrown away whenever a full GC finds no such object alive.
  const L = new Int32Array(levels.buffer, levels.byteOffset, levels.length);
  const P = new Int32Array(positions.buffer, positions.byteOffset, positions.length);
  const tail = paddedBlock(L, P, features, len);
  const planes = new Int32Array(Math.min(4, n) * planeStride(features) * len);
  // Four embeddings at a time; the entries after each one's features stay 0, the level row of
  // the padding features.
  const width = offsetWidth(features);
  const offsets = new Int32Array(4 * width);
  for (let r = 0; r < n; r += 4) {
    const m = Math.min(4, n - r);
    for (let e = 0; e < m; e++) binRow(x, (r + e) * features, features, lo, hi, bins, k, len, offsets, e * width);
    majorityRows(L, P, tail, features, len, offsets, m, planes, tie, out, r * len);
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
    accAdd(counters, dim, proj, features, q);
    threshold(counters, 1, dim, tie, out.subarray(r * len, (r + 1) * len));
  }
  return -1;
}
