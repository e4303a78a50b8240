/**
 * Request bodies of `POST /v1/predict`, turned into checked float32 rows per member before
 * anything is queued, so a bad request is refused alone with a code and never reaches a batch:
 *
 * - JSON: `{"inputs": {"MEMBER": [[...row...], ...], ...}, "scores": false, "explain": false}`;
 *   an ONNX-backed member's rows are its raw inputs, nested in the network's row shape or flat.
 * - `application/octet-stream`: little-endian float32, each listed member's rows in turn
 *   (member after member, each row-major); the row count is the byte length over the row widths.
 * - `application/x-npy`: one `.npy` file per listed member, concatenated, each `(rows, features)`
 *   or, for an ONNX-backed member, `(rows, ...row shape)`.
 *
 * Binary bodies list their members in the query (`?member=a&member=b`, default: every member in
 * the model's order) and take `scores` and `explain` there too. Values are read as float32, as
 * networks emit them, whatever the body's number format, so every path (JSON, binary, batched
 * or not) computes on the same numbers; a value that is NaN, infinite or beyond float32's range
 * is refused with `ERR_HDGLUE_NOT_FINITE`.
 */
import { ErrorCode, HdglueError, rangeError, typeError } from '../errors.js';
import { parseNpy } from '../io/npy.js';
import { readLayout } from '../io/npy-header.js';
import { describe } from '../validate.js';
import type { MemberShape } from './model.js';

/** A checked prediction request. */
export interface PredictRequest {
  /** Per member present, `rows x features` float32 values, row-major (raw inputs for ONNX members). */
  inputs: Record<string, Float32Array>;
  /** Rows of every member. */
  rows: number;
  /** Whether the answer carries each row's consensus scores. */
  scores: boolean;
  /** Whether the answer carries each row's explanation. */
  explain: boolean;
}

/** Binary body formats, by content type. */
export const BINARY_TYPES = { 'application/octet-stream': 'f32', 'application/x-npy': 'npy' } as const;

const JSON_KEYS = new Set(['inputs', 'scores', 'explain']);
const QUERY_KEYS = new Set(['member', 'scores', 'explain']);

/** An `ERR_HDGLUE_BAD_REQUEST` error. */
export function badRequest(message: string): HdglueError {
  return new HdglueError(ErrorCode.BAD_REQUEST, message);
}

/** Check a parsed JSON body against the model's members. */
export function parseJsonRequest(
  body: unknown,
  members: ReadonlyMap<string, MemberShape>,
  maxValues = MAX_JSON_VALUES,
): PredictRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest(`the body must be a JSON object {"inputs": {...}}, got ${describe(body)}`);
  }
  const o = body as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!JSON_KEYS.has(k))
      throw badRequest(`unknown key ${JSON.stringify(k)} (the body takes inputs, scores, explain)`);
  }
  const given = o.inputs;
  if (given === null || typeof given !== 'object' || Array.isArray(given)) {
    throw badRequest(`"inputs" must be an object of member name -> rows, got ${describe(given)}`);
  }
  // A null prototype: a member may be named "__proto__" or "constructor".
  const inputs: Record<string, Float32Array> = Object.create(null);
  let rows = -1;
  let first = '';
  for (const [name, value] of Object.entries(given as Record<string, unknown>)) {
    const shape = memberShape(members, name);
    const x = jsonRows(value, shape, name, maxValues);
    const n = x.length / shape.features;
    if (rows < 0) {
      rows = n;
      first = name;
    } else if (n !== rows) {
      throw rangeError(ErrorCode.SHAPE, `members' rows must be aligned: ${name} has ${n} rows, ${first} has ${rows}`);
    }
    inputs[name] = x;
  }
  if (rows < 0) throw new HdglueError(ErrorCode.NO_INPUT, `"inputs" is empty: give rows for at least one member`);
  return { inputs, rows, scores: flag(o.scores, 'scores'), explain: flag(o.explain, 'explain') };
}

/**
 * Check a binary body (`format` from {@link BINARY_TYPES}) with its query (`member`, `scores`,
 * `explain`) against the model's members.
 */
