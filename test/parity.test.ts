// Native (or WebAssembly, under HDGLUE_BACKEND=wasm) vs TypeScript, bit for bit, for every kernel
// (docs/ARCHITECTURE.md, invariant 3). The compiled side runs at the level HDGLUE_MAX_ISA selects;
// `npm test` repeats this file at every level the CPU has and on both wasm modules. Inputs: random
// rows and the edge cases that break bit-sliced and SIMD code.

import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { jsBackend } from '../lib/backend/index.js';
import { packageRoot } from '../lib/backend/native.js';
import type { Backend } from '../lib/backend/types.js';
import { prng, randomRows, stride } from './helpers.js';
import { tierUnderTest } from './tier.js';

const tier = tierUnderTest();
const native: Backend = tier.backend;
const js = jsBackend;

const DIMS = [1, 2, 31, 32, 33, 63, 64, 65, 127, 128, 129, 500, 512, 1000, 1025, 10000];
const COUNTS = [0, 1, 2, 3, 4, 7, 8, 16, 17, 33];
const BUNDLE_K = [0, 1, 2, 3, 4, 5, 6, 7, 8, 15, 16, 17, 31, 32, 33, 64, 65, 100, 127, 128, 129, 256, 257];

function both<T extends ArrayLike<number>>(make: () => T, run: (be: Backend, out: T) => void): [T, T] {
  const a = make();
  const b = make();
  run(native, a);
  run(js, b);
  return [a, b];
}

