/**
 * The Hyperdimensional Inference Layer (HIL): one member's classifier in hypervector form.
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
 *
 * The parts live beside this file: the options and their checks (hil-options.ts), the
 * nearest readout's memory (memory.ts), the bit-plane scorer (planes.ts), the tutorial algebra
 * (tutorial.ts), error correction (refine.ts, refine-online.ts) and the model-file codec
 * (hil-codec.ts).
 */

import { Accumulators } from '../core/accumulators.js';
import { HVBatch, type Hypervector } from '../core/hv.js';
import { checkBatch, hammingMatrix, type TieRule } from '../core/ops.js';
import { ErrorCode, HdglueError, rangeError, typeError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { encodeModel, readModelFile } from '../io/model-file.js';
import type { Label } from '../label.js';
import { checkCount, checkLimit, checkOptions, checkSameDim, describe, LIMITS, wordsOf } from '../validate.js';
import { argmax } from './argmax.js';
import { decodeHIL, encodeHIL, type HILHeader, type HILState } from './hil-codec.js';
import {
  checkHILOptions,
  checkLabel,
  checkMetric,
  type HILOptions,
  type Metric,
  type PredictOptions,
  type Readout,
} from './hil-options.js';
import { Memory } from './memory.js';
import { PlaneCache, planeScores } from './planes.js';
import { type RefineEpoch, type RefineLayer, type RefineOptions, refineLayer } from './refine.js';
import { squaredNorms } from './refine-online.js';
import { classVector, symbolicVector, tutorialScores } from './tutorial.js';

// The layer's public types, declared beside the parts that use them.
export type { HILOptions, Metric, PredictOptions, Readout } from './hil-options.js';
export type { RefineEpoch, RefineOptions } from './refine.js';

/** Rows gathered per accumulator call when adding examples to a class (bounds the copy at any n). */
const ADD_CHUNK = 4096;

/** One member's classifier over hypervectors; see the module description. */
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
  #index = new Map<Label, number>();
  #counts: number[] = [];
  // One counter row per class, in label order; replaced (not resized) when classes come or go.
  #acc: Accumulators;
  // The nearest readout's stored examples (always empty with the prototype readout).
  #memory: Memory;
  // Derived from the counters, dropped by #changed whenever they change.
  #protos: HVBatch | null = null;
  #norms: Float64Array | null = null;
  readonly #planes = new PlaneCache();

  /** @param options - see {@link HILOptions} */
  constructor(options: HILOptions) {
    const s = checkHILOptions(options);
    this.dim = s.dim;
    this.seed = s.seed;
    this.tie = s.tie;
    this.metric = s.metric;
    this.readout = s.readout;
    this.#acc = new Accumulators(this.dim, 0);
    this.#memory = new Memory(this.dim);
  }

  /** Examples stored for the nearest readout (0 with the prototype readout). */
  get stored(): number {
    return this.#memory.stored;
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
    return this.#acc.counters.slice(k * this.dim, (k + 1) * this.dim);
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
    this.#acc = new Accumulators(this.dim, 0);
    this.#memory.clear();
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
    const classes = this.#classesOf(labels);
    this.#accumulate(hvs, classes, 1);
    if (this.readout === 'nearest') this.#memory.remember(hvs, classes);
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
    const classes = this.#classesOf(labels);
    const removing = new Array<number>(this.classes).fill(0);
    for (const k of classes) removing[k] = (removing[k] as number) + 1;
    removing.forEach((r, k) => {
      if (r > (this.#counts[k] as number)) {
        throw rangeError(
          ErrorCode.OUT_OF_RANGE,
          `cannot forget ${r} examples of ${JSON.stringify(this.#labels[k])}: only ${this.#counts[k]} were added`,
        );
      }
    });
    // The nearest readout must find every example in its memory before anything changes.
    const drop = this.readout === 'nearest' ? this.#memory.find(hvs, labels, classes) : null;
    this.#accumulate(hvs, classes, -1);
    if (drop) this.#memory.drop(drop);
    const counters = this.#acc.counters;
    for (let k = this.classes - 1; k >= 0; k--) {
      if (this.#counts[k] === 0 && counters.subarray(k * this.dim, (k + 1) * this.dim).every((c) => c === 0)) {
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
    if (o.mode === 'tutorial') return tutorialScores(this, this.#labels, this.symbolic(), hvs);
    // Checked for every readout, so a bad option is an error even where it would not be used.
    const metric = checkMetric(o.metric ?? this.metric);
    if (this.readout === 'nearest') return this.#memory.scores(hvs, this.classes);
    return this.#summaryScores(hvs, metric);
  }

  // Scores against the class summaries: Hamming to the prototypes or cosine to the counters.
  #summaryScores(hvs: HVBatch, metric: Metric): Float64Array {
    const n = hvs.count;
    const c = this.classes;
    checkLimit(n * c, LIMITS.scores, `queries * classes (${n} * ${c}) scores`, 'score the batch in parts');
    if (metric === 'hamming') {
      const out = new Float64Array(n * c);
      const d = hammingMatrix(hvs, this.#prototypes());
      for (let i = 0; i < d.length; i++) out[i] = 1 - (d[i] as number) / this.dim;
      return out;
    }
    const norms = this.#normsOf();
    const qn = Math.sqrt(this.dim);
    const planes = this.#planes.planesFor(n, this.#acc.counters, c, this.dim);
    if (planes) {
      // Same integer dot, same division: bit-identical to the dot path below.
      const out = new Float64Array(n * c);
      planeScores(planes, hvs, this.dim, norms, qn, out);
      return out;
    }
    const out = this.#acc.dot(hvs);
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
    return refineLayer(this.#refined(), hvs, labels, o);
  }

  // The layer as refine sees it: its counters and scoring, its state still private.
  #refined(): RefineLayer {
    return {
      dim: this.dim,
      seed: this.seed,
      metric: this.metric,
      classes: this.classes,
      accumulators: () => this.#acc,
      restore: (state) => {
        this.#acc = new Accumulators(this.dim, state.length / this.dim, state);
        this.#changed();
      },
      changed: () => this.#changed(),
      addRows: (k, hvs, rows, sign) => this.#addRows(k, hvs, rows, sign),
      norms: () => this.#normsOf(),
      scores: (hvs, metric) => this.scores(hvs, { metric }),
      accuracy: (hvs, labels, metric) => this.accuracy(hvs, labels, { metric }),
      classesOf: (labels) => this.#classesOf(labels),
      checkExamples: (hvs, labels) => this.#checkExamples(hvs, labels),
    };
  }

  /** The class vector of a label (tutorial mode): a random vector named after the label. */
  classVector(label: Label): Hypervector {
    checkLabel(label, 'label');
    return classVector(this, label);
  }

  /**
   * The tutorial's single HIL vector: bundle over classes of bind(class vector, prototype).
   * `tie` defaults to the layer's rule; `'ones'` reproduces vsax.
   */
  symbolic(options?: { tie?: TieRule }): Hypervector {
    const o = checkOptions(options);
    if (this.classes === 0) throw new HdglueError(ErrorCode.UNKNOWN_LABEL, 'the layer has no classes yet');
    return symbolicVector(this, this.#labels, this.#prototypes(), o.tie ?? this.tie);
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
    return encodeHIL({
      settings: this,
      labels: this.#labels,
      counts: this.#counts,
      counters: this.#acc.counters,
      memory: this.#memory,
    });
  }

  /** Rebuild from {@link toModel}'s output, validating it. @internal */
  static fromModel(h: HILHeader, counters: Uint8Array): HIL {
    const s: HILState = decodeHIL(h, counters);
    const hil = new HIL(s.settings);
    hil.#labels = s.labels;
    for (const [i, l] of s.labels.entries()) hil.#index.set(l, i);
    hil.#counts = s.counts;
    hil.#acc = new Accumulators(hil.dim, s.labels.length, s.counters);
    hil.#memory = s.memory;
    return hil;
  }

  #prototypes(): HVBatch {
    if (!this.#protos) this.#protos = this.#acc.threshold({ tie: this.tie, seed: this.seed });
    return this.#protos;
  }

  #normsOf(): Float64Array {
    // The square roots of the online schedule's squared norms: one summation, so both agree.
    if (!this.#norms) this.#norms = squaredNorms(this.#acc.counters, this.classes, this.dim).map(Math.sqrt);
    return this.#norms;
  }

  #changed(): void {
    this.#protos = null;
    this.#norms = null;
    this.#planes.reset();
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

  // The class index of every label, or the error naming the first unknown one.
  #classesOf(labels: ArrayLike<Label>): Int32Array {
    return Int32Array.from({ length: labels.length }, (_, i) => this.#classOf(labels[i] as Label));
  }

  #addClasses(labels: Label[]): void {
    const classes = this.classes + labels.length;
    checkLimit(classes, LIMITS.classes, 'the number of classes');
    checkLimit(classes * this.dim, LIMITS.counters, `classes * dim (${classes} * ${this.dim}) counters`);
    const grown = new Int32Array(classes * this.dim);
    grown.set(this.#acc.counters);
    this.#acc = new Accumulators(this.dim, classes, grown);
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
    const counters = this.#acc.counters;
    const next = new Int32Array((this.classes - 1) * this.dim);
    next.set(counters.subarray(0, k * this.dim));
    next.set(counters.subarray((k + 1) * this.dim), k * this.dim);
    this.#acc = new Accumulators(this.dim, this.classes - 1, next);
    this.#labels.splice(k, 1);
    this.#counts.splice(k, 1);
    this.#memory.dropClass(k);
    this.#index.clear();
    for (const [i, l] of this.#labels.entries()) this.#index.set(l, i);
    this.#changed();
  }

  // Adds (sign 1) or subtracts (-1) every example into its class's counters, class by class.
  #accumulate(hvs: HVBatch, classes: Int32Array, sign: 1 | -1): void {
    const rows: number[][] = Array.from({ length: this.classes }, () => []);
    for (let i = 0; i < hvs.count; i++) rows[classes[i] as number]?.push(i);
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
    for (let at = 0; at < rows.length; at += chunk) {
      const m = Math.min(chunk, rows.length - at);
      for (let j = 0; j < m; j++) {
        const r = rows[at + j] as number;
        gathered.set(hvs.data.subarray(r * stride, (r + 1) * stride), j * stride);
      }
      const batch = new HVBatch(this.dim, m, gathered.subarray(0, m * stride));
      if (sign === 1) this.#acc.add(k, batch);
      else this.#acc.subtract(k, batch);
    }
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
