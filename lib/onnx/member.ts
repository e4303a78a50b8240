/**
 * An ONNX member: one trained network in an ONNX file, run by onnxruntime-node on the ONNX
 * worker thread, read at one named output (the signal just before classification) to give the
 * embeddings hdglue encodes. Every error names the member and the file.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { ErrorCode, HdglueError, rangeError, typeError } from '../errors.js';
import { checkOptions, describe } from '../validate.js';
import type { ValueInfo } from './protocol.js';
import { call, newSession } from './runtime.js';
import { batchOf, checkInput, type ElementType, isElementType, type RawInput } from './tensor.js';

/** Options of {@link OnnxMember.load}. */
export interface OnnxMemberOptions {
  /** Name of the graph output to read: the layer just before classification. Required. */
  output: string;
  /** Name of the graph input to feed; needed only to check it (the model must take exactly one input). */
  input?: string;
  /** Rows per onnxruntime run; default 256 (a model whose first dimension is fixed runs that many). */
  batchSize?: number;
  /** Member name used in messages; default the file name without `.onnx`. */
  name?: string;
  /** onnxruntime's intra-op threads for this session; default onnxruntime's own (the cores). */
  threads?: number;
  /**
   * The SHA-256 the file's bytes must have (64 hex digits), as a model file records it: a file
   * that is missing or whose bytes differ is refused with `ERR_HDGLUE_ONNX_CHANGED`. The hash is
   * taken of the very bytes handed to onnxruntime, so a file replaced meanwhile cannot slip in.
   */
  sha256?: string;
}

/** One network of a glue, run from its ONNX file. Create with {@link OnnxMember.load}. */
export class OnnxMember {
  /** The ONNX file. */
  readonly path: string;
  /** Name used in messages. */
  readonly name: string;
  /** The graph input fed with the raw inputs. */
  readonly input: string;
  /** Its element type (e.g. `'float32'`). */
  readonly inputType: ElementType;
  /** Its declared shape: numbers where fixed, names where free (e.g. `['batch', 64]`). */
  readonly inputShape: readonly (number | string)[];
  /** The graph output read as the embedding. */
  readonly output: string;
  /** Its declared shape. */
  readonly outputShape: readonly (number | string)[];
  /** Rows per onnxruntime run. */
  readonly batchSize: number;
  /** Every graph output of the model. */
  readonly outputs: readonly string[];
  /** SHA-256 of the bytes loaded, 64 lowercase hex digits (what a model file records). */
  readonly sha256: string;
  #session: number | undefined;
  #features: number | undefined;

  private constructor(
    path: string,
    name: string,
    session: number,
    input: ValueInfo,
    output: ValueInfo,
    outputs: string[],
    batchSize: number,
    sha256: string,
  ) {
    this.path = path;
    this.sha256 = sha256;
    this.name = name;
    this.#session = session;
    this.input = input.name;
    this.inputType = input.type as ElementType;
    this.inputShape = Object.freeze([...(input.shape ?? [])]);
    this.output = output.name;
    this.outputShape = Object.freeze([...(output.shape ?? [])]);
    this.outputs = Object.freeze(outputs);
    this.batchSize = batchSize;
    const rest = this.outputShape.slice(1);
    if (rest.every((d) => typeof d === 'number')) this.#features = (rest as number[]).reduce((a, b) => a * b, 1);
  }

  /**
   * Embedding width: the values per row of the output (all its dimensions after the first,
   * flattened). Known from the model when those dimensions are fixed, else after the first run.
   */
  get features(): number | undefined {
    return this.#features;
  }

