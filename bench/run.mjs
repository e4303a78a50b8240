#!/usr/bin/env node
// hdglue benchmarks: native kernels at every ISA level this CPU has, the WebAssembly tier (both
// modules), the TypeScript backend, and a peer (simsimd's per-vector `hamming`) in the same
// process, with ratios (the glue ops' wasm and ts rows come from child processes).
//   npm run bench [-- --filter NAME] [-- --json FILE]
// Records: { op, impl, isa, dim, perSecond, unit }. Uses the compiled dist/ and the local addon.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { glueWorkload } from './glue-workload.mjs';
import { sweepQuad } from './js-encoders.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const Benchmark = require('benchmark');
const raw = require('node-gyp-build')(root);
const { jsBackend } = await import(join(root, 'dist/backend/index.js'));
const { loadNative } = await import(join(root, 'dist/backend/native.js'));
const { loadWasm } = await import(join(root, 'dist/backend/wasm/backend.js'));

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const filter = opt('--filter');
const jsonFile = opt('--json');

const load = loadNative();
if (!load.ok) throw load.error;
const native = load.backend; // shares the raw addon's per-environment level, switched below
// The WebAssembly tier, both modules, in this process (their kernels are plain functions).
const wasmLoads = [loadWasm(''), loadWasm('scalar')];
for (const w of wasmLoads) if (!w.ok) throw w.error;
const wasmTiers = wasmLoads.map((w) => w.backend);
const levels = raw.info().available;
let simsimd;
try {
  simsimd = require('simsimd');
} catch {
  simsimd = undefined;
}

const DIM = 10000;
const W = Math.ceil(DIM / 64);
const S = 2 * W;

function randomRows(n, seed) {
  const out = new Uint32Array(n * S);
  let s = seed >>> 0;
  for (let i = 0; i < out.length; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (t ^ (t >>> 14)) >>> 0;
  }
  const rem = DIM & 31;
  for (let r = 0; r < n; r++) {
    const row = out.subarray(r * S, (r + 1) * S);
    row[DIM >>> 5] &= (1 << rem) - 1;
    row.fill(0, (DIM >>> 5) + 1);
  }
  return out;
}

const records = [];
const machine = {
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores: os.cpus().length,
  node: process.version,
  detectedIsa: raw.info().detected,
  platform: `${process.platform}-${process.arch}`,
};
console.log(
  `CPU: ${machine.cpu} (${machine.cores} cores), Node ${machine.node}, ${machine.platform}, detected ISA: ${machine.detectedIsa}`,
);

// One measurement: `perCall` units per call of fn.
function measure(fn) {
  return new Promise((resolve) => {
    const b = new Benchmark({ fn, minSamples: 8, maxTime: 1.5, onComplete: () => resolve(b) });
    b.run({ async: false });
  });
}

async function op(name, unit, perCall, impls) {
  if (filter && !name.includes(filter)) return;
  console.log(`\n${name} (D = ${DIM}, ${unit})`);
  const rows = [];
  for (const impl of impls) {
    if (impl.before) impl.before();
    // An impl with `rate` was measured outside this process (the C reference): recorded as given.
    const b = impl.rate === undefined ? await measure(impl.fn) : undefined;
    const perSecond = b ? b.hz * (impl.perCall ?? perCall) : impl.rate;
    rows.push({ ...impl, perSecond, rme: b ? b.stats.rme : 0 });
    records.push({ op: name, impl: impl.impl, isa: impl.isa, dim: DIM, perSecond, unit });
  }
  const js = rows.find((r) => r.impl === 'ts');
  const peer = rows.find((r) => r.impl === 'simsimd');
  const ref = rows.find((r) => r.impl === 'c-reference');
  for (const r of rows) {
    const vsJs = js ? `${(r.perSecond / js.perSecond).toFixed(2)}x ts` : '';
    const vsPeer = peer
      ? `${(r.perSecond / peer.perSecond).toFixed(2)}x simsimd`
      : ref
        ? `${(r.perSecond / ref.perSecond).toFixed(2)}x reference`
        : '';
    const rate =
      r.perSecond >= 1e6
        ? `${(r.perSecond / 1e6).toFixed(2)} M/s`
        : r.perSecond >= 1e3
          ? `${(r.perSecond / 1e3).toFixed(1)} k/s`
          : `${r.perSecond.toFixed(2)} /s (${(1000 / r.perSecond).toFixed(0)} ms)`;
    console.log(
      `  ${`${r.impl}/${r.isa}`.padEnd(24)} ${rate.padStart(11)}  ±${r.rme.toFixed(1)}%  ${vsJs.padStart(11)}  ${vsPeer}`,
    );
  }
}

