// The public API on whichever backend the environment selects (npm test runs this file on
// native and again with HDGLUE_BACKEND=js): behaviour, algebraic laws, and bad input.
import { describe, expect, it } from 'vitest';
import {
  Accumulators,
  backendInfo,
  bind,
  bundle,
  bundleAsync,
  ErrorCode,
  HdglueError,
  HVBatch,
  Hypervector,
  hamming,
  hammingMany,
  hammingManyAsync,
  hammingMatrix,
  hammingMatrixAsync,
  MAX_DIM,
  permute,
  randomBatch,
  randomHV,
  similarity,
  tieBreaker,
  topK,
  topKAsync,
} from '../lib/index.js';

function expectCode(fn: () => unknown, kind: ErrorConstructor | typeof HdglueError, code: string) {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(kind);
  expect((caught as { code?: string }).code).toBe(code);
}

describe(`API on the ${process.env.HDGLUE_BACKEND ?? 'default'} backend`, () => {
  it('reports the backend in use', () => {
    const info = backendInfo();
    expect(info.backend).toBe(
      process.env.HDGLUE_BACKEND === 'js' || process.env.HDGLUE_BACKEND === 'wasm'
        ? process.env.HDGLUE_BACKEND
        : 'native',
    );
    if (info.backend === 'js') expect(info.isa).toBe('js');
    else if (info.backend === 'wasm') expect(['scalar', 'simd128']).toContain(info.isa);
    else expect(['scalar', 'avx2', 'avx512', 'neon']).toContain(info.isa);
    expect(info.platform).toContain(`${process.platform}-${process.arch}`);
  });

  it('random vectors are pure functions of (seed, name), balanced, and independent of order', () => {
    const a = randomHV(10000, 'cat', { seed: 7 });
    randomHV(10000, 'dog', { seed: 7 });
    expect(randomHV(10000, 'cat', { seed: 7 }).equals(a)).toBe(true);
    expect(randomHV(10000, 'cat', { seed: 7n }).equals(a)).toBe(true);
    expect(randomHV(10000, 'cat', { seed: 8 }).equals(a)).toBe(false);
    const batch = randomBatch(10000, ['dog', 'cat']);
    expect(batch.row(1).equals(randomHV(10000, 'cat'))).toBe(true);
    const ones = a.toBipolar().filter((v) => v === -1).length;
    expect(ones).toBeGreaterThan(4800);
    expect(ones).toBeLessThan(5200);
    // Locked bits: saved models depend on them (same values as the C++ known-answer test).
    const kat = randomHV(100, 'abc', { seed: 42 });
    expect(Array.from(kat.data)).toEqual([0x4316f6c7, 0xae5cc6db, 0xe172df5d, 0x2]);
  });

  it('bind is its own inverse, permute is invertible, similarity of unrelated vectors is near 0.5', () => {
    const a = randomHV(10000, 'a');
    const b = randomHV(10000, 'b');
    expect(bind(bind(a, b), b).equals(a)).toBe(true);
    expect(permute(permute(a, 17), -17).equals(a)).toBe(true);
    expect(permute(a, 10000).equals(a)).toBe(true);
    expect(Math.abs(similarity(a, b) - 0.5)).toBeLessThan(0.03);
    expect(hamming(a, a)).toBe(0);
    const batch = HVBatch.from([a, b]);
    const bound = bind(batch, b);
    expect(bound.row(1).equals(new Hypervector(10000))).toBe(true);
    expect(bind(bound, batch).row(0).equals(b)).toBe(true);
  });

  it('bundle is similar to its members and follows the tie rules', () => {
    const rows = randomBatch(
      10000,
      Array.from({ length: 5 }, (_, i) => `m${i}`),
    );
    const b = bundle(rows);
    for (const r of rows) expect(similarity(b, r)).toBeGreaterThan(0.6);
    const x = randomHV(1000, 'x');
    const notX = Hypervector.fromBipolar(Array.from(x.toBipolar(), (v) => -v));
    const pair = HVBatch.from([x, notX]);
    expect(bundle(pair).equals(tieBreaker(1000))).toBe(true);
    expect(bundle(pair, { seed: 3 }).equals(tieBreaker(1000, { seed: 3 }))).toBe(true);
    expect(bundle(pair, { tie: 'ones' }).equals(new Hypervector(1000))).toBe(true);
    expect(bundle(pair, { weights: [2, 1] }).equals(x)).toBe(true);
    expect(bundle(pair, { weights: [1, 2] }).equals(notX)).toBe(true);
    expect(bundle(new HVBatch(64, 0), { tie: 'ones' }).equals(new Hypervector(64))).toBe(true);
  });

  it('Hamming in batch, matrix and top-k agree with pairwise distances; async twins agree', async () => {
    const names = Array.from({ length: 50 }, (_, i) => `r${i}`);
    const batch = randomBatch(777, names, { seed: 1 });
    const qs = randomBatch(777, ['q0', 'q1', 'q2'], { seed: 1 });
    const many = hammingMany(qs.row(0), batch);
    expect(Array.from(many)).toEqual(names.map((_, i) => hamming(qs.row(0), batch.row(i))));
    expect(await hammingManyAsync(qs.row(0), batch)).toEqual(many);
    const mat = hammingMatrix(qs, batch);
    expect(mat.subarray(0, 50)).toEqual(many);
    expect(await hammingMatrixAsync(qs, batch)).toEqual(mat);
    const top = topK(qs, batch, 5);
    for (let q = 0; q < 3; q++) {
      const ref = Array.from(mat.subarray(q * 50, q * 50 + 50), (d, i) => [d, i] as const)
        .sort((x, y) => x[0] - y[0] || x[1] - y[1])
        .slice(0, 5);
      expect(Array.from(top.indices.subarray(q * 5, q * 5 + 5))).toEqual(ref.map((r) => r[1]));
      expect(Array.from(top.distances.subarray(q * 5, q * 5 + 5))).toEqual(ref.map((r) => r[0]));
    }
    expect(await topKAsync(qs, batch, 5)).toEqual(top);
    expect((await bundleAsync(batch)).equals(bundle(batch))).toBe(true);
  });

  it('bipolar packing round-trips, and batches share storage with their rows', () => {
    const v = Int8Array.from({ length: 65 }, (_, i) => (i % 3 ? 1 : -1));
    const hv = Hypervector.fromBipolar(v);
    expect(hv.toBipolar()).toEqual(v);
    expect(hv.bit(0)).toBe(1);
    expect(hv.bit(1)).toBe(0);
    const batch = HVBatch.fromBipolar([...v, ...v], 2, 65);
    expect(batch.row(1).equals(hv)).toBe(true);
    expect(batch.toBipolar()).toEqual(Int8Array.from([...v, ...v]));
    expect(batch.row(0).data.buffer).toBe(batch.data.buffer);
    expect([...batch.slice(1)].length).toBe(1);
  });

  it('accumulators: subtract undoes add exactly; threshold is the bundle; dot matches bipolar sums', () => {
    const dim = 1000;
    const batch = randomBatch(dim, ['a', 'b', 'c', 'd']);
    const acc = new Accumulators(dim, 2);
    acc.add(0, batch.slice(0, 3)).add(1, batch, { weights: [1, 2, 3, 4] });
    const before = acc.counters.slice();
    acc.add(0, batch.slice(3), { weights: [5] });
    acc.subtract(0, batch.slice(3), { weights: [5] });
    expect(acc.counters).toEqual(before);
    expect(acc.thresholdRow(0).equals(bundle(batch.slice(0, 3)))).toBe(true);
    expect(
      acc
        .threshold({ tie: 'ones' })
        .row(1)
        .equals(bundle(batch, { weights: [1, 2, 3, 4], tie: 'ones' })),
    ).toBe(true);
    const dots = acc.dot(batch);
    const bip = batch.toBipolar();
    for (let r = 0; r < 4; r++) {
      for (let c = 0; c < 2; c++) {
        let s = 0;
        for (let i = 0; i < dim; i++) s += (bip[r * dim + i] as number) * (acc.counters[c * dim + i] as number);
        expect(dots[r * 2 + c]).toBe(s);
      }
    }
  });

  describe('misuse after construction is caught, not computed on', () => {
    it('stray padding bits written into storage are rejected at the next use', () => {
      const a = randomHV(33, 'a');
      const b = randomHV(33, 'b');
      a.data[1] = (a.data[1] as number) | (1 << 5);
      expectCode(() => hamming(a, b), RangeError, ErrorCode.PADDING);
      expectCode(() => bind(a, b), RangeError, ErrorCode.PADDING);
      expectCode(() => HVBatch.from([b, a]), RangeError, ErrorCode.PADDING);
      const acc = new Accumulators(33, 1);
      const batch = randomBatch(33, ['x', 'y']);
      batch.data[3] = 0xffffffff;
      expectCode(() => acc.dot(batch), RangeError, ErrorCode.PADDING);
      expectCode(() => acc.add(0, batch), RangeError, ErrorCode.PADDING);
      expect(acc.counters.every((c) => c === 0)).toBe(true);
    });

    it('a detached buffer is reported the same way by both backends', () => {
      const a = randomHV(64, 'a');
      const b = randomHV(64, 'b');
      structuredClone(a.data.buffer, { transfer: [a.data.buffer] });
      expectCode(() => hamming(a, b), RangeError, ErrorCode.SHAPE);
      expectCode(() => similarity(b, a), RangeError, ErrorCode.SHAPE);
    });

    it('an async call whose input is transferred mid-flight rejects with ERR_HDGLUE_DETACHED', async () => {
      const batch = randomBatch(
        4096,
        Array.from({ length: 64 }, (_, i) => `r${i}`),
      );
      const q = randomHV(4096, 'q');
      const pending = hammingManyAsync(q, batch);
      const moved = structuredClone(batch.data.buffer, { transfer: [batch.data.buffer] });
      await expect(pending).rejects.toMatchObject({ code: ErrorCode.DETACHED });
      expect(moved.byteLength).toBeGreaterThan(0);
    });

    it('the tie-breaker handed out is a copy', () => {
      const t = tieBreaker(64);
      t.data[0] = (t.data[0] as number) ^ 1;
      expect(tieBreaker(64).equals(t)).toBe(false);
      const x = randomHV(64, 'x');
      const pair = HVBatch.from([x, Hypervector.fromBipolar(Array.from(x.toBipolar(), (v) => -v))]);
      expect(bundle(pair).equals(tieBreaker(64))).toBe(true);
    });

    it('async accumulation runs in call order; sync calls wait their turn or are refused', async () => {
      const dim = 10000;
      const batch = randomBatch(
        dim,
        Array.from({ length: 40 }, (_, i) => `v${i}`),
      );
      const serial = new Accumulators(dim, 1);
      for (let i = 0; i < 8; i++) serial.add(0, batch);
      const acc = new Accumulators(dim, 1);
      const calls = Array.from({ length: 8 }, () => acc.addAsync(0, batch));
      const dots = acc.dotAsync(batch);
      expectCode(() => acc.add(0, batch), HdglueError, ErrorCode.BUSY);
      expectCode(() => acc.threshold(), HdglueError, ErrorCode.BUSY);
      await Promise.all(calls);
      expect(await dots).toEqual(serial.dot(batch));
      expect(acc.counters).toEqual(serial.counters);
      acc.subtract(0, batch);
      serial.subtract(0, batch);
      expect(acc.counters).toEqual(serial.counters);
    });
  });

  describe('bad input gets a coded error and changes nothing', () => {
    it('dimensions', () => {
      expectCode(() => new Hypervector(0), RangeError, ErrorCode.INVALID_DIM);
      expectCode(() => new Hypervector(MAX_DIM + 1), RangeError, ErrorCode.INVALID_DIM);
      expectCode(() => new Hypervector(1.5), RangeError, ErrorCode.INVALID_DIM);
      expectCode(() => new Hypervector(Number.NaN), RangeError, ErrorCode.INVALID_DIM);
      expectCode(() => new Hypervector('64' as unknown as number), TypeError, ErrorCode.INVALID_TYPE);
      expectCode(() => randomHV(0, 'x'), RangeError, ErrorCode.INVALID_DIM);
      expect(new Hypervector(MAX_DIM).dim).toBe(MAX_DIM);
    });

    it('storage of the wrong type, length or padding', () => {
      expectCode(
        () => new Hypervector(64, new Int32Array(2) as unknown as Uint32Array),
        TypeError,
        ErrorCode.INVALID_TYPE,
      );
      expectCode(() => new Hypervector(64, [0, 0] as unknown as Uint32Array), TypeError, ErrorCode.INVALID_TYPE);
      expectCode(() => new Hypervector(64, new Uint32Array(3)), RangeError, ErrorCode.SHAPE);
      expectCode(() => new Hypervector(65, new Uint32Array([0, 0, 2, 0])), RangeError, ErrorCode.PADDING);
      expectCode(() => new Hypervector(64, new Uint32Array([0, 0, 0, 0]).subarray(0, 3)), RangeError, ErrorCode.SHAPE);
      expectCode(() => new HVBatch(100, 3, new Uint32Array(8)), RangeError, ErrorCode.SHAPE);
      expectCode(() => HVBatch.fromBipolar([1, -1, 0], 1, 3), RangeError, ErrorCode.OUT_OF_RANGE);
      expectCode(() => HVBatch.fromBipolar([1, -1], 1, 3), RangeError, ErrorCode.SHAPE);
      expectCode(() => HVBatch.from([]), RangeError, ErrorCode.SHAPE);
    });

    it('mismatched dimensions and batches', () => {
      const a = randomHV(100, 'a');
      const b = randomHV(101, 'b');
      expectCode(() => bind(a, b), HdglueError, ErrorCode.DIM_MISMATCH);
      expectCode(() => hamming(a, b), HdglueError, ErrorCode.DIM_MISMATCH);
      expectCode(() => hammingMany(a, randomBatch(101, ['x'])), HdglueError, ErrorCode.DIM_MISMATCH);
      expectCode(() => HVBatch.from([a, b]), HdglueError, ErrorCode.DIM_MISMATCH);
      expectCode(() => bind(randomBatch(100, ['x', 'y']), randomBatch(100, ['x'])), RangeError, ErrorCode.SHAPE);
      expectCode(() => bind(a, randomBatch(100, ['x']) as unknown as Hypervector), TypeError, ErrorCode.INVALID_TYPE);
      expectCode(() => hammingMany(a, a as unknown as HVBatch), TypeError, ErrorCode.INVALID_TYPE);
      expectCode(() => topK(a, randomBatch(100, ['x']), 2), RangeError, ErrorCode.OUT_OF_RANGE);
      expectCode(() => permute(a, 1.5), RangeError, ErrorCode.OUT_OF_RANGE);
    });

    it('seeds, weights and options', () => {
      expectCode(() => randomHV(64, 'x', { seed: -1 }), RangeError, ErrorCode.OUT_OF_RANGE);
      expectCode(() => randomHV(64, 'x', { seed: 2n ** 64n }), RangeError, ErrorCode.OUT_OF_RANGE);
      expectCode(() => randomHV(64, 'x', { seed: '1' as unknown as number }), TypeError, ErrorCode.INVALID_TYPE);
      expectCode(() => randomHV(64, 5 as unknown as string), TypeError, ErrorCode.INVALID_TYPE);
      const batch = randomBatch(64, ['x', 'y']);
      expectCode(() => bundle(batch, { weights: [1] }), RangeError, ErrorCode.SHAPE);
      expectCode(() => bundle(batch, { weights: [1, 0.5] }), RangeError, ErrorCode.OUT_OF_RANGE);
      expectCode(() => bundle(batch, { weights: [1, 2 ** 31] }), RangeError, ErrorCode.OUT_OF_RANGE);
      expectCode(() => bundle(batch, { tie: 'coin' as 'ones' }), RangeError, ErrorCode.OUT_OF_RANGE);
      // The weighted sum would wrap around int32 and flip the result: refused.
      expectCode(() => bundle(batch, { weights: [2 ** 31 - 1, 2 ** 31 - 1] }), RangeError, ErrorCode.OUT_OF_RANGE);
      expect(bundle(batch, { weights: [2 ** 30, -(2 ** 30) + 1] }).equals(batch.row(0))).toBe(true);
      for (const bad of [null, 5, 'x']) {
        const o = bad as unknown as undefined;
        expectCode(() => randomHV(64, 'x', o), TypeError, ErrorCode.INVALID_TYPE);
        expectCode(() => randomBatch(64, ['x'], o), TypeError, ErrorCode.INVALID_TYPE);
        expectCode(() => tieBreaker(64, o), TypeError, ErrorCode.INVALID_TYPE);
        expectCode(() => bundle(batch, o), TypeError, ErrorCode.INVALID_TYPE);
        expectCode(() => new Accumulators(64, 1).threshold(o), TypeError, ErrorCode.INVALID_TYPE);
      }
      const holey = new Array<Hypervector>(3);
      holey[0] = randomHV(64, 'x');
      holey[2] = randomHV(64, 'y');
      expectCode(() => HVBatch.from(holey), TypeError, ErrorCode.INVALID_TYPE);
      const acc = new Accumulators(64, 1);
      acc.add(0, batch);
      const before = acc.counters.slice();
      expectCode(() => acc.add(1, batch), RangeError, ErrorCode.OUT_OF_RANGE);
      expectCode(() => acc.add(0, batch, { weights: [1, Number.NaN] }), RangeError, ErrorCode.OUT_OF_RANGE);
      expectCode(() => acc.add(0, randomBatch(65, ['x'])), HdglueError, ErrorCode.DIM_MISMATCH);
      expect(acc.counters).toEqual(before);
    });
  });
});
