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
 */
import { Buffer } from 'node:buffer';
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { ErrorCode, HdglueError, rangeError, typeError } from '../errors.js';
import { lengthOf } from '../validate.js';
import { writeFileAtomic } from './model-file.js';

/** Element types hdglue reads and writes; `unicode` is numpy's `U` (UTF-32), `bytes` its `S`. */
export type NpyDtype =
  | 'float32'
  | 'float64'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'bool'
  | 'unicode'
  | 'bytes';

/**
 * The elements of an array, flattened in C order: a typed array for numbers, a `Uint8Array` of 0
 * and 1 for `bool`, and a string per element for `unicode` and `bytes` (the latter decoded as Latin-1).
 */
export type NpyData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | string[];

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

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"
// Real headers are about 128 bytes; numpy's own reader stops at 10 000 characters.
const MAX_HEADER_BYTES = 2 ** 20;
// numpy 2 cannot create or load arrays of more dimensions (NPY_MAXDIMS).
const MAX_DIMS = 64;
// numpy's itemsize is a C int: '<U1000000000' is "not understood" by numpy too.
const MAX_ITEMSIZE = 2 ** 31 - 1;
const DEFAULT_MAX_BYTES = 2 ** 32;
// The reader swaps when the file's byte order differs from the host's, so it is right on either.
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

type Kind = 'number' | 'bool' | 'unicode' | 'bytes';

interface ElementType {
  dtype: NpyDtype;
  kind: Kind;
  /** Bytes per element: 1, 2, 4 or 8 for numbers and bool, 4n for `<Un`, n for `|Sn`. */
  itemsize: number;
  /** Bytes of one code unit that may need swapping: the element size, or 4 for `U`, 1 for `S`. */
  unit: number;
  bigEndian: boolean;
}

const NUMERIC: Readonly<Record<string, NpyDtype>> = {
  f4: 'float32',
  f8: 'float64',
  i1: 'int8',
  i2: 'int16',
  i4: 'int32',
  i8: 'int64',
  u1: 'uint8',
  u2: 'uint16',
  u4: 'uint32',
  u8: 'uint64',
  b1: 'bool',
};

