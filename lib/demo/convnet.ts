/**
 * Small feed-forward networks (convolutions, pooling, dense layers, ReLU / tanh) trained with
 * mini-batch Adam on `Float32Array`s, in plain TypeScript: enough to train real image classifiers
 * of different architectures for `npm run accuracy:large` without Python, tfjs or any binary.
 *
 * A network is a list of layers ({@link LayerSpec}) followed by a dense softmax classifier; the
 * output of the last listed layer (the signal just before classification) is its embedding, the
 * thing hdglue glues. Everything is deterministic for a seed: the initial weights and the order of
 * the mini-batches come from mulberry32, and the arithmetic runs in one fixed order.
 *
 * The layers and their forward and backward passes are in ./convnet-layers.ts; this module builds
 * them from a spec and trains them (softmax cross-entropy, mini-batch Adam).
 */
import { mulberry32 } from '../rng.js';
import { argmaxAccuracy } from './argmax.js';
import { Activation, Conv, Dense, type Layer, MaxPool } from './convnet-layers.js';

/** One layer of a {@link NetSpec}. Convolutions are "valid" (no padding) with stride 1. */
export type LayerSpec =
  | { kind: 'conv'; filters: number; kernel: number }
  | { kind: 'maxpool'; size: number }
  | { kind: 'dense'; units: number }
  | { kind: 'relu' }
  | { kind: 'tanh' };

/** A network: input shape, hidden layers (the last one's output is the embedding), classes. */
export interface NetSpec {
  /** Channels, height, width of one input (a flat row of `c * h * w` values, channel-major). */
  input: readonly [number, number, number];
  layers: readonly LayerSpec[];
  classes: number;
}

/** Training settings of {@link Network.train}. */
export interface TrainOptions {
  epochs: number;
  learningRate: number;
  /** Mini-batch size; default 64. */
  batchSize?: number;
  /** L2 penalty on the weights (not the biases), added to the mean loss as `l2 / 2 * |w|^2`; default 0. */
  l2?: number;
  /** Seeds the initial weights and the batch order; default 0. */
  seed?: number;
  /** Called after each epoch, e.g. to score a validation set; the network is usable inside. */
  onEpoch?: (epoch: number, net: Network) => void;
}

/** A training run of {@link Network.trainer}. */
export interface Trainer {
  /** Train one more epoch; returns its mean training loss (measured on each batch before its step). */
  epoch(): number;
  /** Epochs done so far. */
  readonly epochs: number;
}

/** A trained (or freshly initialized) network; see {@link Network.train}. */
export class Network {
  readonly spec: NetSpec;
  /** Width of the embedding (the last listed layer's output). */
  readonly embeddingSize: number;
  private readonly layers: Layer[];
  private readonly head: Dense;

  /** A network with seeded initial weights. */
  constructor(spec: NetSpec, seed = 0) {
    this.spec = spec;
    const next = mulberry32(seed);
    let shape: [number, number, number] = [...spec.input];
    let size = shape[0] * shape[1] * shape[2];
    this.layers = [];
    spec.layers.forEach((l, i) => {
      const following = spec.layers[i + 1]?.kind;
      const he = following === 'relu';
      switch (l.kind) {
        case 'conv': {
          const fanIn = shape[0] * l.kernel * l.kernel;
          const fanOut = l.filters * l.kernel * l.kernel;
          const conv = new Conv(shape, l.filters, l.kernel, Math.sqrt(6 / (he ? fanIn : fanIn + fanOut)), next);
          shape = conv.shape();
          this.layers.push(conv);
          break;
        }
        case 'maxpool': {
          const pool = new MaxPool(shape, l.size);
          shape = pool.shape();
          this.layers.push(pool);
          break;
        }
        case 'dense': {
          this.layers.push(new Dense(size, l.units, Math.sqrt(6 / (he ? size : size + l.units)), next));
          shape = [l.units, 1, 1];
          break;
        }
        default:
          this.layers.push(new Activation(size, l.kind));
      }
      size = shape[0] * shape[1] * shape[2];
    });
    this.embeddingSize = size;
    this.head = new Dense(size, spec.classes, Math.sqrt(6 / (size + spec.classes)), next);
  }

