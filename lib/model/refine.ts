/**
 * Error correction of an HIL's class counters ({@link HIL.refine}): its options, the two
 * schedules, and the state a run ends with.
 *
 * - online (the default with the cosine metric): rows are visited one at a time in a seeded
 *   shuffled order and each update is applied before the next row is scored (the engines are in
 *   lib/model/refine-online.ts);
 * - batch (the only schedule of the Hamming metric): each epoch scores every row with the
 *   counters of its start, then applies all updates together.
 *
 * Both move the layer's counters in place, and both keep the same state at the end: with a
 * validation set the epoch of highest validation accuracy, else (`keep: 'best'`) the one with
 * the fewest training errors, else the last.
 */
import { backend } from '../backend/index.js';
import type { Accumulators } from '../core/accumulators.js';
import type { HVBatch } from '../core/hv.js';
import { DEFAULTS } from '../defaults.js';
import { ErrorCode, rangeError, typeError } from '../errors.js';
import type { Label } from '../label.js';
import { checkCount, checkSeed, describe } from '../validate.js';
import { argmax, argmaxExcept } from './argmax.js';
import { checkMetric, type Metric } from './hil-options.js';
import { checkExactRange, DualEngine, epochOrder, gramMatrix, primalEpoch, squaredNorms } from './refine-online.js';

/** How {@link HIL.refine} applies its updates: row by row in a shuffled order, or once per epoch. */
export type Schedule = 'online' | 'batch';

/** Which state {@link HIL.refine} keeps without a validation set: the last epoch's, or the one with the fewest training errors. */
export type Keep = 'last' | 'best';

/** Options of {@link HIL.refine}. */
export interface RefineOptions {
  /** Passes over the data; default 80 (the default recipe's). */
  epochs?: number;
  /**
   * `'online'` (default with the cosine metric): each epoch visits the rows one at a time in a
   * seeded shuffled order and updates the counters at once, so the next row is scored with them
   * (the perceptron). `'batch'` (the only schedule of the Hamming metric): each epoch scores every
   * row with the counters of the epoch's start, then applies all updates together.
   */
  schedule?: Schedule;
  /** Seed of the online schedule's visiting orders (epoch e's order is a pure function of (seed, e)); default the layer's seed. */
  seed?: number | bigint;
  /**
   * Without a validation set, the state kept: `'last'` (the online default) or `'best'`, the
   * epoch with the fewest training errors (the batch default; online it costs one scoring pass
   * over the training rows per epoch).
   */
  keep?: Keep;
  /**
   * `'adapt'` (default, AdaptHD/QuantHD style): a misclassified example is added to its true class
   * and subtracted from the predicted one. `'tutorial'`: it is only added to its true class again.
   */
  rule?: 'adapt' | 'tutorial';
  /**
   * Also update an example classified correctly but with a lead under `margin` over the best
   * other class (scores in [-1, 1]); default 0.1 (the default recipe's); 0: misclassified examples only.
   */
  margin?: number;
  /** Similarity used to find the errors; default the layer's metric. */
  metric?: Metric;
  /** Held-out examples: after each epoch their accuracy is measured, the best state is kept, and training stops after `patience` epochs without improvement. */
  validation?: { hvs: HVBatch; labels: ArrayLike<Label> };
  /** Epochs without validation improvement before stopping; default 3. */
  patience?: number;
  /**
   * Called after every epoch with its record while the layer holds that epoch's state (before
   * any best-state restore at the end): progress reports, or reading the layer at several epoch
   * counts from one run.
   */
  onEpoch?: (epoch: RefineEpoch) => void;
}

/** One epoch of {@link HIL.refine}. */
export interface RefineEpoch {
  epoch: number;
  /** Training examples misclassified: at the start of the epoch (batch), or when visited (online). */
  trainErrors: number;
  /** Examples whose counters were updated. */
  updates: number;
  /** Validation accuracy after the epoch's updates, when a validation set was given. */
  validationAccuracy?: number;
}

