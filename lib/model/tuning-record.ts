/**
 * How a glue's settings came about, as a model file records it beside the members: the name of
 * the recipe that built them and, when cross-validation chose them, the tuning record (the
 * winning {@link Recipe}, its score and every candidate's). Neither is used to predict. The types
 * live here, below the training layer that fills them, so a glue can carry and reload them
 * without depending on the code that tunes.
 */

import type { LevelKind } from '../core/levels.js';
import type { Readout } from './hil.js';
import type { Keep, Schedule } from './refine.js';

/**
 * The settings that turn one network's embeddings into a glue member (an encoder, then an HIL
 * and its error correction); `buildMember` in lib/train/recipe.ts applies them.
 */
export interface Recipe {
  /** Bits per hypervector. */
  dim: number;
  /** Bins per feature. */
  bins: number;
  /** Level codebook kind. */
  levels: LevelKind;
  /** `'quantile'` or `'minmax'`: fit each feature's range on the data; `[lo, hi]`: one fixed range for all. */
  range: 'quantile' | 'minmax' | readonly [number, number];
  /** Error-correction epochs after the fit (0: none). */
  epochs: number;
  /** Margin of the error correction (see `RefineOptions.margin`). */
  margin: number;
  /** `'prototype'` (class counters, corrected) or `'nearest'` (1-NN over the stored training examples; no correction). */
  readout: Readout;
  /** Schedule of the error correction (see `RefineOptions.schedule`); absent: `'online'`. */
  schedule?: Schedule;
  /** State kept by the error correction without validation (see `RefineOptions.keep`); absent: the schedule's default. */
  keep?: Keep;
}

/**
 * How a glue's members were built, as `hdglue fit --recipe` names it: `'default'` (the
 * cross-validated recipe, possibly with flags changing its values) or `'tutorial'` (the
 * tutorial's algebra as written, see `tutorialGlue`).
 */
export type RecipeName = 'default' | 'tutorial';

/** One candidate's cross-validation result. */
export interface TuneScore {
  recipe: Recipe;
  consensus: 'vote' | 'concat';
  /** Mean accuracy over the folds. */
  mean: number;
  /** Standard deviation over the folds. */
  std: number;
  /** Accuracy on each held-out fold. */
  folds: number[];
}

/** What `tune` chose and why; JSON-serializable (it is stored in model files). */
export interface TuneResult {
  recipe: Recipe;
  consensus: 'vote' | 'concat';
  /** The winner's mean CV accuracy. */
  cv: number;
  folds: number;
  seed: number;
  rows: number;
  /** Every candidate, best first. */
  scores: TuneScore[];
}

/**
 * Whether a tuning record read from a file has the shape of a {@link TuneResult}: its figures in
 * range, a consensus `tune` can choose, a recipe object and at least one score. The candidates
 * themselves are not inspected: the record is reported, never used to predict.
 */
export function isTuneResult(t: unknown): t is TuneResult {
  const r = t as Partial<TuneResult> | null;
  const int = (v: unknown, lo: number) => Number.isSafeInteger(v) && (v as number) >= lo;
  return !(
    r === null ||
    typeof r !== 'object' ||
    typeof r.cv !== 'number' ||
    !(r.cv >= 0 && r.cv <= 1) ||
    !int(r.folds, 2) ||
    !int(r.rows, 1) ||
    !int(r.seed, 0) ||
    (r.consensus !== 'vote' && r.consensus !== 'concat') ||
    r.recipe === null ||
    typeof r.recipe !== 'object' ||
    !Array.isArray(r.scores) ||
    r.scores.length === 0
  );
}

/** Whether a value read from a file is a {@link RecipeName}. */
export function isRecipeName(v: unknown): v is RecipeName {
  return v === 'default' || v === 'tutorial';
}
