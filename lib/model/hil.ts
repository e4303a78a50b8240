/**
 * The Hyperdimensional Inference Layer (HIL): one network's classifier in hypervector form.
 * Each class has a signed int32 counter per bit (a class accumulator: +1 where an example's bit
 * is 0, -1 where it is 1), and its prototype is the sign of those counters. Learning only ever
 * adds or subtracts whole examples, so every change can be undone exactly.
 *
 * Two ways to classify, honestly labelled:
 * - the default: similarity of the query to every class, either cosine against the integer
 *   counters (`'cosine'`, the better one) or Hamming similarity to the binary prototypes
 *   (`'hamming'`, the cheaper one); the largest wins;
 * - `mode: 'tutorial'`: the seed tutorial's algebra, one vector for the whole layer
 *   (bundle over classes of bind(class vector, prototype)), queried by binding it with the
 *   query and taking the nearest class vector. It is here so that pipeline can be run as
 *   written; on real data it scores far below the default (see the README).
 */

import { backend } from '../backend/index.js';
import { popcount32 } from '../bits.js';
import { HVBatch, type Hypervector } from '../core/hv.js';
import { bind, bundle, checkBatch, hammingMatrix, randomHV, type TieRule, tieData } from '../core/ops.js';
import { DEFAULTS } from '../defaults.js';
import { ErrorCode, HdglueError, rangeError, typeError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { encodeModel, readModelFile } from '../io/model-file.js';
import type { Label } from '../label.js';
import {
  checkCount,
  checkDim,
  checkLimit,
  checkOptions,
  checkPacked,
  checkSameDim,
  checkSeed,
  describe,
  LIMITS,
  SEED_STRING,
  wordsOf,
} from '../validate.js';
import {
  checkExactRange,
  DualEngine,
  epochOrder,
  gramMatrix,
  type Keep,
  type OnlineCounts,
  primalEpoch,
  type Schedule,
  squaredNorms,
} from './refine.js';

/** Similarity used to classify: cosine against the counters, or Hamming against the prototypes. */
export type Metric = 'cosine' | 'hamming';

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

/** How an {@link HIL} reads a query out: against class summaries, or against every stored example. */
export type Readout = 'prototype' | 'nearest';

/** Options of {@link HIL.predict} and {@link HIL.scores}. */
export interface PredictOptions {
  /** Override the layer's metric. */
  metric?: Metric;
  /** `'tutorial'`: classify through the single symbolic vector, as the seed tutorial does. */
  mode?: 'default' | 'tutorial';
}

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

/** Description of an HIL inside a model file (counters travel as a binary section). @internal */
export interface HILHeader {
  dim: number;
  seed: string;
  tie: TieRule;
  metric: Metric;
  labels: Label[];
  counts: number[];
  /** `'nearest'`: the section also holds the stored examples (absent in older files: `'prototype'`). */
  readout?: Readout;
  /** Stored examples of the nearest readout. */
  memory?: number;
}

/** The checked options of one refine call, shared by both schedules. */
interface RefineSettings {
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

/** One network's classifier over hypervectors; see the module description. */
export class HIL {
  /** Bits per hypervector. */
  readonly dim: number;
  /** Seed of the class vectors and the tie-breaker. */
  readonly seed: bigint;
  /** Tie rule of the prototypes. */
  readonly tie: TieRule;
  /** Default metric. */
  readonly metric: Metric;
  /** Readout of {@link HIL.scores} and {@link HIL.predict}. */
  readonly readout: Readout;
  #labels: Label[] = [];
  // The nearest readout's stored examples: rows of packed bits and each row's class index.
  #memory: Uint32Array = new Uint32Array(0);
  #memoryClass: Int32Array = new Int32Array(0);
  #stored = 0;
  #index = new Map<Label, number>();
  #counts: number[] = [];
  #counters: Int32Array = new Int32Array(0);
  #protos: HVBatch | null = null;
  #norms: Float64Array | null = null;
  #planes: Planes | null = null;
  // Queries scored through dotCounters since the counters last changed (see #planesFor).
  #unplanned = 0;

  /** @param options - see {@link HILOptions} */
  constructor(options: HILOptions) {
    if (options === null || typeof options !== 'object')
      throw typeError(`HIL options must be an object, got ${describe(options)}`);
    this.dim = checkDim(options.dim);
    this.seed = checkSeed(options.seed ?? 0);
    this.tie = options.tie ?? 'tiebreak';
    tieData(this.dim, this.tie, this.seed);
    this.metric = checkMetric(options.metric ?? 'cosine');
    this.readout = checkReadout(options.readout ?? 'prototype');
  }

  /** Examples stored for the nearest readout (0 with the prototype readout). */
  get stored(): number {
    return this.#stored;
  }

  /** The class labels, in the order classes were first seen. */
  get labels(): Label[] {
    return this.#labels.slice();
  }

  /** Number of classes. */
  get classes(): number {
    return this.#labels.length;
  }

  /** Net number of examples added per class (adds minus forgets), in label order. */
  get counts(): number[] {
    return this.#counts.slice();
  }

  /** A copy of a class's counters. */
  counters(label: Label): Int32Array {
    const k = this.#classOf(label);
    return this.#counters.slice(k * this.dim, (k + 1) * this.dim);
  }

  /** The binary prototypes, one row per class in label order (a copy). */
  prototypes(): HVBatch {
    return new HVBatch(this.dim, this.classes, this.#prototypes().data.slice());
  }

  /** Forget everything, then learn from these examples. */
  fit(hvs: HVBatch, labels: ArrayLike<Label>): this {
    this.#checkExamples(hvs, labels);
    this.#labels = [];
    this.#index.clear();
    this.#counts = [];
    this.#counters = new Int32Array(0);
    this.#stored = 0;
    this.#changed();
    return this.partialFit(hvs, labels);
  }

  /** Learn from more examples; labels never seen before become new classes (online learning). */
  partialFit(hvs: HVBatch, labels: ArrayLike<Label>): this {
    this.#checkExamples(hvs, labels);
    const fresh: Label[] = [];
    const seen = new Set<Label>();
    for (let i = 0; i < hvs.count; i++) {
      const l = labels[i] as Label;
      if (!this.#index.has(l) && !seen.has(l)) {
        seen.add(l);
        fresh.push(l);
      }
    }
    if (fresh.length) this.#addClasses(fresh);
    this.#accumulate(hvs, labels, 1);
    if (this.readout === 'nearest') this.#remember(hvs, labels);
    return this;
  }

  /**
   * Remove examples learnt earlier: exactly undoes {@link partialFit} of the same examples. A
   * class left with no examples and all-zero counters is removed, so the layer returns to what
   * it was. Every label must be known (`ERR_HDGLUE_UNKNOWN_LABEL`), and with the nearest readout
   * every example must be in the memory (`ERR_HDGLUE_OUT_OF_RANGE`); nothing changes otherwise.
   */
  forget(hvs: HVBatch, labels: ArrayLike<Label>): this {
    this.#checkExamples(hvs, labels);
    const removing = new Array<number>(this.classes).fill(0);
    for (let i = 0; i < hvs.count; i++) {
      const k = this.#classOf(labels[i] as Label);
      removing[k] = (removing[k] as number) + 1;
    }
    removing.forEach((r, k) => {
      if (r > (this.#counts[k] as number)) {
        throw rangeError(
          ErrorCode.OUT_OF_RANGE,
          `cannot forget ${r} examples of ${JSON.stringify(this.#labels[k])}: only ${this.#counts[k]} were added`,
        );
      }
    });
    // The nearest readout must find every example in its memory before anything changes.
    const drop = this.readout === 'nearest' ? this.#storedRowsOf(hvs, labels) : null;
    this.#accumulate(hvs, labels, -1);
    if (drop) this.#dropStored(drop);
    for (let k = this.classes - 1; k >= 0; k--) {
      if (this.#counts[k] === 0 && this.#counters.subarray(k * this.dim, (k + 1) * this.dim).every((c) => c === 0)) {
        this.#deleteClass(k);
      }
    }
    return this;
  }

  /** Remove a class and everything learnt about it. */
  removeClass(label: Label): this {
    this.#deleteClass(this.#classOf(label));
    return this;
  }

  /** Similarity of every query to every class: `hvs.count * classes` values, row-major by query. */
  scores(hvs: HVBatch, options?: PredictOptions): Float64Array {
    const o = checkOptions(options);
    this.#checkQueries(hvs);
    if (o.mode !== undefined && o.mode !== 'default' && o.mode !== 'tutorial') {
      throw rangeError(ErrorCode.OUT_OF_RANGE, `mode must be 'default' or 'tutorial', got ${String(o.mode)}`);
    }
    if (o.mode === 'tutorial') return this.#tutorialScores(hvs);
    // Checked for every readout, so a bad option is an error even where it would not be used.
    const metric = checkMetric(o.metric ?? this.metric);
    if (this.readout === 'nearest') return this.#nearestScores(hvs);
    return this.#summaryScores(hvs, metric);
  }

  // Scores against the class summaries: Hamming to the prototypes or cosine to the counters.
  #summaryScores(hvs: HVBatch, metric: Metric): Float64Array {
    const n = hvs.count;
    const c = this.classes;
    checkLimit(n * c, LIMITS.scores, `queries * classes (${n} * ${c}) scores`, 'score the batch in parts');
    const out = new Float64Array(n * c);
    if (metric === 'hamming') {
      const d = hammingMatrix(hvs, this.#prototypes());
      for (let i = 0; i < d.length; i++) out[i] = 1 - (d[i] as number) / this.dim;
      return out;
    }
    const norms = this.#normsOf();
    const qn = Math.sqrt(this.dim);
    const planes = this.#planesFor(n);
    if (planes) {
      // Same integer dot, same division: bit-identical to the dotCounters path below.
      planeScores(planes, hvs, this.dim, norms, qn, out);
      return out;
    }
    backend().dotCounters(hvs.data, n, this.#counters, c, this.dim, out);
    for (let r = 0; r < n; r++) {
      for (let k = 0; k < c; k++) {
        const nk = norms[k] as number;
        out[r * c + k] = nk > 0 ? (out[r * c + k] as number) / (qn * nk) : 0;
      }
    }
    return out;
  }

  /** The most similar class of each query (ties go to the class seen first). */
  predict(hvs: HVBatch, options?: PredictOptions): Label[] {
    const s = this.scores(hvs, options);
    const c = this.classes;
    return Array.from({ length: hvs.count }, (_, r) => this.#labels[argmax(s, r * c, c)] as Label);
  }

  /** The `k` most similar classes of each query, best first, with their scores. */
  predictTopK(hvs: HVBatch, k: number, options?: PredictOptions): { labels: Label[][]; scores: number[][] } {
    checkCount(k, 'k', this.classes);
    const s = this.scores(hvs, options);
    const c = this.classes;
    const labels: Label[][] = [];
    const scores: number[][] = [];
    for (let r = 0; r < hvs.count; r++) {
      const order = Array.from({ length: c }, (_, j) => j).sort(
        (a, b) => (s[r * c + b] as number) - (s[r * c + a] as number) || a - b,
      );
      labels.push(order.slice(0, k).map((j) => this.#labels[j] as Label));
      scores.push(order.slice(0, k).map((j) => s[r * c + j] as number));
    }
    return { labels, scores };
  }

  /** Fraction of `hvs` predicted as `labels`. */
  accuracy(hvs: HVBatch, labels: ArrayLike<Label>, options?: PredictOptions): number {
    this.#checkExamples(hvs, labels);
    const p = this.predict(hvs, options);
    let ok = 0;
    for (let i = 0; i < p.length; i++) if (p[i] === labels[i]) ok++;
    return p.length ? ok / p.length : 0;
  }

  /**
   * Error correction: repeatedly classify the training examples and move the counters of the
   * classes involved in each mistake or narrow win (see {@link RefineOptions}): online (default,
   * row by row in a seeded shuffled order) or batch (all of an epoch's updates at once). With a
   * validation set the state kept is the epoch with the highest validation accuracy, and
   * training stops after `patience` epochs without improvement; without one, `keep` decides.
   * Training also stops after an epoch with no update. Returns the history of the epochs run.
   */
  refine(hvs: HVBatch, labels: ArrayLike<Label>, options?: RefineOptions): RefineEpoch[] {
    const o = checkOptions(options);
    this.#checkExamples(hvs, labels);
    if (this.readout === 'nearest') {
      throw rangeError(
        ErrorCode.OUT_OF_RANGE,
        "refine corrects the class counters, which the 'nearest' readout does not use: refine a 'prototype' layer",
      );
    }
    const epochs = checkCount(o.epochs ?? DEFAULTS.epochs, 'epochs', 1e6);
    const rule = o.rule ?? 'adapt';
    if (rule !== 'adapt' && rule !== 'tutorial')
      throw rangeError(ErrorCode.OUT_OF_RANGE, `rule must be 'adapt' or 'tutorial', got ${String(rule)}`);
    const margin = o.margin ?? DEFAULTS.margin;
    if (typeof margin !== 'number' || !(margin >= 0 && margin <= 2))
      throw rangeError(ErrorCode.OUT_OF_RANGE, `margin must be in [0, 2], got ${String(margin)}`);
    const metric = checkMetric(o.metric ?? this.metric);
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
    const orderSeed = o.seed === undefined ? this.seed : checkSeed(o.seed);
    const patience = checkCount(o.patience ?? 3, 'patience', 1e6);
    const truth = Int32Array.from({ length: hvs.count }, (_, i) => this.#classOf(labels[i] as Label));
    const val = o.validation;
    if (val !== undefined) {
      if (val === null || typeof val !== 'object')
        throw typeError(`validation must be { hvs, labels }, got ${describe(val)}`);
      this.#checkExamples(val.hvs, val.labels);
    }
    if (o.onEpoch !== undefined && typeof o.onEpoch !== 'function')
      throw typeError(`onEpoch must be a function, got ${describe(o.onEpoch)}`);
    const settings = { epochs, rule, margin, metric, patience, keep, truth, val, onEpoch: o.onEpoch };
    // Both schedules move the counters in place; if anything throws mid-run (an onEpoch callback,
    // an exhausted allocation) the layer returns to the state it had on entry.
    const entry = this.#counters.slice();
    try {
      if (schedule === 'online') return this.#refineOnline(hvs, settings, orderSeed);
      return this.#refineBatch(hvs, settings);
    } catch (e) {
      this.#counters = entry;
      this.#changed();
      throw e;
    }
  }

  // The batch schedule: every update of an epoch computed from the scores at its start.
  #refineBatch(hvs: HVBatch, st: RefineSettings): RefineEpoch[] {
    const { epochs, rule, margin, metric, patience, truth, val } = st;
    const history: RefineEpoch[] = [];
    let best = val ? this.accuracy(val.hvs, val.labels, { metric }) : 0;
    let bestState: Int32Array | null = val ? this.#counters.slice() : null;
    let stale = 0;
    // Without a validation set, the state kept is the one with the fewest training errors (the
    // later one on ties, as margin updates keep improving a state with as few errors).
    let fewest = Number.POSITIVE_INFINITY;
    let fewestState: Int32Array | null = null;
    let unevaluated = false;
    const c = this.classes;
    const errorsNow = () => {
      const sc = this.scores(hvs, { metric });
      let e = 0;
      for (let i = 0; i < hvs.count; i++) if (argmax(sc, i * c, c) !== truth[i]) e++;
      return e;
    };
    // Cosine refinement of a training set that fits in memory keeps every example's integer dot
    // with every class up to date instead of rescoring all examples each epoch: adding example j
    // to a class adds dot(x_i, x_j) = dim - 2 hamming(x_i, x_j) to example i's dot with it, read
    // from the Gram matrix computed once. The dots are the same integers the scoring path computes
    // and the division is the same, so the epochs are bit-identical to rescoring, only faster.
    const n = hvs.count;
    const gram = metric === 'cosine' && n <= gramLimit ? gramMatrix(hvs) : null;
    // Class-major (dots[k * n + i]) so an update streams one Gram row into one class's dots.
    let dots: Float64Array | null = null;
    if (gram) {
      const byExample = new Float64Array(n * c);
      backend().dotCounters(hvs.data, n, this.#counters, c, this.dim, byExample);
      dots = new Float64Array(n * c);
      for (let i = 0; i < n; i++) for (let k = 0; k < c; k++) dots[k * n + i] = byExample[i * c + k] as number;
    }
    const qn = Math.sqrt(this.dim);
    const scoresNow = (): Float64Array => {
      if (!dots) return this.scores(hvs, { metric });
      const norms = this.#normsOf();
      const out = new Float64Array(n * c);
      for (let k = 0; k < c; k++) {
        const nk = norms[k] as number;
        for (let i = 0; i < n; i++) out[i * c + k] = nk > 0 ? (dots[k * n + i] as number) / (qn * nk) : 0;
      }
      return out;
    };
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const s = scoresNow();
      const plus: number[][] = Array.from({ length: c }, () => []);
      const minus: number[][] = Array.from({ length: c }, () => []);
      let errors = 0;
      let updates = 0;
      for (let i = 0; i < hvs.count; i++) {
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
      if (!val && errors <= fewest) {
        fewest = errors;
        fewestState = updates > 0 ? this.#counters.slice() : null;
      }
      if (updates > 0) {
        for (let k = 0; k < c; k++) {
          this.#addRows(k, hvs, plus[k] as number[], 1);
          this.#addRows(k, hvs, minus[k] as number[], -1);
          if (dots && gram) {
            // The Gram matrix is symmetric: row j holds dot(x_i, x_j) for every i, contiguously.
            const d = dots.subarray(k * n, (k + 1) * n);
            for (const j of plus[k] as number[]) {
              const g = gram.subarray(j * n, (j + 1) * n);
              for (let i = 0; i < n; i++) d[i] += g[i] as number;
            }
            for (const j of minus[k] as number[]) {
              const g = gram.subarray(j * n, (j + 1) * n);
              for (let i = 0; i < n; i++) d[i] -= g[i] as number;
            }
          }
        }
        this.#changed();
      }
      unevaluated = updates > 0;
      const record: RefineEpoch = { epoch, trainErrors: errors, updates };
      if (val) {
        const acc = this.accuracy(val.hvs, val.labels, { metric });
        record.validationAccuracy = acc;
        if (acc > best) {
          best = acc;
          bestState = this.#counters.slice();
          stale = 0;
        } else if (++stale >= patience) {
          history.push(record);
          st.onEpoch?.(record);
          break;
        }
      }
      history.push(record);
      st.onEpoch?.(record);
      if (updates === 0) break;
    }
    if (!val && st.keep === 'best' && unevaluated && fewestState && errorsNow() > fewest) bestState = fewestState;
    if (bestState) {
      this.#counters = bestState;
      this.#changed();
    }
    return history;
  }

  // The online schedule (lib/model/refine.ts): rows visited one at a time in epoch e's seeded order,
  // each update applied before the next row is scored; the dual engine while the Gram matrix
  // fits, else the backend's primal driver.
  #refineOnline(hvs: HVBatch, st: RefineSettings, seed: bigint): RefineEpoch[] {
    const { epochs, rule, margin, metric, patience, keep, truth, val } = st;
    const n = hvs.count;
    const c = this.classes;
    const history: RefineEpoch[] = [];
    let best = val ? this.accuracy(val.hvs, val.labels, { metric }) : 0;
    let bestState: Int32Array | null = val ? this.#counters.slice() : null;
    let stale = 0;
    let fewest = Number.POSITIVE_INFINITY;
    const trainErrorsNow = () => {
      const sc = this.scores(hvs, { metric });
      let e = 0;
      for (let i = 0; i < n; i++) if (argmax(sc, i * c, c) !== truth[i]) e++;
      return e;
    };
    if (!val && keep === 'best') {
      fewest = trainErrorsNow();
      bestState = this.#counters.slice();
    }
    const counters = this.#counters;
    const norms2 = squaredNorms(counters, c, this.dim);
    checkExactRange(counters, this.dim, n * epochs);
    // The dual engine only pays in TypeScript: natively, scoring one row against the counters
    // (SIMD, ~1-2 us at dim 10,000 and 10 classes) beats the dual update's 2n additions.
    const useDual = onlineEngine === 'dual' || (onlineEngine === 'auto' && n <= gramLimit && backend().name === 'js');
    const dual = useDual ? new DualEngine(hvs, counters, c) : null;
    const adapt = rule === 'adapt' ? 1 : 0;
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const e = { order: epochOrder(n, seed, epoch), margin, adapt } as const;
      const counts: OnlineCounts = dual
        ? dual.epoch(truth, counters, norms2, e)
        : primalEpoch(hvs, truth, counters, c, norms2, e);
      this.#changed();
      const record: RefineEpoch = { epoch, trainErrors: counts.errors, updates: counts.updates };
      history.push(record);
      let patient = true;
      if (val) {
        const acc = this.accuracy(val.hvs, val.labels, { metric });
        record.validationAccuracy = acc;
        if (acc > best) {
          best = acc;
          bestState = this.#counters.slice();
          stale = 0;
        } else patient = ++stale < patience;
      } else if (keep === 'best' && counts.updates > 0) {
        // Later epochs win ties, as margin updates keep improving a state with as few errors.
        const errs = trainErrorsNow();
        if (errs <= fewest) {
          fewest = errs;
          bestState = this.#counters.slice();
        }
      }
      st.onEpoch?.(record);
      if (!patient || counts.updates === 0) break;
    }
    if (bestState) {
      this.#counters = bestState;
      this.#changed();
    }
    return history;
  }

  /** The class vector of a label (tutorial mode): a random vector named after the label. */
  classVector(label: Label): Hypervector {
    checkLabel(label, 'label');
    return randomHV(this.dim, classKey(label), { seed: this.seed });
  }

  /**
   * The tutorial's single HIL vector: bundle over classes of bind(class vector, prototype).
   * `tie` defaults to the layer's rule; `'ones'` reproduces vsax.
   */
  symbolic(options?: { tie?: TieRule }): Hypervector {
    const o = checkOptions(options);
    if (this.classes === 0) throw new HdglueError(ErrorCode.UNKNOWN_LABEL, 'the layer has no classes yet');
    const protos = this.#prototypes();
    const terms = HVBatch.from(this.#labels.map((l, k) => bind(this.classVector(l), protos.row(k))));
    return bundle(terms, { tie: o.tie ?? this.tie, seed: this.seed });
  }

  /** An independent copy: counters, labels, counts and memory, exactly. */
  clone(): HIL {
    const m = this.toModel();
    return HIL.fromModel(m.header, new Uint8Array(m.section.buffer, m.section.byteOffset, m.section.byteLength));
  }

  /** Write the layer to a model file (atomically; see lib/io/model-file.ts for the format). */
  save(path: string): void {
    const m = this.toModel();
    writeFileAtomic(path, encodeModel({ kind: 'hdglue.HIL', hil: m.header }, [m.section]));
  }

  /**
   * Read a layer saved by {@link save}. A truncated, corrupted or foreign file is an
   * `ERR_HDGLUE_MODEL_FILE` error, a newer format `ERR_HDGLUE_MODEL_VERSION`.
   */
  static load(path: string): HIL {
    const f = readModelFile(path);
    const h = f.header as { kind?: unknown; hil?: HILHeader };
    if (h === null || typeof h !== 'object' || h.kind !== 'hdglue.HIL' || f.sections.length !== 1) {
      throw new HdglueError(ErrorCode.MODEL_FILE, `not an hdglue HIL file (kind ${String(h?.kind)})`);
    }
    return HIL.fromModel(h.hil as HILHeader, f.sections[0] as Uint8Array);
  }

  /**
   * The state as a model-file header and one section: the counters (classes x dim int32), then
   * for the nearest readout each stored example's class index (int32) and the stored rows. @internal
   */
  toModel(): { header: HILHeader; section: Int32Array } {
    const stride = 2 * wordsOf(this.dim);
    let section = this.#counters;
    if (this.readout === 'nearest') {
      section = new Int32Array(this.#counters.length + this.#stored * (1 + stride));
      section.set(this.#counters);
      section.set(this.#memoryClass.subarray(0, this.#stored), this.#counters.length);
      section.set(
        new Int32Array(this.#memory.buffer, this.#memory.byteOffset, this.#stored * stride),
        this.#counters.length + this.#stored,
      );
    }
    return {
      section,
      header: {
        dim: this.dim,
        seed: this.seed.toString(),
        tie: this.tie,
        metric: this.metric,
        labels: this.labels,
        counts: this.counts,
        ...(this.readout === 'nearest' ? { readout: this.readout, memory: this.#stored } : {}),
      },
    };
  }

  /** Rebuild from {@link toModel}'s output, validating it. @internal */
  static fromModel(h: HILHeader, counters: Uint8Array): HIL {
    if (h === null || typeof h !== 'object') throw new HdglueError(ErrorCode.MODEL_FILE, 'HIL header missing');
    if (typeof h.seed !== 'string' || !SEED_STRING.test(h.seed))
      throw new HdglueError(ErrorCode.MODEL_FILE, 'HIL seed is not a decimal string');
    if (typeof h.tie !== 'string' || typeof h.metric !== 'string') {
      throw new HdglueError(ErrorCode.MODEL_FILE, 'HIL tie and metric are missing');
    }
    if (!Array.isArray(h.labels) || !Array.isArray(h.counts) || h.labels.length !== h.counts.length) {
      throw new HdglueError(ErrorCode.MODEL_FILE, 'HIL labels and counts are missing or differ in length');
    }
    let hil: HIL;
    try {
      hil = new HIL({
        dim: h.dim,
        seed: BigInt(h.seed),
        tie: h.tie,
        metric: h.metric,
        readout: h.readout ?? 'prototype',
      });
      for (const [i, l] of h.labels.entries()) checkLabel(l, `labels[${i}]`);
    } catch (e) {
      throw new HdglueError(ErrorCode.MODEL_FILE, `invalid HIL header: ${(e as Error).message}`);
    }
    if (new Set(h.labels).size !== h.labels.length) throw new HdglueError(ErrorCode.MODEL_FILE, 'HIL labels repeat');
    if (h.labels.length > LIMITS.classes || h.labels.length * hil.dim > LIMITS.counters) {
      throw new HdglueError(
        ErrorCode.MODEL_FILE,
        `HIL has ${h.labels.length} classes of dim ${hil.dim}, above the limits`,
      );
    }
    const stored = h.memory ?? 0;
    if (!Number.isSafeInteger(stored) || stored < 0 || (stored > 0 && hil.readout !== 'nearest')) {
      throw new HdglueError(ErrorCode.MODEL_FILE, `HIL memory count ${String(h.memory)} is invalid`);
    }
    // The nearest readout stores exactly the examples it counts (partialFit, forget and
    // removeClass change both together), so the totals must agree; per class is checked below.
    const total = Array.isArray(h.counts) ? h.counts.reduce((a: number, b: unknown) => a + Number(b), 0) : Number.NaN;
    if (hil.readout === 'nearest' && stored !== total) {
      throw new HdglueError(
        ErrorCode.MODEL_FILE,
        `HIL memory holds ${stored} examples but the counts add up to ${String(total)}`,
      );
    }
    const stride = 2 * wordsOf(hil.dim);
    const want = (h.labels.length * hil.dim + stored * (1 + stride)) * 4;
    if (counters.byteLength !== want) {
      throw new HdglueError(ErrorCode.MODEL_FILE, `HIL section has ${counters.byteLength} bytes, expected ${want}`);
    }
    hil.#labels = h.labels.slice();
    for (const [i, l] of h.labels.entries()) hil.#index.set(l, i);
    if (!h.counts.every((n) => Number.isSafeInteger(n) && n >= 0)) {
      throw new HdglueError(ErrorCode.MODEL_FILE, 'HIL counts must be non-negative integers');
    }
    hil.#counts = h.counts.slice();
    const words = new Int32Array(counters.byteLength / 4);
    new Uint8Array(words.buffer).set(counters);
    const nc = h.labels.length * hil.dim;
    hil.#counters = words.slice(0, nc);
    if (stored > 0) {
      const cls = words.slice(nc, nc + stored);
      if (!cls.every((k) => k >= 0 && k < h.labels.length)) {
        throw new HdglueError(ErrorCode.MODEL_FILE, 'HIL memory names a class that does not exist');
      }
      const perClass = new Array<number>(h.labels.length).fill(0);
      for (const k of cls) perClass[k] = (perClass[k] as number) + 1;
      if (perClass.some((c, k) => c !== h.counts[k])) {
        throw new HdglueError(ErrorCode.MODEL_FILE, "HIL memory does not hold each class's counted examples");
      }
      const rows = new Uint32Array(words.buffer, (nc + stored) * 4, stored * stride).slice();
      try {
        checkPacked(rows, hil.dim, stored, 'HIL memory');
      } catch (e) {
        throw new HdglueError(ErrorCode.MODEL_FILE, `invalid HIL memory: ${(e as Error).message}`);
      }
      hil.#memory = rows;
      hil.#memoryClass = cls;
      hil.#stored = stored;
    }
    return hil;
  }

  #tutorialScores(hvs: HVBatch): Float64Array {
    // bind(HIL, query) then similarity to each class vector, as the seed's query_hil does.
    const probe = bind(hvs, this.symbolic());
    const classes = HVBatch.from(
      this.#labels.map((l) => this.classVector(l)),
      this.dim,
    );
    const d = hammingMatrix(probe, classes);
    return Float64Array.from(d, (v) => 1 - v / this.dim);
  }

  #prototypes(): HVBatch {
    if (!this.#protos) {
      const out = new HVBatch(this.dim, this.classes);
      backend().threshold(this.#counters, this.classes, this.dim, tieData(this.dim, this.tie, this.seed), out.data);
      this.#protos = out;
    }
    return this.#protos;
  }

  #normsOf(): Float64Array {
    // The square roots of the online schedule's squared norms: one summation, so both agree.
    if (!this.#norms) this.#norms = squaredNorms(this.#counters, this.classes, this.dim).map(Math.sqrt);
    return this.#norms;
  }

  #changed(): void {
    this.#protos = null;
    this.#norms = null;
    this.#planes = null;
    this.#unplanned = 0;
  }

  /**
   * The bit planes to score `n` more queries with, or null to use dotCounters. Building the
   * planes costs about as much as scoring PLANE_BREAK_EVEN queries the reference way, so
   * they are built once that many queries have been (or are about to be) scored since the
   * counters last changed: a batch that large (a refine epoch over that many examples) builds
   * at once, smaller refits keep today's cost, and a trickle of single queries after
   * partialFit pays at most about twice the cheaper choice.
   */
  #planesFor(n: number): Planes | null {
    if (this.#planes) return this.#planes.exact ? this.#planes : null;
    this.#unplanned += n;
    if (this.#unplanned < PLANE_BREAK_EVEN) return null;
    this.#planes = buildPlanes(this.#counters, this.classes, this.dim);
    return this.#planes.exact ? this.#planes : null;
  }

  #classOf(label: Label): number {
    const k = this.#index.get(label);
    if (k === undefined) {
      throw new HdglueError(
        ErrorCode.UNKNOWN_LABEL,
        `${JSON.stringify(label)} is not a class of this layer (classes: ${this.#labels.map((l) => JSON.stringify(l)).join(', ') || 'none'})`,
      );
    }
    return k;
  }

  #addClasses(labels: Label[]): void {
    const classes = this.classes + labels.length;
    checkLimit(classes, LIMITS.classes, 'the number of classes');
    checkLimit(classes * this.dim, LIMITS.counters, `classes * dim (${classes} * ${this.dim}) counters`);
    const grown = new Int32Array((this.classes + labels.length) * this.dim);
    grown.set(this.#counters);
    this.#counters = grown;
    for (const label of labels) {
      // -0 and 0 are one class (Map keys agree); store 0 so that saving to JSON keeps it.
      const l = label === 0 ? 0 : label;
      this.#index.set(l, this.#labels.length);
      this.#labels.push(l);
      this.#counts.push(0);
    }
    this.#changed();
  }

  #deleteClass(k: number): void {
    const next = new Int32Array((this.classes - 1) * this.dim);
    next.set(this.#counters.subarray(0, k * this.dim));
    next.set(this.#counters.subarray((k + 1) * this.dim), k * this.dim);
    this.#counters = next;
    this.#labels.splice(k, 1);
    this.#counts.splice(k, 1);
    if (this.#stored > 0) {
      const keep: number[] = [];
      for (let r = 0; r < this.#stored; r++) if (this.#memoryClass[r] !== k) keep.push(r);
      this.#keepStored(keep);
      for (let r = 0; r < this.#stored; r++) if ((this.#memoryClass[r] as number) > k) this.#memoryClass[r]--;
    }
    this.#index.clear();
    for (const [i, l] of this.#labels.entries()) this.#index.set(l, i);
    this.#changed();
  }

  // Adds (sign 1) or subtracts (-1) every example into its class's counters, class by class.
  #accumulate(hvs: HVBatch, labels: ArrayLike<Label>, sign: 1 | -1): void {
    const rows: number[][] = Array.from({ length: this.classes }, () => []);
    for (let i = 0; i < hvs.count; i++) rows[this.#classOf(labels[i] as Label)]?.push(i);
    for (let k = 0; k < this.classes; k++) {
      const r = rows[k] as number[];
      this.#addRows(k, hvs, r, sign);
      this.#counts[k] = (this.#counts[k] as number) + sign * r.length;
    }
    this.#changed();
  }

  #addRows(k: number, hvs: HVBatch, rows: number[], sign: 1 | -1): void {
    if (rows.length === 0) return;
    const stride = 2 * wordsOf(this.dim);
    // Gathered in chunks, so a fit of a million rows never copies more than ADD_CHUNK of them;
    // the counters' sums are the same however the rows are grouped (integer adds).
    const chunk = Math.min(rows.length, ADD_CHUNK);
    const gathered = new Uint32Array(chunk * stride);
    const weights = sign === 1 ? null : new Int32Array(chunk).fill(-1);
    const target = this.#counters.subarray(k * this.dim, (k + 1) * this.dim);
    for (let at = 0; at < rows.length; at += chunk) {
      const m = Math.min(chunk, rows.length - at);
      for (let j = 0; j < m; j++) {
        const r = rows[at + j] as number;
        gathered.set(hvs.data.subarray(r * stride, (r + 1) * stride), j * stride);
      }
      backend().accAdd(target, this.dim, gathered.subarray(0, m * stride), m, weights ? weights.subarray(0, m) : null);
    }
  }

  // Appends examples to the nearest readout's memory (capacity doubles, so n appends cost O(n)).
  #remember(hvs: HVBatch, labels: ArrayLike<Label>): void {
    const stride = 2 * wordsOf(this.dim);
    const need = this.#stored + hvs.count;
    if (need * stride > this.#memory.length) {
      const cap = Math.max(need, 2 * this.#memoryClass.length, 16);
      const grown = new Uint32Array(cap * stride);
      grown.set(this.#memory.subarray(0, this.#stored * stride));
      const cls = new Int32Array(cap);
      cls.set(this.#memoryClass.subarray(0, this.#stored));
      this.#memory = grown;
      this.#memoryClass = cls;
    }
    this.#memory.set(hvs.data.subarray(0, hvs.count * stride), this.#stored * stride);
    for (let i = 0; i < hvs.count; i++) this.#memoryClass[this.#stored + i] = this.#classOf(labels[i] as Label);
    this.#stored = need;
  }

  // The stored rows equal to each example (one distinct row per example), or an error naming
  // the first example that is not in memory; changes nothing.
  #storedRowsOf(hvs: HVBatch, labels: ArrayLike<Label>): Set<number> {
    const stride = 2 * wordsOf(this.dim);
    const taken = new Set<number>();
    for (let i = 0; i < hvs.count; i++) {
      const k = this.#classOf(labels[i] as Label);
      const row = hvs.data.subarray(i * stride, (i + 1) * stride);
      let found = -1;
      for (let r = 0; r < this.#stored && found < 0; r++) {
        if (this.#memoryClass[r] !== k || taken.has(r)) continue;
        const at = r * stride;
        let same = true;
        for (let w = 0; w < stride && same; w++) same = this.#memory[at + w] === row[w];
        if (same) found = r;
      }
      if (found < 0) {
        throw rangeError(
          ErrorCode.OUT_OF_RANGE,
          `example ${i} (class ${JSON.stringify(labels[i])}) is not in the layer's memory: only learnt examples can be forgotten`,
        );
      }
      taken.add(found);
    }
    return taken;
  }

  #dropStored(rows: Set<number>): void {
    const keep: number[] = [];
    for (let r = 0; r < this.#stored; r++) if (!rows.has(r)) keep.push(r);
    this.#keepStored(keep);
  }

  // Keeps the given stored rows (ascending), in order.
  #keepStored(keep: number[]): void {
    const stride = 2 * wordsOf(this.dim);
    keep.forEach((r, i) => {
      if (r !== i) {
        this.#memory.copyWithin(i * stride, r * stride, (r + 1) * stride);
        this.#memoryClass[i] = this.#memoryClass[r] as number;
      }
    });
    this.#memory.fill(0, keep.length * stride, this.#stored * stride);
    this.#stored = keep.length;
  }

  // Each class's score is the Hamming similarity of its nearest stored example (0 for a class
  // with none), from one Hamming-matrix scan per chunk of queries.
  #nearestScores(hvs: HVBatch): Float64Array {
    const c = this.classes;
    const out = new Float64Array(hvs.count * c);
    const n = this.#stored;
    if (n === 0) return out;
    const stride = 2 * wordsOf(this.dim);
    const memory = new HVBatch(this.dim, n, this.#memory.subarray(0, n * stride));
    const chunk = Math.max(1, Math.floor((1 << 22) / n));
    const best = new Int32Array(c);
    for (let q0 = 0; q0 < hvs.count; q0 += chunk) {
      const q1 = Math.min(hvs.count, q0 + chunk);
      const d = hammingMatrix(hvs.slice(q0, q1), memory);
      for (let q = q0; q < q1; q++) {
        const at = (q - q0) * n;
        best.fill(this.dim + 1);
        for (let r = 0; r < n; r++) {
          const k = this.#memoryClass[r] as number;
          const v = d[at + r] as number;
          if (v < (best[k] as number)) best[k] = v;
        }
        for (let k = 0; k < c; k++) {
          const b = best[k] as number;
          out[q * c + k] = b > this.dim ? 0 : 1 - b / this.dim;
        }
      }
    }
    return out;
  }

  #checkQueries(hvs: HVBatch): void {
    checkBatch(hvs, 'hvs');
    checkSameDim(hvs.dim, this.dim, 'HIL');
    if (this.classes === 0)
      throw new HdglueError(ErrorCode.UNKNOWN_LABEL, 'the layer has no classes yet: fit it first');
  }

  #checkExamples(hvs: HVBatch, labels: ArrayLike<Label>): void {
    checkBatch(hvs, 'hvs');
    checkSameDim(hvs.dim, this.dim, 'HIL');
    if (labels === null || typeof labels !== 'object' || typeof labels.length !== 'number') {
      throw typeError(`labels must be an array of numbers or strings, got ${describe(labels)}`);
    }
    if (labels.length !== hvs.count)
      throw rangeError(ErrorCode.SHAPE, `${hvs.count} examples but ${labels.length} labels`);
    for (let i = 0; i < labels.length; i++) checkLabel(labels[i], `labels[${i}]`);
  }
}

/**
 * Queries after which building the bit planes has paid for itself against dotCounters. At
 * dim 10,000 with 10 classes of 11 planes the build takes ~2 ms in either backend, about what
 * the native dotCounters spends on 300-400 queries (the TypeScript one on ~70): both sides
 * scale with classes * dim, so one count serves every shape.
 */
const PLANE_BREAK_EVEN = 256;

/**
 * Largest training set whose Gram matrix (n x n int32) refine keeps to update scores
 * incrementally: 4,096 examples take 64 MiB (plus n x classes x 16 bytes of dots). Larger sets
 * are rescored every epoch instead.
 */
let gramLimit = 4096;

/** Rows gathered per accAdd call when adding examples to a class (bounds the copy at any n). */
const ADD_CHUNK = 4096;

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
 * The counters in a form a Hamming kernel can score exactly. With m_k the smallest counter of
 * class k, u_i = c_i - m_k >= 0 is split into bit planes (plane p holds bit p of every u_i),
 * stacked for all classes and followed by one all-zero row. For a query q with |q| set bits,
 * each counter weighing +1 where q's bit is 0 and -1 where it is 1,
 *
 *   dot(q, c_k) = sum_p 2^p * hamming(q, plane_kp) - |q| * sum_p 2^p + m_k * (dim - 2|q|),
 *
 * because a 0/1 plane gives sum_i p_i (1 - 2 q_i) = |p| - 2|p AND q| = hamming(q, p) - |q|,
 * and |q| = hamming(q, zero row). So one hammingMxN call (the fastest kernel, SIMD and threaded
 * natively) against the planes replaces dotCounters' scan of every counter. An all-zero plane
 * adds nothing to either sum, so it is left out: that always drops plane 0, since learning adds
 * or removes whole examples and so every counter of a class has the same parity.
 */
interface Planes {
  /** Plane rows plus the zero row (the last one). */
  rows: number;
  /** rows * 2W Uint32 entries, zero-padded like any hypervector. */
  data: Uint32Array;
  /** Class k's planes are rows first[k] .. first[k + 1] - 1. */
  first: Int32Array;
  /** 2^p of each plane row. */
  weight: Float64Array;
  /** Per class: -(sum of its planes' weights) - 2 m_k, the coefficient of |q|. */
  perPop: Float64Array;
  /** Per class: m_k * dim. */
  constant: Float64Array;
  /**
   * Every intermediate value is an integer below 2^53 in magnitude, so the double arithmetic is
   * exact and the result is the very number dotCounters returns. Only counters far beyond any
   * training run (|c| near 2^31 at dim near 2^24) fail this; they are scored by dotCounters.
   */
  exact: boolean;
}

function buildPlanes(counters: Int32Array, classes: number, dim: number): Planes {
  const stride = 2 * wordsOf(dim);
  const first = new Int32Array(classes + 1);
  const mins = new Int32Array(classes);
  const used = new Float64Array(classes);
  const perPop = new Float64Array(classes);
  const constant = new Float64Array(classes);
  let exact = true;
  for (let k = 0; k < classes; k++) {
    const end = (k + 1) * dim;
    let lo = 0x7fffffff;
    for (let i = k * dim; i < end; i++) if ((counters[i] as number) < lo) lo = counters[i] as number;
    // OR of every u_i: its set bits are the non-empty planes. u < 2^32, so the int32 wrap of
    // (c - lo) | 0 keeps all its bits (and lets the JIT stay in integer arithmetic).
    let any = 0;
    for (let i = k * dim; i < end; i++) any |= ((counters[i] as number) - lo) | 0;
    const bits = any >>> 0;
    first[k + 1] = (first[k] as number) + popcount32(bits);
    mins[k] = lo;
    used[k] = bits;
    perPop[k] = -bits - 2 * lo;
    constant[k] = lo * dim;
    // Bounds of the running sum in planeDots: the plane sum <= dim * bits, |q| * perPop
    // <= dim (bits + 2|m|), the constant <= dim |m|.
    if (dim * (2 * bits + 3 * Math.abs(lo)) > 2 ** 53) exact = false;
  }
  const planes = first[classes] as number;
  const rows = planes + 1;
  const weight = new Float64Array(planes);
  if (!exact) return { rows, data: new Uint32Array(0), first, weight, perPop, constant, exact };
  const data = new Uint32Array(rows * stride);
  // Plane b is the sign of u << (31 - b), so the threshold kernel (c < 0 -> 1; a zero counter
  // means bit b is 0, hence no tie vector) packs a whole class's planes in one call.
  let scratch = new Int32Array(0);
  for (let k = 0; k < classes; k++) {
    const bits = used[k] as number;
    const row = first[k] as number;
    const count = (first[k + 1] as number) - row;
    if (count === 0) continue;
    if (scratch.length < count * dim) scratch = new Int32Array(count * dim);
    const cb = k * dim;
    const m = mins[k] as number;
    for (let b = 0, p = 0; b < 32; b++) {
      if (((bits >>> b) & 1) === 0) continue;
      weight[row + p] = 2 ** b;
      const shift = 31 - b;
      const at = p++ * dim;
      for (let i = 0; i < dim; i++) scratch[at + i] = (((counters[cb + i] as number) - m) | 0) << shift;
    }
    backend().threshold(scratch, count, dim, null, data.subarray(row * stride, (row + count) * stride));
  }
  return { rows, data, first, weight, perPop, constant, exact };
}

/**
 * out[r * C + k] = dot(query r, counters k) / (qn * norms[k]), or 0 for a zero class, with the
 * dot exactly the number dotCounters returns (see Planes).
 */
function planeScores(p: Planes, hvs: HVBatch, dim: number, norms: Float64Array, qn: number, out: Float64Array): void {
  const words = wordsOf(dim);
  const stride = 2 * words;
  const { rows, first, weight, perPop, constant } = p;
  const classes = perPop.length;
  // Chunks of queries keep the distance matrix near 4 MiB however many queries come in.
  const chunk = Math.max(1, Math.floor((1 << 20) / rows));
  const ham = new Uint32Array(Math.min(chunk, hvs.count) * rows);
  for (let r0 = 0; r0 < hvs.count; r0 += chunk) {
    const n = Math.min(chunk, hvs.count - r0);
    backend().hammingMxN(hvs.data.subarray(r0 * stride, (r0 + n) * stride), n, p.data, rows, words, ham);
    for (let j = 0; j < n; j++) {
      const o = j * rows;
      const pop = ham[o + rows - 1] as number;
      const at = (r0 + j) * classes;
      let q = first[0] as number;
      for (let k = 0; k < classes; k++) {
        // Integer products and sums below 2^53 (Planes.exact): every step is exact.
        let s = 0;
        for (const end = first[k + 1] as number; q < end; q++) s += (weight[q] as number) * (ham[o + q] as number);
        const nk = norms[k] as number;
        out[at + k] = nk > 0 ? (s + pop * (perPop[k] as number) + (constant[k] as number)) / (qn * nk) : 0;
      }
    }
  }
}

function checkLabel(l: unknown, what: string): asserts l is Label {
  if (typeof l === 'string') return;
  if (typeof l === 'number' && Number.isFinite(l)) return;
  throw typeError(
    `${what} must be a finite number or a string, got ${typeof l === 'number' ? String(l) : describe(l)}`,
  );
}

function checkReadout(r: unknown): Readout {
  if (r === 'prototype' || r === 'nearest') return r;
  throw rangeError(ErrorCode.OUT_OF_RANGE, `readout must be 'prototype' or 'nearest', got ${String(r)}`);
}

function checkMetric(m: unknown): Metric {
  if (m === 'cosine' || m === 'hamming') return m;
  throw rangeError(ErrorCode.OUT_OF_RANGE, `metric must be 'cosine' or 'hamming', got ${String(m)}`);
}

/** Name of a label's class vector: numbers and strings never collide. */
function classKey(l: Label): string {
  return typeof l === 'number' ? `class/n/${l}` : `class/s/${l}`;
}

function argmax(s: Float64Array, at: number, c: number): number {
  let best = 0;
  for (let k = 1; k < c; k++) if ((s[at + k] as number) > (s[at + best] as number)) best = k;
  return best;
}

function argmaxExcept(s: Float64Array, at: number, c: number, skip: number): number {
  let best = -1;
  for (let k = 0; k < c; k++)
    if (k !== skip && (best < 0 || (s[at + k] as number) > (s[at + best] as number))) best = k;
  return best;
}