  /**
   * Open an ONNX file in onnxruntime (on the ONNX worker thread) and check that it has the named
   * output and one input hdglue can feed. Rejects with `ERR_HDGLUE_ONNX_RUNTIME_MISSING` when
   * onnxruntime-node is not installed (the message says how to install it), with
   * `ERR_HDGLUE_ONNX_MODEL` for a missing, corrupt or unsuitable file, and, when
   * `options.sha256` is given, with `ERR_HDGLUE_ONNX_CHANGED` for a missing file or other bytes.
   */
  static async load(path: string, options: OnnxMemberOptions): Promise<OnnxMember> {
    if (typeof path !== 'string' || path === '') throw typeError(`path must be a file name, got ${describe(path)}`);
    const o = checkOptions(options);
    if (typeof o.output !== 'string' || o.output === '') {
      throw typeError(`${path}: options.output must name the model output to read, got ${describe(o.output)}`);
    }
    if (o.input !== undefined && (typeof o.input !== 'string' || o.input === '')) {
      throw typeError(`${path}: options.input must be an input name, got ${describe(o.input)}`);
    }
    const name = o.name ?? basename(path, extname(path));
    const label = `member ${JSON.stringify(name)} (${path})`;
    if (o.batchSize !== undefined && !(Number.isSafeInteger(o.batchSize) && o.batchSize >= 1)) {
      throw rangeError(
        ErrorCode.OUT_OF_RANGE,
        `${label}: batchSize must be a positive integer, got ${describe(o.batchSize)}`,
      );
    }
    if (o.threads !== undefined && !(Number.isSafeInteger(o.threads) && o.threads >= 1 && o.threads <= 256)) {
      throw rangeError(
        ErrorCode.OUT_OF_RANGE,
        `${label}: threads must be an integer from 1 to 256, got ${describe(o.threads)}`,
      );
    }
    if (o.sha256 !== undefined && !(typeof o.sha256 === 'string' && /^[0-9a-fA-F]{64}$/.test(o.sha256))) {
      throw typeError(`${label}: options.sha256 must be 64 hex digits, got ${describe(o.sha256)}`);
    }
    const expected = o.sha256?.toLowerCase();
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'it is a directory' : err.message;
      // A recorded file that vanished is a changed source, not a bad argument.
      const code = expected !== undefined && err.code === 'ENOENT' ? ErrorCode.ONNX_CHANGED : ErrorCode.ONNX_MODEL;
      throw new HdglueError(code, `${label}: cannot read the ONNX file: ${why}`, { cause: e });
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (expected !== undefined && sha256 !== expected) {
      throw new HdglueError(
        ErrorCode.ONNX_CHANGED,
        `${label}: the ONNX file has changed: its SHA-256 is ${sha256.slice(0, 12)}..., ${expected.slice(0, 12)}... was expected`,
      );
    }
    const session = newSession();
    let reply: Awaited<ReturnType<typeof call>>;
    try {
      const copy = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      reply = await call({ op: 'load', session, bytes: copy, ...(o.threads ? { threads: o.threads } : {}) });
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (code === ErrorCode.ONNX_RUNTIME_MISSING) throw e;
      if (code === ErrorCode.ONNX_RUN)
        throw new HdglueError(ErrorCode.ONNX_RUN, `${label}: ${firstLine(e)}`, { cause: e });
      throw new HdglueError(
        ErrorCode.ONNX_MODEL,
        `${label}: onnxruntime cannot load this file as an ONNX model (corrupt, truncated or not ONNX): ${firstLine(e)}`,
        { cause: e },
      );
    }
    // From here the session exists in the worker: any check that fails releases it.
    try {
      const inputs = reply.inputs ?? [];
      const outputs = reply.outputs ?? [];
      const out = outputs.find((v) => v.name === o.output);
      if (!out) {
        throw new HdglueError(
          ErrorCode.ONNX_MODEL,
          `${label}: the model has no output named ${JSON.stringify(o.output)}; its outputs are ${names(outputs)}. ` +
            'Only graph outputs can be read: export the network with that layer as an output.',
        );
      }
      if (!out.isTensor || (out.type !== 'float32' && out.type !== 'float64') || !out.shape?.length) {
        throw new HdglueError(
          ErrorCode.ONNX_MODEL,
          `${label}: output ${JSON.stringify(out.name)} is ${out.isTensor ? `a ${out.type} tensor of shape [${(out.shape ?? []).join(', ')}]` : 'not a tensor'}; an embedding must be a float32 or float64 tensor with a row dimension first`,
        );
      }
      if (inputs.length !== 1) {
        throw new HdglueError(
          ErrorCode.ONNX_MODEL,
          `${label}: the model takes ${inputs.length} inputs (${names(inputs)}); an ONNX member feeds exactly one`,
        );
      }
      const input = inputs[0] as ValueInfo;
      if (o.input !== undefined && o.input !== input.name) {
        throw new HdglueError(
          ErrorCode.ONNX_MODEL,
          `${label}: the model has no input named ${JSON.stringify(o.input)}; its input is ${JSON.stringify(input.name)}`,
        );
      }
      if (!input.isTensor || !isElementType(input.type) || !input.shape?.length) {
        throw new HdglueError(
          ErrorCode.ONNX_MODEL,
          `${label}: input ${JSON.stringify(input.name)} is ${input.isTensor ? `of type ${input.type} and shape [${(input.shape ?? []).join(', ')}]` : 'not a tensor'}; hdglue feeds float32, float64, int32, int64, uint8 or int8 tensors with a row dimension first`,
        );
      }
      const fixed = input.shape[0];
      const batchSize = typeof fixed === 'number' && fixed > 0 ? fixed : (o.batchSize ?? 256);
      return new OnnxMember(
        path,
        name,
        session,
        input,
        out,
        outputs.map((v) => v.name),
        batchSize,
        sha256,
      );
    } catch (e) {
      await call({ op: 'release', session }).catch(() => {});
      throw e;
    }
  }

