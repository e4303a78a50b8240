/**
 * NumPy `.npy` files: a strict reader for format versions 1.0, 2.0 and 3.0, and a writer.
 *
 *   offset 0   6 bytes   magic "\x93NUMPY"
 *          6   u8, u8    format version, major then minor (1.0, 2.0 or 3.0)
 *          8   u16 LE    byte length H of the header (u32 LE in 2.0 and 3.0, the header then starts at 12)
 *       10/12  H bytes   a Python dict literal (ASCII; UTF-8 in 3.0), padded with spaces, ending in "\n",
 *                        e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
 *   then the elements in C order, exactly (product of shape) * itemsize bytes, to the end of the file.
 *
 * numpy itself reads the header with `ast.literal_eval`. Here a small tokenizer accepts only the
 * three keys numpy writes and their literal values, so the header is data and never code, and
 * object arrays (which are pickles) are refused outright. Every length is checked against the
 * bytes actually present before anything is allocated, so a hostile or damaged file costs at most
 * its own size in memory and ends in an {@link HdglueError} with code `ERR_HDGLUE_NPY`, never in
 * a partly read array. Element data is copied into fresh typed arrays: the data of a `.npy` file
 * need not be aligned for its element type, and big-endian files are byte-swapped on the way.
 *
 * This module holds the public entry points and their argument checks; the preamble and header are
 * read and written in ./npy-header.ts, the elements in ./npy-data.ts.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { ErrorCode, HdglueError, rangeError, typeError } from '../errors.js';
import { lengthOf } from '../validate.js';
import { writeFileAtomic } from './atomic.js';
import { allocate, decodeData, encodeNumbers, encodeStrings, type NpyData } from './npy-data.js';
import { encodeHeader, MAX_DIMS, type NpyDtype, readLayout, shapeRepr } from './npy-header.js';

export type { NpyData } from './npy-data.js';
export type { NpyDtype } from './npy-header.js';

/** An array read from a `.npy` file. */
export interface NpyArray {
  /** Element type. */
  dtype: NpyDtype;
  /** Dimensions; `[]` for a scalar (one element). */
  shape: number[];
  /** The elements in C order; `data.length` is the product of `shape`. */
  data: NpyData;
  /** source descr, e.g. '<f4' */
  descr: string;
}

/** Options of {@link readNpy}. */
export interface NpyReadOptions {
  /** refuse files larger than this; default 4 GiB */
  maxBytes?: number;
}

const DEFAULT_MAX_BYTES = 2 ** 32;

function failure(source: string | undefined, message: string): HdglueError {
  return new HdglueError(ErrorCode.NPY_FORMAT, source === undefined ? message : `${source}: ${message}`);
}

/**
 * Parse the bytes of a `.npy` file. Every format problem, including a truncated or padded file, an
 * unsupported dtype, Fortran order or any header that is not a plain numpy header, throws an
 * {@link HdglueError} with code `ERR_HDGLUE_NPY` whose message starts with `source` when given.
 * Typed arrays in the result are fresh copies, native byte order, never views of `bytes`.
 *
 * @param bytes - the whole file
 * @param source - a name for the bytes (usually the file name), put at the start of every error message
 * @throws TypeError (`ERR_HDGLUE_INVALID_TYPE`) if `bytes` is not a Uint8Array or `source` not a string
 */
export function parseNpy(bytes: Uint8Array, source?: string): NpyArray {
  if (!(bytes instanceof Uint8Array)) throw typeError(`parseNpy: bytes must be a Uint8Array, got ${describe(bytes)}`);
  if (source !== undefined && typeof source !== 'string') {
    throw typeError(`parseNpy: source must be a string, got ${describe(source)}`);
  }
  const fail = (message: string) => failure(source, message);
  const { descr, type, shape, dataStart } = readLayout(bytes, fail);
  const size = bytes.byteLength;

  // A zero dimension empties the array whatever the others say; otherwise stop as soon as the
  // product passes 2^53, before it can lose precision.
  let count = shape.includes(0) ? 0 : 1;
  if (count !== 0) {
    for (const d of shape) {
      count *= d;
      if (count > 2 ** 53) throw fail(`shape ${shapeRepr(shape)} has more than 2^53 elements`);
    }
  }
  // BigInt keeps count * itemsize exact however large the header claims it to be.
  const expected = BigInt(count) * BigInt(type.itemsize);
  const present = size - dataStart;
  const what = `${count} ${type.kind === 'number' || type.kind === 'bool' ? type.dtype : descr}`;
  if (expected > BigInt(present)) {
    throw fail(`truncated: header says ${what} values (${expected} bytes) but only ${present} bytes follow`);
  }
  if (expected < BigInt(present)) {
    throw fail(`${BigInt(present) - expected} trailing bytes after the ${expected} bytes of ${what} values`);
  }
  const payload = bytes.subarray(dataStart);
  return { dtype: type.dtype, shape, data: decodeData(payload, count, type, fail), descr };
}

