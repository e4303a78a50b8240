/**
 * The demo's experiment: the HD-Glue tutorial's steps run for real on the digits set and the
 * tutorial's exact split. It trains N seeded MLPs (plus one more, added online later), encodes
 * their 128-unit hidden embeddings, builds one HIL per network, glues them, and measures every
 * claim the tutorial makes: the tutorial's own algebra, the default glue, the plain ensembles,
 * accuracy as networks are added, and the "advanced" features (a network added online, a class
 * learnt online, weighted consensus, a network removed, error correction).
 *
 * Honesty rules kept here: the glue's settings are {@link DEFAULT_RECIPE} (chosen on validation
 * rows, never on the test split); weights for the weighted consensus come from validation rows
 * the HILs never saw; every figure is computed in this run, from this seed.
 */

import { cpus } from 'node:os';
import { join } from 'node:path';
import { backendInfo } from '../backend/info.js';
import type { HVBatch } from '../core/hv.js';
import type { LevelKind } from '../core/levels.js';
import { pickRows } from '../encode/embeddings.js';
import type { EmbeddingEncoder } from '../encode/level.js';
import type { Label } from '../label.js';
import type { HDGlue } from '../model/glue.js';
import { HIL } from '../model/hil.js';
import type { Recipe } from '../model/tuning-record.js';
import { everyNthSplit, type Split } from '../split.js';
import { assembleGlue, type BuiltMember, buildGlue, buildMember, DEFAULT_RECIPE } from '../train/recipe.js';
import { tune } from '../train/tune.js';
import { TUTORIAL_SETTINGS, tutorialGlue } from '../train/tutorial.js';
import { argmaxAt } from './argmax.js';
import { type Digits, loadDigits, loadSplit, subset } from './digits.js';
import { majorityVoteLowestTie, meanProbability } from './ensembles.js';
import type { MLP } from './mlp.js';
import { networkOutputs } from './outputs.js';
import { trainNetworks } from './train.js';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Networks glued at first (one more is trained and added online); default 5. */
  networks?: number;
  /** Bits per hypervector; default 10,000. */
  dim?: number;
  /** Base seed of the networks and codebooks; default 0. */
  seed?: number;
  /** Level codebook of the default glue; default `'level'`. */
  levels?: LevelKind;
  /** MLP training epochs; default 100 (the tutorial's max_iter). */
  epochs?: number;
  /** The digit held out of the first fit and then learnt online; default 9. */
  holdOut?: number;
  /** Independent repetitions (fresh networks and codebooks each); default 3. */
  seeds?: number;
  /** Also measure the default glue's 5-fold CV accuracy on the first seed's training rows; default true. */
  cv?: boolean;
  /**
   * Run the networks from ONNX files with onnxruntime-node instead of in JavaScript: `true`
   * exports them to a temporary directory, a string is a directory to export to and keep.
   * Default `false`.
   */
  onnx?: boolean | string;
}

/** Progress callbacks (the CLI draws bars with them). */
export interface DemoProgress {
  /** A phase with `total` steps starts. */
  phase(name: string, total: number): void;
  /** One step of the current phase is done. */
  tick(): void;
}

/** One point of the accuracy-vs-networks curve. */
export interface CurvePoint {
  networks: number;
  glue: number;
  majority: number;
  meanProbability: number;
}

/** The advanced features, measured on the first seed's networks. */
export interface Advanced {
  addMember: { name: string; before: number; after: number };
  newClass: {
    digit: number;
    before: { all: number; digit: number };
    /** After partialFit of the new class's examples alone. */
    after: { all: number; digit: number };
    /** Old examples replayed with the new ones by glue.learn (a stratified sample as large as the new rows). */
    replayed: number;
    /** After that correction pass. */
    afterReplay: { all: number; digit: number };
  };
  weighted: { weights: Record<string, number>; equal: number; weighted: number };
  removeMember: { name: string; before: number; after: number };
  errorCorrection: {
    before: { test: number; trainErrors: number };
    after: { test: number; trainErrors: number };
    epochs: number;
  };
}

