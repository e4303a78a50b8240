// HIL cosine scores against the reference formula, bit for bit. HIL.scores computes the
// integer dot products from bit planes of the counters and one Hamming matrix instead of
// dotCounters (lib/model/planes.ts); these tests hold it to dotCounters(...) / (sqrt(dim) * norm)
// exactly, on whichever backend the environment selects (npm test runs this file on native and
// again with HDGLUE_BACKEND=js).
import { describe, expect, it } from 'vitest';
import { backend } from '../lib/backend/index.js';
import { HIL, HVBatch, type Label, randomHV } from '../lib/index.js';
import { setGramLimit, setOnlineEngine } from '../lib/model/refine.js';
import { prng, randomRows } from './helpers.js';

// Enough queries that the layer builds its planes on the first call (lib/model/planes.ts builds them
// once 256 queries have been scored since the last change); single queries afterwards reuse them.
const BATCH = 300;

/** The original scoring: backend dotCounters, then the dot over sqrt(dim) * ||counters||. */
function reference(hil: HIL, q: HVBatch): Float64Array {
  const c = hil.classes;
  const dim = hil.dim;
  const all = new Int32Array(c * dim);
  for (const [k, l] of hil.labels.entries()) all.set(hil.counters(l), k * dim);
  const out = new Float64Array(q.count * c);
  backend().dotCounters(q.data, q.count, all, c, dim, out);
  const qn = Math.sqrt(dim);
  for (let k = 0; k < c; k++) {
    let s = 0;
    for (let i = k * dim; i < (k + 1) * dim; i++) s += (all[i] as number) ** 2;
    const nk = Math.sqrt(s);
    for (let r = 0; r < q.count; r++) {
      out[r * c + k] = nk > 0 ? (out[r * c + k] as number) / (qn * nk) : 0;
    }
  }
  return out;
}

/** Same doubles, bit for bit (so -0 and 0 differ, as do any two NaNs' payloads). */
function expectBitIdentical(got: Float64Array, want: Float64Array) {
  expect(got.length).toBe(want.length);
  const g = new BigUint64Array(got.buffer, got.byteOffset, got.length);
  const w = new BigUint64Array(want.buffer, want.byteOffset, want.length);
  let bad = -1;
  for (let i = 0; i < g.length; i++) {
    if (g[i] !== w[i]) {
      bad = i;
      break;
    }
  }
  expect(bad < 0 ? 'identical' : `index ${bad}: ${got[bad]} vs ${want[bad]}`).toBe('identical');
}

function queries(dim: number, n: number, seed: number): HVBatch {
  return new HVBatch(dim, n, randomRows(dim, n, prng(seed)));
}

/** Scores of a big batch (plane path), of single queries after it, and of a fresh layer's single query. */
function checkAll(hil: HIL, seed: number) {
  const q = queries(hil.dim, BATCH, seed);
  expectBitIdentical(hil.scores(q), reference(hil, q));
  expectBitIdentical(hil.scores(q, { metric: 'cosine' }), reference(hil, q));
  const one = new HVBatch(hil.dim, 1, q.data.slice(0, q.data.length / BATCH));
  expectBitIdentical(hil.scores(one), reference(hil, one));
  // The prediction path (argmax over the same scores) agrees too.
  const ref = reference(hil, q);
  const c = hil.classes;
  const want = Array.from({ length: BATCH }, (_, r) => {
    let best = 0;
    for (let k = 1; k < c; k++) if ((ref[r * c + k] as number) > (ref[r * c + best] as number)) best = k;
    return hil.labels[best];
  });
  expect(hil.predict(q)).toEqual(want);
}

/** A layer with exactly these counters (one row of `dim` per class). */
function withCounters(dim: number, counters: Int32Array): HIL {
  const classes = counters.length / dim;
  const labels = Array.from({ length: classes }, (_, k) => k);
  return HIL.fromModel(
    { dim, seed: '0', tie: 'tiebreak', metric: 'cosine', labels, counts: labels.map(() => 1) },
    new Uint8Array(counters.buffer, counters.byteOffset, counters.byteLength),
  );
}

