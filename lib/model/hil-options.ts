/**
 * The settings of an HIL and the checks of what it is given, shared by the layer, its
 * model-file codec and refine (so a model file is held to the constructor's own rules).
 */
import { type TieRule, tieData } from '../core/ops.js';
import { ErrorCode, rangeError, typeError } from '../errors.js';
import type { Label } from '../label.js';
import { checkDim, checkSeed, describe } from '../validate.js';

/** Similarity used to classify: cosine against the counters, or Hamming against the prototypes. */
export type Metric = 'cosine' | 'hamming';

/** How an {@link HIL} reads a query out: against class summaries, or against every stored example. */
export type Readout = 'prototype' | 'nearest';

/** Options of {@link HIL}. */
export interface HILOptions {
  /** Bits per hypervector (must match the encoder's). */
  dim: number;
  /** Seed of the class vectors (tutorial mode) and of the prototypes' tie-breaker; default 0. */
  seed?: number | bigint;
  /** How a zero counter becomes a prototype bit; default `'tiebreak'`, `'ones'` is vsax's rule. */
  tie?: TieRule;
  /** Default similarity of {@link HIL.scores} and {@link HIL.predict}; default `'cosine'`. */
  metric?: Metric;
  /**
   * How a query is read out: `'prototype'` (default) compares it with one summary per class
   * (counters or prototypes, see `metric`); `'nearest'` keeps every training example and scores
   * each class by its nearest stored example (Hamming similarity, 1-NN). The memory readout
   * costs D/8 bytes per stored example and one Hamming scan of the whole memory per query.
   */
  readout?: Readout;
}

/** Options of {@link HIL.predict} and {@link HIL.scores}. */
export interface PredictOptions {
  /** Override the layer's metric. */
  metric?: Metric;
  /** `'tutorial'`: classify through the single symbolic vector, as the seed tutorial does. */
  mode?: 'default' | 'tutorial';
}

/** {@link HILOptions} checked, defaults filled in. @internal */
export interface LayerSettings {
  dim: number;
  seed: bigint;
  tie: TieRule;
  metric: Metric;
  readout: Readout;
}

/** Checks the options of an HIL and fills in their defaults. @internal */
export function checkHILOptions(options: HILOptions): LayerSettings {
  if (options === null || typeof options !== 'object')
    throw typeError(`HIL options must be an object, got ${describe(options)}`);
  const dim = checkDim(options.dim);
  const seed = checkSeed(options.seed ?? 0);
  const tie = options.tie ?? 'tiebreak';
  tieData(dim, tie, seed);
  const metric = checkMetric(options.metric ?? 'cosine');
  const readout = checkReadout(options.readout ?? 'prototype');
  return { dim, seed, tie, metric, readout };
}

/** A metric name, or `ERR_HDGLUE_OUT_OF_RANGE`. @internal */
export function checkMetric(m: unknown): Metric {
  if (m === 'cosine' || m === 'hamming') return m;
  throw rangeError(ErrorCode.OUT_OF_RANGE, `metric must be 'cosine' or 'hamming', got ${String(m)}`);
}

/** A readout name, or `ERR_HDGLUE_OUT_OF_RANGE`. @internal */
function checkReadout(r: unknown): Readout {
  if (r === 'prototype' || r === 'nearest') return r;
  throw rangeError(ErrorCode.OUT_OF_RANGE, `readout must be 'prototype' or 'nearest', got ${String(r)}`);
}

/** A class label: a finite number or a string, or `ERR_HDGLUE_INVALID_TYPE` naming `what`. @internal */
export function checkLabel(l: unknown, what: string): asserts l is Label {
  if (typeof l === 'string') return;
  if (typeof l === 'number' && Number.isFinite(l)) return;
  throw typeError(
    `${what} must be a finite number or a string, got ${typeof l === 'number' ? String(l) : describe(l)}`,
  );
}
