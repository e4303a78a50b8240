// The HIL's memory readout (readout: 'nearest'): 1-NN over stored training examples, checked
// against a brute-force scan, with exact forget/removeClass, model-file round trips and
// corruption, on whichever backend the environment selects.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HDGlue, HIL, HVBatch, hamming, type Label, randomHV } from '../lib/index.js';
import { encodeModel, readModelFile } from '../lib/io/model-file.js';
import { prng } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'hdglue-nearest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Classes made of two separate clusters each: a prototype per class blurs them, 1-NN does not.
function dataset(dim: number, perCluster: number, noise: number, seed: number) {
  const next = prng(seed);
  const rows: Int8Array[] = [];
  const labels: Label[] = [];
  const classes: Label[] = ['a', 'b', 7];
  for (let i = 0; i < perCluster; i++) {
    for (const c of classes) {
      for (const part of [0, 1]) {
        const v = randomHV(dim, `cluster/${String(c)}/${part}`).toBipolar();
        for (let j = 0; j < dim; j++) if (next() / 2 ** 32 < noise) v[j] = -(v[j] as number);
        rows.push(v);
        labels.push(c);
      }
    }
  }
  const flat = new Int8Array(rows.length * dim);
  rows.forEach((r, i) => {
    flat.set(r, i * dim);
  });
  return { hvs: HVBatch.fromBipolar(flat, rows.length, dim), labels };
}

const dim = 777; // not a multiple of 64: padding words are stored too
const train = dataset(dim, 6, 0.3, 1);
const test = dataset(dim, 4, 0.3, 2);

function bruteScores(hil: HIL, trainHvs: HVBatch, trainLabels: Label[], q: HVBatch): number[][] {
  return Array.from({ length: q.count }, (_, r) =>
    hil.labels.map((l) => {
      let best = Number.POSITIVE_INFINITY;
      trainLabels.forEach((tl, j) => {
        if (tl === l) best = Math.min(best, hamming(q.row(r), trainHvs.row(j)));
      });
      return best === Number.POSITIVE_INFINITY ? 0 : 1 - best / dim;
    }),
  );
}

