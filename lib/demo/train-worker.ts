/**
 * Worker-thread entry of {@link trainNetworks}: trains one seeded MLP and posts its weights back.
 * @internal
 */
import { parentPort, workerData } from 'node:worker_threads';
import { MLP, type MLPOptions } from './mlp.js';

const d = workerData as { x: Float64Array; y: Int32Array; n: number; classes: number; options: MLPOptions };
const net = MLP.train(d.x, d.y, d.n, d.classes, d.options);
parentPort?.postMessage(net.weights());