/** One seed's figures. Accuracies are fractions of the 540 test images. */
export interface SeedRun {
  /** Seed of this run's first network; its networks and codebooks use seed .. seed + N. */
  seed: number;
  networks: { name: string; mlp: number; hil: number }[];
  baselines: { majority: number; meanProbability: number; bestNetwork: number; meanNetwork: number };
  tutorial: { hil: number; glue: number };
  glue: number;
  /** Mean 5-fold CV accuracy of the default glue on the training rows (networks fixed), if measured. */
  glueCV?: number;
  curve: CurvePoint[];
}

/** Mean and standard deviation over the seeds. */
export interface Stat {
  mean: number;
  std: number;
}

/** Everything the demo measured. */
export interface DemoResult {
  config: Required<DemoOptions> & { recipe: Recipe; tutorial: { bins: number; levels: 'random'; tie: 'ones' } };
  machine: { cpu: string; cores: number; backend: string; isa: string; node: string; date: string };
  data: { train: number; test: number; fit: number; validation: number };
  runs: SeedRun[];
  summary: {
    bestNetwork: Stat;
    meanNetwork: Stat;
    meanHil: Stat;
    majority: Stat;
    meanProbability: Stat;
    tutorialHil: Stat;
    tutorialGlue: Stat;
    glue: Stat;
    /** The first seed's default glue, 5-fold CV on the training rows. */
    glueCV?: number;
    curve: { networks: number; glue: Stat; majority: Stat; meanProbability: Stat }[];
  };
  /** 1-NN by Euclidean distance on the raw pixels (no network): the same for every seed. */
  rawPixels1NN: number;
  advanced: Advanced;
  seconds: number;
}

const NONE: DemoProgress = { phase() {}, tick() {} };

/** Run the whole demo; deterministic for given options (apart from `machine` and `seconds`). */
export async function runDemo(options: DemoOptions = {}, progress: DemoProgress = NONE): Promise<DemoResult> {
  const t0 = performance.now();
  const o: Required<DemoOptions> = {
    networks: options.networks ?? 5,
    dim: options.dim ?? DEFAULT_RECIPE.dim,
    seed: options.seed ?? 0,
    levels: options.levels ?? DEFAULT_RECIPE.levels,
    epochs: options.epochs ?? 100,
    holdOut: options.holdOut ?? 9,
    seeds: options.seeds ?? 3,
    cv: options.cv ?? true,
    onnx: options.onnx ?? false,
  };
  const recipe: Recipe = { ...DEFAULT_RECIPE, dim: o.dim, levels: o.levels };
  const N = o.networks;
  const digits = loadDigits();
  const split = loadSplit();
  const data: Data = { train: subset(digits, split.train), test: subset(digits, split.test) };

  // Every seed's networks train in one pool, so both cores stay busy across seeds.
  const bases = Array.from({ length: o.seeds }, (_, k) => o.seed + k * (N + 1));
  const all = bases.flatMap((b) => Array.from({ length: N + 1 }, (_, i) => b + i));
  progress.phase('training networks', all.length);
  const tr = data.train;
  const nets = await trainNetworks(tr.x, tr.y, tr.n, 10, all, { epochs: o.epochs }, () => progress.tick());

  progress.phase('encoding, HILs, consensus, CV', o.seeds);
  const runs: SeedRun[] = [];
  let advanced: Advanced | undefined;
  for (const [k, base] of bases.entries()) {
    const r = await runSeed(o, recipe, data, base, nets.slice(k * (N + 1), (k + 1) * (N + 1)), k === 0);
    runs.push(r.run);
    advanced ??= r.advanced;
  }
  const stat = (f: (r: SeedRun) => number): Stat => meanStd(runs.map(f));
  const info = backendInfo();
  return {
    config: {
      ...o,
      recipe,
      tutorial: { bins: TUTORIAL_SETTINGS.bins, levels: TUTORIAL_SETTINGS.levels, tie: TUTORIAL_SETTINGS.tie },
    },
    machine: {
      cpu: cpus()[0]?.model.trim() ?? 'unknown',
      cores: cpus().length,
      backend: info.backend,
      isa: info.isa,
      node: process.versions.node,
      date: new Date().toISOString().slice(0, 10),
    },
    data: { train: tr.n, test: data.test.n, ...countValidation(tr) },
    runs,
    summary: {
      bestNetwork: stat((r) => r.baselines.bestNetwork),
      meanNetwork: stat((r) => r.baselines.meanNetwork),
      meanHil: stat((r) => r.networks.reduce((a, n) => a + n.hil, 0) / r.networks.length),
      majority: stat((r) => r.baselines.majority),
      meanProbability: stat((r) => r.baselines.meanProbability),
      tutorialHil: stat((r) => r.tutorial.hil),
      tutorialGlue: stat((r) => r.tutorial.glue),
      glue: stat((r) => r.glue),
      ...(o.cv ? { glueCV: (runs[0] as SeedRun).glueCV as number } : {}),
      curve: (runs[0] as SeedRun).curve.map((c, i) => ({
        networks: c.networks,
        glue: stat((r) => (r.curve[i] as CurvePoint).glue),
        majority: stat((r) => (r.curve[i] as CurvePoint).majority),
        meanProbability: stat((r) => (r.curve[i] as CurvePoint).meanProbability),
      })),
    },
    rawPixels1NN: nearestPixels(data),
    advanced: advanced as Advanced,
    seconds: (performance.now() - t0) / 1000,
  };
}

