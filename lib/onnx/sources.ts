/**
 * Self-contained models: the ONNX members of a saved glue rebuilt from the sources its model
 * file records (`HDGlue.onnxSources`, written by `hdglue fit` and `OnnxGlue.save`). A recorded
 * path is relative to the model file's directory, so a model moved together with its networks
 * keeps working; a file is opened only when the model names it, and loaded only if its bytes still
 * have the recorded SHA-256, so a model runs with the networks it was fitted on or not at all.
 */
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ErrorCode, HdglueError, typeError } from '../errors.js';
import type { HDGlue } from '../model/glue.js';
import type { OnnxSourceSpec } from '../model/onnx-source.js';
import { checkOptions, describe } from '../validate.js';
import { OnnxMember } from './member.js';

/** Options of {@link onnxMembersOf}. */
export interface OnnxSourcesOptions {
  /** Members to open (each must have a recorded source); default every member that has one. */
  members?: readonly string[];
  /** Rows per onnxruntime run of each member (see `OnnxMemberOptions.batchSize`). */
  batchSize?: number;
  /** onnxruntime's intra-op threads per session (see `OnnxMemberOptions.threads`). */
  threads?: number;
}

/**
 * The file a recorded source names, for a model file at `modelPath`: its `/`-separated path
 * joined to the model's directory (relative when `modelPath` is, as messages show it).
 */
export function onnxSourcePath(modelPath: string, spec: Pick<OnnxSourceSpec, 'path'>): string {
  return join(dirname(modelPath), ...spec.path.split('/'));
}

/**
 * What a model file saved at `modelPath` records of `member`: its file relative to the model's
 * directory, the SHA-256 of the bytes it loaded, its output and its input. An ONNX file that has
 * no path relative to the model's directory (another drive on Windows) is `ERR_HDGLUE_ONNX_MODEL`.
 */
export function onnxSourceOf(
  member: Pick<OnnxMember, 'path' | 'sha256' | 'output' | 'input' | 'inputShape'>,
  modelPath: string,
): OnnxSourceSpec {
  const rel = relative(dirname(resolve(modelPath)), resolve(member.path));
  if (rel === '' || isAbsolute(rel)) {
    throw new HdglueError(
      ErrorCode.ONNX_MODEL,
      `${member.path}: the ONNX file cannot be recorded relative to ${modelPath}'s directory; keep them on one drive`,
    );
  }
  return {
    path: rel.split(sep).join('/'),
    sha256: member.sha256,
    output: member.output,
    input: { name: member.input, shape: [...member.inputShape] },
  };
}

/**
 * Load the ONNX members of `glue`, read from the model file `modelPath`, from the sources that
 * file records: each file is found relative to the model's directory and must still have the
 * recorded SHA-256, output and input. A missing or changed file is `ERR_HDGLUE_ONNX_CHANGED`, in
 * one line naming the model, the member and the file; other failures are those of
 * {@link OnnxMember.load}, named the same way. On any failure the members already loaded are
 * closed. Close the returned members (or the `OnnxGlue` they go to) when done.
 */
export async function onnxMembersOf(
  glue: HDGlue,
  modelPath: string,
  options?: OnnxSourcesOptions,
): Promise<Record<string, OnnxMember>> {
  if (typeof modelPath !== 'string' || modelPath === '')
    throw typeError(`modelPath must be a file name, got ${describe(modelPath)}`);
  const o = checkOptions(options);
  if (o.members !== undefined && !Array.isArray(o.members))
    throw typeError(`options.members must be an array of member names, got ${describe(o.members)}`);
  const sources = glue.onnxSources ?? {};
  const names = o.members === undefined ? Object.keys(sources) : [...o.members];
  for (const name of names) {
    if (!Object.hasOwn(sources, name)) {
      throw new HdglueError(
        ErrorCode.ONNX_MODEL,
        `${modelPath}: member ${JSON.stringify(name)} has no recorded ONNX file (recorded: ${
          Object.keys(sources)
            .map((n) => JSON.stringify(n))
            .join(', ') || 'none'
        })`,
      );
    }
  }
  const out: Record<string, OnnxMember> = {};
  try {
    for (const name of names) {
      const spec = sources[name] as OnnxSourceSpec;
      out[name] = await OnnxMember.load(onnxSourcePath(modelPath, spec), {
        output: spec.output,
        input: spec.input.name,
        name,
        sha256: spec.sha256,
        ...(o.batchSize === undefined ? {} : { batchSize: o.batchSize }),
        ...(o.threads === undefined ? {} : { threads: o.threads }),
      }).catch((e: unknown) => {
        // The member's own message names it and the file; say which model recorded that file.
        if (e instanceof HdglueError) throw new HdglueError(e.code, `${modelPath}: ${e.message}`, { cause: e });
        throw e;
      });
    }
  } catch (e) {
    await Promise.all(Object.values(out).map((m) => m.close().catch(() => {})));
    throw e;
  }
  return out;
}
