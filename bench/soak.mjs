#!/usr/bin/env node
// Soak test of the async prediction path, as a long-lived server uses it: 1,000,000 predictions
// through HDGlue.predictAsync (1,000 calls of 1,000 rows by default, a few in flight at once),
// on a two-member glue (a level encoder and a projection encoder, D = 10,000, 10 classes). It
// samples the resident set size as it goes and fails if it grows beyond a bound after warm-up:
// memory held per call (pinned arrays, async workers, cached vectors) would show as growth.
//
//   node bench/soak.mjs [--calls 1000] [--rows 1000] [--inflight 4] [--max-growth-mib 64] [--json FILE]
//
// Needs the built package (npm run build). Figures of the last runs are in RELIABILITY.md.
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { backendInfo, EmbeddingEncoder, HDGlue, ProjectionEncoder } from 'hdglue';

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const calls = Number(opt('--calls', 1000));
const rows = Number(opt('--rows', 1000));
const inflight = Number(opt('--inflight', 4));
const maxGrowth = Number(opt('--max-growth-mib', 64)) * 2 ** 20;
const jsonOut = opt('--json', '');

function prng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
const next = prng(7);
const classes = 10;
const centres = (features) =>
  Array.from({ length: classes }, () => Float32Array.from({ length: features }, () => next() * 2 - 1));
const cA = centres(64);
const cB = centres(256);
function batch(n, offset) {
  const a = new Float32Array(n * 64);
  const b = new Float32Array(n * 256);
  const labels = [];
  for (let r = 0; r < n; r++) {
    const c = (r + offset) % classes;
    labels.push(c);
    for (let f = 0; f < 64; f++) a[r * 64 + f] = cA[c][f] * 0.5 + (next() * 2 - 1) * 0.5;
    for (let f = 0; f < 256; f++) b[r * 256 + f] = cB[c][f] * 0.5 + (next() * 2 - 1) * 0.5;
  }
  return { inputs: { level: a, projection: b }, labels };
}

const train = batch(2000, 0);
const glue = new HDGlue();
glue.addMember('level', {
  encoder: new EmbeddingEncoder({ features: 64, bins: 32 }).fit(train.inputs.level, { method: 'quantile' }),
});
glue.addMember('projection', { encoder: new ProjectionEncoder({ features: 256 }).fit(train.inputs.projection) });
glue.fit(train.inputs, train.labels, { refine: { epochs: 5 } });

// A pool of distinct batches, reused round-robin, so the soak measures the library, not the
// generation of fresh test data.
const pool = Array.from({ length: 8 }, (_, i) => batch(rows, i));
const mib = (b) => Math.round((b / 2 ** 20) * 10) / 10;
const samples = [];
function sample(done) {
  const m = process.memoryUsage();
  samples.push({ calls: done, rssMiB: mib(m.rss), heapMiB: mib(m.heapUsed), arrayBuffersMiB: mib(m.arrayBuffers) });
}

const t0 = performance.now();
sample(0);
let done = 0;
let correct = 0;
let warm;
async function worker() {
  while (done < calls) {
    const k = done++;
    const { inputs, labels } = pool[k % pool.length];
    const got = await glue.predictAsync(inputs);
    for (let r = 0; r < got.length; r++) if (got[r] === labels[r]) correct++;
    if ((k + 1) % Math.max(1, Math.floor(calls / 20)) === 0) sample(k + 1);
    if (k + 1 === Math.min(50, calls)) {
      sample(k + 1);
      warm = samples.at(-1);
    }
  }
}
await Promise.all(Array.from({ length: inflight }, worker));
sample(calls);
const secs = (performance.now() - t0) / 1000;
const end = samples.at(-1);
const start = samples[0];
warm ??= start;
const growth = (end.rssMiB - warm.rssMiB) * 2 ** 20;
const result = {
  date: new Date().toISOString().slice(0, 10),
  cpu: `${cpus()[0]?.model ?? 'unknown'} (${cpus().length} cores)`,
  node: process.versions.node,
  backend: `${backendInfo().backend}/${backendInfo().isa}`,
  predictions: calls * rows,
  calls,
  rowsPerCall: rows,
  inflight,
  seconds: Math.round(secs * 10) / 10,
  predictionsPerSecond: Math.round((calls * rows) / secs),
  accuracy: Math.round((correct / (calls * rows)) * 10000) / 10000,
  rssStartMiB: start.rssMiB,
  rssAfterWarmupMiB: warm.rssMiB,
  rssEndMiB: end.rssMiB,
  rssPeakMiB: Math.max(...samples.map((s) => s.rssMiB)),
  growthAfterWarmupMiB: mib(growth),
  bound: `${mib(maxGrowth)} MiB`,
  samples,
};
if (jsonOut) writeFileSync(jsonOut, `${JSON.stringify(result, null, 2)}\n`);
const { samples: _s, ...summary } = result;
console.log(JSON.stringify(summary, null, 2));
if (growth > maxGrowth) {
  console.error(`soak: RSS grew ${mib(growth)} MiB after warm-up, above the bound of ${mib(maxGrowth)} MiB`);
  process.exit(1);
}
console.log(
  `soak: ${calls * rows} predictions, RSS ${start.rssMiB} -> ${end.rssMiB} MiB (after warm-up ${warm.rssMiB}): bounded`,
);
