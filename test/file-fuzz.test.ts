// The file readers under hostile input (model files and .npy), on whichever backend the
// environment selects: a short run of the fuzz loop (test/stress/fuzz-files.mjs, which a long run
// repeats with more iterations; see RELIABILITY.md), then the attacks it found or that need exact
// construction, each with the code and the bound it must meet.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../lib/backend/native.js';
import {
  Codebook,
  EmbeddingEncoder,
  ErrorCode,
  HDGlue,
  HdglueError,
  HIL,
  HVBatch,
  ProjectionEncoder,
  parseNpy,
} from '../lib/index.js';
import { decodeModel, encodeModel } from '../lib/io/model-file.js';

const dir = mkdtempSync(join(tmpdir(), 'hdglue-file-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(HdglueError);
    return (e as HdglueError).code;
  }
  return 'loaded';
}

// Rewrites a model file's JSON header (sections kept), with valid checksums.
function rewrite(path: string, edit: (header: Record<string, unknown>) => void): string {
  const f = decodeModel(new Uint8Array(readFileSync(path)));
  const header = f.header as Record<string, unknown>;
  edit(header);
  const out = join(dir, `edited-${Math.random().toString(36).slice(2)}.hdg`);
  writeFileSync(out, encodeModel(header, f.sections));
  return out;
}

function savedGlue(members: number, encoder: () => EmbeddingEncoder | ProjectionEncoder): string {
  const glue = new HDGlue();
  for (let i = 0; i < members; i++) glue.addMember(`m${i}`, { encoder: encoder() });
  const path = join(dir, `glue-${members}-${Math.random().toString(36).slice(2)}.hdg`);
  glue.save(path);
  return path;
}

