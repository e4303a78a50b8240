// The 'concat' consensus (one HIL over the members' concatenated hypervectors) and the concat
// operation it rests on, on whichever backend the environment selects.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { concat, EmbeddingEncoder, HDGlue, type Label, randomBatch } from '../lib/index.js';
import { encodeModel, readModelFile } from '../lib/io/model-file.js';
import { prng } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'hdglue-concat-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('concat', () => {
  it('places each batch bit for bit after the previous one, for dims that are not word multiples', () => {
    const parts = [
      randomBatch(70, ['a', 'b', 'c'], { seed: 1 }),
      randomBatch(1, ['a', 'b', 'c'], { seed: 2 }),
      randomBatch(45, ['a', 'b', 'c'], { seed: 3 }),
      randomBatch(128, ['a', 'b', 'c'], { seed: 4 }),
    ];
    const c = concat(parts);
    expect(c.dim).toBe(244);
    expect(c.count).toBe(3);
    const bits = c.toBipolar();
    const want: number[] = [];
    for (let r = 0; r < 3; r++) for (const p of parts) want.push(...p.toBipolar().subarray(r * p.dim, (r + 1) * p.dim));
    expect(Array.from(bits)).toEqual(want);
    // Padding above 244 bits stays zero (the batch constructor checks it, so re-wrapping proves it).
    expect(() => concat([c, parts[0] as (typeof parts)[number]])).not.toThrow();
  });

  it('refuses batches with different row counts or no batches', () => {
    expect(() => concat([randomBatch(64, ['a'], {}), randomBatch(64, ['a', 'b'], {})])).toThrow(
      expect.objectContaining({ code: 'ERR_HDGLUE_SHAPE' }),
    );
    expect(() => concat([])).toThrow(expect.objectContaining({ code: 'ERR_HDGLUE_INVALID_TYPE' }));
  });
});

function data(n: number, seed: number) {
  const next = prng(seed);
  const rand = () => next() / 2 ** 32;
  const y: Label[] = Array.from({ length: n }, (_, i) => i % 3);
  const a = new Float64Array(n * 5);
  const b = new Float32Array(n * 7);
  for (let r = 0; r < n; r++) {
    for (let k = 0; k < 5; k++) a[r * 5 + k] = Math.sin((r % 3) * 2 + k) + (rand() - 0.5) * 1.2;
    for (let k = 0; k < 7; k++) b[r * 7 + k] = Math.cos((r % 3) * 3 + k) + (rand() - 0.5) * 1.4;
  }
  return { y, inputs: { a, b } };
}

function glue() {
  const g = new HDGlue({ consensus: 'concat', seed: 5 });
  g.addMember('a', { encoder: new EmbeddingEncoder({ features: 5, dim: 333, bins: 8, seed: 1 }) });
  g.addMember('b', { encoder: new EmbeddingEncoder({ features: 7, dim: 200, bins: 8, seed: 2 }) });
  return g;
}

describe("HDGlue consensus 'concat'", () => {
  const train = data(120, 1);
  const test = data(60, 2);

  it('predicts with one HIL over the concatenated member vectors', () => {
    const g = glue().fit(train.inputs, train.y, { refine: { epochs: 5, margin: 0.1 } });
    const j = g.joint;
    expect(j?.names).toEqual(['a', 'b']);
    expect(j?.hil.dim).toBe(533);
    const enc = (n: 'a' | 'b') => g.member(n).encoder.encodeBatch(test.inputs[n]);
    expect(g.predict(test.inputs)).toEqual(j?.hil.predict(concat([enc('a'), enc('b')])));
    expect(g.accuracy(test.inputs, test.y)).toBeGreaterThan(0.8);
    // The members' own HILs are trained too, so the vote is available on the same glue.
    expect(g.predict(test.inputs, { consensus: 'vote' })).toHaveLength(60);
  });

  it('needs every member and a fit after members change; explain refuses it', () => {
    const g = glue().fit(train.inputs, train.y);
    expect(() => g.predict({ a: test.inputs.a })).toThrow(/missing: "b"/);
    expect(() => g.explain({ a: test.inputs.a.subarray(0, 5), b: test.inputs.b.subarray(0, 7) })).toThrow(/'concat'/);
    g.removeMember('b');
    expect(g.joint).toBeNull();
    expect(() => g.predict({ a: test.inputs.a })).toThrow(expect.objectContaining({ code: 'ERR_HDGLUE_NO_INPUT' }));
    expect(() => glue().predict(test.inputs)).toThrow(/needs fit\(\)/);
  });

  it('saves and loads the joint layer exactly; a joint layer that does not match its members is refused', () => {
    const g = glue().fit(train.inputs, train.y, { refine: { epochs: 3 } });
    const path = join(dir, 'c.hdg');
    g.save(path);
    const back = HDGlue.load(path);
    expect(back.consensus).toBe('concat');
    expect(back.predict(test.inputs)).toEqual(g.predict(test.inputs));
    back.save(join(dir, 'c2.hdg'));
    expect(readFileSync(join(dir, 'c2.hdg'))).toEqual(readFileSync(path));
    const f = readModelFile(path);
    const h = f.header as { joint: { names: string[] } };
    writeFileSync(join(dir, 'bad.hdg'), encodeModel({ ...h, joint: { ...h.joint, names: ['a', 'zzz'] } }, f.sections));
    expect(() => HDGlue.load(join(dir, 'bad.hdg'))).toThrow(/does not name the members/);
    writeFileSync(join(dir, 'bad2.hdg'), encodeModel(h, f.sections.slice(0, 2)));
    expect(() => HDGlue.load(join(dir, 'bad2.hdg'))).toThrow(/members and sections differ/);
  });
});

describe("'concat' model files and fits that could not work", () => {
  const train = data(90, 3);

  it('refuses to fit the joint layer on a subset of the members, changing nothing', () => {
    const g = glue().fit(train.inputs, train.y);
    const before = g.joint;
    expect(() => g.fit({ a: train.inputs.a }, train.y)).toThrow(/trains over every member; missing: "b"/);
    expect(g.joint).toBe(before);
  });

  it('refuses a joint layer whose member order or classes do not match the glue', () => {
    const g = glue().fit(train.inputs, train.y);
    const path = join(dir, 'j.hdg');
    g.save(path);
    const f = readModelFile(path);
    const h = f.header as { joint: { names: string[]; hil: { labels: Label[] } } };
    // Swapped order keeps the summed dim but scrambles the bit layout.
    writeFileSync(join(dir, 'swap.hdg'), encodeModel({ ...h, joint: { ...h.joint, names: ['b', 'a'] } }, f.sections));
    expect(() => HDGlue.load(join(dir, 'swap.hdg'))).toThrow(/in their order/);
    const relabelled = { ...h.joint, hil: { ...h.joint.hil, labels: [7, 8, 9] } };
    writeFileSync(join(dir, 'labels.hdg'), encodeModel({ ...h, joint: relabelled }, f.sections));
    expect(() => HDGlue.load(join(dir, 'labels.hdg'))).toThrow(/classes no member has/);
  });
});
