/**
 * The TypeScript backend's sync kernels, assembled from the files that hold them by job: Hamming
 * and top-k (hamming.ts), bind/bundle/permute (bundle.ts), counters (counters.ts), the online
 * refinement epoch (refine.ts) and the encoders (encode.ts). Each is bit for bit its native
 * scalar twin; typing the object as {@link Kernels} makes the compiler refuse a missing one.
 * @internal Not exported from the package.
 */
import { randomHVInto } from '../../rng.js';
import type { Kernels } from '../types.js';
import { bind, bundle, bundleWeighted, permute } from './bundle.js';
import { accAdd, dotCounters, dotsOne, rowAdd, threshold } from './counters.js';
import { bin, encodeLevels, project } from './encode.js';
import { hamming1xN, hammingMxN, topK } from './hamming.js';
import { refineOnline } from './refine.js';

/** The TypeScript backend's kernels, bit-identical to the native scalar kernels. */
export const jsKernels: Kernels = {
  randomHV: randomHVInto,
  bind,
  hamming1xN,
  hammingMxN,
  topK,
  bundle,
  bundleWeighted,
  accAdd,
  threshold,
  dotCounters,
  permute,
  dotsOne,
  rowAdd,
  refineOnline,
  bin,
  encodeLevels,
  project,
};
