/**
 * Pure-TypeScript kernels, bit for bit the scalar C++ kernels (native/core/kernels_scalar.cc,
 * native/core/ops.cc). Every 64-bit word is handled as its two little-endian 32-bit halves,
 * which is exact for all of these operations: none of them carries across bit positions
 * except rotation, which works on bit positions directly.
 *
 * Hot loops are written for V8: monomorphic typed-array access, state in locals, no closures,
 * no allocation per row.
 *
 * @internal Not exported from the package.
 */
import { popcount32 } from '../../bits.js';
import { randomHVInto } from '../../rng.js';
import type { CoreKernels } from '../types.js';

/**
 * popcount(q ^ b[o .. o + len)) with a Harley-Seal carry-save adder: ones and twos planes in
 * locals, one SWAR popcount per 4 entries instead of one per entry. On V8 blocks of 4 measured
 * faster than blocks of 8 or 16 (the larger bodies run out of registers) and than plain SWAR.
 */
function distance(q: Uint32Array, b: Uint32Array, o: number, len: number): number {
  let ones = 0;
  let twos = 0;
  let total = 0;
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const p = o + i;
    let x = q[i]! ^ b[p]!;
    let y = q[i + 1]! ^ b[p + 1]!;
    let u = ones ^ x;
    const twosA = (ones & x) | (u & y);
    ones = u ^ y;
    x = q[i + 2]! ^ b[p + 2]!;
    y = q[i + 3]! ^ b[p + 3]!;
    u = ones ^ x;
    const twosB = (ones & x) | (u & y);
    ones = u ^ y;
    u = twos ^ twosA;
    const fours = (twos & twosA) | (u & twosB);
    twos = u ^ twosB;
    total += popcount32(fours);
  }
  total = 4 * total + 2 * popcount32(twos) + popcount32(ones);
  for (; i < len; i++) total += popcount32(q[i]! ^ b[o + i]!);
  return total;
}

function hamming1xN(q: Uint32Array, batch: Uint32Array, n: number, words: number, out: Uint32Array): void {
  const len = words * 2;
  for (let r = 0; r < n; r++) out[r] = distance(q, batch, r * len, len);
}

function hammingMxN(a: Uint32Array, m: number, b: Uint32Array, n: number, words: number, out: Uint32Array): void {
  const len = words * 2;
  for (let i = 0; i < m; i++) {
    // A view at offset 0 keeps `distance` free of a second offset add per load.
    const q = a.subarray(i * len, i * len + len);
    const base = i * n;
    for (let r = 0; r < n; r++) out[base + r] = distance(q, b, r * len, len);
  }
}

function bind(a: Uint32Array, b: Uint32Array, bStride: 0 | 1, n: number, words: number, out: Uint32Array): void {
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

// Order of the top-k heap: a max-heap on (distance, index), so the root is the worst kept row.
function worse(da: number, ia: number, db: number, ib: number): boolean {
  return da > db || (da === db && ia > ib);
}

function siftDown(idx: Uint32Array, dist: Uint32Array, base: number, k: number, i: number): void {
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let top = i;
    if (l < k && worse(dist[base + l]!, idx[base + l]!, dist[base + top]!, idx[base + top]!)) top = l;
    if (r < k && worse(dist[base + r]!, idx[base + r]!, dist[base + top]!, idx[base + top]!)) top = r;
    if (top === i) return;
    const ti = idx[base + i]!;
    idx[base + i] = idx[base + top]!;
    idx[base + top] = ti;
    const td = dist[base + i]!;
    dist[base + i] = dist[base + top]!;
    dist[base + top] = td;
    i = top;
  }
}

function siftUp(idx: Uint32Array, dist: Uint32Array, base: number, i: number): void {
  while (i > 0) {
    const p = (i - 1) >>> 1;
    if (!worse(dist[base + i]!, idx[base + i]!, dist[base + p]!, idx[base + p]!)) return;
    const ti = idx[base + i]!;
    idx[base + i] = idx[base + p]!;
    idx[base + p] = ti;
    const td = dist[base + i]!;
    dist[base + i] = dist[base + p]!;
    dist[base + p] = td;
    i = p;
  }
}

const TOPK_BLOCK = 256;
const topkScratch = new Uint32Array(TOPK_BLOCK);

