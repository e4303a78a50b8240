// HDGlue.predictEachAsync (the consensus and each member alone from one pass, as `hdglue eval`
// reports them), tutorialGlue and the recipe name a model file keeps, and the rows the CLI holds
// out for the nearest readout's estimate.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { heldOutGroups } from '../lib/cli/held-out.js';
import { EmbeddingEncoder, HDGlue, HIL, type Label, tutorialGlue } from '../lib/index.js';
import { prng } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'hdglue-each-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Four classes around different centres, noisy enough that members disagree on some rows.
function makeSet(n: number, features: number, seed: number) {
  const next = prng(seed);
  const y = Array.from({ length: n }, (_, i) => i % 4);
  const x = new Float64Array(n * features);
  for (let r = 0; r < n; r++) {
    for (let k = 0; k < features; k++) {
      x[r * features + k] = Math.tanh(
        Math.sin((y[r] as number) * 1.3 + k * 0.7 + seed) + (next() / 2 ** 32 - 0.5) * 2.5,
      );
    }
  }
  return { x, y };
}

const train = { a: makeSet(200, 16, 1), b: makeSet(200, 24, 2) };
const test = { a: makeSet(80, 16, 3), b: makeSet(80, 24, 4) };
const inputs = { a: test.a.x, b: test.b.x };

function glueOf(readout: 'prototype' | 'nearest'): HDGlue {
  const glue = new HDGlue();
  for (const [name, set, features, seed] of [
    ['a', train.a, 16, 1],
    ['b', train.b, 24, 2],
  ] as const) {
    const encoder = new EmbeddingEncoder({ features, dim: 1000, bins: 8, seed }).fit(set.x);
    const hil = new HIL({ dim: 1000, seed, readout }).fit(encoder.encodeBatch(set.x), set.y);
    if (readout === 'prototype') hil.refine(encoder.encodeBatch(set.x), set.y, { epochs: 5 });
    glue.addMember(name, { encoder, hil });
  }
  return glue;
}

function alone(glue: HDGlue, name: 'a' | 'b', mode?: 'tutorial'): Label[] {
  const m = glue.member(name);
  return m.hil.predict(m.encoder.encodeBatch(inputs[name]), mode ? { mode } : {});
}

describe('HDGlue.predictEachAsync', () => {
  for (const readout of ['prototype', 'nearest'] as const) {
    it(`gives predictAsync's labels and each member's own, vote consensus, ${readout} readout`, async () => {
      const glue = glueOf(readout);
      const each = await glue.predictEachAsync(inputs);
      expect(each.labels).toEqual(await glue.predictAsync(inputs));
      expect(Object.keys(each.members)).toEqual(['a', 'b']);
      expect(each.members.a).toEqual(alone(glue, 'a'));
      expect(each.members.b).toEqual(alone(glue, 'b'));
      // The members do disagree somewhere, so the test can tell them apart.
      expect(each.members.a).not.toEqual(each.members.b);
    });
  }

  it('asks a member of weight 0 on its own, and covers only the members given', async () => {
    const glue = glueOf('prototype').setWeight('b', 0);
    const each = await glue.predictEachAsync(inputs);
    expect(each.labels).toEqual(alone(glue, 'a'));
    expect(each.members.b).toEqual(alone(glue, 'b'));
    const one = await glue.predictEachAsync({ a: inputs.a });
    expect(Object.keys(one.members)).toEqual(['a']);
  });

  it('keeps members named like Object.prototype properties apart', async () => {
    const src = glueOf('prototype');
    const glue = new HDGlue();
    glue.addMember('constructor', src.member('a')).addMember('toString', src.member('b'));
    const each = await glue.predictEachAsync({ constructor: inputs.a, toString: inputs.b });
    expect(Object.keys(each.members)).toEqual(['constructor', 'toString']);
    expect(each.members.constructor).toEqual(alone(src, 'a'));
    expect(each.members.toString).toEqual(alone(src, 'b'));
    const weightless = await glue
      .setWeight('constructor', 0)
      .predictEachAsync({ constructor: inputs.a, toString: inputs.b });
    expect(weightless.members.constructor).toEqual(alone(src, 'a'));
  });

  it("scores members of a tutorial glue the tutorial's way, and the file keeps the recipe", async () => {
    const glue = tutorialGlue(
      [
        { name: 'a', x: train.a.x, features: 16 },
        { name: 'b', x: train.b.x, features: 24 },
      ],
      train.a.y,
      { dim: 2000, range: 'minmax' },
    );
    expect(glue.consensus).toBe('tutorial');
    expect(glue.recipe).toBe('tutorial');
    const each = await glue.predictEachAsync(inputs);
    expect(each.labels).toEqual(glue.predict(inputs));
    expect(each.members.a).toEqual(alone(glue, 'a', 'tutorial'));
    const path = join(dir, 'tut.hdg');
    glue.save(path);
    const back = HDGlue.load(path);
    expect(back.recipe).toBe('tutorial');
    expect(back.tie).toBe('ones');
    expect(back.predict(inputs)).toEqual(each.labels);
    // A glue built by hand records no recipe.
    const plain = glueOf('prototype');
    plain.save(join(dir, 'plain.hdg'));
    expect(HDGlue.load(join(dir, 'plain.hdg')).recipe).toBeUndefined();
  });
});

describe('heldOutGroups', () => {
  it('holds out every row of a small set, in disjoint groups of at most a fifth', () => {
    const groups = heldOutGroups(150, 7);
    expect(groups).toHaveLength(5);
    for (const g of groups) expect(g.length).toBeLessThanOrEqual(30);
    const all = groups.flat().sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 150 }, (_, i) => i));
  });

  it('samples 1,000 rows of a large set in one group, the same for the same seed', () => {
    const groups = heldOutGroups(60_000, 3);
    expect(groups).toHaveLength(1);
    const g = groups[0] as number[];
    expect(g).toHaveLength(1000);
    expect(new Set(g).size).toBe(1000);
    expect(g.every((r) => r >= 0 && r < 60_000)).toBe(true);
    expect(heldOutGroups(60_000, 3)).toEqual(groups);
    expect(heldOutGroups(60_000, 4)).not.toEqual(groups);
  });

  it('splits a mid-sized sample so each refit keeps four fifths, and gives nothing below two rows', () => {
    const groups = heldOutGroups(2000, 1);
    expect(groups.map((g) => g.length)).toEqual([400, 400, 200]);
    expect(new Set(groups.flat()).size).toBe(1000);
    expect(heldOutGroups(1, 1)).toEqual([]);
    expect(heldOutGroups(2, 1).sort()).toEqual([[0], [1]]);
  });
});
