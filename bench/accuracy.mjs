#!/usr/bin/env node
// Accuracy on the tutorial's digits split, with every choice made by cross-validation on the
// training rows and the test split scored once per seed:
//   1. selection: tune() (5-fold CV of the symbolic layer on the first seed's networks) over the
//      default grid, for both the vote and the concat consensus; says whether the shipped
//      default recipe is the CV winner;
//   2. pipeline CV: 5 folds of the training rows, the MLPs retrained on each fold's other rows,
//      so single networks, plain ensembles and the default glue are compared on rows none of
//      them saw;
//   3. test: S seeds of 5 MLPs trained on all training rows; mean ± std of each method.
//   npm run accuracy [-- --seeds 5] [-- --json FILE]        (4-6 minutes on 2 cores)
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const h = await import(join(root, 'dist/index.js'));
const { tune, assignFolds, DEFAULT_GRID } = await import(join(root, 'dist/tune.js'));
const { trainNetworks } = await import(join(root, 'dist/demo/train.js'));
const { loadDigits, loadSplit, subset } = await import(join(root, 'dist/demo/digits.js'));

const args = process.argv.slice(2);
const arg = (n, d) => (args.includes(n) ? args[args.indexOf(n) + 1] : d);
const SEEDS = Number(arg('--seeds', 5));
const N = 5;
const t0 = performance.now();
const log = (s) => console.log(s);
const pm = (v) => {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  const s = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length);
  return { mean: m, std: s, text: `${(100 * m).toFixed(2)} ± ${(100 * s).toFixed(2)} %` };
};

const digits = loadDigits();
const split = loadSplit();
const train = subset(digits, split.train);
const test = subset(digits, split.test);
const trainY = Array.from(train.y);
const testY = Array.from(test.y);

const argmaxRows = (p, n, c) =>
  Array.from({ length: n }, (_, r) => {
    let b = 0;
    for (let k = 1; k < c; k++) if (p[r * c + k] > p[r * c + b]) b = k;
    return b;
  });
const acc = (pred, truth) => pred.filter((p, i) => p === truth[i]).length / truth.length;
const majority = (probs, n) => {
  const votes = probs.map((p) => argmaxRows(p, n, 10));
  return Array.from({ length: n }, (_, r) => {
    const c = new Array(10).fill(0);
    for (const v of votes) c[v[r]]++;
    return c.indexOf(Math.max(...c));
  });
};
const meanProb = (probs, n) =>
  argmaxRows(
    Float64Array.from({ length: n * 10 }, (_, j) => probs.reduce((s, p) => s + p[j], 0)),
    n,
    10,
  );
const names = Array.from({ length: N }, (_, i) => `mlp${i}`);
const glueOf = (recipe, consensus, embs, y, base) => {
  const g = new h.HDGlue({ strategy: consensus });
  // Under concat, g.fit trains the member HILs and the joint layer: no member correction pass first.
  const own = consensus === 'concat' ? { ...recipe, epochs: 0 } : recipe;
  const built = embs.map((e, i) => h.buildMember(e, 128, y, own, base + i));
  for (const [i, b] of built.entries()) g.addNetwork(names[i], { encoder: b.encoder, hil: b.hil });
  if (consensus === 'concat') {
    g.fit(
      Object.fromEntries(embs.map((e, i) => [names[i], e])),
      y,
      recipe.epochs ? { refine: { epochs: recipe.epochs, margin: recipe.margin } } : {},
    );
  }
  return g;
};
const inputs = (embs) => Object.fromEntries(embs.map((e, i) => [names[i], e]));
const describeRecipe = (r, c) =>
  `${c}, D ${r.dim}, ${r.bins} bins, ${r.readout === 'nearest' ? 'nearest' : `prototype, ${r.epochs} epochs, margin ${r.margin}`}`;

// 1. Selection.
log(
  `hdglue accuracy, digits tutorial split (${train.n} training / ${test.n} test), backend ${h.backendInfo().backend}/${h.backendInfo().isa}`,
);
const seed0 = await trainNetworks(train.x, train.y, train.n, 10, [0, 1, 2, 3, 4]);
const members = seed0.map((net, i) => ({ name: names[i], x: net.embed(train.x, train.n), features: 128 }));
const selection = tune(members, trainY, { folds: 5, grid: { ...DEFAULT_GRID, consensus: ['vote', 'concat'] } });
log(`\n1. selection: 5-fold CV of the symbolic layer on networks 0..4, ${selection.scores.length} candidates; best:`);
for (const s of selection.scores.slice(0, 6))
  log(`   ${pm(s.folds).text.padStart(16)}  ${describeRecipe(s.recipe, s.consensus)}`);
const d = h.DEFAULT_RECIPE;
const isDefault = (s) =>
  s.consensus === 'vote' && ['dim', 'bins', 'readout', 'epochs', 'margin'].every((k) => s.recipe[k] === d[k]);
log(
  `   shipped default (${describeRecipe(d, 'vote')}) is ${isDefault(selection.scores[0]) ? 'the CV winner' : `rank ${selection.scores.findIndex(isDefault) + 1}`}`,
);

