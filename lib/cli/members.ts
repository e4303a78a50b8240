/**
 * The CLI's members, of either kind: `--member NAME=EMB.npy` (precomputed embeddings, read by
 * lib/cli/inputs.ts) or `--member NAME=MODEL.onnx:OUTPUT` with `--input NAME=INPUTS.npy` (the
 * network run by onnxruntime-node on the inputs, read at OUTPUT). Either way the commands get
 * embeddings, so fit, predict and eval treat both kinds alike. hdglue/onnx is imported only when
 * an ONNX member is given, so the CLI runs without onnxruntime-node otherwise.
 */
import { ErrorCode, HdglueError } from '../errors.js';
import { readNpy } from '../io/npy.js';
import type { TensorInput } from '../onnx/tensor.js';
import { UsageError } from './errors.js';
import { type MemberInput, parseMemberSpec, readMember } from './inputs.js';

/** `MODEL.onnx:OUTPUT` split, or undefined for any other member file. */
export function parseOnnxSpec(path: string): { model: string; output: string } | undefined {
  // The last ".onnx:" splits: output names often hold '/', '.' and ':' (e.g. "/fc1/Tanh_output_0").
  const at = path.toLowerCase().lastIndexOf('.onnx:');
  if (at < 0) {
    if (path.toLowerCase().endsWith('.onnx')) {
      throw new UsageError(`--member ${path}: give the output to read as MODEL.onnx:OUTPUT (e.g. model.onnx:hidden)`);
    }
    return undefined;
  }
  const output = path.slice(at + 6);
  if (output === '') throw new UsageError(`--member ${path}: the output name after the colon is empty`);
  return { model: path.slice(0, at + 5), output };
}

/**
 * Every `--member`, in order, as embeddings: `.npy` members read directly, ONNX members run on
 * their `--input`. Each ONNX member needs exactly one `--input NAME=FILE.npy`, and only ONNX
 * members take one.
 */
export async function readAllMembers(
  memberSpecs: readonly string[],
  inputSpecs: readonly string[],
): Promise<MemberInput[]> {
  if (memberSpecs.length === 0)
    throw new UsageError('give at least one --member NAME=FILE.npy or NAME=MODEL.onnx:OUTPUT');
  const specs = memberSpecs.map((s) => ({ spec: s, ...parseMemberSpec(s) }));
  specs.forEach((s, i) => {
    if (specs.findIndex((t) => t.name === s.name) !== i)
      throw new UsageError(`member ${JSON.stringify(s.name)} is given twice`);
  });
  const inputs = new Map<string, string>();
  for (const s of inputSpecs) {
    const at = s.indexOf('=');
    if (at <= 0 || at === s.length - 1) throw new UsageError(`--input takes NAME=INPUTS.npy, got ${JSON.stringify(s)}`);
    const name = s.slice(0, at);
    if (inputs.has(name)) throw new UsageError(`--input ${name} is given twice`);
    inputs.set(name, s.slice(at + 1));
  }
  const onnx = new Set(specs.filter((s) => parseOnnxSpec(s.path)).map((s) => s.name));
  for (const name of inputs.keys()) {
    if (!specs.some((s) => s.name === name)) throw new UsageError(`--input ${name}: there is no --member ${name}`);
    if (!onnx.has(name)) {
      throw new UsageError(
        `--input ${name}: member ${name} is a .npy of embeddings; only MODEL.onnx:OUTPUT members take inputs`,
      );
    }
  }
  for (const name of onnx) {
    if (!inputs.has(name))
      throw new UsageError(`member ${name} is an ONNX model: give its inputs with --input ${name}=INPUTS.npy`);
  }
  const out: MemberInput[] = [];
  for (const s of specs) {
    const onnxSpec = onnx.has(s.name) ? parseOnnxSpec(s.path) : undefined;
    out.push(
      onnxSpec
        ? await runMember(s.name, onnxSpec.model, onnxSpec.output, inputs.get(s.name) as string)
        : readMember(s.name, s.path),
    );
  }
  for (const m of out) checkFinite(m);
  return out;
}

/**
 * A NaN or infinite embedding is refused here, naming the file, row and feature: deeper down the
 * encoder would name the row and feature but not the file the user has to fix.
 */
function checkFinite(m: MemberInput): void {
  const x = m.x;
  for (let i = 0; i < x.length; i++) {
    const v = x[i] as number;
    if (v - v !== 0) {
      throw new HdglueError(
        ErrorCode.NOT_FINITE,
        `${m.path}: row ${Math.floor(i / m.features)}, feature ${i % m.features} is ${String(v)}; embeddings must be finite`,
      );
    }
  }
}

async function runMember(name: string, model: string, output: string, inputPath: string): Promise<MemberInput> {
  const a = readNpy(inputPath);
  if (a.dtype === 'unicode' || a.dtype === 'bytes' || a.dtype === 'bool' || a.dtype === 'uint64') {
    throw new HdglueError(
      ErrorCode.NPY_FORMAT,
      `${inputPath}: network inputs must be numbers, this file holds ${a.dtype} (${a.descr})`,
    );
  }
  if (a.shape.length < 1 || (a.shape[0] as number) < 1) {
    throw new HdglueError(
      ErrorCode.NPY_FORMAT,
      `${inputPath}: inputs need a first dimension of rows, this file has shape (${a.shape.join(', ')})`,
    );
  }
  const data =
    a.data instanceof Int16Array || a.data instanceof Uint16Array || a.data instanceof Uint32Array
      ? Float64Array.from(a.data)
      : (a.data as TensorInput['data']);
  const { OnnxMember } = await import('../onnx/member.js');
  const member = await OnnxMember.load(model, { output, name });
  try {
    const x = await member.embed({ data, dims: a.shape }).catch((e: { code?: string; message?: string }) => {
      // The shape is the input file's: say which file, besides the member and the model.
      if (e?.code === ErrorCode.SHAPE)
        throw Object.assign(new RangeError(`${inputPath}: ${e.message}`), { code: e.code });
      throw e;
    });
    const rows = a.shape[0] as number;
    return { name, path: `${model}:${output} on ${inputPath}`, x, rows, features: x.length / rows };
  } finally {
    await member.close();
  }
}