  /** Number of learnable values. */
  get parameterCount(): number {
    return [...this.layers, this.head].reduce((s, l) => s + l.params.reduce((t, p) => t + p.w.length, 0), 0);
  }

  /** The learnable arrays in a fixed order (weights, then biases, layer by layer, the classifier last). */
  parameters(): Float32Array[] {
    return [...this.layers, this.head].flatMap((l) => l.params.map((p) => p.w));
  }

  /** Set every learnable array from {@link Network.parameters} output of a network of the same spec. */
  setParameters(values: readonly Float32Array[]): void {
    const mine = this.parameters();
    if (values.length !== mine.length || values.some((v, i) => v.length !== (mine[i] as Float32Array).length)) {
      throw new RangeError('setParameters: the arrays do not match this network');
    }
    mine.forEach((m, i) => {
      m.set(values[i] as Float32Array);
    });
  }

  /**
   * Train a network of `spec` on n rows of `x` (row-major, `input` values each) with labels
   * 0..classes-1: softmax cross-entropy, mini-batch Adam (beta 0.9 / 0.999, eps 1e-8), batches in a
   * fresh seeded order each epoch.
   */
  static train(spec: NetSpec, x: Float32Array, y: ArrayLike<number>, options: TrainOptions): Network {
    const seed = options.seed ?? 0;
    const net = new Network(spec, seed);
    net.fit(x, y, options);
    return net;
  }

  /** Continue training this network (see {@link Network.train}); Adam's state starts fresh. */
  fit(x: Float32Array, y: ArrayLike<number>, options: TrainOptions): void {
    const run = this.trainer(x, y, options);
    for (let e = 0; e < options.epochs; e++) {
      run.epoch();
      options.onEpoch?.(e + 1, this);
    }
  }

