/**
 * HD-Glue: the consensus of several networks, each a member with its own encoder (its
 * embeddings may have any width and range), its own HIL and a weight. Members can be added,
 * re-weighted and removed at run time, and a prediction uses whichever members' inputs are
 * present. How the members' scores become one label is lib/model/consensus.ts; the model file is
 * lib/model/glue-codec.ts.
 */

import { HVBatch } from '../core/hv.js';
import { concat, type TieRule } from '../core/ops.js';
import { type Embedding, type EmbeddingMatrix, pickRows, toMatrix, toRow } from '../encode/embeddings.js';
import { type Encoder, isEncoder } from '../encode/registry.js';
import { ErrorCode, HdglueError, rangeError, typeError } from '../errors.js';
import type { Label } from '../label.js';
import { stratifiedSample } from '../split.js';
import { checkCount, checkLimit, checkOptions, checkSeed, describe, LIMITS, refuseRenamed } from '../validate.js';
import {
  type Ballot,
  type Consensus,
  checkConsensus,
  concatLabels,
  type Explanation,
  explainVote,
  fitJoint,
  type JointLayer,
  requireAll,
  tutorialLabels,
  voteLabels,
} from './consensus.js';
import { type LoadOptions, readGlue, writeGlue } from './glue-codec.js';
import { HIL, type PredictOptions, type RefineOptions } from './hil.js';
import { type OnnxSourceSpec, withoutSource } from './onnx-source.js';
import { checkEpochs, checkMargin } from './refine.js';
import type { RecipeName, TuneResult } from './tuning-record.js';

/** Embeddings per member name: a batch (row-major typed array or array of rows) for each present member. */
export type GlueInputs = Record<string, EmbeddingMatrix>;

/** Options of {@link HDGlue}. */
export interface HDGlueOptions {
  /** Default consensus; `'vote'`. */
  consensus?: Consensus;
  /** Seed of the member vectors (tutorial consensus); default 0. */
  seed?: number | bigint;
  /** Tie rule of the tutorial consensus's bundles; default `'tiebreak'`, `'ones'` is vsax's. */
  tie?: TieRule;
}

interface Member {
  encoder: Encoder;
  hil: HIL;
  weight: number;
}

/** Options of {@link HDGlue.learn}. */
export interface LearnOptions {
  /**
   * Old labelled rows to replay beside the new ones (same members as the new inputs); a seeded
   * stratified sample of `size` of them (default: as many as there are new rows) is used.
   */
  replay?: { inputs: GlueInputs; labels: readonly Label[]; size?: number };
  /** Online correction epochs over the new rows and the replay; default the default recipe's. 0: partialFit only. */
  epochs?: number;
  /** Margin of the correction; default the default recipe's. */
  margin?: number;
  /** Seed of the replay sample and of the correction's visiting order; default 0. */
  seed?: number;
}

// Option names of this class before the vocabulary became member and consensus.
const RENAMED = { strategy: 'consensus' } as const;

/** The consensus over members; see the module description. */
export class HDGlue {
  /** Default consensus. */
  readonly consensus: Consensus;
  /** Seed of the member vectors. */
  readonly seed: bigint;
  /** Tie rule of the tutorial consensus. */
  readonly tie: TieRule;
  /**
   * How the members' settings were chosen, when `tune` chose them (set by `hdglue fit
   * --cv`, or by the caller): saved in the model file and read back, never used to predict.
   */
  tuning: TuneResult | undefined;
  /**
   * Which recipe built the members, when known (set by `tutorialGlue` and `hdglue fit`):
   * saved in the model file and read back so `hdglue info` can say it, never used to predict.
   */
  recipe: RecipeName | undefined;
  /**
   * Each ONNX member's network by member name (file relative to the model, SHA-256, output,
   * input), as `hdglue fit` records it: saved and loaded with the glue, so `hdglue/onnx` rebuilds
   * the members from the model file alone; never used to predict. removeMember drops an entry.
   */
  onnxSources: Record<string, OnnxSourceSpec> | undefined;
  #members = new Map<string, Member>();
  // The 'concat' consensus's one HIL over the members' concatenated hypervectors, in `names`
  // order; trained by fit() when the glue's consensus is 'concat', dropped when members change.
  #joint: JointLayer | null = null;

