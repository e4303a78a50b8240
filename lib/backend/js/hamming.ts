/**
 * Hamming distances and top-k search of the TypeScript backend, bit for bit the scalar C++ kernels
 * (native/core/kernels_scalar.cc, hdg_topk in native/core/ops.cc). Every 64-bit word is handled as
 * its two little-endian 32-bit halves, which is exact: XOR and popcount do not carry across bits.
 *
 * Hot loops are written for V8: monomorphic typed-array access, state in locals, no closures,
 * no allocation per row.
 *
 * @internal Not exported from the package.
 */
import { popcount32 } from '../../bits.js';

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

/** out[r] = popcount(q ^ batch[r]) (contract: Kernels.hamming1xN). */
export function hamming1xN(q: Uint32Array, batch: Uint32Array, n: number, words: number, out: Uint32Array): void {
  const len = words * 2;
  for (let r = 0; r < n; r++) out[r] = distance(q, batch, r * len, len);
}

/** out[i * n + r] = popcount(a[i] ^ b[r]) (contract: Kernels.hammingMxN). */
export function hammingMxN(
  a: Uint32Array,
  m: number,
  b: Uint32Array,
  n: number,
  words: number,
  out: Uint32Array,
): void {
  const len = words * 2;
  for (let i = 0; i < m; i++) {
    // A view at offset 0 keeps `distance` free of a second offset add per load.
    const q = a.subarray(i * len, i * len + len);
    const base = i * n;
    for (let r = 0; r < n; r++) out[base + r] = distance(q, b, r * len, len);
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

/** k nearest rows per query, ascending (distance, index), as hdg_topk (contract: Kernels.topK). */
export function topK(
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
