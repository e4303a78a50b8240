#!/usr/bin/env node
// Microbenchmark of the WebAssembly kernels themselves: the simd128 module against the scalar
// module, in one process, calling their exports directly on data already in each module's memory
// (no copying in or out, no JavaScript backend). It answers "how much does the simd128 kernel
// table gain inside wasm", per op; the end-to-end figures against the TypeScript backend belong
// to `npm run bench`. Both modules get the same inputs and must give the same bytes, checked
// before timing. Build the modules first: node scripts/build-wasm.mjs.
//
//   node bench/wasm-kernels.mjs [--rounds N] [--ms MS] [--only op,op] [--dir DIR]
// DIR holds the two modules (default wasm/, where scripts/build-wasm.mjs puts them). With
// --base FILE the simd128 module is compared with that module instead of the scalar one (another
// build of a kernel, say), which must give the same bytes too.
// Rounds alternate the two modules. Each figure is the median of its rounds and, after the slash,
// the best round: on a machine shared with other work the best is the steadier of the two
// (interference only ever slows a round down); the ratio is of the medians.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const rounds = Number(opt('--rounds', 9));
const targetMs = Number(opt('--ms', 60));
const dir = opt('--dir', join(root, 'wasm'));
const base = opt('--base', '');
const only = opt('--only', '')
  .split(',')
  .filter((s) => s);

const DIM = 10_000;
const WORDS = Math.ceil(DIM / 64);

/** A module instance with typed views that follow its memory's growth. */
async function load(file) {
  const { instance } = await WebAssembly.instantiate(readFileSync(file), {});
  const x = instance.exports;
  x.__wasm_call_ctors();
  const alloc = (bytes) => {
    const p = x.hdgw_alloc(bytes);
    if (!p) throw new Error(`${file}: hdgw_alloc(${bytes}) failed`);
    return p;
  };
  const u8 = (p, n) => new Uint8Array(x.memory.buffer, p, n);
  return { file, x, alloc, u8 };
}

/** Deterministic bytes (SplitMix-like on 32-bit halves), the same for both modules. */
function randomBytes(n, seed) {
  const out = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i += 4) {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z ^= z >>> 16;
    out[i] = z;
    out[i + 1] = z >>> 8;
    out[i + 2] = z >>> 16;
    out[i + 3] = z >>> 24;
  }
  return out;
}

/** Packed rows of DIM bits with the padding above DIM cleared. */
function randomRows(rows, seed) {
  const bytes = randomBytes(rows * WORDS * 8, seed);
  const view = new DataView(bytes.buffer);
  const tailBits = DIM % 64;
  for (let r = 0; r < rows; r++) {
    const last = (r * WORDS + WORDS - 1) * 8;
    if (tailBits) {
      const lo = tailBits >= 32 ? 0xffffffff : 2 ** tailBits - 1;
      const hi = tailBits > 32 ? 2 ** (tailBits - 32) - 1 : 0;
      view.setUint32(last, view.getUint32(last, true) & lo, true);
      view.setUint32(last + 4, view.getUint32(last + 4, true) & hi, true);
    }
  }
  return bytes;
}

/** Copies bytes into freshly allocated module memory; returns the address. */
function put(m, bytes) {
  const p = m.alloc(bytes.length);
  m.u8(p, bytes.length).set(bytes);
  return p;
}

