/**
 * The pieces of `npm run accuracy:large` (bench/large.mjs) that are not glue: the three networks
 * it trains on Fashion-MNIST and how their settings are chosen, the plain ensembles, and the float
 * baseline (multinomial logistic regression on the concatenated embeddings).
 *
 * Honesty rules kept here: every choice (a network's learning rate and epochs, the regression's L2
 * penalty) is made on validation rows, never on the test rows; the test rows are only scored.
 */
import { argmaxAccuracy, argmaxAt } from './argmax.js';

import { type NetSpec, Network } from './convnet.js';

/** One network of the experiment: its architecture and how its training settings are searched. */
export interface NetworkPlan {
  name: string;
  /** What it is, for the report. */
  description: string;
  spec: NetSpec;
  /** Learning rates tried (successive halving, see {@link trainSelected}). */
  learningRates: readonly number[];
  /** Epochs each learning rate runs before the better one is kept. */
  probeEpochs: number;
  /** Most epochs the kept run may reach. */
  maxEpochs: number;
  /** Stop after this many epochs without a better validation accuracy. */
  patience: number;
  batchSize: number;
  /** Seeds the initial weights and batch order. */
  seed: number;
}

const IMAGE: readonly [number, number, number] = [1, 28, 28];

/**
 * Three architectures: a CNN with 5x5 kernels and a ReLU embedding, a one-hidden-layer MLP with a
 * wide ReLU embedding, and a CNN with 3x3 kernels and a narrow tanh embedding. They differ in
 * receptive field, depth, width (128, 256 and 64 features) and the distribution of the embedding
 * (sparse non-negative vs bounded), which is what a glue of someone's networks has to cope with.
 * Sizes are kept so each trains in a few minutes of one core (lib/demo/convnet.ts).
 */
export const LARGE_NETWORKS: readonly NetworkPlan[] = Object.freeze([
  {
    name: 'cnn5',
    description: 'conv 5x5 x 8, ReLU, max-pool 2, dense 128, ReLU',
    spec: {
      input: IMAGE,
      classes: 10,
      layers: [
        { kind: 'conv', filters: 8, kernel: 5 },
        { kind: 'relu' },
        { kind: 'maxpool', size: 2 },
        { kind: 'dense', units: 128 },
        { kind: 'relu' },
      ],
    },
    learningRates: [1e-3, 3e-3],
    probeEpochs: 2,
    maxEpochs: 8,
    patience: 2,
    batchSize: 64,
    seed: 1,
  },
  {
    name: 'mlp',
    description: 'dense 256, ReLU',
    spec: { input: IMAGE, classes: 10, layers: [{ kind: 'dense', units: 256 }, { kind: 'relu' }] },
    learningRates: [1e-3, 3e-3],
    probeEpochs: 2,
    maxEpochs: 14,
    patience: 3,
    batchSize: 64,
    seed: 2,
  },
  {
    name: 'cnn3',
    description: 'conv 3x3 x 8, ReLU, max-pool 2, dense 64, tanh',
    spec: {
      input: IMAGE,
      classes: 10,
      layers: [
        { kind: 'conv', filters: 8, kernel: 3 },
        { kind: 'relu' },
        { kind: 'maxpool', size: 2 },
        { kind: 'dense', units: 64 },
        { kind: 'tanh' },
      ],
    },
    learningRates: [1e-3, 3e-3],
    probeEpochs: 2,
    maxEpochs: 10,
    patience: 3,
    batchSize: 64,
    seed: 3,
  },
] satisfies NetworkPlan[]);

/** One scored epoch of a run of {@link trainSelected}. */
export interface EpochRecord {
  learningRate: number;
  epoch: number;
  /** Mean training loss over the epoch. */
  loss: number;
  /** Accuracy on the validation rows after the epoch. */
  validation: number;
}

/** What {@link trainSelected} returns. */
export interface SelectedNetwork {
  net: Network;
  learningRate: number;
  /** Epochs of the kept snapshot. */
  epochs: number;
  validation: number;
  history: EpochRecord[];
}

