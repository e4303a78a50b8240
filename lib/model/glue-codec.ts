/**
 * The glue model file: writing a glue's members (encoder descriptions, weights, HIL headers and
 * counters), its concat layer and its records, and reading one back with every field checked
 * before anything large is built. The header key of the consensus stays `strategy` (its name
 * before members' consensus was renamed), so model files stay byte-identical across versions.
 *
 * The codec does not import the glue class (the class's `save` and `load` call it): reading
 * builds the glue through the calls `HDGlue.load` hands over, so a member read from a file
 * passes the very checks `addMember` makes.
 */

import type { TieRule } from '../core/ops.js';
import { type Encoder, encoderFromJSON } from '../encode/registry.js';
import { ErrorCode, HdglueError, typeError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { encodeModel, readModelFile } from '../io/model-file.js';
import type { Label } from '../label.js';
import { checkOptions, describe, LIMITS, SEED_STRING } from '../validate.js';
import type { Consensus, JointLayer } from './consensus.js';
import { HIL } from './hil.js';
import type { HILHeader } from './hil-codec.js';
import { copyOnnxSource, type OnnxSourceSpec, onnxSourceProblem } from './onnx-source.js';
import { isRecipeName, isTuneResult, type RecipeName, type TuneResult } from './tuning-record.js';

/** Options of `HDGlue.load`. */
export interface LoadOptions {
  /** Largest file to read, in bytes (default 1 GiB). */
  maxBytes?: number;
  /** Largest total size of the vectors an encoder regenerates from its seed (default 1 GiB). */
  maxVectorBytes?: number;
}

/** A member as the file holds it. */
export interface StoredMember {
  name: string;
  encoder: Encoder;
  hil: HIL;
  weight: number;
}

/** Everything a glue file holds. */
export interface StoredGlue {
  consensus: Consensus;
  seed: bigint;
  tie: TieRule;
  tuning: TuneResult | undefined;
  recipe: RecipeName | undefined;
  /** In the glue's member order. */
  members: readonly StoredMember[];
  joint: JointLayer | null;
  /** Each ONNX member's source, by member name; undefined or empty: none. */
  onnxSources: Record<string, OnnxSourceSpec> | undefined;
}

/** The glue a file is read into, seen through the calls reading needs (HDGlue has them all). */
export interface GlueTarget {
  tuning: TuneResult | undefined;
  recipe: RecipeName | undefined;
  onnxSources: Record<string, OnnxSourceSpec> | undefined;
  addMember(name: string, member: { encoder: Encoder; hil: HIL; weight: number }): unknown;
  members(): string[];
  member(name: string): { readonly encoder: Encoder };
  labels(): Label[];
}

/** Write a glue to a model file, atomically. */
export function writeGlue(path: string, glue: StoredGlue): void {
  const members = glue.members.map((m) => ({ m, model: m.hil.toModel() }));
  // The concat layer, if trained, is one more section after the members'.
  const joint = glue.joint ? { names: glue.joint.names, model: glue.joint.hil.toModel() } : null;
  const onnx = onnxRecord(
    glue.onnxSources,
    glue.members.map((m) => m.name),
  );
  const header = {
    kind: 'hdglue.HDGlue',
    // The old key, on purpose: model files stay byte-identical.
    strategy: glue.consensus,
    ...(glue.tuning === undefined ? {} : { tuning: glue.tuning }),
    ...(glue.recipe === undefined ? {} : { recipe: glue.recipe }),
    seed: glue.seed.toString(),
    tie: glue.tie,
    members: members.map(({ m, model }) => ({
      name: m.name,
      weight: m.weight,
      encoder: m.encoder.toJSON(),
      hil: model.header,
    })),
    ...(joint ? { joint: { names: joint.names, hil: joint.model.header } } : {}),
    // Last and only when there is one, so files without ONNX members keep their bytes.
    ...(onnx ? { onnx } : {}),
  };
  const sections = members.map((x) => x.model.section);
  if (joint) sections.push(joint.model.section);
  writeFileAtomic(path, encodeModel(header, sections));
}

/**
 * Read a glue written by {@link writeGlue}: `create` makes the empty glue (checking consensus,
 * seed and tie), members are added through its `addMember`, and `setJoint` installs the concat
 * layer once it is checked against them. A truncated, corrupted or foreign file is an
 * `ERR_HDGLUE_MODEL_FILE` error, a newer format `ERR_HDGLUE_MODEL_VERSION`.
 */
export function readGlue<G extends GlueTarget>(
  path: string,
  options: LoadOptions | undefined,
  create: (o: { consensus: Consensus; seed: bigint; tie: TieRule }) => G,
  setJoint: (glue: G, joint: JointLayer) => void,
): G {
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
    onnx?: unknown;
  };
  const bad = (why: string) => new HdglueError(ErrorCode.MODEL_FILE, `not a valid hdglue glue file: ${why}`);
  if (h === null || typeof h !== 'object' || h.kind !== 'hdglue.HDGlue') throw bad(`kind ${String(h?.kind)}`);
  const hasJoint = h.joint !== undefined;
  if (!Array.isArray(h.members) || h.members.length + (hasJoint ? 1 : 0) !== f.sections.length)
    throw bad('members and sections differ');
  if (h.members.length > LIMITS.members) throw bad(`${h.members.length} members, above the limit of ${LIMITS.members}`);
  if (typeof h.seed !== 'string' || !SEED_STRING.test(h.seed))
    throw bad('seed is not a decimal string of at most 20 digits');
  let glue: G;
  try {
    glue = create({ consensus: h.strategy as Consensus, seed: BigInt(h.seed), tie: h.tie as TieRule });
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
      encoder = encoderFromJSON(m.encoder);
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
    setJoint(glue, { names: names as string[], hil });
  }
  if (h.tuning !== undefined) {
    if (!isTuneResult(h.tuning)) throw bad('tuning record is malformed');
    glue.tuning = h.tuning;
  }
  if (h.recipe !== undefined) {
    if (!isRecipeName(h.recipe)) throw bad(`unknown recipe ${JSON.stringify(String(h.recipe).slice(0, 40))}`);
    glue.recipe = h.recipe;
  }
  if (h.onnx !== undefined) {
    const o = h.onnx as Record<string, unknown> | null;
    if (o === null || typeof o !== 'object' || Array.isArray(o)) throw bad('the ONNX sources are not an object');
    const members = glue.members();
    const sources: Record<string, OnnxSourceSpec> = {};
    for (const [name, spec] of Object.entries(o)) {
      if (!members.includes(name)) throw bad(`an ONNX source names ${JSON.stringify(name)}, which is not a member`);
      const why = onnxSourceProblem(spec);
      if (why) throw bad(`the ONNX source of member ${JSON.stringify(name)} ${why}`);
      sources[name] = copyOnnxSource(spec as OnnxSourceSpec);
    }
    glue.onnxSources = Object.keys(sources).length ? sources : undefined;
  }
  return glue;
}