interface Data {
  train: Digits;
  test: Digits;
}

// One seed: its N + 1 networks' embeddings, the HILs and glue, the baselines, the curve, and
// (on the first seed) the advanced features.
async function runSeed(
  o: Required<DemoOptions>,
  recipe: Recipe,
  data: Data,
  base: number,
  nets: MLP[],
  withAdvanced: boolean,
): Promise<{ run: SeedRun; advanced?: Advanced }> {
  const N = o.networks;
  const { train, test } = data;
  const trainY = Array.from(train.y);
  const testY = Array.from(test.y);
  const { fitRows, valRows } = validationSplit(trainY);
  const names = nets.map((_, i) => `mlp${i}`);
  // With ONNX, each seed's networks are exported to their own directory (kept if one was named).
  const onnx = typeof o.onnx === 'string' ? join(o.onnx, `seed${base}`) : o.onnx;
  const { trainEmb, testEmb, probs } = await networkOutputs(nets, names, train, test, onnx);
  // The glue of the first N networks (network i's codebooks seeded base + i), and the last
  // network's member, built alike, to be added at run time.
  const firstN = names.slice(0, N).map((name, i) => ({ name, x: trainEmb[i] as Float64Array, features: 128 }));
  const { glue, members: glued } = buildGlue(firstN, trainY, recipe, { seed: base });
  const members = [...glued, buildMember(trainEmb[N] as Float64Array, 128, trainY, recipe, base + N)];
  const testHvs = members.map((m, i) => m.encoder.encodeBatch(testEmb[i] as Float64Array));
  const inputs = (k: number, emb = testEmb) => Object.fromEntries(names.slice(0, k).map((n, i) => [n, emb[i]]));
  const glueOf = (ms: readonly { encoder: EmbeddingEncoder; hil: HIL }[], k = ms.length) =>
    assembleGlue(ms.slice(0, k).map((m, i) => ({ name: names[i] as string, encoder: m.encoder, hil: m.hil })));

  const glueAcc = glue.accuracy(inputs(N), testY);
  const networks = nets.slice(0, N).map((_, i) => ({
    name: names[i] as string,
    mlp: accuracy(
      Array.from({ length: test.n }, (_, r) => argmaxAt(probs[i] as Float64Array, r * 10, 10)),
      testY,
    ),
    hil: (members[i] as BuiltMember).hil.accuracy(testHvs[i] as HVBatch, testY),
  }));
  const ensembles = (k: number) => ({
    majority: accuracy(Array.from(majorityVoteLowestTie(probs.slice(0, k), test.n, 10)), testY),
    meanProbability: accuracy(Array.from(meanProbability(probs.slice(0, k), test.n, 10)), testY),
  });
  const curve: CurvePoint[] = [];
  for (let k = 1; k <= N + 1; k++) {
    curve.push({ networks: k, glue: glueOf(members, k).accuracy(inputs(k), testY), ...ensembles(k) });
  }

  // The tutorial as written (lib/train/tutorial.ts, the same construction `hdglue fit --recipe
  // tutorial` uses), on the tanh range [-1, 1] its bins span.
  const tut = tutorialGlue(firstN, trainY, { dim: o.dim, range: [-1, 1] });
  const tut0 = tut.member(names[0] as string);
  const tutorial = {
    hil: accuracy(tut0.hil.predict(tut0.encoder.encodeBatch(testEmb[0] as Float64Array), { mode: 'tutorial' }), testY),
    glue: tut.accuracy(inputs(N), testY),
  };

  const run: SeedRun = {
    seed: base,
    networks,
    baselines: {
      ...ensembles(N),
      bestNetwork: Math.max(...networks.map((n) => n.mlp)),
      meanNetwork: networks.reduce((a, n) => a + n.mlp, 0) / N,
    },
    tutorial,
    glue: glueAcc,
    curve,
  };
  if (o.cv && withAdvanced) {
    // The default glue's CV on the training rows, with these networks fixed: the same procedure
    // `tune` uses to choose the default, here for that one recipe.
    const cv = tune(firstN, trainY, {
      seed: base,
      base: recipe,
      grid: {
        dim: [recipe.dim],
        bins: [recipe.bins],
        margin: [recipe.margin],
        epochs: [recipe.epochs],
        readout: [recipe.readout],
      },
    });
    run.glueCV = cv.cv;
  }
  if (!withAdvanced) return { run };

  // A network added at run time to the trained glue, then taken out again.
  const extra = names[N] as string;
  glue.addMember(extra, { encoder: (members[N] as BuiltMember).encoder, hil: (members[N] as BuiltMember).hil });
  const addMember = { name: extra, before: glueAcc, after: glue.accuracy(inputs(N + 1), testY) };
  glue.removeMember(extra);

  // Error correction: the same encoders and examples, HILs without and with it.
  const plain = members
    .slice(0, N)
    .map((m) => ({ encoder: m.encoder, hil: new HIL({ dim: o.dim, seed: m.hil.seed }).fit(m.hvs, trainY) }));
  const trainErrors = (ms: readonly { hil: HIL }[]) =>
    ms.reduce((s, m, i) => s + Math.round((1 - m.hil.accuracy((members[i] as BuiltMember).hvs, trainY)) * train.n), 0);
  const errorCorrection = {
    before: { test: glueOf(plain).accuracy(inputs(N), testY), trainErrors: trainErrors(plain) },
    after: { test: glueAcc, trainErrors: trainErrors(members.slice(0, N)) },
    epochs: recipe.epochs,
  };

  // Weighted consensus: HILs fit on the fitting rows, weights from each member's accuracy on the
  // validation rows (which those HILs never saw; the networks did, as in the tutorial).
  const rows = (emb: Float64Array, r: readonly number[]) => pickRows(emb, 128, r);
  const valY = valRows.map((r) => trainY[r] as number);
  const wGlue = buildGlue(firstN, trainY, recipe, { seed: base, rows: fitRows }).glue;
  const equal = wGlue.accuracy(inputs(N), testY);
  const weights = wGlue.fitWeights(
    inputs(
      N,
      trainEmb.map((e) => rows(e, valRows)),
    ),
    valY,
  );
  const weighted = { weights, equal, weighted: wGlue.accuracy(inputs(N), testY) };

  // A class learnt online: one digit left out of the first fit, then added with partialFit.
  const h = o.holdOut;
  const known = trainY.flatMap((y, r) => (y === h ? [] : [r]));
  const heldRows = trainY.flatMap((y, r) => (y === h ? [r] : []));
  // Glues trained without the held-out digit (built twice: once for partialFit, once for learn).
  const withoutDigit = () => buildGlue(firstN, trainY, recipe, { seed: base, rows: known });
  const { glue: hGlue, members: hMembers } = withoutDigit();
  const digitRows = testY.flatMap((y, r) => (y === h ? [r] : []));
  const score = (g: HDGlue) => {
    const p = g.predict(inputs(N));
    return { all: accuracy(p, testY), digit: digitRows.filter((r) => p[r] === h).length / digitRows.length };
  };
  const before = score(hGlue);
  for (let i = 0; i < N; i++) {
    const m = hMembers[i] as BuiltMember;
    m.hil.partialFit(
      m.encoder.encodeBatch(rows(trainEmb[i] as Float64Array, heldRows)),
      heldRows.map(() => h),
    );
  }
  const after = score(hGlue);
  // glue.learn: the same partialFit, then a short online correction over the new rows and a
  // seeded stratified replay of as many old rows (given; the glue stores none).
  const lGlue = withoutDigit().glue;
  lGlue.learn(
    Object.fromEntries(names.slice(0, N).map((n, i) => [n, rows(trainEmb[i] as Float64Array, heldRows)])),
    heldRows.map(() => h),
    {
      replay: {
        inputs: Object.fromEntries(names.slice(0, N).map((n, i) => [n, rows(trainEmb[i] as Float64Array, known)])),
        labels: known.map((r) => trainY[r] as number),
      },
      epochs: recipe.epochs,
      margin: recipe.margin,
    },
  );
  const replay = { length: Math.min(known.length, heldRows.length) };
  const newClass = { digit: h, before, after, replayed: replay.length, afterReplay: score(lGlue) };

  // A network removed at run time.
  const gone = names[0] as string;
  glue.removeMember(gone);
  const rest = Object.fromEntries(names.slice(1, N).map((n, i) => [n, testEmb[i + 1]]));
  const removeMember = { name: gone, before: glueAcc, after: glue.accuracy(rest, testY) };

  return { run, advanced: { addMember, newClass, weighted, removeMember, errorCorrection } };
}