/**
 * Train one network of `plan` on the `fit` rows with its learning rate and number of epochs chosen
 * on the `val` rows: every learning rate runs `probeEpochs` epochs from the same seeded start; the
 * one with the better validation accuracy (the smaller rate on a tie) carries on, with its Adam
 * state, until `maxEpochs` or `patience` epochs without improvement; the kept network is the
 * snapshot of its best validation epoch (the earliest on a tie). Successive halving plus early
 * stopping: about `maxEpochs + probeEpochs` epochs of work for two rates instead of twice
 * `maxEpochs`.
 */
export function trainSelected(
  plan: NetworkPlan,
  fit: { x: Float32Array; y: ArrayLike<number> },
  val: { x: Float32Array; y: ArrayLike<number> },
  onEpoch: (r: EpochRecord) => void = () => {},
): SelectedNetwork {
  const history: EpochRecord[] = [];
  const runs = plan.learningRates.map((learningRate) => {
    const net = new Network(plan.spec, plan.seed);
    const trainer = net.trainer(fit.x, fit.y, { learningRate, batchSize: plan.batchSize, seed: plan.seed });
    return { learningRate, net, trainer, best: -1, bestEpoch: 0, snapshot: [] as Float32Array[] };
  });
  const step = (run: (typeof runs)[number]) => {
    const loss = run.trainer.epoch();
    const r: EpochRecord = {
      learningRate: run.learningRate,
      epoch: run.trainer.epochs,
      loss,
      validation: run.net.accuracy(val.x, val.y),
    };
    history.push(r);
    onEpoch(r);
    if (r.validation > run.best) {
      run.best = r.validation;
      run.bestEpoch = r.epoch;
      run.snapshot = run.net.parameters().map((p) => p.slice());
    }
  };
  for (const run of runs) for (let e = 0; e < plan.probeEpochs; e++) step(run);
  // The better probe carries on; the others are dropped (reduce keeps the first of equals).
  const kept = runs.reduce((a, b) => (b.best > a.best ? b : a));
  while (kept.trainer.epochs < plan.maxEpochs && kept.trainer.epochs - kept.bestEpoch < plan.patience) step(kept);
  kept.net.setParameters(kept.snapshot);
  return {
    net: kept.net,
    learningRate: kept.learningRate,
    epochs: kept.bestEpoch,
    validation: kept.best,
    history,
  };
}

/** Fraction of predictions equal to the labels. */
export function accuracyOf(pred: ArrayLike<number>, y: ArrayLike<number>): number {
  let ok = 0;
  for (let i = 0; i < y.length; i++) if (pred[i] === y[i]) ok++;
  return ok / y.length;
}

/** Rows of several row-major matrices (same n, widths `widths`) side by side. */
export function concatColumns(parts: readonly Float32Array[], widths: readonly number[], n: number): Float32Array {
  const total = widths.reduce((s, w) => s + w, 0);
  const out = new Float32Array(n * total);
  for (let r = 0; r < n; r++) {
    let at = r * total;
    parts.forEach((p, i) => {
      const w = widths[i] as number;
      out.set(p.subarray(r * w, (r + 1) * w), at);
      at += w;
    });
  }
  return out;
}

/** Per-feature mean and standard deviation (1 where a feature is constant) of n rows. */
export function standardizer(x: Float32Array, features: number): { mean: Float64Array; scale: Float64Array } {
  const n = x.length / features;
  const mean = new Float64Array(features);
  const scale = new Float64Array(features);
  for (let r = 0; r < n; r++)
    for (let f = 0; f < features; f++) mean[f] = (mean[f] as number) + (x[r * features + f] as number);
  for (let f = 0; f < features; f++) mean[f] = (mean[f] as number) / n;
  for (let r = 0; r < n; r++)
    for (let f = 0; f < features; f++)
      scale[f] = (scale[f] as number) + ((x[r * features + f] as number) - (mean[f] as number)) ** 2;
  for (let f = 0; f < features; f++) {
    const s = Math.sqrt((scale[f] as number) / n);
    scale[f] = s > 0 ? s : 1;
  }
  return { mean, scale };
}