  /**
   * Run the network on `x` (one row per example, any number of rows) in batches of
   * {@link batchSize}, and return the named output flattened per row: `rows x features` values,
   * row-major, in the output's own float type. The work runs on the ONNX worker thread. A shape
   * that does not fit the model's input is an `ERR_HDGLUE_SHAPE` RangeError naming the member
   * and the file; a failure inside onnxruntime is `ERR_HDGLUE_ONNX_RUN`.
   * @param options - `member`: the name to use in messages (default {@link name})
   */
  async embed(x: RawInput, options?: { member?: string }): Promise<Float32Array | Float64Array> {
    const o = checkOptions(options);
    const label = `member ${JSON.stringify(o.member ?? this.name)} (${this.path})`;
    if (this.#session === undefined) throw new HdglueError(ErrorCode.ONNX_RUN, `${label}: the member was closed`);
    const session = this.#session;
    const checked = checkInput(x, this.inputShape, label);
    const n = checked.rows;
    let out: Float32Array | Float64Array | undefined;
    // Two runs in flight: the next batch is copied and posted while the worker computes one.
    const batches: [number, number][] = [];
    for (let s = 0; s < n; s += this.batchSize) batches.push([s, Math.min(n, s + this.batchSize)]);
    const send = ([s, e]: [number, number]) => {
      const data = batchOf(checked, s, e, this.inputType, label);
      const dims = [e - s, ...checked.dims.slice(1)];
      return call({ op: 'run', session, input: this.input, output: this.output, type: this.inputType, data, dims }, [
        data.buffer as ArrayBuffer,
      ]).catch((err: unknown) => {
        throw new HdglueError(
          ErrorCode.ONNX_RUN,
          `${label}: onnxruntime failed on rows ${s}..${e - 1} (input [${dims.join(', ')}]): ${firstLine(err)}`,
          { cause: err },
        );
      });
    };
    let inFlight = batches.length ? send(batches[0] as [number, number]) : undefined;
    for (let b = 0; b < batches.length; b++) {
      const [s, e] = batches[b] as [number, number];
      const next = b + 1 < batches.length ? send(batches[b + 1] as [number, number]) : undefined;
      // A later batch that fails while this one is awaited must not be an unhandled rejection.
      next?.catch(() => {});
      const reply = await (inFlight as ReturnType<typeof send>);
      inFlight = next;
      const data = reply.data as Float32Array | Float64Array;
      const dims = reply.dims ?? [];
      const rows = e - s;
      const width = dims.slice(1).reduce((a, c) => a * c, 1);
      if (dims[0] !== rows || data.length !== rows * width) {
        throw new HdglueError(
          ErrorCode.ONNX_RUN,
          `${label}: output ${JSON.stringify(this.output)} has shape [${dims.join(', ')}] for a batch of ${rows} rows; an embedding needs one row per input row`,
        );
      }
      if (this.#features === undefined) this.#features = width;
      if (width !== this.#features) {
        throw new HdglueError(
          ErrorCode.ONNX_RUN,
          `${label}: output ${JSON.stringify(this.output)} has ${width} values per row in this batch but ${this.#features} before`,
        );
      }
      out ??= data instanceof Float32Array ? new Float32Array(n * width) : new Float64Array(n * width);
      out.set(data, s * width);
    }
    return out as Float32Array | Float64Array;
  }

  /** Release the onnxruntime session (the worker thread stops once no member is open). */
  async close(): Promise<void> {
    const s = this.#session;
    if (s === undefined) return;
    this.#session = undefined;
    await call({ op: 'release', session: s });
  }
}

// Names for a message: quoted, comma-separated.
function names(values: readonly ValueInfo[]): string {
  return values.map((v) => JSON.stringify(v.name)).join(', ') || 'none';
}

function firstLine(e: unknown): string {
  return ((e as Error)?.message ?? String(e)).split('\n')[0] as string;
}
