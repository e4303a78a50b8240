/**
 * `hdglue fit`: build a glue from members' training embeddings and labels and save it.
 * Each member gets the {@link DEFAULT_RECIPE} unless flags say otherwise; `--validation F` holds
 * out a stratified, seeded fraction of the rows to stop error correction early and report an
 * accuracy the model did not train on. `--recipe tutorial` instead builds the tutorial's algebra
 * as written ({@link tutorialGlue}), which takes none of the default recipe's knobs.
 */
import { type Stats, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LEVEL_KINDS, type LevelKind } from '../core/levels.js';
import { pickRows } from '../encode/embeddings.js';
import { ErrorCode, HdglueError } from '../errors.js';
import type { Label } from '../label.js';
import type { HDGlue } from '../model/glue.js';
import type { Readout } from '../model/hil.js';
import type { Schedule } from '../model/refine.js';
import type { Recipe, RecipeName, TuneResult } from '../model/tuning-record.js';
import { stratifiedSplit } from '../split.js';
import { type BuiltMember, buildGlue, DEFAULT_RECIPE } from '../train/recipe.js';
import { type TuneGrid, tune } from '../train/tune.js';
import { TUTORIAL_SETTINGS, tutorialGlue } from '../train/tutorial.js';
import { UsageError } from './errors.js';
import { heldOutGroups } from './held-out.js';
import { checkRows, type MemberInput, readLabels } from './inputs.js';
import { onnxSourcesFor, readAllMembers } from './members.js';
import { CV_CAVEAT, HELD_OUT_CAVEAT, intFlag, numberFlag, type Out } from './util.js';

/** Flags of `hdglue fit` (strings as parsed). */
export interface FitFlags {
  member?: string[];
  input?: string[];
  labels?: string;
  out?: string;
  recipe?: string;
  dim?: string;
  bins?: string;
  levels?: string;
  range?: string;
  consensus?: string;
  epochs?: string;
  margin?: string;
  schedule?: string;
  readout?: string;
  cv?: string;
  seed?: string;
  validation?: string;
  json?: boolean;
}