/** Sizes of the fitting and validation parts of the training rows (see validationSplit). */
function countValidation(train: Digits): { fit: number; validation: number } {
  const { fitRows, valRows } = validationSplit(Array.from(train.y));
  return { fit: fitRows.length, validation: valRows.length };
}

/** Every 5th training row of each class for validation (deterministic, stratified). */
function validationSplit(trainY: readonly number[]): Split {
  return everyNthSplit(trainY, 5);
}

/** Mean and (population) standard deviation. */
function meanStd(v: readonly number[]): Stat {
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  return { mean, std: Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length) };
}

/** Test accuracy of 1-NN by squared Euclidean distance on the raw pixels (ties: first training row). */
function nearestPixels({ train, test }: Data): number {
  let ok = 0;
  for (let q = 0; q < test.n; q++) {
    let best = Number.POSITIVE_INFINITY;
    let label = -1;
    for (let r = 0; r < train.n; r++) {
      let d = 0;
      for (let f = 0; f < 64; f++) d += ((test.x[q * 64 + f] as number) - (train.x[r * 64 + f] as number)) ** 2;
      if (d < best) {
        best = d;
        label = train.y[r] as number;
      }
    }
    if (label === test.y[q]) ok++;
  }
  return ok / test.n;
}

function accuracy(pred: readonly Label[], truth: readonly Label[]): number {
  let ok = 0;
  for (let i = 0; i < truth.length; i++) if (pred[i] === truth[i]) ok++;
  return ok / truth.length;
}