  /** @param options - see {@link HDGlueOptions} */
  constructor(options?: HDGlueOptions) {
    const o = checkOptions(options);
    refuseRenamed(o, RENAMED);
    this.consensus = checkConsensus(o.consensus ?? 'vote');
    this.seed = checkSeed(o.seed ?? 0);
    this.tie = o.tie ?? 'tiebreak';
    if (this.tie !== 'tiebreak' && this.tie !== 'ones')
      throw rangeError(ErrorCode.OUT_OF_RANGE, `tie must be 'tiebreak' or 'ones'`);
  }

  /** Member names, in the order they were added. */
  members(): string[] {
    return [...this.#members.keys()];
  }

  /** A member's encoder, HIL and weight (the live objects). */
  member(name: string): Readonly<Member> {
    return this.#member(name);
  }

  /** Every class label any member knows, in first-seen order. */
  labels(): Label[] {
    const all: Label[] = [];
    const seen = new Set<Label>();
    for (const m of this.#members.values()) {
      for (const l of m.hil.labels) {
        if (!seen.has(l)) {
          seen.add(l);
          all.push(l);
        }
      }
    }
    return all;
  }

  /** Add a member; its HIL may be empty (then {@link fit} it) or already trained. */
  addMember(name: string, member: { encoder: Encoder; hil?: HIL; weight?: number }): this {
    if (typeof name !== 'string' || name === '')
      throw typeError(`a member name must be a non-empty string, got ${describe(name)}`);
    if (name === '__proto__') {
      throw rangeError(
        ErrorCode.OUT_OF_RANGE,
        'a member cannot be named __proto__ (inputs are plain objects keyed by name)',
      );
    }
    if (this.#members.has(name))
      throw new HdglueError(ErrorCode.OUT_OF_RANGE, `a member named ${JSON.stringify(name)} already exists`);
    checkLimit(this.#members.size + 1, LIMITS.members, 'the number of members');
    if (member === null || typeof member !== 'object')
      throw typeError(`member must be { encoder, hil?, weight? }, got ${describe(member)}`);
    const { encoder } = member;
    if (!isEncoder(encoder)) {
      throw typeError(`encoder must be an EmbeddingEncoder or a ProjectionEncoder, got ${describe(encoder)}`);
    }
    const hil = member.hil ?? new HIL({ dim: encoder.dim });
    if (!(hil instanceof HIL)) throw typeError(`hil must be an HIL, got ${describe(hil)}`);
    if (hil.dim !== encoder.dim) {
      throw new HdglueError(
        ErrorCode.DIM_MISMATCH,
        `member ${JSON.stringify(name)}: encoder dim ${encoder.dim} but HIL dim ${hil.dim}`,
      );
    }
    this.#members.set(name, { encoder, hil, weight: checkWeight(member.weight ?? 1) });
    this.#joint = null;
    return this;
  }

  /** Remove a member; the others are unchanged. */
  removeMember(name: string): this {
    this.#member(name);
    this.#members.delete(name);
    this.onnxSources = withoutSource(this.onnxSources, name);
    this.#joint = null;
    return this;
  }

  /** Change a member's weight (a finite number >= 0). */
  setWeight(name: string, weight: number): this {
    this.#member(name).weight = checkWeight(weight);
    return this;
  }

  /**
   * Train the HILs of the members present in `inputs` on the same labelled examples (a fresh
   * fit, then `refine` with the given options if any).
   */
  fit(inputs: GlueInputs, labels: ArrayLike<Label>, options?: { refine?: Omit<RefineOptions, 'validation'> }): this {
    const o = checkOptions(options);
    if (o.refine !== undefined && (o.refine === null || typeof o.refine !== 'object' || 'validation' in o.refine)) {
      throw typeError(
        'refine must be an options object without validation (refine members one by one to validate each)',
      );
    }
    const encoded = this.#encodeAll(inputs);
    // Train copies first and swap them in only when every member succeeded: a bad option or
    // label fails the call with every member as it was.
    const trained = new Map<string, HIL>();
    for (const [name, hvs] of encoded) {
      const old = this.#member(name).hil;
      const hil = new HIL({ dim: old.dim, seed: old.seed, tie: old.tie, metric: old.metric, readout: old.readout });
      hil.fit(hvs, labels);
      // The nearest readout has nothing to correct: its memory is the training set itself.
      if (o.refine && hil.readout === 'prototype') hil.refine(hvs, labels, o.refine);
      trained.set(name, hil);
    }
    let joint: JointLayer | null = null;
    if (this.consensus === 'concat') {
      // The joint layer is trained over every member (in member order), so that it can predict
      // whenever all are present; a subset would make a layer the rest of the glue cannot use.
      const names = this.members();
      requireAll(names, encoded, "the 'concat' consensus trains");
      joint = fitJoint(names, encoded, this.#member(names[0] as string).hil, this.seed, labels, o.refine);
    }
    for (const [name, hil] of trained) this.#member(name).hil = hil;
    this.#joint = joint;
    return this;
  }

  /**
   * Learn new labelled examples online, labels never seen before included, without wrecking what
   * the glue knows: each present member (and the concat layer, when every member is present)
   * adds the new rows to its counters (`partialFit`), then runs a short online correction over the
   * new rows together with a seeded, stratified replay sample of old rows given in
   * `options.replay`. A concat glue needs every member's rows (its joint layer learns too). Without the correction a new class's counters are plain sums beside
   * corrected ones and take over queries of other classes; without replay the correction only sees
   * the new class and pushes the others away. Every layer is updated on a copy and swapped in when
   * all succeeded, so an error (an unknown replay label, a bad option) changes nothing.
   */
  learn(inputs: GlueInputs, labels: ArrayLike<Label>, options?: LearnOptions): this {
    const o = checkOptions(options);
    // Every option is checked before anything is encoded or changed.
    const epochs = checkEpochs(o.epochs);
    const margin = checkMargin(o.margin);
    const seed = checkCount(o.seed ?? 0, 'seed', 2 ** 31 - 1);
    const encoded = this.#encodeAll(inputs);
    // The concat layer is trained over every member: learning from some of them would leave it
    // behind the members, so that is refused, as fit() refuses it.
    if (this.#joint) requireAll(this.#joint.names, encoded, "the 'concat' layer learns");
    let replay: Map<string, HVBatch> | null = null;
    let replayLabels: Label[] = [];
    if (o.replay !== undefined) {
      const r = o.replay as LearnOptions['replay'];
      if (r === null || typeof r !== 'object' || !Array.isArray(r.labels))
        throw typeError(`replay must be { inputs, labels, size? } with labels an array, got ${describe(r)}`);
      const size = r.size === undefined ? labels.length : checkCount(r.size, 'replay.size');
      const rows = stratifiedSample(r.labels, size, seed);
      const picked: GlueInputs = {};
      for (const name of encoded.keys()) {
        const x = r.inputs && Object.hasOwn(r.inputs, name) ? r.inputs[name] : undefined;
        if (x === undefined)
          throw new HdglueError(ErrorCode.NO_INPUT, `replay has no rows for member ${JSON.stringify(name)}`);
        const features = this.#member(name).encoder.features;
        const m = toMatrix(x, features);
        if (m.n !== r.labels.length)
          throw rangeError(
            ErrorCode.SHAPE,
            `replay: ${m.n} rows for ${JSON.stringify(name)} but ${r.labels.length} labels`,
          );
        picked[name] = pickRows(m.data, features, rows);
      }
      replay = this.#encodeAll(picked);
      replayLabels = rows.map((i) => r.labels[i] as Label);
    }
    const passLabels = [...replayLabels, ...Array.from(labels)];
    const refine: RefineOptions = { epochs, margin, seed };
    const update = (hil: HIL, fresh: HVBatch, old: HVBatch | undefined): HIL => {
      const copy = hil.clone();
      copy.partialFit(fresh, labels);
      if (epochs > 0 && copy.readout === 'prototype')
        copy.refine(old ? stackRows(old, fresh) : fresh, passLabels, refine);
      return copy;
    };
    const next = new Map<string, HIL>();
    for (const [name, hvs] of encoded) next.set(name, update(this.#member(name).hil, hvs, replay?.get(name)));
    let joint = this.#joint;
    if (joint) {
      const all = concat(joint.names.map((n) => encoded.get(n) as HVBatch));
      const old = replay ? concat(joint.names.map((n) => replay.get(n) as HVBatch)) : undefined;
      joint = { names: joint.names, hil: update(joint.hil, all, old) };
    }
    for (const [name, hil] of next) this.#member(name).hil = hil;
    this.#joint = joint;
    return this;
  }

  /** The 'concat' consensus's layer over the concatenated hypervectors, once {@link fit} trained it. */
  get joint(): Readonly<JointLayer> | null {
    return this.#joint;
  }

  /** Set each present member's weight to its accuracy on held-out examples (labels known). */
  fitWeights(inputs: GlueInputs, labels: ArrayLike<Label>): Record<string, number> {
    const encoded = this.#encodeAll(inputs);
    const out: Record<string, number> = {};
    // Every accuracy first, then the weights: an error leaves all weights as they were.
    for (const [name, hvs] of encoded) out[name] = this.#member(name).hil.accuracy(hvs, labels);
    for (const [name, acc] of Object.entries(out)) this.#member(name).weight = acc;
    return out;
  }

  /** Consensus labels for a batch; members absent from `inputs` are left out. */
  predict(inputs: GlueInputs, options?: { consensus?: Consensus } & PredictOptions): Label[] {
    const o = checkOptions(options);
    refuseRenamed(o, RENAMED);
    return this.#decide(this.#encodeAll(inputs), o);
  }

  /** {@link predict} with the encoding done off the event loop (on the native backend). */
  async predictAsync(inputs: GlueInputs, options?: { consensus?: Consensus } & PredictOptions): Promise<Label[]> {
    const o = checkOptions(options);
    refuseRenamed(o, RENAMED);
    return this.#decide(await this.#encodeAllAsync(inputs, 'predictAsync'), o);
  }

  /**
   * {@link predictAsync}, plus each present member's own labels (what its HIL predicts alone;
   * under `'tutorial'`, in the HIL's tutorial mode), from one encoding of each input and, under
   * `'vote'`, from the very scores the consensus sums: a member's labels are the first-best
   * class of its scores, as `HIL.predict` picks.
   * `hdglue eval` reports both; asking the HILs again would score every query twice, which for
   * the nearest readout is a second scan of all stored examples.
   */
  async predictEachAsync(
    inputs: GlueInputs,
    options?: { consensus?: Consensus } & PredictOptions,
  ): Promise<{ labels: Label[]; members: Record<string, Label[]> }> {
    const o = checkOptions(options);
    refuseRenamed(o, RENAMED);
    const encoded = await this.#encodeAllAsync(inputs, 'predictEachAsync');
    // A Map, not an object: a member may be named "constructor" or "toString".
    const members = new Map<string, Label[]>();
    const consensus = checkConsensus(o.consensus ?? this.consensus);
    const labels = consensus === 'vote' ? voteLabels(this.#ballots(encoded), o, members) : this.#decide(encoded, o);
    // Members that did not vote (weight 0, or another consensus) are asked on their own; under
    // the tutorial's consensus a member stands for its one bundled HIL vector, so alone it is
    // scored the tutorial's way too.
    const alone: PredictOptions =
      consensus === 'tutorial' ? { mode: 'tutorial' } : o.metric === undefined ? {} : { metric: o.metric };
    for (const [name, hvs] of encoded) {
      if (!members.has(name)) members.set(name, this.#member(name).hil.predict(hvs, alone));
    }
    const ordered = this.members().filter((n) => members.has(n));
    return { labels, members: Object.fromEntries(ordered.map((n) => [n, members.get(n) as Label[]])) };
  }

  /** Accuracy of the consensus on labelled inputs. */
  accuracy(inputs: GlueInputs, labels: ArrayLike<Label>, options?: { consensus?: Consensus } & PredictOptions): number {
    const p = this.predict(inputs, options);
    if (labels === null || typeof labels !== 'object' || labels.length !== p.length) {
      throw rangeError(ErrorCode.SHAPE, `${p.length} predictions but ${String(labels?.length)} labels`);
    }
    let ok = 0;
    for (let i = 0; i < p.length; i++) if (p[i] === labels[i]) ok++;
    return ok / p.length;
  }

  /** Why the vote consensus decides what it does for one input (a glue using `'tutorial'` has no per-member scores to show). */
  explain(input: Record<string, Embedding>): Explanation {
    if (input === null || typeof input !== 'object')
      throw typeError(`input must map member names to embeddings, got ${describe(input)}`);
    if (this.consensus !== 'vote') {
      throw rangeError(
        ErrorCode.OUT_OF_RANGE,
        `explain() shows the vote consensus's per-member scores; this glue predicts with '${this.consensus}'`,
      );
    }
    const batch: GlueInputs = {};
    for (const [name, x] of Object.entries(input)) {
      const enc = this.#member(name).encoder;
      batch[name] = toRow(x, enc.features).data;
    }
    const encoded = this.#encodeAll(batch);
    const missing = this.members().filter((n) => !encoded.has(n));
    return explainVote(this.#ballots(encoded), missing);
  }

  /** Write the glue (members, encoders, weights, HIL counters, {@link onnxSources}) to a model file, atomically. */
  save(path: string): void {
    writeGlue(path, {
      consensus: this.consensus,
      seed: this.seed,
      tie: this.tie,
      tuning: this.tuning,
      recipe: this.recipe,
      members: [...this.#members].map(([name, m]) => ({ name, ...m })),
      joint: this.#joint,
      onnxSources: this.onnxSources,
    });
  }

  /**
   * Read a glue saved by {@link save}. A truncated, corrupted or foreign file is an
   * `ERR_HDGLUE_MODEL_FILE` error, a newer format `ERR_HDGLUE_MODEL_VERSION`.
   */
  static load(path: string, options?: LoadOptions): HDGlue {
    return readGlue(
      path,
      options,
      (o) => new HDGlue(o),
      (glue, joint) => {
        glue.#joint = joint;
      },
    );
  }

  // The present members' encoded inputs, in member order, as the consensus rules take them.
  #ballots(encoded: Map<string, HVBatch>): Ballot[] {
    return [...encoded].map(([name, hvs]) => {
      const m = this.#member(name);
      return { name, hil: m.hil, weight: m.weight, hvs };
    });
  }

  #member(name: string): Member {
    const m = this.#members.get(name);
    if (!m) {
      throw new HdglueError(
        ErrorCode.UNKNOWN_MEMBER,
        `${JSON.stringify(name)} is not a member (members: ${
          this.members()
            .map((n) => JSON.stringify(n))
            .join(', ') || 'none'
        })`,
      );
    }
    return m;
  }

  #presentNames(inputs: GlueInputs): string[] {
    if (inputs === null || typeof inputs !== 'object')
      throw typeError(`inputs must map member names to embeddings, got ${describe(inputs)}`);
    const names = Object.keys(inputs);
    for (const n of names) this.#member(n);
    const present = this.members().filter((n) => names.includes(n));
    if (present.length === 0)
      throw new HdglueError(ErrorCode.NO_INPUT, 'no member has an input: pass embeddings for at least one member');
    return present;
  }

  #encodeAll(inputs: GlueInputs): Map<string, HVBatch> {
    const out = new Map<string, HVBatch>();
    for (const name of this.#presentNames(inputs)) {
      const enc = this.#member(name).encoder;
      const m = toMatrix(inputs[name] as EmbeddingMatrix, enc.features);
      out.set(name, enc.encodeBatch(m.data, m.n));
    }
    this.#checkCounts(out);
    return out;
  }

  // The present members' inputs encoded off the event loop, checked against member changes made
  // while the encoding ran (deciding with new HILs on old encodings would be a silent mix).
  async #encodeAllAsync(inputs: GlueInputs, caller: string): Promise<Map<string, HVBatch>> {
    const names = this.#presentNames(inputs);
    const members = names.map((n) => this.#member(n));
    const hils = members.map((m) => m.hil);
    const batches = await Promise.all(
      members.map((m, i) => m.encoder.encodeBatchAsync(inputs[names[i] as string] as EmbeddingMatrix)),
    );
    if (names.some((n, i) => this.#members.get(n) !== members[i] || members[i]?.hil !== hils[i])) {
      throw new HdglueError(ErrorCode.BUSY, `members were added, removed or refit while ${caller} was encoding`);
    }
    const encoded = new Map(names.map((n, i) => [n, batches[i] as HVBatch]));
    this.#checkCounts(encoded);
    return encoded;
  }

  #checkCounts(encoded: Map<string, HVBatch>): void {
    const counts = new Set([...encoded.values()].map((b) => b.count));
    if (counts.size > 1)
      throw rangeError(ErrorCode.SHAPE, `members' inputs have different row counts: ${[...counts].join(', ')}`);
  }

  #decide(encoded: Map<string, HVBatch>, o: { consensus?: Consensus } & PredictOptions): Label[] {
    const consensus = checkConsensus(o.consensus ?? this.consensus);
    if (consensus === 'concat') return concatLabels(this.#joint, encoded, o);
    const ballots = this.#ballots(encoded);
    return consensus === 'tutorial'
      ? tutorialLabels(ballots, this.labels(), this.seed, this.tie)
      : voteLabels(ballots, o);
  }
}

function checkWeight(w: unknown): number {
  if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) {
    throw rangeError(ErrorCode.OUT_OF_RANGE, `a weight must be a finite number >= 0, got ${String(w)}`);
  }
  return w;
}

/** The rows of `a` followed by the rows of `b` (same dim). */
function stackRows(a: HVBatch, b: HVBatch): HVBatch {
  const out = new HVBatch(a.dim, a.count + b.count);
  out.data.set(a.data);
  out.data.set(b.data, a.data.length);
  return out;
}
