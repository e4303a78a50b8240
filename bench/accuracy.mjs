#!/usr/bin/env node
// Accuracy on the tutorial's digits split: 5 seeded MLPs (64 -> 128 tanh -> 10), their hidden
// embeddings glued by hdglue. Every hyper-parameter of the default glue is chosen on a
// validation split carved from the training rows (the HILs are fit on the rest); the test split
// is scored once, with the chosen setting refit on all training rows. The tutorial's own algebra
// (random bins, one bundled HIL vector per network, network-bound glue, vsax's tie rule) is run
// as written for comparison.   npm run accuracy [-- --json FILE] [-- --networks N]
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const h = await import(join(root, 'dist/index.js'));
const { MLP } = await import(join(root, 'dist/demo/mlp.js'));
const { loadDigits, loadSplit, subset } = await import(join(root, 'dist/demo/digits.js'));

const args = process.argv.slice(2);
const arg = (n, d) => (args.includes(n) ? args[args.indexOf(n) + 1] : d);
const NETS = Number(arg('--networks', 5));
const DIM = 10000;
const t0 = performance.now();

const digits = loadDigits();
const split = loadSplit();
const train = subset(digits, split.train);
const test = subset(digits, split.test);

// Validation: every 5th training row of each class (deterministic, stratified).
const seen = new Map();
const valRows = [];
const fitRows = [];
for (let i = 0; i < train.n; i++) {
  const c = train.y[i];
  const k = seen.get(c) ?? 0;
  seen.set(c, k + 1);
  (k % 5 === 4 ? valRows : fitRows).push(i);
}
const labelsOf = (d) => Array.from(d.y);
const argmaxRows = (p, n, c) =>
  Array.from({ length: n }, (_, r) => {
    let b = 0;
    for (let k = 1; k < c; k++) if (p[r * c + k] > p[r * c + b]) b = k;
    return b;
  });
const acc = (pred, truth) => pred.filter((p, i) => p === truth[i]).length / truth.length;

// Selection never sees the validation rows through the networks either: it uses networks
// trained on the fitting rows only. The final networks are then trained on all training rows.
const fitSet = subset(train, fitRows);
const valSet = subset(train, valRows);
const selNets = Array.from({ length: NETS }, (_, s) => MLP.train(fitSet.x, fitSet.y, fitSet.n, 10, { seed: s }));
const nets = Array.from({ length: NETS }, (_, s) => MLP.train(train.x, train.y, train.n, 10, { seed: s }));
const names = nets.map((_, i) => `mlp${i}`);
const emb = (net, d) => net.embed(d.x, d.n);
const trainEmb = nets.map((n) => emb(n, train));
const testEmb = nets.map((n) => emb(n, test));
const fitEmb = selNets.map((n) => emb(n, fitSet));
const valEmb = selNets.map((n) => emb(n, valSet));
const fitY = Array.from(fitSet.y);
const valY = Array.from(valSet.y);

function glueFor(cfg, xs, ys) {
  const g = new h.HDGlue();
  names.forEach((n, i) => {
    const encoder = new h.EmbeddingEncoder({ features: 128, dim: DIM, bins: cfg.bins, levels: 'level', seed: i });
    if (cfg.ranges !== 'tanh') encoder.fit(xs[i], { method: cfg.ranges });
    const hil = new h.HIL({ dim: DIM, seed: i });
    const hvs = encoder.encodeBatch(xs[i]);
    hil.fit(hvs, ys);
    if (cfg.epochs > 0) hil.refine(hvs, ys, { epochs: cfg.epochs, margin: cfg.margin });
    g.addNetwork(n, { encoder, hil });
  });
  return g;
}
const inputs = (xs) => Object.fromEntries(names.map((n, i) => [n, xs[i]]));

