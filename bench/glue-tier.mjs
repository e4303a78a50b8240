#!/usr/bin/env node
// Child of bench/run.mjs: the glue workload (bench/glue-workload.mjs) on the tier HDGLUE_BACKEND
// names (wasm or js), one process per tier because a process loads one backend. Prints one JSON
// line: { backend, isa, rates: { glue_predict_5, glue_predict_5_hamming, fit_5 } } per second.
//   HDGLUE_BACKEND=wasm node bench/glue-tier.mjs
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { glueWorkload } from './glue-workload.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const Benchmark = createRequire(import.meta.url)('benchmark');
const h = await import(join(root, 'dist/index.js'));
const info = h.backendInfo();
const w = glueWorkload(h, 10000);

function rate(fn, perCall) {
  const b = new Benchmark({ fn, minSamples: 4, maxTime: 1.5 });
  b.run({ async: false });
  return b.hz * perCall;
}

const rates = {
  glue_predict_5: rate(w.predict, w.queries),
  glue_predict_5_hamming: rate(w.predictHamming, w.queries),
  fit_5: rate(w.fit, 1),
};
console.log(JSON.stringify({ backend: info.backend, isa: info.isa, rates }));