// 2. Pipeline CV: the networks retrained on each fold's other rows.
const folds = assignFolds(trainY, 5, 0);
const cv = { nets: Array.from({ length: N }, () => []), majority: [], meanProb: [], glue: [] };
for (let f = 0; f < 5; f++) {
  const fitRows = trainY.flatMap((_, i) => (folds[i] !== f ? [i] : []));
  const valRows = trainY.flatMap((_, i) => (folds[i] === f ? [i] : []));
  const fit = subset(train, fitRows);
  const val = subset(train, valRows);
  const nets = await trainNetworks(fit.x, fit.y, fit.n, 10, [0, 1, 2, 3, 4]);
  const probs = nets.map((n) => n.probabilities(val.x, val.n));
  const vy = Array.from(val.y);
  for (const [i, p] of probs.entries()) cv.nets[i].push(acc(argmaxRows(p, val.n, 10), vy));
  cv.majority.push(acc(majority(probs, val.n), vy));
  cv.meanProb.push(acc(meanProb(probs, val.n), vy));
  const g = glueOf(
    d,
    'vote',
    nets.map((n) => n.embed(fit.x, fit.n)),
    Array.from(fit.y),
    0,
  );
  cv.glue.push(g.accuracy(inputs(nets.map((n) => n.embed(val.x, val.n))), vy));
}
const netCV = cv.nets.map((a) => pm(a).mean);
const bestNet = netCV.indexOf(Math.max(...netCV));
log("\n2. pipeline CV (5 folds of the training rows; the MLPs retrained on each fold's other rows):");
log(`   best single MLP (mlp${bestNet} by CV)   ${pm(cv.nets[bestNet]).text}`);
log(`   mean of the single MLPs          ${pm(netCV).text.replace(/ ± .*/, ' %')}`);
log(`   majority vote of the 5 MLPs      ${pm(cv.majority).text}`);
log(`   mean probability of the 5 MLPs   ${pm(cv.meanProb).text}`);
log(`   default glue of the 5            ${pm(cv.glue).text}`);

// 3. Test, over seeds.
const seedNets = [seed0];
if (SEEDS > 1) {
  const rest = await trainNetworks(
    train.x,
    train.y,
    train.n,
    10,
    Array.from({ length: (SEEDS - 1) * N }, (_, i) => N + i),
  );
  for (let s = 1; s < SEEDS; s++) seedNets.push(rest.slice((s - 1) * N, s * N));
}
const T = {
  best: [],
  bestByCV: [],
  meanNet: [],
  majority: [],
  meanProb: [],
  glue: [],
  concat: [],
  nearest: [],
  curve: Array.from({ length: N }, () => []),
};
for (const [s, nets] of seedNets.entries()) {
  const probs = nets.map((n) => n.probabilities(test.x, test.n));
  const single = probs.map((p) => acc(argmaxRows(p, test.n, 10), testY));
  T.best.push(Math.max(...single));
  T.bestByCV.push(single[bestNet]);
  T.meanNet.push(single.reduce((a, b) => a + b, 0) / N);
  T.majority.push(acc(majority(probs, test.n), testY));
  T.meanProb.push(acc(meanProb(probs, test.n), testY));
  const tr = nets.map((n) => n.embed(train.x, train.n));
  const te = nets.map((n) => n.embed(test.x, test.n));
  const base = s * N;
  T.glue.push(glueOf(d, 'vote', tr, trainY, base).accuracy(inputs(te), testY));
  T.concat.push(glueOf(d, 'concat', tr, trainY, base).accuracy(inputs(te), testY));
  T.nearest.push(glueOf({ ...d, readout: 'nearest' }, 'vote', tr, trainY, base).accuracy(inputs(te), testY));
  for (let k = 1; k <= N; k++)
    T.curve[k - 1].push(glueOf(d, 'vote', tr.slice(0, k), trainY, base).accuracy(inputs(te.slice(0, k)), testY));
}
log(`\n3. test split, mean ± std over ${SEEDS} seeds of 5 MLPs (networks 0..${SEEDS * N - 1}):`);
const rows = [
  ['best single MLP (the best on test, an optimistic baseline)', T.best],
  [`mlp${bestNet} of each seed (chosen by CV)`, T.bestByCV],
  ['mean of the single MLPs', T.meanNet],
  ['majority vote of the 5 MLPs', T.majority],
  ['mean probability of the 5 MLPs', T.meanProb],
  [`default glue (${describeRecipe(d, 'vote')})`, T.glue],
  ['the same recipe, concat consensus', T.concat],
  ['the same encoders, nearest readout (1-NN memory)', T.nearest],
];
for (const [label, v] of rows) log(`   ${label.padEnd(66)} ${pm(v).text}`);
log(`   default glue vs number of networks: ${T.curve.map((v, k) => `${k + 1}: ${pm(v).text}`).join(', ')}`);
log(`\n(${((performance.now() - t0) / 1000).toFixed(0)} s)`);
const json = arg('--json');
if (json) {
  const summary = Object.fromEntries(rows.map(([label, v]) => [label, pm(v)]));
  writeFileSync(
    json,
    `${JSON.stringify({ selection: selection.scores.map((s) => ({ recipe: s.recipe, consensus: s.consensus, mean: s.mean, std: s.std })), pipelineCV: cv, test: T, summary }, null, 2)}\n`,
  );
}