/** Run `hdglue fit`. */
export async function fitCommand(f: FitFlags, out: Out): Promise<void> {
  if (!f.labels) throw new UsageError('fit needs --labels LABELS.npy');
  if (!f.out) throw new UsageError('fit needs --out MODEL.hdg');
  if (recipeNameOf(f.recipe) === 'tutorial') return fitTutorial(f, f.labels, f.out, out);
  if (f.consensus === 'tutorial') {
    // Refused rather than taken to mean --recipe tutorial: the other flags given with it were
    // meant for the default recipe, and the tutorial's consensus on the default recipe's
    // members (what this flag used to build) is neither method: better one line than a
    // silently different model.
    throw new UsageError(
      "--consensus tutorial needs the tutorial's encoders and HILs: give --recipe tutorial (it implies that consensus)",
    );
  }
  let recipe = recipeOf(f);
  const folds = f.cv === undefined ? 0 : intFlag(f.cv, '--cv', 5, 2, 20);
  let consensus: Consensus = f.consensus === undefined ? 'vote' : (f.consensus as Consensus);
  if (consensus !== 'vote' && consensus !== 'concat') {
    throw new UsageError(
      `--consensus must be vote or concat (tutorial comes with --recipe tutorial), got ${JSON.stringify(f.consensus)}`,
    );
  }
  const seed = intFlag(f.seed, '--seed', 0, 0, 2 ** 31 - 1);
  checkOutPath(f.out);
  const fraction = f.validation === undefined ? 0 : numberFlag(f.validation, '--validation', 0, 0, 0.9);
  const members = await readAllMembers(f.member ?? [], f.input ?? []);
  const labels = readLabels(f.labels);
  const n = checkRows(members, { path: f.labels, values: labels });
  const { fitRows, valRows } = stratifiedSplit(labels, fraction, seed);
  if (fitRows.length === 0) throw new HdglueError(ErrorCode.SHAPE, `${f.labels}: no rows left to fit on`);

  const t0 = performance.now();
  let tuning: TuneResult | undefined;
  if (folds) {
    // Cross-validation on the fitting rows only (never the --validation rows); flags given
    // explicitly pin their value, the others are searched over the default grid.
    const grid: Partial<TuneGrid> = {};
    if (f.dim !== undefined) grid.dim = [recipe.dim];
    if (f.bins !== undefined) grid.bins = [recipe.bins];
    if (f.margin !== undefined) grid.margin = [recipe.margin];
    if (f.epochs !== undefined) grid.epochs = [recipe.epochs];
    if (f.readout !== undefined) grid.readout = [recipe.readout];
    if (recipe.schedule !== undefined) grid.schedule = [recipe.schedule];
    grid.consensus = f.consensus === undefined ? ['vote', 'concat'] : [consensus];
    const bar = out.tty
      ? (done: number, total: number) => out.err(`cross-validation: ${done}/${total} fold evaluations`)
      : undefined;
    tuning = tune(
      members.map((m) => ({ name: m.name, x: pickRows(m.x, m.features, fitRows), features: m.features })),
      fitRows.map((r) => labels[r] as Label),
      {
        folds,
        seed,
        grid,
        // An explicit --range is kept; without one, quantile and min-max ranges are searched.
        base: { levels: recipe.levels, ...(f.range !== undefined ? { range: recipe.range } : {}) },
        ...(bar ? { onProgress: bar } : {}),
      },
    );
    recipe = tuning.recipe;
    consensus = tuning.consensus;
  }
  // The nearest readout stores every training row, so a training accuracy would be each row
  // finding itself (about 100 %) at the cost of n x n distances: it is not measured, and a
  // held-out estimate on a sample stands in for it when no --validation rows are there.
  const nearest = recipe.readout === 'nearest';
  const trained = trainGlue(members, labels, fitRows, valRows, recipe, consensus, seed, !nearest);
  const { glue, report, jointTrainAccuracy } = trained;
  glue.tuning = tuning;
  glue.recipe = 'default';
  const heldOut =
    nearest && valRows.length === 0
      ? await nearestHeldOut(members, labels, fitRows, recipe, consensus, seed, report)
      : undefined;
  const valInputs = Object.fromEntries(members.map((m) => [m.name, pickRows(m.x, m.features, valRows)]));
  const validationAccuracy = valRows.length
    ? glue.accuracy(
        valInputs,
        valRows.map((r) => labels[r] as Label),
      )
    : undefined;
  // The model records its networks (relative to itself), so predict and eval need only --model.
  glue.onnxSources = await onnxSourcesFor(members, f.out);
  glue.save(f.out);
  const result = {
    model: f.out,
    bytes: statSync(f.out).size,
    rows: n,
    fitRows: fitRows.length,
    validationRows: valRows.length,
    classes: glue.labels().length,
    consensus,
    recipeName: 'default' as RecipeName,
    recipe,
    ...(tuning
      ? { cv: { folds: tuning.folds, accuracy: tuning.cv, candidates: tuning.scores.length, caveat: CV_CAVEAT } }
      : {}),
    members: report,
    ...(jointTrainAccuracy === undefined ? {} : { jointTrainAccuracy }),
    ...(heldOut === undefined ? {} : { heldOut: { ...heldOut, caveat: HELD_OUT_CAVEAT } }),
    ...(validationAccuracy === undefined ? {} : { validationAccuracy }),
    seconds: (performance.now() - t0) / 1000,
  };
  if (f.json) {
    out.log(JSON.stringify(result, null, 2));
    return;
  }
  out.log(
    `fitted ${members.length} member(s) on ${fitRows.length} of ${n} rows, ${result.classes} classes, ${consensus} consensus, in ${result.seconds.toFixed(1)} s`,
  );
  for (const [name, r] of Object.entries(report)) {
    const how = nearest
      ? `nearest readout over ${fitRows.length} stored rows`
      : consensus === 'concat'
        ? 'refit with the joint layer'
        : `${r.epochs} correction epochs`;
    const acc =
      r.trainAccuracy !== undefined
        ? `training accuracy ${pct(r.trainAccuracy)}`
        : r.heldOutAccuracy !== undefined
          ? `held-out estimate ${pct(r.heldOutAccuracy)}`
          : '';
    out.log(`  ${name}: ${[`${r.features} features`, acc, how].filter(Boolean).join(', ')}`);
  }
  if (jointTrainAccuracy !== undefined) out.log(`  joint (concat) layer: training accuracy ${pct(jointTrainAccuracy)}`);
  if (nearest) {
    out.log(
      'training accuracy is not measured for the nearest readout: every training row is its own nearest neighbour',
    );
  }
  if (heldOut) {
    out.log(
      `held-out estimate: ${pct(heldOut.accuracy)} on ${heldOut.rows} sampled training rows, each scored by a glue fitted without it`,
    );
    // The rows are held out from the glue, not from the networks: CV's caveat holds here too.
    out.log(`  ${HELD_OUT_CAVEAT}`);
  }
  if (tuning) {
    out.log(`${tuning.folds}-fold cross-validation over ${tuning.scores.length} settings; best mean accuracies:`);
    for (const sc of tuning.scores.slice(0, 5)) {
      const r = sc.recipe;
      const what = r.readout === 'nearest' ? 'nearest' : `prototype, ${r.epochs} epochs, margin ${r.margin}`;
      out.log(
        `  ${(100 * sc.mean).toFixed(2)} ± ${(100 * sc.std).toFixed(2)} %  D = ${r.dim}, ${r.bins} bins, ${what}`,
      );
    }
    out.log(`  ${CV_CAVEAT}`);
  }
  if (validationAccuracy !== undefined) {
    out.log(`validation accuracy (${valRows.length} held-out rows): ${pct(validationAccuracy)}`);
  }
  out.log(`wrote ${f.out} (${result.bytes} bytes)`);
}

