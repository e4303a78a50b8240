#!/usr/bin/env node
// What the symbolic layer costs next to the networks: end-to-end samples/s for a glue of three
// ONNX members (onnxruntime-node inference on hdglue's worker thread + encoding + consensus)
// against the same glue on precomputed embeddings and against the networks alone, with the
// overhead ratio glue time / network time. Uses the `benchmark` package and the compiled dist/.
//   node bench/onnx.mjs [--batch 1000] [--json FILE]
// The networks are written here with seeded random weights (speed does not depend on them):
//   cnn  [n, 1, 28, 28] -> Conv 3x3x16 + Relu -> MaxPool 2 -> Conv 3x3x32 + Relu -> MaxPool 2 -> 1568 -> 128 tanh -> 10
//   mlp  [n, 784] -> 512 tanh -> 256 tanh -> 10
//   digits MLP (the demo's shape) [n, 64] -> 128 tanh -> 10
// Embeddings are the 128-, 256- and 128-unit tanh layers; the glue is the default recipe
// (D = 10,000, 32 quantile bins, level codebook), 10 classes.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const Benchmark = require('benchmark');
const { backendInfo, buildMember, DEFAULT_RECIPE } = await import(join(root, 'dist/index.js'));
const { OnnxGlue, OnnxMember } = await import(join(root, 'dist/onnx/index.js'));
const { encodeOnnx } = await import(join(root, 'dist/demo/onnx-writer.js'));

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const BATCH = Number(opt('--batch') ?? 1000);
const jsonFile = opt('--json');

let seed = 7;
function uniform(n, scale) {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 2 ** 32 - 0.5) * 2 * scale;
  }
  return out;
}
const init = (fanIn, n) => uniform(n, Math.sqrt(3 / fanIn));

const dense = (name, input, from, to, act) => ({
  inits: [
    { name: `${name}_w`, dims: [from, to], values: init(from, from * to) },
    { name: `${name}_b`, dims: [to], values: init(from, to) },
  ],
  nodes: [
    { op: 'MatMul', inputs: [input, `${name}_w`], outputs: [`${name}_m`] },
    { op: 'Add', inputs: [`${name}_m`, `${name}_b`], outputs: [act ? `${name}_a` : name] },
    ...(act ? [{ op: act, inputs: [`${name}_a`], outputs: [name] }] : []),
  ],
});

function graph(name, input, shape, layers, embedding, width) {
  return {
    name,
    inputs: [{ name: input, shape: ['batch', ...shape] }],
    outputs: [
      { name: 'embedding', shape: ['batch', width] },
      { name: 'logits', shape: ['batch', 10] },
    ],
    initializers: layers.flatMap((l) => l.inits),
    nodes: [
      ...layers.flatMap((l) => l.nodes),
      { op: 'Identity', inputs: [embedding], outputs: ['embedding'] },
      { op: 'Identity', inputs: ['logits_'], outputs: ['logits'] },
    ],
  };
}

const conv = (name, input, cin, cout) => ({
  inits: [
    { name: `${name}_w`, dims: [cout, cin, 3, 3], values: init(cin * 9, cout * cin * 9) },
    { name: `${name}_b`, dims: [cout], values: init(cin * 9, cout) },
  ],
  nodes: [
    {
      op: 'Conv',
      inputs: [input, `${name}_w`, `${name}_b`],
      outputs: [`${name}_c`],
      attributes: { kernel_shape: [3, 3], pads: [1, 1, 1, 1] },
    },
    { op: 'Relu', inputs: [`${name}_c`], outputs: [`${name}_r`] },
    {
      op: 'MaxPool',
      inputs: [`${name}_r`],
      outputs: [name],
      attributes: { kernel_shape: [2, 2], strides: [2, 2] },
    },
  ],
});

