/**
 * The encoders of the TypeScript backend, twins of native/core/encode.cc: the same binning and
 * quantizing arithmetic, operation for operation (JavaScript never fuses a multiply-add, and the
 * native build is compiled not to), then the same kernels as the rest of the backend.
 * @internal
 */
import { accAdd, threshold } from './counters.js';

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
  const offsets = new Int32Array(features);
  const high = new Int32Array(32);
  for (let r = 0; r < n; r++) {
    for (let f = 0; f < features; f++) {
      offsets[f] = bin(x[r * features + f] as number, lo[f] as number, hi[f] as number, bins) * len;
    }
    majorityOfBound(levels, positions, offsets, features, len, tie, out, r * len, high);
  }
  return -1;
}

// The bundle over features of levels[offsets[f] + j] ^ positions[f * len + j], one 32-bit column
// at a time, the bound rows formed as they are read (writing them out first doubled the time).
// Eight rows go through a carry-save tree into ones/twos/fours; each group's eights ripple into
// `high` (plane q is bit q + 3 of the count).
function majorityOfBound(
  levels: Uint32Array,
  positions: Uint32Array,
  offsets: Int32Array,
  features: number,
  len: number,
  tie: Uint32Array | null,
  out: Uint32Array,
  at: number,
  high: Int32Array,
): void {
  const half = Math.floor(features / 2);
  const even = features % 2 === 0;
  let nhigh = 0;
  while (Math.floor(features / 8) >= 2 ** nhigh) nhigh++;
  const f8 = features - (features % 8);
  for (let j = 0; j < len; j++) {
    let ones = 0;
    let twos = 0;
    let fours = 0;
    for (let q = 0; q < nhigh; q++) high[q] = 0;
    let f = 0;
    for (; f < f8; f += 8) {
      const p = f * len + j;
      const x0 = levels[offsets[f]! + j]! ^ positions[p]!;
      const x1 = levels[offsets[f + 1]! + j]! ^ positions[p + len]!;
      const x2 = levels[offsets[f + 2]! + j]! ^ positions[p + 2 * len]!;
      const x3 = levels[offsets[f + 3]! + j]! ^ positions[p + 3 * len]!;
      const x4 = levels[offsets[f + 4]! + j]! ^ positions[p + 4 * len]!;
      const x5 = levels[offsets[f + 5]! + j]! ^ positions[p + 5 * len]!;
      const x6 = levels[offsets[f + 6]! + j]! ^ positions[p + 6 * len]!;
      const x7 = levels[offsets[f + 7]! + j]! ^ positions[p + 7 * len]!;
      let u = ones ^ x0;
      const twosA = (ones & x0) | (u & x1);
      ones = u ^ x1;
      u = ones ^ x2;
      const twosB = (ones & x2) | (u & x3);
      ones = u ^ x3;
      u = twos ^ twosA;
      const foursA = (twos & twosA) | (u & twosB);
      twos = u ^ twosB;
      u = ones ^ x4;
      const twosC = (ones & x4) | (u & x5);
      ones = u ^ x5;
      u = ones ^ x6;
      const twosD = (ones & x6) | (u & x7);
      ones = u ^ x7;
      u = twos ^ twosC;
      const foursB = (twos & twosC) | (u & twosD);
      twos = u ^ twosD;
      u = fours ^ foursA;
      let carry = (fours & foursA) | (u & foursB);
      fours = u ^ foursB;
      for (let q = 0; carry !== 0; q++) {
        const h = high[q]!;
        high[q] = h ^ carry;
        carry &= h;
      }
    }
    for (; f < features; f++) {
      let carry = levels[offsets[f]! + j]! ^ positions[f * len + j]!;
      let c = ones & carry;
      ones ^= carry;
      carry = c;
      c = twos & carry;
      twos ^= carry;
      carry = c;
      c = fours & carry;
      fours ^= carry;
      carry = c;
      for (let q = 0; carry !== 0; q++) {
        const h = high[q]!;
        high[q] = h ^ carry;
        carry &= h;
      }
    }
    // count > half, most significant plane first; eq keeps the bits equal so far.
    let gt = 0;
    let eq = -1;
    for (let q = nhigh - 1; q >= 0; q--) {
      const c = high[q]!;
      if ((half >>> (q + 3)) & 1) eq &= c;
      else {
        gt |= eq & c;
        eq &= ~c;
      }
    }
    if (half & 4) eq &= fours;
    else {
      gt |= eq & fours;
      eq &= ~fours;
    }
    if (half & 2) eq &= twos;
    else {
      gt |= eq & twos;
      eq &= ~twos;
    }
    if (half & 1) eq &= ones;
    else {
      gt |= eq & ones;
      eq &= ~ones;
    }
    const t = even && tie ? eq & tie[j]! : 0;
    out[at + j] = gt | t;
  }
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