describe(`parity ${tier.name}(${native.isa}) vs js`, () => {
  it('reports the level HDGLUE_MAX_ISA asks for, capped by the CPU', () => {
    if (tier.name === 'wasm') {
      // Only scalar caps the wasm tier (it has one SIMD level); the engine here has SIMD.
      expect(native.detectedIsa).toBe('simd128');
      expect(native.isa).toBe(process.env.HDGLUE_MAX_ISA === 'scalar' ? 'scalar' : 'simd128');
      return;
    }
    const order = ['scalar', 'neon', 'avx2', 'avx512'];
    const cap = process.env.HDGLUE_MAX_ISA;
    let want = native.detectedIsa;
    if (cap && order.indexOf(cap) < order.indexOf(want)) want = cap;
    if (want === 'neon' && native.detectedIsa !== 'neon') want = 'scalar';
    expect(native.isa).toBe(want);
  });

  it('randomHV', () => {
    const enc = new TextEncoder();
    for (const dim of DIMS) {
      for (const [seed, name] of [
        [0n, ''],
        [42n, 'abc'],
        [2n ** 64n - 1n, 'ünïcødé ✓ 𝄞'],
        [123456789n, 'position/127'],
      ] as const) {
        const [a, b] = both(
          () => new Uint32Array(stride(dim)),
          (be, out) => be.randomHV(seed, enc.encode(name), dim, out),
        );
        expect(a).toEqual(b);
      }
    }
  });

  it('bind: one vector, broadcast over a batch, and batch by batch', () => {
    const next = prng(1);
    for (const dim of DIMS) {
      const w = stride(dim) / 2;
      for (const n of COUNTS) {
        const a = randomRows(dim, n, next);
        const b = randomRows(dim, n, next);
        const one = randomRows(dim, 1, next);
        for (const [src, st] of [
          [one, 0],
          [b, 1],
        ] as const) {
          const [x, y] = both(
            () => new Uint32Array(n * 2 * w),
            (be, out) => be.bind(a, src, st, n, w, out),
          );
          expect(x).toEqual(y);
        }
      }
    }
  });

  it('hamming 1 x N and M x N', () => {
    const next = prng(2);
    for (const dim of DIMS) {
      const w = stride(dim) / 2;
      for (const n of COUNTS) {
        const batch = randomRows(dim, n, next, n % 3 === 0 ? 0.5 : n % 3 === 1 ? 0.2 : 0.8);
        const q = randomRows(dim, 1, next);
        const [x, y] = both(
          () => new Uint32Array(n),
          (be, out) => be.hamming1xN(q, batch, n, w, out),
        );
        expect(x).toEqual(y);
        const m = n % 5;
        const qs = randomRows(dim, m, next);
        const [u, v] = both(
          () => new Uint32Array(m * n),
          (be, out) => be.hammingMxN(qs, m, batch, n, w, out),
        );
        expect(u).toEqual(v);
      }
    }
  });

  it('large scans split across threads give the single-thread results', () => {
    // Force several threads whatever the runner's core count; restored below.
    const raw = createRequire(import.meta.url)('node-gyp-build')(packageRoot) as {
      _setThreads(t: number): void;
      info(): { threads: number };
    };
    const before = raw.info().threads;
    raw._setThreads(4);
    const next = prng(8);
    const dim = 1000;
    const w = stride(dim) / 2;
    const n = 60001;
    const batch = randomRows(dim, n, next);
    const q = randomRows(dim, 3, next);
    const [x, y] = both(
      () => new Uint32Array(n),
      (be, out) => be.hamming1xN(q, batch, n, w, out),
    );
    expect(x).toEqual(y);
    const [u, v] = both(
      () => new Uint32Array(3 * n),
      (be, out) => be.hammingMxN(q, 3, batch, n, w, out),
    );
    expect(u).toEqual(v);
    for (const m of [1, 3]) {
      const [t1, t2] = both(
        () => new Uint32Array(2 * m * 7),
        (be, out) => be.topK(q, m, batch, n, w, 7, out.subarray(0, m * 7), out.subarray(m * 7)),
      );
      expect(t1).toEqual(t2);
    }
    raw._setThreads(before);
  });

  it('dot against counters stays exact past 2^22 bits, where the TypeScript sum changes method', () => {
    const next = prng(9);
    const dim = 2 ** 23 + 17;
    const hvs = randomRows(dim, 2, next);
    const counters = Int32Array.from({ length: dim }, () => 0x7fffffff - (next() & 0xff));
    const [x, y] = both(
      () => new Float64Array(2),
      (be, out) => be.dotCounters(hvs, 2, counters, 1, dim, out),
    );
    expect(x).toEqual(y);
  });

  it('top-k, with duplicate rows so equal distances test the index order', () => {
    const next = prng(3);
    for (const dim of [1, 63, 64, 65, 1000, 10000]) {
      const w = stride(dim) / 2;
      for (const n of [1, 2, 5, 300, 700]) {
        const batch = randomRows(dim, n, next);
        const s = stride(dim);
        for (let r = 0; r + 3 < n; r += 4) batch.copyWithin((r + 2) * s, r * s, (r + 1) * s);
        const m = 3;
        const q = randomRows(dim, m, next);
        for (const k of new Set([0, 1, 2, Math.floor(n / 2), n].filter((x) => x <= n))) {
          const [i1, i2] = both(
            () => new Uint32Array(m * k),
            (be, out) => be.topK(q, m, batch, n, w, k, out, new Uint32Array(m * k)),
          );
          const [d1, d2] = both(
            () => new Uint32Array(m * k),
            (be, out) => be.topK(q, m, batch, n, w, k, new Uint32Array(m * k), out),
          );
          expect(i1).toEqual(i2);
          expect(d1).toEqual(d2);
        }
      }
    }
  });

  it('bundle: counts 0..257, both tie rules, and all-ties batches', () => {
    const next = prng(4);
    for (const dim of DIMS) {
      const w = stride(dim) / 2;
      const tie = randomRows(dim, 1, next);
      for (const k of BUNDLE_K) {
        const batch = randomRows(dim, k, next, k % 3 === 0 ? 0.5 : k % 3 === 1 ? 0.2 : 0.8);
        for (const t of [tie, null]) {
          const [x, y] = both(
            () => new Uint32Array(2 * w),
            (be, out) => be.bundle(batch, k, w, t, out),
          );
          expect(x).toEqual(y);
        }
        if (k >= 2 && k % 2 === 0) {
          // Complementary pairs: every bit ties, so the result is the tie vector (or all +1).
          const s = 2 * w;
          for (let r = 0; r < k; r += 2) {
            for (let j = 0; j < s; j++) batch[(r + 1) * s + j] = ~(batch[r * s + j] as number) >>> 0;
            const row = batch.subarray((r + 1) * s, (r + 2) * s);
            const full = dim >>> 5;
            const rem = dim & 31;
            if (rem) row[full] = (row[full] as number) & ((1 << rem) - 1);
            row.fill(0, full + (rem ? 1 : 0));
          }
          const [x, y] = both(
            () => new Uint32Array(s),
            (be, out) => be.bundle(batch, k, w, tie, out),
          );
          expect(x).toEqual(y);
          expect(x).toEqual(tie);
          const [u, v] = both(
            () => new Uint32Array(s),
            (be, out) => be.bundle(batch, k, w, null, out),
          );
          expect(u).toEqual(v);
          expect(u.every((z) => z === 0)).toBe(true);
        }
      }
    }
  });

  it('weighted bundle, accumulate (wrapping), threshold and dot against counters', () => {
    const next = prng(5);
    for (const dim of DIMS) {
      const w = stride(dim) / 2;
      const tie = randomRows(dim, 1, next);
      for (const n of COUNTS) {
        const batch = randomRows(dim, n, next);
        const weights = Int32Array.from({ length: n }, () => (next() % 21) - 10);
        if (n > 2) {
          weights[0] = 0x7fffffff;
          weights[1] = -0x80000000;
        }
        if (n > 0) {
          for (const t of [tie, null]) {
            const [x, y] = both(
              () => new Uint32Array(2 * w),
              (be, out) => be.bundleWeighted(batch, n, dim, weights, t, out),
            );
            expect(x).toEqual(y);
          }
        }
        const start = Int32Array.from({ length: dim }, () => (next() % 9) - 4);
        for (const wt of [weights, null]) {
          const [c1, c2] = both(
            () => start.slice(),
            (be, out) => be.accAdd(out, dim, batch, n, wt),
          );
          expect(c1).toEqual(c2);
        }
        const m = 3;
        const rows = Int32Array.from({ length: m * dim }, () => (next() % 5) - 2);
        for (const t of [tie, null]) {
          const [x, y] = both(
            () => new Uint32Array(m * 2 * w),
            (be, out) => be.threshold(rows, m, dim, t, out),
          );
          expect(x).toEqual(y);
        }
        const big = Int32Array.from({ length: m * dim }, () => next() | 0);
        const [d1, d2] = both(
          () => new Float64Array(n * m),
          (be, out) => be.dotCounters(batch, n, big, m, dim, out),
        );
        expect(d1).toEqual(d2);
        expect(d1.every(Number.isInteger)).toBe(true);
      }
    }
  });

  it('permute by any k, including negative and beyond dim', () => {
    const next = prng(6);
    for (const dim of DIMS) {
      const input = randomRows(dim, 3, next);
      for (const k of [
        0,
        1,
        -1,
        31,
        32,
        33,
        63,
        64,
        65,
        dim,
        -dim,
        3 * dim + 5,
        -7,
        12345,
        2 ** 40 + 3,
        -(2 ** 53 - 1),
      ]) {
        const [x, y] = both(
          () => new Uint32Array(3 * stride(dim)),
          (be, out) => be.permute(input, 3, dim, k, out),
        );
        expect(x).toEqual(y);
      }
    }
  });

  it('async kernels give the sync results', async () => {
    const next = prng(7);
    const dim = 10000;
    const w = stride(dim) / 2;
    const n = 1000;
    const batch = randomRows(dim, n, next);
    const q = randomRows(dim, 4, next);
    for (const be of [native, js]) {
      const s1 = new Uint32Array(n);
      const a1 = new Uint32Array(n);
      be.hamming1xN(q, batch, n, w, s1);
      await be.hamming1xNAsync(q, batch, n, w, a1);
      expect(a1).toEqual(s1);
      const s2 = new Uint32Array(4 * n);
      const a2 = new Uint32Array(4 * n);
      be.hammingMxN(q, 4, batch, n, w, s2);
      await be.hammingMxNAsync(q, 4, batch, n, w, a2);
      expect(a2).toEqual(s2);
      const si = new Uint32Array(40);
      const sd = new Uint32Array(40);
      const ai = new Uint32Array(40);
      const ad = new Uint32Array(40);
      be.topK(q, 4, batch, n, w, 10, si, sd);
      await be.topKAsync(q, 4, batch, n, w, 10, ai, ad);
      expect([ai, ad]).toEqual([si, sd]);
      const sb = new Uint32Array(2 * w);
      const ab = new Uint32Array(2 * w);
      be.bundle(batch, 128, w, null, sb);
      await be.bundleAsync(batch, 128, w, null, ab);
      expect(ab).toEqual(sb);
      const sc = new Int32Array(dim);
      const ac = new Int32Array(dim);
      be.accAdd(sc, dim, batch, n, null);
      await be.accAddAsync(ac, dim, batch, n, null);
      expect(ac).toEqual(sc);
      const sdot = new Float64Array(4);
      const adot = new Float64Array(4);
      be.dotCounters(q, 4, sc, 1, dim, sdot);
      await be.dotCountersAsync(q, 4, sc, 1, dim, adot);
      expect(adot).toEqual(sdot);
    }
  });
});
