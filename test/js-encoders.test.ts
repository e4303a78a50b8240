/**
 * The pure-JavaScript level encoders of bench/js-encoders.mjs, the peers the TypeScript backend's
 * speed is compared with, give the backend's encodeLevels bits exactly; and the backend gives
 * those of a per-bit oracle that shares nothing with either (counts as plain integers, bins from
 * the one-value bin()). Inputs cover what breaks blocked, bit-sliced code: feature counts around
 * every block size and padding threshold, odd and even counts (ties, with and without a
 * tie-breaker), D not a multiple of 32 or 64, one or an odd number of rows, values on bin edges,
 * flat, inverted and overflowing ranges, both float types.
 */
import { describe, expect, it } from 'vitest';
import { STRATEGIES } from '../bench/js-encoders.mjs';
import { jsBackend } from '../lib/backend/index.js';
import { clearPadding, prng, randomRows, stride } from './helpers.js';

type Encode = typeof jsBackend.encodeLevels;
const strategies = Object.entries(STRATEGIES as Record<string, Encode>);

interface Case {
  x: Float32Array | Float64Array;
  n: number;
  features: number;
  lo: Float64Array;
  hi: Float64Array;
  bins: number;
  levels: Uint32Array;
  levelCount: number;
  positions: Uint32Array;
  dim: number;
  tie: Uint32Array | null;
}

function run(fn: Encode, c: Case): { status: number; out: Uint32Array } {
  const out = new Uint32Array(c.n * stride(c.dim));
  const status = fn(c.x, c.n, c.features, c.lo, c.hi, c.bins, c.levels, c.levelCount, c.positions, c.dim, c.tie, out);
  return { status, out };
}

/** Bits of the majority, one bit at a time, with plain integer counts. */
function oracle(c: Case): Uint32Array {
  const len = stride(c.dim);
  const out = new Uint32Array(c.n * len);
  const bit = (a: Uint32Array, row: number, i: number) => ((a[row * len + (i >>> 5)] as number) >>> (i & 31)) & 1;
  for (let r = 0; r < c.n; r++) {
    const b = Array.from({ length: c.features }, (_, f) =>
      jsBackend.bin(c.x[r * c.features + f] as number, c.lo[f] as number, c.hi[f] as number, c.bins),
    );
    for (let i = 0; i < c.dim; i++) {
      let count = 0;
      for (let f = 0; f < c.features; f++) count += bit(c.levels, b[f] as number, i) ^ bit(c.positions, f, i);
      const tie = c.tie !== null && c.features % 2 === 0 && 2 * count === c.features ? bit(c.tie, 0, i) : 0;
      if (2 * count > c.features || tie)
        out[r * len + (i >>> 5)] = ((out[r * len + (i >>> 5)] as number) | (1 << (i & 31))) >>> 0;
    }
  }
  return out;
}

/** Random ranges (some flat or inverted) and values on edges, beside them, outside and inside. */
function makeCase(next: () => number, n: number, features: number, dim: number, bins: number, f32: boolean): Case {
  const lo = new Float64Array(features);
  const hi = new Float64Array(features);
  for (let f = 0; f < features; f++) {
    lo[f] = -1 - (next() % 3) + (next() % 1000) / 1000;
    const kind = next() % 16;
    hi[f] = kind === 0 ? lo[f]! : kind === 1 ? lo[f]! - 0.5 : lo[f]! + 0.25 + (next() % 4);
    if (kind === 2) {
      // hi - lo overflows: every edge but the first is infinite.
      lo[f] = -1e308;
      hi[f] = 1e308;
    }
  }
  const wide = f32 ? [-3e38, -1, 0, 1, 3e38] : [-1e308, -5e307, -1, 0, 1, 5e307, 1e308, 1.5e308];
  const x = new Float64Array(n * features);
  for (let i = 0; i < x.length; i++) {
    const a = lo[i % features]!;
    const b = hi[i % features]!;
    const step = (b - a) / bins;
    const edge = (next() % (bins + 1)) * step + a;
    const kind = next() % 5;
    if (!Number.isFinite(step)) x[i] = wide[next() % wide.length]!;
    else if (kind === 0) x[i] = edge;
    else if (kind === 1) x[i] = edge + (next() % 2 ? 1 : -1) * Math.max(Math.abs(edge), 1e-300) * Number.EPSILON;
    else if (kind === 2) x[i] = next() % 2 ? b + (next() % 100) : a - (next() % 100);
    else x[i] = a + ((b - a) * next()) / 2 ** 32;
  }
  const levelCount = bins + (next() % 3);
  return {
    x: f32 ? Float32Array.from(x) : x,
    n,
    features,
    lo,
    hi,
    bins,
    levels: randomRows(dim, levelCount, next),
    levelCount,
    positions: randomRows(dim, features, next),
    dim,
    tie: next() % 3 === 0 ? null : randomRows(dim, 1, next),
  };
}

