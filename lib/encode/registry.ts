/**
 * The encoder kinds a glue member can use, by the `kind` their descriptions carry: one table, so
 * that reading a model file, checking a member and any new kind meet in one place.
 */

import { badDescription } from '../core/description.js';
import { EmbeddingEncoder, type EmbeddingEncoderDescription } from './level.js';
import { ProjectionEncoder, type ProjectionEncoderDescription } from './projection.js';

/** An encoder a member can use. */
export type Encoder = EmbeddingEncoder | ProjectionEncoder;

// A Map, not an object: a description's kind is read from a file and may be "__proto__".
const KINDS = new Map<string, (description: object) => Encoder>([
  ['hdglue.EmbeddingEncoder', (d) => EmbeddingEncoder.fromJSON(d as EmbeddingEncoderDescription)],
  ['hdglue.ProjectionEncoder', (d) => ProjectionEncoder.fromJSON(d as ProjectionEncoderDescription)],
]);

/** Whether `x` is an encoder of a kind a member can use. */
export function isEncoder(x: unknown): x is Encoder {
  return x instanceof EmbeddingEncoder || x instanceof ProjectionEncoder;
}

/**
 * Rebuild an encoder from the description its `toJSON` wrote, by the description's `kind`. A
 * description that is not an object, or names no kind listed here, is an
 * `ERR_HDGLUE_BAD_DESCRIPTION` error; the kind's own `fromJSON` checks the rest.
 */
export function encoderFromJSON(description: unknown): Encoder {
  if (description === null || typeof description !== 'object') throw badDescription('not an object');
  const kind = (description as { kind?: unknown }).kind;
  const fromJSON = typeof kind === 'string' ? KINDS.get(kind) : undefined;
  if (!fromJSON) throw badDescription(`kind is ${String(kind)}, not one of ${[...KINDS.keys()].join(', ')}`);
  return fromJSON(description);
}
