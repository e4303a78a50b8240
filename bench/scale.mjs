#!/usr/bin/env node
// Training at scale, on one core (HDGLUE_THREADS=1 is set before the addon loads):
//   fit_60k: encode + fit + 40 online correction epochs of one 128-feature member on 60,000
//            synthetic rows, 10 classes, D = 10,000 (target: under 20 s);
//   fit_1m:  the same recipe with 2 epochs on 1,000,000 rows, printing time and peak RSS against
//            what the fit must hold anyway (the embeddings and the packed hypervectors), so a
//            fit that kept anything n x n, or copies of the data, shows.
//   npm run bench:scale [-- --rows N] [-- --only fit_60k|fit_1m] [-- --json FILE]
// Each measurement runs in its own child process, so peak RSS is that fit's alone.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// The project's seeded generator (dist/rng.js), loaded by the child that makes the data.
let mulberry32;
const args = process.argv.slice(2);
const opt = (name, d) => (args.includes(name) ? args[args.indexOf(name) + 1] : d);

if (process.env.HDGLUE_SCALE_CHILD) {
  await child(JSON.parse(process.env.HDGLUE_SCALE_CHILD));
} else {
  await parent();
}

async function parent() {
  const only = opt('--only');
  const jobs = [
    { op: 'fit_60k', rows: 60_000, epochs: 40 },
    { op: 'fit_1m', rows: Number(opt('--rows', 1_000_000)), epochs: 2 },
  ].filter((j) => !only || j.op === only);
  const records = [];
  for (const job of jobs) {
    const out = execFileSync(process.execPath, ['--max-old-space-size=16384', fileURLToPath(import.meta.url)], {
      env: { ...process.env, HDGLUE_THREADS: '1', HDGLUE_SCALE_CHILD: JSON.stringify(job) },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const rec = JSON.parse(out.trim().split('\n').pop());
    records.push(rec);
    const gib = (b) => `${(b / 2 ** 30).toFixed(2)} GiB`;
    console.log(
      `${rec.op}: ${rec.rows.toLocaleString('en-US')} rows x ${rec.features}, D ${rec.dim}, ${rec.epochs} epochs, ${rec.backend}/${rec.isa}, threads ${rec.threads}`,
    );
    console.log(
      `  encode-range fit ${rec.seconds.ranges.toFixed(2)} s, encode ${rec.seconds.encode.toFixed(2)} s, counters ${rec.seconds.fit.toFixed(2)} s, correction ${rec.seconds.refine.toFixed(2)} s (${Math.round(rec.exampleEpochsPerSecond).toLocaleString('en-US')} example-epochs/s); total ${rec.seconds.total.toFixed(2)} s`,
    );
    console.log(
      `  peak RSS ${gib(rec.peakRss)}; embeddings ${gib(rec.bytes.embeddings)} + hypervectors ${gib(rec.bytes.hypervectors)} + counters ${gib(rec.bytes.counters)} = ${gib(rec.bytes.embeddings + rec.bytes.hypervectors + rec.bytes.counters)} (ratio ${(rec.peakRss / (rec.bytes.embeddings + rec.bytes.hypervectors + rec.bytes.counters)).toFixed(2)}); training accuracy ${(100 * rec.trainAccuracy).toFixed(2)} %`,
    );
  }
  const machine = { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.cpus().length, node: process.version };
  console.log(`CPU: ${machine.cpu} (${machine.cores} cores), Node ${machine.node}`);
  const json = opt('--json');
  if (json) writeFileSync(json, `${JSON.stringify({ machine, records }, null, 2)}\n`);
}

// Synthetic embeddings: 10 Gaussian class centres in 128 dimensions, unit noise, centres spread
// so that a linear reader gets most but not all rows right (the correction has work to do).
function synthetic(rows, features, classes, seed) {
  const u = mulberry32(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(u() + 1e-300)) * Math.cos(2 * Math.PI * u());
  const centres = Float64Array.from({ length: classes * features }, () => 0.35 * gauss());
  const x = new Float32Array(rows * features);
  const y = new Array(rows);
  for (let r = 0; r < rows; r++) {
    const k = r % classes;
    y[r] = k;
    for (let f = 0; f < features; f++) x[r * features + f] = centres[k * features + f] + gauss();
  }
  return { x, y };
}

async function child(job) {
  const h = await import(join(root, 'dist/index.js'));
  mulberry32 = (await import(join(root, 'dist/rng.js'))).mulberry32;
  const { fitEncoder } = await import(join(root, 'dist/train/recipe.js'));
  const features = 128;
  const recipe = { ...h.DEFAULT_RECIPE, epochs: job.epochs };
  const { x, y } = synthetic(job.rows, features, 10, 1);
  const t0 = performance.now();
  const encoder = fitEncoder(x, features, recipe, 0);
  const t1 = performance.now();
  const hvs = encoder.encodeBatch(x);
  const t2 = performance.now();
  const hil = new h.HIL({ dim: recipe.dim, seed: 0 }).fit(hvs, y);
  const t3 = performance.now();
  const history = hil.refine(hvs, y, { epochs: recipe.epochs, margin: recipe.margin });
  const t4 = performance.now();
  const info = h.backendInfo();
  // Training accuracy on a sample (scoring all rows would add its own buffers to the peak).
  const sample = Math.min(job.rows, 20_000);
  const acc = hil.accuracy(hvs.slice(0, sample), y.slice(0, sample));
  const rec = {
    op: job.op,
    rows: job.rows,
    features,
    dim: recipe.dim,
    epochs: history.length,
    backend: info.backend,
    isa: info.isa,
    threads: info.threads,
    seconds: {
      ranges: (t1 - t0) / 1000,
      encode: (t2 - t1) / 1000,
      fit: (t3 - t2) / 1000,
      refine: (t4 - t3) / 1000,
      total: (t4 - t0) / 1000,
    },
    exampleEpochsPerSecond: (job.rows * history.length) / ((t4 - t3) / 1000),
    peakRss: process.resourceUsage().maxRSS * 1024,
    bytes: { embeddings: x.byteLength, hypervectors: hvs.data.byteLength, counters: 10 * recipe.dim * 4 },
    trainAccuracy: acc,
    updatesLastEpoch: history.at(-1)?.updates,
  };
  process.stdout.write(`${JSON.stringify(rec)}\n`);
}
