// The online schedule of HIL.refine (lib/model/refine-online.ts) against a plain reference written here: one
// row at a time in epochOrder's order, dots from dotCounters, cosine scores, the margin rule,
// immediate updates. npm test runs this file on the native backend and with HDGLUE_BACKEND=js,
// and both engines (dual Gram, primal driver) must give the reference's counters exactly.
import { describe, expect, it } from 'vitest';
import { backend } from '../lib/backend/index.js';
import { ErrorCode, HIL, HVBatch, type Label, randomHV } from '../lib/index.js';
import { setOnlineEngine } from '../lib/model/refine.js';
import { epochOrder } from '../lib/model/refine-online.js';
import { expectCode, prng } from './helpers.js';

function dataset(dim: number, classes: number, perClass: number, noise: number, seed: number) {
  const next = prng(seed);
  const flat = new Int8Array(classes * perClass * dim);
  const labels: Label[] = [];
  let r = 0;
  for (let i = 0; i < perClass; i++) {
    for (let c = 0; c < classes; c++) {
      const v = randomHV(dim, `online/${c}`).toBipolar();
      for (let j = 0; j < dim; j++) if (next() / 2 ** 32 < noise) v[j] = -(v[j] as number);
      flat.set(v, r++ * dim);
      labels.push(c);
    }
  }
  return { hvs: HVBatch.fromBipolar(flat, labels.length, dim), labels };
}

/** The online perceptron with a margin, written plainly; returns the counters of every class and each epoch's counts. */
function reference(
  hvs: HVBatch,
  labels: Label[],
  o: { epochs: number; margin: number; adapt: boolean; seed: bigint },
): { counters: Int32Array[]; epochs: { errors: number; updates: number }[] } {
  const dim = hvs.dim;
  const classes = [...new Set(labels)];
  const c = classes.length;
  const truth = labels.map((l) => classes.indexOf(l));
  const counters = new Int32Array(c * dim);
  const stride = hvs.data.length / hvs.count;
  const row = (i: number) => hvs.data.subarray(i * stride, (i + 1) * stride);
  for (let i = 0; i < hvs.count; i++) {
    const t = truth[i] as number;
    backend().accAdd(counters.subarray(t * dim, (t + 1) * dim), dim, row(i), 1, null);
  }
  const out: { errors: number; updates: number }[] = [];
  for (let e = 1; e <= o.epochs; e++) {
    let errors = 0;
    let updates = 0;
    for (const i of epochOrder(hvs.count, o.seed, e)) {
      const t = truth[i] as number;
      const dots = new Float64Array(c);
      backend().dotCounters(row(i), 1, counters, c, dim, dots);
      const s = Array.from({ length: c }, (_, k) => {
        let q = 0;
        for (let j = k * dim; j < (k + 1) * dim; j++) q += (counters[j] as number) ** 2;
        return q > 0 ? (dots[k] as number) / (Math.sqrt(dim) * Math.sqrt(q)) : 0;
      });
      let p = 0;
      for (let k = 1; k < c; k++) if ((s[k] as number) > (s[p] as number)) p = k;
      let rival = p;
      if (p === t) {
        rival = -1;
        for (let k = 0; k < c; k++) if (k !== t && (rival < 0 || (s[k] as number) > (s[rival] as number))) rival = k;
      } else errors++;
      const lead = rival < 0 ? Number.POSITIVE_INFINITY : (s[t] as number) - (s[rival] as number);
      if (p === t && !(lead < o.margin)) continue;
      updates++;
      backend().accAdd(counters.subarray(t * dim, (t + 1) * dim), dim, row(i), 1, null);
      if (o.adapt && rival >= 0)
        backend().accAdd(counters.subarray(rival * dim, (rival + 1) * dim), dim, row(i), 1, new Int32Array([-1]));
    }
    out.push({ errors, updates });
    if (updates === 0) break;
  }
  return { counters: classes.map((_, k) => counters.slice(k * dim, (k + 1) * dim)), epochs: out };
}

describe('epochOrder', () => {
  it('is a permutation, a pure function of (n, seed, epoch), different across epochs and seeds', () => {
    const a = epochOrder(1000, 7n, 1);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(epochOrder(1000, 7n, 1)).toEqual(a);
    expect(epochOrder(1000, 7n, 2)).not.toEqual(a);
    expect(epochOrder(1000, 8n, 1)).not.toEqual(a);
    expect(epochOrder(0, 7n, 1).length).toBe(0);
    expect(Array.from(epochOrder(1, 7n, 1))).toEqual([0]);
  });
});

