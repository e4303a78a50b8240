/**
 * The CLI's members, of either kind: `--member NAME=EMB.npy` (precomputed embeddings, read by
 * lib/cli/inputs.ts) or `--member NAME=MODEL.onnx:OUTPUT` with `--input NAME=INPUTS.npy` (the
 * network run by onnxruntime-node on the inputs, read at OUTPUT). With a model whose file records
 * its ONNX members (`hdglue fit` writes that), `--input NAME=INPUTS.npy` alone runs the recorded
 * network, checked against its SHA-256; a `--member` flag for that name overrides the record.
 * Either way the commands get embeddings, so fit, predict and eval treat both kinds alike.
 * hdglue/onnx is imported only when an ONNX member is used, so the CLI runs without
 * onnxruntime-node otherwise.
 */
import { ErrorCode, HdglueError } from '../errors.js';
import { readNpy } from '../io/npy.js';
import type { HDGlue } from '../model/glue.js';
import type { OnnxSourceSpec } from '../model/onnx-source.js';
import type { OnnxMember } from '../onnx/member.js';
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

/** A loaded model and its file, whose recorded ONNX members `--input` alone may run. */
export interface RecordedModel {
  glue: HDGlue;
  path: string;
}

/**
 * Every `--member`, in order, as embeddings: `.npy` members read directly, ONNX members run on
 * their `--input`; then each `--input` of a member given no `--member`, run through the network
 * `model` records for it. Each ONNX member needs exactly one `--input NAME=FILE.npy`, and only
 * ONNX members take one.
 */
export async function readAllMembers(
  memberSpecs: readonly string[],
  inputSpecs: readonly string[],
  model?: RecordedModel,
): Promise<MemberInput[]> {
  const recorded = model?.glue.onnxSources ?? {};
  if (memberSpecs.length === 0 && (inputSpecs.length === 0 || !Object.keys(recorded).length)) {
    throw new UsageError(
      Object.keys(recorded).length
        ? `give at least one --member NAME=FILE.npy or NAME=MODEL.onnx:OUTPUT, or --input NAME=INPUTS.npy for a network ${model?.path} records (${Object.keys(recorded).join(', ')})`
        : 'give at least one --member NAME=FILE.npy or NAME=MODEL.onnx:OUTPUT',
    );
  }
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
  // Members run from the model's record: an --input and no --member (which would override it).
  const fromRecord: string[] = [];
  for (const name of inputs.keys()) {
    if (!specs.some((s) => s.name === name)) {
      if (Object.hasOwn(recorded, name)) {
        fromRecord.push(name);
        continue;
      }
      throw new UsageError(
        `--input ${name}: there is no --member ${name}${model ? ` and ${model.path} records no ONNX file for ${name}` : ''}`,
      );
    }
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
    if (!onnxSpec) {
      out.push(readMember(s.name, s.path));
      continue;
    }
    const load = async () => {
      const { OnnxMember } = await import('../onnx/member.js');
      return OnnxMember.load(onnxSpec.model, { output: onnxSpec.output, name: s.name });
    };
    out.push(await runMember(s.name, load, inputs.get(s.name) as string));
  }
  for (const name of fromRecord) {
    const { glue, path } = model as RecordedModel;
    const load = async () => {
      const { onnxMembersOf } = await import('../onnx/sources.js');
      try {
        return (await onnxMembersOf(glue, path, { members: [name] }))[name] as OnnxMember;
      } catch (e) {
        const err = e as { code?: string; message?: string };
        // The record is out of date: say how to go on without refitting.
        if (err.code !== ErrorCode.ONNX_CHANGED) throw e;
        throw new HdglueError(
          ErrorCode.ONNX_CHANGED,
          `${err.message}; refit the model, or run another file with --member ${name}=MODEL.onnx:OUTPUT`,
          { cause: e },
        );
      }
    };
    out.push(await runMember(name, load, inputs.get(name) as string));
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

/**
 * The sources of the ONNX members among `members`, to record in a model file saved at
 * `modelPath` (see `HDGlue.onnxSources`); undefined when every member is a `.npy`.
 */
export async function onnxSourcesFor(
  members: readonly MemberInput[],
  modelPath: string,
): Promise<Record<string, OnnxSourceSpec> | undefined> {
  const onnx = members.filter((m) => m.onnx);
  if (onnx.length === 0) return undefined;
  const { onnxSourceOf } = await import('../onnx/sources.js');
  return Object.fromEntries(onnx.map((m) => [m.name, onnxSourceOf(m.onnx as OnnxMember, modelPath)]));
}

// One ONNX member's embeddings: its inputs read (and checked) first, then the network loaded by
// `load` and run on them, and closed.
async function runMember(name: string, load: () => Promise<OnnxMember>, inputPath: string): Promise<MemberInput> {
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
  const member = await load();
  try {
    const x = await member.embed({ data, dims: a.shape }).catch((e: { code?: string; message?: string }) => {
      // The shape is the input file's: say which file, besides the member and the model.
      if (e?.code === ErrorCode.SHAPE)
        throw Object.assign(new RangeError(`${inputPath}: ${e.message}`), { code: e.code });
      throw e;
    });
    const rows = a.shape[0] as number;
    return {
      name,
      path: `${member.path}:${member.output} on ${inputPath}`,
      x,
      rows,
      features: x.length / rows,
      onnx: member,
    };
  } finally {
    await member.close();
  }
}
