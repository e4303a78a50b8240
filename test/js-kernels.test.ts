/**
 * jsKernels against a naive per-bit oracle that shares no code with lib/backend/js/: bits are
 * unpacked to one byte each, counts are plain integers, wrap-around uses BigInt.asIntN. Inputs
 * cover the cases that break bit-sliced code: D not a multiple of 32 or 64, counts of 0, 1, 2,
 * even and odd, all ties, counters near +-2^31, duplicate rows for the top-k index rule.
 */
import { describe, expect, it } from 'vitest';
import { jsKernels as K } from '../lib/backend/js/kernels.js';
import { hashName, mix64, mix64Fast, randomHVInto } from '../lib/rng.js';
import { prng as makeRng } from './helpers.js';

const DIMS = [1, 2, 31, 32, 33, 63, 64, 65, 127, 129, 1000, 10000];

const entries = (dim: number): number => 2 * Math.ceil(dim / 64);

/** Unpacked rows: one byte per bit. */
type Bits = Uint8Array[];

function pack(rows: Bits, dim: number): Uint32Array {
  const len = entries(dim);
  const out = new Uint32Array(rows.length * len);
  rows.forEach((row, r) => {
    for (let i = 0; i < dim; i++) {
      if (row[i]) out[r * len + Math.floor(i / 32)] = (out[r * len + Math.floor(i / 32)]! | (2 ** (i % 32))) >>> 0;
    }
  });
  return out;
}

/** Random rows; mode 0 = fair coin, 1 = sparse ones, 2 = dense ones. */
function randomBits(rng: () => number, n: number, dim: number, mode = 0): Bits {
  const rows: Bits = [];
  for (let r = 0; r < n; r++) {
    const row = new Uint8Array(dim);
    for (let i = 0; i < dim; i++) {
      const v = rng();
      row[i] = mode === 1 ? (v % 8 === 0 ? 1 : 0) : mode === 2 ? (v % 8 !== 0 ? 1 : 0) : v % 2;
    }
    rows.push(row);
  }
  return rows;
}

/** A copy at a 4-byte (not 8-byte) offset inside a larger buffer, as a JS subarray view may be. */
function misaligned<T extends Uint32Array | Int32Array>(a: T): T {
  const Ctor = a.constructor as new (n: number) => T;
  const big = new Ctor(a.length + 3);
  big.fill(0xdeadbeef as never);
  const view = big.subarray(1, 1 + a.length) as T;
  view.set(a);
  return view;
}

function complement(row: Uint8Array): Uint8Array {
  return row.map((b) => 1 - b);
}

function expectEqualArrays(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) {
      expect.fail(`${what}: index ${i}: got ${actual[i]}, want ${expected[i]}`);
    }
  }
}

// ---- oracle ----

function oHamming(a: Uint8Array, b: Uint8Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) d++;
  return d;
}

function oMajority(rows: Bits, dim: number, tie: Uint8Array | null): Uint8Array {
  const out = new Uint8Array(dim);
  for (let i = 0; i < dim; i++) {
    let ones = 0;
    for (const row of rows) ones += row[i]!;
    const zeros = rows.length - ones;
    out[i] = ones > zeros ? 1 : ones < zeros ? 0 : tie ? tie[i]! : 0;
  }
  return out;
}

function oAccAdd(counters: Int32Array, rows: Bits, weights: Int32Array | null): Int32Array {
  const out = Int32Array.from(counters);
  rows.forEach((row, r) => {
    const w = BigInt(weights ? weights[r]! : 1);
    for (let i = 0; i < row.length; i++) {
      out[i] = Number(BigInt.asIntN(32, BigInt(out[i]!) + (row[i] ? -w : w)));
    }
  });
  return out;
}

function oThreshold(c: ArrayLike<number>, tie: Uint8Array | null): Uint8Array {
  const out = new Uint8Array(c.length);
  for (let i = 0; i < c.length; i++) out[i] = c[i]! < 0 ? 1 : c[i]! > 0 ? 0 : tie ? tie[i]! : 0;
  return out;
}

function oPermute(row: Uint8Array, k: number): Uint8Array {
  const dim = row.length;
  const out = new Uint8Array(dim);
  for (let i = 0; i < dim; i++) {
    let t = (BigInt(i) + BigInt(k)) % BigInt(dim);
    if (t < 0n) t += BigInt(dim);
    out[Number(t)] = row[i]!;
  }
  return out;
}