/** What refine needs of the layer it corrects; the layer's own state stays private to it. @internal */
export interface RefineLayer {
  readonly dim: number;
  readonly seed: bigint;
  readonly metric: Metric;
  readonly classes: number;
  /** The live counters: the schedules change their array in place. */
  accumulators(): Accumulators;
  /** Makes `state` (a copy of the counters taken earlier) the layer's counters, without copying it. */
  restore(state: Int32Array): void;
  /** Drops what the layer derived from its counters after they changed in place. */
  changed(): void;
  /** Adds (sign 1) or subtracts (-1) the listed rows of `hvs` to class k's counters. */
  addRows(k: number, hvs: HVBatch, rows: number[], sign: 1 | -1): void;
  /** The norms the cosine scores divide by. */
  norms(): Float64Array;
  scores(hvs: HVBatch, metric: Metric): Float64Array;
  accuracy(hvs: HVBatch, labels: ArrayLike<Label>, metric: Metric): number;
  /** Class index of each label (`ERR_HDGLUE_UNKNOWN_LABEL` for one the layer does not know). */
  classesOf(labels: ArrayLike<Label>): Int32Array;
  /** Checks a batch of examples and their labels as the layer's own methods do. */
  checkExamples(hvs: HVBatch, labels: ArrayLike<Label>): void;
}

/** The checked options of one refine call. */
interface Settings {
  schedule: Schedule;
  seed: bigint;
  onEpoch: ((epoch: RefineEpoch) => void) | undefined;
  epochs: number;
  rule: 'adapt' | 'tutorial';
  margin: number;
  metric: Metric;
  patience: number;
  keep: Keep;
  truth: Int32Array;
  val: { hvs: HVBatch; labels: ArrayLike<Label> } | undefined;
}

/**
 * Largest training set whose Gram matrix (n x n int32) refine keeps to update scores
 * incrementally: 4,096 examples take 64 MiB (plus n x classes x 16 bytes of dots). Larger sets
 * are rescored every epoch instead.
 */
let gramLimit = 4096;

/** Engine of the online schedule: chosen by size and backend, or forced (tests run both). */
let onlineEngine: 'auto' | 'dual' | 'primal' = 'auto';

/** Forces the online schedule's engine and returns the old setting; tests use it to run both. @internal */
export function setOnlineEngine(e: 'auto' | 'dual' | 'primal'): 'auto' | 'dual' | 'primal' {
  const old = onlineEngine;
  onlineEngine = e;
  return old;
}

/** Sets the Gram-matrix size limit of refine and returns the old one; tests use it to run both paths. @internal */
export function setGramLimit(n: number): number {
  const old = gramLimit;
  gramLimit = n;
  return old;
}

/**
 * Error correction of `layer` on examples the layer has checked (options `o` already an
 * object); see {@link HIL.refine}. The options are checked first; then, if anything throws
 * mid-run (an onEpoch callback, an exhausted allocation), the layer gets back the counters it
 * had on entry. @internal
 */
export function refineLayer(
  layer: RefineLayer,
  hvs: HVBatch,
  labels: ArrayLike<Label>,
  o: Partial<RefineOptions>,
): RefineEpoch[] {
  const st = settings(layer, labels, o);
  const entry = layer.accumulators().counters.slice();
  try {
    return st.schedule === 'online' ? online(layer, hvs, st) : batch(layer, hvs, st);
  } catch (e) {
    layer.restore(entry);
    throw e;
  }
}

/** Epochs of a correction (default the default recipe's), checked: a count up to 1e6. @internal */
export function checkEpochs(epochs: unknown): number {
  return checkCount(epochs ?? DEFAULTS.epochs, 'epochs', 1e6);
}

/** Margin of a correction (default the default recipe's), checked: a number in [0, 2]. @internal */
export function checkMargin(margin: unknown): number {
  const m = margin ?? DEFAULTS.margin;
  if (typeof m !== 'number' || !(m >= 0 && m <= 2))
    throw rangeError(ErrorCode.OUT_OF_RANGE, `margin must be in [0, 2], got ${String(m)}`);
  return m;
}