export function parseBinaryRequest(
  body: Uint8Array,
  format: 'f32' | 'npy',
  query: unknown,
  members: ReadonlyMap<string, MemberShape>,
): PredictRequest {
  const q = (query ?? {}) as Record<string, unknown>;
  for (const k of Object.keys(q)) {
    if (!QUERY_KEYS.has(k)) throw badRequest(`unknown query parameter ${JSON.stringify(k)} (member, scores, explain)`);
  }
  const names = memberList(q.member, members);
  const shapes = names.map((n) => memberShape(members, n));
  const inputs: Record<string, Float32Array> = Object.create(null);
  let rows: number;
  if (format === 'f32') {
    const width = shapes.reduce((a, s) => a + s.features, 0);
    if (body.byteLength === 0 || body.byteLength % (4 * width) !== 0) {
      throw rangeError(
        ErrorCode.SHAPE,
        `the body has ${body.byteLength} bytes, not a whole, non-zero number of rows of ${width} float32 values (members ${names.join(', ')})`,
      );
    }
    rows = body.byteLength / (4 * width);
    const all = float32LE(body);
    let at = 0;
    names.forEach((name, i) => {
      const size = rows * (shapes[i] as MemberShape).features;
      const x = all.subarray(at, at + size);
      checkFinite(x, name, (shapes[i] as MemberShape).features);
      inputs[name] = x;
      at += size;
    });
  } else {
    rows = -1;
    let at = 0;
    names.forEach((name, i) => {
      const { x, n, end } = npyPart(body, at, name, shapes[i] as MemberShape);
      if (rows >= 0 && n !== rows) {
        throw rangeError(
          ErrorCode.SHAPE,
          `members' rows must be aligned: ${name} has ${n} rows, ${names[0]} has ${rows}`,
        );
      }
      rows = n;
      inputs[name] = x;
      at = end;
    });
    if (at !== body.byteLength) {
      throw rangeError(
        ErrorCode.SHAPE,
        `${body.byteLength - at} bytes follow the .npy of the last member (${names.at(-1)}); list every member of the body with ?member=`,
      );
    }
  }
  return { inputs, rows, scores: queryFlag(q.scores, 'scores'), explain: queryFlag(q.explain, 'explain') };
}

function memberShape(members: ReadonlyMap<string, MemberShape>, name: string): MemberShape {
  const shape = members.get(name);
  if (!shape) {
    throw new HdglueError(
      ErrorCode.UNKNOWN_MEMBER,
      `${JSON.stringify(name)} is not a member of the model (its members: ${[...members.keys()].join(', ')})`,
    );
  }
  return shape;
}

// The most values a JSON body within the largest allowed limit (1 GiB) can hold; the server passes
// its own limit's (every number takes at least two bytes of body).
const MAX_JSON_VALUES = 2 ** 29;

// One member's JSON rows as flat float32: an array of rows, each nested in the member's row shape
// (or flat, for a multi-dimensional ONNX input).
function jsonRows(value: unknown, shape: MemberShape, name: string, maxValues: number): Float32Array {
  if (!Array.isArray(value)) throw typeError(`inputs.${name} must be an array of rows, got ${describe(value)}`);
  if (value.length === 0) throw rangeError(ErrorCode.SHAPE, `inputs.${name} has no rows`);
  const f = shape.features;
  // Every JSON number takes at least two bytes of body: more values than that is no real request,
  // and refusing it first keeps a body of empty rows from reserving rows x width floats.
  if (value.length * f > maxValues)
    throw rangeError(
      ErrorCode.SHAPE,
      `inputs.${name}: ${value.length} rows of ${f} values cannot fit in a request body`,
    );
  const out = new Float32Array(value.length * f);
  for (let r = 0; r < value.length; r++) {
    const row: unknown = value[r];
    if (!Array.isArray(row)) throw typeError(`inputs.${name}[${r}] must be an array, got ${describe(row)}`);
    // The common case first: a flat row of numbers.
    if (row.length === f && (shape.rowShape.length === 1 || typeof row[0] === 'number')) {
      numbers(row, out, r * f, `inputs.${name}[${r}]`);
    } else if (shape.rowShape.length > 1 && row.length === shape.rowShape[0]) {
      nested(row, shape.rowShape, 0, out, r * f, `inputs.${name}[${r}]`);
    } else {
      throw rangeError(
        ErrorCode.SHAPE,
        `inputs.${name}[${r}] has ${row.length} values, but member ${JSON.stringify(name)} takes ${f} per row${
          shape.rowShape.length > 1 ? ` (shape [${shape.rowShape.join(', ')}], nested or flat)` : ''
        }`,
      );
    }
  }
  return out;
}

// Fills out[at ..] from an array nested in dims[d ..]; returns the next offset.
function nested(
  v: unknown[],
  dims: readonly number[],
  d: number,
  out: Float32Array,
  at: number,
  where: string,
): number {
  if (d === dims.length - 1) {
    numbers(v, out, at, where);
    return at + v.length;
  }
  let next = at;
  for (let i = 0; i < v.length; i++) {
    const inner: unknown = v[i];
    const want = dims[d + 1] as number;
    if (!Array.isArray(inner)) throw typeError(`${where}[${i}] must be an array of ${want}, got ${describe(inner)}`);
    if (inner.length !== want) {
      throw rangeError(ErrorCode.SHAPE, `${where}[${i}] has ${inner.length} entries, the row shape needs ${want}`);
    }
    next = nested(inner, dims, d + 1, out, next, `${where}[${i}]`);
  }
  return next;
}