// ---- rng ----

describe('rng', () => {
  const M = (1n << 64n) - 1n;
  const refMix = (z: bigint): bigint => {
    z = (((z ^ (z >> 30n)) & M) * 0xbf58476d1ce4e5b9n) & M;
    z = (((z ^ (z >> 27n)) & M) * 0x94d049bb133111ebn) & M;
    return z ^ (z >> 31n);
  };
  const refHash = (s: Uint8Array): bigint => {
    let h = 14695981039346656037n;
    for (const b of s) h = ((h ^ BigInt(b)) * 1099511628211n) % (1n << 64n);
    return refMix(h);
  };
  const refWords = (seed: bigint, name: Uint8Array, dim: number): bigint[] => {
    const key = refMix((seed & M) ^ refHash(name));
    const w = Math.ceil(dim / 64);
    const out: bigint[] = [];
    for (let j = 0; j < w; j++) out.push(refMix((key + BigInt(j + 1) * 0x9e3779b97f4a7c15n) & M));
    if (dim % 64 !== 0 && w > 0) out[w - 1] = out[w - 1]! & ((1n << BigInt(dim % 64)) - 1n);
    return out;
  };
  const enc = new TextEncoder();

  it('matches the C++ known answers', () => {
    expect(hashName(enc.encode('abc'))).toBe(0x0dd490490804b508n);
    const out = new Uint32Array(4);
    randomHVInto(42n, enc.encode('abc'), 100, out);
    expectEqualArrays(out, [0x4316f6c7, 0xae5cc6db, 0xe172df5d, 0x00000002], 'random_hv(42, abc, 100)');
    const viaKernels = new Uint32Array(4);
    K.randomHV(42n, enc.encode('abc'), 100, viaKernels);
    expectEqualArrays(viaKernels, out, 'jsKernels.randomHV');
  });

  it('mix64 and its 32-bit fast path agree with a reference', () => {
    const rng = makeRng(7);
    const special = [0n, 1n, M, 1n << 63n, (1n << 32n) - 1n, 1n << 32n, 0x9e3779b97f4a7c15n];
    for (let i = 0; i < 2000; i++) special.push((BigInt(rng()) << 32n) | BigInt(rng()));
    for (const z of special) {
      const want = refMix(z);
      expect(mix64(z)).toBe(want);
      expect(mix64Fast(z)).toBe(want);
    }
    // Only the low 64 bits matter, including for negative inputs.
    expect(mix64(-1n)).toBe(refMix(M));
    expect(mix64Fast(-1n)).toBe(refMix(M));
  });

  it('hashName agrees with a reference, including the empty name', () => {
    for (const s of ['', 'a', 'abc', 'a longer name with spaces', 'ünïcödé ✓']) {
      expect(hashName(enc.encode(s))).toBe(refHash(enc.encode(s)));
    }
  });

  it('randomHVInto agrees with a BigInt reference and masks the tail', () => {
    const seeds = [0n, 1n, 42n, M, 1n << 63n, -5n];
    for (const dim of [0, ...DIMS, 4096]) {
      for (const seed of seeds) {
        const name = enc.encode(`sym-${dim}`);
        const len = entries(dim);
        const out = new Uint32Array(len + 2).fill(0xffffffff);
        randomHVInto(seed, name, dim, out);
        const want = refWords(seed, name, dim);
        const got: bigint[] = [];
        for (let j = 0; j < len / 2; j++) got.push((BigInt(out[2 * j + 1]!) << 32n) | BigInt(out[2 * j]!));
        expect(got).toEqual(want);
        // Nothing written past 2 * ceil(dim / 64) entries.
        expect(out[len]).toBe(0xffffffff);
        expect(out[len + 1]).toBe(0xffffffff);
      }
    }
  });
});

// ---- kernels ----

