/**
 * The model a server answers with: the glue read from the model file, what each member's request
 * rows look like, the optional ONNX front end that turns raw rows into embeddings, and the
 * predictor. A reload builds a new {@link ServedModel} and retires the old one, which closes its
 * predictor only once the last request that started on it has finished, so requests in flight
 * finish on the model they started with.
 */
import { loadModel } from '../cli/model.js';
import { ErrorCode, HdglueError } from '../errors.js';
import type { GlueInputs, HDGlue } from '../model/glue.js';
import type { OnnxMember } from '../onnx/member.js';
import { onnxMembersOf } from '../onnx/sources.js';
import { type BatcherFactory, createPredictor, type Predictor, type PredictorOptions } from './predictor.js';

/** How one member's rows look in a request. */
export interface MemberShape {
  /** `'embedding'`: rows of the member's encoder width; `'onnx'`: raw network inputs. */
  kind: 'embedding' | 'onnx';
  /** Values per row. */
  features: number;
  /** Dimensions of one row: `[features]` for an embedding member, the network's input shape less its first dimension for an ONNX one. */
  rowShape: readonly number[];
}

/**
 * The networks of a model's ONNX-backed members: their raw rows' shapes and the step that turns
 * those rows into embeddings (the other members' rows pass through unchanged).
 */
export interface OnnxFrontEnd {
  /** Per ONNX-backed member, the dimensions of one raw input row (every one fixed). */
  rowShapes: Record<string, readonly number[]>;
  /** Run the networks on the ONNX members' raw rows; returns embeddings for every member of `inputs`. */
  embed(inputs: Record<string, Float32Array>, rows: number): Promise<GlueInputs>;
  /** Release the networks' sessions. */
  close(): Promise<void>;
}

/**
 * Builds the ONNX front end of a freshly loaded glue, or resolves to undefined when it has no
 * ONNX-backed member. `path` is the model file (ONNX files are found relative to it).
 */
export type OnnxLoader = (glue: HDGlue, path: string) => Promise<OnnxFrontEnd | undefined>;

// The networks the model file records (each file checked against its SHA-256 before a session
// opens), or nothing for a glue of embedding members only.
const defaultOnnxLoader: OnnxLoader = async (glue, path) =>
  glue.onnxSources && Object.keys(glue.onnxSources).length > 0
    ? onnxFrontEnd(await onnxMembersOf(glue, path))
    : undefined;

/**
 * The ONNX front end over loaded ONNX members (member name -> OnnxMember). Every dimension of
 * each network's input but the first must be fixed: a request's raw rows are flat, so the
 * server must know their shape.
 */
export function onnxFrontEnd(members: Record<string, OnnxMember>): OnnxFrontEnd {
  const rowShapes: Record<string, readonly number[]> = {};
  for (const [name, m] of Object.entries(members)) {
    const rest = m.inputShape.slice(1);
    if (!rest.every((d): d is number => typeof d === 'number' && d >= 1)) {
      throw new HdglueError(
        ErrorCode.ONNX_MODEL,
        `member ${JSON.stringify(name)} (${m.path}): its input ${JSON.stringify(m.input)} has shape [${m.inputShape.join(', ')}]; serving needs every dimension after the first fixed`,
      );
    }
    rowShapes[name] = rest;
  }
  return {
    rowShapes,
    async embed(inputs, rows) {
      const out: GlueInputs = {};
      for (const [name, x] of Object.entries(inputs)) {
        const m = members[name];
        const shape = rowShapes[name];
        out[name] = m && shape ? await m.embed({ data: x, dims: [rows, ...shape] }, { member: name }) : x;
      }
      return out;
    },
    async close() {
      await Promise.all(Object.values(members).map((m) => m.close()));
    },
  };
}

/** Options of {@link loadServedModel}. */
export interface ServedModelOptions extends PredictorOptions {
  /** Replaces lib/batch's glueBatcher (tests). */
  batcher?: BatcherFactory;
  /** Replaces the ONNX loader (tests, or an embedder with its own networks). */
  onnx?: OnnxLoader;
}

/** A loaded model, its predictor, and how many requests are using it. */
export class ServedModel {
  /** The model file it was read from. */
  readonly path: string;
  /** The glue. */
  readonly glue: HDGlue;
  /** Member name -> the shape of its request rows, in the glue's member order. */
  readonly members: ReadonlyMap<string, MemberShape>;
  /** The ONNX front end, when some member is a network. */
  readonly onnx: OnnxFrontEnd | undefined;
  /** What the rows are predicted with. */
  readonly predictor: Predictor;
  /** When it was loaded (ms since the epoch). */
  readonly loadedAt: number;
  #users = 0;
  #retired = false;
  #closed: Promise<void> | undefined;
  #onClosed: (() => void)[] = [];

  /** @internal use {@link loadServedModel} */
  constructor(path: string, glue: HDGlue, onnx: OnnxFrontEnd | undefined, predictor: Predictor) {
    this.path = path;
    this.glue = glue;
    this.onnx = onnx;
    this.predictor = predictor;
    this.loadedAt = Date.now();
    const members = new Map<string, MemberShape>();
    for (const name of glue.members()) {
      const rowShape = onnx?.rowShapes[name];
      if (rowShape) {
        members.set(name, { kind: 'onnx', features: rowShape.reduce((a, b) => a * b, 1), rowShape });
      } else {
        const features = glue.member(name).encoder.features;
        members.set(name, { kind: 'embedding', features, rowShape: [features] });
      }
    }
    this.members = members;
  }

  /** Mark one request as using this model until {@link release}. */
  acquire(): this {
    this.#users++;
    return this;
  }

  /** The request that called {@link acquire} is done; the last one out closes a retired model. */
  release(): void {
    this.#users--;
    if (this.#retired && this.#users === 0) void this.#close();
  }

  /** No new request will start on this model: close it once the ones using it are done. Resolves when closed. */
  retire(): Promise<void> {
    this.#retired = true;
    return this.#users === 0 ? this.#close() : new Promise((resolve) => this.#onClosed.push(resolve));
  }

  #close(): Promise<void> {
    this.#closed ??= (async () => {
      // Close failures are not the requests' concern: the model is going away either way.
      await this.predictor.close().catch(() => {});
      await this.onnx?.close().catch(() => {});
      for (const f of this.#onClosed.splice(0)) f();
    })();
    return this.#closed;
  }
}

/**
 * Read the model file at `path` and build what serves it. A missing, corrupt or foreign file
 * rejects with the library's error (naming the file) and builds nothing.
 */
export async function loadServedModel(path: string, options: ServedModelOptions): Promise<ServedModel> {
  const glue = loadModel(path);
  if (glue.members().length === 0) {
    throw new HdglueError(ErrorCode.MODEL_FILE, `${path}: the model has no members, so it cannot predict`);
  }
  const onnx = await (options.onnx ?? defaultOnnxLoader)(glue, path);
  let predictor: Predictor;
  try {
    predictor = createPredictor(glue, options, options.batcher);
  } catch (e) {
    await onnx?.close();
    throw e;
  }
  return new ServedModel(path, glue, onnx, predictor);
}
