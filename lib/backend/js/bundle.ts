/**
 * Bitwise kernels of the TypeScript backend that build HVs from HVs (bind, majority bundle,
 * weighted bundle, rotation), bit for bit the scalar C++ kernels (native/core/kernels_scalar.cc,
 * hdg_permute and hdg_bundle_weighted in native/core/ops.cc). Every 64-bit word is handled as its
 * two little-endian 32-bit halves, which is exact for all of these: none carries across bit
 * positions except rotation, which works on bit positions directly.
 *
 * Hot loops are written for V8: monomorphic typed-array access, state in locals, no closures,
 * no allocation per row.
 *
 * @internal Not exported from the package.
 */
import { accAdd, threshold } from './counters.js';

/** out[r] = a[r] ^ b[bStride ? r : 0] (contract: Kernels.bind). */
export function bind(a: Uint32Array, b: Uint32Array, bStride: 0 | 1, n: number, words: number, out: Uint32Array): void {
  const len = words * 2;
  if (bStride === 1) {
    const total = n * len;
    for (let i = 0; i < total; i++) out[i] = a[i]! ^ b[i]!;
    return;
  }
  for (let r = 0; r < n; r++) {
    const o = r * len;
    for (let j = 0; j < len; j++) out[o + j] = a[o + j]! ^ b[j]!;
  }
}
// Counter planes above the 16s; 28 covers any k below 2^32.
const bundleHigh = new Int32Array(28);

/**
 * Majority per bit from bit-sliced counters. Each 32-bit column is summed over all k rows by a
 * carry-save adder tree over 16 rows at a time (planes 1, 2, 4, 8 in locals); the 16s then
 * ripple into the higher planes, which is about two steps per 16 rows. Columns go one at a
 * time so the k cache lines of a 16-column stripe are reused from L1.
 */
export function bundle(batch: Uint32Array, k: number, words: number, tie: Uint32Array | null, out: Uint32Array): void {
  const len = words * 2;
  const half = Math.floor(k / 2);
  const tieOnEven = k % 2 === 0;
  let nhi = 0;
  while (Math.floor(k / 16) >= 2 ** nhi) nhi++;
  const hi = bundleHigh;
  const k16 = k - (k % 16);
  for (let j = 0; j < len; j++) {
    let ones = 0;
    let twos = 0;
    let fours = 0;
    let eights = 0;
    for (let p = 0; p < nhi; p++) hi[p] = 0;
    let p = j;
    let r = 0;
    for (; r < k16; r += 16) {
      let x = batch[p]!;
      p += len;
      let y = batch[p]!;
      p += len;
      let u = ones ^ x;
      const twosA0 = (ones & x) | (u & y);
      ones = u ^ y;
      x = batch[p]!;
      p += len;
      y = batch[p]!;
      p += len;
      u = ones ^ x;
      const twosB0 = (ones & x) | (u & y);
      ones = u ^ y;
      u = twos ^ twosA0;
      const foursA0 = (twos & twosA0) | (u & twosB0);
      twos = u ^ twosB0;
      x = batch[p]!;
      p += len;
      y = batch[p]!;
      p += len;
      u = ones ^ x;
      const twosA1 = (ones & x) | (u & y);
      ones = u ^ y;
      x = batch[p]!;
      p += len;
      y = batch[p]!;
      p += len;
      u = ones ^ x;
      const twosB1 = (ones & x) | (u & y);
      ones = u ^ y;
      u = twos ^ twosA1;
      const foursB0 = (twos & twosA1) | (u & twosB1);
      twos = u ^ twosB1;
      u = fours ^ foursA0;
      const eightsA = (fours & foursA0) | (u & foursB0);
      fours = u ^ foursB0;
      x = batch[p]!;
      p += len;
      y = batch[p]!;
      p += len;
      u = ones ^ x;
      const twosA2 = (ones & x) | (u & y);
      ones = u ^ y;
      x = batch[p]!;
      p += len;
      y = batch[p]!;
      p += len;
      u = ones ^ x;
      const twosB2 = (ones & x) | (u & y);
      ones = u ^ y;
      u = twos ^ twosA2;
      const foursA1 = (twos & twosA2) | (u & twosB2);
      twos = u ^ twosB2;
      x = batch[p]!;
      p += len;
      y = batch[p]!;
      p += len;
      u = ones ^ x;
      const twosA3 = (ones & x) | (u & y);
      ones = u ^ y;
      x = batch[p]!;
      p += len;
      y = batch[p]!;
      p += len;
      u = ones ^ x;
      const twosB3 = (ones & x) | (u & y);
      ones = u ^ y;
      u = twos ^ twosA3;
      const foursB1 = (twos & twosA3) | (u & twosB3);
      twos = u ^ twosB3;
      u = fours ^ foursA1;
      const eightsB = (fours & foursA1) | (u & foursB1);
      fours = u ^ foursB1;
      u = eights ^ eightsA;
      let carry = (eights & eightsA) | (u & eightsB);
      eights = u ^ eightsB;
      for (let q = 0; carry !== 0; q++) {
        const h = hi[q]!;
        hi[q] = h ^ carry;
        carry &= h;
      }
    }
    for (; r < k; r++) {
      // Fewer than 16 rows left: plain ripple increment through every plane.
      let carry = batch[p]!;
      p += len;
      let c = ones & carry;
      ones ^= carry;
      carry = c;
      c = twos & carry;
      twos ^= carry;
      carry = c;
      c = fours & carry;
      fours ^= carry;
      carry = c;
      c = eights & carry;
      eights ^= carry;
      carry = c;
      for (let q = 0; carry !== 0; q++) {
        const h = hi[q]!;
        hi[q] = h ^ carry;
        carry &= h;
      }
    }
    // count > half, compared most significant plane first; eq marks bits still equal so far.
    // half < 2^(nhi + 4), so no plane above the top one can hold a set bit of half.
    let gt = 0;
    let eq = -1;
    for (let q = nhi - 1; q >= 0; q--) {
      const c = hi[q]!;
      if ((half >>> (q + 4)) & 1) {
        eq &= c;
      } else {
        gt |= eq & c;
        eq &= ~c;
      }
    }
    if (half & 8) {
      eq &= eights;
    } else {
      gt |= eq & eights;
      eq &= ~eights;
    }
    if (half & 4) {
      eq &= fours;
    } else {
      gt |= eq & fours;
      eq &= ~fours;
    }
    if (half & 2) {
      eq &= twos;
    } else {
      gt |= eq & twos;
      eq &= ~twos;
    }
    if (half & 1) {
      eq &= ones;
    } else {
      gt |= eq & ones;
      eq &= ~ones;
    }
    out[j] = tieOnEven && tie !== null ? gt | (eq & tie[j]!) : gt;
  }
}

