#!/usr/bin/env node
// Accuracy on the tutorial's digits split, on two sets of networks, with every choice made by
// cross-validation on the training rows and the test split scored once per seed:
//   A. 5 MLPs like the tutorial's (64 -> 128 tanh -> 10), seeds differ;
//   B. 3 MLPs of different widths (64, 256 and 32 tanh units): different embedding sizes.
// For each set:
//   1. selection: tune() (5-fold CV of the symbolic layer on the first seed's networks) over the
//      default grid, or the wide grid with --grid wide (288 candidates; the run that chose the
//      shipped default, about an hour on 2 cores); says where the shipped default ranks;
//   2. pipeline CV: 5 folds of the training rows, the networks retrained on each fold's other
//      rows, so single networks, ensembles, a float baseline (logistic regression on the
//      concatenated embeddings) and the glue (online default, and the batch schedule) are
//      compared on rows none of them saw;
//   3. test: S seeds of networks trained on all training rows; mean ± std of each method.
// Then, on set A only:
//   4. the held-out practice: networks trained on 3/4 of the training rows, the glue fitted on
//      those rows' embeddings, on the other quarter's (rows no network saw), or on all; test
//      accuracy and the CV figure `hdglue fit --cv` would print, side by side.
//   npm run accuracy [-- --seeds 5] [-- --grid default|wide] [-- --json FILE]   (8-12 min on 2 cores)
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const h = await import(join(root, 'dist/index.js'));
const { tune, DEFAULT_GRID, WIDE_GRID } = await import(join(root, 'dist/train/tune.js'));
const { assignFolds, stratifiedSample } = await import(join(root, 'dist/split.js'));
const { trainNetworks } = await import(join(root, 'dist/demo/train.js'));
const { loadDigits, loadSplit, subset } = await import(join(root, 'dist/demo/digits.js'));
const L = await import(join(root, 'dist/demo/large.js'));
const E = await import(join(root, 'dist/demo/ensembles.js'));
const { buildGlue } = await import(join(root, 'dist/train/recipe.js'));
const { pickRows } = await import(join(root, 'dist/encode/embeddings.js'));

const args = process.argv.slice(2);
const arg = (n, d) => (args.includes(n) ? args[args.indexOf(n) + 1] : d);
const SEEDS = Number(arg('--seeds', 5));
const GRID = arg('--grid', 'default') === 'wide' ? WIDE_GRID : DEFAULT_GRID;
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
const d = h.DEFAULT_RECIPE;
const batch = { ...d, schedule: 'batch' };

// The two sets of networks: each a function from (rows, seed index) to trained networks.
const SETS = [
  {
    key: 'A',
    title: '5 MLPs 64-128-10 tanh (the tutorial networks)',
    widths: [128, 128, 128, 128, 128],
    train: (part, s) =>
      trainNetworks(
        part.x,
        part.y,
        part.n,
        10,
        Array.from({ length: 5 }, (_, i) => 5 * s + i),
      ),
  },
  {
    key: 'B',
    title: '3 MLPs of different widths: 64, 256 and 32 tanh units',
    widths: [64, 256, 32],
    train: async (part, s) =>
      (
        await Promise.all(
          [64, 256, 32].map((hidden, i) => trainNetworks(part.x, part.y, part.n, 10, [100 + 3 * s + i], { hidden })),
        )
      ).flat(),
  },
];

const argmaxRows = (p, n, c) =>
  Array.from({ length: n }, (_, r) => {
    let b = 0;
    for (let k = 1; k < c; k++) if (p[r * c + k] > p[r * c + b]) b = k;
    return b;
  });
const acc = (pred, truth) => pred.filter((p, i) => p === truth[i]).length / truth.length;
const majority = (probs, n) => Array.from(E.majorityVote(probs, n, 10));
const meanProb = (probs, n) => Array.from(E.meanProbability(probs, n, 10));
const namesOf = (k) => Array.from({ length: k }, (_, i) => `net${i}`);
// The one assembly of lib/train/recipe.ts: member i seeded base + i, under concat the glue's fit
// corrects every layer (the glue's own seed, which seeds the joint layer, is base too).
const glueOf = (recipe, consensus, embs, widths, y, base) => {
  const names = namesOf(embs.length);
  const members = embs.map((x, i) => ({ name: names[i], x, features: widths[i] }));
  return buildGlue(members, y, recipe, { consensus, seed: base }).glue;
};
const inputs = (embs) => Object.fromEntries(embs.map((e, i) => [namesOf(embs.length)[i], e]));
const f32 = (x) => Float32Array.from(x);
// Logistic regression on the concatenated embeddings, its L2 penalty chosen on a stratified
// tenth of the fitting rows, then refitted on all of them.
const logistic = (fitEmbs, yFit, widths, testEmbs) => {
  const n = yFit.length;
  const X = L.concatColumns(fitEmbs.map(f32), widths, n);
  const F = widths.reduce((a, b) => a + b, 0);
  const valRows = new Set(stratifiedSample(yFit, Math.round(n / 10), 3));
  const pick = (keep) => {
    const rows = yFit.flatMap((_, i) => (valRows.has(i) === keep ? [i] : []));
    return { x: pickRows(X, F, rows), y: rows.map((i) => yFit[i]) };
  };
  const model = L.logisticRegression(pick(false), pick(true), F, 10, L.LOGISTIC_DEFAULTS, true);
  return Array.from(model.predict(L.concatColumns(testEmbs.map(f32), widths, testEmbs[0].length / widths[0])));
};
const describeRecipe = (r, c) =>
  `${c}, D ${r.dim}, ${r.bins} ${r.range} bins, ${r.readout === 'nearest' ? 'nearest' : `${r.schedule ?? 'online'}, ${r.epochs} epochs, margin ${r.margin}`}`;
