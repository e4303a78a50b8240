/**
 * An HIL inside a model file: a JSON header ({@link HILHeader}) and one binary section, the
 * counters (classes x dim int32) followed, for the nearest readout, by each stored example's
 * class index (int32) and the stored rows. Reading checks everything the layer's own methods
 * guarantee, so a damaged file is an `ERR_HDGLUE_MODEL_FILE` error, never a broken layer.
 *
 * @internal
 */

import type { TieRule } from '../core/ops.js';
import { ErrorCode, HdglueError } from '../errors.js';
import type { Label } from '../label.js';
import { checkPacked, LIMITS, SEED_STRING, wordsOf } from '../validate.js';
import { checkHILOptions, checkLabel, type LayerSettings, type Metric, type Readout } from './hil-options.js';
import { Memory } from './memory.js';

/** Description of an HIL inside a model file (counters travel as a binary section). @internal */
export interface HILHeader {
  dim: number;
  seed: string;
  tie: TieRule;
  metric: Metric;
  labels: Label[];
  counts: number[];
  /** `'nearest'`: the section also holds the stored examples (absent in older files: `'prototype'`). */
  readout?: Readout;
  /** Stored examples of the nearest readout. */
  memory?: number;
}

/** What a model file holds of an HIL. @internal */
export interface HILState {
  settings: LayerSettings;
  labels: Label[];
  counts: number[];
  /** classes x dim int32. */
  counters: Int32Array;
  /** The nearest readout's stored examples (empty for the prototype readout). */
  memory: Memory;
}

/**
 * The header and the section of a layer's state. The section is the counters array itself
 * (no copy) for the prototype readout. @internal
 */
export function encodeHIL(s: HILState): { header: HILHeader; section: Int32Array } {
  const { settings, counters, memory } = s;
  const nearest = settings.readout === 'nearest';
  let section = counters;
  if (nearest) {
    const rows = memory.rows;
    section = new Int32Array(counters.length + memory.stored + rows.length);
    section.set(counters);
    section.set(memory.classes, counters.length);
    section.set(new Int32Array(rows.buffer, rows.byteOffset, rows.length), counters.length + memory.stored);
  }
  return {
    section,
    header: {
      dim: settings.dim,
      seed: settings.seed.toString(),
      tie: settings.tie,
      metric: settings.metric,
      labels: s.labels.slice(),
      counts: s.counts.slice(),
      ...(nearest ? { readout: settings.readout, memory: memory.stored } : {}),
    },
  };
}

/** The state written by {@link encodeHIL}, validated (`ERR_HDGLUE_MODEL_FILE` otherwise). @internal */
export function decodeHIL(h: HILHeader, section: Uint8Array): HILState {
  if (h === null || typeof h !== 'object') throw new HdglueError(ErrorCode.MODEL_FILE, 'HIL header missing');
  if (typeof h.seed !== 'string' || !SEED_STRING.test(h.seed))
    throw new HdglueError(ErrorCode.MODEL_FILE, 'HIL seed is not a decimal string');
  if (typeof h.tie !== 'string' || typeof h.metric !== 'string') {
    throw new HdglueError(ErrorCode.MODEL_FILE, 'HIL tie and metric are missing');
  }
  if (!Array.isArray(h.labels) || !Array.isArray(h.counts) || h.labels.length !== h.counts.length) {
    throw new HdglueError(ErrorCode.MODEL_FILE, 'HIL labels and counts are missing or differ in length');
  }
  let settings: LayerSettings;
  try {
    settings = checkHILOptions({
      dim: h.dim,
      seed: BigInt(h.seed),
      tie: h.tie,
      metric: h.metric,
      readout: h.readout ?? 'prototype',
    });
    for (const [i, l] of h.labels.entries()) checkLabel(l, `labels[${i}]`);
  } catch (e) {
    throw new HdglueError(ErrorCode.MODEL_FILE, `invalid HIL header: ${(e as Error).message}`);
  }
  const { dim, readout } = settings;
  if (new Set(h.labels).size !== h.labels.length) throw new HdglueError(ErrorCode.MODEL_FILE, 'HIL labels repeat');
  if (h.labels.length > LIMITS.classes || h.labels.length * dim > LIMITS.counters) {
    throw new HdglueError(ErrorCode.MODEL_FILE, `HIL has ${h.labels.length} classes of dim ${dim}, above the limits`);
  }
  const stored = h.memory ?? 0;
  if (!Number.isSafeInteger(stored) || stored < 0 || (stored > 0 && readout !== 'nearest')) {
    throw new HdglueError(ErrorCode.MODEL_FILE, `HIL memory count ${String(h.memory)} is invalid`);
  }
  // The nearest readout stores exactly the examples it counts (partialFit, forget and
  // removeClass change both together), so the totals must agree; per class is checked below.
  const total = Array.isArray(h.counts) ? h.counts.reduce((a: number, b: unknown) => a + Number(b), 0) : Number.NaN;
  if (readout === 'nearest' && stored !== total) {
    throw new HdglueError(
      ErrorCode.MODEL_FILE,
      `HIL memory holds ${stored} examples but the counts add up to ${String(total)}`,
    );
  }
  const stride = 2 * wordsOf(dim);
  const want = (h.labels.length * dim + stored * (1 + stride)) * 4;
  if (section.byteLength !== want) {
    throw new HdglueError(ErrorCode.MODEL_FILE, `HIL section has ${section.byteLength} bytes, expected ${want}`);
  }
  if (!h.counts.every((n) => Number.isSafeInteger(n) && n >= 0)) {
    throw new HdglueError(ErrorCode.MODEL_FILE, 'HIL counts must be non-negative integers');
  }
  const words = new Int32Array(section.byteLength / 4);
  new Uint8Array(words.buffer).set(section);
  const nc = h.labels.length * dim;
  const counters = words.slice(0, nc);
  let memory = new Memory(dim);
  if (stored > 0) {
    const cls = words.slice(nc, nc + stored);
    if (!cls.every((k) => k >= 0 && k < h.labels.length)) {
      throw new HdglueError(ErrorCode.MODEL_FILE, 'HIL memory names a class that does not exist');
    }
    const perClass = new Array<number>(h.labels.length).fill(0);
    for (const k of cls) perClass[k] = (perClass[k] as number) + 1;
    if (perClass.some((c, k) => c !== h.counts[k])) {
      throw new HdglueError(ErrorCode.MODEL_FILE, "HIL memory does not hold each class's counted examples");
    }
    const rows = new Uint32Array(words.buffer, (nc + stored) * 4, stored * stride).slice();
    try {
      checkPacked(rows, dim, stored, 'HIL memory');
    } catch (e) {
      throw new HdglueError(ErrorCode.MODEL_FILE, `invalid HIL memory: ${(e as Error).message}`);
    }
    memory = new Memory(dim, rows, cls);
  }
  return { settings, labels: h.labels.slice(), counts: h.counts.slice(), counters, memory };
}