function settings(layer: RefineLayer, labels: ArrayLike<Label>, o: Partial<RefineOptions>): Settings {
  const epochs = checkEpochs(o.epochs);
  const rule = o.rule ?? 'adapt';
  if (rule !== 'adapt' && rule !== 'tutorial')
    throw rangeError(ErrorCode.OUT_OF_RANGE, `rule must be 'adapt' or 'tutorial', got ${String(rule)}`);
  const margin = checkMargin(o.margin);
  const metric = checkMetric(o.metric ?? layer.metric);
  const schedule = o.schedule ?? (metric === 'cosine' ? 'online' : 'batch');
  if (schedule !== 'online' && schedule !== 'batch')
    throw rangeError(ErrorCode.OUT_OF_RANGE, `schedule must be 'online' or 'batch', got ${String(schedule)}`);
  if (schedule === 'online' && metric !== 'cosine') {
    throw rangeError(
      ErrorCode.OUT_OF_RANGE,
      "the online schedule scores with the cosine metric: use metric 'cosine' or schedule 'batch'",
    );
  }
  const keep = o.keep ?? (schedule === 'online' ? 'last' : 'best');
  if (keep !== 'last' && keep !== 'best')
    throw rangeError(ErrorCode.OUT_OF_RANGE, `keep must be 'last' or 'best', got ${String(keep)}`);
  const seed = o.seed === undefined ? layer.seed : checkSeed(o.seed);
  const patience = checkCount(o.patience ?? 3, 'patience', 1e6);
  const truth = layer.classesOf(labels);
  const val = o.validation;
  if (val !== undefined) {
    if (val === null || typeof val !== 'object')
      throw typeError(`validation must be { hvs, labels }, got ${describe(val)}`);
    layer.checkExamples(val.hvs, val.labels);
  }
  if (o.onEpoch !== undefined && typeof o.onEpoch !== 'function')
    throw typeError(`onEpoch must be a function, got ${describe(o.onEpoch)}`);
  return { schedule, seed, epochs, rule, margin, metric, patience, keep, truth, val, onEpoch: o.onEpoch };
}

/**
 * The state a run ends with, one rule for both schedules. With a validation set: the state of
 * highest validation accuracy (the entry state until an epoch beats it), and the run stops after
 * `patience` epochs without improvement. Without one and keep `'best'`: the state with the
 * fewest training errors, later states winning ties (margin updates keep improving a state with
 * as few errors). Otherwise the last.
 */
class KeptState {
  readonly #layer: RefineLayer;
  readonly #st: Settings;
  // The state restored at the end; null: the one the layer ends with.
  #state: Int32Array | null = null;
  #best = 0;
  #stale = 0;
  #fewest = Number.POSITIVE_INFINITY;

  constructor(layer: RefineLayer, st: Settings) {
    this.#layer = layer;
    this.#st = st;
    if (st.val) {
      this.#best = layer.accuracy(st.val.hvs, st.val.labels, st.metric);
      this.#state = layer.accumulators().counters.slice();
    }
  }

  /** Whether training errors choose the state (no validation set, keep `'best'`). */
  get byErrors(): boolean {
    return !this.#st.val && this.#st.keep === 'best';
  }

  /** Measures the current state on the validation set into `record`; false once patience ran out. */
  validate(record: RefineEpoch): boolean {
    const val = this.#st.val;
    if (!val) return true;
    const acc = this.#layer.accuracy(val.hvs, val.labels, this.#st.metric);
    record.validationAccuracy = acc;
    if (acc > this.#best) {
      this.#best = acc;
      this.#state = this.#layer.accumulators().counters.slice();
      this.#stale = 0;
      return true;
    }
    return ++this.#stale < this.#st.patience;
  }