/** The consensus rules of the default recipe. */
type Consensus = 'vote' | 'concat';

/** What `fit` reports per member. */
interface MemberReport {
  features: number;
  /** Correction epochs run (0 for the nearest readout and under concat, whose glue fit refits). */
  epochs: number;
  /** Accuracy on the rows it was fitted on (not measured for the nearest readout). */
  trainAccuracy?: number;
  /** The member alone, on held-out training rows (nearest readout; see {@link nearestHeldOut}). */
  heldOutAccuracy?: number;
}

/**
 * A glue of the default recipe fitted on `rows` (absolute row indices); `valRows` stop the error
 * correction early. `measure` adds each member's training accuracy (and the joint layer's).
 */
function trainGlue(
  members: readonly MemberInput[],
  labels: readonly Label[],
  rows: readonly number[],
  valRows: readonly number[],
  recipe: Recipe,
  consensus: Consensus,
  seed: number,
  measure: boolean,
): { glue: HDGlue; report: Record<string, MemberReport>; jointTrainAccuracy?: number } {
  const { glue, members: built } = buildGlue(members, labels, recipe, {
    consensus,
    seed,
    rows,
    validationRows: valRows,
  });
  const y = rows.map((r) => labels[r] as Label);
  const report: Record<string, MemberReport> = {};
  members.forEach((m, i) => {
    const b = built[i] as BuiltMember;
    report[m.name] = {
      features: m.features,
      epochs: b.epochs.length,
      // Under concat the glue's fit refit each member's layer on these very rows (b.hvs).
      ...(measure ? { trainAccuracy: b.hil.accuracy(b.hvs, y) } : {}),
    };
  });
  if (!measure || consensus !== 'concat') return { glue, report };
  const fitInputs = Object.fromEntries(members.map((m) => [m.name, pickRows(m.x, m.features, rows)]));
  return { glue, report, jointTrainAccuracy: glue.accuracy(fitInputs, y) };
}

/**
 * The nearest readout's stand-in for a training accuracy: up to `HELD_OUT_ROWS` (1,000) seeded
 * training rows, each scored by a glue fitted the same way on the fitting rows without it (see
 * lib/cli/held-out.ts), for the consensus and for each member alone (written into `report`).
 * Undefined with fewer than two fitting rows.
 */
async function nearestHeldOut(
  members: readonly MemberInput[],
  labels: readonly Label[],
  fitRows: readonly number[],
  recipe: Recipe,
  consensus: Consensus,
  seed: number,
  report: Record<string, MemberReport>,
): Promise<{ rows: number; accuracy: number } | undefined> {
  const groups = heldOutGroups(fitRows.length, seed);
  if (groups.length === 0) return undefined;
  let rows = 0;
  let hits = 0;
  const memberHits = new Map(members.map((m) => [m.name, 0]));
  for (const group of groups) {
    const held = new Set(group);
    const keep = fitRows.filter((_, i) => !held.has(i));
    const scored = group.map((i) => fitRows[i] as number);
    const { glue } = trainGlue(members, labels, keep, [], recipe, consensus, seed, false);
    const inputs = Object.fromEntries(members.map((m) => [m.name, pickRows(m.x, m.features, scored)]));
    const p = await glue.predictEachAsync(inputs);
    scored.forEach((r, j) => {
      const truth = labels[r] as Label;
      if (p.labels[j] === truth) hits++;
      for (const m of members) {
        if ((p.members[m.name] as Label[])[j] === truth) memberHits.set(m.name, (memberHits.get(m.name) as number) + 1);
      }
    });
    rows += scored.length;
  }
  for (const m of members) (report[m.name] as MemberReport).heldOutAccuracy = (memberHits.get(m.name) as number) / rows;
  return { rows, accuracy: hits / rows };
}

