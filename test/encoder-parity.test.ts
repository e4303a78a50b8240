// Native vs TypeScript encoders, bit for bit, at the level HDGLUE_MAX_ISA selects (npm test
// runs this file at every level the CPU has), and both against numpy's own binning.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { jsBackend } from '../lib/backend/index.js';
import type { Backend } from '../lib/backend/types.js';
import { type LevelKind, levelVectors, randomBatch, tieBreaker } from '../lib/index.js';
import { prng } from './helpers.js';
import { tierUnderTest } from './tier.js';

// The native addon, or the WebAssembly core under HDGLUE_BACKEND=wasm.
const tier = tierUnderTest();
const native: Backend = tier.backend;

const fixture = JSON.parse(readFileSync(new URL('./fixtures/digitize.json', import.meta.url), 'utf8')) as {
  numpy: string;
  cases: { lo: number; hi: number; bins: number; values: number[]; expected: number[] }[];
};

describe(`encoder parity ${tier.name}(${native.isa}) vs js`, () => {
  it(`bins every value exactly as numpy ${fixture.numpy} does, edges and neighbouring doubles included`, () => {
    let checked = 0;
    for (const c of fixture.cases) {
      c.values.forEach((v, i) => {
        expect(native.bin(v, c.lo, c.hi, c.bins), `native ${v} in [${c.lo}, ${c.hi}] / ${c.bins}`).toBe(c.expected[i]);
        expect(jsBackend.bin(v, c.lo, c.hi, c.bins), `js ${v} in [${c.lo}, ${c.hi}] / ${c.bins}`).toBe(c.expected[i]);
        checked++;
      });
    }
    expect(checked).toBeGreaterThan(5000);
  });

  it('the encoders bin as numpy too (their own fast binning, through encodeLevels)', () => {
    // One feature, a zero position vector and distinct level rows: the output is the level row
    // of the bin, so it names the bin the encoder chose.
    for (const c of fixture.cases) {
      const dim = 64;
      const levels = levelVectors(dim, c.bins, 'random', { seed: 3 });
      const zero = new Uint32Array(2);
      const x = Float64Array.from(c.values);
      for (const be of [native, jsBackend]) {
        const out = new Uint32Array(x.length * 2);
        be.encodeLevels(
          x,
          x.length,
          1,
          Float64Array.of(c.lo),
          Float64Array.of(c.hi),
          c.bins,
          levels.data,
          c.bins,
          zero,
          dim,
          null,
          out,
        );
        c.expected.forEach((b, i) => {
          expect([out[2 * i], out[2 * i + 1]], `${be.name} ${c.values[i]} in [${c.lo}, ${c.hi}] / ${c.bins}`).toEqual([
            levels.data[2 * b],
            levels.data[2 * b + 1],
          ]);
        });
      }
    }
  });

  const next = prng(11);
  // Per feature: values on that feature's bin edges, one double beside them, outside its
  // range, and random inside it.
  function values(n: number, features: number, lo: Float64Array, hi: Float64Array, bins: number): Float64Array {
    const x = new Float64Array(n * features);
    for (let i = 0; i < x.length; i++) {
      const a = lo[i % features] as number;
      const b = hi[i % features] as number;
      const step = (b - a) / bins;
      const kind = next() % 5;
      const edge = (next() % (bins + 1)) * step + a;
      if (kind === 0) x[i] = edge;
      else if (kind === 1)
        x[i] = next() % 2 ? edge + Math.abs(edge) * Number.EPSILON : edge - Math.abs(edge) * Number.EPSILON;
      else if (kind === 2) x[i] = next() % 2 ? b + (next() % 100) : a - (next() % 100);
      else x[i] = a + ((b - a) * next()) / 2 ** 32;
    }
    return x;
  }

  for (const kind of ['random', 'level', 'circular'] as LevelKind[]) {
    it(`level encoder, ${kind} codebook: odd and even D, 1 to 300 features, both float types, both tie rules`, () => {
      for (const dim of [1, 63, 65, 1001, 10000]) {
        for (const features of [1, 2, 3, 16, 33, 128, 300]) {
          if (dim === 10000 && features === 300) continue;
          // The largest codebook each kind allows at this dim (every step must flip a bit).
          const most = kind === 'level' ? Math.floor(dim / 2) + 1 : kind === 'circular' ? dim : 40;
          const bins = 1 + (next() % Math.min(40, most));
          const levels = levelVectors(dim, bins, kind, { seed: 5 });
          const positions = randomBatch(
            dim,
            Array.from({ length: features }, (_, f) => `p${f}`),
            { seed: 5 },
          );
          const lo = Float64Array.from({ length: features }, () => -1 - (next() % 3));
          const hi = Float64Array.from({ length: features }, (_, f) => (lo[f] as number) + 0.5 + (next() % 4));
          const n = dim === 10000 ? 3 : 9;
          const x64 = values(n, features, lo, hi, bins);
          for (const x of [x64, Float32Array.from(x64)]) {
            for (const tie of [tieBreaker(dim, { seed: 5 }).data, null]) {
              const outs = [native, jsBackend].map((be) => {
                const out = new Uint32Array(n * 2 * Math.ceil(dim / 64));
                const r = be.encodeLevels(
                  x,
                  n,
                  features,
                  lo,
                  hi,
                  bins,
                  levels.data,
                  bins,
                  positions.data,
                  dim,
                  tie,
                  out,
                );
                expect(r).toBe(-1);
                return out;
              });
              expect(outs[0]).toEqual(outs[1]);
            }
          }
        }
      }
    });
  }

  it('projection encoder: exact integer sums agree, including zero sums (ties)', () => {
    for (const dim of [1, 64, 129, 10000]) {
      for (const features of [1, 2, 7, 64, 513]) {
        const signs = randomBatch(
          dim,
          Array.from({ length: features }, (_, f) => `s${f}`),
          { seed: 9 },
        );
        const mult = Float64Array.from({ length: features }, () => 32767 / (0.5 + (next() % 7)));
        const n = 4;
        const x = values(n, features, new Float64Array(features).fill(-3), new Float64Array(features).fill(3), 8);
        x.fill(0, 0, features); // an all-zero row: every sum is 0, a tie everywhere
        for (const tie of [tieBreaker(dim, { seed: 9 }).data, null]) {
          const outs = [native, jsBackend].map((be) => {
            const out = new Uint32Array(n * 2 * Math.ceil(dim / 64));
            expect(be.project(x, n, features, mult, signs.data, dim, tie, out)).toBe(-1);
            return out;
          });
          expect(outs[0]).toEqual(outs[1]);
          if (tie) expect(outs[0]?.subarray(0, 2 * Math.ceil(dim / 64))).toEqual(tie);
        }
      }
    }
  });

  it('large batches split over threads, and the async twins, give the same bits', async () => {
    const dim = 4096;
    const features = 64;
    const n = 600;
    const levels = levelVectors(dim, 50, 'level', { seed: 1 });
    const positions = randomBatch(
      dim,
      Array.from({ length: features }, (_, f) => `p${f}`),
      { seed: 1 },
    );
    const lo = new Float64Array(features).fill(-1);
    const hi = new Float64Array(features).fill(1);
    const x = values(n, features, lo, hi, 50);
    const len = n * 2 * Math.ceil(dim / 64);
    const run = (be: Backend) => {
      const out = new Uint32Array(len);
      be.encodeLevels(x, n, features, lo, hi, 50, levels.data, 50, positions.data, dim, null, out);
      return out;
    };
    const want = run(jsBackend);
    expect(run(native)).toEqual(want);
    for (const be of [native, jsBackend]) {
      const out = new Uint32Array(len);
      expect(
        await be.encodeLevelsAsync(x, n, features, lo, hi, 50, levels.data, 50, positions.data, dim, null, out),
      ).toBe(-1);
      expect(out).toEqual(want);
    }
  });

  it('both report the first non-finite value by its index and write nothing', () => {
    const features = 5;
    const x = new Float64Array(3 * features).fill(0.5);
    x[7] = Number.NaN;
    x[11] = Number.POSITIVE_INFINITY;
    const levels = levelVectors(64, 4, 'level');
    const positions = randomBatch(64, ['a', 'b', 'c', 'd', 'e']);
    const lo = new Float64Array(features).fill(-1);
    const hi = new Float64Array(features).fill(1);
    for (const be of [native, jsBackend]) {
      const out = new Uint32Array(6).fill(7);
      expect(be.encodeLevels(x, 3, features, lo, hi, 4, levels.data, 4, positions.data, 64, null, out)).toBe(7);
      expect(out.every((v) => v === 7)).toBe(true);
      expect(be.project(x, 3, features, lo, positions.data, 64, null, out)).toBe(7);
      expect(out.every((v) => v === 7)).toBe(true);
    }
  });
});