// Each case: setup(m) puts the inputs into module m and returns { run, out: [addr, bytes], per }
// where run() is one call and `per` the units one call does.
const CASES = [
  {
    op: 'hamming_1xn',
    unit: 'vectors',
    setup(m) {
      const n = 10_000;
      const q = put(m, randomRows(1, 1));
      const batch = put(m, randomRows(n, 2));
      const out = m.alloc(n * 4);
      return { run: () => m.x.hdgw_hamming_1xn(q, batch, n, WORDS, out), out: [out, n * 4], per: n };
    },
  },
  {
    op: 'hamming_mxn 16x2048',
    unit: 'vectors',
    setup(m) {
      const qm = 16;
      const n = 2048;
      const a = put(m, randomRows(qm, 3));
      const b = put(m, randomRows(n, 4));
      const out = m.alloc(qm * n * 4);
      return { run: () => m.x.hdgw_hamming_mxn(a, qm, b, n, WORDS, out), out: [out, qm * n * 4], per: qm * n };
    },
  },
  {
    op: 'bundle k=128',
    unit: 'bundles',
    setup(m) {
      const k = 128;
      const batch = put(m, randomRows(k, 5));
      const tie = put(m, randomRows(1, 6));
      const out = m.alloc(WORDS * 8);
      return { run: () => m.x.hdgw_bundle(batch, k, WORDS, tie, out), out: [out, WORDS * 8], per: 1 };
    },
  },
  {
    op: 'bind',
    unit: 'rows',
    setup(m) {
      const n = 1000;
      const a = put(m, randomRows(n, 7));
      const b = put(m, randomRows(n, 8));
      const out = m.alloc(n * WORDS * 8);
      return { run: () => m.x.hdgw_bind(a, b, 1, n, WORDS, out), out: [out, n * WORDS * 8], per: n };
    },
  },
  {
    op: 'encode_f32 128 features',
    unit: 'rows',
    setup(m) {
      const n = 2048;
      const features = 128;
      const bins = 100;
      const x = new Float32Array(n * features);
      const raw = randomBytes(n * features * 4, 9);
      for (let i = 0; i < x.length; i++) x[i] = (raw[4 * i] | (raw[4 * i + 1] << 8)) / 65536;
      const lo = new Float64Array(features).fill(0);
      const hi = new Float64Array(features).fill(1);
      const xp = put(m, new Uint8Array(x.buffer));
      const lop = put(m, new Uint8Array(lo.buffer));
      const hip = put(m, new Uint8Array(hi.buffer));
      const levels = put(m, randomRows(bins, 10));
      const positions = put(m, randomRows(features, 11));
      const tie = put(m, randomRows(1, 12));
      const out = m.alloc(n * WORDS * 8);
      const bad = m.alloc(8);
      const run = () => {
        const status = m.x.hdgw_encode_f32(xp, n, features, lop, hip, bins, levels, positions, DIM, tie, out, bad);
        if (status !== 0) throw new Error(`encode_f32 returned ${status}`);
      };
      return { run, out: [out, n * WORDS * 8], per: n };
    },
  },
  {
    op: 'acc_add n=64',
    unit: 'rows',
    setup(m) {
      const n = 64;
      const batch = put(m, randomRows(n, 13));
      const counters = m.alloc(DIM * 4);
      m.u8(counters, DIM * 4).fill(0);
      // Counters keep growing between calls; both modules make the same calls, so they agree.
      return { run: () => m.x.hdgw_acc_add(counters, DIM, batch, n, 0), out: [counters, DIM * 4], per: n };
    },
  },
  {
    op: 'threshold m=16',
    unit: 'rows',
    setup(m) {
      const rows = 16;
      const raw = randomBytes(rows * DIM, 14);
      // Small counters, many of them zero, so the tie rule matters.
      const c = Int32Array.from(raw, (b) => (b & 3) - 2);
      const counters = put(m, new Uint8Array(c.buffer));
      const tie = put(m, randomRows(1, 15));
      const out = m.alloc(rows * WORDS * 8);
      return {
        run: () => m.x.hdgw_threshold(counters, rows, DIM, tie, out),
        out: [out, rows * WORDS * 8],
        per: rows,
      };
    },
  },
  ...[
    ['dot_counters n=64 m=10', (c) => c.map((x) => (x % 2001) - 1000)],
    ['dot_counters int32 range', (c) => c],
  ].map(([op, shape]) => ({
    op,
    unit: 'rows',
    setup(m) {
      const n = 64;
      const classes = 10;
      const hvs = put(m, randomRows(n, 16));
      // Counters of class sums (small), or anywhere in int32, which takes the widening path.
      const raw = new Int32Array(randomBytes(classes * DIM * 4, 17).buffer);
      const counters = put(m, new Uint8Array(Int32Array.from(shape(raw)).buffer));
      const out = m.alloc(n * classes * 8);
      return {
        run: () => m.x.hdgw_dot_counters(hvs, n, counters, classes, DIM, out),
        out: [out, n * classes * 8],
        per: n,
      };
    },
  })),
  {
    op: 'dots_one m=10',
    unit: 'calls',
    setup(m) {
      const classes = 10;
      const hv = put(m, randomRows(1, 18));
      const c = randomBytes(classes * DIM * 4, 19);
      for (let i = 3; i < c.length; i += 4) c[i] = c[i - 1] & 0x80 ? 0xff : 0; // inside +-2^23
      const counters = put(m, c);
      const out = m.alloc(classes * 8);
      return { run: () => m.x.hdgw_dots_one(hv, counters, classes, DIM, out), out: [out, classes * 8], per: 1 };
    },
  },
  {
    op: 'row_add',
    unit: 'calls',
    setup(m) {
      const hv = put(m, randomRows(1, 20));
      const counters = m.alloc(DIM * 4);
      m.u8(counters, DIM * 4).fill(0);
      let w = 1;
      const run = () => {
        m.x.hdgw_row_add(counters, DIM, hv, w);
        w = -w;
      };
      return { run, out: [counters, DIM * 4], per: 1 };
    },
  },
  {
    // One epoch of online refinement on small counters: the int16 path (dots_i16, row_add_i16).
    op: 'refine_online m=10',
    unit: 'rows',
    setup(m) {
      const n = 256;
      const classes = 10;
      const hvs = put(m, randomRows(n, 21));
      const truth = put(m, new Uint8Array(Int32Array.from({ length: n }, (_, i) => (i * 7) % classes).buffer));
      const order = put(m, new Uint8Array(Uint32Array.from({ length: n }, (_, i) => i).buffer));
      const counters = m.alloc(classes * DIM * 4);
      const norms = m.alloc(classes * 8);
      const stats = m.alloc(16);
      // Each run starts from the same zero state, so every call does the same work.
      const run = () => {
        m.u8(counters, classes * DIM * 4).fill(0);
        m.u8(norms, classes * 8).fill(0);
        if (m.x.hdgw_refine_online(hvs, n, DIM, truth, order, n, counters, classes, norms, 0.1, 1, stats) !== 0)
          throw new Error('refine_online failed');
      };
      return { run, out: [counters, classes * DIM * 4], per: n };
    },
  },
];

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