/** The WebAssembly rows of an op: both modules, one thread (perCall: the scalar module's, if smaller). */
function wasmImpls(run, scalarPerCall) {
  return wasmTiers.map((be) => ({
    impl: 'wasm',
    isa: be.isa,
    ...(be.isa === 'scalar' && scalarPerCall
      ? { perCall: scalarPerCall.perCall, fn: scalarPerCall.run(be) }
      : { fn: run(be) }),
  }));
}

// Single-core figures for every level; the large scans are also measured with every core.
const cores = raw.info().threads;
function nativeImpls(fn, { multicore = false } = {}) {
  const impls = levels.map((isa) => ({
    impl: 'native',
    isa,
    before: () => {
      raw._useIsa(isa);
      raw._setThreads(1);
    },
    fn,
  }));
  if (multicore && cores > 1) {
    impls.push({
      impl: `native-${cores}-threads`,
      isa: machine.detectedIsa,
      before: () => {
        raw._useIsa(machine.detectedIsa);
        raw._setThreads(cores);
      },
      fn,
    });
  }
  return impls;
}

// Hamming 1 x N: one call over 100,000 rows (125 MB), far larger than any cache.
{
  const N = 100_000;
  const batch = randomRows(N, 1);
  const q = randomRows(1, 2);
  const out = new Uint32Array(N);
  const impls = nativeImpls(() => native.hamming1xN(q, batch, N, W, out), { multicore: true });
  impls.push(...wasmImpls((be) => () => be.hamming1xN(q, batch, N, W, out)));
  impls.push({ impl: 'ts', isa: 'ts', fn: () => jsBackend.hamming1xN(q, batch, N, W, out) });
  if (simsimd) {
    const bytes = new Uint8Array(batch.buffer);
    const qb = new Uint8Array(q.buffer, 0, DIM / 8);
    const views = Array.from({ length: N }, (_, r) => bytes.subarray(r * S * 4, r * S * 4 + DIM / 8));
    impls.push({
      impl: 'simsimd',
      isa: 'auto',
      fn: () => {
        for (let r = 0; r < N; r++) out[r] = simsimd.hamming(qb, views[r]);
      },
    });
  }
  await op('hamming_1xN', 'vectors/s', N, impls);
}

// Bundle of K = 128 vectors: majority with the tie-breaker.
{
  const K = 128;
  const batch = randomRows(K, 3);
  const tie = randomRows(1, 4);
  const out = new Uint32Array(S);
  await op('bundle_k128', 'input vectors/s', K, [
    ...nativeImpls(() => native.bundle(batch, K, W, tie, out)),
    ...wasmImpls((be) => () => be.bundle(batch, K, W, tie, out)),
    { impl: 'ts', isa: 'ts', fn: () => jsBackend.bundle(batch, K, W, tie, out) },
  ]);
}

// Bind one vector against a batch of 10,000.
{
  const N = 10_000;
  const batch = randomRows(N, 5);
  const key = randomRows(1, 6);
  const out = new Uint32Array(N * S);
  await op('bind', 'vectors/s', N, [
    ...nativeImpls(() => native.bind(batch, key, 0, N, W, out)),
    ...wasmImpls((be) => () => be.bind(batch, key, 0, N, W, out)),
    { impl: 'ts', isa: 'ts', fn: () => jsBackend.bind(batch, key, 0, N, W, out) },
  ]);
}

// Level encoder: 128 features, 100 bins, level codebook; 2,048 embeddings per call.
{
  const { EmbeddingEncoder } = await import(join(root, 'dist/index.js'));
  const F = 128;
  const N = 2048;
  const enc = new EmbeddingEncoder({ features: F, dim: DIM, bins: 100, levels: 'level', seed: 1 });
  const x = new Float32Array(N * F);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.37) * 1.1;
  const lo = enc.lo;
  const hi = enc.hi;
  const L = enc.levelVectors.data;
  const P = enc.positionVectors.data;
  const { tieBreaker } = await import(join(root, 'dist/index.js'));
  const tie = tieBreaker(DIM, { seed: 1 }).data;
  const out = new Uint32Array(N * S);
  const run = (be) => () => be.encodeLevels(x, N, F, lo, hi, 100, L, 100, P, DIM, tie, out);
  const tsRows = 256;
  const tsOut = new Uint32Array(tsRows * S);
  await op('encode_128', 'embeddings/s', N, [
    ...nativeImpls(run(native), { multicore: true }),
    ...wasmImpls(run),
    // The fastest pure-JavaScript encoder of bench/js-encoders.mjs (independent code), the peer
    // the TypeScript backend is held to, on the same smaller batch.
    {
      impl: 'js-peer',
      isa: 'sweepQuad',
      perCall: tsRows,
      fn: () => sweepQuad(x, tsRows, F, lo, hi, 100, L, 100, P, DIM, tie, tsOut),
    },
    // The TypeScript backend on a smaller batch (it is far slower), in the same unit.
    {
      impl: 'ts',
      isa: 'ts',
      perCall: tsRows,
      fn: () => jsBackend.encodeLevels(x, tsRows, F, lo, hi, 100, L, 100, P, DIM, tie, tsOut),
    },
  ]);
}

