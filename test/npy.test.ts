// The .npy reader and writer: numpy's own files (test/fixtures/npy, from scripts/gen-npy-fixtures.py)
// read to exactly the values numpy wrote, the writer byte-identical to numpy.save, round trips of every
// dtype through real files, and every malformed file refused with ERR_HDGLUE_NPY, never another error.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ErrorCode, HdglueError } from '../lib/errors.js';
import { encodeNpy, type NpyData, type NpyDtype, parseNpy, readNpy, writeNpy } from '../lib/io/npy.js';
import { prng } from './helpers.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/npy/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'hdglue-npy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Expected {
  descr: string;
  shape: number[];
  values: (number | string | boolean)[];
}
const expected = JSON.parse(readFileSync(join(FIXTURES, 'expected.json'), 'utf8')) as Record<string, Expected>;

/** A fixture's bytes, in a fresh (unpooled) Uint8Array. */
const fixture = (name: string) => new Uint8Array(readFileSync(join(FIXTURES, name)));

const DTYPE_OF_CODE: Record<string, NpyDtype> = {
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
const dtypeOf = (descr: string): NpyDtype =>
  descr[1] === 'U' ? 'unicode' : descr[1] === 'S' ? 'bytes' : (DTYPE_OF_CODE[descr.slice(1)] as NpyDtype);

/** The sidecar's values as the JS values the reader must produce (see the script for the encoding). */
function jsValues(e: Expected): NpyData {
  const dtype = dtypeOf(e.descr);
  const floats = () =>
    e.values.map((v) =>
      v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v === '-0.0' ? -0 : v,
    );
  switch (dtype) {
    case 'float32':
      return Float32Array.from(floats() as number[]);
    case 'float64':
      return Float64Array.from(floats() as number[]);
    case 'int8':
      return Int8Array.from(e.values as number[]);
    case 'int16':
      return Int16Array.from(e.values as number[]);
    case 'int32':
      return Int32Array.from(e.values as number[]);
    case 'int64':
      return BigInt64Array.from(e.values, (v) => BigInt(v as string));
    case 'uint8':
      return Uint8Array.from(e.values as number[]);
    case 'uint16':
      return Uint16Array.from(e.values as number[]);
    case 'uint32':
      return Uint32Array.from(e.values as number[]);
    case 'uint64':
      return BigUint64Array.from(e.values, (v) => BigInt(v as string));
    case 'bool':
      return Uint8Array.from(e.values, (v) => (v ? 1 : 0));
    default:
      return e.values as string[];
  }
}

// toEqual would let -0 pass for 0; tagging -0 makes the comparison exact (NaN equals NaN in toEqual).
const tag = (v: unknown) => (Object.is(v, -0) ? '-0' : v);
function expectSameData(actual: NpyData, wanted: NpyData) {
  expect(actual.constructor).toBe(wanted.constructor);
  expect(Array.from(actual as ArrayLike<unknown>, tag)).toEqual(Array.from(wanted as ArrayLike<unknown>, tag));
}

/** Runs `fn`, which must throw an HdglueError with code ERR_HDGLUE_NPY; returns its message. */
function npyError(fn: () => unknown): string {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(HdglueError);
  expect((caught as HdglueError).code).toBe(ErrorCode.NPY_FORMAT);
  return (caught as HdglueError).message;
}

function thrown(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected an exception');
}

/** A .npy file with this header text verbatim, padded with spaces and "\n" to a multiple of `align`. */
function npy(header: string | Uint8Array, data: ArrayLike<number> = [], opts: { major?: number; align?: number } = {}) {
  const { major = 1, align = 64 } = opts;
  const text = typeof header === 'string' ? new TextEncoder().encode(header) : header;
  const start = major === 1 ? 10 : 12;
  const total = Math.ceil((start + text.length + 1) / align) * align;
  const out = new Uint8Array(total + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
  const dv = new DataView(out.buffer);
  if (major === 1) dv.setUint16(8, total - start, true);
  else dv.setUint32(8, total - start, true);
  out.set(text, start);
  out.fill(0x20, start + text.length, total - 1);
  out[total - 1] = 0x0a;
  out.set(data, total);
  return out;
}
const dict = (descr: string, shape: string, fortran = 'False') =>
  `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }`;

describe('reading numpy files', () => {
  for (const [name, e] of Object.entries(expected)) {
    it(`${name}: ${e.descr} ${JSON.stringify(e.shape)} reads to exactly numpy's values`, () => {
      const a = readNpy(join(FIXTURES, name));
      expect(a.descr).toBe(e.descr);
      expect(a.dtype).toBe(dtypeOf(e.descr));
      expect(a.shape).toEqual(e.shape);
      expectSameData(a.data, jsValues(e));
    });
  }

  it('reads the format versions numpy wrote: 1.0 by default, 2.0 and 3.0 on request', () => {
    expect(fixture('f32_2d.npy').subarray(6, 8)).toEqual(new Uint8Array([1, 0]));
    expect(fixture('v2_f32.npy').subarray(6, 8)).toEqual(new Uint8Array([2, 0]));
    expect(fixture('v3_i2.npy').subarray(6, 8)).toEqual(new Uint8Array([3, 0]));
  });

  it('copies data into fresh, aligned typed arrays, also from a Buffer at an odd offset', () => {
    const file = fixture('f64_2d.npy');
    const backing = new Uint8Array(file.length + 1);
    backing.set(file, 1);
    const a = parseNpy(Buffer.from(backing.buffer, 1, file.length));
    expect(a.data).toBeInstanceOf(Float64Array);
    expect((a.data as Float64Array).byteOffset).toBe(0);
    expect((a.data as Float64Array).buffer).not.toBe(backing.buffer);
    expectSameData(a.data, jsValues(expected['f64_2d.npy'] as Expected));
    backing.fill(0);
    expect((a.data as Float64Array)[0]).toBe(1.5);
  });

  it('accepts what a Python dict literal may vary: key order, double quotes, no trailing comma, old 16-byte padding', () => {
    const data = new Uint8Array(new Float32Array([1, 2]).buffer);
    const variants = [
      `{'shape': (2,), 'fortran_order': False, 'descr': '<f4'}`,
      `{"descr": "<f4", "fortran_order": False, "shape": (2, )}`,
      `  {\t'descr' : '<f4' ,\n'fortran_order':False,'shape':(2,),}  \n`,
    ];
    for (const h of variants) expect(Array.from(parseNpy(npy(h, data)).data as Float32Array)).toEqual([1, 2]);
    const old = npy(dict('<f4', '(2,)'), data, { align: 16 });
    expect(old.length % 64).not.toBe(0);
    expect(Array.from(parseNpy(old).data as Float32Array)).toEqual([1, 2]);
  });

  it("accepts Python 2's long suffix (3L, 4L) in 1.0 and 2.0 headers, as numpy does, but not in 3.0", () => {
    const data = new Uint8Array(12);
    expect(parseNpy(npy(dict('|u1', '(3L, 4L)'), data)).shape).toEqual([3, 4]);
    expect(parseNpy(npy(dict('|u1', '(3L, 4L)'), data, { major: 2 })).shape).toEqual([3, 4]);
    expect(npyError(() => parseNpy(npy(dict('|u1', '(3L, 4L)'), data, { major: 3 })))).toMatch(/plain decimal integer/);
  });

  it('decodes a 3.0 header as UTF-8 (a non-ASCII descr is then an unsupported dtype, not garbage)', () => {
    expect(npyError(() => parseNpy(npy(dict('<f\u00e9', '(0,)'), [], { major: 3 }), 'x.npy'))).toBe(
      "x.npy: dtype '<f\u00e9' is not supported (hdglue reads f4, f8, i1-i8, u1-u8, b1, U and S (e.g. '<f4', '|b1', '<U8'))",
    );
  });
});

describe('writing as numpy does', () => {
  // Every little-endian 1.0 fixture, rebuilt from the sidecar's literal values, not from the reader.
  const writable = Object.keys(expected).filter(
    (n) => !n.startsWith('be_') && !n.startsWith('v2') && !n.startsWith('v3'),
  );

  it('covers float32, float64, int64 and unicode among the byte-exact cases', () => {
    for (const n of ['f32_2d.npy', 'f64_2d.npy', 'i64_labels.npy', 'u_strings.npy']) expect(writable).toContain(n);
  });

  for (const name of writable) {
    it(`encodeNpy reproduces numpy's ${name} byte for byte`, () => {
      const e = expected[name] as Expected;
      const dtype = dtypeOf(e.descr);
      const bytes = encodeNpy({ shape: e.shape, data: jsValues(e), dtype });
      expect(Buffer.from(bytes).toString('latin1')).toBe(Buffer.from(fixture(name)).toString('latin1'));
    });
  }

  it("matches numpy's header text and 64-byte alignment", () => {
    const bytes = encodeNpy({ shape: [3, 4], data: new Float32Array(12) });
    const headerLength = bytes[8]! | (bytes[9]! << 8);
    expect((10 + headerLength) % 64).toBe(0);
    const header = Buffer.from(bytes.subarray(10, 10 + headerLength)).toString('latin1');
    expect(header).toBe(
      `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }${' '.repeat(headerLength - 60)}\n`,
    );
  });

  it('infers the dtype from the data, and takes bool and bytes only when asked', () => {
    const cases: [NpyData, string][] = [
      [new Float32Array(1), '<f4'],
      [new Float64Array(1), '<f8'],
      [new Int8Array(1), '|i1'],
      [new Int16Array(1), '<i2'],
      [new Int32Array(1), '<i4'],
      [new BigInt64Array(1), '<i8'],
      [new Uint8Array(1), '|u1'],
      [new Uint16Array(1), '<u2'],
      [new Uint32Array(1), '<u4'],
      [new BigUint64Array(1), '<u8'],
      [['abc', ''], '<U3'],
      [[''], '<U1'],
      [[], '<U1'],
    ];
    for (const [data, descr] of cases) {
      expect(parseNpy(encodeNpy({ shape: [data.length], data })).descr).toBe(descr);
    }
    expect(parseNpy(encodeNpy({ shape: [2], data: new Uint8Array([0, 1]), dtype: 'bool' })).descr).toBe('|b1');
    expect(parseNpy(encodeNpy({ shape: [1], data: ['ab'], dtype: 'bytes' })).descr).toBe('|S2');
  });
});

describe('round trips through files', () => {
  const dtypes: NpyDtype[] = [
    'float32',
    'float64',
    'int8',
    'int16',
    'int32',
    'int64',
    'uint8',
    'uint16',
    'uint32',
    'uint64',
    'bool',
    'unicode',
    'bytes',
  ];
  const shapes = [[], [0], [5], [3, 4], [2, 0], [2, 3, 4]];
  const next = prng(7);
  const u64 = () => (BigInt(next()) << 32n) | BigInt(next());
  // Interior NULs survive; trailing ones would not (numpy strips them), so strings never end in one.
  const pool = ['a', 'Z', ' ', '\u00e9', '\u00ff', '\u4e2d', '\u{1f600}', '\u{10ffff}', '\0'];
  const randomString = (latin1: boolean) => {
    const chars = pool.filter((c) => !latin1 || c.codePointAt(0)! <= 0xff);
    let s = '';
    for (let k = next() % 7; k > 0; k--) s += chars[next() % chars.length];
    return s.endsWith('\0') ? `${s}x` : s;
  };

  function sample(dtype: NpyDtype, n: number): NpyData {
    const f = () => (next() / 2 ** 32 - 0.5) * 2 ** ((next() % 40) - 20);
    switch (dtype) {
      case 'float32':
        return Float32Array.from({ length: n }, (_, k) => [NaN, -0, Infinity][k] ?? f());
      case 'float64':
        return Float64Array.from({ length: n }, (_, k) => [-Infinity, -0, NaN, Number.MIN_VALUE][k] ?? f());
      case 'int8':
        return Int8Array.from({ length: n }, () => next());
      case 'int16':
        return Int16Array.from({ length: n }, () => next());
      case 'int32':
        return Int32Array.from({ length: n }, () => next());
      case 'int64':
        return BigInt64Array.from({ length: n }, () => BigInt.asIntN(64, u64()));
      case 'uint8':
        return Uint8Array.from({ length: n }, () => next());
      case 'uint16':
        return Uint16Array.from({ length: n }, () => next());
      case 'uint32':
        return Uint32Array.from({ length: n }, () => next());
      case 'uint64':
        return BigUint64Array.from({ length: n }, u64);
      case 'bool':
        return Uint8Array.from({ length: n }, () => next() & 1);
      default:
        return Array.from({ length: n }, () => randomString(dtype === 'bytes'));
    }
  }

  for (const dtype of dtypes) {
    it(`${dtype}: shapes (), (0,), (5,), (3,4), (2,0), (2,3,4)`, () => {
      for (const shape of shapes) {
        const data = sample(
          dtype,
          shape.reduce((p, d) => p * d, 1),
        );
        const path = join(dir, `${dtype}-${shape.join('x') || 'scalar'}.npy`);
        writeNpy(path, { shape, data, dtype });
        const a = readNpy(path);
        expect(a.dtype).toBe(dtype);
        expect(a.shape).toEqual(shape);
        expectSameData(a.data, data);
        const file = readFileSync(path);
        expect([file[6], file[7], (10 + file.readUInt16LE(8)) % 64]).toEqual([1, 0, 0]);
      }
    });
  }

  it('writes atomically: no temporary file is left, and an existing file is replaced', () => {
    const sub = mkdtempSync(join(dir, 'atomic-'));
    const path = join(sub, 'a.npy');
    writeNpy(path, { shape: [2], data: new Float64Array([1, 2]) });
    writeNpy(path, { shape: [1], data: new Int32Array([7]) });
    expect(readdirSync(sub)).toEqual(['a.npy']);
    expect(Array.from(readNpy(path).data as Int32Array)).toEqual([7]);
  });
});

describe('refusing malformed files', () => {
  const f32 = fixture('f32_2d.npy'); // (3, 4) float32: a 128-byte preamble and 48 bytes of data

  it('bad magic, an empty file, and unsupported versions', () => {
    expect(npyError(() => parseNpy(new TextEncoder().encode('PK\x03\x04 a zip file'), 'x.npy'))).toBe(
      'x.npy: not a .npy file (bad magic)',
    );
    expect(npyError(() => parseNpy(new Uint8Array(0), 'x.npy'))).toBe('x.npy: not a .npy file (the file is empty)');
    expect(npyError(() => parseNpy(new Uint8Array(0)))).toBe('not a .npy file (the file is empty)');
    for (const [major, minor] of [
      [4, 0],
      [1, 1],
      [0, 0],
      [255, 255],
    ]) {
      const bytes = f32.slice();
      bytes[6] = major!;
      bytes[7] = minor!;
      expect(npyError(() => parseNpy(bytes, 'x.npy'))).toBe(
        `x.npy: unsupported .npy format version ${major}.${minor} (hdglue reads 1.0, 2.0 and 3.0)`,
      );
    }
  });

  it('truncation at every offset of small files, in every part of the file', () => {
    for (const name of ['f32_2d.npy', 'u_strings.npy', 'bool.npy', 'v2_f32.npy', 'scalar.npy', 's_bytes.npy']) {
      const bytes = fixture(name);
      for (let n = 0; n < bytes.length; n++) npyError(() => parseNpy(bytes.subarray(0, n), name));
    }
    expect(npyError(() => parseNpy(f32.subarray(0, 128 + 20), 'x.npy'))).toBe(
      'x.npy: truncated: header says 12 float32 values (48 bytes) but only 20 bytes follow',
    );
    expect(npyError(() => parseNpy(fixture('u_strings.npy').subarray(0, 130), 'x.npy'))).toBe(
      'x.npy: truncated: header says 6 <U6 values (144 bytes) but only 2 bytes follow',
    );
    expect(npyError(() => parseNpy(f32.subarray(0, 5), 'x.npy'))).toBe(
      'x.npy: truncated: 5 bytes, shorter than the 10-byte .npy preamble',
    );
  });

  it('trailing bytes after the data', () => {
    const bytes = new Uint8Array(f32.length + 3);
    bytes.set(f32);
    expect(npyError(() => parseNpy(bytes, 'x.npy'))).toBe(
      'x.npy: 3 trailing bytes after the 48 bytes of 12 float32 values',
    );
  });

  it('a header length beyond the file or above 1 MiB', () => {
    const bytes = f32.slice();
    new DataView(bytes.buffer).setUint16(8, 1000, true);
    expect(npyError(() => parseNpy(bytes, 'x.npy'))).toBe(
      'x.npy: truncated: header length 1000 reaches past the end of the file (176 bytes)',
    );
    const v2 = npy(dict('<f4', '(0,)'), [], { major: 2 });
    new DataView(v2.buffer).setUint32(8, 2 ** 20 + 1, true);
    expect(npyError(() => parseNpy(v2))).toMatch(/header length 1048577 bytes is above the limit/);
    new DataView(v2.buffer).setUint32(8, 0xffffffff, true);
    expect(npyError(() => parseNpy(v2))).toMatch(/above the limit/);
  });

  it('header keys: extra, missing, duplicated, or not a string', () => {
    const extra = `{'descr': '<f4', 'fortran_order': False, 'shape': (0,), 'extra': 1, }`;
    expect(npyError(() => parseNpy(npy(extra)))).toMatch(/unknown key "extra"/);
    expect(npyError(() => parseNpy(npy(`{'descr': '<f4', 'shape': (0,), }`)))).toBe(
      "bad header: missing key 'fortran_order'",
    );
    expect(npyError(() => parseNpy(npy('{}')))).toBe("bad header: missing keys 'descr', 'fortran_order', 'shape'");
    const twice = `{'descr': '<f4', 'descr': '<f8', 'fortran_order': False, 'shape': (0,), }`;
    expect(npyError(() => parseNpy(npy(twice)))).toBe("bad header: key 'descr' appears twice");
    expect(npyError(() => parseNpy(npy(`{1: '<f4'}`)))).toMatch(/expected a quoted key/);
  });

  it('expressions and nested structures are refused, never evaluated', () => {
    const headers = [
      dict(`' + __import__('os').system('touch pwned') + '`, '(0,)'),
      `{'descr': __import__('os').system('touch pwned'), 'fortran_order': False, 'shape': (0,), }`,
      `{'descr': '<f4', 'fortran_order': not 0, 'shape': (0,), }`,
      `{'descr': '<f4', 'fortran_order': False, 'shape': (2*3,), }`,
      `{'descr': '<f4', 'fortran_order': False, 'shape': (2**62, 2**62), }`,
      `{'descr': '<f4', 'fortran_order': False, 'shape': (0x10,), }`,
      `{'descr': '<f4', 'fortran_order': False, 'shape': (1.5,), }`,
      `{'descr': '<f4', 'fortran_order': False, 'shape': (1_0,), }`,
      `{'descr': '<f4', 'fortran_order': False, 'shape': (007,), }`,
      `{'descr': {'descr': '<f4'}, 'fortran_order': False, 'shape': (0,), }`,
      `{'descr': '<f4', 'fortran_order': False, 'shape': {'a': 1}, }`,
      `{'descr': '<f4', 'fortran_order': False, 'shape': ((2, 3),), }`,
      `{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3], }`,
      `{'descr': '<f4', 'fortran_order': False, 'shape': (5), }`,
      `{'descr': '<f4', 'fortran_order': False, 'shape': (,), }`,
      `{'descr': '<f4', 'fortran_order': 1, 'shape': (0,), }`,
      `{'descr': '<f4', 'fortran_order': Falsey, 'shape': (0,), }`,
      `{'descr': '<\\x66\\x34', 'fortran_order': False, 'shape': (0,), }`,
      `{'descr': '<f4' '', 'fortran_order': False, 'shape': (0,), }`,
      `{'descr': '<f4', 'fortran_order': False, 'shape': (0,), } {}`,
      `{'descr': '<f4', 'fortran_order': False, 'shape': (0,), }#`,
      `{'descr': '<f4', 'fortran_order': False, 'shape': (0,),, }`,
      `{'descr': '<f4', 'fortran_order': False, 'shape': (0,) 'x'}`,
      `['descr', '<f4']`,
      `\ufeff${dict('<f4', '(0,)')}`,
      `{'descr': '<f4', 'fortran_order': False, 'shape': (0,), `,
      `{'descr': '<f4`,
    ];
    for (const h of headers) npyError(() => parseNpy(npy(h, [], { major: 3 })));
    expect(npyError(() => parseNpy(npy(headers[1]!), 'x.npy'))).toBe(
      `x.npy: bad header: expected a quoted string such as '<f4' for 'descr' at character 10, found "__import__('os').system("`,
    );
    expect(npyError(() => parseNpy(npy(headers[13]!)))).toBe(
      'bad header: shape (n) is not a tuple; a 1-D shape is written (n,)',
    );
  });

  it('negative, huge and too many dimensions; products past 2^53 or past the file', () => {
    const shape = (s: string) => npyError(() => parseNpy(npy(dict('<f4', s))));
    expect(shape('(-1,)')).toBe('bad header: shape has a negative dimension at character 51');
    expect(shape('(3, -4)')).toMatch(/negative dimension/);
    expect(shape('(4611686018427387904, 4611686018427387904)')).toBe(
      'bad header: shape dimension 4611686018427387904 is too large',
    );
    expect(shape('(9007199254740992,)')).toMatch(/is too large/);
    expect(shape(`(${'9'.repeat(400)},)`)).toBe('bad header: shape dimension of 400 digits is too large');
    expect(shape('(4194304, 4194304, 4194304)')).toBe('shape (4194304, 4194304, 4194304) has more than 2^53 elements');
    expect(shape(`(${Array(65).fill(1).join(', ')})`)).toBe('bad header: shape has more than 64 dimensions');
    // Checked against the bytes present before anything is allocated: no 8 PB allocation is tried.
    expect(shape('(9007199254740991,)')).toBe(
      'truncated: header says 9007199254740991 float32 values (36028797018963964 bytes) but only 0 bytes follow',
    );
    expect(shape('(67108864, 67108864)')).toBe(
      'truncated: header says 4503599627370496 float32 values (18014398509481984 bytes) but only 0 bytes follow',
    );
    // A zero dimension empties the array, whatever the others.
    expect(parseNpy(npy(dict('<f4', '(0, 9007199254740991)'))).shape).toEqual([0, 9007199254740991]);
    expect(parseNpy(npy(dict('<f4', `(${Array(64).fill(1).join(', ')})`), [0, 0, 0, 0])).shape).toHaveLength(64);
  });

  it('Fortran order, with the fix in the message', () => {
    expect(npyError(() => readNpy(join(FIXTURES, 'f64_fortran.npy')))).toBe(
      `${join(FIXTURES, 'f64_fortran.npy')}: the array is in Fortran order; save it with numpy.save(path, numpy.ascontiguousarray(a))`,
    );
  });

  it("numpy's object, structured, float16 and complex files, each named in the message", () => {
    const read = (name: string) => npyError(() => readNpy(join(FIXTURES, name)));
    expect(read('object.npy')).toMatch(
      /object\.npy: dtype '\|O': object arrays are pickled Python objects; hdglue does not read pickles$/,
    );
    expect(read('structured.npy')).toMatch(
      /structured\.npy: structured dtype \[\('a', '<f4'\), \('b', '<i4'\)\] is not/,
    );
    expect(read('f16.npy')).toMatch(/f16\.npy: dtype '<f2' \(float16\) is not supported/);
    expect(read('c16.npy')).toMatch(/c16\.npy: dtype '<c16' \(complex\) is not supported/);
  });

  it('other dtypes: datetime, void, ambiguous byte order, zero or huge string sizes', () => {
    const descr = (d: string) => npyError(() => parseNpy(npy(dict(d, '(0,)'))));
    for (const d of ['<M8[ns]', '<m8', '|V4', '<f16', '<i3', '<u16', '<b2', 'f4', '<', '', 'U4', '<O8']) {
      expect(descr(d)).toMatch(/^dtype '.*'( is not supported| has no explicit byte order|: object arrays)/);
    }
    expect(descr('=f4')).toBe("dtype '=f4' has no explicit byte order ('<' or '>')");
    expect(descr('|f8')).toBe("dtype '|f8' has no explicit byte order ('<' or '>')");
    expect(descr('|U4')).toMatch(/no explicit byte order/);
    expect(descr('<U0')).toBe("dtype '<U0' has zero-size elements");
    expect(descr('|S0')).toBe("dtype '|S0' has zero-size elements");
    expect(descr('<U536870912')).toBe("dtype '<U536870912' has elements larger than numpy's limit of 2^31 - 1 bytes");
    expect(descr(`<U${'9'.repeat(30)}`)).toMatch(/larger than numpy's limit/);
    // Single-byte types read the same in any byte order.
    expect(parseNpy(npy(dict('<i1', '(1,)'), [255])).data).toEqual(new Int8Array([-1]));
    expect(parseNpy(npy(dict('>S1', '(1,)'), [65])).data).toEqual(['A']);
  });

  it('a bool byte other than 0 or 1, and a UTF-32 value that is not a code point', () => {
    expect(npyError(() => parseNpy(npy(dict('|b1', '(3,)'), [0, 2, 1]), 'x.npy'))).toBe(
      'x.npy: bool element 1 is the byte 2; a numpy bool is 0 or 1',
    );
    const u32 = (cp: number, order: '<' | '>') => {
      const b = new Uint8Array(4);
      new DataView(b.buffer).setUint32(0, cp, order === '<');
      return npy(dict(`${order}U1`, '(1,)'), b);
    };
    expect(npyError(() => parseNpy(u32(0x110000, '<')))).toBe(
      'string element 0 holds 0x110000, which is not a Unicode scalar value',
    );
    expect(npyError(() => parseNpy(u32(0xd800, '>')))).toMatch(/holds 0xd800/);
    expect(parseNpy(u32(0x10ffff, '>')).data).toEqual(['\u{10ffff}']);
  });

  it('non-ASCII bytes in a 1.0 or 2.0 header, invalid UTF-8 in a 3.0 header', () => {
    const latin = new TextEncoder().encode(dict('<f4', '(0,)'));
    latin[11] = 0xe9;
    expect(npyError(() => parseNpy(npy(latin)))).toBe('header byte 11 is 0xe9: a format 1.0 header is ASCII');
    expect(npyError(() => parseNpy(npy(latin, [], { major: 2 })))).toMatch(/format 2\.0 header is ASCII/);
    expect(npyError(() => parseNpy(npy(latin, [], { major: 3 })))).toBe('the header is not valid UTF-8');
  });
});

describe('readNpy and writeNpy on the file system', () => {
  const f32Path = join(FIXTURES, 'f32_2d.npy');

  it('maxBytes: the file size is checked before reading', () => {
    expect(npyError(() => readNpy(f32Path, { maxBytes: 175 }))).toBe(
      `${f32Path}: 176 bytes is above the limit of 175 bytes (raise maxBytes to read it)`,
    );
    expect(readNpy(f32Path, { maxBytes: 176 }).shape).toEqual([3, 4]);
    expect(thrown(() => readNpy(f32Path, { maxBytes: -1 })).code).toBe(ErrorCode.OUT_OF_RANGE);
    expect(thrown(() => readNpy(f32Path, { maxBytes: '1' as unknown as number })).code).toBe(ErrorCode.INVALID_TYPE);
  });

  it('a directory, a missing file, and (on POSIX) a FIFO', () => {
    expect(npyError(() => readNpy(dir))).toBe(`${dir}: not a regular file (a directory)`);
    const missing = join(dir, 'nope.npy');
    const e = thrown(() => readNpy(missing));
    expect(e).not.toBeInstanceOf(HdglueError);
    expect(e.code).toBe('ENOENT');
    expect(e.message.startsWith(`${missing}: cannot open: ENOENT`)).toBe(true);
    expect(e.cause).toBeInstanceOf(Error);
  });

  it.skipIf(process.platform === 'win32')('a FIFO is refused without blocking for a writer', () => {
    const fifo = join(dir, 'fifo.npy');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    expect(npyError(() => readNpy(fifo))).toBe(`${fifo}: not a regular file (a FIFO)`);
  });

  it('a write into a missing directory names the path', () => {
    const target = join(dir, 'no', 'such', 'dir', 'a.npy');
    const e = thrown(() => writeNpy(target, { shape: [1], data: new Float32Array(1) }));
    expect(e.code).toBe('ENOENT');
    expect(e.message.startsWith(`${target}: cannot write: `)).toBe(true);
  });

  it('reads a file written by another program through the same checks', () => {
    const path = join(dir, 'garbage.npy');
    writeFileSync(path, 'not numpy at all');
    expect(npyError(() => readNpy(path))).toBe(`${path}: not a .npy file (bad magic)`);
  });
});

describe('encodeNpy argument errors', () => {
  const code = (fn: () => unknown) => {
    const e = thrown(fn);
    return `${e.constructor.name} ${e.code}`;
  };

  it('shape and data disagree, or a dimension is not a non-negative integer', () => {
    expect(code(() => encodeNpy({ shape: [3, 4], data: new Float32Array(10) }))).toBe('RangeError ERR_HDGLUE_SHAPE');
    expect(thrown(() => encodeNpy({ shape: [3, 4], data: new Float32Array(10) })).message).toBe(
      'encodeNpy: shape (3, 4) holds 12 elements but data has 10',
    );
    expect(code(() => encodeNpy({ shape: [], data: new Float32Array(0) }))).toBe('RangeError ERR_HDGLUE_SHAPE');
    expect(code(() => encodeNpy({ shape: [-1], data: new Float32Array(0) }))).toBe(
      'RangeError ERR_HDGLUE_OUT_OF_RANGE',
    );
    expect(code(() => encodeNpy({ shape: [1.5], data: new Float32Array(1) }))).toBe(
      'RangeError ERR_HDGLUE_OUT_OF_RANGE',
    );
    expect(code(() => encodeNpy({ shape: Array(65).fill(1), data: new Float32Array(1) }))).toBe(
      'RangeError ERR_HDGLUE_OUT_OF_RANGE',
    );
    expect(code(() => encodeNpy({ shape: ['2'] as unknown as number[], data: new Float32Array(2) }))).toBe(
      'TypeError ERR_HDGLUE_INVALID_TYPE',
    );
  });

  it('data that is not a supported array, or does not match the dtype', () => {
    const bad = (data: unknown, dtype?: string) =>
      code(() => encodeNpy({ shape: [1], data: data as NpyData, ...(dtype ? { dtype: dtype as NpyDtype } : {}) }));
    expect(bad(new Uint8ClampedArray(1))).toBe('TypeError ERR_HDGLUE_INVALID_TYPE');
    expect(bad([1])).toBe('TypeError ERR_HDGLUE_INVALID_TYPE');
    expect(bad(new Float64Array(1), 'float32')).toBe('TypeError ERR_HDGLUE_INVALID_TYPE');
    expect(bad(new Int8Array(1), 'bool')).toBe('TypeError ERR_HDGLUE_INVALID_TYPE');
    expect(bad(new Uint8Array(1), 'unicode')).toBe('TypeError ERR_HDGLUE_INVALID_TYPE');
    expect(bad(['a'], 'float16')).toBe('TypeError ERR_HDGLUE_INVALID_TYPE');
    expect(thrown(() => encodeNpy({ shape: [1], data: new Float64Array(1), dtype: 'float32' })).message).toBe(
      "encodeNpy: dtype 'float32' needs a Float32Array, got Float64Array",
    );
  });

  it('values a .npy file cannot hold: bool 2, non-Latin-1 bytes, lone surrogates', () => {
    expect(code(() => encodeNpy({ shape: [2], data: new Uint8Array([1, 2]), dtype: 'bool' }))).toBe(
      'RangeError ERR_HDGLUE_OUT_OF_RANGE',
    );
    expect(thrown(() => encodeNpy({ shape: [1], data: ['\u0101'], dtype: 'bytes' })).message).toBe(
      "encodeNpy: string 0 has U+0101, which dtype 'bytes' (Latin-1) cannot hold",
    );
    expect(code(() => encodeNpy({ shape: [2], data: ['ok', 'a\ud800'] }))).toBe('RangeError ERR_HDGLUE_OUT_OF_RANGE');
  });
});

describe('fuzz', () => {
  it('random byte flips, truncations and extensions parse correctly or fail with ERR_HDGLUE_NPY', () => {
    const seeds = [
      'f32_2d.npy',
      'u_strings.npy',
      's_bytes.npy',
      'bool.npy',
      'be_f8.npy',
      'be_u4_strings.npy',
      'v2_f32.npy',
      'v3_i2.npy',
      'scalar.npy',
      'i64_labels.npy',
    ].map(fixture);
    // Characters the tokenizer cares about, so flips in the header reach its branches, not only "bad byte".
    const alphabet = new TextEncoder().encode('{}()[],:\'" \n0123456789-LTrueFalse<>|=fiubUSO');
    const next = prng(0x6e7079);
    let parsed = 0;
    let refused = 0;
    for (let iter = 0; iter < 5000; iter++) {
      const seed = seeds[next() % seeds.length] as Uint8Array;
      let bytes = seed.slice();
      // A quarter of the runs damage only the data, which mostly still parses; the rest mostly hit
      // the preamble and header, where the parser branches.
      const dataOnly = next() % 4 === 0;
      const dv = new DataView(seed.buffer, seed.byteOffset, seed.byteLength);
      const dataStart = seed[6] === 1 ? 10 + dv.getUint16(8, true) : 12 + dv.getUint32(8, true);
      for (let flips = 1 + (next() % 3); flips > 0; flips--) {
        const at = dataOnly
          ? dataStart + (next() % (bytes.length - dataStart))
          : next() % 2
            ? next() % Math.min(bytes.length, 128)
            : next() % bytes.length;
        const how = next() % 3;
        bytes[at] =
          how === 0
            ? next() & 0xff
            : how === 1
              ? bytes[at]! ^ (1 << (next() % 8))
              : alphabet[next() % alphabet.length]!;
      }
      const cut = next() % 8;
      if (cut === 0) bytes = bytes.subarray(0, next() % bytes.length);
      else if (cut === 1)
        bytes = Uint8Array.from([...bytes, ...Array.from({ length: 1 + (next() % 8) }, () => next() & 0xff)]);
      try {
        const a = parseNpy(bytes, 'fuzz.npy');
        parsed++;
        expect(a.data.length).toBe(a.shape.reduce((p, d) => p * d, 1));
        // What was read is a proper array: it writes and reads back unchanged.
        const again = parseNpy(encodeNpy({ shape: a.shape, data: a.data, dtype: a.dtype }));
        expectSameData(again.data, a.data);
      } catch (e) {
        if (!(e instanceof HdglueError) || e.code !== ErrorCode.NPY_FORMAT || !e.message.startsWith('fuzz.npy: ')) {
          throw new Error(`iteration ${iter}: ${String(e)} for ${Buffer.from(bytes).toString('hex')}`, { cause: e });
        }
        refused++;
      }
    }
    // Both outcomes must be common, or the loop is testing only one path.
    expect(parsed).toBeGreaterThan(500);
    expect(refused).toBeGreaterThan(500);
  });
});
