#!/usr/bin/env node
// Wall time of `hdglue fit --readout nearest` and `hdglue eval` at scale, as a user runs them:
// the real launcher in a child process on .npy files in a temporary directory. The data is
// synthetic (seeded Gaussian clusters, one per class), so the figures measure the commands, not
// an accuracy worth quoting.
//
//   node bench/nearest-fit.mjs [--rows 60000] [--test 10000] [--features 128] [--classes 10]
//                              [--dim 10000] [--bin PATH/TO/hdglue.mjs] [--keep DIR]
//
// Needs the built package (npm run build). `--bin` runs another build's launcher (to time the
// code before a change against the code after it on the same files). Figures: bench/RESULTS.md.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { writeNpy } = await import(join(root, 'dist/io/npy.js'));

const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};
const rows = Number(opt('--rows', 60000));
const testRows = Number(opt('--test', 10000));
const features = Number(opt('--features', 128));
const classes = Number(opt('--classes', 10));
const dim = opt('--dim', '10000');
const bin = resolve(opt('--bin', join(root, 'bin', 'hdglue.mjs')));
const keep = opt('--keep', '');

// mulberry32 (the project's, dist/rng.js) and Box-Muller: the same files on every run, every machine.
const { mulberry32 } = await import(join(root, 'dist', 'rng.js'));
const next = mulberry32(13);
const gauss = () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
const centres = Array.from({ length: classes }, () => Float32Array.from({ length: features }, gauss));
// Noise wider than the centres' spread, so that neighbours of other classes are common and the
// scan cannot stop early on an exact match.
function set(n) {
  const x = new Float32Array(n * features);
  const y = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const c = Math.floor(next() * classes);
    y[r] = c;
    for (let f = 0; f < features; f++) x[r * features + f] = centres[c][f] + 2 * gauss();
  }
  return { x, y, n };
}

const dir = keep ? resolve(keep) : mkdtempSync(join(tmpdir(), 'hdglue-nearest-'));
if (keep) mkdirSync(dir, { recursive: true });
try {
  const train = set(rows);
  const test = set(testRows);
  writeNpy(join(dir, 'x_train.npy'), { shape: [rows, features], data: train.x });
  writeNpy(join(dir, 'y_train.npy'), { shape: [rows], data: train.y });
  writeNpy(join(dir, 'x_test.npy'), { shape: [testRows, features], data: test.x });
  writeNpy(join(dir, 'y_test.npy'), { shape: [testRows], data: test.y });

  const timed = (what, ...argv) => {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [bin, ...argv], { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 26 });
    const seconds = (performance.now() - t0) / 1000;
    if (r.status !== 0) throw new Error(`${what} failed (${r.status}): ${r.stderr}`);
    console.log(`${what}: ${seconds.toFixed(1)} s`);
    for (const line of r.stdout.trim().split('\n').slice(0, 4)) console.log(`  | ${line}`);
    return seconds;
  };
  console.log(
    `hdglue nearest readout, ${rows} training / ${testRows} test rows, ${features} features, ${classes} classes, D = ${dim}`,
  );
  console.log(`${cpus()[0]?.model.trim()} (${cpus().length} cores), Node ${process.versions.node}, ${bin}`);
  const member = (part) => ['--member', `net=x_${part}.npy`];
  const fit = timed(
    'fit',
    'fit',
    ...member('train'),
    '--labels',
    'y_train.npy',
    '--out',
    'nearest.hdg',
    '--readout',
    'nearest',
    '--dim',
    dim,
  );
  const ev = timed('eval', 'eval', '--model', 'nearest.hdg', ...member('test'), '--labels', 'y_test.npy');
  // Query x stored rows of D bits each: the Hamming scan's rate, to set against memory bandwidth.
  const pairs = testRows * rows;
  console.log(
    `eval: ${(pairs / ev / 1e6).toFixed(0)} M query-row distances/s over the whole command; fit ${fit.toFixed(1)} s`,
  );
} finally {
  if (!keep) rmSync(dir, { recursive: true, force: true });
}