describe('bind', () => {
  it('matches the oracle for broadcast and row-wise operands', () => {
    const rng = makeRng(1);
    for (const dim of DIMS) {
      for (const n of [0, 1, 3]) {
        const a = randomBits(rng, n, dim);
        const b = randomBits(rng, n, dim);
        const b0 = randomBits(rng, 1, dim);
        const len = entries(dim);
        const out = new Uint32Array(n * len);
        K.bind(misaligned(pack(a, dim)), misaligned(pack(b, dim)), 1, n, len / 2, out);
        expectEqualArrays(
          out,
          pack(
            a.map((row, r) => row.map((x, i) => x ^ b[r]![i]!)),
            dim,
          ),
          `bind stride 1 D=${dim}`,
        );
        const out0 = new Uint32Array(n * len);
        K.bind(pack(a, dim), pack(b0, dim), 0, n, len / 2, out0);
        expectEqualArrays(
          out0,
          pack(
            a.map((row) => row.map((x, i) => x ^ b0[0]![i]!)),
            dim,
          ),
          `bind stride 0 D=${dim}`,
        );
      }
    }
  });
});

describe('hamming', () => {
  it('hamming1xN matches the oracle (sparse, dense, fair, identical, complementary)', () => {
    const rng = makeRng(2);
    for (const dim of DIMS) {
      for (const mode of [0, 1, 2]) {
        const n = dim >= 1000 ? 9 : 17;
        const q = randomBits(rng, 1, dim, mode);
        const rows = randomBits(rng, n, dim, (mode + 1) % 3);
        rows.push(q[0]!, complement(q[0]!));
        const out = new Uint32Array(rows.length).fill(12345);
        K.hamming1xN(misaligned(pack(q, dim)), misaligned(pack(rows, dim)), rows.length, entries(dim) / 2, out);
        const want = rows.map((row) => oHamming(q[0]!, row));
        expect(want.at(-2)).toBe(0);
        expect(want.at(-1)).toBe(dim);
        expectEqualArrays(out, want, `hamming1xN D=${dim} mode=${mode}`);
      }
      const none = new Uint32Array(1).fill(7);
      K.hamming1xN(pack(randomBits(rng, 1, dim), dim), new Uint32Array(0), 0, entries(dim) / 2, none);
      expect(none[0]).toBe(7);
    }
  });

  it('hammingMxN matches the oracle', () => {
    const rng = makeRng(3);
    for (const dim of DIMS) {
      for (const [m, n] of [
        [0, 4],
        [1, 0],
        [1, 5],
        [3, 7],
      ] as const) {
        const a = randomBits(rng, m, dim);
        const b = randomBits(rng, n, dim);
        const out = new Uint32Array(m * n);
        K.hammingMxN(misaligned(pack(a, dim)), m, misaligned(pack(b, dim)), n, entries(dim) / 2, out);
        const want: number[] = [];
        for (let i = 0; i < m; i++) for (let r = 0; r < n; r++) want.push(oHamming(a[i]!, b[r]!));
        expectEqualArrays(out, want, `hammingMxN D=${dim} m=${m} n=${n}`);
      }
    }
  });
});

describe('topK', () => {
  function oracleTopK(qs: Bits, rows: Bits, k: number): { idx: number[]; dist: number[] } {
    const idx: number[] = [];
    const dist: number[] = [];
    for (const q of qs) {
      const all = rows.map((row, i) => ({ d: oHamming(q, row), i }));
      all.sort((x, y) => x.d - y.d || x.i - y.i);
      for (const e of all.slice(0, k)) {
        idx.push(e.i);
        dist.push(e.d);
      }
    }
    return { idx, dist };
  }

  it('orders by distance then ascending index, with duplicate rows and across row blocks', () => {
    const rng = makeRng(4);
    for (const dim of [1, 33, 64, 129, 1000]) {
      for (const n of [1, 2, 7, 300, 600]) {
        if (dim === 1000 && n > 300) continue;
        // Few distinct rows, so most distances tie and only the index rule decides the order.
        const distinct = randomBits(rng, Math.max(1, Math.min(5, n >> 1)), dim);
        const rows: Bits = [];
        for (let r = 0; r < n; r++) rows.push(distinct[rng() % distinct.length]!);
        const m = 3;
        const qs = randomBits(rng, m - 1, dim);
        qs.push(distinct[0]!);
        for (const k of [0, 1, Math.min(n, 2), Math.floor(n / 2), n]) {
          const outIdx = new Uint32Array(m * k);
          const outDist = new Uint32Array(m * k);
          K.topK(misaligned(pack(qs, dim)), m, misaligned(pack(rows, dim)), n, entries(dim) / 2, k, outIdx, outDist);
          const want = oracleTopK(qs, rows, k);
          expectEqualArrays(outIdx, want.idx, `topK idx D=${dim} n=${n} k=${k}`);
          expectEqualArrays(outDist, want.dist, `topK dist D=${dim} n=${n} k=${k}`);
        }
      }
    }
  });

  it('all rows identical: indices 0..k-1 in order', () => {
    const rng = makeRng(5);
    const dim = 65;
    const row = randomBits(rng, 1, dim)[0]!;
    const rows = Array.from({ length: 520 }, () => row);
    const q = randomBits(rng, 1, dim);
    const k = 300;
    const outIdx = new Uint32Array(k);
    const outDist = new Uint32Array(k);
    K.topK(pack(q, dim), 1, pack(rows, dim), rows.length, entries(dim) / 2, k, outIdx, outDist);
    expectEqualArrays(
      outIdx,
      Array.from({ length: k }, (_, i) => i),
      'identical rows idx',
    );
    expect(new Set(outDist).size).toBe(1);
  });
});