/**
 * The header's record of ONNX sources: each entry checked (a glue must not write a file it
 * would refuse to read) and copied, in member order; undefined when there is none.
 */
function onnxRecord(
  sources: Record<string, OnnxSourceSpec> | undefined,
  members: readonly string[],
): Record<string, OnnxSourceSpec> | undefined {
  if (sources === undefined) return undefined;
  if (sources === null || typeof sources !== 'object')
    throw typeError(`onnxSources must map member names to sources, got ${describe(sources)}`);
  for (const name of Object.keys(sources)) {
    if (!members.includes(name))
      throw new HdglueError(
        ErrorCode.UNKNOWN_MEMBER,
        `onnxSources names ${JSON.stringify(name)}, which is not a member (members: ${members.map((n) => JSON.stringify(n)).join(', ') || 'none'})`,
      );
    const why = onnxSourceProblem(sources[name]);
    if (why) throw typeError(`onnxSources: the source of member ${JSON.stringify(name)} ${why}`);
  }
  const entries = members
    .filter((n) => Object.hasOwn(sources, n))
    .map((n) => [n, copyOnnxSource(sources[n] as OnnxSourceSpec)]);
  return entries.length ? Object.fromEntries(entries) : undefined;
}

// A size field of a file as a count of bytes or rows: non-negative or nothing, so that a
// negative field (refused later anyway) cannot offset the others in a total.
function size(v: unknown): number {
  return typeof v === 'number' && v > 0 ? v : 0;
}
