/**
 * The cross-validated defaults in one place, below every layer that uses them: the encoder's
 * constructor and `fit`, `HIL.refine`, `HDGlue.learn` and `DEFAULT_RECIPE` (train/recipe.ts) all
 * read these values, so a default cannot drift between the layer and the recipe. How they were
 * chosen: see `DEFAULT_RECIPE`.
 * @internal
 */
export const DEFAULTS = Object.freeze({
  /** Bits per hypervector. */
  dim: 10_000,
  /** Bins per feature of the embedding encoder. */
  bins: 64,
  /** Level codebook of the embedding encoder. */
  levels: 'level',
  /** How `EmbeddingEncoder.fit` sets each feature's range. */
  range: 'quantile',
  /** Error-correction epochs of `HIL.refine`. */
  epochs: 80,
  /** Margin of the error correction. */
  margin: 0.1,
  /** Readout of a layer. */
  readout: 'prototype',
} as const);
