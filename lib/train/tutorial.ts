/**
 * The HD-Glue tutorial's algebra as written, built in one place for the demo's "tutorial
 * algebra" rows and for `hdglue fit --recipe tutorial`: per member, an encoder with 100
 * independent random bin vectors, one HIL whose classes are bundled into a single vector,
 * and the consensus that binds each member's HIL vector to a member vector and bundles them
 * (`consensus: 'tutorial'`). Every bundle uses vsax's tie rule (`'ones'`), and every member
 * shares one codebook seed, because the tutorial draws all its vectors from one memory and its
 * consensus compares against one set of class vectors.
 *
 * It is here so that its real accuracy can be measured (about a quarter of the digits test
 * images, see docs/ARCHITECTURE.md), not as a way to classify.
 */

import { EmbeddingEncoder } from '../encode/level.js';
import type { Label } from '../label.js';
import { HDGlue } from '../model/glue.js';
import { HIL } from '../model/hil.js';
import { checkOptions, refuseRenamed } from '../validate.js';

/** The tutorial's fixed settings: 100 random-level bins, vsax's tie rule, `np.random.seed(42)`. */
export const TUTORIAL_SETTINGS = Object.freeze({
  bins: 100,
  levels: 'random',
  tie: 'ones',
  seed: 42,
} as const);

/** One member's training embeddings for {@link tutorialGlue}. */
export interface TutorialMember {
  /** Member name; it names the member vector. */
  name: string;
  /** `n` rows of `features` values, row-major. */
  x: Float32Array | Float64Array;
  /** Values per row. */
  features: number;
}

/** Options of {@link tutorialGlue}. */
export interface TutorialOptions {
  /** Bits per hypervector; default 10,000 (the tutorial's). */
  dim?: number;
  /**
   * Bin range of every feature: `[lo, hi]` for one fixed range (default `[-1, 1]`, the
   * tutorial's `linspace(-1, 1)` for tanh units), or `'minmax'` for each feature's observed
   * range on these rows (for embeddings that are not bounded by tanh).
   */
  range?: 'minmax' | readonly [number, number];
  /** Seed of the codebooks and class vectors, shared by all members; default 42. */
  seed?: number;
  /** Seed of the member vectors (the glue's seed); default 0. */
  memberSeed?: number;
}

/**
 * A glue with the `'tutorial'` consensus over the members' training embeddings, fitted as the
 * tutorial does (class prototypes by plain bundling, no error correction). Its
 * {@link HDGlue.recipe} is `'tutorial'`, so a saved model says how it was built.
 */
export function tutorialGlue(
  members: readonly TutorialMember[],
  labels: ArrayLike<Label>,
  options: TutorialOptions = {},
): HDGlue {
  refuseRenamed(checkOptions(options), { networkSeed: 'memberSeed' });
  const dim = options.dim ?? 10_000;
  const seed = options.seed ?? TUTORIAL_SETTINGS.seed;
  const range = options.range ?? ([-1, 1] as const);
  const { bins, levels, tie } = TUTORIAL_SETTINGS;
  const glue = new HDGlue({ consensus: 'tutorial', tie, seed: options.memberSeed ?? 0 });
  for (const m of members) {
    const encoder = new EmbeddingEncoder({
      features: m.features,
      dim,
      bins,
      levels,
      tie,
      seed,
      ...(range === 'minmax' ? {} : { range }),
    });
    if (range === 'minmax') encoder.fit(m.x, { method: 'minmax' });
    const hil = new HIL({ dim, seed, tie }).fit(encoder.encodeBatch(m.x), labels);
    glue.addMember(m.name, { encoder, hil });
  }
  glue.recipe = 'tutorial';
  return glue;
}
