// Fuzz loop of the model-file reader (HDGlue.load, HIL.load) and the .npy reader (readNpy): real
// files, damaged every way a disk, a network or an attacker can damage them, read back from disk.
// Every read must either give a working model / array or throw an HdglueError with the reader's
// own code (ERR_HDGLUE_MODEL_FILE or ERR_HDGLUE_MODEL_VERSION; ERR_HDGLUE_NPY), and the process's
// peak resident memory must stay below the bound the readers state: about the file's own size, plus
// `maxVectorBytes` for the vectors a glue's encoders rebuild from their seeds. Header fields are
// also rewritten with hostile values and the checksum recomputed, so the damage reaches the
// semantic checks behind the CRC (dimensions of 2^24, 65,536 bins and features, negative and
// fractional counts, wrong types, gigabyte-sized claims).
//
//   node test/stress/fuzz-files.mjs [iterations] [seed]      (npm test runs a short loop)
//
// Prints one JSON line: counts per outcome, peak RSS; exits 1 on an unexpected outcome.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddingEncoder, encodeNpy, HDGlue, HdglueError, HIL, ProjectionEncoder, readNpy } from 'hdglue';
import { prng, synthetic } from './common.mjs';

const iterations = Number(process.argv[2] ?? 2000);
const seed = Number(process.argv[3] ?? 1);
// The bound given to HDGlue.load: 32 MiB of regenerated vectors.
const MAX_VECTOR_BYTES = 32 * 2 ** 20;
// Peak RSS allowed for the whole run: Node itself, the seed files, one damaged file at a time and
// the vectors above. A reader that trusted a length field would blow far past it. Under
// AddressSanitizer (scripts/test-asan-addon.mjs preloads it) shadow memory and the quarantine of
// freed blocks add a few hundred MiB of their own.
const asan = (process.env.LD_PRELOAD ?? '').includes('asan');
const MAX_RSS = (asan ? 1200 : 400) * 2 ** 20;

const base = existsDir('/dev/shm') ? '/dev/shm' : tmpdir();
const dir = mkdtempSync(join(base, 'hdglue-fuzz-'));
const next = prng(seed);
const int = (n) => Math.floor(next() * n);
const pick = (a) => a[int(a.length)];

function existsDir(p) {
  try {
    mkdirSync(p, { recursive: true });
    return true;
  } catch {
    return false;
  }
}

// ---- the seed files ----
const a = synthetic(60, 12, 3, 5);
const b = synthetic(60, 20, 3, 6);
const glue = new HDGlue();
glue.addMember('lvl', { encoder: new EmbeddingEncoder({ features: 12, dim: 200, bins: 8 }).fit(a.x) });
glue.addMember('proj', { encoder: new ProjectionEncoder({ features: 20, dim: 200 }).fit(b.x) });
glue.fit({ lvl: a.x, proj: b.x }, a.labels);
glue.save(join(dir, 'glue.hdg'));
glue.member('lvl').hil.save(join(dir, 'hil.hdg'));
const glueBytes = readFileSync(join(dir, 'glue.hdg'));
const hilBytes = readFileSync(join(dir, 'hil.hdg'));
const npySeeds = [
  encodeNpy({ shape: [4, 3], data: Float32Array.from({ length: 12 }, (_, i) => i / 3) }),
  encodeNpy({ shape: [5], data: ['a', 'bé', 'ccc', '', 'd'] }),
  encodeNpy({ shape: [2, 2], data: new BigInt64Array([1n, -2n, 3n, 4n]) }),
  encodeNpy({ shape: [3], data: new Uint8Array([1, 0, 1]), dtype: 'bool' }),
  encodeNpy({ shape: [], data: new Float64Array([Math.PI]) }),
];

