// Run inside a project that installed hdglue (scripts/test-install.mjs copies it there): prints
// one JSON line with backendInfo(), every warning emitted, and a digest of deterministic results
// over the core, both encoders and the HIL, so that installs on different backends, builds and
// CPUs can be compared byte for byte. Errors are printed as JSON too, with their code.
import { createHash } from 'node:crypto';
import {
  backendInfo,
  bind,
  bundle,
  EmbeddingEncoder,
  HIL,
  hamming,
  hammingMany,
  hammingMatrix,
  ProjectionEncoder,
  permute,
  randomBatch,
  topK,
} from 'hdglue';

const warnings = [];
process.on('warning', (w) => warnings.push({ name: w.name, code: w.code, message: w.message }));

// mulberry32, seeded: the embeddings are the same on every machine.
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

const digest = (...arrays) => {
  const h = createHash('sha256');
  for (const a of arrays) h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return h.digest('hex').slice(0, 16);
};

try {
  const info = backendInfo();
  const dim = 4099; // not a multiple of 64: the padding path runs too
  const names = Array.from({ length: 257 }, (_, i) => `item/${i}`);
  const batch = randomBatch(dim, names, { seed: 7 });
  const a = batch.row(0);
  const b = batch.row(1);
  const results = {
    random: digest(batch.data),
    bind: digest(bind(a, b).data),
    permute: digest(permute(a, 1000).data),
    bundle: digest(bundle(batch, { seed: 3 }).data),
    bundleOnes: digest(bundle(batch.slice(0, 16), { tie: 'ones' }).data),
    hamming: hamming(a, b),
    hammingMany: digest(hammingMany(a, batch)),
    hammingMatrix: digest(hammingMatrix(batch.slice(0, 9), batch)),
    topK: (() => {
      const t = topK(a, batch, 5);
      return { indices: Array.from(t.indices), distances: Array.from(t.distances) };
    })(),
  };

  // Embeddings of three classes around different centres, 64 features.
  const features = 64;
  const rows = 240;
  const next = prng(11);
  const x = new Float32Array(rows * features);
  const labels = [];
  for (let r = 0; r < rows; r++) {
    const c = r % 3;
    labels.push(['cat', 'dog', 'fox'][c]);
    for (let f = 0; f < features; f++) x[r * features + f] = Math.tanh((f % 3 === c ? 0.1 : -0.1) + 2 * (next() - 0.5));
  }
  const enc = new EmbeddingEncoder({ features, dim, bins: 32, levels: 'level', seed: 5 }).fit(x, {
    method: 'quantile',
  });
  const hvs = enc.encodeBatch(x, rows);
  results.embeddingEncoder = digest(hvs.data);
  results.embeddingEncoderAsync = digest((await enc.encodeBatchAsync(x)).data);
  const proj = new ProjectionEncoder({ features, dim, seed: 9 }).fit(x);
  results.projectionEncoder = digest(proj.encodeBatch(x, rows).data);

  const hil = new HIL({ dim, seed: 2 }).fit(hvs.slice(0, 180), labels.slice(0, 180));
  results.hilPredict = hil.predict(hvs.slice(180, rows));
  results.hilScores = digest(hil.scores(hvs.slice(180, rows)));
  results.hilAccuracy = results.hilPredict.filter((l, i) => l === labels[180 + i]).length / (rows - 180);

  await new Promise((r) => setImmediate(r));
  console.log(JSON.stringify({ info, warnings, results }));
} catch (e) {
  await new Promise((r) => setImmediate(r));
  console.log(JSON.stringify({ error: { name: e.name, code: e.code, message: e.message }, warnings }));
}