// Selection on the validation split.
const grid = [];
for (const ranges of ['tanh', 'minmax', 'quantile'])
  for (const bins of [32, 100])
    for (const epochs of [0, 20, 40])
      for (const margin of epochs ? [0, 0.05, 0.1] : [0]) grid.push({ ranges, bins, epochs, margin });
const scored = grid.map((cfg) => ({ cfg, val: glueFor(cfg, fitEmb, fitY).accuracy(inputs(valEmb), valY) }));
scored.sort((a, b) => b.val - a.val);
const best = scored[0].cfg;

// Refit the chosen setting on every training row; score the test split once.
const glue = glueFor(best, trainEmb, labelsOf(train));
const testY = labelsOf(test);
const perNet = nets.map((net, i) => ({
  name: names[i],
  mlp: acc(argmaxRows(net.probabilities(test.x, test.n), test.n, 10), testY),
  hil: glue.member(names[i]).hil.accuracy(glue.member(names[i]).encoder.encodeBatch(testEmb[i]), testY),
}));
const probs = nets.map((n) => n.probabilities(test.x, test.n));
const meanProb = argmaxRows(
  Float64Array.from({ length: test.n * 10 }, (_, j) => probs.reduce((s, p) => s + p[j], 0)),
  test.n,
  10,
);
const votes = probs.map((p) => argmaxRows(p, test.n, 10));
const majority = Array.from({ length: test.n }, (_, r) => {
  const c = new Array(10).fill(0);
  for (const v of votes) c[v[r]]++;
  return c.indexOf(Math.max(...c));
});
const glueAcc = glue.accuracy(inputs(testEmb), testY);

// The tutorial as written: random bins, 100 of them, vsax's tie rule everywhere.
const tut = new h.HDGlue({ strategy: 'tutorial', tie: 'ones' });
names.forEach((n, i) => {
  const encoder = new h.EmbeddingEncoder({
    features: 128,
    dim: DIM,
    bins: 100,
    levels: 'random',
    tie: 'ones',
    seed: 42,
  });
  const hil = new h.HIL({ dim: DIM, seed: 42, tie: 'ones' }).fit(encoder.encodeBatch(trainEmb[i]), labelsOf(train));
  tut.addNetwork(n, { encoder, hil });
});
const tutHil = tut.member(names[0]).hil;
const tutHilAcc = acc(
  tutHil.predict(tut.member(names[0]).encoder.encodeBatch(testEmb[0]), { mode: 'tutorial' }),
  testY,
);
const tutGlue = tut.accuracy(inputs(testEmb), testY);

const pct = (v) => `${(100 * v).toFixed(2)} %`;
console.log(
  `hdglue accuracy on the digits split (train ${train.n}, test ${test.n}), D = ${DIM}, ${NETS} networks, backend ${h.backendInfo().backend}/${h.backendInfo().isa}`,
);
console.log('\nper network            MLP       HIL (chosen setting)');
for (const p of perNet) console.log(`  ${p.name.padEnd(18)} ${pct(p.mlp).padStart(8)}  ${pct(p.hil).padStart(8)}`);
console.log(`\nbaselines: majority vote ${pct(acc(majority, testY))}, mean probability ${pct(acc(meanProb, testY))}`);
console.log(`tutorial algebra: one network's HIL ${pct(tutHilAcc)}, HD-Glue of ${NETS} ${pct(tutGlue)}`);
console.log(
  `default glue (vote): ${pct(glueAcc)} with ${JSON.stringify(best)} chosen on validation (${pct(scored[0].val)}; ${grid.length} settings tried)`,
);
console.log(`(${((performance.now() - t0) / 1000).toFixed(1)} s)`);
const json = arg('--json');
if (json) {
  writeFileSync(
    json,
    `${JSON.stringify({ perNet, majority: acc(majority, testY), meanProbability: acc(meanProb, testY), tutorialHil: tutHilAcc, tutorialGlue: tutGlue, glue: glueAcc, chosen: best, validation: scored }, null, 2)}\n`,
  );
}
