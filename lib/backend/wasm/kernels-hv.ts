/**
 * The WebAssembly backend's kernels over packed rows: random HVs, bind, Hamming, top-k, bundles
 * and permutation. Each copies its inputs into the module's arena (streaming long batches in row
 * chunks), calls the core and copies the outputs back; results are the core's, bit for bit.
 * @internal
 */
import { ErrorCode, HdglueError, rangeError } from '../../errors.js';
import type { Kernels } from '../types.js';
import type { WasmCore } from './core.js';
import { chunkRows, need, part, place } from './marshal.js';

/** Builds the kernels of this file over one core instance. */
export function hvKernels(
  core: WasmCore,
): Pick<Kernels, 'randomHV' | 'bind' | 'hamming1xN' | 'hammingMxN' | 'topK' | 'bundle' | 'bundleWeighted' | 'permute'> {
  return {
    randomHV(seed, name, dim, out) {
      const len = 2 * Math.ceil(dim / 64);
      need(out, len, 'out');
      const [pn, po] = place(core, [name.length, len * 4]) as [number, number];
      core.bytes().set(name, pn);
      core.call((x) => x.hdgw_random_hv(BigInt.asUintN(64, seed), pn, name.length, dim, po));
      core.get(po, out, len);
    },

    bind(a, b, bStride, n, words, out) {
      const s = 2 * words;
      need(a, n * s, 'a');
      need(b, (bStride ? n : 1) * s, 'b');
      need(out, n * s, 'out');
      const rows = chunkRows(s * 4 * (bStride ? 3 : 2), n);
      const [pb, pa, po] = place(core, [(bStride ? rows : 1) * s * 4, rows * s * 4, rows * s * 4]) as [
        number,
        number,
        number,
      ];
      if (!bStride) core.put(pb, b, s);
      for (let r0 = 0; r0 < n; r0 += rows) {
        const m = Math.min(rows, n - r0);
        core.put(pa, part(a, r0 * s, m * s), m * s);
        if (bStride) core.put(pb, part(b, r0 * s, m * s), m * s);
        core.call((x) => x.hdgw_bind(pa, pb, bStride, m, words, po));
        core.get(po, out, m * s, r0 * s);
      }
    },

    hamming1xN(q, batch, n, words, out) {
      const s = 2 * words;
      need(q, s, 'query');
      need(batch, n * s, 'batch');
      need(out, n, 'out');
      const rows = chunkRows(s * 4, n);
      const [pq, pb, po] = place(core, [s * 4, rows * s * 4, rows * 4]) as [number, number, number];
      core.put(pq, q, s);
      for (let r0 = 0; r0 < n; r0 += rows) {
        const m = Math.min(rows, n - r0);
        core.put(pb, part(batch, r0 * s, m * s), m * s);
        core.call((x) => x.hdgw_hamming_1xn(pq, pb, m, words, po));
        core.get(po, out, m, r0);
      }
    },

    hammingMxN(a, m, b, n, words, out) {
      const s = 2 * words;
      need(a, m * s, 'a');
      need(b, n * s, 'b');
      need(out, m * n, 'out');
      // Both sides in chunks: each b chunk is copied once per a chunk, which is little beside the
      // (a chunk x b chunk) distances computed from it. The a chunk is also bounded by the
      // distances block (a rows x b rows x 4 bytes), which short rows would otherwise make huge.
      const bRows = chunkRows(s * 4, n);
      const aRows = Math.min(chunkRows(s * 4, m), chunkRows(bRows * 4, m));
      const [pa, pb, po] = place(core, [aRows * s * 4, bRows * s * 4, aRows * bRows * 4]) as [number, number, number];
      for (let i0 = 0; i0 < m; i0 += aRows) {
        const ma = Math.min(aRows, m - i0);
        core.put(pa, part(a, i0 * s, ma * s), ma * s);
        for (let r0 = 0; r0 < n; r0 += bRows) {
          const nb = Math.min(bRows, n - r0);
          core.put(pb, part(b, r0 * s, nb * s), nb * s);
          core.call((x) => x.hdgw_hamming_mxn(pa, ma, pb, nb, words, po));
          for (let i = 0; i < ma; i++) core.get(po + i * nb * 4, out, nb, (i0 + i) * n + r0);
        }
      }
    },

    topK(queries, m, batch, n, words, k, outIdx, outDist) {
      const s = 2 * words;
      need(queries, m * s, 'queries');
      need(batch, n * s, 'batch');
      need(outIdx, m * k, 'outIdx');
      need(outDist, m * k, 'outDist');
      // As the addon checks it: the heaps would otherwise hold rows past the batch.
      if (k > n) throw rangeError(ErrorCode.OUT_OF_RANGE, 'k must not exceed the batch count');
      // The k best of the whole batch: it goes in whole (the heaps live in the outputs).
      const [pq, pb, pi, pd] = place(core, [m * s * 4, n * s * 4, m * k * 4, m * k * 4]) as [
        number,
        number,
        number,
        number,
      ];
      core.put(pq, queries, m * s);
      core.put(pb, batch, n * s);
      core.call((x) => x.hdgw_topk(pq, m, pb, n, words, k, pi, pd));
      core.get(pi, outIdx, m * k);
      core.get(pd, outDist, m * k);
    },

    bundle(batch, k, words, tie, out) {
      const s = 2 * words;
      need(batch, k * s, 'batch');
      need(out, s, 'out');
      if (tie) need(tie, s, 'tie');
      const [pb, pt, po] = place(core, [k * s * 4, tie ? s * 4 : 0, s * 4]) as [number, number, number];
      core.put(pb, batch, k * s);
      if (tie) core.put(pt, tie, s);
      core.call((x) => x.hdgw_bundle(pb, k, words, tie ? pt : 0, po));
      core.get(po, out, s);
    },

    bundleWeighted(batch, k, dim, weights, tie, out) {
      const s = 2 * Math.ceil(dim / 64);
      need(batch, k * s, 'batch');
      need(weights, k, 'weights');
      need(out, s, 'out');
      if (tie) need(tie, s, 'tie');
      const [pb, pw, pt, po] = place(core, [k * s * 4, k * 4, tie ? s * 4 : 0, s * 4]) as [
        number,
        number,
        number,
        number,
      ];
      core.put(pb, batch, k * s);
      core.put(pw, weights, k);
      if (tie) core.put(pt, tie, s);
      const st = core.call((x) => x.hdgw_bundle_weighted(pb, k, dim, pw, tie ? pt : 0, po));
      if (st !== 0) throw new HdglueError(ErrorCode.OUT_OF_MEMORY, 'hdglue: out of memory in bundleWeighted');
      core.get(po, out, s);
    },

    permute(input, n, dim, k, out) {
      const s = 2 * Math.ceil(dim / 64);
      need(input, n * s, 'input');
      need(out, n * s, 'out');
      const rows = chunkRows(s * 8, n);
      const [pi, po] = place(core, [rows * s * 4, rows * s * 4]) as [number, number];
      for (let r0 = 0; r0 < n; r0 += rows) {
        const m = Math.min(rows, n - r0);
        core.put(pi, part(input, r0 * s, m * s), m * s);
        core.call((x) => x.hdgw_permute(pi, m, dim, k, po));
        core.get(po, out, m * s, r0 * s);
      }
    },
  };
}
