// tune(): K-fold cross-validation of glue recipes on training rows, checked against the same
// computation done by hand, plus the fold assignment and the argument errors.
import { describe, expect, it } from 'vitest';
import { buildMember, DEFAULT_RECIPE, HDGlue, type Label } from '../lib/index.js';
import { assignFolds } from '../lib/split.js';
import { DEFAULT_GRID, tune } from '../lib/train/tune.js';
import { prng } from './helpers.js';

// Three classes around different centres, two members of different widths; noisy enough that
// settings differ.
function dataset(n: number, seed: number) {
  const next = prng(seed);
  const rand = () => next() / 2 ** 32;
  const y: Label[] = Array.from({ length: n }, (_, i) => ['x', 'y', 'z'][i % 3] as string);
  const centre = (c: number, k: number) => Math.sin(c * 2.1 + k * 0.7);
  const a = new Float64Array(n * 6);
  const b = new Float32Array(n * 10);
  for (let r = 0; r < n; r++) {
    const c = r % 3;
    for (let k = 0; k < 6; k++) a[r * 6 + k] = centre(c, k) + (rand() - 0.5) * 2.4;
    for (let k = 0; k < 10; k++) b[r * 10 + k] = centre(c + 5, k) + (rand() - 0.5) * 2.8;
  }
  return {
    y,
    members: [
      { name: 'a', x: a, features: 6 },
      { name: 'b', x: b, features: 10 },
    ],
  };
}

describe('tune', () => {
  it('deals stratified, seeded folds', () => {
    const labels: Label[] = [...Array(10).fill('p'), ...Array(7).fill('q'), ...Array(3).fill(1)];
    const f = assignFolds(labels, 3, 5);
    expect(assignFolds(labels, 3, 5)).toEqual(f);
    expect(assignFolds(labels, 3, 6)).not.toEqual(f);
    for (const cls of ['p', 'q', 1]) {
      const counts = [0, 1, 2].map((k) => labels.filter((l, i) => l === cls && f[i] === k).length);
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    }
    const sizes = [0, 1, 2].map((k) => f.filter((v) => v === k).length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });

  it('scores each candidate exactly as fitting on K-1 folds and voting on the last does, and picks the best', () => {
    const { y, members } = dataset(90, 3);
    const grid = {
      dim: [512],
      bins: [4, 16],
      margin: [0.1],
      epochs: [5],
      readout: ['prototype' as const, 'nearest' as const],
      range: ['quantile' as const],
    };
    const r = tune(members, y, { folds: 3, seed: 7, grid });
    expect(r.scores).toHaveLength(4);
    expect(r.scores.map((s) => s.mean)).toEqual([...r.scores.map((s) => s.mean)].sort((p, q) => q - p));
    expect(r.recipe).toEqual(r.scores[0]?.recipe);
    expect(r.cv).toBe(r.scores[0]?.mean);
    // By hand, for every candidate.
    const fold = assignFolds(y, 3, 7);
    for (const s of r.scores) {
      const accs = [0, 1, 2].map((k) => {
        const fit = y.flatMap((_, i) => (fold[i] !== k ? [i] : []));
        const val = y.flatMap((_, i) => (fold[i] === k ? [i] : []));
        const g = new HDGlue();
        const pick = (m: (typeof members)[number], rows: number[]) => {
          const out = new (m.x.constructor as Float64ArrayConstructor)(rows.length * m.features);
          rows.forEach((row, i) => {
            out.set(m.x.subarray(row * m.features, (row + 1) * m.features), i * m.features);
          });
          return out;
        };
        members.forEach((m, j) => {
          const b = buildMember(
            pick(m, fit),
            m.features,
            fit.map((i) => y[i] as Label),
            s.recipe,
            7 + j,
          );
          g.addMember(m.name, { encoder: b.encoder, hil: b.hil });
        });
        return g.accuracy(
          Object.fromEntries(members.map((m) => [m.name, pick(m, val)])),
          val.map((i) => y[i] as Label),
        );
      });
      expect(s.folds).toEqual(accs);
      expect(s.mean).toBeCloseTo(accs.reduce((p, q) => p + q, 0) / 3, 15);
    }
  });

  it('keeps the settings it does not search from base, and reports progress over every candidate and fold', () => {
    const { y, members } = dataset(60, 4);
    const one = tune(members, y, {
      folds: 2,
      base: { levels: 'random', range: [-2, 2] },
      grid: { dim: [256], bins: [8], margin: [0.05], epochs: [2], readout: ['prototype'] },
    });
    expect(one.recipe).toEqual({
      ...DEFAULT_RECIPE,
      dim: 256,
      bins: 8,
      margin: 0.05,
      epochs: 2,
      readout: 'prototype',
      levels: 'random',
      range: [-2, 2],
    });
    let total = 0;
    tune(members, y, {
      folds: 2,
      grid: { dim: [128] },
      onProgress: (_, t) => {
        total = t;
      },
    });
    // One D of the default grid, 2 folds: every bin count, with one nearest candidate or every
    // epochs x margin pair of the prototype readout, for each consensus.
    const g = DEFAULT_GRID;
    const perBins = g.readout.reduce((a, r) => a + (r === 'nearest' ? 1 : g.epochs.length * g.margin.length), 0);
    expect(total).toBe(2 * g.consensus.length * (g.range?.length ?? 1) * g.bins.length * perBins);
  });

  it('refuses bad arguments with codes', () => {
    const { y, members } = dataset(30, 5);
    expect(() => tune(members, y, { folds: 1 })).toThrow(expect.objectContaining({ code: 'ERR_HDGLUE_OUT_OF_RANGE' }));
    expect(() => tune([], y)).toThrow(expect.objectContaining({ code: 'ERR_HDGLUE_INVALID_TYPE' }));
    const m0 = members[0] as (typeof members)[number];
    const short = [{ ...m0, x: m0.x.subarray(6) }];
    expect(() => tune(short, y)).toThrow(expect.objectContaining({ code: 'ERR_HDGLUE_SHAPE' }));
    const tiny = dataset(10, 6);
    expect(() => tune(tiny.members, tiny.y, { folds: 12 })).toThrow(/cannot fill/);
  });
});