type Fill = (next: () => number, i: number, k: number) => number;

const fills: Record<string, Fill> = {
  'small, mixed sign and parity': (next) => (next() % 401) - 200,
  'near +-2^30': (next) => (next() & 1 ? 1 : -1) * (2 ** 30 - (next() % 1000)),
  'full int32 range': (next) => next() | 0,
  'int32 extremes': (next) => (next() & 1 ? 0x7fffffff : -0x80000000),
  'all negative': (next) => -1 - (next() % 5000),
  'all positive, one bit': (next) => 1 + (next() & 1),
  'sparse: mostly zero': (next) => (next() % 50 === 0 ? (next() % 2001) - 1000 : 0),
};

describe(`HIL cosine scores on the ${process.env.HDGLUE_BACKEND ?? 'default'} backend`, () => {
  for (const dim of [1, 63, 65, 1001, 10000]) {
    for (const classes of [1, 3, 23]) {
      it(`dim ${dim}, ${classes} classes: every counter pattern`, () => {
        let seed = dim * 131 + classes;
        for (const [name, fill] of Object.entries(fills)) {
          const next = prng(seed++);
          const counters = new Int32Array(classes * dim);
          for (let k = 0; k < classes; k++) for (let i = 0; i < dim; i++) counters[k * dim + i] = fill(next, i, k);
          const hil = withCounters(dim, counters);
          try {
            checkAll(hil, seed++);
          } catch (e) {
            throw new Error(`${name}: ${(e as Error).message}`);
          }
        }
      });
    }
  }

  it('zero and constant classes (norm 0 scores 0; a constant class has no planes)', () => {
    for (const dim of [1, 65, 1001]) {
      const next = prng(dim);
      const counters = new Int32Array(5 * dim);
      for (let i = 0; i < dim; i++) {
        counters[i] = 0; // class 0: all zero
        counters[dim + i] = 7; // class 1: constant
        counters[2 * dim + i] = -(2 ** 30); // class 2: constant, large
        counters[3 * dim + i] = (next() % 21) - 10; // class 3: ordinary
        counters[4 * dim + i] = i === 0 ? 5 : 0; // class 4: one counter
      }
      const hil = withCounters(dim, counters);
      checkAll(hil, dim + 1);
      const q = queries(dim, BATCH, 9);
      const s = hil.scores(q);
      for (let r = 0; r < BATCH; r++) expect(Object.is(s[r * 5], 0)).toBe(true);
    }
  });

  it('one class and many classes', () => {
    for (const classes of [1, 120]) {
      const dim = 1001;
      const next = prng(classes);
      const counters = Int32Array.from({ length: classes * dim }, () => (next() % 3001) - 1500);
      checkAll(withCounters(dim, counters), classes);
    }
  });

  it('counters too large for exact plane arithmetic still score exactly', () => {
    // dim 2^20 with counters near +-2^31 puts the plane sums past 2^53: the layer must notice and
    // score through dotCounters instead.
    const dim = 2 ** 20;
    const next = prng(77);
    const counters = Int32Array.from({ length: dim }, () => (next() & 1 ? 0x7fffffff - (next() % 3) : -0x80000000));
    const hil = withCounters(dim, counters);
    const q = queries(dim, BATCH, 78);
    expectBitIdentical(hil.scores(q), reference(hil, q));
  });

  it('stays exact through fit, partialFit, forget, refine and removeClass', () => {
    const dim = 1001;
    const next = prng(5);
    const centers = [0, 1, 2, 3].map(() => randomRows(dim, 1, next));
    // Noisy copies of a center per class: flip each bit with probability ~3/8.
    const sample = (k: number, n: number) => {
      const data = randomRows(dim, n, next, 0.25);
      for (let r = 0; r < n; r++)
        for (let j = 0; j < centers[k]!.length; j++) data[r * centers[k]!.length + j] ^= centers[k]![j]!;
      return data;
    };
    const build = (ks: number[]) => {
      const stride = 2 * Math.ceil(dim / 64);
      const data = new Uint32Array(ks.length * stride);
      for (const [r, k] of ks.entries()) data.set(sample(k, 1), r * stride);
      return { hvs: new HVBatch(dim, ks.length, data), labels: ks.map((k) => `c${k}` as Label) };
    };
    const a = build(Array.from({ length: 90 }, (_, i) => i % 3));
    const b = build(Array.from({ length: 30 }, (_, i) => (i % 2 ? 3 : 1)));
    const hil = new HIL({ dim });
    hil.fit(a.hvs, a.labels);
    checkAll(hil, 100);
    hil.partialFit(b.hvs, b.labels);
    checkAll(hil, 101);
    hil.forget(b.hvs, b.labels);
    checkAll(hil, 102);
    hil.partialFit(b.hvs, b.labels);
    const history = hil.refine(a.hvs, a.labels, { epochs: 5, margin: 0.5 });
    expect(history.some((h) => h.updates > 0)).toBe(true);
    checkAll(hil, 103);
    hil.refine(a.hvs, a.labels, { epochs: 4, validation: { hvs: b.hvs, labels: b.labels }, patience: 1 });
    checkAll(hil, 104);
    hil.removeClass('c1');
    checkAll(hil, 105);
    hil.fit(b.hvs, b.labels);
    checkAll(hil, 106);
  });
});

