/**
 * Honest selection of a glue's settings: K-fold cross-validation on the training rows only.
 * Every candidate {@link Recipe} is fitted on K-1 folds (encoder ranges included) and scored on
 * the held-out fold by the z-scored vote of all members; the recipe with the best mean fold
 * accuracy wins (ties: the cheaper one, i.e. earlier in the grid order). The test split never
 * takes part, so its score stays an unbiased estimate.
 *
 * Caveat the caller should state: the members' embeddings come from networks that were usually
 * trained on all these rows, so CV accuracies are optimistic for the networks; they still rank
 * the symbolic layer's settings fairly against each other.
 */

import type { HVBatch } from '../core/hv.js';
import { concat } from '../core/ops.js';
import { pickRows } from '../encode/embeddings.js';
import type { EmbeddingEncoder } from '../encode/level.js';
import { ErrorCode, HdglueError, rangeError, typeError } from '../errors.js';
import type { Label } from '../label.js';
import type { HIL, Readout } from '../model/hil.js';
import type { Schedule } from '../model/refine.js';
import type { Recipe, TuneResult, TuneScore } from '../model/tuning-record.js';
import { assignFolds } from '../split.js';
import { checkCount, checkOptions, describe } from '../validate.js';
import { assembleGlue, DEFAULT_RECIPE, fitEncoder, trainLayerAt } from './recipe.js';

/** One member's training embeddings for {@link tune}. */
export interface TuneMember {
  name: string;
  /** Row-major, `labels.length` rows of `features` values. */
  x: Float32Array | Float64Array;
  features: number;
}

/** The values {@link tune} tries; every combination is a candidate (`'nearest'` ignores margin and epochs). */
export interface TuneGrid {
  dim: number[];
  bins: number[];
  margin: number[];
  epochs: number[];
  readout: Readout[];
  /** Ranges of the encoders: fitted per feature on quantiles or on min-max (absent: the base recipe's). */
  range?: ('quantile' | 'minmax')[] | undefined;
  /** Error-correction schedules (absent: the base recipe's). */
  schedule?: Schedule[] | undefined;
  /** Consensus of the members: `'vote'` (z-scored per member) and/or `'concat'` (one HIL over all members' bits). */
  consensus: ('vote' | 'concat')[];
}

/**
 * The default grid of {@link tune} (and `hdglue fit --cv`): 8 candidates around the default
 * (16 or 64 bins, quantile or min-max ranges, 40 or 80 online epochs at margin 0.1, vote), read
 * from 4 training runs per fold since epoch counts share a run.
 */
export const DEFAULT_GRID: Readonly<TuneGrid> = Object.freeze({
  dim: [10000],
  bins: [16, 64],
  margin: [0.1],
  epochs: [40, 80],
  readout: ['prototype'] as Readout[],
  consensus: ['vote'] as ('vote' | 'concat')[],
  range: ['quantile', 'minmax'] as ('quantile' | 'minmax')[],
});

/**
 * The wide grid `npm run accuracy -- --grid wide` searches to choose {@link DEFAULT_RECIPE}: 288
 * candidates (bins 16/32/64, margins 0.05-0.3, 20/40/80 epochs, D 10,000/20,000, quantile or
 * min-max ranges, vote or concat), all with the online schedule.
 */
export const WIDE_GRID: Readonly<TuneGrid> = Object.freeze({
  dim: [10000, 20000],
  bins: [16, 32, 64],
  margin: [0.05, 0.1, 0.2, 0.3],
  epochs: [20, 40, 80],
  readout: ['prototype'] as Readout[],
  consensus: ['vote', 'concat'] as ('vote' | 'concat')[],
  range: ['quantile', 'minmax'] as ('quantile' | 'minmax')[],
  schedule: ['online'] as Schedule[],
});