const SUPPORTED = "hdglue reads f4, f8, i1-i8, u1-u8, b1, U and S (e.g. '<f4', '|b1', '<U8')";

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
  // From byteLength: V8 11 can report a detached array's old length (see lengthOf in validate.ts).
  const size = bytes.byteLength;
  if (size === 0) throw fail('not a .npy file (the file is empty)');
  for (let i = 0; i < MAGIC.length; i++) {
    if (i === size) throw fail(`truncated: ${size} bytes, shorter than the 10-byte .npy preamble`);
    if (bytes[i] !== MAGIC[i]) throw fail('not a .npy file (bad magic)');
  }
  if (size < 8) throw fail(`truncated: ${size} bytes, shorter than the 10-byte .npy preamble`);
  const major = bytes[6] as number;
  const minor = bytes[7] as number;
  if (minor !== 0 || major < 1 || major > 3) {
    throw fail(`unsupported .npy format version ${major}.${minor} (hdglue reads 1.0, 2.0 and 3.0)`);
  }
  const headerStart = major === 1 ? 10 : 12;
  if (size < headerStart) {
    throw fail(`truncated: ${size} bytes, shorter than the ${headerStart}-byte preamble of format ${major}.0`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  if (headerLength > MAX_HEADER_BYTES) {
    throw fail(`header length ${headerLength} bytes is above the limit of ${MAX_HEADER_BYTES} (1 MiB)`);
  }
  const dataStart = headerStart + headerLength;
  if (dataStart > size) {
    throw fail(`truncated: header length ${headerLength} reaches past the end of the file (${size} bytes)`);
  }
  const header = parseHeader(decodeHeader(bytes.subarray(headerStart, dataStart), major, fail), major < 3, fail);
  const type = elementType(header.descr, fail);
  if (header.fortranOrder) {
    throw fail('the array is in Fortran order; save it with numpy.save(path, numpy.ascontiguousarray(a))');
  }

  // A zero dimension empties the array whatever the others say; otherwise stop as soon as the
  // product passes 2^53, before it can lose precision.
  let count = header.shape.includes(0) ? 0 : 1;
  if (count !== 0) {
    for (const d of header.shape) {
      count *= d;
      if (count > 2 ** 53) throw fail(`shape ${shapeRepr(header.shape)} has more than 2^53 elements`);
    }
  }
  // BigInt keeps count * itemsize exact however large the header claims it to be.
  const expected = BigInt(count) * BigInt(type.itemsize);
  const present = size - dataStart;
  const what = `${count} ${type.kind === 'number' || type.kind === 'bool' ? type.dtype : header.descr}`;
  if (expected > BigInt(present)) {
    throw fail(`truncated: header says ${what} values (${expected} bytes) but only ${present} bytes follow`);
  }
  if (expected < BigInt(present)) {
    throw fail(`${BigInt(present) - expected} trailing bytes after the ${expected} bytes of ${what} values`);
  }
  const payload = bytes.subarray(dataStart);
  return { dtype: type.dtype, shape: header.shape, data: decodeData(payload, count, type, fail), descr: header.descr };
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

  let descr: string;
  let body: Uint8Array;
  if (dtype === 'unicode' || dtype === 'bytes') {
    ({ descr, body } = encodeStrings(data as string[], dtype));
  } else {
    const typed = data as Exclude<NpyData, string[]>;
    const itemsize = typed.BYTES_PER_ELEMENT;
    const code = Object.keys(NUMERIC).find((k) => NUMERIC[k] === dtype) as string;
    descr = `${itemsize === 1 ? '|' : '<'}${code}`;
    body = new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
    if (dtype === 'bool') {
      const bad = body.findIndex((b) => b > 1);
      if (bad >= 0) {
        throw rangeError(ErrorCode.OUT_OF_RANGE, `encodeNpy: bool element ${bad} is ${body[bad]}, not 0 or 1`);
      }
    }
    if (itemsize > 1 && !HOST_LITTLE_ENDIAN) body = swapBytes(body.slice(), itemsize);
  }

  // Exactly numpy's _write_array_header: sorted keys, a trailing ", " before "}", then room for the
  // first axis to grow to 21 digits, then spaces and "\n" up to the next multiple of 64.
  let text = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeRepr(dims)}, }`;
  if (dims.length > 0) text += ' '.repeat(21 - String(dims[0]).length);
  const headerLength = text.length + 1 + (64 - ((10 + text.length + 1) % 64));
  const out = allocate(10 + headerLength + body.length, () =>
    rangeError(ErrorCode.OUT_OF_RANGE, `encodeNpy: ${body.length} bytes of data is too large to encode in memory`),
  );
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, headerLength, true);
  for (let i = 0; i < text.length; i++) out[10 + i] = text.charCodeAt(i);
  out.fill(0x20, 10 + text.length, 10 + headerLength - 1);
  out[10 + headerLength - 1] = 0x0a;
  out.set(body, 10 + headerLength);
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

// ---------------------------------------------------------------------------------------------
// The header

interface Header {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
}

type Fail = (message: string) => HdglueError;

function decodeHeader(raw: Uint8Array, major: number, fail: Fail): string {
  if (major === 3) {
    try {
      // ignoreBOM keeps a BOM in the text, where the tokenizer refuses it as numpy does.
      return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(raw);
    } catch {
      throw fail('the header is not valid UTF-8');
    }
  }
  const bad = raw.findIndex((b) => b > 0x7f);
  if (bad >= 0) throw fail(`header byte ${bad} is 0x${raw[bad]?.toString(16)}: a format ${major}.0 header is ASCII`);
  return new TextDecoder('utf-8').decode(raw);
}

const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f';
const isNameChar = (c: string | undefined) => c !== undefined && /[A-Za-z0-9_]/.test(c);

/**
 * The grammar: `{` key `:` value (`,` key `:` value)* `,`? `}`, whitespace between tokens and after
 * the `}`, with the keys 'descr' (a string), 'fortran_order' (True or False) and 'shape' (a tuple of
 * non-negative integers), each exactly once. Python 2 numpy wrote `(3L, 4L)`; numpy still reads
 * that in 1.0 and 2.0 files, so `longSuffix` allows it.
 */
function parseHeader(text: string, longSuffix: boolean, fail: Fail): Header {
  let i = 0;
  const skip = () => {
    while (isSpace(text[i])) i++;
  };
  const found = () => (i >= text.length ? 'the end of the header' : JSON.stringify(text.slice(i, i + 24)));
  const bad = (expected: string) => fail(`bad header: expected ${expected} at character ${i}, found ${found()}`);

  const str = (): string | undefined => {
    const quote = text[i];
    if (quote !== "'" && quote !== '"') return undefined;
    const start = i + 1;
    for (let j = start; j < text.length; j++) {
      const c = text[j];
      if (c === quote) {
        i = j + 1;
        return text.slice(start, j);
      }
      // A descr or key never needs them, and refusing them keeps strings literal.
      if (c === '\\' || c === '\n' || c === '\r') break;
    }
    throw bad('a plain quoted string (no escapes or line breaks)');
  };

  const dimension = (): number => {
    if (text[i] === '-') throw fail(`bad header: shape has a negative dimension at character ${i}`);
    const start = i;
    while (text[i] !== undefined && text[i]! >= '0' && text[i]! <= '9') i++;
    const digits = text.slice(start, i);
    if (digits === '') {
      i = start;
      throw bad('a non-negative integer in shape');
    }
    if (longSuffix && text[i] === 'L') i++;
    if (isNameChar(text[i]) || text[i] === '.') {
      i = start;
      throw bad('a plain decimal integer in shape');
    }
    if (digits.length > 1 && digits[0] === '0') {
      i = start;
      throw bad('an integer without leading zeros in shape');
    }
    const value = digits.length > 16 ? Number.POSITIVE_INFINITY : Number(digits);
    if (value > Number.MAX_SAFE_INTEGER) {
      throw fail(
        `bad header: shape dimension ${digits.length > 24 ? `of ${digits.length} digits` : digits} is too large`,
      );
    }
    return value;
  };

  const tuple = (): number[] => {
    if (text[i] !== '(') throw bad("a tuple such as (3, 4) for 'shape'");
    i++;
    skip();
    const dims: number[] = [];
    let comma = false;
    while (text[i] !== ')') {
      if (dims.length > 0 && !comma) throw bad("',' or ')' in shape");
      if (dims.length === MAX_DIMS) throw fail(`bad header: shape has more than ${MAX_DIMS} dimensions`);
      dims.push(dimension());
      skip();
      comma = text[i] === ',';
      if (comma) {
        i++;
        skip();
      }
    }
    // (5) is the integer 5 in Python, not a tuple.
    if (dims.length === 1 && !comma) throw fail('bad header: shape (n) is not a tuple; a 1-D shape is written (n,)');
    i++;
    return dims;
  };

  const bool = (): boolean => {
    for (const [name, value] of [
      ['True', true],
      ['False', false],
    ] as const) {
      if (text.startsWith(name, i) && !isNameChar(text[i + name.length])) {
        i += name.length;
        return value;
      }
    }
    throw bad("True or False for 'fortran_order'");
  };

  const descr = (): string => {
    if (text[i] === '[') {
      // numpy writes structured and sub-array dtypes as a list of fields: name it in the message.
      const end = text.indexOf(']', i);
      const list = end < 0 ? text.slice(i, i + 60) : text.slice(i, Math.min(end + 1, i + 200));
      throw fail(`structured dtype ${list} is not supported (${SUPPORTED})`);
    }
    const value = str();
    if (value === undefined) throw bad("a quoted string such as '<f4' for 'descr'");
    return value;
  };

  const values: Partial<Header> = {};
  skip();
  if (text[i] !== '{') throw bad("'{' (a numpy header is a Python dict literal)");
  i++;
  skip();
  while (text[i] !== '}') {
    const key = str();
    if (key === undefined) throw bad("a quoted key or '}'");
    if (key !== 'descr' && key !== 'fortran_order' && key !== 'shape') {
      throw fail(
        `bad header: unknown key ${JSON.stringify(key)} (a numpy header has exactly 'descr', 'fortran_order' and 'shape')`,
      );
    }
    const field = key === 'fortran_order' ? 'fortranOrder' : key;
    if (values[field] !== undefined) throw fail(`bad header: key '${key}' appears twice`);
    skip();
    if (text[i] !== ':') throw bad(`':' after '${key}'`);
    i++;
    skip();
    if (field === 'descr') values.descr = descr();
    else if (field === 'fortranOrder') values.fortranOrder = bool();
    else values.shape = tuple();
    skip();
    if (text[i] === ',') {
      i++;
      skip();
    } else if (text[i] !== '}') {
      throw bad("',' or '}'");
    }
  }
  i++;
  skip();
  if (i < text.length) throw bad('only spaces after the header dict');
  const { descr: d, fortranOrder, shape } = values;
  if (d === undefined || fortranOrder === undefined || shape === undefined) {
    const missing = [
      d === undefined && 'descr',
      fortranOrder === undefined && 'fortran_order',
      shape === undefined && 'shape',
    ];
    const names = missing.filter((k) => k !== false).map((k) => `'${k}'`);
    throw fail(`bad header: missing key${names.length > 1 ? 's' : ''} ${names.join(', ')}`);
  }
  return { descr: d, fortranOrder, shape };
}

function elementType(descr: string, fail: Fail): ElementType {
  const quoted = `'${descr.length > 40 ? `${descr.slice(0, 40)}...` : descr}'`;
  if (/^[<>|=]?O\d*$/.test(descr)) {
    throw fail(`dtype ${quoted}: object arrays are pickled Python objects; hdglue does not read pickles`);
  }
  const m = /^([<>|=]?)([A-Za-z])(\d+)$/.exec(descr);
  if (m === null) throw fail(`dtype ${quoted} is not supported (${SUPPORTED})`);
  const [, order = '', kind = '', digits = ''] = m;
  // Past 15 digits Number() rounds; any such size is far above the itemsize limit anyway.
  const n = digits.length > 15 ? Number.POSITIVE_INFINITY : Number(digits);
  if (kind === 'f' && n === 2)
    throw fail(`dtype ${quoted} (float16) is not supported; convert with a.astype(numpy.float32)`);
  if (kind === 'c')
    throw fail(`dtype ${quoted} (complex) is not supported; store the real and imaginary parts separately`);
  let type: Omit<ElementType, 'bigEndian'>;
  const numeric = NUMERIC[kind + digits];
  if (numeric !== undefined) {
    type = { dtype: numeric, kind: numeric === 'bool' ? 'bool' : 'number', itemsize: n, unit: n };
  } else if (kind === 'U' || kind === 'S') {
    // Zero-size elements would let a header claim any number of them with no bytes behind them.
    if (n === 0) throw fail(`dtype ${quoted} has zero-size elements`);
    const itemsize = kind === 'U' ? 4 * n : n;
    if (itemsize > MAX_ITEMSIZE) {
      throw fail(`dtype ${quoted} has elements larger than numpy's limit of 2^31 - 1 bytes`);
    }
    type =
      kind === 'U'
        ? { dtype: 'unicode', kind: 'unicode', itemsize, unit: 4 }
        : { dtype: 'bytes', kind: 'bytes', itemsize, unit: 1 };
  } else {
    throw fail(`dtype ${quoted} is not supported (${SUPPORTED})`);
  }
  // numpy writes '|' for single bytes and '<' or '>' for everything wider; '=' (native) and '|' on
  // a wide type would make the file's meaning depend on the machine that reads it.
  if (order === '' || order === '=' || (order === '|' && type.unit > 1)) {
    throw fail(`dtype ${quoted} has no explicit byte order ('<' or '>')`);
  }
  return { ...type, bigEndian: order === '>' };
}