describe('bundle', () => {
  const countsFor = (dim: number): number[] =>
    dim >= 1000
      ? [0, 1, 2, 3, 15, 16, 17, 31, 32, 33, 128, 129]
      : [0, 1, 2, 3, 4, 5, 6, 7, 8, 15, 16, 17, 18, 31, 32, 33, 47, 48, 63, 64, 65, 100, 127, 128, 129, 130];

  it('matches the oracle with and without a tie-breaker', () => {
    const rng = makeRng(6);
    for (const dim of DIMS) {
      for (const k of countsFor(dim)) {
        const rows = randomBits(rng, k, dim, k % 3);
        const tie = randomBits(rng, 1, dim)[0]!;
        const batch = misaligned(pack(rows, dim));
        const len = entries(dim);
        const out = new Uint32Array(len).fill(0xffffffff);
        K.bundle(batch, k, len / 2, null, out);
        expectEqualArrays(out, pack([oMajority(rows, dim, null)], dim), `bundle ones-rule D=${dim} k=${k}`);
        const outT = new Uint32Array(len).fill(0xffffffff);
        K.bundle(batch, k, len / 2, misaligned(pack([tie], dim)), outT);
        expectEqualArrays(outT, pack([oMajority(rows, dim, tie)], dim), `bundle tie D=${dim} k=${k}`);
      }
    }
  });

  it('all ties: complementary pairs give the tie vector, or zeros under the ones rule', () => {
    const rng = makeRng(7);
    for (const dim of DIMS) {
      for (const pairs of [0, 1, 2, 8, 16, 33, 65]) {
        if (dim >= 1000 && pairs > 16) continue;
        const rows: Bits = [];
        for (const row of randomBits(rng, pairs, dim)) rows.push(row, complement(row));
        // Shuffle so pairs straddle the 16-row carry-save groups.
        for (let i = rows.length - 1; i > 0; i--) {
          const j = rng() % (i + 1);
          [rows[i], rows[j]] = [rows[j]!, rows[i]!];
        }
        const tie = randomBits(rng, 1, dim)[0]!;
        const len = entries(dim);
        const out = new Uint32Array(len);
        K.bundle(pack(rows, dim), rows.length, len / 2, pack([tie], dim), out);
        expectEqualArrays(out, pack([tie], dim), `all-ties tie D=${dim} pairs=${pairs}`);
        K.bundle(pack(rows, dim), rows.length, len / 2, null, out);
        expectEqualArrays(out, new Uint32Array(len), `all-ties ones D=${dim} pairs=${pairs}`);
      }
    }
  });

  it('exact halves and large counts exercise the high counter planes', () => {
    const rng = makeRng(8);
    for (const dim of [33, 65, 129]) {
      for (const k of [256, 257, 1000, 4097]) {
        // Bit i is one in about `share` of the rows, with shares near one half.
        const rows: Bits = [];
        const shares = Array.from({ length: dim }, (_, i) => [0, 1, 0.5, 0.49, 0.51][i % 5]!);
        for (let r = 0; r < k; r++) {
          rows.push(Uint8Array.from(shares, (s) => (rng() / 2 ** 32 < s ? 1 : 0)));
        }
        // An exact half in column 2 when k is even.
        for (let r = 0; r < k; r++) rows[r]![2] = r < k / 2 ? 1 : 0;
        const tie = randomBits(rng, 1, dim)[0]!;
        const len = entries(dim);
        const out = new Uint32Array(len);
        K.bundle(pack(rows, dim), k, len / 2, pack([tie], dim), out);
        expectEqualArrays(out, pack([oMajority(rows, dim, tie)], dim), `bundle large D=${dim} k=${k}`);
        K.bundle(pack(rows, dim), k, len / 2, null, out);
        expectEqualArrays(out, pack([oMajority(rows, dim, null)], dim), `bundle large ones D=${dim} k=${k}`);
      }
    }
  });
});

