/**
 * HD-Glue: the consensus of several networks, each a member with its own encoder (its
 * embeddings may have any width and range), its own HIL and a weight. Members can be added,
 * re-weighted and removed at run time, and a prediction uses whichever members' inputs are
 * present.
 *
 * Strategies, honestly labelled:
 * - `'vote'` (default): each present member scores every class; scores are z-scored per query
 *   across that member's classes (so members with different similarity scales count alike),
 *   multiplied by the member's weight and summed; the largest total wins.
 * - `'tutorial'`: the seed tutorial's algebra: G = bundle over members of bind(member vector,
 *   member HIL's symbolic vector); a query is bundle over members of bind(member vector,
 *   encoded input); bind(G, query) is compared with every class vector. It is kept so the
 *   tutorial can be run as written; it scores far below `'vote'` on real data.
 */

import { HVBatch } from '../core/hv.js';
import { bind, bundle, concat, hammingMatrix, randomHV, type TieRule } from '../core/ops.js';
import { DEFAULTS } from '../defaults.js';
import { type Embedding, type EmbeddingMatrix, pickRows, toMatrix, toRow } from '../encode/embeddings.js';
import { EmbeddingEncoder, type EmbeddingEncoderDescription } from '../encode/level.js';
import { ProjectionEncoder, type ProjectionEncoderDescription } from '../encode/projection.js';
import { ErrorCode, HdglueError, rangeError, typeError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { encodeModel, readModelFile } from '../io/model-file.js';
import type { Label } from '../label.js';
import { stratifiedSample } from '../split.js';
import type { TuneResult } from '../train/tune.js';
import { checkCount, checkLimit, checkOptions, checkSeed, describe, LIMITS, SEED_STRING } from '../validate.js';
import { HIL, type HILHeader, type PredictOptions, type RefineOptions } from './hil.js';

/** An encoder a member can use. */
export type Encoder = EmbeddingEncoder | ProjectionEncoder;

/** How the members' scores become one label. */
export type Consensus = 'vote' | 'tutorial' | 'concat';

/**
 * How a glue's members were built, as `hdglue fit --recipe` names it: `'default'` (the
 * cross-validated recipe, possibly with flags changing its values) or `'tutorial'` (the
 * tutorial's algebra as written, see `tutorialGlue`).
 */
export type RecipeName = 'default' | 'tutorial';

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

/** What {@link HDGlue.explain} reports for one input. */
export interface Explanation {
  /** The consensus label. */
  label: Label;
  /** Members whose input was present and that voted (weight > 0). */
  used: string[];
  /** Members with no input in this call. */
  missing: string[];
  /** Per present member: its scores, its own vote, its weight, and its share of the winner's total. */
  members: { name: string; weight: number; vote: Label; scores: Map<Label, number>; share: number }[];
  /** Consensus total per label. */
  totals: Map<Label, number>;
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

/** Options of {@link HDGlue.load}. */
export interface LoadOptions {
  /** Largest file to read, in bytes (default 1 GiB). */
  maxBytes?: number;
  /** Largest total size of the vectors an encoder regenerates from its seed (default 1 GiB). */
  maxVectorBytes?: number;
}

/** The consensus over networks; see the module description. */
export class HDGlue {
  /** Default consensus. */
  readonly consensus: Consensus;
  /** Seed of the member vectors. */
  readonly seed: bigint;
  /** Tie rule of the tutorial consensus. */
  readonly tie: TieRule;
  /**
   * How the members' settings were chosen, when {@link tune} chose them (set by `hdglue fit
   * --cv`, or by the caller): saved in the model file and read back, never used to predict.
   */
  tuning: TuneResult | undefined;
  /**
   * Which recipe built the members, when known (set by `tutorialGlue` and `hdglue fit`):
   * saved in the model file and read back so `hdglue info` can say it, never used to predict.
   */
  recipe: RecipeName | undefined;
  #members = new Map<string, Member>();
  // The 'concat' consensus's one HIL over the members' concatenated hypervectors, in `names`
  // order; trained by fit() when the glue's consensus is 'concat', dropped when members change.
  #joint: { names: string[]; hil: HIL } | null = null;

  /** @param options - see {@link HDGlueOptions} */
  constructor(options?: HDGlueOptions) {
    const o = checkOptions(options);
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
    if (!(encoder instanceof EmbeddingEncoder || encoder instanceof ProjectionEncoder)) {
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
    let joint: { names: string[]; hil: HIL } | null = null;
    if (this.consensus === 'concat') {
      // The joint layer is trained over every member (in member order), so that it can predict
      // whenever all are present; a subset would make a layer the rest of the glue cannot use.
      const names = this.members();
      const missing = names.filter((n) => !encoded.has(n));
      if (missing.length) {
        throw new HdglueError(
          ErrorCode.NO_INPUT,
          `the 'concat' consensus trains over every member; missing: ${missing.map((n) => JSON.stringify(n)).join(', ')}`,
        );
      }
      const all = concat(names.map((n) => encoded.get(n) as HVBatch));
      const first = this.#member(names[0] as string).hil;
      const hil = new HIL({
        dim: all.dim,
        seed: this.seed,
        tie: first.tie,
        metric: first.metric,
        readout: first.readout,
      });
      hil.fit(all, labels);
      if (o.refine && hil.readout === 'prototype') hil.refine(all, labels, o.refine);
      joint = { names, hil };
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
    const epochs = checkCount(o.epochs ?? DEFAULTS.epochs, 'epochs', 1e6);
    const margin = o.margin ?? DEFAULTS.margin;
    if (typeof margin !== 'number' || !(margin >= 0 && margin <= 2))
      throw rangeError(ErrorCode.OUT_OF_RANGE, `margin must be in [0, 2], got ${String(margin)}`);
    const seed = checkCount(o.seed ?? 0, 'seed', 2 ** 31 - 1);
    const encoded = this.#encodeAll(inputs);
    // The concat layer is trained over every member: learning from some of them would leave it
    // behind the members, so that is refused, as fit() refuses it.
    const missing = this.#joint ? this.#joint.names.filter((n) => !encoded.has(n)) : [];
    if (missing.length) {
      throw new HdglueError(
        ErrorCode.NO_INPUT,
        `the 'concat' layer learns over every member; missing: ${missing.map((n) => JSON.stringify(n)).join(', ')}`,
      );
    }
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
  get joint(): Readonly<{ names: string[]; hil: HIL }> | null {
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
    return this.#decide(this.#encodeAll(inputs), o);
  }

  /** {@link predict} with the encoding done off the event loop (on the native backend). */
  async predictAsync(inputs: GlueInputs, options?: { consensus?: Consensus } & PredictOptions): Promise<Label[]> {
    const o = checkOptions(options);
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
    const encoded = await this.#encodeAllAsync(inputs, 'predictEachAsync');
    // A Map, not an object: a member may be named "constructor" or "toString".
    const members = new Map<string, Label[]>();
    const consensus = checkConsensus(o.consensus ?? this.consensus);
    const labels = consensus === 'vote' ? this.#vote(encoded, o, members) : this.#decide(encoded, o);
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
    const { voters, labels } = this.#candidates(encoded);
    const col = new Map(labels.map((l, i) => [l, i]));
    const totals = new Float64Array(labels.length);
    const members: Explanation['members'] = [];
    const zs: Float64Array[] = [];
    for (const name of voters) {
      const hvs = encoded.get(name) as HVBatch;
      const m = this.#member(name);
      const s = m.hil.scores(hvs);
      const z = zscore(s, 0, s.length);
      const own = m.hil.labels;
      own.forEach((l, k) => {
        totals[col.get(l) as number] += m.weight * (z[k] as number);
      });
      let best = 0;
      for (let k = 1; k < own.length; k++) if ((s[k] as number) > (s[best] as number)) best = k;
      members.push({
        name,
        weight: m.weight,
        vote: own[best] as Label,
        scores: new Map(own.map((l, k) => [l, s[k] as number])),
        share: 0,
      });
      zs.push(z);
    }
    const win = argmaxOf(totals);
    const label = labels[win] as Label;
    // Each member's signed contribution to the winner's total, as a share of all contributions.
    const contrib = members.map((mm, i) => {
      const m = this.#member(mm.name);
      const k = m.hil.labels.indexOf(label);
      return k >= 0 ? m.weight * ((zs[i] as Float64Array)[k] as number) : 0;
    });
    const denom = contrib.reduce((a, c) => a + Math.abs(c), 0);
    members.forEach((mm, i) => {
      mm.share = denom > 0 ? (contrib[i] as number) / denom : 0;
    });
    return {
      label,
      used: voters,
      missing: this.members().filter((n) => !encoded.has(n)),
      members,
      totals: new Map(labels.map((l, i) => [l, totals[i] as number])),
    };
  }

  /** Write the glue (members, encoders, weights, HIL counters) to a model file, atomically. */
  save(path: string): void {
    const members = [...this.#members].map(([name, m]) => ({ name, m, model: m.hil.toModel() }));
    // The concat layer, if trained, is one more section after the members'.
    const joint = this.#joint ? { names: this.#joint.names, model: this.#joint.hil.toModel() } : null;
    const header = {
      kind: 'hdglue.HDGlue',
      // The file keeps the key 'strategy' (the name before members' consensus was renamed):
      // model files stay byte-identical.
      strategy: this.consensus,
      ...(this.tuning === undefined ? {} : { tuning: this.tuning }),
      ...(this.recipe === undefined ? {} : { recipe: this.recipe }),
      seed: this.seed.toString(),
      tie: this.tie,
      members: members.map(({ name, m, model }) => ({
        name,
        weight: m.weight,
        encoder: m.encoder.toJSON(),
        hil: model.header,
      })),
      ...(joint ? { joint: { names: joint.names, hil: joint.model.header } } : {}),
    };
    const sections = members.map((x) => x.model.section);
    if (joint) sections.push(joint.model.section);
    writeFileAtomic(path, encodeModel(header, sections));
  }

  /**
   * Read a glue saved by {@link save}. A truncated, corrupted or foreign file is an
   * `ERR_HDGLUE_MODEL_FILE` error, a newer format `ERR_HDGLUE_MODEL_VERSION`.
   */
  static load(path: string, options?: LoadOptions): HDGlue {
    const lo = checkOptions(options);
    const f = readModelFile(path, lo.maxBytes);
    const h = f.header as {
      tuning?: unknown;
      recipe?: unknown;
      kind?: unknown;
      strategy?: Consensus;
      seed?: string;
      tie?: TieRule;
      members?: { name: string; weight: number; encoder: { kind?: string }; hil: HILHeader }[];
      joint?: { names?: unknown; hil?: HILHeader };
    };
    const bad = (why: string) => new HdglueError(ErrorCode.MODEL_FILE, `not a valid hdglue glue file: ${why}`);
    if (h === null || typeof h !== 'object' || h.kind !== 'hdglue.HDGlue') throw bad(`kind ${String(h?.kind)}`);
    const hasJoint = h.joint !== undefined;
    if (!Array.isArray(h.members) || h.members.length + (hasJoint ? 1 : 0) !== f.sections.length)
      throw bad('members and sections differ');
    if (h.members.length > LIMITS.members)
      throw bad(`${h.members.length} members, above the limit of ${LIMITS.members}`);
    if (typeof h.seed !== 'string' || !SEED_STRING.test(h.seed))
      throw bad('seed is not a decimal string of at most 20 digits');
    let glue: HDGlue;
    try {
      glue = new HDGlue({ consensus: h.strategy as Consensus, seed: BigInt(h.seed), tie: h.tie as TieRule });
    } catch (e) {
      throw bad((e as Error).message);
    }
    // Encoders regenerate their vectors from the seed, so a few bytes of header can ask for
    // gigabytes: the total is bounded before anything is built. It counts every vector a member
    // builds, the tie-breakers of its encoder and of its HIL included (they were left out, and a
    // file of many members with one bin and one feature built twice the stated bound).
    const limit = lo.maxVectorBytes ?? 2 ** 30;
    let total = 0;
    for (const m of h.members) {
      const e = (m?.encoder ?? {}) as { dim?: unknown; bins?: unknown; features?: unknown };
      const rows = size(e.bins) + size(e.features) + 1;
      total += (rows * size(e.dim) + size((m?.hil as { dim?: unknown } | undefined)?.dim)) / 8;
    }
    if (!(total <= limit))
      throw bad(`its encoders would build ${total} bytes of vectors, above the limit of ${limit} (see maxVectorBytes)`);
    h.members.forEach((m, i) => {
      if (m === null || typeof m !== 'object') throw bad(`member ${i} is not an object`);
      let encoder: Encoder;
      try {
        encoder =
          m.encoder?.kind === 'hdglue.ProjectionEncoder'
            ? ProjectionEncoder.fromJSON(m.encoder as ProjectionEncoderDescription)
            : EmbeddingEncoder.fromJSON(m.encoder as EmbeddingEncoderDescription);
      } catch (e) {
        throw bad(`member ${i}: ${(e as Error).message}`);
      }
      const hil = HIL.fromModel(m.hil, f.sections[i] as Uint8Array);
      try {
        glue.addMember(m.name, { encoder, hil, weight: m.weight });
      } catch (e) {
        throw bad(`member ${i}: ${(e as Error).message}`);
      }
    });
    if (hasJoint) {
      const j = h.joint as { names?: unknown; hil?: HILHeader } | null;
      const names = j?.names;
      const members = glue.members();
      // Member order is the bit layout of the concatenation, so it must match exactly.
      if (!Array.isArray(names) || names.length !== members.length || !names.every((n, i) => n === members[i]))
        throw bad('the concat layer does not name the members in their order');
      const hil = HIL.fromModel(j?.hil as HILHeader, f.sections[h.members.length] as Uint8Array);
      const dim = names.reduce((a: number, n: string) => a + glue.member(n).encoder.dim, 0);
      if (hil.dim !== dim) throw bad(`the concat layer has dim ${hil.dim}, the members' dims sum to ${dim}`);
      const known = new Set(glue.labels());
      if (!hil.labels.every((l) => known.has(l))) throw bad('the concat layer has classes no member has');
      glue.#joint = { names: names as string[], hil };
    }
    if (h.tuning !== undefined) {
      const t = h.tuning as Partial<TuneResult> | null;
      const int = (v: unknown, lo: number) => Number.isSafeInteger(v) && (v as number) >= lo;
      if (
        t === null ||
        typeof t !== 'object' ||
        typeof t.cv !== 'number' ||
        !(t.cv >= 0 && t.cv <= 1) ||
        !int(t.folds, 2) ||
        !int(t.rows, 1) ||
        !int(t.seed, 0) ||
        (t.consensus !== 'vote' && t.consensus !== 'concat') ||
        t.recipe === null ||
        typeof t.recipe !== 'object' ||
        !Array.isArray(t.scores) ||
        t.scores.length === 0
      )
        throw bad('tuning record is malformed');
      glue.tuning = t as TuneResult;
    }
    if (h.recipe !== undefined) {
      if (h.recipe !== 'default' && h.recipe !== 'tutorial')
        throw bad(`unknown recipe ${JSON.stringify(String(h.recipe).slice(0, 40))}`);
      glue.recipe = h.recipe;
    }
    return glue;
  }

  // The members that vote (input present, weight > 0) and the classes they know, first-seen order.
  #candidates(encoded: Map<string, HVBatch>): { voters: string[]; labels: Label[] } {
    const voters = [...encoded.keys()].filter((n) => this.#member(n).weight > 0);
    if (voters.length === 0)
      throw new HdglueError(ErrorCode.NO_INPUT, 'every member with an input has weight 0: nothing votes');
    const labels: Label[] = [];
    const seen = new Set<Label>();
    for (const n of voters) {
      for (const l of this.#member(n).hil.labels) {
        if (!seen.has(l)) {
          seen.add(l);
          labels.push(l);
        }
      }
    }
    return { voters, labels };
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
    if (consensus === 'concat') return this.#concat(encoded, o);
    return consensus === 'tutorial' ? this.#tutorial(encoded) : this.#vote(encoded, o);
  }

  #concat(encoded: Map<string, HVBatch>, o: PredictOptions): Label[] {
    const j = this.#joint;
    if (!j) {
      throw new HdglueError(
        ErrorCode.NO_INPUT,
        "the 'concat' consensus needs fit() on a glue created with consensus 'concat' (members changed since, or never fit)",
      );
    }
    const missing = j.names.filter((n) => !encoded.has(n));
    if (missing.length) {
      throw new HdglueError(
        ErrorCode.NO_INPUT,
        `the 'concat' consensus needs every member's input; missing: ${missing.map((n) => JSON.stringify(n)).join(', ')}`,
      );
    }
    return j.hil.predict(
      concat(j.names.map((n) => encoded.get(n) as HVBatch)),
      o.metric === undefined ? {} : { metric: o.metric },
    );
  }

  // `own`, when given, receives each voting member's own labels (first-best of its scores).
  #vote(encoded: Map<string, HVBatch>, o: PredictOptions, own?: Map<string, Label[]>): Label[] {
    // Candidates are the classes of the members that vote here (present, weight > 0), so an
    // absent member's classes can never win by default.
    const { voters, labels } = this.#candidates(encoded);
    const col = new Map(labels.map((l, i) => [l, i]));
    const n = (encoded.values().next().value as HVBatch).count;
    checkLimit(n * labels.length, LIMITS.scores, `rows * classes (${n} * ${labels.length}) scores`, 'predict in parts');
    const totals = new Float64Array(n * labels.length);
    for (const name of voters) {
      const hvs = encoded.get(name) as HVBatch;
      const m = this.#member(name);
      const mine = m.hil.labels;
      const cols = mine.map((l) => col.get(l) as number);
      const s = m.hil.scores(hvs, o.metric === undefined ? {} : { metric: o.metric });
      const c = mine.length;
      const z = new Float64Array(c);
      for (let r = 0; r < n; r++) {
        zscoreInto(s, r * c, c, z);
        for (let k = 0; k < c; k++) totals[r * labels.length + (cols[k] as number)] += m.weight * (z[k] as number);
      }
      if (own)
        own.set(
          name,
          Array.from({ length: n }, (_, r) => mine[argmaxOf(s.subarray(r * c, (r + 1) * c))] as Label),
        );
    }
    return Array.from(
      { length: n },
      (_, r) => labels[argmaxOf(totals.subarray(r * labels.length, (r + 1) * labels.length))] as Label,
    );
  }

  #tutorial(encoded: Map<string, HVBatch>): Label[] {
    // Weights are not part of the tutorial's algebra; a weight of 0 leaves a member out.
    const names = [...encoded.keys()].filter((n) => this.#member(n).weight > 0);
    if (names.length === 0) throw new HdglueError(ErrorCode.NO_INPUT, 'every member with an input has weight 0');
    const first = this.#member(names[0] as string).hil;
    for (const name of names) {
      const h = this.#member(name).hil;
      if (h.dim !== first.dim || h.seed !== first.seed) {
        throw new HdglueError(
          ErrorCode.DIM_MISMATCH,
          'the tutorial consensus needs every member to share dim and seed (one class-vector memory)',
        );
      }
    }
    const dim = first.dim;
    // The seed string keeps the word 'network' (the tutorial's name): the same bits as ever.
    const netVec = (name: string) => randomHV(dim, `network/${name}`, { seed: this.seed });
    const opts = { tie: this.tie, seed: this.seed };
    // G = bundle_i bind(net_i, HIL_i), over the members present, as create_hdglue_consensus.
    const g = bundle(
      HVBatch.from(names.map((nm) => bind(netVec(nm), this.#member(nm).hil.symbolic({ tie: this.tie })))),
      opts,
    );
    const labels = this.labels();
    const classes = HVBatch.from(
      labels.map((l) => first.classVector(l)),
      dim,
    );
    const n = (encoded.get(names[0] as string) as HVBatch).count;
    const out: Label[] = [];
    const bound = names.map((nm) => bind(encoded.get(nm) as HVBatch, netVec(nm)));
    for (let r = 0; r < n; r++) {
      // query = bundle_i bind(net_i, enc_i(x)); result = bind(G, query); nearest class vector.
      const q = bundle(HVBatch.from(bound.map((b) => b.row(r))), opts);
      const d = hammingMatrix(new HVBatch(dim, 1, bind(g, q).data), classes);
      let best = 0;
      for (let k = 1; k < d.length; k++) if ((d[k] as number) < (d[best] as number)) best = k;
      out.push(labels[best] as Label);
    }
    return out;
  }
}

// A size field of a file as a count of bytes or rows: non-negative or nothing, so that a
// negative field (refused later anyway) cannot offset the others in a total.
function size(v: unknown): number {
  return typeof v === 'number' && v > 0 ? v : 0;
}

function checkConsensus(s: unknown): Consensus {
  if (s === 'vote' || s === 'tutorial' || s === 'concat') return s;
  throw rangeError(ErrorCode.OUT_OF_RANGE, `consensus must be 'vote', 'tutorial' or 'concat', got ${String(s)}`);
}

function checkWeight(w: unknown): number {
  if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) {
    throw rangeError(ErrorCode.OUT_OF_RANGE, `a weight must be a finite number >= 0, got ${String(w)}`);
  }
  return w;
}

// Standardized scores of one query across one member's classes; all-equal scores give zeros.
function zscoreInto(s: Float64Array, at: number, c: number, z: Float64Array): Float64Array {
  let mean = 0;
  for (let k = 0; k < c; k++) mean += s[at + k] as number;
  mean /= c;
  let v = 0;
  for (let k = 0; k < c; k++) v += ((s[at + k] as number) - mean) ** 2;
  const sd = Math.sqrt(v / c);
  for (let k = 0; k < c; k++) z[k] = sd > 0 ? ((s[at + k] as number) - mean) / sd : 0;
  return z;
}

function zscore(s: Float64Array, at: number, c: number): Float64Array {
  return zscoreInto(s, at, c, new Float64Array(c));
}

function argmaxOf(v: Float64Array): number {
  let best = 0;
  for (let k = 1; k < v.length; k++) if ((v[k] as number) > (v[best] as number)) best = k;
  return best;
}

/** The rows of `a` followed by the rows of `b` (same dim). */
function stackRows(a: HVBatch, b: HVBatch): HVBatch {
  const out = new HVBatch(a.dim, a.count + b.count);
  out.data.set(a.data);
  out.data.set(b.data, a.data.length);
  return out;
}
