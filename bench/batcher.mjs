#!/usr/bin/env node
// What micro-batching buys a server: single-row requests from C concurrent clients (closed loop:
// each client sends a row, awaits its label, sends the next) through glueBatcher against one
// glue.predictAsync call per request, at C = 1, 16, 64, 256. Reports rows/s, p50 and p99 latency
// per request and the ratios batcher / direct, with the mean rows per batch call; records CPU,
// ISA and Node. The glue: two members (128 and 64 features), D = 10,000, 64 bins, 10 classes,
// fitted on seeded synthetic rows (speed does not depend on what was learned). Uses dist/.
//   npm run bench:batcher [-- --seconds 2] [-- --json FILE]
// About 40 s with the defaults. On a shared machine, compare ratios rather than absolute rates.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { backendInfo, EmbeddingEncoder, glueBatcher, HDGlue } = await import(join(root, 'dist/index.js'));

const args = process.argv.slice(2);
const opt = (name, d) => (args.includes(name) ? args[args.indexOf(name) + 1] : d);
const SECONDS = Number(opt('--seconds', 2));
const WARMUP_MS = 300;
const CONCURRENCY = [1, 16, 64, 256];
const CLASSES = 10;
const MEMBERS = [
  { name: 'img', features: 128 },
  { name: 'txt', features: 64 },
];

// mulberry32, seeded: the benchmark's data is the same on every run.
let state = 11;
const rand = () => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = Math.imul(state ^ (state >>> 15), state | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
};

// Class centres plus noise, tanh-squashed like a hidden layer's output.
function rows(n, features, labels) {
  const x = new Float32Array(n * features);
  for (let r = 0; r < n; r++)
    for (let k = 0; k < features; k++)
      x[r * features + k] = Math.tanh(Math.sin(labels[r] * 1.3 + k * 0.7) + (rand() - 0.5) * 1.2);
  return x;
}

const TRAIN = 2000;
const POOL = 1024;
const yTrain = Array.from({ length: TRAIN }, (_, i) => i % CLASSES);
const yPool = Array.from({ length: POOL }, () => Math.floor(rand() * CLASSES));
const glue = new HDGlue();
const train = {};
const pool = {};
MEMBERS.forEach((m, i) => {
  glue.addMember(m.name, { encoder: new EmbeddingEncoder({ features: m.features, dim: 10_000, bins: 64, seed: i }) });
  train[m.name] = rows(TRAIN, m.features, yTrain);
  pool[m.name] = rows(POOL, m.features, yPool);
});
glue.fit(train, yTrain);
// One request: row i of the pool for every member (views; the batcher copies them at submit).
const request = (i) =>
  Object.fromEntries(MEMBERS.map((m) => [m.name, pool[m.name].subarray(i * m.features, (i + 1) * m.features)]));
const requests = Array.from({ length: POOL }, (_, i) => request(i));

/** C closed-loop clients for `ms` milliseconds: completed rows, elapsed seconds, sorted latencies (ms). */
async function load(predict, clients, ms) {
  let stop = false;
  let next = 0;
  const lat = [];
  const client = async () => {
    while (!stop) {
      const i = next++ % POOL;
      const t0 = performance.now();
      await predict(requests[i]);
      lat.push(performance.now() - t0);
    }
  };
  const t0 = performance.now();
  const all = Array.from({ length: clients }, client);
  await new Promise((r) => setTimeout(r, ms));
  stop = true;
  await Promise.all(all);
  const seconds = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  return { rows: lat.length, seconds, lat };
}

const pct = (lat, p) => lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))] ?? 0;

async function measure(mode, clients) {
  let predict;
  let batcher;
  if (mode === 'direct') predict = (req) => glue.predictAsync(req);
  else {
    batcher = glueBatcher(glue, { wait2: { maxWaitMs: 2 }, conc2: { concurrency: 2 } }[mode] ?? {});
    predict = (req) => batcher.submit(req);
  }
  await load(predict, clients, WARMUP_MS);
  const before = batcher?.stats();
  const r = await load(predict, clients, SECONDS * 1000);
  const after = batcher?.stats();
  await batcher?.close();
  const calls = after ? after.batches - before.batches : r.rows;
  return {
    mode,
    clients,
    rowsPerSecond: r.rows / r.seconds,
    p50: pct(r.lat, 50),
    p99: pct(r.lat, 99),
    meanBatch: calls > 0 ? (after ? (after.rows - before.rows) / calls : 1) : 0,
  };
}

const info = backendInfo();
const machine = {
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores: os.cpus().length,
  node: process.version,
  backend: info.backend,
  isa: info.isa,
  threads: info.threads,
  // Other work on the machine moves every figure: the 1-minute load average before and after.
  loadavg: [os.loadavg()[0]],
};
console.log(
  `glueBatcher vs predictAsync per request: single-row requests, ${MEMBERS.length} members (${MEMBERS.map((m) => m.features).join(' + ')} features), D = 10,000, ${CLASSES} classes, ${SECONDS} s per point`,
);
console.log(
  `CPU: ${machine.cpu} (${machine.cores} cores), backend ${machine.backend}/${machine.isa}, ${machine.threads} threads, Node ${machine.node}`,
);
console.log('batcher: defaults (maxBatch 256, maxWaitMs 0, concurrency 1); wait2: maxWaitMs 2; conc2: concurrency 2');
const f = (v, d = 0) => v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
console.log(
  `${'clients'.padStart(7)} | ${'mode'.padEnd(7)} | ${'rows/s'.padStart(9)} | ${'p50 ms'.padStart(7)} | ${'p99 ms'.padStart(7)} | ${'rows/call'.padStart(9)} | ${'x rows/s'.padStart(8)} | ${'x p99'.padStart(6)}`,
);
const records = [];
// The batcher modes of one row of the table, one after another (never two loads at once).
async function sequence(modes, clients) {
  const out = [];
  for (const m of modes) out.push(await measure(m, clients));
  return out;
}
for (const clients of CONCURRENCY) {
  const direct = await measure('direct', clients);
  records.push(direct);
  for (const rec of [direct, ...(await sequence(['batcher', 'wait2', 'conc2'], clients))]) {
    if (rec !== direct) records.push(rec);
    console.log(
      `${String(clients).padStart(7)} | ${rec.mode.padEnd(7)} | ${f(rec.rowsPerSecond).padStart(9)} | ${f(rec.p50, 2).padStart(7)} | ${f(rec.p99, 2).padStart(7)} | ${f(rec.meanBatch, 1).padStart(9)} | ${f(rec.rowsPerSecond / direct.rowsPerSecond, 2).padStart(8)} | ${f(rec.p99 / direct.p99, 2).padStart(6)}`,
    );
  }
}
machine.loadavg.push(os.loadavg()[0]);
console.log(`load average (1 min) before / after: ${machine.loadavg.map((l) => l.toFixed(2)).join(' / ')}`);
const json = opt('--json');
if (json) writeFileSync(json, `${JSON.stringify({ machine, seconds: SECONDS, records }, null, 2)}\n`);
