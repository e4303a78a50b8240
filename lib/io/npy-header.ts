/**
 * The preamble and header of a `.npy` file (the layout is in ./npy.ts): reading them strictly,
 * mapping the dtype descr to an element type, and writing them as numpy 2 does.
 *
 * numpy itself reads the header with `ast.literal_eval`. Here a small tokenizer accepts only the
 * three keys numpy writes and their literal values, so the header is data and never code, and
 * object arrays (which are pickles) are refused outright.
 */
import type { HdglueError } from '../errors.js';

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

/** The magic at the start of every `.npy` file, "\x93NUMPY". @internal */
export const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
// Real headers are about 128 bytes; numpy's own reader stops at 10 000 characters.
const MAX_HEADER_BYTES = 2 ** 20;
/** Most dimensions of an array: numpy 2 cannot create or load more (NPY_MAXDIMS). @internal */
export const MAX_DIMS = 64;
/**
 * Largest element in bytes: numpy's itemsize is a C int, and '<U1000000000' is "not understood" by
 * numpy too. @internal
 */
export const MAX_ITEMSIZE = 2 ** 31 - 1;

type Kind = 'number' | 'bool' | 'unicode' | 'bytes';

/** What a dtype descr says about each element. @internal */
export interface ElementType {
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

/** Builds the error of a format problem, its message prefixed with the source's name. @internal */
export type Fail = (message: string) => HdglueError;

/** The checked header of a `.npy` file: element type, dimensions, and where the data starts. @internal */
export interface NpyLayout {
  /** The descr as written, e.g. '<f4'. */
  descr: string;
  type: ElementType;
  shape: number[];
  /** Offset of the first data byte. */
  dataStart: number;
}

/**
 * Read and check the preamble and header of the `.npy` file in `bytes` (whole): magic, version,
 * header length against the bytes present, the header dict, the dtype, and C order. Every problem
 * is thrown through `fail`. @internal
 */
export function readLayout(bytes: Uint8Array, fail: Fail): NpyLayout {
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
  return { descr: header.descr, type, shape: header.shape, dataStart };
}

/**
 * The preamble and header numpy 2 writes for a C-order array of `descr` and `dims`: format 1.0,
 * keys sorted, numpy's growth padding, 64-byte alignment. @internal
 */
export function encodeHeader(descr: string, dims: readonly number[]): Uint8Array {
  // Exactly numpy's _write_array_header: sorted keys, a trailing ", " before "}", then room for the
  // first axis to grow to 21 digits, then spaces and "\n" up to the next multiple of 64.
  let text = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeRepr(dims)}, }`;
  if (dims.length > 0) text += ' '.repeat(21 - String(dims[0]).length);
  const headerLength = text.length + 1 + (64 - ((10 + text.length + 1) % 64));
  const out = new Uint8Array(10 + headerLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, headerLength, true);
  for (let i = 0; i < text.length; i++) out[10 + i] = text.charCodeAt(i);
  out.fill(0x20, 10 + text.length, 10 + headerLength - 1);
  out[10 + headerLength - 1] = 0x0a;
  return out;
}

/** The descr numpy writes for a numeric or bool dtype of `itemsize` bytes, little-endian ('<f4', '|b1'). @internal */
export function numericDescr(dtype: NpyDtype, itemsize: number): string {
  const code = Object.keys(NUMERIC).find((k) => NUMERIC[k] === dtype) as string;
  return `${itemsize === 1 ? '|' : '<'}${code}`;
}

/** Python's repr of a tuple of ints: (), (5,), (3, 4). @internal */
export function shapeRepr(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

interface Header {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
}

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
