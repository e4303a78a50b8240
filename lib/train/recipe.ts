/**
 * The recipe the demo and `hdglue fit` use to turn one network's training embeddings into a
 * glue member: an {@link EmbeddingEncoder} with ranges fitted on the data, an {@link HIL} fitted
 * on the encoded examples, then margin error correction.
 *
 * The default values are the winner of 5-fold cross-validation on training rows of two data sets
 * (see {@link DEFAULT_RECIPE}); no test split took part in the choice.
 */

import type { HVBatch } from '../core/hv.js';
import { DEFAULTS } from '../defaults.js';
import { EmbeddingEncoder } from '../encode/level.js';
import type { Label } from '../label.js';
import { HIL, type RefineEpoch, type RefineOptions } from '../model/hil.js';
import type { Recipe } from '../model/tuning-record.js';

/**
 * The cross-validated default: D = 10,000, 64 quantile bins, level codebook, 80 online correction
 * epochs at margin 0.1, z-scored vote. Chosen by 5-fold CV on training rows only: the 288
 * candidates of `WIDE_GRID` on two sets of digits networks, then the leading candidates and the
 * previous default on Fashion-MNIST rows no network saw; the winner of the mean over the two data
 * sets (the digits sets averaged first) among vote candidates (bench/RESULTS.md, "Selection").
 */
export const DEFAULT_RECIPE: Readonly<Recipe> = Object.freeze({ ...DEFAULTS });

/** What {@link buildMember} returns. */
export interface BuiltMember {
  encoder: EmbeddingEncoder;
  hil: HIL;
  /** The encoded training examples (reusable, e.g. for online updates). */
  hvs: HVBatch;
  /** The error-correction epochs that ran. */
  epochs: RefineEpoch[];
}

/**
 * Encoder and trained HIL for one network from its training embeddings (`n` rows of
 * `features` values, row-major) and labels. `seed` seeds the member's codebooks; members of one
 * glue should get different seeds so their hypervectors are independent.
 */
export function buildMember(
  x: Float32Array | Float64Array,
  features: number,
  labels: ArrayLike<Label>,
  recipe: Readonly<Recipe>,
  seed: number,
  validation?: { x: Float32Array | Float64Array; labels: ArrayLike<Label> },
): BuiltMember {
  const encoder = fitEncoder(x, features, recipe, seed);
  const hvs = encoder.encodeBatch(x);
  const val = validation ? { hvs: encoder.encodeBatch(validation.x), labels: validation.labels } : undefined;
  const { hil, epochs } = trainLayer(hvs, labels, recipe, seed, val);
  return { encoder, hil, hvs, epochs };
}

/** The recipe's encoder for one member, its ranges fitted on `x` when the recipe says so. */
export function fitEncoder(
  x: Float32Array | Float64Array,
  features: number,
  recipe: Readonly<Recipe>,
  seed: number,
): EmbeddingEncoder {
  const fixed = typeof recipe.range === 'string' ? undefined : recipe.range;
  const encoder = new EmbeddingEncoder({
    features,
    dim: recipe.dim,
    bins: recipe.bins,
    levels: recipe.levels,
    seed,
    ...(fixed ? { range: fixed } : {}),
  });
  if (typeof recipe.range === 'string') encoder.fit(x, { method: recipe.range });
  return encoder;
}

/**
 * The recipe's HIL over already encoded examples: a fit, then (prototype readout) the error
 * correction with the recipe's epochs, margin, schedule and kept state.
 */
export function trainLayer(
  hvs: HVBatch,
  labels: ArrayLike<Label>,
  recipe: Readonly<Recipe>,
  seed: number,
  validation?: { hvs: HVBatch; labels: ArrayLike<Label> },
): { hil: HIL; epochs: RefineEpoch[] } {
  const hil = new HIL({ dim: hvs.dim, seed, readout: recipe.readout }).fit(hvs, labels);
  const epochs =
    recipe.epochs > 0 && recipe.readout === 'prototype'
      ? hil.refine(hvs, labels, { ...refineOptionsOf(recipe), ...(validation ? { validation } : {}) })
      : [];
  return { hil, epochs };
}

/**
 * {@link trainLayer} at several epoch counts from one run: the layer as it stands after each
 * count in `epochs` (the recipe's own `epochs` is ignored). One run serves every count only when
 * the state kept is the last epoch's (the online schedule's default); otherwise each count is
 * trained on its own, so the result is always what {@link trainLayer} gives for that count.
 */
export function trainLayerAt(
  hvs: HVBatch,
  labels: ArrayLike<Label>,
  recipe: Readonly<Recipe>,
  seed: number,
  epochs: readonly number[],
): Map<number, HIL> {
  const out = new Map<number, HIL>();
  const schedule = recipe.schedule ?? 'online';
  const keepsLast = (recipe.keep ?? (schedule === 'online' ? 'last' : 'best')) === 'last';
  if (recipe.readout !== 'prototype' || !keepsLast) {
    for (const e of epochs) out.set(e, trainLayer(hvs, labels, { ...recipe, epochs: e }, seed).hil);
    return out;
  }
  const hil = new HIL({ dim: hvs.dim, seed, readout: recipe.readout }).fit(hvs, labels);
  const wanted = new Set(epochs);
  if (wanted.has(0)) out.set(0, hil.clone());
  const most = Math.max(...epochs);
  if (most > 0) {
    hil.refine(hvs, labels, {
      ...refineOptionsOf({ ...recipe, epochs: most }),
      onEpoch: (r) => {
        if (wanted.has(r.epoch)) out.set(r.epoch, hil.clone());
      },
    });
  }
  // Training stops early after an epoch without updates: later counts are that state.
  for (const e of epochs) if (!out.has(e)) out.set(e, hil.clone());
  return out;
}

/** The error-correction options a recipe implies (epochs, margin, and schedule/keep when set). */
export function refineOptionsOf(recipe: Readonly<Recipe>): RefineOptions {
  return {
    epochs: recipe.epochs,
    margin: recipe.margin,
    ...(recipe.schedule ? { schedule: recipe.schedule } : {}),
    ...(recipe.keep ? { keep: recipe.keep } : {}),
  };
}
