// Codebooks, level codebooks and encoders through the public API, on whichever backend the
// environment selects (npm test runs this on native and again with HDGLUE_BACKEND=js).
import { describe, expect, it } from 'vitest';
import {
  Accumulators,
  bind,
  bundle,
  Codebook,
  DEFAULT_RECIPE,
  EmbeddingEncoder,
  ErrorCode,
  HdglueError,
  HVBatch,
  Hypervector,
  levelVectors,
  ProjectionEncoder,
  randomHV,
  similarity,
} from '../lib/index.js';
import { prng } from './helpers.js';

function expectCode(fn: () => unknown, kind: ErrorConstructor | typeof HdglueError, code: string, text?: RegExp) {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(kind);
  expect((caught as { code?: string }).code).toBe(code);
  if (text) expect((caught as Error).message).toMatch(text);
}

function flipBits(hv: Hypervector, fraction: number, seed: number): Hypervector {
  const next = prng(seed);
  const v = hv.toBipolar();
  for (let i = 0; i < v.length; i++) if (next() / 2 ** 32 < fraction) v[i] = -(v[i] as number);
  return Hypervector.fromBipolar(v);
}

describe('Codebook', () => {
  it('vectors depend on (seed, name) only, not on insertion order', () => {
    const a = new Codebook(1000, { seed: 3 });
    const b = new Codebook(1000, { seed: 3 });
    a.addMany(['x', 'y', 'z']);
    b.add('z');
    b.addMany(['y', 'x', 'y']);
    expect(b.size).toBe(3);
    expect(b.names()).toEqual(['z', 'y', 'x']);
    for (const n of ['x', 'y', 'z']) expect(a.get(n).equals(b.get(n))).toBe(true);
    expect(a.get('x').equals(randomHV(1000, 'x', { seed: 3 }))).toBe(true);
    expect(a.has('x')).toBe(true);
    expect(a.has('w')).toBe(false);
    expectCode(() => a.get('w'), HdglueError, ErrorCode.UNKNOWN_NAME, /"w"/);
    // Returned vectors are copies: changing one changes nothing stored.
    a.get('x').data[0] = 12345;
    expect(a.get('x').equals(b.get('x'))).toBe(true);
  });

  it('cleans up noisy vectors to the right names, growing past its initial capacity', async () => {
    const cb = new Codebook(10000, { seed: 1 });
    const names = Array.from({ length: 40 }, (_, i) => `item${i}`);
    cb.addMany(names);
    for (const [i, n] of names.entries()) {
      const hit = cb.nearest(flipBits(cb.get(n), 0.3, i + 1), 2);
      expect(hit.names[0]).toBe(n);
      expect(hit.similarities[0]).toBeGreaterThan(0.65);
      expect(hit.similarities[1]).toBeLessThan(0.55);
    }
    const queries = HVBatch.from([flipBits(cb.get('item3'), 0.2, 9), flipBits(cb.get('item7'), 0.2, 10)]);
    const many = cb.nearest(queries, 1);
    expect(many.map((m) => m.names[0])).toEqual(['item3', 'item7']);
    expect(await cb.nearestAsync(queries, 1)).toEqual(many);
    expectCode(() => cb.nearest(queries, 41), RangeError, ErrorCode.OUT_OF_RANGE);
    const copy = Codebook.fromJSON(JSON.stringify(cb));
    expect(copy.vectors().equals(cb.vectors())).toBe(true);
    expectCode(() => Codebook.fromJSON({ ...cb.toJSON(), names: ['a', 'a'] }), HdglueError, ErrorCode.BAD_DESCRIPTION);
    expectCode(() => Codebook.fromJSON({ ...cb.toJSON(), dim: 0 }), HdglueError, ErrorCode.BAD_DESCRIPTION);
    expectCode(() => cb.get(5 as unknown as string), TypeError, ErrorCode.INVALID_TYPE);
  });
});

