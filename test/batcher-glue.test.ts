// glueBatcher: a request's labels through the batcher are the labels glue.predictAsync gives it
// alone, whatever shares its calls. Property-style: seeded random requests (sizes, members
// present, array types) submitted in seeded random interleavings (same turn, microtasks, next
// turn, short timers), over several glues (vote with both encoders and weights, the nearest
// readout, concat, tutorial, string labels) and batcher settings. Runs on whichever backend
// HDGLUE_BACKEND selects (the native one by default, the TypeScript one with =js).
import { describe, expect, it } from 'vitest';
import {
  type Consensus,
  EmbeddingEncoder,
  type GlueInputs,
  glueBatcher,
  HDGlue,
  HIL,
  type Label,
  type Metric,
  ProjectionEncoder,
} from '../lib/index.js';
import { prng } from './helpers.js';

interface MemberSpec {
  name: string;
  features: number;
  make: (features: number) => EmbeddingEncoder | ProjectionEncoder;
  weight?: number;
  nearest?: boolean;
}

const DIM = 384;
const MEMBERS: MemberSpec[] = [
  { name: 'img', features: 6, make: (f) => new EmbeddingEncoder({ features: f, dim: DIM, bins: 16, seed: 1 }) },
  {
    name: 'txt',
    features: 9,
    make: (f) => new ProjectionEncoder({ features: f, dim: DIM, seed: 2, scale: 2 }),
    weight: 0.5,
  },
  {
    name: 'aud',
    features: 4,
    make: (f) => new EmbeddingEncoder({ features: f, dim: DIM, bins: 8, levels: 'random', seed: 3, range: [-2, 2] }),
    weight: 2,
  },
];

/** Rows of a member for the given labels: a class-dependent pattern plus seeded noise. */
function rowsFor(m: MemberSpec, labels: readonly Label[], classes: readonly Label[], next: () => number): Float64Array {
  const x = new Float64Array(labels.length * m.features);
  labels.forEach((l, r) => {
    const c = classes.indexOf(l);
    for (let k = 0; k < m.features; k++)
      x[r * m.features + k] = Math.sin(c * 1.7 + k * (m.features % 5) + 1) + (next() / 2 ** 32 - 0.5) * 1.5;
  });
  return x;
}

interface GlueCase {
  name: string;
  consensus: Consensus;
  classes: Label[];
  nearest?: boolean;
  /** Options every prediction uses (given to the batcher and to predictAsync alike). */
  predict?: { consensus?: Consensus; metric?: Metric };
}

const CASES: GlueCase[] = [
  { name: 'vote, two encoders, weights', consensus: 'vote', classes: [0, 1, 2, 3] },
  { name: "vote, metric 'hamming'", consensus: 'vote', classes: [0, 1, 2], predict: { metric: 'hamming' } },
  { name: 'vote, nearest readout, string labels', consensus: 'vote', classes: ['cat', 'dog', 'eel'], nearest: true },
  { name: 'concat', consensus: 'concat', classes: [3, 1, 4, 5] },
  { name: "concat glue predicting with 'vote'", consensus: 'concat', classes: [0, 1], predict: { consensus: 'vote' } },
  { name: 'tutorial', consensus: 'tutorial', classes: [0, 1, 2] },
];

function makeGlue(c: GlueCase): HDGlue {
  const g = new HDGlue({ consensus: c.consensus, seed: 9 });
  for (const m of MEMBERS) {
    const encoder = m.make(m.features);
    const hil = new HIL({ dim: DIM, readout: c.nearest ? 'nearest' : 'prototype' });
    g.addMember(m.name, { encoder, hil, weight: m.weight ?? 1 });
  }
  const next = prng(17);
  const n = 90;
  const labels = Array.from({ length: n }, (_, i) => c.classes[i % c.classes.length] as Label);
  const inputs = Object.fromEntries(MEMBERS.map((m) => [m.name, rowsFor(m, labels, c.classes, next)]));
  g.fit(inputs, labels);
  return g;
}

/** A random request: 1 row mostly, sometimes a few, rarely more than maxBatch; members as the rule allows; mixed array types. */
function randomRequest(c: GlueCase, next: () => number, maxBatch: number): GlueInputs {
  const u = next() / 2 ** 32;
  const rows = u < 0.6 ? 1 : u < 0.9 ? 2 + (next() % 5) : 1 + (next() % Math.ceil(maxBatch * 1.5));
  const all = (c.predict?.consensus ?? c.consensus) === 'concat';
  let present = MEMBERS.filter(() => all || next() % 2 === 0);
  if (present.length === 0) present = [MEMBERS[next() % MEMBERS.length] as MemberSpec];
  const labels = Array.from({ length: rows }, () => c.classes[next() % c.classes.length] as Label);
  const req: GlueInputs = {};
  for (const m of present) {
    const x = rowsFor(m, labels, c.classes, next);
    const form = next() % 3;
    req[m.name] =
      form === 0
        ? new Float32Array(x)
        : form === 1
          ? x
          : Array.from({ length: rows }, (_, r) => Array.from(x.subarray(r * m.features, (r + 1) * m.features)));
  }
  return req;
}

/** Wait a seeded random while: nothing, a microtask, the next turn, or a timer of 0-3 ms. */
function pause(next: () => number): Promise<void> | undefined {
  const k = next() % 5;
  if (k === 0) return undefined;
  if (k === 1) return Promise.resolve();
  if (k === 2) return new Promise((r) => setImmediate(r));
  return new Promise((r) => setTimeout(r, next() % 4));
}

