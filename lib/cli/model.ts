/**
 * Loading a model for `predict`, `eval` and `info`, and matching the given members to it: a
 * corrupt or foreign file names the file; a member the model does not know names the members
 * it does.
 */
import { ErrorCode, HdglueError } from '../errors.js';
import { HDGlue } from '../model/glue.js';
import type { MemberInput } from './inputs.js';

/** Read a glue model file; errors name the file (the library's messages do not always, and a log must). */
export function loadModel(path: string): HDGlue {
  try {
    return HDGlue.load(path);
  } catch (e) {
    const err = e as { code?: string; message?: string };
    if (typeof err.code === 'string' && err.code.startsWith('ERR_HDGLUE_') && !err.message?.includes(path)) {
      throw new HdglueError(err.code as HdglueError['code'], `${path}: ${err.message}`, { cause: e });
    }
    throw e;
  }
}

/** The members' embeddings as glue inputs, after checking each is a member with the right width. */
export function inputsFor(
  glue: HDGlue,
  members: readonly MemberInput[],
  modelPath: string,
): Record<string, Float32Array | Float64Array> {
  const known = glue.members();
  const out: Record<string, Float32Array | Float64Array> = {};
  for (const m of members) {
    if (!known.includes(m.name)) {
      throw new HdglueError(
        ErrorCode.UNKNOWN_MEMBER,
        `${modelPath} has no member ${JSON.stringify(m.name)} (its members: ${known.join(', ')})`,
      );
    }
    const want = glue.member(m.name).encoder.features;
    if (m.features !== want) {
      throw new HdglueError(
        ErrorCode.SHAPE,
        `${m.path}: ${m.features} features per row, but member ${JSON.stringify(m.name)} of ${modelPath} takes ${want}`,
      );
    }
    out[m.name] = m.x;
  }
  return out;
}
