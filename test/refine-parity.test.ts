// Online refinement, native vs TypeScript, bit for bit (docs/ARCHITECTURE.md, invariant 3): the
// counters, the norms and the error/update counts of refineOnline, plus its two kernels dotsOne
// and rowAdd. The native side runs at every level this CPU has, switched in-process; `npm test`
// also repeats this file under each HDGLUE_MAX_ISA.

import { afterAll, describe, expect, it } from 'vitest';
import { jsBackend } from '../lib/backend/index.js';
import type { Backend } from '../lib/backend/types.js';
import { exactSquaredNorms, prng, randomRows, stride } from './helpers.js';
import { tierUnderTest } from './tier.js';

// The native addon, or the WebAssembly core under HDGLUE_BACKEND=wasm (its one level).
const tier = tierUnderTest();
const native: Backend = tier.backend;
const js = jsBackend;
const raw = { _useIsa: tier.use };
const startIsa = tier.startIsa;
afterAll(() => raw._useIsa(startIsa));

/** The levels to compare: every one this CPU has, up to the HDGLUE_MAX_ISA cap the run asked for. */
function levels(): string[] {
  return tier.levels();
}

/** Rows near one of m class prototypes (each bit flipped with probability `noise`), so that some rows are
 * classified right with small leads and the margin decides; noise 0.5 gives plain random rows. */
function classRows(dim: number, n: number, m: number, noise: number, next: () => number) {
  const s = stride(dim);
  const protos = randomRows(dim, m, next);
  const rows = randomRows(dim, n, next);
  const truth = new Int32Array(n);
  // A bit keeps the prototype's value with probability 1 - 2 noise and is fresh random otherwise,
  // so it differs from the prototype with probability noise.
  const cut = Math.floor(2 * noise * 2 ** 32);
  for (let r = 0; r < n; r++) {
    const t = next() % m;
    truth[r] = t;
    for (let j = 0; j < s; j++) {
      // Keep the prototype's bit where a fresh random draw says so, else the random row's bit.
      let keep = 0;
      for (let b = 0; b < 32; b++) if (next() >= cut) keep |= 1 << b;
      const v = ((protos[t * s + j]! & keep) | (rows[r * s + j]! & ~keep)) >>> 0;
      rows[r * s + j] = v;
    }
  }
  // randomRows cleared the padding of both sources, so the mix has none either.
  return { rows, truth };
}

/** Clears the bits at and above dim in each of n rows (they must be zero in every input). */
function clearTail(rows: Uint32Array, dim: number, n: number): void {
  const s = stride(dim);
  for (let r = 0; r < n; r++) {
    for (let b = dim; b < s * 32; b++) rows[r * s + (b >>> 5)] = rows[r * s + (b >>> 5)]! & ~(1 << (b & 31));
  }
}

/** Counters of a plain fit (the rows summed per class), optionally shifted by `offset` (all of one row). */
function plainFit(be: Backend, rows: Uint32Array, truth: Int32Array, n: number, m: number, dim: number, offset = 0) {
  const counters = new Int32Array(m * dim);
  const s = stride(dim);
  for (let r = 0; r < n; r++) {
    const t = truth[r]!;
    be.accAdd(counters.subarray(t * dim, (t + 1) * dim), dim, rows.subarray(r * s, (r + 1) * s), 1, null);
  }
  if (offset !== 0) for (let q = 0; q < counters.length; q++) counters[q] = counters[q]! + offset;
  return counters;
}

/** Byte-for-byte equality of two typed arrays (toEqual walks large arrays element by element, slowly); on a
 * difference, the first differing entry is reported. */
function expectSame(got: Int32Array | Float64Array, want: Int32Array | Float64Array, label: string): void {
  const a = Buffer.from(got.buffer, got.byteOffset, got.byteLength);
  const b = Buffer.from(want.buffer, want.byteOffset, want.byteLength);
  if (a.equals(b)) return;
  const i = got.findIndex((v, j) => !Object.is(v, want[j]));
  expect({ index: i, got: got[i] }, label).toEqual({ index: i, got: want[i] });
  expect(got.length, label).toBe(want.length);
}

interface Case {
  dim: number;
  m: number;
  n: number;
  count: number;
  noise: number;
  margin: number;
  adapt: 0 | 1;
  offset: number;
  seed: number;
}