/** Options of {@link tune}. */
export interface TuneOptions {
  /** Number of folds (2 to 20); default 5. */
  folds?: number;
  /** Seed of the fold assignment and of the members' codebooks; default 0. */
  seed?: number;
  /** Values to try (missing keys: {@link DEFAULT_GRID}'s). */
  grid?: Partial<TuneGrid>;
  /** Settings not searched over (levels; range unless the grid names ranges, which the default grid does when `base.range` is absent); default {@link DEFAULT_RECIPE}'s. */
  base?: Partial<Recipe>;
  /** Called as each candidate is scored on each fold, with the evaluations done and their total (candidates x folds). */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Choose a recipe and a consensus for these members by K-fold cross-validation on their training
 * rows. Ties go to the candidate earlier in the grid's order (vote before concat; then D and bins
 * as listed, nearest before prototype, fewer epochs, smaller margin), which is the cheaper one
 * for the default grid.
 */
export function tune(members: readonly TuneMember[], labels: readonly Label[], options?: TuneOptions): TuneResult {
  const o = checkOptions(options);
  if (!Array.isArray(members) || members.length === 0)
    throw typeError(`members must be a non-empty array, got ${describe(members)}`);
  const k = checkCount(o.folds ?? 5, 'folds', 20);
  if (k < 2) throw rangeError(ErrorCode.OUT_OF_RANGE, 'folds must be at least 2');
  const seed = checkCount(o.seed ?? 0, 'seed', 2 ** 31 - 1);
  if (!Array.isArray(labels)) throw typeError(`labels must be an array, got ${describe(labels)}`);
  const n = labels.length;
  for (const m of members) {
    if (m.x.length !== n * m.features) {
      throw rangeError(
        ErrorCode.SHAPE,
        `member ${JSON.stringify(m.name)}: ${m.x.length} values is not ${n} rows of ${m.features}`,
      );
    }
  }
  // A range given in `base` is kept unless the grid names ranges; a key given as undefined falls
  // back to the base recipe's value (range, schedule), not the default grid's.
  const grid = checkGrid({
    ...DEFAULT_GRID,
    ...(o.base?.range !== undefined ? { range: undefined } : {}),
    ...(o.grid ?? {}),
  });
  const candidates = expand(grid, { ...DEFAULT_RECIPE, ...(o.base ?? {}) });
  const fold = assignFolds(labels, k, seed);
  for (let f = 0; f < k; f++) {
    if (!fold.includes(f)) throw new HdglueError(ErrorCode.SHAPE, `${n} rows cannot fill ${k} folds`);
  }
  const results: TuneScore[] = grid.consensus.flatMap((consensus) =>
    candidates.map((recipe) => ({ recipe, consensus, mean: 0, std: 0, folds: [] as number[] })),
  );
  // Candidates sharing an encoder (D, bins, range, levels) share each fold's encoding, which is
  // most of a candidate's cost when the correction is online.
  const byEncoding = new Map<string, TuneScore[]>();
  for (const r of results) {
    const key = JSON.stringify([r.recipe.dim, r.recipe.bins, r.recipe.range, r.recipe.levels]);
    const list = byEncoding.get(key);
    if (list) list.push(r);
    else byEncoding.set(key, [r]);
  }
  let done = 0;
  const total = results.length * k;
  for (let f = 0; f < k; f++) {
    const fitRows: number[] = [];
    const valRows: number[] = [];
    for (let i = 0; i < n; i++) (fold[i] === f ? valRows : fitRows).push(i);
    const yFit = fitRows.map((i) => labels[i] as Label);
    const yVal = valRows.map((i) => labels[i] as Label);
    const xFit = members.map((m) => pickRows(m.x, m.features, fitRows));
    const xVal = members.map((m) => pickRows(m.x, m.features, valRows));
    for (const group of byEncoding.values()) {
      const first = (group[0] as TuneScore).recipe;
      const encoders = members.map((m, j) => fitEncoder(xFit[j] as Float64Array, m.features, first, seed + j));
      const hFit = encoders.map((e, j) => e.encodeBatch(xFit[j] as Float64Array));
      const hVal = encoders.map((e, j) => e.encodeBatch(xVal[j] as Float64Array));
      // Candidates that differ only in their epoch count read one training run at each count.
      const byRun = new Map<string, TuneScore[]>();
      for (const r of group) {
        const key = JSON.stringify([r.consensus, { ...r.recipe, epochs: 0 }]);
        const list = byRun.get(key);
        if (list) list.push(r);
        else byRun.set(key, [r]);
      }
      for (const run of byRun.values()) {
        const first = run[0] as TuneScore;
        const counts = run.map((r) => r.recipe.epochs);
        if (first.consensus === 'concat') {
          // The glue's joint layer, as HDGlue.fit trains it (seeded with the glue's default seed 0);
          // the members' own layers take no part in a concat prediction.
          const joints = trainLayerAt(concat(hFit), yFit, first.recipe, 0, counts);
          const val = concat(hVal);
          for (const r of run) r.folds.push((joints.get(r.recipe.epochs) as HIL).accuracy(val, yVal));
        } else {
          const layers = members.map((_, j) => trainLayerAt(hFit[j] as HVBatch, yFit, first.recipe, seed + j, counts));
          const valInputs = Object.fromEntries(members.map((m, j) => [m.name, xVal[j]]));
          for (const r of run) {
            const glue = assembleGlue(
              members.map((m, j) => ({
                name: m.name,
                encoder: encoders[j] as EmbeddingEncoder,
                hil: (layers[j] as Map<number, HIL>).get(r.recipe.epochs) as HIL,
              })),
            );
            r.folds.push(glue.accuracy(valInputs, yVal));
          }
        }
        for (const _ of run) o.onProgress?.(++done, total);
      }
    }
  }
  for (const r of results) {
    r.mean = r.folds.reduce((a, b) => a + b, 0) / k;
    r.std = Math.sqrt(r.folds.reduce((a, b) => a + (b - r.mean) ** 2, 0) / k);
  }
  // Stable sort: among equal means the earlier (cheaper) candidate stays first.
  const scores = results.slice().sort((a, b) => b.mean - a.mean);
  const best = scores[0] as TuneScore;
  return { recipe: best.recipe, consensus: best.consensus, cv: best.mean, folds: k, seed, rows: n, scores };
}