// ---------------------------------------------------------------------------------------------
// The data

function decodeData(payload: Uint8Array, count: number, type: ElementType, fail: Fail): NpyData {
  if (type.kind === 'unicode' || type.kind === 'bytes') {
    if (count > 2 ** 32 - 1) throw fail(`${count} strings do not fit in a JavaScript array`);
    const out: string[] = new Array(count);
    const { itemsize } = type;
    if (type.kind === 'bytes') {
      for (let e = 0; e < count; e++) {
        let end = (e + 1) * itemsize;
        while (end > e * itemsize && payload[end - 1] === 0) end--;
        out[e] = Buffer.from(payload.buffer, payload.byteOffset + e * itemsize, end - e * itemsize).toString('latin1');
      }
      return out;
    }
    const dv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    const little = !type.bigEndian;
    const chars = itemsize / 4;
    const points: number[] = [];
    for (let e = 0; e < count; e++) {
      const base = e * itemsize;
      let len = chars;
      while (len > 0 && dv.getUint32(base + 4 * (len - 1), little) === 0) len--;
      points.length = 0;
      let s = '';
      for (let c = 0; c < len; c++) {
        const cp = dv.getUint32(base + 4 * c, little);
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
          throw fail(`string element ${e} holds 0x${cp.toString(16)}, which is not a Unicode scalar value`);
        }
        points.push(cp);
        // Spreading a long string's code points at once would overflow the argument limit.
        if (points.length === 8192) {
          s += String.fromCodePoint(...points);
          points.length = 0;
        }
      }
      out[e] = s + String.fromCodePoint(...points);
    }
    return out;
  }

  const copy = allocate(payload.length, () => fail(`${payload.length} bytes of data is too large to hold in memory`));
  copy.set(payload);
  if (type.kind === 'bool') {
    const bad = copy.findIndex((b) => b > 1);
    if (bad >= 0) throw fail(`bool element ${bad} is the byte ${copy[bad]}; a numpy bool is 0 or 1`);
    return copy;
  }
  if (type.itemsize > 1 && type.bigEndian === HOST_LITTLE_ENDIAN) swapBytes(copy, type.itemsize);
  const buf = copy.buffer;
  switch (type.dtype) {
    case 'float32':
      return new Float32Array(buf);
    case 'float64':
      return new Float64Array(buf);
    case 'int8':
      return new Int8Array(buf);
    case 'int16':
      return new Int16Array(buf);
    case 'int32':
      return new Int32Array(buf);
    case 'int64':
      return new BigInt64Array(buf);
    case 'uint16':
      return new Uint16Array(buf);
    case 'uint32':
      return new Uint32Array(buf);
    case 'uint64':
      return new BigUint64Array(buf);
    default:
      return copy;
  }
}

