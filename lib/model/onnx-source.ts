/**
 * Where an ONNX member's network comes from, as a glue model file records it: the ONNX file
 * (relative to the model file), its SHA-256, the output read and the input fed. A plain data
 * record: it lives here, below lib/onnx (which rebuilds the members from it), so that a glue can
 * save and load it without the model layer knowing onnxruntime or the code that runs networks.
 */

/** One ONNX member's source, as `hdglue fit` records it in the model file. */
export interface OnnxSourceSpec {
  /**
   * The ONNX file, relative to the directory of the model file, with `/` between segments
   * (e.g. `'nets/cnn.onnx'` or `'../cnn.onnx'`); never absolute, so a model moved together with
   * its networks keeps working.
   */
  path: string;
  /** SHA-256 of the file's bytes, 64 lowercase hex digits: a file that differs is refused. */
  sha256: string;
  /** The graph output read as the embedding. */
  output: string;
  /** The graph input fed with the raw inputs: its name and declared shape (numbers fixed, names free). */
  input: { name: string; shape: (number | string)[] };
}

const SHA256 = /^[0-9a-f]{64}$/;
// An absolute path on either family of systems: '/x', '\\x', 'C:...'.
const ABSOLUTE = /^(?:[/\\]|[A-Za-z]:)/;

/**
 * Why `spec` is not a valid {@link OnnxSourceSpec}, or undefined when it is. Exactly the four
 * fields are allowed (no others), so a record read and written back keeps its bytes.
 * @internal
 */
export function onnxSourceProblem(spec: unknown): string | undefined {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) return 'is not an object';
  const s = spec as Record<string, unknown>;
  const extra = Object.keys(s).filter((k) => !['path', 'sha256', 'output', 'input'].includes(k));
  if (extra.length) return `has unknown field(s) ${extra.map((k) => JSON.stringify(k)).join(', ')}`;
  const { path, sha256, output, input } = s;
  if (typeof path !== 'string' || path === '' || path.includes('\0')) return 'has no path';
  // '/'-separated on every platform, so a file written on one system reads on another.
  if (ABSOLUTE.test(path) || path.includes('\\'))
    return `path ${JSON.stringify(path)} is not relative and '/'-separated`;
  if (typeof sha256 !== 'string' || !SHA256.test(sha256)) return 'sha256 is not 64 lowercase hex digits';
  if (typeof output !== 'string' || output === '') return 'has no output name';
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return 'input is not an object';
  const i = input as Record<string, unknown>;
  if (Object.keys(i).some((k) => k !== 'name' && k !== 'shape')) return 'input has fields other than name and shape';
  if (typeof i.name !== 'string' || i.name === '') return 'input has no name';
  const shape = i.shape;
  if (!Array.isArray(shape) || shape.length === 0) return 'input shape is not a non-empty array';
  // onnxruntime reports fixed dimensions as numbers (-1 for an unknown one) and free ones by name.
  if (!shape.every((d) => typeof d === 'string' || (Number.isSafeInteger(d) && (d as number) >= -1)))
    return 'input shape holds something other than integers >= -1 and names';
  return undefined;
}

/** A copy of a valid spec with its fields in the order the file writes them. @internal */
export function copyOnnxSource(s: OnnxSourceSpec): OnnxSourceSpec {
  return { path: s.path, sha256: s.sha256, output: s.output, input: { name: s.input.name, shape: [...s.input.shape] } };
}

/** `sources` without `name`'s entry (a new object; undefined when none is left). @internal */
export function withoutSource(
  sources: Record<string, OnnxSourceSpec> | undefined,
  name: string,
): Record<string, OnnxSourceSpec> | undefined {
  if (sources === undefined || !Object.hasOwn(sources, name)) return sources;
  const rest = Object.fromEntries(Object.entries(sources).filter(([k]) => k !== name));
  return Object.keys(rest).length ? rest : undefined;
}