  /**
   * The layer's current state has `errors` training errors. `copy` false: it will also be the
   * layer's last state, so keeping it needs no copy.
   */
  offer(errors: number, copy: boolean): void {
    if (errors > this.#fewest) return;
    this.#fewest = errors;
    this.#state = copy ? this.#layer.accumulators().counters.slice() : null;
  }

  /** Gives the layer the state kept. */
  finish(): void {
    if (this.#state) this.#layer.restore(this.#state);
  }
}

/**
 * The epochs of either schedule: `step` runs one and counts it; then its record is validated,
 * kept and reported, and the run stops early on lost patience or an epoch with no update.
 */
function run(
  kept: KeptState,
  st: Settings,
  step: (epoch: number) => { errors: number; updates: number },
): RefineEpoch[] {
  const history: RefineEpoch[] = [];
  for (let epoch = 1; epoch <= st.epochs; epoch++) {
    const counts = step(epoch);
    const record: RefineEpoch = { epoch, trainErrors: counts.errors, updates: counts.updates };
    const patient = kept.validate(record);
    history.push(record);
    st.onEpoch?.(record);
    if (!patient || counts.updates === 0) break;
  }
  return history;
}

function trainingErrors(layer: RefineLayer, hvs: HVBatch, st: Settings): number {
  const c = layer.classes;
  const s = layer.scores(hvs, st.metric);
  let e = 0;
  for (let i = 0; i < hvs.count; i++) if (argmax(s, i * c, c) !== st.truth[i]) e++;
  return e;
}

// The batch schedule: every update of an epoch computed from the scores at its start.
function batch(layer: RefineLayer, hvs: HVBatch, st: Settings): RefineEpoch[] {
  const kept = new KeptState(layer, st);
  const c = layer.classes;
  const dots = st.metric === 'cosine' && hvs.count <= gramLimit ? new GramDots(hvs, layer.accumulators()) : null;
  // Whether the counters changed after the last time their training errors were counted.
  let unevaluated = false;
  const history = run(kept, st, () => {
    const s = dots ? dots.scores(layer.norms()) : layer.scores(hvs, st.metric);
    const { plus, minus, errors, updates } = corrections(s, c, st);
    // The errors were counted on the state at the epoch's start; with no update it is the last.
    if (kept.byErrors) kept.offer(errors, updates > 0);
    if (updates > 0) {
      for (let k = 0; k < c; k++) {
        layer.addRows(k, hvs, plus[k] as number[], 1);
        layer.addRows(k, hvs, minus[k] as number[], -1);
        dots?.move(k, plus[k] as number[], minus[k] as number[]);
      }
      layer.changed();
    }
    unevaluated = updates > 0;
    return { errors, updates };
  });
  if (kept.byErrors && unevaluated) kept.offer(trainingErrors(layer, hvs, st), false);
  kept.finish();
  return history;
}

/**
 * One batch epoch's decisions from its scores: the rows to add to each class (`plus`, their true
 * one) and to subtract from each (`minus`, the strongest rival under the `'adapt'` rule).
 */
function corrections(s: Float64Array, c: number, st: Settings) {
  const { truth, margin, rule } = st;
  const plus: number[][] = Array.from({ length: c }, () => []);
  const minus: number[][] = Array.from({ length: c }, () => []);
  let errors = 0;
  let updates = 0;
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i] as number;
    const p = argmax(s, i * c, c);
    if (p !== t) errors++;
    // The strongest rival: the prediction when wrong, else the best other class.
    const rival = p !== t ? p : argmaxExcept(s, i * c, c, t);
    const lead = rival < 0 ? Number.POSITIVE_INFINITY : (s[i * c + t] as number) - (s[i * c + rival] as number);
    if (p === t && !(lead < margin)) continue;
    updates++;
    plus[t]?.push(i);
    if (rule === 'adapt' && rival >= 0) minus[rival]?.push(i);
  }
  return { plus, minus, errors, updates };
}