function encodeStrings(data: string[], dtype: 'unicode' | 'bytes'): { descr: string; body: Uint8Array } {
  const points: number[][] = [];
  let width = 1;
  data.forEach((s, e) => {
    const cps: number[] = [];
    for (const ch of s) {
      const cp = ch.codePointAt(0) as number;
      if (cp >= 0xd800 && cp <= 0xdfff) {
        throw rangeError(ErrorCode.OUT_OF_RANGE, `encodeNpy: string ${e} has a lone surrogate (0x${cp.toString(16)})`);
      }
      if (dtype === 'bytes' && cp > 0xff) {
        throw rangeError(
          ErrorCode.OUT_OF_RANGE,
          `encodeNpy: string ${e} has U+${cp.toString(16).toUpperCase().padStart(4, '0')}, which dtype 'bytes' (Latin-1) cannot hold`,
        );
      }
      cps.push(cp);
    }
    points.push(cps);
    if (cps.length > width) width = cps.length;
  });
  const itemsize = dtype === 'unicode' ? 4 * width : width;
  if (itemsize > MAX_ITEMSIZE) {
    throw rangeError(ErrorCode.OUT_OF_RANGE, `encodeNpy: a ${width}-character string is longer than numpy allows`);
  }
  const body = allocate(itemsize * data.length, () =>
    rangeError(
      ErrorCode.OUT_OF_RANGE,
      `encodeNpy: ${data.length} strings of ${itemsize} bytes are too large to encode`,
    ),
  );
  const dv = new DataView(body.buffer);
  points.forEach((cps, e) => {
    cps.forEach((cp, c) => {
      if (dtype === 'unicode') dv.setUint32(e * itemsize + 4 * c, cp, true);
      else body[e * itemsize + c] = cp;
    });
  });
  return { descr: dtype === 'unicode' ? `<U${width}` : `|S${width}`, body };
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

// ---------------------------------------------------------------------------------------------
// Helpers

/** Python's repr of a tuple of ints: (), (5,), (3, 4). */
function shapeRepr(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

function swapBytes(bytes: Uint8Array, size: number): Uint8Array {
  for (let at = 0; at < bytes.length; at += size) {
    for (let a = at, b = at + size - 1; a < b; a++, b--) {
      const t = bytes[a] as number;
      bytes[a] = bytes[b] as number;
      bytes[b] = t;
    }
  }
  return bytes;
}

// The engine's limit on one buffer varies (2^32 or 2^53 - 1 bytes by Node version) and memory may
// run out before it: both are reported as the caller's own error instead of an engine RangeError.
function allocate(size: number, tooLarge: () => Error): Uint8Array {
  try {
    return new Uint8Array(size);
  } catch {
    throw tooLarge();
  }
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