/** `(x - mean) / scale`, feature by feature, in a new array. */
export function standardize(x: Float32Array, z: { mean: Float64Array; scale: Float64Array }): Float32Array {
  const features = z.mean.length;
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const f = i % features;
    out[i] = ((x[i] as number) - (z.mean[f] as number)) / (z.scale[f] as number);
  }
  return out;
}

/** Settings of {@link logisticRegression}. */
export interface LogisticOptions {
  /** L2 penalties tried; the one with the best validation accuracy is kept (the larger on a tie). */
  l2: readonly number[];
  /** Adam epochs, learning rate and batch size of every fit. */
  epochs: number;
  learningRate: number;
  batchSize: number;
  seed: number;
}

/** Defaults of {@link logisticRegression}: 6 penalties from 0 to 1e-2, 20 epochs of Adam at 1e-3, batches of 128. */
export const LOGISTIC_DEFAULTS: Readonly<LogisticOptions> = Object.freeze({
  l2: [0, 1e-5, 1e-4, 1e-3, 3e-3, 1e-2],
  epochs: 20,
  learningRate: 1e-3,
  batchSize: 128,
  seed: 7,
});

/** A fitted {@link logisticRegression}. */
export interface LogisticModel {
  l2: number;
  /** Validation accuracy of each penalty tried. */
  scores: { l2: number; validation: number }[];
  /** Predicted classes of n rows of raw (unstandardized) features. */
  predict(x: Float32Array): Int32Array;
}

/**
 * Multinomial logistic regression (softmax over a linear map of standardized features, L2 penalty
 * on the weights) fitted with mini-batch Adam: a plain float baseline for the glue. The penalty is
 * chosen on `val`; with `refit`, the model is then fitted again with that penalty on `fit` and
 * `val` together (used when the validation rows are carved out of a small fitting set).
 */
export function logisticRegression(
  fit: { x: Float32Array; y: ArrayLike<number> },
  val: { x: Float32Array; y: ArrayLike<number> },
  features: number,
  classes: number,
  options: Readonly<LogisticOptions> = LOGISTIC_DEFAULTS,
  refit = false,
): LogisticModel {
  const spec: NetSpec = { input: [1, 1, features], classes, layers: [] };
  const train = (x: Float32Array, y: ArrayLike<number>, l2: number) => {
    const z = standardizer(x, features);
    const net = Network.train(spec, standardize(x, z), y, {
      epochs: options.epochs,
      learningRate: options.learningRate,
      batchSize: options.batchSize,
      l2,
      seed: options.seed,
    });
    return { net, z };
  };
  const scores: { l2: number; validation: number }[] = [];
  let best: { l2: number; validation: number; model: ReturnType<typeof train> } | undefined;
  for (const l2 of options.l2) {
    const model = train(fit.x, fit.y, l2);
    const validation = model.net.accuracy(standardize(val.x, model.z), val.y);
    scores.push({ l2, validation });
    if (!best || validation >= best.validation) best = { l2, validation, model };
  }
  const chosen = best as NonNullable<typeof best>;
  let { net, z } = chosen.model;
  if (refit) {
    const x = new Float32Array(fit.x.length + val.x.length);
    x.set(fit.x);
    x.set(val.x, fit.x.length);
    ({ net, z } = train(x, [...Array.from(fit.y), ...Array.from(val.y)], chosen.l2));
  }
  return {
    l2: chosen.l2,
    scores,
    predict(x: Float32Array): Int32Array {
      const { probabilities } = net.outputs(standardize(x, z));
      const n = x.length / features;
      return Int32Array.from({ length: n }, (_, r) => argmaxAt(probabilities, r * classes, classes));
    },
  };
}

/** Accuracy of an n x k probability matrix's top class. */
export function probabilityAccuracy(p: Float32Array, y: ArrayLike<number>, k: number): number {
  return argmaxAccuracy(p, y, k);
}