const isDefault = (s) =>
  s.consensus === 'vote' &&
  ['dim', 'bins', 'range', 'readout', 'epochs', 'margin'].every((k) => s.recipe[k] === d[k]) &&
  (s.recipe.schedule ?? 'online') === (d.schedule ?? 'online');

log(
  `hdglue accuracy, digits tutorial split (${train.n} training / ${test.n} test), backend ${h.backendInfo().backend}/${h.backendInfo().isa}`,
);
log(`default recipe: ${describeRecipe(d, 'vote')}`);
const out = {};
for (const set of SETS) {
  const W = set.widths;
  const N = W.length;
  log(`\n=== set ${set.key}: ${set.title} ===`);
  // 1. Selection.
  const seed0 = await set.train(train, 0);
  const members = seed0.map((net, i) => ({ name: `net${i}`, x: net.embed(train.x, train.n), features: W[i] }));
  const selection = tune(members, trainY, { folds: 5, grid: GRID });
  log(
    `1. selection: 5-fold CV of the symbolic layer (seed-0 networks fixed), ${selection.scores.length} candidates; best:`,
  );
  for (const s of selection.scores.slice(0, 5))
    log(`   ${pm(s.folds).text.padStart(16)}  ${describeRecipe(s.recipe, s.consensus)}`);
  const rank = selection.scores.findIndex(isDefault);
  log(
    `   shipped default: ${rank < 0 ? 'not in this grid' : `rank ${rank + 1}, ${pm(selection.scores[rank].folds).text}`}`,
  );

  // 2. Pipeline CV: the networks retrained on each fold's other rows.
  const folds = assignFolds(trainY, 5, 0);
  const cv = {
    nets: Array.from({ length: N }, () => []),
    majority: [],
    meanProb: [],
    logistic: [],
    glue: [],
    batch: [],
  };
  for (let f = 0; f < 5; f++) {
    const fitRows = trainY.flatMap((_, i) => (folds[i] !== f ? [i] : []));
    const valRows = trainY.flatMap((_, i) => (folds[i] === f ? [i] : []));
    const fit = subset(train, fitRows);
    const val = subset(train, valRows);
    const nets = await set.train(fit, 0);
    const probs = nets.map((n) => n.probabilities(val.x, val.n));
    const vy = Array.from(val.y);
    const fy = Array.from(fit.y);
    for (const [i, p] of probs.entries()) cv.nets[i].push(acc(argmaxRows(p, val.n, 10), vy));
    cv.majority.push(acc(majority(probs, val.n), vy));
    cv.meanProb.push(acc(meanProb(probs, val.n), vy));
    const fe = nets.map((n) => n.embed(fit.x, fit.n));
    const ve = nets.map((n) => n.embed(val.x, val.n));
    cv.logistic.push(acc(logistic(fe, fy, W, ve), vy));
    cv.glue.push(glueOf(d, 'vote', fe, W, fy, 0).accuracy(inputs(ve), vy));
    cv.batch.push(glueOf(batch, 'vote', fe, W, fy, 0).accuracy(inputs(ve), vy));
  }
  const netCV = cv.nets.map((a) => pm(a).mean);
  const bestNet = netCV.indexOf(Math.max(...netCV));
  log("2. pipeline CV (5 folds of the training rows; the networks retrained on each fold's other rows):");
  const cvRows = [
    [`best single network (net${bestNet}, by CV)`, cv.nets[bestNet]],
    ['majority vote', cv.majority],
    ['mean probability', cv.meanProb],
    ['logistic regression on the concatenated embeddings', cv.logistic],
    ['glue, default (online schedule)', cv.glue],
    ['glue, the same recipe with the batch schedule', cv.batch],
  ];
  for (const [label, v] of cvRows) log(`   ${label.padEnd(58)} ${pm(v).text}`);

  // 3. Test, over seeds.
  const T = {
    best: [],
    bestByCV: [],
    meanNet: [],
    majority: [],
    meanProb: [],
    logistic: [],
    glue: [],
    batch: [],
    concat: [],
    nearest: [],
    curve: Array.from({ length: N }, () => []),
  };
  for (let s = 0; s < SEEDS; s++) {
    const nets = s === 0 ? seed0 : await set.train(train, s);
    const probs = nets.map((n) => n.probabilities(test.x, test.n));
    const single = probs.map((p) => acc(argmaxRows(p, test.n, 10), testY));
    T.best.push(Math.max(...single));
    T.bestByCV.push(single[bestNet]);
    T.meanNet.push(single.reduce((a, b) => a + b, 0) / N);
    T.majority.push(acc(majority(probs, test.n), testY));
    T.meanProb.push(acc(meanProb(probs, test.n), testY));
    const tr = nets.map((n) => n.embed(train.x, train.n));
    const te = nets.map((n) => n.embed(test.x, test.n));
    T.logistic.push(acc(logistic(tr, trainY, W, te), testY));
    const base = s * N;
    T.glue.push(glueOf(d, 'vote', tr, W, trainY, base).accuracy(inputs(te), testY));
    T.batch.push(glueOf(batch, 'vote', tr, W, trainY, base).accuracy(inputs(te), testY));
    T.concat.push(glueOf(d, 'concat', tr, W, trainY, base).accuracy(inputs(te), testY));
    T.nearest.push(glueOf({ ...d, readout: 'nearest' }, 'vote', tr, W, trainY, base).accuracy(inputs(te), testY));
    for (let k = 1; k <= N; k++)
      T.curve[k - 1].push(glueOf(d, 'vote', tr.slice(0, k), W, trainY, base).accuracy(inputs(te.slice(0, k)), testY));
  }
  log(`3. test split, mean ± std over ${SEEDS} seeds of networks trained on all training rows:`);
  const rows = [
    ['best single network (the best on test, an optimistic baseline)', T.best],
    [`net${bestNet} of each seed (chosen by CV)`, T.bestByCV],
    ['mean of the single networks', T.meanNet],
    ['majority vote', T.majority],
    ['mean probability', T.meanProb],
    ['logistic regression on the concatenated embeddings', T.logistic],
    ['glue, default (online schedule)', T.glue],
    ['glue, the same recipe with the batch schedule', T.batch],
    ['glue, the same recipe with the concat consensus', T.concat],
    ['glue, the same encoders with the nearest readout', T.nearest],
  ];
  for (const [label, v] of rows) log(`   ${label.padEnd(66)} ${pm(v).text}`);
  log(`   default glue vs number of networks: ${T.curve.map((v, k) => `${k + 1}: ${pm(v).text}`).join(', ')}`);
  out[set.key] = {
    title: set.title,
    selection: selection.scores.map((s) => ({ recipe: s.recipe, consensus: s.consensus, mean: s.mean, std: s.std })),
    pipelineCV: Object.fromEntries(cvRows.map(([label, v]) => [label, pm(v)])),
    test: Object.fromEntries(rows.map(([label, v]) => [label, pm(v)])),
    raw: { cv, test: T },
  };
}