  /**
   * A training run that advances one epoch per call (same steps as {@link Network.fit}, whose
   * `epochs` and `onEpoch` it ignores), so a caller can score each epoch, compare runs, and stop
   * or carry on with the Adam state intact.
   */
  trainer(x: Float32Array, y: ArrayLike<number>, options: Omit<TrainOptions, 'epochs' | 'onEpoch'>): Trainer {
    const inSize = this.spec.input[0] * this.spec.input[1] * this.spec.input[2];
    const n = y.length;
    if (x.length !== n * inSize) throw new RangeError(`train: x has ${x.length} values, not ${n} x ${inSize}`);
    const batch = Math.min(options.batchSize ?? 64, n);
    const lr = options.learningRate;
    const l2 = options.l2 ?? 0;
    const classes = this.spec.classes;
    const next = mulberry32((options.seed ?? 0) ^ 0x2545f491);
    const params = [...this.layers, this.head].flatMap((l) => l.params);
    const m = params.map((p) => new Float32Array(p.w.length));
    const v = params.map((p) => new Float32Array(p.w.length));
    const xb = new Float32Array(batch * inSize);
    const dz = new Float32Array(batch * classes);
    const order = Int32Array.from({ length: n }, (_, i) => i);
    let step = 0;
    let done = 0;
    const epoch = (): number => {
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        const t = order[i] as number;
        order[i] = order[j] as number;
        order[j] = t;
      }
      let loss = 0;
      for (let start = 0; start < n; start += batch) {
        const rows = Math.min(batch, n - start);
        for (let b = 0; b < rows; b++) {
          const r = order[start + b] as number;
          xb.set(x.subarray(r * inSize, (r + 1) * inSize), b * inSize);
        }
        for (const p of params) p.g.fill(0);
        loss += rows * this.backprop(xb, rows, (b) => y[order[start + b] as number] as number, dz);
        step++;
        const c1 = 1 - 0.9 ** step;
        const c2 = 1 - 0.999 ** step;
        params.forEach((p, pi) => {
          const { w, g } = p;
          const mm = m[pi] as Float32Array;
          const vv = v[pi] as Float32Array;
          const decay = p.decay ? l2 : 0;
          for (let i = 0; i < w.length; i++) {
            const gi = (g[i] as number) + decay * (w[i] as number);
            const mi = 0.9 * (mm[i] as number) + 0.1 * gi;
            const vi = 0.999 * (vv[i] as number) + 0.001 * gi * gi;
            mm[i] = mi;
            vv[i] = vi;
            w[i] = (w[i] as number) - (lr * (mi / c1)) / (Math.sqrt(vi / c2) + 1e-8);
          }
        });
      }
      done++;
      return loss / n;
    };
    return {
      epoch,
      get epochs() {
        return done;
      },
    };
  }

  // Forward `rows` rows of x, then add the gradients of the mean cross-entropy (labels from
  // `label(b)`) into every layer's gradient buffers; returns that loss.
  private backprop(x: Float32Array, rows: number, label: (b: number) => number, dz: Float32Array): number {
    const classes = this.spec.classes;
    const logits = this.forwardAll(x, rows);
    let loss = 0;
    // Gradient of the mean cross-entropy with respect to the logits: (softmax - onehot) / rows.
    for (let b = 0; b < rows; b++) {
      softmaxInto(logits, b * classes, classes, dz);
      const t = b * classes + label(b);
      loss -= Math.log(Math.max(dz[t] as number, 1e-30));
      dz[t] = (dz[t] as number) - 1;
      for (let c = 0; c < classes; c++) dz[b * classes + c] = (dz[b * classes + c] as number) / rows;
    }
    let d = this.head.backward(dz, rows, this.layers.length > 0);
    for (let li = this.layers.length - 1; li >= 0 && d; li--) {
      d = (this.layers[li] as Layer).backward(d, rows, li > 0);
    }
    return loss / rows;
  }

  /**
   * The mean cross-entropy of n rows and its gradient with respect to each of
   * {@link Network.parameters} (no L2 term), e.g. to check the backward pass numerically.
   * @internal
   */
  gradients(x: Float32Array, y: ArrayLike<number>): { loss: number; grads: Float32Array[] } {
    const params = [...this.layers, this.head].flatMap((l) => l.params);
    for (const p of params) p.g.fill(0);
    const loss = this.backprop(x, y.length, (b) => y[b] as number, new Float32Array(y.length * this.spec.classes));
    return { loss, grads: params.map((p) => p.g.slice()) };
  }

  private forwardAll(x: Float32Array, rows: number): Float32Array {
    let h = x;
    for (const l of this.layers) h = l.forward(h, rows);
    return this.head.forward(h, rows);
  }

  /**
   * Embeddings (n x embeddingSize) and class probabilities (n x classes) of n rows, computed in
   * batches of `batchSize` (default 256).
   */
  outputs(x: Float32Array, batchSize = 256): { embeddings: Float32Array; probabilities: Float32Array } {
    const inSize = this.spec.input[0] * this.spec.input[1] * this.spec.input[2];
    const n = x.length / inSize;
    const E = this.embeddingSize;
    const C = this.spec.classes;
    const embeddings = new Float32Array(n * E);
    const probabilities = new Float32Array(n * C);
    for (let start = 0; start < n; start += batchSize) {
      const rows = Math.min(batchSize, n - start);
      let h = x.subarray(start * inSize, (start + rows) * inSize);
      for (const l of this.layers) h = l.forward(h, rows);
      embeddings.set(h.subarray(0, rows * E), start * E);
      const logits = this.head.forward(h, rows);
      for (let b = 0; b < rows; b++) softmaxInto(logits, b * C, C, probabilities, (start + b) * C);
    }
    return { embeddings, probabilities };
  }

  /** Fraction of n rows whose most probable class is the label. */
  accuracy(x: Float32Array, y: ArrayLike<number>): number {
    const { probabilities } = this.outputs(x);
    return argmaxAccuracy(probabilities, y, this.spec.classes);
  }
}

// softmax of z[at .. at + k) into out[to .. to + k), shifted by the maximum for stability.
function softmaxInto(z: Float32Array, at: number, k: number, out: Float32Array, to = at): void {
  let max = Number.NEGATIVE_INFINITY;
  for (let c = 0; c < k; c++) max = Math.max(max, z[at + c] as number);
  let sum = 0;
  for (let c = 0; c < k; c++) {
    const e = Math.exp((z[at + c] as number) - max);
    out[to + c] = e;
    sum += e;
  }
  for (let c = 0; c < k; c++) out[to + c] = (out[to + c] as number) / sum;
}