/**
 * The batch schedule's cosine scores of a training set that fits in memory, kept up to date
 * instead of rescoring all examples each epoch: adding example j to a class adds dot(x_i, x_j) =
 * dim - 2 hamming(x_i, x_j) to example i's dot with it, read from the Gram matrix computed once.
 * The dots are the same integers the scoring path computes and the division is the same, so the
 * epochs are bit-identical to rescoring, only faster.
 */
class GramDots {
  readonly #gram: Int32Array;
  // Class-major (dots[k * n + i]) so an update streams one Gram row into one class's dots.
  readonly #dots: Float64Array;
  readonly #n: number;
  readonly #classes: number;
  readonly #qn: number;

  constructor(hvs: HVBatch, acc: Accumulators) {
    const n = hvs.count;
    const c = acc.rows;
    this.#n = n;
    this.#classes = c;
    this.#qn = Math.sqrt(hvs.dim);
    this.#gram = gramMatrix(hvs);
    const byExample = acc.dot(hvs);
    const dots = new Float64Array(n * c);
    for (let i = 0; i < n; i++) for (let k = 0; k < c; k++) dots[k * n + i] = byExample[i * c + k] as number;
    this.#dots = dots;
  }

  /** Every example's cosine score with every class (row-major by example), given the classes' norms. */
  scores(norms: Float64Array): Float64Array {
    const n = this.#n;
    const c = this.#classes;
    const qn = this.#qn;
    const dots = this.#dots;
    const out = new Float64Array(n * c);
    for (let k = 0; k < c; k++) {
      const nk = norms[k] as number;
      for (let i = 0; i < n; i++) out[i * c + k] = nk > 0 ? (dots[k * n + i] as number) / (qn * nk) : 0;
    }
    return out;
  }

  /** Class k gained the examples `plus` and lost the examples `minus`. */
  move(k: number, plus: readonly number[], minus: readonly number[]): void {
    const n = this.#n;
    const gram = this.#gram;
    // The Gram matrix is symmetric: row j holds dot(x_i, x_j) for every i, contiguously.
    const d = this.#dots.subarray(k * n, (k + 1) * n);
    for (const j of plus) {
      const g = gram.subarray(j * n, (j + 1) * n);
      for (let i = 0; i < n; i++) d[i] += g[i] as number;
    }
    for (const j of minus) {
      const g = gram.subarray(j * n, (j + 1) * n);
      for (let i = 0; i < n; i++) d[i] -= g[i] as number;
    }
  }
}

// The online schedule (lib/model/refine-online.ts): rows visited one at a time in epoch e's
// seeded order, each update applied before the next row is scored; the dual engine while the
// Gram matrix fits, else the backend's primal driver.
function online(layer: RefineLayer, hvs: HVBatch, st: Settings): RefineEpoch[] {
  const kept = new KeptState(layer, st);
  if (kept.byErrors) kept.offer(trainingErrors(layer, hvs, st), true);
  const n = hvs.count;
  const c = layer.classes;
  // The engines work on the accumulators' own array, in place: no copy per epoch.
  const counters = layer.accumulators().counters;
  const norms2 = squaredNorms(counters, c, layer.dim);
  checkExactRange(counters, layer.dim, n * st.epochs);
  // The dual engine only pays in TypeScript: natively, scoring one row against the counters
  // (SIMD, ~1-2 us at dim 10,000 and 10 classes) beats the dual update's 2n additions.
  const useDual = onlineEngine === 'dual' || (onlineEngine === 'auto' && n <= gramLimit && backend().name === 'js');
  const dual = useDual ? new DualEngine(hvs, counters, c) : null;
  const adapt = st.rule === 'adapt' ? 1 : 0;
  const history = run(kept, st, (epoch) => {
    const e = { order: epochOrder(n, st.seed, epoch), margin: st.margin, adapt } as const;
    const counts = dual
      ? dual.epoch(st.truth, counters, norms2, e)
      : primalEpoch(hvs, st.truth, counters, c, norms2, e);
    layer.changed();
    if (kept.byErrors && counts.updates > 0) kept.offer(trainingErrors(layer, hvs, st), true);
    return counts;
  });
  kept.finish();
  return history;
}