describe('counters', () => {
  const extremes = [2 ** 31 - 1, -(2 ** 31), 2 ** 31 - 2, -(2 ** 31) + 1, 0, 1, -1];

  function randomCounters(rng: () => number, n: number, mode: 'small' | 'wide' | 'extreme'): Int32Array {
    const c = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const v = rng();
      c[i] = mode === 'small' ? (v % 7) - 3 : mode === 'wide' ? v | 0 : extremes[v % extremes.length]!;
    }
    return c;
  }

  it('accAdd wraps like int32 for weights near +-2^31 and null weights', () => {
    const rng = makeRng(9);
    for (const dim of DIMS) {
      for (const n of [0, 1, 2, 5]) {
        const rows = randomBits(rng, n, dim);
        const batch = misaligned(pack(rows, dim));
        for (const wmode of ['null', 'small', 'extreme'] as const) {
          const weights = wmode === 'null' ? null : randomCounters(rng, n, wmode === 'small' ? 'small' : 'extreme');
          for (const cmode of ['small', 'extreme'] as const) {
            const init = randomCounters(rng, dim, cmode);
            const want = oAccAdd(init, rows, weights);
            const got = misaligned(init);
            K.accAdd(got, dim, batch, n, weights === null ? null : misaligned(weights));
            expectEqualArrays(got, want, `accAdd D=${dim} n=${n} w=${wmode} c=${cmode}`);
          }
        }
      }
    }
  });

  it('threshold matches the oracle with zeros, tie vector and the ones rule', () => {
    const rng = makeRng(10);
    for (const dim of DIMS) {
      for (const m of [0, 1, 3]) {
        const counters = randomCounters(rng, m * dim, 'small');
        const tie = randomBits(rng, 1, dim)[0]!;
        const len = entries(dim);
        for (const t of [null, tie]) {
          const out = new Uint32Array(m * len).fill(0xffffffff);
          K.threshold(misaligned(counters), m, dim, t === null ? null : pack([t], dim), out);
          const want: Bits = [];
          for (let c = 0; c < m; c++) want.push(oThreshold(counters.subarray(c * dim, (c + 1) * dim), t));
          expectEqualArrays(out, pack(want, dim), `threshold D=${dim} m=${m} tie=${t !== null}`);
        }
      }
    }
  });

  it('dotCounters gives exact integers, including extreme counters', () => {
    const rng = makeRng(11);
    for (const dim of DIMS) {
      for (const [n, m] of [
        [0, 2],
        [2, 0],
        [1, 1],
        [4, 3],
      ] as const) {
        for (const cmode of ['small', 'wide', 'extreme'] as const) {
          const rows = randomBits(rng, n, dim, rng() % 3);
          const counters = randomCounters(rng, m * dim, cmode);
          const out = new Float64Array(n * m).fill(Number.NaN);
          K.dotCounters(misaligned(pack(rows, dim)), n, misaligned(counters), m, dim, out);
          const want: number[] = [];
          for (let r = 0; r < n; r++) {
            for (let c = 0; c < m; c++) {
              let s = 0n;
              for (let i = 0; i < dim; i++) s += BigInt(counters[c * dim + i]!) * (rows[r]![i] ? -1n : 1n);
              want.push(Number(s));
            }
          }
          expectEqualArrays(out, want, `dotCounters D=${dim} n=${n} m=${m} c=${cmode}`);
        }
      }
    }
  });

  it('dotCounters stays exact past 2^22 bits, where double partial sums would round', () => {
    const rng = makeRng(16);
    const dim = 2 ** 22 + 2 ** 20 + 7;
    const counters = new Int32Array(dim).fill(2 ** 31 - 1);
    for (let i = 0; i < 300; i++) counters[rng() % dim] = -(2 ** 31);
    const rows = [new Uint8Array(dim), new Uint8Array(dim)];
    for (let i = 0; i < 5000; i++) rows[1]![rng() % dim] = 1;
    const out = new Float64Array(2);
    K.dotCounters(pack(rows, dim), 2, counters, 1, dim, out);
    const want = rows.map((row) => {
      let s = 0n;
      for (let i = 0; i < dim; i++) s += row[i] ? -BigInt(counters[i]!) : BigInt(counters[i]!);
      return Number(s);
    });
    expect(Math.abs(want[0]!)).toBeGreaterThan(2 ** 53);
    expectEqualArrays(out, want, 'dotCounters huge dim');
  });

  it('bundleWeighted is the sign of the wrapped weighted sum, ties by the tie rule', () => {
    const rng = makeRng(12);
    for (const dim of DIMS) {
      for (const k of [0, 1, 2, 3, 8, 33]) {
        const rows = randomBits(rng, k, dim);
        const tie = randomBits(rng, 1, dim)[0]!;
        for (const wmode of ['small', 'extreme'] as const) {
          const weights = randomCounters(rng, k, wmode);
          const sum = oAccAdd(new Int32Array(dim), rows, weights);
          const len = entries(dim);
          for (const t of [null, tie]) {
            const out = new Uint32Array(len).fill(0xffffffff);
            K.bundleWeighted(misaligned(pack(rows, dim)), k, dim, weights, t === null ? null : pack([t], dim), out);
            expectEqualArrays(out, pack([oThreshold(sum, t)], dim), `bundleWeighted D=${dim} k=${k} w=${wmode}`);
          }
        }
      }
    }
  });

  it('bundleWeighted with unit weights equals bundle', () => {
    const rng = makeRng(13);
    for (const dim of [65, 1000]) {
      for (const k of [4, 7, 130]) {
        const rows = randomBits(rng, k, dim);
        const tie = pack(randomBits(rng, 1, dim), dim);
        const a = new Uint32Array(entries(dim));
        const b = new Uint32Array(entries(dim));
        K.bundleWeighted(pack(rows, dim), k, dim, new Int32Array(k).fill(1), tie, a);
        K.bundle(pack(rows, dim), k, entries(dim) / 2, tie, b);
        expectEqualArrays(a, b, `weighted vs plain D=${dim} k=${k}`);
      }
    }
  });
});