describe(`file readers under hostile input, ${process.env.HDGLUE_BACKEND ?? 'default'} backend`, () => {
  it('the fuzz loop: every damaged file loads or fails with the reader’s code, within the memory bound', () => {
    const r = spawnSync(process.execPath, ['test/stress/fuzz-files.mjs', '1500', '3'], {
      cwd: packageRoot,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect({ status: r.status, signal: r.signal, stderr: r.stderr.slice(-2000) }).toEqual({
      status: 0,
      signal: null,
      stderr: '',
    });
    const out = JSON.parse(r.stdout.trim().split('\n').pop() as string);
    // Both outcomes of each reader must be common, or the loop tests only one path.
    for (const k of ['glue:loaded', 'glue:ERR_HDGLUE_MODEL_FILE', 'hil:loaded', 'hil:ERR_HDGLUE_MODEL_FILE']) {
      expect(out.counts[k], k).toBeGreaterThan(5);
    }
    expect(out.counts['npy:ERR_HDGLUE_NPY']).toBeGreaterThan(100);
    // The script enforces its bound itself (400 MiB, more under AddressSanitizer).
    expect(out.maxRssMiB).toBeGreaterThan(0);
  });

  it('headers that ask for gigabytes are refused before anything is built', () => {
    const path = savedGlue(2, () => new EmbeddingEncoder({ features: 4, dim: 256, bins: 4 }));
    const huge = rewrite(path, (h) => {
      for (const m of h.members as { encoder: Record<string, unknown>; hil: Record<string, unknown> }[]) {
        Object.assign(m.encoder, { dim: 2 ** 24, bins: 65536, features: 65536 });
        m.hil.dim = 2 ** 24;
      }
    });
    const before = process.memoryUsage().arrayBuffers;
    expect(code(() => HDGlue.load(huge))).toBe(ErrorCode.MODEL_FILE);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 2 ** 20);
    // Length fields of the preamble and of a section, set to values no file can honour.
    const bytes = readFileSync(path);
    const at = (edit: (b: Buffer) => void) => {
      const b = Buffer.from(bytes);
      edit(b);
      const p = join(dir, `fields-${Math.random().toString(36).slice(2)}.hdg`);
      writeFileSync(p, b);
      return code(() => HDGlue.load(p));
    };
    expect(at((b) => b.writeUInt32LE(0xffffffff, 12))).toBe(ErrorCode.MODEL_FILE);
    expect(at((b) => b.writeUInt32LE(0xffffffff, 20))).toBe(ErrorCode.MODEL_FILE);
    const sectionAt = 24 + bytes.readUInt32LE(12) + ((8 - (bytes.readUInt32LE(12) % 8)) % 8);
    expect(at((b) => b.writeBigUInt64LE(2n ** 63n, sectionAt))).toBe(ErrorCode.MODEL_FILE);
    expect(at((b) => b.writeBigUInt64LE(2n ** 64n - 1n, sectionAt))).toBe(ErrorCode.MODEL_FILE);
    expect(at((b) => b.writeUInt32LE(2, 8))).toBe(ErrorCode.MODEL_VERSION);
  });

  it('the vector bound counts the tie-breakers too (regression: many one-bin members built twice the bound)', () => {
    // Per member: one level row, one position row, the encoder's tie-breaker and the HIL's, each
    // 2^20 bits = 128 KiB; eight members build 4 MiB. Only the first two rows were counted (2 MiB).
    const path = savedGlue(8, () => new EmbeddingEncoder({ features: 1, dim: 2 ** 20, bins: 1 }));
    expect(code(() => HDGlue.load(path, { maxVectorBytes: 3 * 2 ** 20 }))).toBe(ErrorCode.MODEL_FILE);
    expect(code(() => HDGlue.load(path, { maxVectorBytes: 4 * 2 ** 20 }))).toBe('loaded');
    // A negative size field cannot offset the others in the total.
    const offset = rewrite(path, (h) => {
      (h.members as { encoder: Record<string, unknown> }[])[7]!.encoder.bins = -1e12;
    });
    expect(code(() => HDGlue.load(offset, { maxVectorBytes: 3 * 2 ** 20 }))).toBe(ErrorCode.MODEL_FILE);
  });

  it('a seed of millions of digits is refused at once (regression: BigInt parsed it for seconds)', () => {
    const path = savedGlue(1, () => new ProjectionEncoder({ features: 3, dim: 128 }));
    const long = '9'.repeat(4_000_000);
    const t0 = performance.now();
    expect(code(() => HDGlue.load(rewrite(path, (h) => Object.assign(h, { seed: long }))))).toBe(ErrorCode.MODEL_FILE);
    const hilSeed = rewrite(path, (h) => {
      (h.members as { hil: Record<string, unknown> }[])[0]!.hil.seed = long;
    });
    expect(code(() => HDGlue.load(hilSeed))).toBe(ErrorCode.MODEL_FILE);
    const encSeed = rewrite(path, (h) => {
      (h.members as { encoder: Record<string, unknown> }[])[0]!.encoder.seed = long;
    });
    expect(code(() => HDGlue.load(encSeed))).toBe(ErrorCode.MODEL_FILE);
    expect(code(() => Codebook.fromJSON({ kind: 'hdglue.Codebook', version: 1, dim: 64, seed: long, names: [] }))).toBe(
      ErrorCode.BAD_DESCRIPTION,
    );
    // The largest seed still loads: 2^64 - 1 has 20 digits.
    const max = rewrite(path, (h) => Object.assign(h, { seed: (2n ** 64n - 1n).toString() }));
    expect(HDGlue.load(max).seed).toBe(2n ** 64n - 1n);
    // Generous: refusing takes microseconds; parsing the seed took about a second.
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('an HIL file whose counters do not match its classes, or whose labels repeat, is refused', () => {
    const hil = new HIL({ dim: 64 });
    hil.fit(new HVBatch(64, 2), ['a', 'b']);
    const path = join(dir, 'hil.hdg');
    hil.save(path);
    const edit = (fn: (h: { hil: Record<string, unknown> }) => void) =>
      code(() => HIL.load(rewrite(path, (h) => fn(h as { hil: Record<string, unknown> }))));
    expect(edit((h) => Object.assign(h.hil, { labels: ['a', 'a'] }))).toBe(ErrorCode.MODEL_FILE);
    expect(edit((h) => Object.assign(h.hil, { labels: [0, -0] }))).toBe(ErrorCode.MODEL_FILE);
    expect(edit((h) => Object.assign(h.hil, { labels: ['a', 'b', 'c'], counts: [1, 1, 0] }))).toBe(
      ErrorCode.MODEL_FILE,
    );
    expect(edit((h) => Object.assign(h.hil, { dim: 2 ** 24 + 1 }))).toBe(ErrorCode.MODEL_FILE);
    expect(edit((h) => Object.assign(h.hil, { counts: [1, -1] }))).toBe(ErrorCode.MODEL_FILE);
    expect(edit((h) => Object.assign(h.hil, { labels: [{}, 'b'] }))).toBe(ErrorCode.MODEL_FILE);
    expect(edit(() => undefined)).toBe('loaded');
  });

  it('npy: every truncation of every seed, and shapes claiming more than the file holds', () => {
    const seeds = [
      new Uint8Array(readFileSync(join(packageRoot, 'test/fixtures/npy/f32_2d.npy'))),
      new Uint8Array(readFileSync(join(packageRoot, 'test/fixtures/npy/u_strings.npy'))),
      new Uint8Array(readFileSync(join(packageRoot, 'test/fixtures/npy/v3_i2.npy'))),
    ];
    for (const s of seeds) {
      for (let t = 0; t < s.length; t++) expect(code(() => parseNpy(s.subarray(0, t)))).toBe(ErrorCode.NPY_FORMAT);
      // The same bytes at an odd offset in a larger buffer, and in a SharedArrayBuffer, parse the same.
      const odd = new Uint8Array(s.length + 3);
      odd.set(s, 3);
      expect(parseNpy(odd.subarray(3)).data).toEqual(parseNpy(s).data);
      const shared = new Uint8Array(new SharedArrayBuffer(s.length));
      shared.set(s);
      expect(parseNpy(shared).data).toEqual(parseNpy(s).data);
    }
    const header = (shape: string, descr = '<f4') => {
      const text = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`.padEnd(118, ' ');
      const b = new Uint8Array(10 + 119 + 16);
      b.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
      new DataView(b.buffer).setUint16(8, 119, true);
      b.set(new TextEncoder().encode(`${text}\n`), 10);
      return b;
    };
    const before = process.memoryUsage().arrayBuffers;
    for (const shape of ['(1099511627776,)', '(4294967296, 4294967296, 16)', '(9007199254740993,)', '(2, 3)']) {
      expect(code(() => parseNpy(header(shape)))).toBe(ErrorCode.NPY_FORMAT);
    }
    expect(code(() => parseNpy(header('(1,)', '<U2147483647')))).toBe(ErrorCode.NPY_FORMAT);
    expect(code(() => parseNpy(header('(-1,)')))).toBe(ErrorCode.NPY_FORMAT);
    expect(parseNpy(header('(4,)')).data).toEqual(new Float32Array(4));
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(2 ** 20);
  });
});