/**
 * Read a `.npy` file. Only a regular file of at most `maxBytes` bytes is read: its type and size
 * are checked with `fstat` on the open descriptor before a byte is read or a buffer allocated, and
 * the open does not block, so a FIFO, a device or a huge file is an error rather than a hang.
 *
 * @param path - the file
 * @param options - `maxBytes`: largest file accepted, default 4 GiB
 * @throws HdglueError (`ERR_HDGLUE_NPY`) for everything {@link parseNpy} refuses, a file that is not
 * regular, or one larger than `maxBytes`; messages start with `path`
 * @throws Error with the system's `code` (e.g. `ENOENT`, `EACCES`) when the file cannot be opened or
 * read; the message starts with `path` and the original error is its `cause`
 */
export function readNpy(path: string, options?: NpyReadOptions): NpyArray {
  if (typeof path !== 'string') throw typeError(`readNpy: path must be a string, got ${describe(path)}`);
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw typeError(`readNpy: options must be an object, got ${describe(options)}`);
  }
  const maxBytes = options?.maxBytes ?? DEFAULT_MAX_BYTES;
  if (typeof maxBytes !== 'number') throw typeError(`readNpy: maxBytes must be a number, got ${describe(maxBytes)}`);
  if (!(maxBytes >= 0)) throw rangeError(ErrorCode.OUT_OF_RANGE, `readNpy: maxBytes must be >= 0, got ${maxBytes}`);

  let fd: number;
  try {
    // Without O_NONBLOCK, opening a FIFO would wait for a writer before fstat could refuse it.
    fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    // Windows refuses to open a directory at all; say the same as fstat says elsewhere.
    if ((e as NodeJS.ErrnoException).code === 'EISDIR') throw failure(path, 'not a regular file (a directory)');
    throw fileError(path, 'open', e);
  }
  try {
    let st: Stats;
    try {
      st = fstatSync(fd);
    } catch (e) {
      throw fileError(path, 'stat', e);
    }
    if (!st.isFile()) throw failure(path, `not a regular file (${fileKind(st)})`);
    if (st.size > maxBytes) {
      throw failure(path, `${st.size} bytes is above the limit of ${maxBytes} bytes (raise maxBytes to read it)`);
    }
    const bytes = allocate(st.size, () => failure(path, `${st.size} bytes is too large to hold in memory`));
    let got = 0;
    try {
      while (got < bytes.length) {
        const n = readSync(fd, bytes, got, bytes.length - got, got);
        if (n === 0) break; // the file shrank after fstat: parse what is there, which reports the truncation
        got += n;
      }
    } catch (e) {
      throw fileError(path, 'read', e);
    }
    return parseNpy(got === bytes.length ? bytes : bytes.subarray(0, got), path);
  } finally {
    closeSync(fd);
  }
}

/**
 * Encode an array as the bytes of a `.npy` file, format 1.0, C order, little-endian, with the header
 * byte-for-byte as numpy 2 writes it (keys sorted, numpy's growth padding, 64-byte alignment), so
 * `numpy.save` of the same array gives identical bytes. The format needs nothing newer: numpy's
 * 64-dimension limit keeps the header under 1.3 KB, far below 1.0's 65 535 bytes.
 *
 * `dtype` defaults to the one the data implies (`Float32Array` is float32, `Uint8Array` uint8,
 * `string[]` unicode); give `'bool'` for a `Uint8Array` of 0 and 1, or `'bytes'` for strings to store
 * as numpy `S` (Latin-1). Strings are stored as `<U{n}` or `|S{n}` with n the longest length in code
 * points (at least 1), zero-padded; numpy strips trailing NULs when it reads them, and so does
 * {@link parseNpy}, so a string ending in `\0` does not survive the round trip.
 *
 * @param array - `shape` (non-negative integers, at most 64 of them), `data` in C order, optional `dtype`
 * @throws TypeError (`ERR_HDGLUE_INVALID_TYPE`) for data that is not one of {@link NpyData}, or that
 * does not match `dtype`
 * @throws RangeError (`ERR_HDGLUE_SHAPE`) if the product of `shape` is not `data.length`
 * @throws RangeError (`ERR_HDGLUE_OUT_OF_RANGE`) for a bad dimension, a bool that is not 0 or 1, a
 * `bytes` string with a character above U+00FF, or a string with a lone surrogate
 */
export function encodeNpy(array: { shape: readonly number[]; data: NpyData; dtype?: NpyDtype }): Uint8Array {
  if (typeof array !== 'object' || array === null) {
    throw typeError(`encodeNpy: array must be an object with shape and data, got ${describe(array)}`);
  }
  const { shape, data } = array;
  const dtype = writeDtype(data, array.dtype);
  const dims = checkShape(shape);
  let count = 1;
  for (const d of dims) count *= d;
  // lengthOf, not length: a detached array must not pass for its old size (see lib/validate.ts).
  if (count !== lengthOf(data)) {
    throw rangeError(
      ErrorCode.SHAPE,
      `encodeNpy: shape ${shapeRepr(dims)} holds ${count} elements but data has ${lengthOf(data)}`,
    );
  }

  const { descr, body } =
    dtype === 'unicode' || dtype === 'bytes'
      ? encodeStrings(data as string[], dtype)
      : encodeNumbers(data as Exclude<NpyData, string[]>, dtype);
  const head = encodeHeader(descr, dims);
  const out = allocate(head.length + body.length, () =>
    rangeError(ErrorCode.OUT_OF_RANGE, `encodeNpy: ${body.length} bytes of data is too large to encode in memory`),
  );
  out.set(head, 0);
  out.set(body, head.length);
  return out;
}

