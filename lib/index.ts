/**
 * hdglue: glue trained neural networks through a hyperdimensional-computing symbolic layer.
 *
 * This entry point exports the packed-hypervector core ({@link Hypervector}, {@link HVBatch},
 * the operations on them, class {@link Accumulators}), the item memory ({@link Codebook}) and
 * level codebooks, the encoders that turn network embeddings into hypervectors
 * ({@link EmbeddingEncoder}, {@link ProjectionEncoder}), errors with stable codes, and
 * {@link backendInfo}.
 * @packageDocumentation
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { backend, nativeLoadError } from './backend/index.js';
import { packageRoot, platformTuple } from './backend/native.js';

export { type AccumulateOptions, Accumulators, type ThresholdOptions } from './core/accumulators.js';
export { Codebook, type CodebookDescription, type Nearest } from './core/codebook.js';
export { HVBatch, Hypervector } from './core/hv.js';
export { type LevelKind, type LevelOptions, levelVectors } from './core/levels.js';
export {
  type BundleOptions,
  bind,
  bundle,
  bundleAsync,
  concat,
  hamming,
  hammingMany,
  hammingManyAsync,
  hammingMatrix,
  hammingMatrixAsync,
  permute,
  randomBatch,
  randomHV,
  type SeedOptions,
  similarity,
  type TieRule,
  type TopK,
  tieBreaker,
  topK,
  topKAsync,
} from './core/ops.js';
export { BatchEncoder } from './encode/base.js';
export type { Embedding, EmbeddingMatrix } from './encode/embeddings.js';
export {
  EmbeddingEncoder,
  type EmbeddingEncoderDescription,
  type EmbeddingEncoderOptions,
  type FitOptions,
} from './encode/level.js';
export {
  ProjectionEncoder,
  type ProjectionEncoderDescription,
  type ProjectionEncoderOptions,
} from './encode/projection.js';
export { ErrorCode, HdglueError } from './errors.js';
export {
  encodeNpy,
  type NpyArray,
  type NpyData,
  type NpyDtype,
  type NpyReadOptions,
  parseNpy,
  readNpy,
  writeNpy,
} from './io/npy.js';
export type { Label } from './label.js';
export {
  type Consensus,
  type Encoder,
  type Explanation,
  type GlueInputs,
  HDGlue,
  type HDGlueOptions,
  type LearnOptions,
  type RecipeName,
} from './model/glue.js';
export {
  HIL,
  type HILOptions,
  type Metric,
  type PredictOptions,
  type Readout,
  type RefineEpoch,
  type RefineOptions,
} from './model/hil.js';
export type { Keep, Schedule } from './model/refine.js';
export { type BuiltMember, buildMember, DEFAULT_RECIPE, type Recipe } from './train/recipe.js';
export {
  assignFolds,
  DEFAULT_GRID,
  type TuneGrid,
  type TuneMember,
  type TuneOptions,
  type TuneResult,
  type TuneScore,
  tune,
} from './train/tune.js';
export { TUTORIAL_SETTINGS, type TutorialMember, type TutorialOptions, tutorialGlue } from './train/tutorial.js';
export { LIMITS, MAX_DIM } from './validate.js';

/** What {@link backendInfo} reports. */
export interface BackendInfo {
  /** `'native'` (the compiled addon) or `'js'` (the TypeScript backend). */
  backend: 'native' | 'js';
  /** Instruction-set level of the kernels in use: `'avx512' | 'avx2' | 'neon' | 'scalar'`, or `'js'`. */
  isa: string;
  /** Best level this CPU supports (native), or `'js'`. */
  detectedIsa: string;
  /**
   * Every level this CPU and binary can run, lowest first, e.g. `['scalar', 'avx2', 'avx512']`:
   * the values `HDGLUE_MAX_ISA` may usefully take. `['js']` on the TypeScript backend.
   */
  availableIsas: string[];
  /** Threads the large native scans (Hamming, top-k) may use; set with HDGLUE_THREADS. 1 on the js backend. */
  threads: number;
  /** Platform tuple, e.g. `linux-x64-glibc (node 20.20.2, napi 10)`. */
  platform: string;
  /** Version of the hdglue package in use, from its package.json. */
  version: string;
  /**
   * Absolute path of the `.node` file that loaded: a shipped prebuild
   * (`.../prebuilds/linux-x64/hdglue.glibc.node`) or a local compile (`.../build/Release/hdglue.node`).
   * Absent on the js backend.
   */
  binary?: string;
  /**
   * N-API version the loaded binary was built against (the runtime's own is in `platform`).
   * Absent on the js backend.
   */
  napiVersion?: number;
  /** Why the native backend is not in use, when it was tried and failed. */
  nativeError?: string;
}

let version: string | undefined;

/**
 * Which backend and instruction set hdglue runs on here, which binary loaded, and the package
 * version: what a bug report needs. Loads the backend if not yet loaded (and so may emit the one
 * fallback warning).
 */
export function backendInfo(): BackendInfo {
  const be = backend();
  // Read once: the package.json next to the code that runs, not whatever `npm ls` resolves.
  version ??= (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
  const info: BackendInfo = {
    backend: be.name,
    isa: be.isa,
    detectedIsa: be.detectedIsa,
    availableIsas: [...be.availableIsas],
    threads: be.threads,
    platform: platformTuple(),
    version,
  };
  if (be.binary !== undefined) info.binary = be.binary;
  if (be.napiVersion !== undefined) info.napiVersion = be.napiVersion;
  const err = nativeLoadError();
  if (err !== undefined) info.nativeError = err instanceof Error ? err.message : String(err);
  return info;
}