const FEATURES = [1, 2, 3, 5, 6, 7, 8, 15, 16, 17, 21, 22, 31, 32, 33, 48, 64, 77, 128, 130];
const DIMS = [1, 31, 32, 33, 63, 64, 65, 100, 1000];

describe('pure-JavaScript level encoders (bench/js-encoders.mjs)', () => {
  it('has several strategies to compare with', () => {
    expect(strategies.length).toBeGreaterThanOrEqual(3);
  });

  it('every strategy gives the backend bits, and the backend the oracle bits', () => {
    const next = prng(2024);
    let compared = 0;
    for (const features of FEATURES) {
      for (let k = 0; k < 4; k++) {
        const dim = DIMS[next() % DIMS.length]!;
        const c = makeCase(next, 1 + (next() % 5), features, dim, 1 + (next() % 40), k % 2 === 0);
        const want = run(jsBackend.encodeLevels, c);
        expect(want.status).toBe(-1);
        expect(want.out, `backend vs oracle, ${features} features, D ${dim}`).toEqual(oracle(c));
        for (const [name, fn] of strategies) {
          const got = run(fn, c);
          expect(got.status, name).toBe(-1);
          expect(got.out, `${name}, ${features} features, D ${dim}, ${c.n} rows`).toEqual(want.out);
          compared++;
        }
      }
    }
    expect(compared).toBe(FEATURES.length * 4 * strategies.length);
  });

  it('agree at the benchmark sizes (D 10,000; 128 and 77 features; 100 bins)', () => {
    const next = prng(7);
    for (const features of [128, 77]) {
      for (const f32 of [true, false]) {
        const c = makeCase(next, 5, features, 10000, 100, f32);
        const want = run(jsBackend.encodeLevels, c);
        for (const [name, fn] of strategies) expect(run(fn, c).out, name).toEqual(want.out);
      }
    }
  });

  it('agree where every bit is a tie: the tie-breaker, or 0 without one', () => {
    // Two level rows, complements of each other; zero positions; half the features in each bin.
    const next = prng(99);
    for (const features of [2, 16, 22, 32, 64, 130]) {
      const dim = 65;
      const len = stride(dim);
      const levels = randomRows(dim, 2, next);
      for (let j = 0; j < len; j++) levels[len + j] = ~levels[j]! >>> 0;
      clearPadding(levels.subarray(len), dim);
      const x = new Float64Array(3 * features).map((_, i) => (i % 2 === 0 ? 0.25 : 0.75));
      for (const tie of [randomRows(dim, 1, next), null]) {
        const c: Case = {
          x,
          n: 3,
          features,
          lo: new Float64Array(features),
          hi: new Float64Array(features).fill(1),
          bins: 2,
          levels,
          levelCount: 2,
          positions: new Uint32Array(features * len),
          dim,
          tie,
        };
        const want = run(jsBackend.encodeLevels, c);
        const expected = new Uint32Array(3 * len);
        for (let r = 0; r < 3; r++) if (tie) expected.set(tie, r * len);
        expect(want.out).toEqual(expected);
        for (const [name, fn] of strategies) expect(run(fn, c).out, name).toEqual(want.out);
      }
    }
  });

  it('report the first non-finite value and write nothing', () => {
    const next = prng(5);
    const c = makeCase(next, 4, 33, 100, 10, false);
    (c.x as Float64Array)[70] = Number.NaN;
    (c.x as Float64Array)[90] = Number.POSITIVE_INFINITY;
    for (const [name, fn] of [['backend', jsBackend.encodeLevels] as const, ...strategies]) {
      const got = run(fn, c);
      expect(got.status, name).toBe(70);
      expect(
        got.out.every((w) => w === 0),
        name,
      ).toBe(true);
    }
  });
});