// ---- the model file's layout, written independently of lib/io/model-file.ts ----
const CRC = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes) {
  let c = 0xffffffff;
  for (const x of bytes) c = CRC[(c ^ x) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function split(bytes) {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headLen = dv.getUint32(12, true);
  const header = JSON.parse(Buffer.from(bytes.subarray(24, 24 + headLen)).toString('utf8'));
  return { header, rest: bytes.subarray(24 + headLen + ((8 - (headLen % 8)) % 8)), count: dv.getUint32(20, true) };
}
function join8(headerText, rest, count) {
  const head = Buffer.from(headerText, 'utf8');
  const pad = (8 - (head.length % 8)) % 8;
  const out = Buffer.alloc(24 + head.length + pad + rest.length);
  out.write('HDGLUE\r\n', 0, 'latin1');
  out.writeUInt32LE(1, 8);
  out.writeUInt32LE(head.length, 12);
  out.writeUInt32LE(crc32(head), 16);
  out.writeUInt32LE(count, 20);
  head.copy(out, 24);
  Buffer.from(rest).copy(out, 24 + head.length + pad);
  return out;
}

const HOSTILE = [
  -1,
  0,
  -0,
  0.5,
  1,
  2 ** 24,
  2 ** 24 + 1,
  65536,
  65537,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  1e300,
  null,
  true,
  '',
  '7',
  '1e9',
  '99999999999999999999999',
  '__proto__',
  [],
  [1, 2],
  {},
  { kind: 'hdglue.EmbeddingEncoder' },
];

// Every path to a leaf or container of a JSON value.
function paths(v, at = [], out = []) {
  out.push(at);
  if (v !== null && typeof v === 'object') {
    for (const k of Object.keys(v)) if (out.length < 4000) paths(v[k], [...at, k], out);
  }
  return out;
}
function setPath(obj, path, value) {
  if (path.length === 0) return value;
  let o = obj;
  for (const k of path.slice(0, -1)) o = o?.[k];
  if (o !== null && typeof o === 'object') o[path[path.length - 1]] = value;
  return obj;
}

function mutateHeader(bytes) {
  const { header, rest, count } = split(bytes);
  const kind = int(4);
  if (kind === 0 && Array.isArray(header.members)) {
    // The "allocate gigabytes" header: every encoder as large as its options allow.
    for (const m of header.members) {
      m.encoder.dim = 2 ** 24;
      m.encoder.features = pick([65536, m.encoder.features]);
      if (m.encoder.bins !== undefined) m.encoder.bins = pick([65536, m.encoder.bins]);
      m.hil.dim = 2 ** 24;
    }
  } else if (kind === 1 && Array.isArray(header.members)) {
    // Many members, each cheap to describe: the bound must count them all.
    const m = header.members[0];
    header.members = Array.from({ length: 1 + int(600) }, (_, i) => ({
      ...structuredClone(m),
      name: `m${i}`,
      hil: { ...m.hil, dim: 2 ** 24, labels: [], counts: [], seed: String(i) },
      encoder: { ...m.encoder, dim: 2 ** 24, seed: String(i) },
    }));
    return join8(JSON.stringify(header), new Uint8Array(0), header.members.length);
  } else {
    let h = header;
    for (let k = 1 + int(3); k > 0; k--) h = setPath(h, pick(paths(h)), structuredClone(pick(HOSTILE)));
    return join8(JSON.stringify(h), rest, int(8) === 0 ? pick([0, count + 1, 0xffffffff]) : count);
  }
  return join8(JSON.stringify(header), rest, int(8) === 0 ? pick([0, count + 1, 0xffffffff]) : count);
}

function mutateBytes(seedBytes) {
  const bytes = Buffer.from(seedBytes);
  const how = int(7);
  if (how === 0) {
    for (let k = 1 + int(4); k > 0; k--) bytes[int(bytes.length)] ^= 1 << int(8);
    return bytes;
  }
  if (how === 1) return bytes.subarray(0, int(bytes.length));
  if (how === 2) return Buffer.concat([bytes, Buffer.from(Array.from({ length: 1 + int(40) }, () => int(256)))]);
  if (how === 3) {
    // A 32-bit field of the preamble: version, header length, CRC, section count.
    bytes.writeUInt32LE(
      pick([0, 1, 2, 0x7fffffff, 0x80000000, 0xffffffff, bytes.length, bytes.length - 23]),
      pick([8, 12, 16, 20]),
    );
    return bytes;
  }
  if (how === 4) {
    // A section length, as a 64-bit value: huge, negative as two's complement, off by one.
    const { rest } = split(bytes);
    const at = bytes.length - rest.length;
    if (at + 8 <= bytes.length) {
      const cur = bytes.readBigUInt64LE(at);
      bytes.writeBigUInt64LE(pick([0n, 2n ** 63n, 2n ** 64n - 1n, 2n ** 53n, cur + 1n, cur - 1n, cur + 8n]), at);
    }
    return bytes;
  }
  return mutateHeader(bytes);
}

function mutateNpy(seedBytes) {
  const bytes = Buffer.from(seedBytes);
  const how = int(5);
  if (how === 0) {
    for (let k = 1 + int(3); k > 0; k--) bytes[int(bytes.length)] ^= 1 << int(8);
    return bytes;
  }
  if (how === 1) return bytes.subarray(0, int(bytes.length));
  if (how === 2) {
    bytes.writeUInt16LE(pick([0, 1, 0xffff, bytes.length, bytes.length - 9]), 8);
    return bytes;
  }
  // A header claiming a huge shape or item size; the data stays as it was.
  const text = bytes.subarray(10, 10 + bytes.readUInt16LE(8)).toString('latin1');
  const evil = text
    .replace(
      /'shape': \([^)]*\)/,
      `'shape': (${pick(['2**40', '1099511627776, 1099511627776', '9007199254740993,', '-1,', '0, 99999999999', '4294967296, 4294967296, 16'])})`,
    )
    .replace(/'descr': '[^']*'/, (m) =>
      int(2) ? m : `'descr': '${pick(['<U2147483647', '|S2000000000', '<f8', '<c16', '|O'])}'`,
    );
  const head = Buffer.from(evil.padEnd(text.length, ' '), 'latin1');
  const out = Buffer.concat([bytes.subarray(0, 10), head, bytes.subarray(10 + text.length)]);
  out.writeUInt16LE(head.length, 8);
  return out;
}

