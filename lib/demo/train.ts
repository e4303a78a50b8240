/**
 * Training several seeded MLPs at once: one worker thread per network, as many at a time as the
 * machine has cores, so the demo's networks train in about the time of one per core. Each network
 * depends only on its seed, so the result is the same however the work is scheduled.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { MLP, type MLPOptions } from './mlp.js';

/**
 * Train one network per seed on the same data; `onDone` is called as each finishes. Under a
 * TypeScript test runner (no compiled worker file) the networks train on this thread.
 */
export async function trainNetworks(
  x: Float64Array,
  y: Int32Array,
  n: number,
  classes: number,
  seeds: readonly number[],
  options: Omit<MLPOptions, 'seed'> = {},
  onDone: () => void = () => {},
): Promise<MLP[]> {
  const workerFile = new URL('./train-worker.js', import.meta.url);
  if (!import.meta.url.endsWith('.js')) {
    return seeds.map((seed) => {
      const net = MLP.train(x, y, n, classes, { ...options, seed });
      onDone();
      return net;
    });
  }
  const out: MLP[] = new Array(seeds.length);
  let next = 0;
  const lanes = Math.max(1, Math.min(availableParallelism(), seeds.length));
  const lane = async (): Promise<void> => {
    while (next < seeds.length) {
      const i = next++;
      const w = await new Promise<MLP>((resolve, reject) => {
        const worker = new Worker(workerFile, {
          workerData: { x, y, n, classes, options: { ...options, seed: seeds[i] } },
        });
        worker.once('message', (m) => resolve(MLP.fromWeights(m)));
        worker.once('error', reject);
        worker.once('exit', (code) => {
          if (code !== 0) reject(new Error(`training worker for seed ${seeds[i]} exited with code ${code}`));
        });
      });
      out[i] = w;
      onDone();
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return out;
}
