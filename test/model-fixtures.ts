// Model files built deterministically from the shipped digits data, one of each kind a user can
// save: the golden set of test/model-golden.test.ts. Only the public API is used, so the builder
// survives any reorganisation of lib/; a change here or in what the library writes shows up as a
// byte difference against test/fixtures/models/.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildMember,
  DEFAULT_RECIPE,
  EmbeddingEncoder,
  HDGlue,
  HIL,
  ProjectionEncoder,
  type Recipe,
  tune,
  tutorialGlue,
} from '../lib/index.js';

/** The first `n` rows of data/digits.csv: 64 pixels scaled to [0, 1] and the digit. */
function digits(n: number): { x: Float64Array; y: number[] } {
  const lines = readFileSync(new URL('../data/digits.csv', import.meta.url), 'utf8')
    .trim()
    .split('\n')
    .slice(1, n + 1);
  const x = new Float64Array(n * 64);
  const y: number[] = [];
  lines.forEach((line, r) => {
    const v = line.split(',').map(Number);
    for (let f = 0; f < 64; f++) x[r * 64 + f] = (v[f] as number) / 16;
    y.push(v[64] as number);
  });
  return { x, y };
}

/** Columns [from, to) of row-major `x` with 64 columns: one "member's embedding". */
function columns(x: Float64Array, from: number, to: number): Float64Array {
  const n = x.length / 64;
  const w = to - from;
  const out = new Float64Array(n * w);
  for (let r = 0; r < n; r++) out.set(x.subarray(r * 64 + from, r * 64 + to), r * w);
  return out;
}

/** File name -> bytes of every golden model. */
export function buildModelFixtures(): Map<string, Uint8Array> {
  const { x, y } = digits(300);
  const top = columns(x, 0, 32);
  const bottom = columns(x, 32, 64);
  const recipe: Recipe = { ...DEFAULT_RECIPE, dim: 700, epochs: 6 };
  const dir = mkdtempSync(join(tmpdir(), 'hdglue-golden-'));
  const out = new Map<string, Uint8Array>();
  const keep = (name: string, save: (path: string) => void) => {
    const path = join(dir, name);
    save(path);
    out.set(name, new Uint8Array(readFileSync(path)));
  };
  try {
    // A vote glue of recipe-built members, one with a projection encoder, one weighted.
    const a = buildMember(top, 32, y, recipe, 1);
    const b = buildMember(bottom, 32, y, { ...recipe, range: 'minmax', bins: 16 }, 2);
    const proj = new ProjectionEncoder({ features: 64, dim: 520, seed: 3 }).fit(x);
    const projHil = new HIL({ dim: 520, seed: 3 }).fit(proj.encodeBatch(x), y);
    projHil.refine(proj.encodeBatch(x), y, { epochs: 4, schedule: 'batch', margin: 0 });
    const vote = new HDGlue({ seed: 5n })
      .addMember('top', { encoder: a.encoder, hil: a.hil })
      .addMember('bottom', { encoder: b.encoder, hil: b.hil, weight: 0.75 })
      .addMember('proj', { encoder: proj, hil: projHil });
    keep('vote.hdglue', (p) => vote.save(p));

    // The same glue after learning new rows with replay (online correction of every layer).
    const more = digits(360);
    const newRows = {
      top: columns(more.x, 0, 32).subarray(300 * 32),
      bottom: columns(more.x, 32, 64).subarray(300 * 32),
      proj: more.x.subarray(300 * 64),
    };
    vote.learn(newRows, more.y.slice(300), {
      replay: { inputs: { top, bottom, proj: x }, labels: y, size: 40 },
      epochs: 3,
      seed: 9,
    });
    keep('learned.hdglue', (p) => vote.save(p));

    // A concat glue trained by fit (members and the joint layer corrected).
    const concat = new HDGlue({ consensus: 'concat', seed: 11n })
      .addMember('top', { encoder: a.encoder, hil: new HIL({ dim: 700, seed: 1 }) })
      .addMember('bottom', { encoder: b.encoder, hil: new HIL({ dim: 700, seed: 2 }) });
    concat.fit({ top, bottom }, y, { refine: { epochs: 5, margin: 0.1 } });
    keep('concat.hdglue', (p) => concat.save(p));

    // The tutorial's algebra.
    const tut = tutorialGlue(
      [
        { name: 'top', x: top, features: 32 },
        { name: 'bottom', x: bottom, features: 32 },
      ],
      y,
      { dim: 600, range: 'minmax' },
    );
    keep('tutorial.hdglue', (p) => tut.save(p));

    // A glue carrying a tuning record (a small grid, 2 folds).
    const t = tune(
      [
        { name: 'top', x: top, features: 32 },
        { name: 'bottom', x: bottom, features: 32 },
      ],
      y,
      {
        folds: 2,
        seed: 4,
        grid: { dim: [400], bins: [8, 16], epochs: [2], margin: [0.1], readout: ['prototype'], consensus: ['vote'] },
      },
    );
    const tuned = new HDGlue({ seed: 0n });
    const r = t.recipe;
    for (const [name, xs, seed] of [
      ['top', top, 21],
      ['bottom', bottom, 22],
    ] as const) {
      const m = buildMember(xs, 32, y, r, seed);
      tuned.addMember(name, { encoder: m.encoder, hil: m.hil });
    }
    tuned.tuning = t;
    tuned.recipe = 'default';
    keep('tuned.hdglue', (p) => tuned.save(p));

    // Single layers: nearest readout, Hamming metric with the batch schedule, a random-level encoder.
    const enc = new EmbeddingEncoder({ features: 32, dim: 300, bins: 10, levels: 'random', seed: 7 }).fit(top, {
      method: 'minmax',
    });
    const hvs = enc.encodeBatch(top);
    keep('nearest.hil', (p) => new HIL({ dim: 300, seed: 7, readout: 'nearest' }).fit(hvs, y).save(p));
    const ham = new HIL({ dim: 300, seed: 8, metric: 'hamming', tie: 'ones' }).fit(
      hvs,
      y.map((d) => `digit ${d}`),
    );
    ham.refine(
      hvs,
      y.map((d) => `digit ${d}`),
      { epochs: 3, margin: 0 },
    );
    keep('hamming.hil', (p) => ham.save(p));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