// Glue: the workload of bench/glue-workload.mjs. Native here; the WebAssembly and TypeScript
// tiers in child processes (bench/glue-tier.mjs; a process holds one backend), whose rates are
// recorded as measured there.
if (!filter || ['glue_predict_5', 'glue_predict_5_hamming', 'fit_5'].some((op) => op.includes(filter))) {
  const h = await import(join(root, 'dist/index.js'));
  const w = glueWorkload(h, DIM);
  const setOne = () => {
    raw._useIsa(machine.detectedIsa);
    raw._setThreads(1);
  };
  const tiers = ['wasm', 'js'].map((t) => {
    const r = spawnSync(process.execPath, [join(root, 'bench', 'glue-tier.mjs')], {
      encoding: 'utf8',
      env: { ...process.env, HDGLUE_BACKEND: t, HDGLUE_MAX_ISA: '', HDGLUE_THREADS: '1' },
    });
    if (r.status !== 0) throw new Error(`bench/glue-tier.mjs on ${t} failed: ${r.stderr}`);
    const got = JSON.parse(r.stdout.trim().split('\n').pop());
    return { impl: t === 'js' ? 'ts' : 'wasm', isa: t === 'js' ? 'ts' : got.isa, rates: got.rates };
  });
  const child = (key) => tiers.map((t) => ({ impl: t.impl, isa: t.isa, rate: t.rates[key] }));
  await op('glue_predict_5', 'samples/s', w.queries, [
    { impl: 'native', isa: machine.detectedIsa, before: setOne, fn: w.predict },
    ...child('glue_predict_5'),
  ]);
  await op('glue_predict_5_hamming', 'samples/s', w.queries, [
    { impl: 'native', isa: machine.detectedIsa, before: setOne, fn: w.predictHamming },
    ...child('glue_predict_5_hamming'),
  ]);
  await op('fit_5', 'fits/s', 1, [
    { impl: 'native', isa: machine.detectedIsa, before: setOne, fn: w.fit },
    ...child('fit_5'),
  ]);
}