describe('permute', () => {
  it('rotates bit i to (i + k) mod dim for zero, negative and huge k', () => {
    const rng = makeRng(14);
    for (const dim of DIMS) {
      const n = 2;
      const rows = randomBits(rng, n, dim, rng() % 3);
      const input = misaligned(pack(rows, dim));
      const ks = [
        0,
        1,
        -1,
        63,
        -63,
        64,
        -64,
        31,
        32,
        -33,
        dim,
        -dim,
        3 * dim + 5,
        -(3 * dim + 5),
        2 ** 40 + 3,
        -(2 ** 53) + 1,
      ];
      for (const k of ks) {
        const out = new Uint32Array(n * entries(dim)).fill(0xffffffff);
        K.permute(input, n, dim, k, out);
        expectEqualArrays(
          out,
          pack(
            rows.map((row) => oPermute(row, k)),
            dim,
          ),
          `permute D=${dim} k=${k}`,
        );
      }
    }
  });

  it('permute by k then -k is the identity', () => {
    const rng = makeRng(15);
    const dim = 1000;
    const packed = pack(randomBits(rng, 3, dim), dim);
    const tmp = new Uint32Array(packed.length);
    const back = new Uint32Array(packed.length);
    for (const k of [7, 500, 999, 12345]) {
      K.permute(packed, 3, dim, k, tmp);
      K.permute(tmp, 3, dim, -k, back);
      expectEqualArrays(back, packed, `round trip k=${k}`);
    }
  });
});