/** Runs one case on the TypeScript backend and on every native level; all must agree exactly. */
function check(c: Case): void {
  const next = prng(c.seed);
  const { rows, truth } = classRows(c.dim, c.n, c.m, c.noise, next);
  const start = plainFit(js, rows, truth, c.n, c.m, c.dim, c.offset);
  // Random order with repeats (and rows never visited).
  const order = Uint32Array.from({ length: c.count }, () => next() % c.n);
  const n2 = exactSquaredNorms(start, c.m, c.dim);
  const run = (be: Backend) => {
    const counters = start.slice();
    const norms2 = n2.slice();
    const stats = new Float64Array([5, 7]);
    be.refineOnline(rows, c.n, c.dim, truth, order, c.count, counters, c.m, norms2, c.margin, c.adapt, stats);
    return { counters, norms2, stats };
  };
  const want = run(js);
  const label = JSON.stringify({ ...c, margin: String(c.margin) });
  // The norms stay the exact sums of squares while those stay below 2^53 (the inputs were exact).
  const exact = exactSquaredNorms(want.counters, c.m, c.dim);
  if (exact.every((v) => v < 2 ** 53)) expectSame(want.norms2, exact, label);
  expect(want.stats[1]! - 7, label).toBeLessThanOrEqual(c.count);
  for (const isa of levels()) {
    raw._useIsa(isa);
    const got = run(native);
    expectSame(got.counters, want.counters, `${label} at ${isa}`);
    expectSame(got.norms2, want.norms2, `${label} at ${isa}`);
    expectSame(got.stats, want.stats, `${label} at ${isa}`);
  }
  raw._useIsa(startIsa);
}