// ---- the loop ----
const counts = {};
const note = (k) => {
  counts[k] = (counts[k] ?? 0) + 1;
};
const fail = (what, bytes, e) => {
  const file = join(tmpdir(), `hdglue-fuzz-failure-${seed}-${Date.now()}.bin`);
  writeFileSync(file, bytes);
  console.error(`${what}: ${e?.stack ?? e} (input kept in ${file})`);
  process.exit(1);
};
const sample = { lvl: a.x.subarray(0, 24), proj: b.x.subarray(0, 40) };
const path = join(dir, 'damaged');

// Truncation at every offset of each seed file first, then random damage.
const plan = [];
for (const [kind, bytes] of [['glue', glueBytes], ['hil', hilBytes], ...npySeeds.map((s) => ['npy', s])])
  for (let t = 0; t < bytes.length; t++) plan.push([kind, bytes.subarray(0, t)]);

for (let i = 0; i < plan.length + iterations; i++) {
  let kind;
  let bytes;
  if (i < plan.length) [kind, bytes] = plan[i];
  else {
    kind = pick(['glue', 'glue', 'hil', 'npy']);
    bytes =
      kind === 'glue' ? mutateBytes(glueBytes) : kind === 'hil' ? mutateBytes(hilBytes) : mutateNpy(pick(npySeeds));
  }
  writeFileSync(path, bytes);
  try {
    if (kind === 'glue') {
      const g = HDGlue.load(path, { maxVectorBytes: MAX_VECTOR_BYTES });
      note('glue:loaded');
      try {
        g.predict(sample);
      } catch (e) {
        if (!(e instanceof HdglueError || e instanceof RangeError || e instanceof TypeError) || !e.code)
          fail('a loaded glue failed without a code', bytes, e);
      }
    } else if (kind === 'hil') {
      HIL.load(path);
      note('hil:loaded');
    } else {
      const arr = readNpy(path);
      if (arr.data.length > bytes.length) fail('an array larger than its file', bytes, arr.shape);
      note('npy:parsed');
    }
  } catch (e) {
    const want = kind === 'npy' ? ['ERR_HDGLUE_NPY'] : ['ERR_HDGLUE_MODEL_FILE', 'ERR_HDGLUE_MODEL_VERSION'];
    if (!(e instanceof HdglueError) || !want.includes(e.code)) fail(`${kind}: not a coded reader error`, bytes, e);
    note(`${kind}:${e.code}`);
  }
}
rmSync(dir, { recursive: true, force: true });
const maxRss = process.resourceUsage().maxRSS * 1024;
console.log(JSON.stringify({ iterations: plan.length + iterations, counts, maxRssMiB: Math.round(maxRss / 2 ** 20) }));
if (maxRss > MAX_RSS) {
  console.error(`peak RSS ${maxRss} is above the bound of ${MAX_RSS}`);
  process.exit(1);
}
