/**
 * The model file format: a versioned binary container for hdglue models.
 *
 *   offset 0   8 bytes   magic "HDGLUE\r\n" (the CR LF catches text-mode transfers)
 *          8   u32 LE    format version (1)
 *         12   u32 LE    byte length H of the JSON header
 *         16   u32 LE    CRC-32 of the header bytes
 *         20   u32 LE    number S of binary sections
 *         24   H bytes   UTF-8 JSON header, then zero padding to a multiple of 8
 *   then S times:        u64 LE byte length L, u32 LE CRC-32 of the data, u32 reserved (0),
 *                        L bytes of data, zero padding to a multiple of 8
 *   end of file exactly after the last section.
 *
 * Every section starts 8-byte aligned, so Int32/Float64 data can be viewed in place. Section
 * data (the counters) is written in the host's byte order, which is little-endian on every
 * platform hdglue builds for (x64, arm64); a big-endian host would need a byte swap here. The
 * models save these bytes with writeFileAtomic (./atomic.ts), so a crash never leaves a
 * half-written model under the real name. Reading checks the magic, the version, every length
 * against the file size, and every CRC, and rejects a file with trailing bytes: a truncated,
 * corrupted, foreign or newer file is an error with a code, never a partly loaded model.
 */
import { readFileSync, statSync } from 'node:fs';
import { ErrorCode, HdglueError } from '../errors.js';

/** Current format version. */
export const MODEL_FORMAT_VERSION = 1;

const MAGIC = new Uint8Array([0x48, 0x44, 0x47, 0x4c, 0x55, 0x45, 0x0d, 0x0a]); // "HDGLUE\r\n"

/** A parsed model file: its JSON header and its binary sections, in order. */
export interface ModelFile {
  header: unknown;
  sections: Uint8Array[];
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3, as zlib and PNG use). */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = (CRC_TABLE[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const pad8 = (n: number) => (8 - (n % 8)) % 8;

/** Serialize a header and sections to the bytes of a model file. */
export function encodeModel(header: unknown, sections: readonly ArrayBufferView[]): Uint8Array {
  const head = new TextEncoder().encode(JSON.stringify(header));
  const views = sections.map((s) => new Uint8Array(s.buffer, s.byteOffset, s.byteLength));
  let size = 24 + head.length + pad8(head.length);
  for (const v of views) size += 16 + v.length + pad8(v.length);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  out.set(MAGIC, 0);
  dv.setUint32(8, MODEL_FORMAT_VERSION, true);
  dv.setUint32(12, head.length, true);
  dv.setUint32(16, crc32(head), true);
  dv.setUint32(20, views.length, true);
  out.set(head, 24);
  let at = 24 + head.length + pad8(head.length);
  for (const v of views) {
    dv.setBigUint64(at, BigInt(v.length), true);
    dv.setUint32(at + 8, crc32(v), true);
    out.set(v, at + 16);
    at += 16 + v.length + pad8(v.length);
  }
  return out;
}

function corrupt(what: string): HdglueError {
  return new HdglueError(ErrorCode.MODEL_FILE, `not a valid hdglue model file: ${what}`);
}

/** Parse the bytes of a model file, verifying everything; sections are copies, 8-byte aligned. */
export function decodeModel(bytes: Uint8Array): ModelFile {
  if (bytes.length < 24) throw corrupt(`${bytes.length} bytes is shorter than the 24-byte preamble`);
  for (let i = 0; i < 8; i++) if (bytes[i] !== MAGIC[i]) throw corrupt('wrong magic (a foreign or text-mangled file)');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(8, true);
  if (version !== MODEL_FORMAT_VERSION) {
    throw new HdglueError(
      ErrorCode.MODEL_VERSION,
      `model file format version ${version} is not supported by this hdglue (which reads version ${MODEL_FORMAT_VERSION})`,
    );
  }
  const headLen = dv.getUint32(12, true);
  const count = dv.getUint32(20, true);
  let at = 24 + headLen + pad8(headLen);
  if (at > bytes.length) throw corrupt('truncated inside the header');
  const head = bytes.subarray(24, 24 + headLen);
  // Padding and reserved fields are outside the checksums, so they must be exactly zero.
  for (let i = 24 + headLen; i < at; i++) if (bytes[i] !== 0) throw corrupt('non-zero header padding');
  if (crc32(head) !== dv.getUint32(16, true)) throw corrupt('header checksum mismatch');
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(head));
  } catch {
    throw corrupt('the header is not valid UTF-8 JSON');
  }
  const sections: Uint8Array[] = [];
  for (let s = 0; s < count; s++) {
    if (at + 16 > bytes.length) throw corrupt(`truncated before section ${s}`);
    const len = dv.getBigUint64(at, true);
    if (len > BigInt(bytes.length - at - 16)) throw corrupt(`truncated inside section ${s}`);
    const n = Number(len);
    if (dv.getUint32(at + 12, true) !== 0) throw corrupt(`section ${s} reserved field is not zero`);
    const data = bytes.subarray(at + 16, at + 16 + n);
    if (crc32(data) !== dv.getUint32(at + 8, true)) throw corrupt(`section ${s} checksum mismatch`);
    const end = at + 16 + n + pad8(n);
    if (end > bytes.length) throw corrupt(`truncated inside the padding of section ${s}`);
    for (let i = at + 16 + n; i < end; i++) if (bytes[i] !== 0) throw corrupt(`non-zero padding after section ${s}`);
    sections.push(data.slice());
    at = end;
  }
  if (at !== bytes.length)
    throw corrupt(at > bytes.length ? 'truncated padding' : `${bytes.length - at} unexpected trailing bytes`);
  return { header, sections };
}

/** Largest model file read by default (1 GiB); pass a larger `maxBytes` to read bigger ones. */
export const DEFAULT_MAX_MODEL_BYTES = 2 ** 30;

/**
 * Read and verify a model file from disk. Only regular files of at most `maxBytes` are read, so a
 * FIFO, a device or a huge file is an error rather than a hang.
 */
export function readModelFile(path: string, maxBytes = DEFAULT_MAX_MODEL_BYTES): ModelFile {
  const st = statSync(path);
  if (!st.isFile()) throw corrupt(`${path} is not a regular file`);
  if (st.size > maxBytes) throw corrupt(`${path} has ${st.size} bytes, above the limit of ${maxBytes} (see maxBytes)`);
  return decodeModel(new Uint8Array(readFileSync(path)));
}