describe(`online refinement parity, ${tier.name} (${levels().join(', ')}) vs js`, () => {
  it('refineOnline: dims 1 to 10,000, 1 to 26 classes, margins, adapt on and off', () => {
    let seed = 100;
    for (const dim of [1, 63, 64, 65, 1000, 10000]) {
      for (const m of [1, 2, 10, 26]) {
        const big = dim * m > 100000;
        for (const margin of [0, 0.05, 0.3, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
          for (const adapt of [0, 1] as const) {
            if (big && (margin === 0.3 || margin === Number.NEGATIVE_INFINITY)) continue;
            const n = big ? 40 : 90;
            check({
              dim,
              m,
              n,
              count: big ? 60 : 200,
              noise: dim < 64 ? 0.3 : 0.5 - 0.25 / Math.sqrt(dim),
              margin,
              adapt,
              offset: 0,
              seed: seed++,
            });
          }
        }
      }
    }
  });

  it('refineOnline on random rows (mostly errors) and with every visit a repeat', () => {
    for (const [dim, m] of [
      [10000, 10],
      [1000, 10],
      [65, 26],
    ] as const) {
      check({ dim, m, n: 120, count: 300, noise: 0.5, margin: 0.1, adapt: 1, offset: 0, seed: 7 });
      check({ dim, m, n: 3, count: 50, noise: 0.4, margin: 0.2, adapt: 1, offset: 0, seed: 8 });
    }
  });

  it('refineOnline with counters that cross the limits of the fast paths mid-epoch', () => {
    // Offsets put every counter just inside a limit, so the updates push some past it and the
    // implementation changes method: native int16 counters (32767), native dots_one (2^24), the
    // TypeScript packed pairs (2^25 / dim). The results must not show it.
    const packedLimit = (dim: number) => Math.floor((2 ** 25 - 1) / dim) - 60;
    for (const offset of [32767 - 60, -(32767 - 60), 2 ** 24 - 60, -(2 ** 31 - 1000), 0]) {
      for (const adapt of [0, 1] as const) {
        const o129 = offset === 0 ? packedLimit(129) : offset;
        check({ dim: 129, m: 3, n: 30, count: 200, noise: 0.45, margin: 0.5, adapt, offset: o129, seed: 11 + adapt });
        check({
          dim: 2000,
          m: 10,
          n: 30,
          count: 120,
          noise: 0.45,
          margin: Number.POSITIVE_INFINITY,
          adapt,
          offset: offset === 0 ? -packedLimit(2000) : offset,
          seed: 13 + adapt,
        });
      }
    }
  });

  it('refineOnline on all -1 rows, where every counter sum reaches the packed limit of the TypeScript twin', () => {
    // Sums over every bit (all are set) of counters growing past 2^25 / dim: the twin must leave its
    // packed pairs before a sum reaches 2^25. Class 0 is right every time and the infinite margin
    // updates it (more negative) and its rival (more positive) at each visit.
    for (const dim of [129, 1000]) {
      const m = 3;
      const limit = Math.floor((2 ** 25 - 1) / dim);
      const s = stride(dim);
      const rows = randomRows(dim, 2, prng(41));
      for (let j = 0; j < 2 * s; j++) rows[j] = 0xffffffff;
      clearTail(rows, dim, 2);
      const truth = new Int32Array(2);
      const order = Uint32Array.from({ length: 40 }, (_, e) => e % 2);
      const start = new Int32Array(m * dim);
      for (let i = 0; i < dim; i++) {
        start[i] = -(limit - 5);
        start[dim + i] = limit - 5;
        start[2 * dim + i] = limit - 30;
      }
      const n2 = exactSquaredNorms(start, m, dim);
      const results = [js, ...levels()].map((be) => {
        if (typeof be === 'string') raw._useIsa(be);
        const b = typeof be === 'string' ? native : be;
        const counters = start.slice();
        const norms2 = n2.slice();
        const stats = new Float64Array(2);
        b.refineOnline(rows, 2, dim, truth, order, 40, counters, m, norms2, Number.POSITIVE_INFINITY, 1, stats);
        return { counters, norms2, stats };
      });
      raw._useIsa(startIsa);
      expect(results[0]!.stats).toEqual(new Float64Array([0, 40]));
      expect(results[0]!.counters[0]).toBe(-(limit - 5) - 40);
      for (const r of results.slice(1)) {
        expectSame(r.counters, results[0]!.counters, `dim=${dim}`);
        expectSame(r.norms2, results[0]!.norms2, `dim=${dim}`);
      }
    }
  });

  it('refineOnline with zero rows (empty classes score 0) and count 0', () => {
    const dim = 100;
    const m = 4;
    const next = prng(21);
    const rows = randomRows(dim, 5, next);
    const truth = Int32Array.from([0, 1, 2, 3, 0]);
    const order = Uint32Array.from([0, 1, 2, 3, 4, 4, 0]);
    for (const count of [0, 7]) {
      const results = [js, ...levels().map((l) => l)].map((be) => {
        if (typeof be === 'string') raw._useIsa(be);
        const b = typeof be === 'string' ? native : be;
        const counters = new Int32Array(m * dim);
        const norms2 = new Float64Array(m);
        const stats = new Float64Array(2);
        b.refineOnline(rows, 5, dim, truth, order, count, counters, m, norms2, 0, 1, stats);
        return { counters, norms2, stats };
      });
      raw._useIsa(startIsa);
      for (const r of results.slice(1)) expect(r).toEqual(results[0]);
      if (count === 0)
        expect(results[0]).toEqual({
          counters: new Int32Array(m * dim),
          norms2: new Float64Array(m),
          stats: new Float64Array(2),
        });
      // All classes start empty and score 0, so class 0 wins every tie: row 0 is right (lead 0 is
      // not below margin 0), row 1 is an error that updates classes 1 and 0.
      else expect(results[0]!.stats[0]).toBeGreaterThan(0);
    }
  });

  it('dotsOne and rowAdd', () => {
    const next = prng(31);
    for (const dim of [1, 31, 32, 63, 64, 65, 1000, 10000]) {
      const hv = randomRows(dim, 1, next);
      for (const m of [1, 2, 10, 26]) {
        for (const scale of [5, 2 ** 24 - 1, 2 ** 31]) {
          // Counters up to the dots_one bound and past it (the addon then takes the general kernel).
          const counters = Int32Array.from({ length: m * dim }, () => (next() % (2 * scale)) - scale + 1);
          const want = new Float64Array(m);
          js.dotsOne(hv, counters, m, dim, want);
          for (const isa of levels()) {
            raw._useIsa(isa);
            const got = new Float64Array(m);
            native.dotsOne(hv, counters, m, dim, got);
            expect(got, `dotsOne dim=${dim} m=${m} scale=${scale} at ${isa}`).toEqual(want);
          }
        }
      }
      for (const w of [1, -1] as const) {
        const row = Int32Array.from({ length: dim + 2 }, (_, i) =>
          i % 3 === 0 ? 0x7fffffff : i % 3 === 1 ? -0x80000000 : next() | 0,
        );
        const want = row.slice();
        js.rowAdd(want.subarray(1, 1 + dim), dim, hv, w);
        for (const isa of levels()) {
          raw._useIsa(isa);
          const got = row.slice();
          native.rowAdd(got.subarray(1, 1 + dim), dim, hv, w);
          expect(got, `rowAdd dim=${dim} w=${w} at ${isa}`).toEqual(want);
        }
      }
    }
    raw._useIsa(startIsa);
  });
});
