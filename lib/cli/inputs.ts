/**
 * The CLI's inputs: members' embeddings and labels from `.npy` files, checked for what the
 * glue needs (2-D float32/float64 embeddings in C order, 1-D integer or string labels, the same
 * row count everywhere) with one-line errors that name the file.
 */
import { ErrorCode, HdglueError } from '../errors.js';
import { type NpyArray, readNpy } from '../io/npy.js';
import type { Label } from '../label.js';
import type { OnnxMember } from '../onnx/member.js';
import { UsageError } from './errors.js';

/** One member's embeddings as read from its file. */
export interface MemberInput {
  name: string;
  path: string;
  x: Float32Array | Float64Array;
  rows: number;
  features: number;
  /** The network that computed them, for an ONNX member (closed; `fit` records its source). */
  onnx?: OnnxMember;
}

/** `NAME=PATH` of a `--member` flag. */
export function parseMemberSpec(spec: string): { name: string; path: string } {
  const at = spec.indexOf('=');
  if (at <= 0 || at === spec.length - 1) {
    throw new UsageError(`--member takes NAME=FILE.npy, got ${JSON.stringify(spec)}`);
  }
  return { name: spec.slice(0, at), path: spec.slice(at + 1) };
}

/** One `.npy` member's embeddings: 2-D float32/float64 with at least one row and feature. */
export function readMember(name: string, path: string): MemberInput {
  const a = readNpy(path);
  if (a.dtype !== 'float32' && a.dtype !== 'float64') {
    throw npyError(path, `embeddings must be float32 or float64, this file holds ${a.dtype} (${a.descr})`);
  }
  if (a.shape.length !== 2) {
    throw npyError(
      path,
      `embeddings must be 2-D (rows x features), this file has shape (${a.shape.join(', ')}) of ${a.shape.length} dimension(s)`,
    );
  }
  const [rows, features] = a.shape as [number, number];
  if (rows < 1 || features < 1) throw npyError(path, `embeddings have shape (${rows}, ${features}): no data`);
  return { name, path, x: a.data as Float32Array | Float64Array, rows, features };
}

/** Read a labels file: 1-D integers (within ±2^53) or strings. */
export function readLabels(path: string): Label[] {
  const a: NpyArray = readNpy(path);
  if (a.shape.length !== 1) {
    throw npyError(path, `labels must be 1-D, this file has shape (${a.shape.join(', ')})`);
  }
  if (a.dtype === 'unicode' || a.dtype === 'bytes') return (a.data as string[]).slice();
  if (a.dtype === 'float32' || a.dtype === 'float64' || a.dtype === 'bool') {
    throw npyError(path, `labels must be integers or strings, this file holds ${a.dtype} (${a.descr})`);
  }
  const out: Label[] = [];
  const data = a.data as ArrayLike<number | bigint>;
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number | bigint;
    const n = Number(v);
    if (!Number.isSafeInteger(n)) throw npyError(path, `label ${String(v)} is beyond ±2^53 and cannot be held exactly`);
    out.push(n);
  }
  return out;
}

/** Every member and the labels (if given) must have the same number of rows. */
export function checkRows(
  members: readonly MemberInput[],
  labels?: { path: string; values: readonly Label[] },
): number {
  const rows = (members[0] as MemberInput).rows;
  for (const m of members) {
    if (m.rows !== rows) {
      throw new HdglueError(
        ErrorCode.SHAPE,
        `${m.path}: ${m.rows} rows, but ${(members[0] as MemberInput).path} has ${rows}; members' rows must be aligned`,
      );
    }
  }
  if (labels && labels.values.length !== rows) {
    throw new HdglueError(
      ErrorCode.SHAPE,
      `${labels.path}: ${labels.values.length} labels, but the members have ${rows} rows`,
    );
  }
  return rows;
}

function npyError(path: string, why: string): HdglueError {
  return new HdglueError(ErrorCode.NPY_FORMAT, `${path}: ${why}`);
}