describe("HIL readout 'nearest'", () => {
  it('scores each class by its nearest stored example, exactly as a brute-force scan does', () => {
    const hil = new HIL({ dim, readout: 'nearest' }).fit(train.hvs, train.labels);
    expect(hil.stored).toBe(train.hvs.count);
    const s = hil.scores(test.hvs);
    const want = bruteScores(hil, train.hvs, train.labels, test.hvs);
    expect(Array.from(s)).toEqual(want.flat());
    expect(hil.accuracy(test.hvs, test.labels)).toBeGreaterThan(0.95);
    const proto = new HIL({ dim }).fit(train.hvs, train.labels);
    expect(proto.stored).toBe(0);
  });

  it('forget removes exactly the stored examples; an example never learnt is refused and nothing changes', () => {
    const first = train.hvs.slice(0, 12);
    const firstLabels = train.labels.slice(0, 12);
    const hil = new HIL({ dim, readout: 'nearest' }).fit(first, firstLabels);
    const before = hil.toModel();
    hil.partialFit(train.hvs.slice(12), train.labels.slice(12));
    expect(hil.stored).toBe(train.hvs.count);
    const stranger = test.hvs.slice(0, 1);
    expect(() => hil.forget(stranger, test.labels.slice(0, 1))).toThrow(/not in the layer's memory/);
    expect(hil.stored).toBe(train.hvs.count);
    hil.forget(train.hvs.slice(12), train.labels.slice(12));
    const after = hil.toModel();
    expect(after.header).toEqual(before.header);
    expect(after.section).toEqual(before.section);
    expect(Array.from(hil.scores(test.hvs))).toEqual(bruteScores(hil, first, firstLabels, test.hvs).flat());
  });

  it('removeClass drops the class and its memory; the rest scores as before', () => {
    const hil = new HIL({ dim, readout: 'nearest' }).fit(train.hvs, train.labels);
    hil.removeClass('b');
    expect(hil.labels).toEqual(['a', 7]);
    const keep = train.labels.flatMap((l, i) => (l === 'b' ? [] : [i]));
    expect(hil.stored).toBe(keep.length);
    const kept = HVBatch.from(keep.map((i) => train.hvs.row(i)));
    const keptLabels = keep.map((i) => train.labels[i] as Label);
    expect(Array.from(hil.scores(test.hvs))).toEqual(bruteScores(hil, kept, keptLabels, test.hvs).flat());
  });

  it('refuses refine (nothing to correct) with a code', () => {
    const hil = new HIL({ dim, readout: 'nearest' }).fit(train.hvs, train.labels);
    expect(() => hil.refine(train.hvs, train.labels)).toThrow(
      expect.objectContaining({ code: 'ERR_HDGLUE_OUT_OF_RANGE' }),
    );
    expect(() => new HIL({ dim, readout: 'knn' as 'nearest' })).toThrow(/readout must be/);
    expect(() => hil.predict(test.hvs, { metric: 'bogus' as 'cosine' })).toThrow(/metric must be/);
  });

  it('save/load round-trips the memory byte for byte; a corrupt memory is refused', () => {
    const hil = new HIL({ dim, readout: 'nearest' }).fit(train.hvs, train.labels);
    const path = join(dir, 'n.hil');
    hil.save(path);
    const back = HIL.load(path);
    expect(back.readout).toBe('nearest');
    expect(back.stored).toBe(hil.stored);
    expect(Array.from(back.scores(test.hvs))).toEqual(Array.from(hil.scores(test.hvs)));
    back.save(join(dir, 'n2.hil'));
    expect(readFileSync(join(dir, 'n2.hil'))).toEqual(readFileSync(path));

    const f = readModelFile(path);
    const header = f.header as { hil: { memory: number; labels: Label[] } };
    const section = f.sections[0] as Uint8Array;
    const classAt = header.hil.labels.length * dim * 4; // first stored class index
    const badClass = section.slice();
    new DataView(badClass.buffer).setInt32(classAt, 9, true);
    writeFileSync(join(dir, 'bad1.hil'), encodeModel(header, [badClass]));
    expect(() => HIL.load(join(dir, 'bad1.hil'))).toThrow(/memory names a class/);
    const badBits = section.slice();
    badBits[badBits.length - 1] = 0xff; // padding bits of the last stored row
    writeFileSync(join(dir, 'bad2.hil'), encodeModel(header, [badBits]));
    expect(() => HIL.load(join(dir, 'bad2.hil'))).toThrow(expect.objectContaining({ code: 'ERR_HDGLUE_MODEL_FILE' }));
    writeFileSync(join(dir, 'bad3.hil'), encodeModel({ ...header, hil: { ...header.hil, memory: 3 } }, [section]));
    // Counts that disagree with the memory, in total or per class, are refused.
    const counts = (header.hil as unknown as { counts: number[] }).counts;
    const more = { ...header, hil: { ...header.hil, counts: counts.map((c, k) => (k === 0 ? c + 1 : c)) } };
    writeFileSync(join(dir, 'bad4.hil'), encodeModel(more, [section]));
    expect(() => HIL.load(join(dir, 'bad4.hil'))).toThrow(/counts add up to/);
    const moved = {
      ...header,
      hil: { ...header.hil, counts: counts.map((c, k) => (k === 0 ? c + 1 : k === 1 ? c - 1 : c)) },
    };
    writeFileSync(join(dir, 'bad5.hil'), encodeModel(moved, [section]));
    expect(() => HIL.load(join(dir, 'bad5.hil'))).toThrow(/each class's counted examples/);
    expect(() => HIL.load(join(dir, 'bad3.hil'))).toThrow(/counts add up to/);
  });

  it('serves a glue member, and a glue of nearest members saves and loads', () => {
    const g = new HDGlue();
    const hil = new HIL({ dim, readout: 'nearest' }).fit(train.hvs, train.labels);
    const proto = new HIL({ dim }).fit(train.hvs, train.labels);
    const path = join(dir, 'g.hdg');
    // Members need encoders; the HIL readout is what is under test, so the encoder is trivial.
    return import('../lib/index.js').then(({ EmbeddingEncoder }) => {
      const e1 = new EmbeddingEncoder({ features: 3, dim, bins: 4, seed: 1 });
      g.addMember('near', { encoder: e1, hil });
      g.addMember('proto', { encoder: new EmbeddingEncoder({ features: 3, dim, bins: 4, seed: 2 }), hil: proto });
      g.save(path);
      const back = HDGlue.load(path);
      expect(back.member('near').hil.readout).toBe('nearest');
      expect(back.member('near').hil.stored).toBe(train.hvs.count);
      expect(back.member('proto').hil.readout).toBe('prototype');
      const x = Float64Array.from({ length: 30 }, (_, i) => Math.sin(i));
      expect(back.predict({ near: x, proto: x })).toEqual(g.predict({ near: x, proto: x }));
    });
  });
});
