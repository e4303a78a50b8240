// The HIL and the glue through the public API, on whichever backend the environment selects
// (npm test runs this on native and again with HDGLUE_BACKEND=js).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  bind,
  bundle,
  EmbeddingEncoder,
  ErrorCode,
  HDGlue,
  HIL,
  HVBatch,
  hamming,
  type Label,
  randomHV,
} from '../lib/index.js';
import { encodeModel } from '../lib/io/model-file.js';
import { expectCode, prng } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'hdglue-hil-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A model file with a replaced header and the original sections, checksums recomputed.
function encodeModelForTest(header: unknown, original: Uint8Array): Uint8Array {
  const dv = new DataView(original.buffer, original.byteOffset);
  const headLen = dv.getUint32(12, true);
  const count = dv.getUint32(20, true);
  let at = 24 + headLen + ((8 - (headLen % 8)) % 8);
  const sections: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const n = Number(dv.getBigUint64(at, true));
    sections.push(original.slice(at + 16, at + 16 + n));
    at += 16 + n + ((8 - (n % 8)) % 8);
  }
  return encodeModel(header, sections);
}

// A toy problem with structure: each class is a noisy version of its own random vector.
function dataset(dim: number, classes: Label[], perClass: number, noise: number, seed: number) {
  const next = prng(seed);
  const rows = [];
  const labels: Label[] = [];
  for (let i = 0; i < perClass; i++) {
    for (const c of classes) {
      const v = randomHV(dim, `center/${String(c)}`).toBipolar();
      for (let j = 0; j < dim; j++) if (next() / 2 ** 32 < noise) v[j] = -(v[j] as number);
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

describe('HIL', () => {
  const dim = 2000;
  const train = dataset(dim, [0, 1, 'two', 3], 20, 0.35, 1);
  const test = dataset(dim, [0, 1, 'two', 3], 10, 0.35, 2);

  it('learns, predicts, and ranks (cosine and hamming)', () => {
    const hil = new HIL({ dim }).fit(train.hvs, train.labels);
    expect(hil.labels).toEqual([0, 1, 'two', 3]);
    expect(hil.counts).toEqual([20, 20, 20, 20]);
    expect(hil.accuracy(test.hvs, test.labels)).toBeGreaterThan(0.95);
    expect(hil.accuracy(test.hvs, test.labels, { metric: 'hamming' })).toBeGreaterThan(0.95);
    const top = hil.predictTopK(test.hvs.slice(0, 2), 2);
    expect(top.labels[0]?.[0]).toBe(test.labels[0]);
    expect(top.scores[0]?.[0]).toBeGreaterThanOrEqual(top.scores[0]?.[1] as number);
  });

  it('partialFit then forget restores the model bit for bit, including a brand-new class', () => {
    const hil = new HIL({ dim }).fit(train.hvs.slice(0, 40), train.labels.slice(0, 40));
    const before = { labels: hil.labels, counts: hil.counts, protos: hil.prototypes(), c0: hil.counters(0) };
    const extra = dataset(dim, ['new'], 5, 0.3, 9);
    hil.partialFit(extra.hvs, extra.labels);
    hil.partialFit(train.hvs.slice(40), train.labels.slice(40));
    expect(hil.labels).toContain('new');
    expect(hil.predict(dataset(dim, ['new'], 3, 0.3, 10).hvs)).toEqual(['new', 'new', 'new']);
    hil.forget(train.hvs.slice(40), train.labels.slice(40));
    hil.forget(extra.hvs, extra.labels);
    expect(hil.labels).toEqual(before.labels);
    expect(hil.counts).toEqual(before.counts);
    expect(hil.counters(0)).toEqual(before.c0);
    expect(hil.prototypes().equals(before.protos)).toBe(true);
  });

  it('removeClass removes exactly that class', () => {
    const hil = new HIL({ dim }).fit(train.hvs, train.labels);
    const c3 = hil.counters(3);
    hil.removeClass('two');
    expect(hil.labels).toEqual([0, 1, 3]);
    expect(hil.counters(3)).toEqual(c3);
    expect(hil.predict(test.hvs).includes('two')).toBe(false);
    expectCode(() => hil.counters('two'), ErrorCode.UNKNOWN_LABEL);
  });

  it('error correction reduces training errors (adapt and tutorial rules), validation keeps the best', () => {
    // Small vectors and heavy noise, so plain prototypes leave many training errors.
    const d = 256;
    const hard = dataset(d, [0, 1, 2, 3, 4, 5, 6, 7], 40, 0.44, 3);
    const hil = new HIL({ dim: d }).fit(hard.hvs, hard.labels);
    const history = hil.refine(hard.hvs, hard.labels, { epochs: 10, margin: 0.2, schedule: 'batch' });
    expect(history[0]?.trainErrors).toBeGreaterThan(10);
    // The batch schedule keeps the state with the fewest training errors seen.
    const kept = hard.hvs.count - Math.round(hil.accuracy(hard.hvs, hard.labels) * hard.hvs.count);
    expect(kept).toBeLessThanOrEqual(Math.min(...history.map((e) => e.trainErrors)));
    expect((history.at(-1) as { trainErrors: number }).trainErrors).toBeLessThan(
      (history[0]?.trainErrors as number) / 2,
    );
    const tut = new HIL({ dim: d }).fit(hard.hvs, hard.labels);
    const th = tut.refine(hard.hvs, hard.labels, { epochs: 5, rule: 'tutorial' });
    expect(th.length).toBeGreaterThan(0);
    const val = dataset(d, [0, 1, 2, 3, 4, 5, 6, 7], 10, 0.44, 4);
    const v = new HIL({ dim: d }).fit(hard.hvs, hard.labels);
    const vh = v.refine(hard.hvs, hard.labels, {
      epochs: 10,
      validation: { hvs: val.hvs, labels: val.labels },
      margin: 0.05,
    });
    const best = Math.max(...vh.map((e) => e.validationAccuracy as number));
    expect(v.accuracy(val.hvs, val.labels)).toBeGreaterThanOrEqual(best);
  });

  it("tutorial mode is the seed's formula: bind(bundle_k bind(class_k, proto_k), query), nearest class", () => {
    // Four classes: an even count, so the 'ones' tie rule really decides some bits.
    const small = dataset(501, ['a', 'b', 'c', 'd'], 5, 0.3, 5);
    const hil = new HIL({ dim: 501, seed: 4 }).fit(small.hvs, small.labels);
    const protos = hil.prototypes();
    const classVecs = ['a', 'b', 'c', 'd'].map((l) => randomHV(501, `class/s/${l}`, { seed: 4 }));
    const sym = bundle(HVBatch.from(classVecs.map((cv, k) => bind(cv, protos.row(k)))), { seed: 4 });
    expect(hil.symbolic().equals(sym)).toBe(true);
    const q = dataset(501, ['b'], 4, 0.3, 6).hvs;
    const want = [...q].map((row) => {
      const r = bind(sym, row);
      const d = classVecs.map((cv) => hamming(r, cv));
      return ['a', 'b', 'c', 'd'][d.indexOf(Math.min(...d))];
    });
    expect(hil.predict(q, { mode: 'tutorial' })).toEqual(want);
    const ones = bundle(HVBatch.from(classVecs.map((cv, k) => bind(cv, protos.row(k)))), { tie: 'ones' });
    expect(hil.symbolic({ tie: 'ones' }).equals(ones)).toBe(true);
    expect(ones.equals(sym)).toBe(false); // the two tie rules really differ here
  });

  it('rejects bad input with codes and changes nothing', () => {
    const hil = new HIL({ dim }).fit(train.hvs, train.labels);
    const before = hil.counters(0);
    expectCode(() => hil.fit(train.hvs, train.labels.slice(1)), ErrorCode.SHAPE);
    expectCode(
      () =>
        hil.partialFit(
          train.hvs,
          train.labels.map((l, i) => (i === 5 ? Number.NaN : l)),
        ),
      ErrorCode.INVALID_TYPE,
    );
    expectCode(() => hil.forget(train.hvs.slice(0, 2), [0, 'nope']), ErrorCode.UNKNOWN_LABEL);
    expectCode(() => hil.predict(new HVBatch(dim + 1, 1)), ErrorCode.DIM_MISMATCH);
    expectCode(() => new HIL({ dim }).predict(train.hvs), ErrorCode.UNKNOWN_LABEL);
    expectCode(() => hil.refine(train.hvs, train.labels, { margin: -1 }), ErrorCode.OUT_OF_RANGE);
    expectCode(() => hil.refine(train.hvs, train.labels, { validation: null as never }), ErrorCode.INVALID_TYPE);
    expectCode(() => hil.predict(train.hvs, { mode: 'tutorail' as 'tutorial' }), ErrorCode.OUT_OF_RANGE);
    const twice = HVBatch.from([...train.hvs.slice(0, 1), ...train.hvs.slice(0, 1)].concat([...train.hvs]));
    expectCode(() => hil.forget(twice, [0, 0, ...train.labels]), ErrorCode.OUT_OF_RANGE);
    const zero = new HIL({ dim }).fit(train.hvs.slice(0, 2), [-0, 1]);
    expect(Object.is(zero.labels[0], 0)).toBe(true);
    expect(hil.counters(0)).toEqual(before);
    expect(hil.counts).toEqual([20, 20, 20, 20]);
  });

  it('save/load round-trips exactly; every corruption is rejected with a code', () => {
    const hil = new HIL({ dim, seed: 77n }).fit(train.hvs, train.labels);
    hil.refine(train.hvs, train.labels, { epochs: 2 });
    const path = join(dir, 'one.hdg');
    hil.save(path);
    const back = HIL.load(path);
    expect(back.labels).toEqual(hil.labels);
    expect(back.predict(test.hvs)).toEqual(hil.predict(test.hvs));
    expect(back.prototypes().equals(hil.prototypes())).toBe(true);
    back.save(join(dir, 'two.hdg'));
    expect(readFileSync(join(dir, 'two.hdg'))).toEqual(readFileSync(path));
    const bytes = readFileSync(path);
    const bad = join(dir, 'bad.hdg');
    const tryLoad = (b: Uint8Array) => {
      writeFileSync(bad, b);
      const versionField = b.length >= 12 ? new DataView(b.buffer, b.byteOffset).getUint32(8, true) : 1;
      const magicOk = b.length >= 8 && b.subarray(0, 8).every((x, i) => x === bytes[i]);
      expectCode(() => HIL.load(bad), magicOk && versionField !== 1 ? ErrorCode.MODEL_VERSION : ErrorCode.MODEL_FILE);
    };
    for (const cut of [0, 5, 23, 24, 40, bytes.length - 16 - 8, bytes.length - 100, bytes.length - 1])
      tryLoad(bytes.subarray(0, cut));
    for (const at of [0, 7, 9, 13, 17, 21, 30, bytes.length - 50, bytes.length - 1]) {
      const b = Uint8Array.from(bytes);
      b[at] = (b[at] as number) ^ 0x40;
      tryLoad(b);
    }
    tryLoad(Uint8Array.from([...bytes, 0]));
    expectCode(() => HIL.load(join(dir, 'missing.hdg')), 'ENOENT');
  });
});

describe('model files', () => {
  it('reject a flip of any single byte, including padding and reserved fields', () => {
    const small = dataset(64, ['x', 'y'], 3, 0.3, 11);
    const hil = new HIL({ dim: 64 }).fit(small.hvs, small.labels);
    const path = join(dir, 'small.hdg');
    hil.save(path);
    const bytes = readFileSync(path);
    const bad = join(dir, 'small-bad.hdg');
    for (let at = 0; at < bytes.length; at++) {
      const b = Uint8Array.from(bytes);
      b[at] = (b[at] as number) ^ 0x01;
      writeFileSync(bad, b);
      let code: string | undefined;
      try {
        HIL.load(bad);
      } catch (e) {
        code = (e as { code?: string }).code;
      }
      expect(code === ErrorCode.MODEL_FILE || code === ErrorCode.MODEL_VERSION, `byte ${at}`).toBe(true);
    }
  });

  it('refuse a tiny glue file whose encoders would regenerate gigabytes, before building them', () => {
    const g = new HDGlue();
    g.addMember('a', { encoder: new EmbeddingEncoder({ features: 2, dim: 64, bins: 4 }) });
    g.fit({ a: new Float64Array([0, 0, 1, 1]) }, ['p', 'q']);
    const path = join(dir, 'huge.hdg');
    g.save(path);
    // Rewrite the header to ask for dim 2^24 and 4,096 bins, with a valid checksum.
    const f = readFileSync(path);
    const dv = new DataView(f.buffer, f.byteOffset);
    const headLen = dv.getUint32(12, true);
    const header = JSON.parse(new TextDecoder().decode(f.subarray(24, 24 + headLen)));
    header.members[0].encoder.dim = 2 ** 24;
    header.members[0].encoder.bins = 4096;
    writeFileSync(path, encodeModelForTest(header, f));
    // Refused by the size check itself (its message names the limit), not by running out of memory.
    expectCode(() => HDGlue.load(path), ErrorCode.MODEL_FILE);
    expect(() => HDGlue.load(path)).toThrow(/maxVectorBytes/);
    expectCode(() => HDGlue.load(dir), ErrorCode.MODEL_FILE);
  });
});

describe('HDGlue', () => {
  // Three "networks" see the same classes through different, noisy 16-value embeddings.
  const classes = ['cat', 'dog', 'owl'];
  function embeddings(net: number, seed: number, n: number, noise: number) {
    const next = prng(seed);
    const centers = classes.map((_, c) =>
      Float64Array.from({ length: 16 }, (_, f) => Math.sin((c + 1) * (f + 1) * (net + 1))),
    );
    const x = new Float64Array(n * 16);
    const labels: Label[] = [];
    for (let r = 0; r < n; r++) {
      const c = r % 3;
      labels.push(classes[c] as string);
      for (let f = 0; f < 16; f++) x[r * 16 + f] = (centers[c]?.[f] as number) + noise * ((next() / 2 ** 32) * 2 - 1);
    }
    return { x, labels };
  }
  const nets = ['a', 'b', 'c'];
  const trainX = Object.fromEntries(nets.map((n, i) => [n, embeddings(i, 10 + i, 90, 0.6).x]));
  const trainY = embeddings(0, 10, 90, 0.6).labels;
  const testX = Object.fromEntries(nets.map((n, i) => [n, embeddings(i, 20 + i, 30, 0.6).x]));
  const testY = embeddings(0, 20, 30, 0.6).labels;
  const make = () => {
    const g = new HDGlue();
    for (const n of nets)
      g.addMember(n, { encoder: new EmbeddingEncoder({ features: 16, dim: 2000, range: [-2, 2] }) });
    return g.fit(trainX, trainY);
  };

  it('fits, predicts by weighted vote, explains, and survives missing members', () => {
    const g = make();
    expect(g.accuracy(testX, testY)).toBeGreaterThan(0.9);
    const one = { a: (testX.a as Float64Array).subarray(0, 16), b: (testX.b as Float64Array).subarray(0, 16) };
    const e = g.explain(one);
    expect(e.used).toEqual(['a', 'b']);
    expect(e.missing).toEqual(['c']);
    expect(e.label).toBe(g.predict({ a: one.a, b: one.b })[0]);
    expect(e.members.reduce((s, m) => s + Math.abs(m.share), 0)).toBeCloseTo(1, 6);
    expect(g.predict({ c: testX.c as Float64Array }).length).toBe(30);
    expectCode(() => g.predict({}), ErrorCode.NO_INPUT);
    expectCode(() => g.predict({ zebra: testX.a as Float64Array }), ErrorCode.UNKNOWN_MEMBER);
  });

  it('weights, removal and re-adding are exact; async agrees; tutorial consensus runs', async () => {
    const g = make();
    const base = g.predict(testX);
    const w = g.fitWeights(testX, testY);
    expect(Object.keys(w)).toEqual(nets);
    g.setWeight('a', 0);
    expect(g.predict(testX)).toEqual(g.predict({ b: testX.b as Float64Array, c: testX.c as Float64Array }));
    const m = g.member('c');
    g.removeMember('c');
    expect(g.members()).toEqual(['a', 'b']);
    g.setWeight('a', w.a as number);
    expectCode(() => g.predict(testX), ErrorCode.UNKNOWN_MEMBER); // 'c' is no longer a member
    g.addMember('c', { encoder: m.encoder, hil: m.hil, weight: w.c as number });
    const weighted = g.predict(testX);
    g.removeMember('c').addMember('c', { encoder: m.encoder, hil: m.hil, weight: w.c as number });
    expect(g.predict(testX)).toEqual(weighted);
    expect(await g.predictAsync(testX)).toEqual(weighted);
    expect(base.length).toBe(30);
    // Tutorial consensus: G = bundle_i bind(net_i, HIL_i); query = bundle_i bind(net_i, enc_i(x));
    // the label is the class vector nearest to bind(G, query).
    const t = g.predict(testX, { consensus: 'tutorial' });
    const net = (n: string) => randomHV(2000, `network/${n}`, { seed: 0 });
    const G = bundle(HVBatch.from(nets.map((n) => bind(net(n), g.member(n).hil.symbolic()))));
    const enc = nets.map((n) => g.member(n).encoder.encodeBatch(testX[n] as Float64Array));
    const cls = g.labels().map((l) => g.member('a').hil.classVector(l));
    const want = Array.from({ length: 30 }, (_, r) => {
      const q = bundle(HVBatch.from(nets.map((n, i) => bind(enc[i]?.row(r) as never, net(n)))));
      const d = cls.map((cv) => hamming(bind(G, q), cv));
      return g.labels()[d.indexOf(Math.min(...d))];
    });
    expect(t).toEqual(want);
    expectCode(() => new HDGlue({ consensus: 'tutorial' }).explain({}), ErrorCode.OUT_OF_RANGE);
  });

  it('a failing fit or fitWeights changes no member; absent or silent members never win', () => {
    const g = make();
    const before = g.predict(testX);
    const protos = g.member('a').hil.prototypes();
    expectCode(() => g.fit(trainX, trainY, { refine: { epochs: -1 } }), ErrorCode.OUT_OF_RANGE);
    expect(g.member('a').hil.prototypes().equals(protos)).toBe(true);
    expect(g.predict(testX)).toEqual(before);
    const w = g.member('a').weight;
    const empty = new HDGlue();
    empty.addMember('p', { encoder: new EmbeddingEncoder({ features: 16, dim: 2000, range: [-2, 2] }) });
    empty.addMember('q', { encoder: new EmbeddingEncoder({ features: 16, dim: 2000, range: [-2, 2] }) });
    empty.fit({ p: trainX.a as Float64Array }, trainY);
    expectCode(
      () => empty.fitWeights({ p: testX.a as Float64Array, q: testX.b as Float64Array }, testY),
      ErrorCode.UNKNOWN_LABEL,
    );
    expect(empty.member('p').weight).toBe(1);
    expect(g.member('a').weight).toBe(w);
    // Member 'solo' knows only 'zebra'; asking the others must never answer 'zebra'.
    const solo = new HIL({ dim: 2000 }).fit(
      g.member('a').encoder.encodeBatch((trainX.a as Float64Array).subarray(0, 16)),
      ['zebra'],
    );
    g.addMember('solo', { encoder: g.member('a').encoder, hil: solo });
    expect(g.predict({ b: testX.b as Float64Array }).includes('zebra')).toBe(false);
    g.setWeight('b', 0);
    expectCode(() => g.predict({ b: testX.b as Float64Array }), ErrorCode.NO_INPUT);
    expectCode(() => g.addMember('__proto__', { encoder: g.member('a').encoder }), ErrorCode.OUT_OF_RANGE);
  });

  it('save/load round-trips exactly', () => {
    const g = make();
    g.setWeight('b', 0.25);
    const path = join(dir, 'glue.hdg');
    g.save(path);
    const back = HDGlue.load(path);
    expect(back.members()).toEqual(g.members());
    expect(back.member('b').weight).toBe(0.25);
    expect(back.predict(testX)).toEqual(g.predict(testX));
    back.save(join(dir, 'glue2.hdg'));
    expect(readFileSync(join(dir, 'glue2.hdg'))).toEqual(readFileSync(path));
    writeFileSync(join(dir, 'cut.hdg'), readFileSync(path).subarray(0, 1000));
    expectCode(() => HDGlue.load(join(dir, 'cut.hdg')), ErrorCode.MODEL_FILE);
    expectCode(() => HDGlue.load(join(dir, 'one.hdg')), ErrorCode.MODEL_FILE);
  });
});