// 4. Held-out practice on set A.
log('\n=== held-out practice (set A): networks trained on 3/4 of the training rows ===');
const held = new Set(stratifiedSample(trainY, Math.round(trainY.length / 4), 7));
const netRows = trainY.flatMap((_, i) => (held.has(i) ? [] : [i]));
const heldRows = trainY.flatMap((_, i) => (held.has(i) ? [i] : []));
const allRows = trainY.map((_, i) => i);
const H = { 'network rows': [], 'held rows': [], 'all rows': [] };
const HC = { 'network rows': [], 'held rows': [], 'all rows': [] };
const HS = Math.min(SEEDS, 3);
for (let s = 0; s < HS; s++) {
  const nets = await SETS[0].train(subset(train, netRows), 10 + s);
  const te = nets.map((n) => n.embed(test.x, test.n));
  for (const [label, rows] of [
    ['network rows', netRows],
    ['held rows', heldRows],
    ['all rows', allRows],
  ]) {
    const part = subset(train, rows);
    const embs = nets.map((n) => n.embed(part.x, part.n));
    const y = Array.from(part.y);
    H[label].push(glueOf(d, 'vote', embs, SETS[0].widths, y, 0).accuracy(inputs(te), testY));
    const one = { dim: [d.dim], bins: [d.bins], margin: [d.margin], epochs: [d.epochs], readout: [d.readout] };
    HC[label].push(
      tune(
        embs.map((x, i) => ({ name: `net${i}`, x, features: 128 })),
        y,
        { grid: one },
      ).cv,
    );
  }
}
log(`   glue fitted on the embeddings of ...         test (${HS} seeds)        its 5-fold CV (what fit --cv prints)`);
for (const label of Object.keys(H))
  log(
    `   ${`${label} (${label === 'network rows' ? netRows.length : label === 'held rows' ? heldRows.length : allRows.length})`.padEnd(40)} ${pm(H[label]).text.padStart(16)}    ${pm(HC[label]).text.padStart(16)}`,
  );
out.heldOut = { test: H, cv: HC };
log(`\n(${((performance.now() - t0) / 1000).toFixed(0)} s)`);
const json = arg('--json');
if (json) writeFileSync(json, `${JSON.stringify(out, null, 2)}\n`);