describe('level codebooks', () => {
  it("'level': neighbours close, ends near-orthogonal, distance growing with the gap", () => {
    const L = 100;
    const v = levelVectors(10000, L, 'level', { seed: 2 });
    for (let i = 1; i < L; i++) expect(similarity(v.row(i - 1), v.row(i))).toBeGreaterThanOrEqual(0.99);
    expect(Math.abs(similarity(v.row(0), v.row(L - 1)) - 0.5)).toBeLessThan(0.01);
    let last = 1;
    for (let i = 1; i < L; i += 7) {
      const s = similarity(v.row(0), v.row(i));
      expect(s).toBeLessThan(last);
      last = s;
    }
  });

  it("'circular': the last level is as close to the first as neighbours are; opposite levels are orthogonal", () => {
    const L = 24;
    const v = levelVectors(10000, L, 'circular', { seed: 2 });
    const step = similarity(v.row(0), v.row(1));
    expect(step).toBeGreaterThan(0.9);
    expect(similarity(v.row(L - 1), v.row(0))).toBeCloseTo(step, 2);
    expect(Math.abs(similarity(v.row(0), v.row(L / 2)) - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(similarity(v.row(5), v.row(5 + L / 2)) - 0.5)).toBeLessThan(0.01);
  });

  it('odd and large counts close the circle and keep every step distinct; impossible sizes are refused', () => {
    for (const L of [7, 365]) {
      const v = levelVectors(10000, L, 'circular', { seed: 3 });
      const first = similarity(v.row(0), v.row(1));
      expect(similarity(v.row(L - 1), v.row(0))).toBeCloseTo(first, 2);
      expect(v.row(L - 1).equals(v.row(0))).toBe(false);
      // The farthest level, floor(L/2) steps round the circle of L: the flipped share is floor(L/2)/L.
      expect(Math.abs(similarity(v.row(0), v.row(Math.floor(L / 2))) - (1 - Math.floor(L / 2) / L))).toBeLessThan(0.01);
    }
    const t = levelVectors(64, 33, 'level');
    for (let i = 1; i < 33; i++) expect(t.row(i).equals(t.row(i - 1))).toBe(false);
    expect(similarity(t.row(0), t.row(32))).toBe(0.5);
    expectCode(() => levelVectors(64, 34, 'level'), RangeError, ErrorCode.OUT_OF_RANGE, /dim >= 66/);
    expectCode(() => levelVectors(64, 65, 'circular'), RangeError, ErrorCode.OUT_OF_RANGE);
    expectCode(() => new EmbeddingEncoder({ features: 2, dim: 100, bins: 100 }), RangeError, ErrorCode.OUT_OF_RANGE);
  });

  it("'random': every pair near-orthogonal, even neighbours", () => {
    const v = levelVectors(10000, 10, 'random', { seed: 2 });
    for (let i = 1; i < 10; i++) expect(Math.abs(similarity(v.row(i - 1), v.row(i)) - 0.5)).toBeLessThan(0.03);
  });
});

describe('EmbeddingEncoder', () => {
  const features = 32;
  const next = prng(21);
  const rows = (n: number) => Float64Array.from({ length: n * features }, () => (next() / 2 ** 32) * 2.4 - 1.2);

  it('is the bundle of each feature’s level vector bound to its position vector', () => {
    for (const levels of ['random', 'level', 'circular'] as const) {
      const enc = new EmbeddingEncoder({ features, dim: 1001, bins: 20, levels, seed: 4 });
      const x = rows(1);
      const L = enc.levelVectors;
      const P = enc.positionVectors;
      const bound = HVBatch.from(
        Array.from({ length: features }, (_, f) => {
          // numpy: clip(digitize(v, linspace(-1, 1, 21)) - 1, 0, 19)
          const v = x[f] as number;
          const edges = Array.from({ length: 21 }, (_, j) => (j === 20 ? 1 : j * (2 / 20) + -1));
          const b = Math.min(19, Math.max(0, edges.filter((e) => e <= v).length - 1));
          return bind(L.row(b), P.row(f));
        }),
      );
      expect(enc.encode(x).equals(bundle(bound, { seed: 4 }))).toBe(true);
    }
  });

  it('takes flat Float32/Float64 batches and arrays of rows alike; async agrees', async () => {
    const enc = new EmbeddingEncoder({ features, dim: 2048, seed: 8 });
    const x = Float64Array.from(Float32Array.from(rows(5)));
    const batch = enc.encodeBatch(x, 5);
    expect(enc.encodeBatch(Float32Array.from(x), 5).equals(batch)).toBe(true);
    const asRows = Array.from({ length: 5 }, (_, r) => Array.from(x.subarray(r * features, (r + 1) * features)));
    expect(enc.encodeBatch(asRows).equals(batch)).toBe(true);
    expect(enc.encode(asRows[2] as number[]).equals(batch.row(2))).toBe(true);
    expect((await enc.encodeBatchAsync(x, 5)).equals(batch)).toBe(true);
  });

  it('preserves distance with level bins, not with the tutorial’s random bins', () => {
    const x = rows(1);
    const near = x.map((v) => v + 0.02);
    const level = new EmbeddingEncoder({ features: 32, levels: 'level' });
    const random = new EmbeddingEncoder({ features: 32, levels: 'random' });
    expect(similarity(level.encode(x), level.encode(near))).toBeGreaterThan(0.85);
    expect(similarity(random.encode(x), random.encode(near))).toBeLessThan(0.8);
  });

  it('fits per-feature ranges (min/max or quantiles) and round-trips through JSON', () => {
    const enc = new EmbeddingEncoder({ features: 3, dim: 512, bins: 8 });
    const x = new Float64Array([0, 10, -5, 2, 20, 5, 4, 30, 15, 1, 11, 0]);
    enc.fit(x, { method: 'minmax' });
    expect(Array.from(enc.lo)).toEqual([0, 10, -5]);
    expect(Array.from(enc.hi)).toEqual([4, 30, 15]);
    enc.fit(x, { method: 'quantile', quantiles: [0.25, 0.75] });
    // numpy.quantile(x, [0.25, 0.75], axis=0) of the same rows
    expect(Array.from(enc.lo)).toEqual([0.75, 10.75, -1.25]);
    expect(Array.from(enc.hi)).toEqual([2.5, 22.5, 7.5]);
    // The default method is the default recipe's: quantiles 0.01 and 0.99.
    const byDefault = new EmbeddingEncoder({ features: 3, dim: 512, bins: 8 }).fit(x);
    expect(byDefault.toJSON()).toEqual(enc.fit(x, { method: 'quantile', quantiles: [0.01, 0.99] }).toJSON());
    expect(new EmbeddingEncoder({ features: 3 }).bins).toBe(DEFAULT_RECIPE.bins);
    enc.fit(new Float64Array([0.1, 0, 0, 0.7, 0, 0, 0.3, 0, 0]), { method: 'quantile', quantiles: [0.3, 0.7] });
    // numpy.quantile([0.1, 0.7, 0.3], 0.3) and (..., 0.7), to the last bit (numpy 2.4.6)
    expect(enc.lo[0]).toBe(0.21999999999999997);
    expect(enc.hi[0]).toBe(0.45999999999999996);
    const text = JSON.stringify(enc);
    const back = EmbeddingEncoder.fromJSON(text);
    expect(back.toJSON()).toEqual(enc.toJSON());
    // A description without bins is refused, not filled from the (changeable) constructor default.
    const { bins: _, ...noBins } = enc.toJSON();
    expect(() => EmbeddingEncoder.fromJSON(noBins as never)).toThrow(/bins is missing/);
    expect(back.encodeBatch(x, 4).equals(enc.encodeBatch(x, 4))).toBe(true);
    const seeded = new EmbeddingEncoder({ features: 3, dim: 512, seed: 2n ** 63n + 5n });
    expect(EmbeddingEncoder.fromJSON(JSON.parse(JSON.stringify(seeded))).seed).toBe(2n ** 63n + 5n);
  });

  it('rejects bad input with codes, naming the row and feature, and changes nothing', () => {
    const enc = new EmbeddingEncoder({ features: 4, dim: 256 });
    const good = new Float64Array(8).fill(0.1);
    expectCode(() => enc.encode([1, 2, 3]), RangeError, ErrorCode.SHAPE, /3 features, expected 4/);
    expectCode(() => enc.encodeBatch(new Float64Array(7), 2), RangeError, ErrorCode.SHAPE);
    expectCode(() => enc.encodeBatch(new Float64Array(0)), RangeError, ErrorCode.SHAPE, /empty/);
    expectCode(() => enc.encodeBatch([]), RangeError, ErrorCode.SHAPE, /empty/);
    const nan = good.slice();
    nan[6] = Number.NaN;
    expectCode(() => enc.encodeBatch(nan, 2), RangeError, ErrorCode.NOT_FINITE, /row 1, feature 2 is NaN/);
    const inf = Float32Array.from(good);
    inf[1] = Number.NEGATIVE_INFINITY;
    expectCode(() => enc.encodeBatch(inf, 2), RangeError, ErrorCode.NOT_FINITE, /row 0, feature 1 is -Infinity/);
    expectCode(() => enc.encodeBatch([[1, 2, 3, '4']] as unknown as number[][]), TypeError, ErrorCode.INVALID_TYPE);
    expectCode(
      () => enc.encodeBatch(new Int32Array(8) as unknown as Float64Array, 2),
      TypeError,
      ErrorCode.INVALID_TYPE,
    );
    const before = enc.toJSON();
    expectCode(() => enc.fit(nan), RangeError, ErrorCode.NOT_FINITE);
    expect(enc.toJSON()).toEqual(before);
    expectCode(() => new EmbeddingEncoder({ features: 0 }), RangeError, ErrorCode.OUT_OF_RANGE);
    expectCode(() => new EmbeddingEncoder({ features: 4, bins: 0 }), RangeError, ErrorCode.OUT_OF_RANGE);
    expectCode(
      () => new EmbeddingEncoder({ features: 4, levels: 'gray' as 'level' }),
      RangeError,
      ErrorCode.OUT_OF_RANGE,
    );
    expectCode(() => new EmbeddingEncoder({ features: 4, range: [1, -1] }), RangeError, ErrorCode.OUT_OF_RANGE);
    expectCode(() => new EmbeddingEncoder({ features: 4, dim: 0 }), RangeError, ErrorCode.INVALID_DIM);
    // Ranges numpy would bin with another formula (subnormal step) or that overflow are refused.
    expectCode(
      () => new EmbeddingEncoder({ features: 1, range: [8.8e-311, 8.9e-311] }),
      RangeError,
      ErrorCode.OUT_OF_RANGE,
      /subnormal/,
    );
    expectCode(
      () => new EmbeddingEncoder({ features: 1, range: [-1e308, 1e308] }),
      RangeError,
      ErrorCode.OUT_OF_RANGE,
      /overflows/,
    );
    expect(new EmbeddingEncoder({ features: 1, range: [2, 2] }).encode([3]).dim).toBe(10000);
    expectCode(
      () => new EmbeddingEncoder({ features: 1, range: ['0', '1'] as unknown as [number, number] }),
      TypeError,
      ErrorCode.INVALID_TYPE,
    );
    expectCode(() => enc.encodeBatch(new Float64Array(9)), RangeError, ErrorCode.SHAPE, /whole number of rows/);
    expectCode(
      () => enc.fit(good, { quantiles: 5 as unknown as [number, number], method: 'quantile' }),
      TypeError,
      ErrorCode.INVALID_TYPE,
    );
    expectCode(
      () =>
        enc.fit([
          [-1e308, 0, 0, 0],
          [1e308, 0, 0, 0],
        ]),
      RangeError,
      ErrorCode.OUT_OF_RANGE,
    );
    expectCode(() => EmbeddingEncoder.fromJSON('{'), HdglueError, ErrorCode.BAD_DESCRIPTION);
    expectCode(
      () => EmbeddingEncoder.fromJSON({ ...before, version: 2 } as never),
      HdglueError,
      ErrorCode.BAD_DESCRIPTION,
    );
    expectCode(() => EmbeddingEncoder.fromJSON({ ...before, lo: [0, 0, 0] }), HdglueError, ErrorCode.BAD_DESCRIPTION);
  });
});

describe('ProjectionEncoder', () => {
  it('is the sign of the quantized projection, computed with the accumulator kernels', () => {
    const features = 50;
    const enc = new ProjectionEncoder({ features, dim: 777, seed: 6, scale: 2 });
    const next = prng(5);
    const x = Float64Array.from({ length: features }, () => (next() / 2 ** 32) * 5 - 2.5);
    const q = Array.from(x, (v) => Math.max(-32767, Math.min(32767, Math.floor(v * (32767 / 2) + 0.5))));
    const acc = new Accumulators(777, 1);
    const signs = HVBatch.from(
      Array.from({ length: features }, (_, f) => randomHV(777, `projection/${f}`, { seed: 6 })),
    );
    acc.add(0, signs, { weights: q });
    expect(enc.encode(x).equals(acc.thresholdRow(0, { seed: 6 }))).toBe(true);
  });

  it('keeps angles: near inputs stay near, a negated input lands opposite', async () => {
    const features = 512;
    const next = prng(8);
    const x = Float64Array.from({ length: features }, () => (next() / 2 ** 32) * 2 - 1);
    const enc = new ProjectionEncoder({ features, dim: 10000 }).fit([x, x.map((v) => -v)]);
    const a = enc.encode(x);
    expect(similarity(a, enc.encode(x.map((v) => v + 0.01 * Math.sin(v * 99))))).toBeGreaterThan(0.95);
    // Not exactly 0: quantizing rounds halves upwards, so sums close to 0 may keep their sign.
    expect(similarity(a, enc.encode(x.map((v) => -v)))).toBeLessThan(0.06);
    const batch = new Float64Array(3 * features);
    batch.set(x, features);
    expect((await enc.encodeBatchAsync(batch, 3)).row(1).equals(a)).toBe(true);
    const back = ProjectionEncoder.fromJSON(JSON.stringify(enc));
    expect(back.encode(x).equals(a)).toBe(true);
  });

  it('rejects bad input with codes', () => {
    const enc = new ProjectionEncoder({ features: 3, dim: 128 });
    expectCode(() => enc.encode([1, Number.NaN, 3]), RangeError, ErrorCode.NOT_FINITE, /row 0, feature 1/);
    expectCode(() => enc.encode([1, 2]), RangeError, ErrorCode.SHAPE);
    expectCode(() => new ProjectionEncoder({ features: 3, scale: 0 }), RangeError, ErrorCode.OUT_OF_RANGE);
    expectCode(() => new ProjectionEncoder({ features: 3, scale: [1e-310, 1, 1] }), RangeError, ErrorCode.OUT_OF_RANGE);
    expect(
      new ProjectionEncoder({ features: 2, dim: 64 }).fit([
        [1e-310, 1],
        [0, -1],
      ]).scale[0],
    ).toBe(1);
    expectCode(() => new ProjectionEncoder({ features: 3, scale: [1, 2] }), RangeError, ErrorCode.SHAPE);
    expectCode(() => enc.fit([[1, 2, 3]], { quantile: 0 }), RangeError, ErrorCode.OUT_OF_RANGE);
    expectCode(() => ProjectionEncoder.fromJSON({ kind: 'x' } as never), HdglueError, ErrorCode.BAD_DESCRIPTION);
  });
});