describe('refine: incremental dots from the Gram matrix are the rescoring path (batch) and the primal driver (online), bit for bit', () => {
  // Clusters close enough that margin updates keep happening for many epochs.
  function clusters(dim: number, classes: number, perClass: number, noise: number, seed: number) {
    const next = prng(seed);
    const rows: Int8Array[] = [];
    const labels: Label[] = [];
    for (let i = 0; i < perClass; i++) {
      for (let c = 0; c < classes; c++) {
        const v = randomHV(dim, `near/${c % 3}`).toBipolar();
        const w = randomHV(dim, `near/class/${c}`).toBipolar();
        for (let j = 0; j < dim; j++) {
          if (j % 16 === 0) v[j] = w[j] as number; // one bit in 16 tells the class
          if (next() / 2 ** 32 < noise) v[j] = -(v[j] as number);
        }
        rows.push(v);
        labels.push(c);
      }
    }
    const flat = new Int8Array(rows.length * dim);
    rows.forEach((r, i) => {
      flat.set(r, i * dim);
    });
    return { hvs: HVBatch.fromBipolar(flat, rows.length, dim), labels };
  }

  const cases = [
    { rule: 'adapt' as const, margin: 0.2, dim: 1000, classes: 6, perClass: 30 },
    { rule: 'adapt' as const, margin: 0, dim: 70, classes: 4, perClass: 25, noise: 0.4 },
    { rule: 'tutorial' as const, margin: 0.2, dim: 513, classes: 5, perClass: 20 },
  ];
  for (const c of cases.flatMap((k) => (['batch', 'online'] as const).map((schedule) => ({ ...k, schedule })))) {
    it(`${c.schedule}, ${c.rule}, margin ${c.margin}, D ${c.dim}`, () => {
      const data = clusters(c.dim, c.classes, c.perClass, 'noise' in c ? (c.noise as number) : 0.3, c.dim);
      const run = (limit: number) => {
        const old = setGramLimit(limit);
        const engine = setOnlineEngine(limit > 0 ? 'dual' : 'primal');
        try {
          const hil = new HIL({ dim: c.dim, seed: 3 }).fit(data.hvs, data.labels);
          const history = hil.refine(data.hvs, data.labels, {
            epochs: 15,
            margin: c.margin,
            rule: c.rule,
            schedule: c.schedule,
          });
          return { history, counters: hil.labels.map((l) => Array.from(hil.counters(l))) };
        } finally {
          setGramLimit(old);
          setOnlineEngine(engine);
        }
      };
      const incremental = run(1 << 20);
      const rescored = run(0);
      expect(incremental.history.length).toBeGreaterThan(3);
      expect(incremental.history.some((e) => e.updates > 0)).toBe(true);
      expect(incremental.history).toEqual(rescored.history);
      expect(incremental.counters).toEqual(rescored.counters);
    });
  }
});