function timeIt(run, iters) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iters; i++) run();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

const modules = [await load(join(dir, 'hdglue-simd128.wasm')), await load(base || join(dir, 'hdglue-scalar.wasm'))];
const isa = modules.map((m) => m.x.hdgw_isa());
if (isa[0] !== 4 || (!base && isa[1] !== 0)) throw new Error(`unexpected levels ${isa} (simd128 = 4, scalar = 0)`);
const baseName = base ? 'base' : 'scalar';
console.log(`${os.cpus()[0].model} · Node ${process.version} · D ${DIM} · ${rounds} rounds`);
console.log(
  'op'.padEnd(26),
  'unit'.padEnd(8),
  'simd128/s median / best'.padStart(25),
  `${baseName}/s median / best`.padStart(25),
  'ratio'.padStart(7),
);
const fmt = (xs) =>
  `${Math.round(median(xs)).toLocaleString('en-US')} / ${Math.round(Math.max(...xs)).toLocaleString('en-US')}`;

for (const c of CASES) {
  if (only.length && !only.some((o) => c.op.startsWith(o))) continue;
  const s = modules.map((m) => c.setup(m));
  // One call each, then the outputs must agree byte for byte.
  for (const x of s) x.run();
  const outs = s.map((x, i) => modules[i].u8(x.out[0], x.out[1]).slice());
  if (!outs[0].every((v, i) => v === outs[1][i])) throw new Error(`${c.op}: simd128 and ${baseName} outputs differ`);
  // Iterations per round so that a round takes about targetMs on each module.
  const iters = s.map((x) => {
    let n = 1;
    while (timeIt(x.run, n) < targetMs / 1000 / 4) n *= 2;
    return n * 4;
  });
  const rates = [[], []];
  for (let r = 0; r < rounds; r++)
    for (let i = 0; i < 2; i++) rates[i].push((iters[i] * s[i].per) / timeIt(s[i].run, iters[i]));
  const [a, b] = rates.map(median);
  console.log(
    c.op.padEnd(26),
    c.unit.padEnd(8),
    fmt(rates[0]).padStart(25),
    fmt(rates[1]).padStart(25),
    `${(a / b).toFixed(2)}x`.padStart(7),
  );
}
