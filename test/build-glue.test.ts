// buildGlue (lib/train/recipe.ts), the one way the CLI, tune and the demo assemble a glue, against
// the assembly written out by hand: member i built by buildMember with seed + i, then added; under
// concat no correction of the members' own, then the glue's fit with the recipe's correction.
import { describe, expect, it } from 'vitest';
import { DEFAULT_RECIPE, HDGlue, HIL, type Recipe } from '../lib/index.js';
import { buildGlue, buildMember, refineOptionsOf } from '../lib/train/recipe.js';
import { prng } from './helpers.js';

const next = prng(21);
const n = 240;
const labels = Array.from({ length: n }, (_, i) => i % 4);
function member(features: number): Float64Array {
  const x = new Float64Array(n * features);
  for (let r = 0; r < n; r++)
    for (let f = 0; f < features; f++)
      x[r * features + f] = ((labels[r] as number) === f % 4 ? 0.6 : 0) + next() / 2 ** 32 - 0.5;
  return x;
}
const members = [
  { name: 'a', x: member(12), features: 12 },
  { name: 'b', x: member(20), features: 20 },
];
const recipe: Recipe = { ...DEFAULT_RECIPE, dim: 512, bins: 16, epochs: 4 };
const counters = (g: HDGlue) =>
  g.members().map((m) => g.member(m).hil.labels.map((l) => Array.from(g.member(m).hil.counters(l))));

describe('buildGlue', () => {
  it('vote: the members buildMember gives with seed + i, in order', () => {
    const { glue, members: built } = buildGlue(members, labels, recipe, { seed: 5 });
    const byHand = new HDGlue({ seed: 5 });
    members.forEach((m, i) => {
      const b = buildMember(m.x, m.features, labels, recipe, 5 + i);
      byHand.addMember(m.name, { encoder: b.encoder, hil: b.hil });
    });
    expect(glue.members()).toEqual(['a', 'b']);
    expect(glue.consensus).toBe('vote');
    expect(counters(glue)).toEqual(counters(byHand));
    expect(built.map((b) => b.hil)).toEqual([glue.member('a').hil, glue.member('b').hil]);
    const inputs = { a: members[0]?.x as Float64Array, b: members[1]?.x as Float64Array };
    expect(glue.predict(inputs)).toEqual(byHand.predict(inputs));
  });

  it('concat: members without their own correction, then the glue fit corrects every layer', () => {
    const { glue } = buildGlue(members, labels, recipe, { consensus: 'concat', seed: 2 });
    const byHand = new HDGlue({ consensus: 'concat', seed: 2 });
    members.forEach((m, i) => {
      const b = buildMember(m.x, m.features, labels, { ...recipe, epochs: 0 }, 2 + i);
      byHand.addMember(m.name, { encoder: b.encoder, hil: b.hil });
    });
    const inputs = { a: members[0]?.x as Float64Array, b: members[1]?.x as Float64Array };
    byHand.fit(inputs, labels, { refine: refineOptionsOf(recipe) });
    expect(counters(glue)).toEqual(counters(byHand));
    const joint = glue.joint?.hil as HIL;
    const want = byHand.joint?.hil as HIL;
    expect(joint).toBeInstanceOf(HIL);
    expect(joint.labels.map((l) => Array.from(joint.counters(l)))).toEqual(
      want.labels.map((l) => Array.from(want.counters(l))),
    );
  });

  it('fits on the rows asked for only', () => {
    const rows = labels.map((_, i) => i).filter((i) => i % 3 !== 0);
    const { glue } = buildGlue(members, labels, recipe, { rows });
    const byHand = buildMember(
      (members[0] as { x: Float64Array }).x.filter((_, j) => Math.floor(j / 12) % 3 !== 0),
      12,
      rows.map((r) => labels[r] as number),
      recipe,
      0,
    );
    expect(counters(glue)[0]).toEqual(byHand.hil.labels.map((l) => Array.from(byHand.hil.counters(l))));
  });
});
