// HDGlue.learn: new rows (a new class included) learnt online with a short correction over them
// and a seeded replay of given old rows, against partialFit alone; atomic on every error.
import { describe, expect, it } from 'vitest';
import { EmbeddingEncoder, HDGlue, type Label } from '../lib/index.js';
import { prng } from './helpers.js';

// Five classes around centres in two members of different widths, with enough overlap that the
// corrected counters of the old classes matter.
function data(n: number, classes: number[], seed: number) {
  const next = prng(seed);
  const rand = () => next() / 2 ** 32;
  const y: Label[] = Array.from({ length: n }, (_, i) => classes[i % classes.length] as number);
  const a = new Float64Array(n * 6);
  const b = new Float32Array(n * 9);
  for (let r = 0; r < n; r++) {
    const c = y[r] as number;
    for (let k = 0; k < 6; k++) a[r * 6 + k] = Math.sin(c * 1.3 + k) + (rand() - 0.5) * 1.6;
    for (let k = 0; k < 9; k++) b[r * 9 + k] = Math.cos(c * 2.1 + k * 0.7) + (rand() - 0.5) * 1.8;
  }
  return { y, inputs: { a, b } };
}

function trained(old: ReturnType<typeof data>) {
  const g = new HDGlue();
  g.addMember('a', { encoder: new EmbeddingEncoder({ features: 6, dim: 2000, bins: 16, seed: 1 }).fit(old.inputs.a) });
  g.addMember('b', { encoder: new EmbeddingEncoder({ features: 9, dim: 2000, bins: 16, seed: 2 }).fit(old.inputs.b) });
  return g.fit(old.inputs, old.y, { refine: { epochs: 20, margin: 0.1 } });
}

const counters = (g: HDGlue) =>
  g.members().map((n) => g.member(n).hil.labels.map((l) => Array.from(g.member(n).hil.counters(l))));

describe('HDGlue.learn', () => {
  const old = data(400, [0, 1, 2, 3], 1);
  const fresh = data(100, [4], 2);
  const testOld = data(200, [0, 1, 2, 3], 3);
  const testNew = data(50, [4], 4);
  const accuracy = (g: HDGlue, d: ReturnType<typeof data>) => g.accuracy(d.inputs, d.y);

  it('learns a new class and keeps the old ones, where partialFit alone wrecks them', () => {
    const base = trained(old);
    const before = accuracy(base, testOld);
    const plain = trained(old);
    for (const n of plain.members()) {
      const m = plain.member(n);
      m.hil.partialFit(m.encoder.encodeBatch(fresh.inputs[n as 'a' | 'b']), fresh.y);
    }
    const learnt = trained(old).learn(fresh.inputs, fresh.y, { replay: { inputs: old.inputs, labels: old.y } });
    expect(learnt.labels()).toEqual([0, 1, 2, 3, 4]);
    expect(accuracy(learnt, testNew)).toBeGreaterThanOrEqual(0.95);
    expect(accuracy(learnt, testOld)).toBeGreaterThanOrEqual(before - 0.03);
    // The failure learn exists to avoid: the new class's uncorrected sums draw old queries.
    expect(accuracy(learnt, testOld)).toBeGreaterThan(accuracy(plain, testOld));
  });

  it('is a pure function of its inputs and seed; epochs 0 is partialFit alone', () => {
    const r = { replay: { inputs: old.inputs, labels: old.y, size: 60 }, seed: 4 };
    expect(counters(trained(old).learn(fresh.inputs, fresh.y, r))).toEqual(
      counters(trained(old).learn(fresh.inputs, fresh.y, r)),
    );
    expect(counters(trained(old).learn(fresh.inputs, fresh.y, { ...r, seed: 5 }))).not.toEqual(
      counters(trained(old).learn(fresh.inputs, fresh.y, r)),
    );
    const plain = trained(old);
    for (const n of plain.members()) {
      const m = plain.member(n);
      m.hil.partialFit(m.encoder.encodeBatch(fresh.inputs[n as 'a' | 'b']), fresh.y);
    }
    expect(counters(trained(old).learn(fresh.inputs, fresh.y, { epochs: 0 }))).toEqual(counters(plain));
  });

  it('changes nothing when it fails: unknown replay label, a member missing from the replay, bad options', () => {
    const g = trained(old);
    const was = counters(g);
    const expectCode = (fn: () => unknown, code: string) => expect(fn).toThrow(expect.objectContaining({ code }));
    expectCode(
      () => g.learn(fresh.inputs, fresh.y, { replay: { inputs: old.inputs, labels: old.y.map(() => 'nine') } }),
      'ERR_HDGLUE_UNKNOWN_LABEL',
    );
    expectCode(
      () => g.learn(fresh.inputs, fresh.y, { replay: { inputs: { a: old.inputs.a }, labels: old.y } }),
      'ERR_HDGLUE_NO_INPUT',
    );
    expectCode(
      () => g.learn(fresh.inputs, fresh.y, { replay: { inputs: old.inputs, labels: old.y.slice(1) } }),
      'ERR_HDGLUE_SHAPE',
    );
    expectCode(() => g.learn(fresh.inputs, fresh.y, { margin: -1 }), 'ERR_HDGLUE_OUT_OF_RANGE');
    for (const epochs of [-1, Number.NaN, 'x' as never])
      expect(() => g.learn(fresh.inputs, fresh.y, { epochs })).toThrow(
        expect.objectContaining({ code: expect.any(String) }),
      );
    expectCode(() => g.learn(fresh.inputs, fresh.y, { epochs: 0, margin: 'bad' as never }), 'ERR_HDGLUE_OUT_OF_RANGE');
    expect(() => g.learn(fresh.inputs, fresh.y, { epochs: 0, seed: -3 })).toThrow(
      expect.objectContaining({ code: expect.any(String) }),
    );
    expectCode(() => g.learn(fresh.inputs, fresh.y.slice(1)), 'ERR_HDGLUE_SHAPE');
    expect(counters(g)).toEqual(was);
    expect(g.labels()).toEqual([0, 1, 2, 3]);
  });

  it('updates the concat layer with every member present, and refuses a subset (the layer stays)', () => {
    const c = new HDGlue({ consensus: 'concat' });
    c.addMember('a', {
      encoder: new EmbeddingEncoder({ features: 6, dim: 1000, bins: 16, seed: 1 }).fit(old.inputs.a),
    });
    c.addMember('b', {
      encoder: new EmbeddingEncoder({ features: 9, dim: 1000, bins: 16, seed: 2 }).fit(old.inputs.b),
    });
    c.fit(old.inputs, old.y, { refine: { epochs: 10, margin: 0.1 } });
    const joint = c.joint?.hil;
    expect(() => c.learn({ a: fresh.inputs.a }, fresh.y)).toThrow(
      expect.objectContaining({ code: 'ERR_HDGLUE_NO_INPUT' }),
    );
    expect(c.joint?.hil).toBe(joint);
    c.learn(fresh.inputs, fresh.y, { replay: { inputs: old.inputs, labels: old.y } });
    expect(c.joint?.hil.labels).toEqual([0, 1, 2, 3, 4]);
    expect(accuracy(c, testNew)).toBeGreaterThanOrEqual(0.9);
  });
});