// A recipe with the schedule set, or without the key when none is (so records stay as before).
function withSchedule(r: Recipe, schedule: Schedule | undefined): Recipe {
  const { schedule: _, ...rest } = r;
  return schedule ? { ...rest, schedule } : rest;
}

function checkGrid(g: TuneGrid): TuneGrid {
  for (const key of ['dim', 'bins', 'margin', 'epochs', 'readout', 'consensus'] as const) {
    const v = g[key] as unknown;
    if (!Array.isArray(v) || v.length === 0)
      throw typeError(`grid.${key} must be a non-empty array, got ${describe(v)}`);
  }
  for (const c of g.consensus) {
    if (c !== 'vote' && c !== 'concat')
      throw rangeError(ErrorCode.OUT_OF_RANGE, `grid.consensus holds 'vote' and/or 'concat', got ${String(c)}`);
  }
  // The other values are checked by the encoder and the layer when each candidate is built.
  return g;
}

// Candidates in cost order: smaller D, fewer bins, nearest before prototype (no training),
// fewer epochs, smaller margin.
function expand(g: TuneGrid, base: Recipe): Recipe[] {
  const out: Recipe[] = [];
  const ranges = g.range ?? [base.range];
  const schedules = g.schedule ?? [base.schedule];
  for (const range of ranges)
    for (const schedule of schedules)
      for (const dim of g.dim)
        for (const bins of g.bins)
          for (const readout of [...g.readout].sort((a, b) => Number(a !== 'nearest') - Number(b !== 'nearest'))) {
            if (readout === 'nearest') {
              out.push(withSchedule({ ...base, range, dim, bins, readout, epochs: 0, margin: 0 }, schedule));
              continue;
            }
            for (const epochs of g.epochs)
              for (const margin of g.margin)
                out.push(withSchedule({ ...base, range, dim, bins, readout, epochs, margin }, schedule));
          }
  if (out.length === 0) throw rangeError(ErrorCode.OUT_OF_RANGE, 'the grid has no candidates');
  return out;
}
