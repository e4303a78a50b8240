/**
 * A glue whose members may be networks in ONNX files: {@link OnnxGlue} pairs an {@link HDGlue}
 * with an {@link OnnxMember} for each member that takes raw inputs. Its calls run those
 * networks (batched, on the ONNX worker thread), pass the other members' precomputed embeddings
 * through unchanged, and then call the glue; lib/model/glue.ts itself never sees onnxruntime.
 */
import { ErrorCode, HdglueError, typeError } from '../errors.js';
import type { Label } from '../label.js';
import type { Consensus } from '../model/consensus.js';
import { type GlueInputs, HDGlue } from '../model/glue.js';
import type { LoadOptions } from '../model/glue-codec.js';
import type { PredictOptions, RefineOptions } from '../model/hil.js';
import type { OnnxSourceSpec } from '../model/onnx-source.js';
import { describe } from '../validate.js';
import { OnnxMember } from './member.js';
import { type OnnxSourcesOptions, onnxMembersOf, onnxSourceOf } from './sources.js';
import type { RawInput } from './tensor.js';

/**
 * Inputs per member name: raw inputs (a {@link RawInput}: images for a CNN, vectors for an MLP,
 * each in its own shape) for ONNX members, embeddings for the others.
 */
export type MixedInputs = Record<string, RawInput>;

/** An {@link HDGlue} with ONNX sources for some of its members; see the module description. */
export class OnnxGlue {
  /** The glue the embeddings go to (members, encoders, HILs, weights live there). */
  readonly glue: HDGlue;
  #sources = new Map<string, OnnxMember>();

  /**
   * @param sources - the ONNX member of each network that takes raw inputs, by member name
   * @param glue - the glue to feed; default a new `HDGlue()` (add its members once their embeddings are known)
   */
  constructor(sources: Record<string, OnnxMember> = {}, glue: HDGlue = new HDGlue()) {
    if (!(glue instanceof HDGlue)) throw typeError(`glue must be an HDGlue, got ${describe(glue)}`);
    if (sources === null || typeof sources !== 'object') {
      throw typeError(`sources must map member names to OnnxMembers, got ${describe(sources)}`);
    }
    this.glue = glue;
    for (const [name, m] of Object.entries(sources)) this.setSource(name, m);
  }

  /** Make `name` an ONNX member: its inputs are run through `source` first. */
  setSource(name: string, source: OnnxMember): this {
    if (typeof name !== 'string' || name === '')
      throw typeError(`a member name must be a non-empty string, got ${describe(name)}`);
    if (!(source instanceof OnnxMember)) {
      throw typeError(`the source of ${JSON.stringify(name)} must be an OnnxMember, got ${describe(source)}`);
    }
    this.#sources.set(name, source);
    return this;
  }

  /** Make `name` an embeddings member again (its ONNX member is not closed). */
  removeSource(name: string): this {
    this.#sources.delete(name);
    return this;
  }

  /** The ONNX member of `name`, if it has one. */
  source(name: string): OnnxMember | undefined {
    return this.#sources.get(name);
  }

  /** Names of the members that have an ONNX source. */
  sources(): string[] {
    return [...this.#sources.keys()];
  }

  /**
   * Embeddings for every member in `inputs`: ONNX members' networks are run on their raw inputs
   * (one after another on the worker thread, each in batches); other members' values are
   * returned as they are (the glue checks them when it encodes).
   */
  async embed(inputs: MixedInputs): Promise<GlueInputs> {
    if (inputs === null || typeof inputs !== 'object') {
      throw typeError(`inputs must map member names to inputs, got ${describe(inputs)}`);
    }
    const out: GlueInputs = {};
    for (const [name, x] of Object.entries(inputs)) {
      const src = this.#sources.get(name);
      if (src) out[name] = await src.embed(x, { member: name });
      else if (x instanceof Float32Array || x instanceof Float64Array || Array.isArray(x))
        out[name] = x as GlueInputs[string];
      else {
        throw typeError(
          `member ${JSON.stringify(name)} has no ONNX source, so its input must be embeddings (a Float32Array, a Float64Array or an array of rows), got ${describe(x)}`,
        );
      }
    }
    return out;
  }

  /** {@link HDGlue.fit} on raw and embedding inputs. */
  async fit(
    inputs: MixedInputs,
    labels: ArrayLike<Label>,
    options?: { refine?: Omit<RefineOptions, 'validation'> },
  ): Promise<this> {
    this.glue.fit(await this.embed(inputs), labels, options);
    return this;
  }

  /** {@link HDGlue.fitWeights} on raw and embedding inputs. */
  async fitWeights(inputs: MixedInputs, labels: ArrayLike<Label>): Promise<Record<string, number>> {
    return this.glue.fitWeights(await this.embed(inputs), labels);
  }

  /** Consensus labels: the networks run, then {@link HDGlue.predictAsync} on their embeddings. */
  async predict(inputs: MixedInputs, options?: { consensus?: Consensus } & PredictOptions): Promise<Label[]> {
    return this.glue.predictAsync(await this.embed(inputs), options);
  }

  /** Accuracy of the consensus on labelled raw and embedding inputs. */
  async accuracy(
    inputs: MixedInputs,
    labels: ArrayLike<Label>,
    options?: { consensus?: Consensus } & PredictOptions,
  ): Promise<number> {
    const p = await this.predict(inputs, options);
    if (labels === null || typeof labels !== 'object' || labels.length !== p.length) {
      throw new HdglueError(ErrorCode.SHAPE, `${p.length} predictions but ${String(labels?.length)} labels`);
    }
    let ok = 0;
    for (let i = 0; i < p.length; i++) if (p[i] === labels[i]) ok++;
    return ok / p.length;
  }

  /**
   * Save the glue to a model file that records each ONNX member's source (its file relative to
   * the model's directory, SHA-256, output and input; see `HDGlue.onnxSources`), so that
   * {@link OnnxGlue.fromModel} can rebuild this glue from the model file alone. Members without
   * a source are recorded as embeddings members; sources of names that are not members of the
   * glue are left out.
   */
  save(path: string): void {
    const members = new Set(this.glue.members());
    const sources: Record<string, OnnxSourceSpec> = {};
    for (const [name, m] of this.#sources) if (members.has(name)) sources[name] = onnxSourceOf(m, path);
    this.glue.onnxSources = Object.keys(sources).length ? sources : undefined;
    this.glue.save(path);
  }

  /**
   * Load a glue model file and the ONNX members it records (see `onnxMembersOf`): each network
   * is found relative to the model file and must have the recorded SHA-256, else
   * `ERR_HDGLUE_ONNX_CHANGED` names the file. Members the file records no source for take
   * embeddings. `options`: the glue's {@link LoadOptions}, and `batchSize` and `threads` for
   * every ONNX member.
   */
  static async fromModel(path: string, options?: LoadOptions & Omit<OnnxSourcesOptions, 'members'>): Promise<OnnxGlue> {
    const { batchSize, threads, ...load } = options ?? {};
    const glue = HDGlue.load(path, load);
    const members = await onnxMembersOf(glue, path, {
      ...(batchSize === undefined ? {} : { batchSize }),
      ...(threads === undefined ? {} : { threads }),
    });
    return new OnnxGlue(members, glue);
  }

  /** Close every ONNX source (their sessions are released; the glue is kept). */
  async close(): Promise<void> {
    await Promise.all([...this.#sources.values()].map((s) => s.close()));
  }
}