describe('glueBatcher: labels identical to predictAsync alone', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const glue = makeGlue(c);
      for (let trial = 0; trial < 6; trial++) {
        const next = prng(1000 * trial + CASES.indexOf(c));
        const maxBatch = [1, 3, 16, 256, 7, 64][trial] as number;
        // Calls that served more than one request: coalescing happened.
        let shared = 0;
        const batcher = glueBatcher(glue, {
          ...c.predict,
          maxBatch,
          maxWaitMs: [0, 1, 2, 0, 3, 0.5][trial] as number,
          concurrency: 1 + (trial % 3),
          onBatch: (info) => {
            expect(info.rows).toBeLessThanOrEqual(maxBatch);
            if (info.requests > 1) shared++;
          },
        });
        const reqs = Array.from({ length: 40 }, () => randomRequest(c, next, maxBatch));
        const pending: Promise<Label[]>[] = [];
        for (const r of reqs) {
          pending.push(batcher.submit(r));
          const p = pause(next);
          if (p) await p;
        }
        const got = await Promise.all(pending);
        await batcher.close();
        for (let i = 0; i < reqs.length; i++) {
          const alone = await glue.predictAsync(reqs[i] as GlueInputs, c.predict);
          expect(got[i], `trial ${trial}, request ${i}`).toEqual(alone);
        }
        // One row per call cannot be shared; with room for more, requests did share calls.
        if (maxBatch > 1) expect(shared, `trial ${trial}`).toBeGreaterThan(0);
      }
    });
  }
});

describe('glueBatcher: requests the glue refuses', () => {
  const c = CASES[0] as GlueCase;
  const glue = makeGlue(c);
  const errorOf = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (e) {
      return { code: (e as { code?: string }).code, message: (e as Error).message };
    }
    return undefined;
  };

  it('are refused alone with the code and message predictAsync gives, and the rest are served', async () => {
    const batcher = glueBatcher(glue, { maxWaitMs: 1 });
    const good = randomRequest(c, prng(5), 8);
    const bad: GlueInputs[] = [
      { nope: [[1]] },
      { img: [[1, 2, 3]] },
      { img: [[0, 0, Number.NaN, 0, 0, 0]] },
      { img: new Float32Array(12), txt: new Float32Array(9) },
      {},
    ];
    const goodP = batcher.submit(good);
    const errors = await Promise.all(bad.map((b) => errorOf(batcher.submit(b))));
    const alone = await Promise.all(bad.map((b) => errorOf(glue.predictAsync(b))));
    expect(errors.every((e) => e !== undefined)).toBe(true);
    expect(errors).toEqual(alone);
    expect(await goodP).toEqual(await glue.predictAsync(good));
    expect(batcher.stats().requests).toBe(1);
  });

  it('sees members added or removed after it was made', async () => {
    const g = makeGlue(c);
    const batcher = glueBatcher(g, { maxWaitMs: 0 });
    const extra = new EmbeddingEncoder({ features: 3, dim: DIM, seed: 8 });
    expect((await errorOf(batcher.submit({ new: [[0, 0, 0]] })))?.code).toBe('ERR_HDGLUE_UNKNOWN_MEMBER');
    const hil = new HIL({ dim: DIM });
    hil.fit(
      extra.encodeBatch([
        [0, 0, 0],
        [1, 1, 1],
      ]),
      [0, 1],
    );
    g.addMember('new', { encoder: extra, hil });
    const req = { new: [[0.5, 0.5, 0.5]], img: [[0, 0, 0, 0, 0, 0]] };
    expect(await batcher.submit(req)).toEqual(await g.predictAsync(req));
    g.removeMember('new');
    expect((await errorOf(batcher.submit(req)))?.code).toBe('ERR_HDGLUE_UNKNOWN_MEMBER');
  });

  it("a concat request missing a member fails its own call only, with predictAsync's error", async () => {
    const cc = CASES[3] as GlueCase;
    const g = makeGlue(cc);
    const batcher = glueBatcher(g, { maxWaitMs: 2 });
    const full = randomRequest(cc, prng(3), 4);
    const partial = { img: full.img as GlueInputs[string] };
    const [a, b] = await Promise.all([errorOf(batcher.submit(partial)), batcher.submit(full)]);
    expect(a).toEqual(await errorOf(g.predictAsync(partial)));
    expect(a?.code).toBe('ERR_HDGLUE_NO_INPUT');
    expect(b).toEqual(await g.predictAsync(full));
  });

  it('checks its options when made', () => {
    expect(() => glueBatcher({} as HDGlue)).toThrow(expect.objectContaining({ code: 'ERR_HDGLUE_INVALID_TYPE' }));
    expect(() => glueBatcher(glue, { consensus: 'majority' as Consensus })).toThrow(
      expect.objectContaining({ code: 'ERR_HDGLUE_OUT_OF_RANGE' }),
    );
    expect(() => glueBatcher(glue, { metric: 'l2' as Metric })).toThrow(
      expect.objectContaining({ code: 'ERR_HDGLUE_OUT_OF_RANGE' }),
    );
    expect(() => glueBatcher(glue, { strategy: 'concat' } as never)).toThrow(/is now called 'consensus'/);
    expect(() => glueBatcher(glue, { maxBatch: 0 })).toThrow(
      expect.objectContaining({ code: 'ERR_HDGLUE_OUT_OF_RANGE' }),
    );
    expect(() => glueBatcher(glue, { widths: { a: 1 } } as never)).toThrow(
      expect.objectContaining({ code: 'ERR_HDGLUE_INVALID_TYPE' }),
    );
  });
});
