// The addon loaded in several worker_threads at once (each gets its own N-API environment and
// instance data), all predicting concurrently with the main thread, and exiting while others
// still run. Every thread's predictions must equal the main thread's synchronous ones.
// This file is both the main script and the workers' body. Prints one JSON line; exits 1 on any
// mismatch.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { backendInfo } from 'hdglue';
import { batches, smallGlue } from './common.mjs';

const glue = smallGlue();
const inputs = batches(4, 30, 7);

async function predictAll(reps) {
  const out = [];
  for (let rep = 0; rep < reps; rep++) {
    out.push(JSON.stringify(await Promise.all(inputs.map((x) => glue.predictAsync(x)))));
  }
  return out;
}

if (!isMainThread) {
  parentPort.postMessage({ backend: backendInfo().backend, results: await predictAll(workerData.reps) });
} else {
  const threads = Number(process.argv[2] ?? 4);
  const expected = JSON.stringify(inputs.map((x) => glue.predict(x)));
  const runs = Array.from(
    { length: threads },
    (_, i) =>
      new Promise((resolve, reject) => {
        const w = new Worker(new URL(import.meta.url), { workerData: { reps: 1 + (i % 3) } });
        w.once('message', resolve);
        w.once('error', reject);
      }),
  );
  const mine = await predictAll(2);
  const got = await Promise.all(runs);
  let mismatches = mine.filter((r) => r !== expected).length;
  for (const g of got) for (const r of g.results) if (r !== expected) mismatches++;
  const backends = [...new Set(got.map((g) => g.backend))];
  console.log(JSON.stringify({ threads, backend: backendInfo().backend, workerBackends: backends, mismatches }));
  process.exit(mismatches ? 1 : 0);
}