const models = {
  cnn: {
    graph: graph(
      'cnn',
      'image',
      [1, 28, 28],
      [
        conv('c1', 'image', 1, 16),
        conv('c2', 'c1', 16, 32),
        { inits: [], nodes: [{ op: 'Flatten', inputs: ['c2'], outputs: ['flat'], attributes: { axis: 1 } }] },
        dense('fc', 'flat', 32 * 7 * 7, 128, 'Tanh'),
        dense('logits_', 'fc', 128, 10),
      ],
      'fc',
      128,
    ),
    row: 28 * 28,
    dims: [1, 28, 28],
    width: 128,
  },
  mlp: {
    graph: graph(
      'mlp',
      'x',
      [784],
      [dense('h1', 'x', 784, 512, 'Tanh'), dense('h2', 'h1', 512, 256, 'Tanh'), dense('logits_', 'h2', 256, 10)],
      'h2',
      256,
    ),
    row: 784,
    dims: [784],
    width: 256,
  },
  digits: {
    graph: graph(
      'digits',
      'pixels',
      [64],
      [dense('h', 'pixels', 64, 128, 'Tanh'), dense('logits_', 'h', 128, 10)],
      'h',
      128,
    ),
    row: 64,
    dims: [64],
    width: 128,
  },
};

const dir = mkdtempSync(join(os.tmpdir(), 'hdglue-bench-onnx-'));
const members = {};
for (const [name, m] of Object.entries(models)) {
  const path = join(dir, `${name}.onnx`);
  writeFileSync(path, await encodeOnnx(m.graph));
  members[name] = await OnnxMember.load(path, { output: 'embedding', batchSize: 256 });
}
const raw = (n) =>
  Object.fromEntries(
    Object.entries(models).map(([name, m]) => [name, { data: uniform(n * m.row, 1), dims: [n, ...m.dims] }]),
  );

// Build the glue from 2,000 training rows with arbitrary labels (speed does not depend on them).
const og = new OnnxGlue(members);
const trainRaw = raw(2000);
const trainEmb = await og.embed(trainRaw);
const labels = Array.from({ length: 2000 }, (_, i) => i % 10);
Object.entries(trainEmb).forEach(([name, x], i) => {
  const built = buildMember(x, models[name].width, labels, DEFAULT_RECIPE, i);
  og.glue.addMember(name, { encoder: built.encoder, hil: built.hil });
});

const inputs = raw(BATCH);
const embeddings = await og.embed(inputs);

const info = backendInfo();
const machine = {
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores: os.cpus().length,
  node: process.version,
  backend: `${info.backend}/${info.isa}`,
  onnxruntime: require(join(root, 'node_modules/onnxruntime-node/package.json')).version,
};
console.log(
  `CPU: ${machine.cpu} (${machine.cores} cores), Node ${machine.node}, hdglue backend ${machine.backend}, onnxruntime-node ${machine.onnxruntime}`,
);
console.log(`3 members (cnn 28x28 images, mlp 784-512-256, digits MLP 64-128), ${BATCH} samples per call\n`);

function measure(fn) {
  return new Promise((resolve) => {
    const b = new Benchmark({
      defer: true,
      fn: (d) => fn().then(() => d.resolve()),
      minSamples: 6,
      maxTime: 4,
      onComplete: () => resolve(b),
    });
    b.run({ async: true });
  });
}

const cases = [
  ['end to end: networks + encode + glue', () => og.predict(inputs)],
  ['networks alone (onnxruntime, 3 members)', () => og.embed(inputs)],
  ['glue alone on precomputed embeddings', () => og.glue.predictAsync(embeddings)],
  ...Object.keys(models).map((name) => [`  network ${name} alone`, () => members[name].embed(inputs[name])]),
];
const records = [];
for (const [name, fn] of cases) {
  const b = await measure(fn);
  const perSecond = b.hz * BATCH;
  records.push({ op: name.trim(), samplesPerSecond: perSecond, msPerBatch: 1000 / b.hz, rme: b.stats.rme });
  console.log(
    `${name.padEnd(42)} ${(perSecond / 1000).toFixed(1).padStart(7)} k samples/s  ${(1000 / b.hz).toFixed(1).padStart(7)} ms per ${BATCH}  ±${b.stats.rme.toFixed(1)}%`,
  );
}
const net = records[1];
const glue = records[2];
const overhead = net.samplesPerSecond / glue.samplesPerSecond;
console.log(`\noverhead of the symbolic layer: glue time / network time = ${overhead.toFixed(2)}`);

await og.close();
rmSync(dir, { recursive: true, force: true });
if (jsonFile) writeFileSync(jsonFile, `${JSON.stringify({ machine, batch: BATCH, records, overhead }, null, 2)}\n`);
