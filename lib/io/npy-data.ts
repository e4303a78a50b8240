/**
 * The elements of a `.npy` file: decoding them into fresh typed arrays or strings, encoding them,
 * and the byte swapping between the file's byte order and the host's. Element data is copied, never
 * viewed: the data of a `.npy` file need not be aligned for its element type, and big-endian files
 * are byte-swapped on the way.
 */
import { Buffer } from 'node:buffer';
import { ErrorCode, rangeError } from '../errors.js';
import { type ElementType, type Fail, MAX_ITEMSIZE, type NpyDtype, numericDescr } from './npy-header.js';

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

// The reader swaps when the file's byte order differs from the host's, so it is right on either.
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The `count` elements of type `type` in `payload` (exactly their bytes), as {@link NpyData}: a
 * fresh array in native byte order. Bools other than 0 and 1 and strings holding a code point that
 * is not a Unicode scalar value are thrown through `fail`. @internal
 */
export function decodeData(payload: Uint8Array, count: number, type: ElementType, fail: Fail): NpyData {
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

/** The bytes of a numeric or bool array as numpy stores them, little-endian, and their descr. @internal */
export function encodeNumbers(
  typed: Exclude<NpyData, string[]>,
  dtype: Exclude<NpyDtype, 'unicode' | 'bytes'>,
): { descr: string; body: Uint8Array } {
  const itemsize = typed.BYTES_PER_ELEMENT;
  const descr = numericDescr(dtype, itemsize);
  let body = new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
  if (dtype === 'bool') {
    const bad = body.findIndex((b) => b > 1);
    if (bad >= 0) {
      throw rangeError(ErrorCode.OUT_OF_RANGE, `encodeNpy: bool element ${bad} is ${body[bad]}, not 0 or 1`);
    }
  }
  if (itemsize > 1 && !HOST_LITTLE_ENDIAN) body = swapBytes(body.slice(), itemsize);
  return { descr, body };
}

/**
 * Strings as numpy stores them, `<U{n}` (UTF-32 LE) or `|S{n}` (Latin-1) with n the longest length in
 * code points (at least 1), zero-padded, and that descr. @internal
 */
export function encodeStrings(data: string[], dtype: 'unicode' | 'bytes'): { descr: string; body: Uint8Array } {
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

/**
 * A zeroed buffer of `size` bytes.
 *
 * The engine's limit on one buffer varies (2^32 or 2^53 - 1 bytes by Node version) and memory may
 * run out before it: both are reported as the caller's own error (`tooLarge`) instead of an engine
 * RangeError. @internal
 */
export function allocate(size: number, tooLarge: () => Error): Uint8Array {
  try {
    return new Uint8Array(size);
  } catch {
    throw tooLarge();
  }
}
