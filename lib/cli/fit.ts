/**
 * `hdglue fit`: build a glue from members' training embeddings and labels and save it.
 * Each member gets the {@link DEFAULT_RECIPE} unless flags say otherwise; `--validation F` holds
 * out a stratified, seeded fraction of the rows to stop error correction early and report an
 * accuracy the model did not train on.
 */
import { type Stats, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pickRows } from '../embeddings.js';
import { ErrorCode, HdglueError } from '../errors.js';
import { HDGlue, type Strategy } from '../glue.js';
import type { Label, Readout } from '../hil.js';
import { LEVEL_KINDS, type LevelKind } from '../levels.js';
import { buildMember, DEFAULT_RECIPE, type Recipe } from '../recipe.js';
import { shuffledByClass, type TuneGrid, type TuneResult, tune } from '../tune.js';
import { UsageError } from './errors.js';
import { checkRows, readLabels } from './inputs.js';
import { readAllMembers } from './members.js';
import { intFlag, numberFlag, type Out } from './util.js';

/** Flags of `hdglue fit` (strings as parsed). */
export interface FitFlags {
  member?: string[];
  input?: string[];
  labels?: string;
  out?: string;
  dim?: string;
  bins?: string;
  levels?: string;
  range?: string;
  consensus?: string;
  epochs?: string;
  margin?: string;
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
  let recipe = recipeOf(f);
  const folds = f.cv === undefined ? 0 : intFlag(f.cv, '--cv', 5, 2, 20);
  let consensus = (f.consensus ?? 'vote') as Strategy;
  if (consensus !== 'vote' && consensus !== 'tutorial' && consensus !== 'concat') {
    throw new UsageError(`--consensus must be vote, concat or tutorial, got ${JSON.stringify(f.consensus)}`);
  }
  if (folds && consensus === 'tutorial') throw new UsageError('--cv tunes the vote or concat consensus, not tutorial');
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
    grid.consensus = f.consensus === undefined ? ['vote', 'concat'] : [consensus as 'vote' | 'concat'];
    const bar = out.tty
      ? (done: number, total: number) => out.err(`cross-validation: ${done}/${total} settings`)
      : undefined;
    tuning = tune(
      members.map((m) => ({ name: m.name, x: pickRows(m.x, m.features, fitRows), features: m.features })),
      fitRows.map((r) => labels[r] as Label),
      { folds, seed, grid, base: { levels: recipe.levels, range: recipe.range }, ...(bar ? { onProgress: bar } : {}) },
    );
    recipe = tuning.recipe;
    consensus = tuning.consensus;
  }
  const glue = new HDGlue({ strategy: consensus, seed });
  glue.tuning = tuning;
  const report: Record<string, { features: number; trainAccuracy: number; epochs: number }> = {};
  members.forEach((m, i) => {
    const x = pickRows(m.x, m.features, fitRows);
    const y = fitRows.map((r) => labels[r] as Label);
    const validation = valRows.length
      ? { x: pickRows(m.x, m.features, valRows), labels: valRows.map((r) => labels[r] as Label) }
      : undefined;
    // The tutorial's consensus binds every member against one class-vector memory, so its
    // members share a seed; the vote wants independent codebooks per member.
    // Under concat, glue.fit below trains the HILs and the joint layer, so members get no
    // correction pass of their own here (it would be thrown away).
    const own = consensus === 'concat' ? { ...recipe, epochs: 0 } : recipe;
    const built = buildMember(x, m.features, y, own, consensus === 'tutorial' ? seed : seed + i, validation);
    glue.addNetwork(m.name, { encoder: built.encoder, hil: built.hil });
    report[m.name] = {
      features: m.features,
      trainAccuracy: built.hil.accuracy(built.hvs, y),
      epochs: built.epochs.length,
    };
  });
  let jointTrainAccuracy: number | undefined;
  if (consensus === 'concat') {
    // The joint layer over all members' bits is trained by the glue's own fit (no early stop:
    // --validation rows only measure it).
    const fitInputs = Object.fromEntries(members.map((m) => [m.name, pickRows(m.x, m.features, fitRows)]));
    const refine = recipe.epochs > 0 ? { refine: { epochs: recipe.epochs, margin: recipe.margin } } : {};
    const y = fitRows.map((r) => labels[r] as Label);
    glue.fit(fitInputs, y, refine);
    for (const m of members) {
      const member = glue.member(m.name);
      (report[m.name] as (typeof report)[string]).trainAccuracy = member.hil.accuracy(
        member.encoder.encodeBatch(fitInputs[m.name] as Float32Array | Float64Array),
        y,
      );
    }
    jointTrainAccuracy = glue.accuracy(fitInputs, y);
  }
  const valInputs = Object.fromEntries(members.map((m) => [m.name, pickRows(m.x, m.features, valRows)]));
  const validationAccuracy = valRows.length
    ? glue.accuracy(
        valInputs,
        valRows.map((r) => labels[r] as Label),
      )
    : undefined;
  glue.save(f.out);
  const result = {
    model: f.out,
    bytes: statSync(f.out).size,
    rows: n,
    fitRows: fitRows.length,
    validationRows: valRows.length,
    classes: glue.labels().length,
    consensus,
    recipe,
    ...(tuning ? { cv: { folds: tuning.folds, accuracy: tuning.cv, candidates: tuning.scores.length } } : {}),
    members: report,
    ...(jointTrainAccuracy === undefined ? {} : { jointTrainAccuracy }),
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
    const how = consensus === 'concat' ? 'refit with the joint layer' : `${r.epochs} correction epochs`;
    out.log(`  ${name}: ${r.features} features, training accuracy ${(100 * r.trainAccuracy).toFixed(2)} %, ${how}`);
  }
  if (jointTrainAccuracy !== undefined) {
    out.log(`  joint (concat) layer: training accuracy ${(100 * jointTrainAccuracy).toFixed(2)} %`);
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
  }
  if (validationAccuracy !== undefined) {
    out.log(`validation accuracy (${valRows.length} held-out rows): ${(100 * validationAccuracy).toFixed(2)} %`);
  }
  out.log(`wrote ${f.out} (${result.bytes} bytes)`);
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
  };
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

/**
 * A fraction of each class's rows for validation, chosen by a seeded shuffle (at least one row
 * of a class is always kept for fitting); the rest, in their original order, for fitting.
 */
export function stratifiedSplit(
  labels: readonly Label[],
  fraction: number,
  seed: number,
): { fitRows: number[]; valRows: number[] } {
  if (fraction === 0) return { fitRows: labels.map((_, i) => i), valRows: [] };
  const val = new Set<number>();
  for (const rows of shuffledByClass(labels, seed)) {
    const k = Math.min(rows.length - 1, Math.round(fraction * rows.length));
    for (const r of rows.slice(0, k)) val.add(r);
  }
  const fitRows: number[] = [];
  const valRows: number[] = [];
  labels.forEach((_, i) => {
    (val.has(i) ? valRows : fitRows).push(i);
  });
  return { fitRows, valRows };
}