/**
 * `hdglue fit --recipe tutorial`: the tutorial's algebra as written (lib/train/tutorial.ts). Only
 * --dim, --range (minmax or fixed; the tutorial's own is -1,1), --seed (of the codebooks,
 * default 42 as the tutorial's) and --validation apply; the default recipe's knobs are refused.
 */
async function fitTutorial(f: FitFlags, labelsPath: string, outPath: string, out: Out): Promise<void> {
  const foreign = (['bins', 'levels', 'epochs', 'margin', 'schedule', 'readout', 'cv'] as const).filter(
    (k) => f[k] !== undefined,
  );
  if (foreign.length) {
    throw new UsageError(
      `--recipe tutorial runs the tutorial as written (100 random-level bins, no error correction, no tuning): ${foreign
        .map((k) => `--${k}`)
        .join(', ')} ${foreign.length > 1 ? 'do' : 'does'} not apply`,
    );
  }
  if (f.consensus !== undefined && f.consensus !== 'tutorial') {
    throw new UsageError(`--recipe tutorial glues with the tutorial's own consensus, not --consensus ${f.consensus}`);
  }
  if (f.range === 'fit' || f.range === 'quantile') {
    throw new UsageError(
      "--recipe tutorial bins between each feature's min and max (--range minmax, its default) or in one --range=lo,hi (the tutorial's is -1,1), not between quantiles",
    );
  }
  const range = f.range === undefined ? 'minmax' : (rangeOf(f.range) as 'minmax' | readonly [number, number]);
  const dim = intFlag(f.dim, '--dim', DEFAULT_RECIPE.dim, 1, 1 << 24);
  const seed = intFlag(f.seed, '--seed', TUTORIAL_SETTINGS.seed, 0, 2 ** 31 - 1);
  checkOutPath(outPath);
  const fraction = f.validation === undefined ? 0 : numberFlag(f.validation, '--validation', 0, 0, 0.9);
  const members = await readAllMembers(f.member ?? [], f.input ?? []);
  const labels = readLabels(labelsPath);
  const n = checkRows(members, { path: labelsPath, values: labels });
  const { fitRows, valRows } = stratifiedSplit(labels, fraction, seed);
  if (fitRows.length === 0) throw new HdglueError(ErrorCode.SHAPE, `${labelsPath}: no rows left to fit on`);

  const t0 = performance.now();
  const y = fitRows.map((r) => labels[r] as Label);
  const xs = members.map((m) => ({ name: m.name, x: pickRows(m.x, m.features, fitRows), features: m.features }));
  const glue = tutorialGlue(xs, y, { dim, range, seed });
  const report: Record<string, { features: number; trainAccuracy: number }> = {};
  for (const m of xs) {
    const member = glue.member(m.name);
    // A member alone, the tutorial's way: its one bundled HIL vector against the class vectors.
    report[m.name] = {
      features: m.features,
      trainAccuracy: member.hil.accuracy(member.encoder.encodeBatch(m.x), y, { mode: 'tutorial' }),
    };
  }
  const fitInputs = Object.fromEntries(xs.map((m) => [m.name, m.x]));
  const trainAccuracy = glue.accuracy(fitInputs, y);
  const validationAccuracy = valRows.length
    ? glue.accuracy(
        Object.fromEntries(members.map((m) => [m.name, pickRows(m.x, m.features, valRows)])),
        valRows.map((r) => labels[r] as Label),
      )
    : undefined;
  glue.onnxSources = await onnxSourcesFor(members, outPath);
  glue.save(outPath);
  const result = {
    model: outPath,
    bytes: statSync(outPath).size,
    rows: n,
    fitRows: fitRows.length,
    validationRows: valRows.length,
    classes: glue.labels().length,
    consensus: 'tutorial',
    recipeName: 'tutorial' as RecipeName,
    recipe: { dim, ...TUTORIAL_SETTINGS, range, seed },
    members: report,
    trainAccuracy,
    ...(validationAccuracy === undefined ? {} : { validationAccuracy }),
    seconds: (performance.now() - t0) / 1000,
  };
  if (f.json) {
    out.log(JSON.stringify(result, null, 2));
    return;
  }
  const where = range === 'minmax' ? "each feature's min-max range" : `[${range.join(', ')}]`;
  out.log(
    `fitted the tutorial's algebra on ${members.length} member(s), ${fitRows.length} of ${n} rows, ${result.classes} classes, in ${result.seconds.toFixed(1)} s`,
  );
  out.log(
    `  D = ${dim}, ${TUTORIAL_SETTINGS.bins} random-level bins over ${where}, codebook seed ${seed}; one bundled HIL vector per member, network-bound consensus`,
  );
  for (const [name, r] of Object.entries(report)) {
    out.log(`  ${name}: ${r.features} features, its HIL vector alone: training accuracy ${pct(r.trainAccuracy)}`);
  }
  out.log(`  consensus: training accuracy ${pct(trainAccuracy)}`);
  if (validationAccuracy !== undefined) {
    out.log(`validation accuracy (${valRows.length} held-out rows): ${pct(validationAccuracy)}`);
  }
  out.log(`wrote ${outPath} (${result.bytes} bytes)`);
}

