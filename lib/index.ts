/**
 * hdglue: glue trained neural networks through a hyperdimensional-computing symbolic layer.
 *
 * This entry point only re-exports, layer by layer (docs/ARCHITECTURE.md): {@link backendInfo};
 * the packed-hypervector core ({@link Hypervector}, {@link HVBatch}, the operations on them,
 * {@link Accumulators}, the item memory {@link Codebook}, level codebooks); the encoders that turn
 * network embeddings into hypervectors ({@link EmbeddingEncoder}, {@link ProjectionEncoder}); the
 * models ({@link HIL}, {@link HDGlue}); training ({@link buildMember}, {@link tune},
 * {@link tutorialGlue}); micro-batching of concurrent predictions ({@link glueBatcher}, and the
 * glue-free {@link MicroBatcher}); `.npy` files; errors with stable codes.
 * @packageDocumentation
 */

export { type BackendInfo, backendInfo } from './backend/info.js';
export { type GlueBatcherOptions, glueBatcher } from './batch/glue-batcher.js';
export { type BatchRun, MicroBatcher, type RowFormat } from './batch/micro-batcher.js';
export type { BatchInfo, BatchRequestOptions, BatchStats, MicroBatcherOptions } from './batch/options.js';
export type { BatchDtype, RowMatrix, Widths } from './batch/rows.js';
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
export type { Encoder } from './encode/registry.js';
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
export type { Consensus, Explanation } from './model/consensus.js';
export { type GlueInputs, HDGlue, type HDGlueOptions, type LearnOptions } from './model/glue.js';
export {
  HIL,
  type HILOptions,
  type Metric,
  type PredictOptions,
  type Readout,
  type RefineEpoch,
  type RefineOptions,
} from './model/hil.js';
export type { OnnxSourceSpec } from './model/onnx-source.js';
export type { Keep, Schedule } from './model/refine.js';
export type { Recipe, RecipeName, TuneResult, TuneScore } from './model/tuning-record.js';
export { assignFolds } from './split.js';
export { type BuiltMember, buildMember, DEFAULT_RECIPE } from './train/recipe.js';
export { DEFAULT_GRID, type TuneGrid, type TuneMember, type TuneOptions, tune } from './train/tune.js';
export { TUTORIAL_SETTINGS, type TutorialMember, type TutorialOptions, tutorialGlue } from './train/tutorial.js';
export { LIMITS, MAX_DIM } from './validate.js';
