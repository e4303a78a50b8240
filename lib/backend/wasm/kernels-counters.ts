/**
 * The WebAssembly backend's counter kernels: adding rows to class counters, thresholding them,
 * their dots with HVs, and the online refinement epoch. As in kernels-hv.ts, inputs are copied
 * into the module's arena (batches in row chunks) and outputs copied back.
 * @internal
 */
import { ErrorCode, HdglueError, rangeError } from '../../errors.js';
import type { Kernels } from '../types.js';
import type { WasmCore } from './core.js';
import { chunkRows, need, part, place } from './marshal.js';

/** Builds the kernels of this file over one core instance. */
export function counterKernels(
  core: WasmCore,
): Pick<Kernels, 'accAdd' | 'threshold' | 'dotCounters' | 'dotsOne' | 'rowAdd' | 'refineOnline'> {
  return {
    accAdd(counters, dim, batch, n, weights) {
      const s = 2 * Math.ceil(dim / 64);
      need(counters, dim, 'counters');
      need(batch, n * s, 'batch');
      if (weights) need(weights, n, 'weights');
      const rows = chunkRows(s * 4 + 4, n);
      const [pc, pb, pw] = place(core, [dim * 4, rows * s * 4, weights ? rows * 4 : 0]) as [number, number, number];
      core.put(pc, counters, dim);
      for (let r0 = 0; r0 < n; r0 += rows) {
        const m = Math.min(rows, n - r0);
        core.put(pb, part(batch, r0 * s, m * s), m * s);
        if (weights) core.put(pw, part(weights, r0, m), m);
        core.call((x) => x.hdgw_acc_add(pc, dim, pb, m, weights ? pw : 0));
      }
      core.get(pc, counters, dim);
    },

    threshold(counters, m, dim, tie, out) {
      const s = 2 * Math.ceil(dim / 64);
      need(counters, m * dim, 'counters');
      need(out, m * s, 'out');
      if (tie) need(tie, s, 'tie');
      const rows = chunkRows(dim * 4 + s * 4, m);
      const [pt, pc, po] = place(core, [tie ? s * 4 : 0, rows * dim * 4, rows * s * 4]) as [number, number, number];
      if (tie) core.put(pt, tie, s);
      for (let r0 = 0; r0 < m; r0 += rows) {
        const k = Math.min(rows, m - r0);
        core.put(pc, part(counters, r0 * dim, k * dim), k * dim);
        core.call((x) => x.hdgw_threshold(pc, k, dim, tie ? pt : 0, po));
        core.get(po, out, k * s, r0 * s);
      }
    },

    dotCounters(hvs, n, counters, m, dim, out) {
      const s = 2 * Math.ceil(dim / 64);
      need(hvs, n * s, 'hvs');
      need(counters, m * dim, 'counters');
      need(out, n * m, 'out');
      const rows = chunkRows(s * 4 + m * 8, n);
      const [pc, ph, po] = place(core, [m * dim * 4, rows * s * 4, rows * m * 8]) as [number, number, number];
      core.put(pc, counters, m * dim);
      for (let r0 = 0; r0 < n; r0 += rows) {
        const k = Math.min(rows, n - r0);
        core.put(ph, part(hvs, r0 * s, k * s), k * s);
        core.call((x) => x.hdgw_dot_counters(ph, k, pc, m, dim, po));
        core.get(po, out, k * m, r0 * m);
      }
    },

    dotsOne(hv, counters, m, dim, out) {
      const s = 2 * Math.ceil(dim / 64);
      need(hv, s, 'hv');
      need(counters, m * dim, 'counters');
      need(out, m, 'out');
      const [ph, pc, po] = place(core, [s * 4, m * dim * 4, m * 8]) as [number, number, number];
      core.put(ph, hv, s);
      core.put(pc, counters, m * dim);
      core.call((x) => x.hdgw_dots_one(ph, pc, m, dim, po));
      core.get(po, out, m);
    },

    rowAdd(counters, dim, hv, w) {
      const s = 2 * Math.ceil(dim / 64);
      need(counters, dim, 'counters');
      need(hv, s, 'hv');
      const [pc, ph] = place(core, [dim * 4, s * 4]) as [number, number];
      core.put(pc, counters, dim);
      core.put(ph, hv, s);
      core.call((x) => x.hdgw_row_add(pc, dim, ph, w));
      core.get(pc, counters, dim);
    },

    refineOnline(hvs, n, dim, truth, order, count, counters, m, norms2, margin, adapt, stats) {
      const s = 2 * Math.ceil(dim / 64);
      need(hvs, n * s, 'hvs');
      need(truth, n, 'truth');
      need(order, count, 'order');
      need(counters, m * dim, 'counters');
      need(norms2, m, 'norms2');
      need(stats, 2, 'stats');
      // Every index the core reads through is checked first, as the addon does: inside the module
      // a bad one would read other data silently rather than fault.
      for (let e = 0; e < count; e++) {
        if ((order[e] as number) >= n) {
          throw rangeError(ErrorCode.OUT_OF_RANGE, `order[${e}] = ${order[e]} is not a row index below n = ${n}`);
        }
      }
      for (let i = 0; i < n; i++) {
        const t = truth[i] as number;
        if (t < 0 || t >= m) {
          throw rangeError(ErrorCode.OUT_OF_RANGE, `truth[${i}] = ${t} is not a class index below m = ${m}`);
        }
      }
      // One epoch sees every row in any order: the rows go in whole.
      const [ph, pt, po, pc, pn, ps] = place(core, [n * s * 4, n * 4, count * 4, m * dim * 4, m * 8, 16]) as [
        number,
        number,
        number,
        number,
        number,
        number,
      ];
      core.put(ph, hvs, n * s);
      core.put(pt, truth, n);
      core.put(po, order, count);
      core.put(pc, counters, m * dim);
      core.put(pn, norms2, m);
      core.put(ps, stats, 2);
      const st = core.call((x) => x.hdgw_refine_online(ph, n, dim, pt, po, count, pc, m, pn, margin, adapt, ps));
      if (st !== 0) throw new HdglueError(ErrorCode.OUT_OF_MEMORY, 'hdglue: out of memory in refineOnline');
      core.get(pc, counters, m * dim);
      core.get(pn, norms2, m);
      core.get(ps, stats, 2);
    },
  };
}