function numbers(row: unknown[], out: Float32Array, at: number, where: string): void {
  for (let k = 0; k < row.length; k++) {
    const v: unknown = row[k];
    if (typeof v !== 'number') throw typeError(`${where}[${k}] must be a number, got ${describe(v)}`);
    out[at + k] = v;
    // A finite double beyond float32's range becomes an infinity when stored.
    if (!Number.isFinite(out[at + k])) {
      throw rangeError(ErrorCode.NOT_FINITE, `${where}[${k}] is ${v}, which is not a finite float32`);
    }
  }
}

function flag(v: unknown, name: string): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw badRequest(`"${name}" must be true or false, got ${describe(v)}`);
  return v;
}

function queryFlag(v: unknown, name: string): boolean {
  if (v === undefined || v === 'false' || v === '0') return false;
  if (v === '' || v === 'true' || v === '1') return true;
  throw badRequest(`query parameter ${name} must be true or false, got ${describe(v)}`);
}

function memberList(v: unknown, members: ReadonlyMap<string, MemberShape>): string[] {
  if (v === undefined) return [...members.keys()];
  const names = Array.isArray(v) ? v : [v];
  if (!names.every((n): n is string => typeof n === 'string'))
    throw badRequest('query parameter member must be a name');
  if (new Set(names).size !== names.length)
    throw badRequest(`a member is listed twice: ?member=${names.join('&member=')}`);
  return names;
}

// The bytes as float32 values, little-endian, copied (an HTTP body's buffer is not 4-byte
// aligned, and the values must outlive it).
function float32LE(body: Uint8Array): Float32Array {
  const out = new Float32Array(body.byteLength / 4);
  new Uint8Array(out.buffer).set(body);
  if (!LITTLE_ENDIAN) {
    const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
    for (let i = 0; i < out.length; i++) out[i] = dv.getFloat32(4 * i, true);
  }
  return out;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function checkFinite(x: Float32Array, name: string, features: number): void {
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i])) {
      throw rangeError(
        ErrorCode.NOT_FINITE,
        `member ${name}, row ${Math.floor(i / features)}, value ${i % features} is ${x[i]}: values must be finite`,
      );
    }
  }
}

const NPY_NUMBERS = new Set(['float32', 'float64', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32']);

// The .npy starting at byte `at` of the body: its rows as float32, its row count, where it ends.
function npyPart(
  body: Uint8Array,
  at: number,
  name: string,
  shape: MemberShape,
): { x: Float32Array; n: number; end: number } {
  const source = `the .npy of member ${name}`;
  const fail = (m: string) => new HdglueError(ErrorCode.NPY_FORMAT, `${source}: ${m}`);
  if (at >= body.byteLength) throw fail('missing: the body ends before it');
  const rest = body.subarray(at);
  const layout = readLayout(rest, fail);
  let count = 1;
  for (const d of layout.shape) count *= d;
  const end = layout.dataStart + count * layout.type.itemsize;
  if (!Number.isSafeInteger(end) || end > rest.byteLength) {
    throw fail(`truncated: its header promises ${count} values, more than the body holds`);
  }
  const a = parseNpy(rest.subarray(0, end), source);
  if (!NPY_NUMBERS.has(a.dtype) || (shape.kind === 'embedding' && a.dtype !== 'float32' && a.dtype !== 'float64')) {
    throw fail(
      `holds ${a.dtype} (${a.descr}); embeddings must be float32 or float64${shape.kind === 'onnx' ? ', raw inputs float or integers of up to 32 bits' : ''}`,
    );
  }
  const dims = a.shape;
  const rowDims = dims.slice(1);
  const flat = rowDims.length === 1 && rowDims[0] === shape.features;
  const exact = rowDims.length === shape.rowShape.length && rowDims.every((d, i) => d === shape.rowShape[i]);
  if (dims.length < 2 || dims[0] === 0 || !(flat || exact)) {
    throw rangeError(
      ErrorCode.SHAPE,
      `${source} has shape (${dims.join(', ')}); member ${name} takes (rows, ${shape.rowShape.join(', ')})${
        shape.rowShape.length > 1 ? ` or (rows, ${shape.features})` : ''
      } with at least one row`,
    );
  }
  const x = Float32Array.from(a.data as ArrayLike<number>);
  checkFinite(x, name, shape.features);
  return { x, n: dims[0] as number, end: at + end };
}