function recipeNameOf(v: string | undefined): RecipeName {
  if (v === undefined || v === 'default' || v === 'tutorial') return v ?? 'default';
  throw new UsageError(`--recipe must be default or tutorial, got ${JSON.stringify(v)}`);
}

function pct(v: number): string {
  return `${(100 * v).toFixed(2)} %`;
}

function recipeOf(f: FitFlags): Recipe {
  const levels = (f.levels ?? DEFAULT_RECIPE.levels) as LevelKind;
  if (!LEVEL_KINDS.includes(levels)) {
    throw new UsageError(`--levels must be one of ${LEVEL_KINDS.join(', ')}, got ${JSON.stringify(f.levels)}`);
  }
  return {
    dim: intFlag(f.dim, '--dim', DEFAULT_RECIPE.dim, 1, 1 << 24),
    bins: intFlag(f.bins, '--bins', DEFAULT_RECIPE.bins, 1, 65536),
    levels,
    range: rangeOf(f.range),
    epochs: intFlag(f.epochs, '--epochs', DEFAULT_RECIPE.epochs, 0, 10000),
    margin: numberFlag(f.margin, '--margin', DEFAULT_RECIPE.margin, 0, 2),
    readout: readoutOf(f.readout),
    ...(f.schedule !== undefined ? { schedule: scheduleOf(f.schedule, readoutOf(f.readout)) } : {}),
  };
}

function scheduleOf(v: string, readout: Readout): Schedule {
  if (readout === 'nearest') throw new UsageError('--schedule applies to the prototype readout, not the nearest');
  if (v !== 'online' && v !== 'batch')
    throw new UsageError(`--schedule must be online or batch, got ${JSON.stringify(v)}`);
  return v;
}

function readoutOf(v: string | undefined): Readout {
  if (v === undefined) return DEFAULT_RECIPE.readout;
  if (v !== 'prototype' && v !== 'nearest') {
    throw new UsageError(`--readout must be prototype or nearest, got ${JSON.stringify(v)}`);
  }
  return v;
}

function rangeOf(v: string | undefined): Recipe['range'] {
  if (v === undefined || v === 'fit' || v === 'quantile') return 'quantile';
  if (v === 'minmax') return 'minmax';
  const parts = v.split(',');
  const lo = Number(parts[0]);
  const hi = Number(parts[1]);
  if (
    parts.length !== 2 ||
    parts.some((p) => p.trim() === '') ||
    !Number.isFinite(lo) ||
    !Number.isFinite(hi) ||
    !(hi > lo)
  ) {
    throw new UsageError(`--range must be fit, minmax or lo,hi with lo < hi, got ${JSON.stringify(v)}`);
  }
  return [lo, hi];
}

/**
 * The destination must be creatable before minutes of fitting are spent: its directory must
 * exist, and the path itself must not be a directory or anything but a regular file.
 */
function checkOutPath(path: string): void {
  const dir = dirname(resolve(path));
  let d: Stats;
  try {
    d = statSync(dir);
  } catch {
    throw new UsageError(`--out ${path}: the directory ${dir} does not exist`);
  }
  if (!d.isDirectory()) throw new UsageError(`--out ${path}: ${dir} is not a directory`);
  let st: Stats | undefined;
  try {
    st = statSync(path);
  } catch {
    st = undefined;
  }
  if (st && !st.isFile()) throw new UsageError(`--out ${path}: exists and is not a regular file`);
}