describe('refine, online schedule', () => {
  const cases = [
    { dim: 1000, classes: 6, perClass: 30, noise: 0.47, margin: 0.2, adapt: true, seed: 3n },
    { dim: 70, classes: 4, perClass: 25, noise: 0.4, margin: 0, adapt: true, seed: 5n },
    { dim: 513, classes: 5, perClass: 20, noise: 0.46, margin: 0.1, adapt: false, seed: 11n },
    { dim: 64, classes: 2, perClass: 40, noise: 0.45, margin: 0.3, adapt: true, seed: 0n },
  ];
  for (const c of cases) {
    for (const engine of ['dual', 'primal'] as const) {
      it(`${engine} engine equals the plain reference: D ${c.dim}, ${c.classes} classes, margin ${c.margin}, ${c.adapt ? 'adapt' : 'tutorial'}`, () => {
        const data = dataset(c.dim, c.classes, c.perClass, c.noise, c.dim);
        const old = setOnlineEngine(engine);
        try {
          const hil = new HIL({ dim: c.dim, seed: c.seed }).fit(data.hvs, data.labels);
          const history = hil.refine(data.hvs, data.labels, {
            epochs: 12,
            margin: c.margin,
            rule: c.adapt ? 'adapt' : 'tutorial',
          });
          const ref = reference(data.hvs, data.labels, { epochs: 12, margin: c.margin, adapt: c.adapt, seed: c.seed });
          expect(history.some((e) => e.updates > 0)).toBe(true);
          expect(history.map((e) => ({ errors: e.trainErrors, updates: e.updates }))).toEqual(ref.epochs);
          expect(hil.labels.map((l) => Array.from(hil.counters(l)))).toEqual(ref.counters.map((x) => Array.from(x)));
        } finally {
          setOnlineEngine(old);
        }
      });
    }
  }

  it('is the default with the cosine metric; the order seed defaults to the layer seed and changes the result', () => {
    const data = dataset(500, 5, 30, 0.4, 1);
    const fitted = (seed: number) => new HIL({ dim: 500, seed }).fit(data.hvs, data.labels);
    const a = fitted(4);
    a.refine(data.hvs, data.labels, { epochs: 5, margin: 0.2 });
    const b = fitted(4);
    b.refine(data.hvs, data.labels, { epochs: 5, margin: 0.2, schedule: 'online', seed: 4 });
    const c = fitted(4);
    c.refine(data.hvs, data.labels, { epochs: 5, margin: 0.2, seed: 9 });
    const d = fitted(4);
    d.refine(data.hvs, data.labels, { epochs: 5, margin: 0.2, schedule: 'batch' });
    expect(a.counters(0)).toEqual(b.counters(0));
    expect(a.counters(0)).not.toEqual(c.counters(0));
    expect(a.counters(0)).not.toEqual(d.counters(0));
  });

  it('keep: best keeps the epoch with the fewest training errors; validation keeps the best validation state', () => {
    const data = dataset(256, 8, 40, 0.46, 5);
    const errorsOf = (h: HIL) => 320 - Math.round(h.accuracy(data.hvs, data.labels) * 320);
    const hil = new HIL({ dim: 256 }).fit(data.hvs, data.labels);
    const seen = [errorsOf(hil)];
    hil.refine(data.hvs, data.labels, {
      epochs: 10,
      margin: 0.2,
      keep: 'best',
      onEpoch: () => seen.push(errorsOf(hil)),
    });
    expect(seen.length).toBeGreaterThan(3);
    expect(errorsOf(hil)).toBe(Math.min(...seen));
    // The last state differs from the best one here, so 'last' is not a lucky 'best'.
    const last = new HIL({ dim: 256 }).fit(data.hvs, data.labels);
    last.refine(data.hvs, data.labels, { epochs: 10, margin: 0.2 });
    expect(errorsOf(last)).toBe(seen.at(-1));
    expect(Math.min(...seen)).toBeLessThan(seen.at(-1) as number);
    const val = dataset(256, 8, 10, 0.46, 4);
    const v = new HIL({ dim: 256 }).fit(data.hvs, data.labels);
    const vh = v.refine(data.hvs, data.labels, { epochs: 10, margin: 0.05, validation: val });
    expect(vh.every((e) => typeof e.validationAccuracy === 'number')).toBe(true);
    expect(v.accuracy(val.hvs, val.labels)).toBeGreaterThanOrEqual(
      Math.max(...vh.map((e) => e.validationAccuracy as number)),
    );
  });

  it('restores the entry state when onEpoch throws, and refuses runs that could leave the exact range', () => {
    const data = dataset(300, 4, 20, 0.45, 6);
    for (const schedule of ['online', 'batch'] as const) {
      const hil = new HIL({ dim: 300 }).fit(data.hvs, data.labels);
      const before = hil.labels.map((l) => Array.from(hil.counters(l)));
      const boom = () => {
        throw new Error('boom');
      };
      expect(() => hil.refine(data.hvs, data.labels, { epochs: 5, margin: 0.3, schedule, onEpoch: boom })).toThrow(
        'boom',
      );
      expect(hil.labels.map((l) => Array.from(hil.counters(l)))).toEqual(before);
    }
    // 3,000 rows x 10^6 epochs could move a counter past 2^31: refused before any epoch runs.
    const many = dataset(64, 3, 1000, 0.45, 7);
    const hil = new HIL({ dim: 64 }).fit(many.hvs, many.labels);
    const before = hil.counters(0);
    expectCode(() => hil.refine(many.hvs, many.labels, { epochs: 1_000_000 }), 'ERR_HDGLUE_LIMIT');
    expect(hil.counters(0)).toEqual(before);
  });

  it('refuses a bad schedule, keep or seed, and the Hamming metric online, changing nothing', () => {
    const data = dataset(128, 3, 10, 0.3, 2);
    const hil = new HIL({ dim: 128 }).fit(data.hvs, data.labels);
    const before = hil.counters(0);
    expectCode(() => hil.refine(data.hvs, data.labels, { schedule: 'sometimes' as never }), ErrorCode.OUT_OF_RANGE);
    expectCode(() => hil.refine(data.hvs, data.labels, { keep: 'first' as never }), ErrorCode.OUT_OF_RANGE);
    expectCode(() => hil.refine(data.hvs, data.labels, { seed: -1 }), ErrorCode.OUT_OF_RANGE);
    expectCode(
      () => hil.refine(data.hvs, data.labels, { schedule: 'online', metric: 'hamming' }),
      ErrorCode.OUT_OF_RANGE,
    );
    expect(hil.counters(0)).toEqual(before);
    // The Hamming metric alone picks the batch schedule.
    const h = new HIL({ dim: 128, metric: 'hamming' }).fit(data.hvs, data.labels);
    expect(h.refine(data.hvs, data.labels, { epochs: 2 }).length).toBeGreaterThan(0);
  });
});