// Online refinement (refineOnline), one epoch per call: n = 60,000 rows of 10 classes at D = 10,000
// (one 128-d member's shape), truth i % 10, counters starting each call from the plain fit (the
// rows summed per class), rival updates on. Plain random rows would leave more than half of the
// visits errors (a row's own contribution to its class is ~1.3 sigma of the others' noise), so
// every visit would update whatever the margin; the rows are instead noisy copies of 10 class
// prototypes (each bit kept from the prototype with probability 1/8, random otherwise), and the
// margin is the plain fit's lead at the first third of the rows, so about a third update, as in
// the C reference (which updates every third row). The fraction measured is printed.
// The C reference (../shared/bench-ref/refine_ref.cpp, a plain AVX2 int32 loop over the same
// shape) is built and run in the same run when that file exists; it is never part of the package.
if (!filter || 'refine_online'.includes(filter)) {
  const N = 60_000;
  const C = 10;
  const protos = randomRows(C, 21);
  const noise = [randomRows(N, 22), randomRows(N, 23), randomRows(N, 24), randomRows(N, 25)];
  const hvs = new Uint32Array(N * S);
  const truth = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    const t = i % C;
    truth[i] = t;
    for (let j = 0; j < S; j++) {
      const o = i * S + j;
      const keep = noise[1][o] & noise[2][o] & noise[3][o];
      hvs[o] = ((protos[t * S + j] & keep) | (noise[0][o] & ~keep)) >>> 0;
    }
  }
  const fit = new Int32Array(C * DIM);
  for (let i = 0; i < N; i++) {
    const t = truth[i];
    native.accAdd(fit.subarray(t * DIM, (t + 1) * DIM), DIM, hvs.subarray(i * S, (i + 1) * S), 1, null);
  }
  const fitNorms = new Float64Array(C);
  for (let k = 0; k < C; k++) {
    let s2 = 0;
    for (let i = 0; i < DIM; i++) s2 += fit[k * DIM + i] * fit[k * DIM + i];
    fitNorms[k] = s2;
  }
  // Calibration on the first 6,000 rows: each row's lead over its best rival under the plain fit.
  const calib = 6000;
  const dots = new Float64Array(calib * C);
  native.dotCounters(hvs, calib, fit, C, DIM, dots);
  const qn = Math.sqrt(DIM);
  const leads = [];
  for (let i = 0; i < calib; i++) {
    const sc = (k) => dots[i * C + k] / (qn * Math.sqrt(fitNorms[k]));
    let best = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < C; k++) if (k !== truth[i]) best = Math.max(best, sc(k));
    leads.push(sc(truth[i]) - best);
  }
  leads.sort((a, b) => a - b);
  const margin = leads[Math.floor(calib / 3)];
  const order = Uint32Array.from({ length: N }, (_, i) => i);
  const counters = new Int32Array(C * DIM);
  const norms2 = new Float64Array(C);
  const stats = new Float64Array(2);
  const epoch = (be, count) => () => {
    counters.set(fit);
    norms2.set(fitNorms);
    be.refineOnline(hvs, N, DIM, truth, order, count, counters, C, norms2, margin, 1, stats);
  };
  raw._useIsa(machine.detectedIsa);
  stats.fill(0);
  epoch(native, N)();
  console.log(
    `\nrefine_online: margin ${margin.toPrecision(4)} (the plain fit's lead at the first third of rows); ` +
      `one epoch: ${((100 * stats[1]) / N).toFixed(1)}% of rows updated, ${((100 * stats[0]) / N).toFixed(1)}% errors`,
  );
  const impls = nativeImpls(null).map((impl) => ({
    ...impl,
    // The scalar level is an order of magnitude slower: a tenth of the rows keeps its run short.
    perCall: impl.isa === 'scalar' ? N / 10 : N,
    fn: epoch(native, impl.isa === 'scalar' ? N / 10 : N),
  }));
  impls.push(...wasmImpls((be) => epoch(be, N), { perCall: N / 10, run: (be) => epoch(be, N / 10) }));
  // The TypeScript backend on the first 6,000 rows (same counters, same margin), in the same unit.
  impls.push({ impl: 'ts', isa: 'ts', perCall: N / 10, fn: epoch(jsBackend, N / 10) });
  const reference = runReference();
  if (reference) impls.push({ impl: 'c-reference', isa: 'avx2', rate: reference });
  await op('refine_online', 'example-epochs/s', N, impls);
}

/**
 * Builds and runs the C reference of refine_online (g++ -O3 -mavx2, in a temporary directory),
 * returning its example-epochs per second, or undefined with a notice when it is absent or fails.
 */
function runReference() {
  const src = join(root, '..', 'shared', 'bench-ref', 'refine_ref.cpp');
  if (!existsSync(src)) {
    console.log(`NOTICE: no C reference for refine_online (${src} is absent); its ratio is skipped`);
    return undefined;
  }
  const dir = mkdtempSync(join(os.tmpdir(), 'hdglue-ref-'));
  try {
    const exe = join(dir, 'refine_ref');
    const cc = spawnSync('g++', ['-O3', '-mavx2', '-o', exe, src], { encoding: 'utf8' });
    if (cc.status !== 0) {
      console.log(
        `NOTICE: the C reference did not compile (${(cc.stderr || cc.error?.message || '').trim()}); skipped`,
      );
      return undefined;
    }
    const r = spawnSync(exe, [], { encoding: 'utf8' });
    const m = /^RESULT\|refine_online\|([^|]*)\|([0-9.e+]+) example-epochs\/s/m.exec(r.stdout ?? '');
    if (r.status !== 0 || !m) {
      console.log(`NOTICE: the C reference gave no RESULT line (exit ${r.status}); skipped`);
      return undefined;
    }
    console.log(`C reference: ${m[1]}, ${m[2]} example-epochs/s (its best of 4 epochs)`);
    return Number(m[2]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

raw._useIsa(machine.detectedIsa);
raw._setThreads(cores);
if (jsonFile) {
  writeFileSync(jsonFile, `${JSON.stringify(records, null, 2)}\n`);
  console.log(`\nwrote ${records.length} records to ${jsonFile}`);
}