/**
 * Write an array to a `.npy` file (see {@link encodeNpy} for the bytes). The file is written
 * atomically: to a temporary file in the same directory, flushed, then renamed over `path`, so a
 * crash never leaves a half-written file under the real name.
 *
 * @param path - the file to create or replace
 * @param array - as for {@link encodeNpy}
 * @throws as {@link encodeNpy} does, and an Error with the system's `code` (e.g. `ENOENT`) when the
 * file cannot be written; its message starts with `path` and the original error is its `cause`
 */
export function writeNpy(path: string, array: { shape: readonly number[]; data: NpyData; dtype?: NpyDtype }): void {
  if (typeof path !== 'string') throw typeError(`writeNpy: path must be a string, got ${describe(path)}`);
  const bytes = encodeNpy(array);
  try {
    writeFileAtomic(path, bytes);
  } catch (e) {
    throw fileError(path, 'write', e);
  }
}

const CONSTRUCTOR: Readonly<
  Record<Exclude<NpyDtype, 'unicode' | 'bytes'>, { name: string; is: (d: unknown) => boolean }>
> = {
  float32: { name: 'Float32Array', is: (d) => d instanceof Float32Array },
  float64: { name: 'Float64Array', is: (d) => d instanceof Float64Array },
  int8: { name: 'Int8Array', is: (d) => d instanceof Int8Array },
  int16: { name: 'Int16Array', is: (d) => d instanceof Int16Array },
  int32: { name: 'Int32Array', is: (d) => d instanceof Int32Array },
  int64: { name: 'BigInt64Array', is: (d) => d instanceof BigInt64Array },
  uint8: { name: 'Uint8Array', is: (d) => d instanceof Uint8Array },
  uint16: { name: 'Uint16Array', is: (d) => d instanceof Uint16Array },
  uint32: { name: 'Uint32Array', is: (d) => d instanceof Uint32Array },
  uint64: { name: 'BigUint64Array', is: (d) => d instanceof BigUint64Array },
  bool: { name: 'Uint8Array', is: (d) => d instanceof Uint8Array },
};

function writeDtype(data: unknown, dtype: unknown): NpyDtype {
  const isStrings = Array.isArray(data);
  if (isStrings) {
    const bad = data.findIndex((s) => typeof s !== 'string');
    if (bad >= 0) throw typeError(`encodeNpy: data[${bad}] is ${describe(data[bad])}; an array must hold only strings`);
  }
  if (dtype === undefined) {
    if (isStrings) return 'unicode';
    for (const [name, c] of Object.entries(CONSTRUCTOR)) if (name !== 'bool' && c.is(data)) return name as NpyDtype;
    throw typeError(`encodeNpy: data must be a typed array of a supported type or a string[], got ${describe(data)}`);
  }
  if (dtype === 'unicode' || dtype === 'bytes') {
    if (!isStrings) throw typeError(`encodeNpy: dtype '${dtype}' needs a string[], got ${describe(data)}`);
    return dtype;
  }
  const c = typeof dtype === 'string' ? CONSTRUCTOR[dtype as keyof typeof CONSTRUCTOR] : undefined;
  if (c === undefined) throw typeError(`encodeNpy: unknown dtype ${describe(dtype)}`);
  if (!c.is(data)) throw typeError(`encodeNpy: dtype '${dtype}' needs a ${c.name}, got ${describe(data)}`);
  return dtype as NpyDtype;
}

function checkShape(shape: unknown): number[] {
  if (!Array.isArray(shape)) throw typeError(`encodeNpy: shape must be an array of integers, got ${describe(shape)}`);
  if (shape.length > MAX_DIMS) {
    throw rangeError(ErrorCode.OUT_OF_RANGE, `encodeNpy: ${shape.length} dimensions; numpy allows at most ${MAX_DIMS}`);
  }
  shape.forEach((d, k) => {
    if (typeof d !== 'number') throw typeError(`encodeNpy: shape[${k}] must be a number, got ${describe(d)}`);
    if (!Number.isSafeInteger(d) || d < 0) {
      throw rangeError(ErrorCode.OUT_OF_RANGE, `encodeNpy: shape[${k}] must be a non-negative integer, got ${d}`);
    }
  });
  return [...(shape as number[])];
}

function fileError(path: string, action: string, e: unknown): Error {
  if (!(e instanceof Error)) return new Error(`${path}: cannot ${action}: ${String(e)}`);
  const { code, errno, syscall } = e as NodeJS.ErrnoException;
  return Object.assign(new Error(`${path}: cannot ${action}: ${e.message}`, { cause: e }), {
    code,
    errno,
    syscall,
    path,
  });
}

function fileKind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a plain file';
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an Array';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'an object';
  return typeof v;
}
