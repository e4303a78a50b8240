/**
 * The recipe the demo and `hdglue fit` use to turn one network's training embeddings into a
 * glue member: an {@link EmbeddingEncoder} with ranges fitted on the data, an {@link HIL} fitted
 * on the encoded examples, then margin error correction; and the one way a glue is put together
 * from such members ({@link buildGlue}, {@link assembleGlue}).
 *
 * The default values are the winner of 5-fold cross-validation on training rows of two data sets
 * (see {@link DEFAULT_RECIPE}); no test split took part in the choice.
 */

import type { HVBatch } from '../core/hv.js';
import { DEFAULTS } from '../defaults.js';
import { pickRows } from '../encode/embeddings.js';
import { EmbeddingEncoder } from '../encode/level.js';
import type { Encoder } from '../encode/registry.js';
import type { Label } from '../label.js';
import { HDGlue, type HDGlueOptions } from '../model/glue.js';
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

/** One member's embeddings for {@link buildGlue}: `features` values per row, row-major. */
export interface MemberEmbeddings {
  name: string;
  x: Float32Array | Float64Array;
  features: number;
}

/** Options of {@link buildGlue}. */
export interface BuildGlueOptions {
  /** `'vote'` (default) or `'concat'`. */
  consensus?: 'vote' | 'concat';
  /** The glue's seed; member `i` (its codebooks and layer) gets `seed + i`. Default 0. */
  seed?: number;
  /** Rows of the embeddings and labels to fit on; default all, as given. */
  rows?: readonly number[];
  /** Rows that stop each member's error correction early (vote only: concat's glue fit does not stop early). */
  validationRows?: readonly number[];
}

/**
 * A glue of the recipe's members over their training embeddings: each member built by
 * {@link buildMember} (in order, member `i` seeded `seed + i` so that members' codebooks are
 * independent) and added; under `'concat'` the members get no correction of their own, then the
 * glue's fit trains every member's layer and the joint layer with the recipe's correction.
 * `members` is what building each gave, with the layer the glue now holds.
 */
export function buildGlue(
  members: readonly MemberEmbeddings[],
  labels: readonly Label[],
  recipe: Readonly<Recipe>,
  options: BuildGlueOptions = {},
): { glue: HDGlue; members: BuiltMember[] } {
  const { consensus = 'vote', seed = 0, rows, validationRows } = options;
  const fitX = (m: MemberEmbeddings) => (rows ? pickRows(m.x, m.features, rows) : m.x);
  const y = rows ? rows.map((r) => labels[r] as Label) : labels;
  // Under concat the glue's fit below trains the layers again: a correction here would be lost.
  const own = consensus === 'concat' ? { ...recipe, epochs: 0 } : recipe;
  const val = consensus === 'vote' && validationRows?.length ? validationRows : undefined;
  const yVal = val?.map((r) => labels[r] as Label);
  const glue = new HDGlue({ consensus, seed });
  const built = members.map((m, i) => {
    const validation = val ? { x: pickRows(m.x, m.features, val), labels: yVal as Label[] } : undefined;
    const b = buildMember(fitX(m), m.features, y, own, seed + i, validation);
    glue.addMember(m.name, { encoder: b.encoder, hil: b.hil });
    return b;
  });
  if (consensus !== 'concat') return { glue, members: built };
  const inputs = Object.fromEntries(members.map((m) => [m.name, fitX(m)]));
  glue.fit(inputs, y, recipe.epochs > 0 ? { refine: refineOptionsOf(recipe) } : {});
  return {
    glue,
    members: built.map((b, i) => ({ ...b, hil: glue.member((members[i] as MemberEmbeddings).name).hil })),
  };
}

/** A glue of members already built (an encoder and a trained layer each), in the order given. */
export function assembleGlue(
  members: readonly { name: string; encoder: Encoder; hil: HIL }[],
  options?: HDGlueOptions,
): HDGlue {
  const glue = new HDGlue(options);
  for (const m of members) glue.addMember(m.name, { encoder: m.encoder, hil: m.hil });
  return glue;
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