function topK(
  queries: Uint32Array,
  m: number,
  batch: Uint32Array,
  n: number,
  words: number,
  k: number,
  outIdx: Uint32Array,
  outDist: Uint32Array,
): void {
  if (k === 0) return;
  const len = words * 2;
  const d = topkScratch;
  const qs: Uint32Array[] = [];
  for (let q = 0; q < m; q++) qs.push(queries.subarray(q * len, q * len + len));
  // Blocks of rows stay in cache while every query scans them, as in hdg_topk; the result is
  // the unique k smallest (distance, index) pairs, so the blocking cannot change it.
  for (let r0 = 0; r0 < n; r0 += TOPK_BLOCK) {
    const bn = Math.min(TOPK_BLOCK, n - r0);
    for (let q = 0; q < m; q++) {
      const qv = qs[q]!;
      const base = q * k;
      for (let b = 0; b < bn; b++) d[b] = distance(qv, batch, (r0 + b) * len, len);
      for (let b = 0; b < bn; b++) {
        const row = r0 + b;
        const db = d[b]!;
        if (row < k) {
          outIdx[base + row] = row;
          outDist[base + row] = db;
          siftUp(outIdx, outDist, base, row);
        } else if (worse(outDist[base]!, outIdx[base]!, db, row)) {
          outIdx[base] = row;
          outDist[base] = db;
          siftDown(outIdx, outDist, base, k, 0);
        }
      }
    }
  }
  // Heap sort in place: moving the worst to the end each time leaves ascending order.
  for (let q = 0; q < m; q++) {
    const base = q * k;
    for (let end = k - 1; end >= 1; end--) {
      const ti = outIdx[base]!;
      outIdx[base] = outIdx[base + end]!;
      outIdx[base + end] = ti;
      const td = outDist[base]!;
      outDist[base] = outDist[base + end]!;
      outDist[base + end] = td;
      siftDown(outIdx, outDist, base, end, 0);
    }
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
function bundle(batch: Uint32Array, k: number, words: number, tie: Uint32Array | null, out: Uint32Array): void {
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

function accAdd(counters: Int32Array, dim: number, batch: Uint32Array, n: number, weights: Int32Array | null): void {
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

function threshold(counters: Int32Array, m: number, dim: number, tie: Uint32Array | null, out: Uint32Array): void {
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

function dotCounters(
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

function bundleWeighted(
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

function permute(input: Uint32Array, n: number, dim: number, k: number, out: Uint32Array): void {
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

function dotsOne(hv: Uint32Array, counters: Int32Array, m: number, dim: number, out: Float64Array): void {
  dotCounters(hv, 1, counters, m, dim, out);
}

function rowAdd(counters: Int32Array, dim: number, hv: Uint32Array, w: 1 | -1): void {
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

// Scratch of refineOnline, grown on demand and kept up to SCRATCH_KEEP bytes, so an epoch
// allocates nothing per row.
const SCRATCH_KEEP = 8 << 20;
let refinePos = new Int32Array(0);
let refineClass = new Float64Array(0);
let refinePacked = new Float64Array(0);

/**
 * Scale of the second class of a packed pair. Two classes share one double, a + b * 2^26: a sum of
 * such values over the set bits is A + B * 2^26, exact while |A|, |B| < 2^25, and splits back into
 * A and B exactly (rounding the quotient by 2^26, a power of two, recovers B because |A| < 2^25).
 * Each gather then serves two classes, which halves the hot loop of the dots.
 */
const PAIR = 2 ** 26;

/** Splits a packed value (or sum) a + b * 2^26 with |a| < 2^25 into b; a is then v - b * PAIR. */
function high(v: number): number {
  return Math.round(v / PAIR);
}

/**
 * Set-bit positions of the row at hvs[o ..] (bits below dim only) into refinePos; returns their count.
 * Visiting each set bit once per row, rather than once per class, is what makes the dots cheap.
 */
function setBits(hvs: Uint32Array, o: number, dim: number): number {
  const pos = refinePos;
  const entries = Math.ceil(dim / 32);
  let np = 0;
  for (let e = 0; e < entries; e++) {
    let x = hvs[o + e]!;
    const base = e << 5;
    // Padding bits (never set in valid input) must not index another class's counters.
    if (dim - base < 32) x &= (1 << (dim - base)) - 1;
    while (x !== 0) {
      const low = x & -x;
      pos[np++] = base + 31 - Math.clz32(low);
      x ^= low;
    }
  }
  return np;
}

/**
 * Row at cb of `a` gains w * bipolar(row) (w = +-1, or +-2^26 for the upper class of a packed pair):
 * w everywhere, then -2w at the np set bits. Int32Array stores wrap, so on counters the two steps
 * equal the one wrapping add of the native kernels; packed doubles stay exact integers.
 */
function addRowAt(a: Int32Array | Float64Array, cb: number, dim: number, np: number, w: number): void {
  const end = cb + dim;
  for (let q = cb; q < end; q++) a[q] = a[q]! + w;
  const pos = refinePos;
  const w2 = 2 * w;
  for (let j = 0; j < np; j++) {
    const q = cb + pos[j]!;
    a[q] = a[q]! - w2;
  }
}

/** Sums of the counters under the np set bits, per class, into neg[0 .. m): plain int32 rows. */
function negSums(counters: Int32Array, m: number, dim: number, np: number, neg: Float64Array): void {
  const pos = refinePos;
  let k = 0;
  // Two classes share each position load; every partial sum is an integer below 2^53 by the
  // caller's contract, so the double sums are exact.
  for (; k + 2 <= m; k += 2) {
    const c0 = k * dim;
    const c1 = c0 + dim;
    let n0 = 0;
    let n1 = 0;
    for (let j = 0; j < np; j++) {
      const b = pos[j]!;
      n0 += counters[c0 + b]!;
      n1 += counters[c1 + b]!;
    }
    neg[k] = n0;
    neg[k + 1] = n1;
  }
  if (k < m) {
    const c0 = k * dim;
    let n0 = 0;
    for (let j = 0; j < np; j++) n0 += counters[c0 + pos[j]!]!;
    neg[k] = n0;
  }
}

/** The same from the packed pairs (pair q holds classes 2q and 2q + 1), three pairs per pass. */
function negSumsPacked(packed: Float64Array, m: number, dim: number, np: number, neg: Float64Array): void {
  const pos = refinePos;
  const pairs = (m + 1) >> 1;
  let q = 0;
  for (; q + 3 <= pairs; q += 3) {
    const c0 = q * dim;
    const c1 = c0 + dim;
    const c2 = c1 + dim;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    for (let j = 0; j < np; j++) {
      const b = pos[j]!;
      s0 += packed[c0 + b]!;
      s1 += packed[c1 + b]!;
      s2 += packed[c2 + b]!;
    }
    splitInto(neg, m, 2 * q, s0);
    splitInto(neg, m, 2 * q + 2, s1);
    splitInto(neg, m, 2 * q + 4, s2);
  }
  for (; q < pairs; q++) {
    const c0 = q * dim;
    let s0 = 0;
    for (let j = 0; j < np; j++) s0 += packed[c0 + pos[j]!]!;
    splitInto(neg, m, 2 * q, s0);
  }
}

/** neg[k] and neg[k + 1] (when k + 1 < m) from a packed sum. */
function splitInto(neg: Float64Array, m: number, k: number, s: number): void {
  const hi = high(s);
  neg[k] = s - hi * PAIR;
  if (k + 1 < m) neg[k + 1] = hi;
}

function refineOnline(
  hvs: Uint32Array,
  _n: number,
  dim: number,
  truth: Int32Array,
  order: Uint32Array,
  count: number,
  counters: Int32Array,
  m: number,
  norms2: Float64Array,
  margin: number,
  adapt: 0 | 1,
  stats: Float64Array,
): void {
  if (count === 0 || m === 0) return;
  const len = Math.ceil(dim / 64) * 2;
  if (refinePos.length < dim) refinePos = new Int32Array(dim);
  if (refineClass.length < 5 * m) refineClass = new Float64Array(5 * m);
  // Per class: the counter total, the current dot, the score denominator, the score and a bound
  // on the largest |counter| (the largest at entry, plus one per update of the class).
  const totals = refineClass.subarray(0, m);
  const dots = refineClass.subarray(m, 2 * m);
  const den = refineClass.subarray(2 * m, 3 * m);
  const score = refineClass.subarray(3 * m, 4 * m);
  const bound = refineClass.subarray(4 * m, 5 * m);
  const qn = Math.sqrt(dim);
  let top = 0;
  for (let k = 0; k < m; k++) {
    let s = 0;
    let b = 0;
    const cb = k * dim;
    for (let q = cb; q < cb + dim; q++) {
      const v = counters[q]!;
      s += v;
      b = Math.max(b, Math.abs(v));
    }
    totals[k] = s;
    bound[k] = b;
    top = Math.max(top, b);
    // den > 0 exactly when norms2 > 0 (qn >= 1), as in the native driver.
    const n2 = norms2[k]!;
    den[k] = n2 > 0 ? qn * Math.sqrt(n2) : 0;
  }
  // Packed pairs while every sum of at most dim counters stays below 2^25 in magnitude; an update
  // that could break that unpacks them for the rest of the epoch.
  const limit = Math.floor((2 ** 25 - 1) / dim);
  const pairs = (m + 1) >> 1;
  let packed: Float64Array | null = null;
  if (top < limit && count >= 4) {
    if (refinePacked.length < pairs * dim) refinePacked = new Float64Array(pairs * dim);
    packed = refinePacked;
    for (let q = 0; q < pairs; q++) {
      const a = 2 * q * dim;
      const o = q * dim;
      if (2 * q + 1 < m) for (let i = 0; i < dim; i++) packed[o + i] = counters[a + i]! + counters[a + dim + i]! * PAIR;
      else for (let i = 0; i < dim; i++) packed[o + i] = counters[a + i]!;
    }
  }
  const unpack = (p: Float64Array) => {
    for (let q = 0; q < pairs; q++) {
      const a = 2 * q * dim;
      const o = q * dim;
      for (let i = 0; i < dim; i++) {
        const v = p[o + i]!;
        const hi = high(v);
        counters[a + i] = v - hi * PAIR;
        if (2 * q + 1 < m) counters[a + dim + i] = hi;
      }
    }
  };
  let errors = 0;
  let updates = 0;
  for (let e = 0; e < count; e++) {
    const i = order[e]!;
    const t = truth[i]!;
    const np = setBits(hvs, i * len, dim);
    // dot = total - 2 * (sum of the counters under set bits), exact integers.
    if (packed) negSumsPacked(packed, m, dim, np, dots);
    else negSums(counters, m, dim, np, dots);
    let p = 0;
    for (let c = 0; c < m; c++) {
      const dot = totals[c]! - 2 * dots[c]!;
      dots[c] = dot;
      const d = den[c]!;
      const sc = d > 0 ? dot / d : 0;
      score[c] = sc;
      if (sc > score[p]!) p = c;
    }
    let rival = -1;
    if (p !== t) {
      errors++;
      rival = p;
    } else {
      for (let c = 0; c < m; c++) if (c !== t && (rival < 0 || score[c]! > score[rival]!)) rival = c;
    }
    const lead = rival < 0 ? Number.POSITIVE_INFINITY : score[t]! - score[rival]!;
    if (p === t && !(lead < margin)) continue;
    updates++;
    const sub = adapt === 1 && rival >= 0;
    if (packed && (bound[t]! + 1 >= limit || (sub && bound[rival]! + 1 >= limit))) {
      unpack(packed);
      packed = null;
    }
    const change = dim - 2 * np;
    if (packed) addRowAt(packed, (t >> 1) * dim, dim, np, t & 1 ? PAIR : 1);
    else addRowAt(counters, t * dim, dim, np, 1);
    bound[t] = bound[t]! + 1;
    totals[t] = totals[t]! + change;
    norms2[t] = norms2[t]! + (2 * dots[t]! + dim);
    const nt = norms2[t]!;
    den[t] = nt > 0 ? qn * Math.sqrt(nt) : 0;
    if (sub) {
      if (packed) addRowAt(packed, (rival >> 1) * dim, dim, np, rival & 1 ? -PAIR : -1);
      else addRowAt(counters, rival * dim, dim, np, -1);
      bound[rival] = bound[rival]! + 1;
      totals[rival] = totals[rival]! - change;
      norms2[rival] = norms2[rival]! + (-2 * dots[rival]! + dim);
      const nr = norms2[rival]!;
      den[rival] = nr > 0 ? qn * Math.sqrt(nr) : 0;
    }
  }
  if (packed) unpack(packed);
  stats[0] = stats[0]! + errors;
  stats[1] = stats[1]! + updates;
  // Kept for the next epoch of an ordinary layer; a huge one (over 8 MiB) is let go, so one large
  // refine does not hold its scratch for the life of the process.
  if (refinePacked.byteLength > SCRATCH_KEEP) refinePacked = new Float64Array(0);
  if (refinePos.byteLength > SCRATCH_KEEP) refinePos = new Int32Array(0);
  if (refineClass.byteLength > SCRATCH_KEEP) refineClass = new Float64Array(0);
}

/** The TypeScript backend's kernels, bit-identical to the native scalar kernels. */
export const jsKernels: CoreKernels = {
  randomHV: randomHVInto,
  bind,
  hamming1xN,
  hammingMxN,
  topK,
  bundle,
  bundleWeighted,
  accAdd,
  threshold,
  dotCounters,
  permute,
  dotsOne,
  rowAdd,
  refineOnline,
};