/** Sign of the weighted bipolar sum of k rows, through the counter kernels (contract: Kernels.bundleWeighted). */
export function bundleWeighted(
  batch: Uint32Array,
  k: number,
  dim: number,
  weights: Int32Array,
  tie: Uint32Array | null,
  out: Uint32Array,
): void {
  const scratch = new Int32Array(dim);
  accAdd(scratch, dim, batch, k, weights);
  threshold(scratch, 1, dim, tie, out);
}

/** 32 bits of row `src` (len entries) starting at bit position pos; zeros outside the row. */
function get32(src: Uint32Array, o: number, len: number, pos: number): number {
  if (pos <= -32) return 0;
  if (pos < 0) return len > 0 ? src[o]! << -pos : 0;
  const w = pos >>> 5;
  const off = pos & 31;
  const lo = w < len ? src[o + w]! : 0;
  if (off === 0) return lo;
  const hi = w + 1 < len ? src[o + w + 1]! : 0;
  return (lo >>> off) | (hi << (32 - off));
}

/** Cyclic rotation of each row by k bits within dim (contract: Kernels.permute). */
export function permute(input: Uint32Array, n: number, dim: number, k: number, out: Uint32Array): void {
  if (dim === 0) return;
  const len = Math.ceil(dim / 64) * 2;
  // Number % is exact for integers, so this matches int64 % for any safe k; +0 turns -0 to 0.
  let s = (k % dim) + 0;
  if (s < 0) s += dim;
  for (let r = 0; r < n; r++) {
    const o = r * len;
    for (let e = 0; e < len; e++) {
      // out bit t = in bit t - s for t >= s, and in bit t - s + dim for t < s.
      const t0 = e << 5;
      if (t0 >= dim) {
        out[o + e] = 0;
        continue;
      }
      let v = get32(input, o, len, t0 - s);
      if (t0 < s) v |= get32(input, o, len, t0 - s + dim);
      const valid = dim - t0;
      if (valid < 32) v &= (1 << valid) - 1;
      out[o + e] = v;
    }
  }
}
