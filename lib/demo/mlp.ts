/**
 * A small seeded multilayer perceptron like the tutorial's scikit-learn MLPClassifier
 * ((128,) tanh hidden units, softmax output, Adam, mini-batches of 200, L2 penalty 1e-4), written
 * here so the demo and the accuracy checks need no Python. Its hidden layer is the embedding
 * hdglue glues. Deterministic for a given seed.
 */

import { mulberry32 } from '../rng.js';

/** Training options. */
export interface MLPOptions {
  hidden?: number;
  epochs?: number;
  learningRate?: number;
  batchSize?: number;
  alpha?: number;
  seed?: number;
}

/** The parameters of a trained {@link MLP}. */
export interface MLPWeights {
  inputs: number;
  hidden: number;
  classes: number;
  w1: Float64Array;
  b1: Float64Array;
  w2: Float64Array;
  b2: Float64Array;
}

/** A trained network: inputs -> tanh hidden layer -> softmax over classes. */
export class MLP {
  readonly inputs: number;
  readonly hidden: number;
  readonly classes: number;
  readonly w1: Float64Array;
  readonly b1: Float64Array;
  readonly w2: Float64Array;
  readonly b2: Float64Array;

  private constructor(inputs: number, hidden: number, classes: number, seed: number) {
    this.inputs = inputs;
    this.hidden = hidden;
    this.classes = classes;
    const next = mulberry32(seed);
    // Glorot-uniform initialization, as scikit-learn uses for tanh.
    const b1 = Math.sqrt(6 / (inputs + hidden));
    const b2 = Math.sqrt(6 / (hidden + classes));
    this.w1 = Float64Array.from({ length: inputs * hidden }, () => (next() * 2 - 1) * b1);
    this.b1 = Float64Array.from({ length: hidden }, () => (next() * 2 - 1) * b1);
    this.w2 = Float64Array.from({ length: hidden * classes }, () => (next() * 2 - 1) * b2);
    this.b2 = Float64Array.from({ length: classes }, () => (next() * 2 - 1) * b2);
  }

  /** The trained parameters, e.g. to move a network between threads. */
  weights(): MLPWeights {
    return {
      inputs: this.inputs,
      hidden: this.hidden,
      classes: this.classes,
      w1: this.w1,
      b1: this.b1,
      w2: this.w2,
      b2: this.b2,
    };
  }

  /** A network from {@link MLP.weights} output. */
  static fromWeights(w: MLPWeights): MLP {
    const net = new MLP(w.inputs, w.hidden, w.classes, 0);
    net.w1.set(w.w1);
    net.b1.set(w.b1);
    net.w2.set(w.w2);
    net.b2.set(w.b2);
    return net;
  }

  /** Train on n rows of x (row-major) with integer labels 0..classes-1. */
  static train(x: Float64Array, y: ArrayLike<number>, n: number, classes: number, options: MLPOptions = {}): MLP {
    const inputs = x.length / n;
    const hidden = options.hidden ?? 128;
    const epochs = options.epochs ?? 100;
    const lr = options.learningRate ?? 1e-3;
    const batch = Math.min(options.batchSize ?? 200, n);
    const alpha = options.alpha ?? 1e-4;
    const seed = options.seed ?? 0;
    const net = new MLP(inputs, hidden, classes, seed);
    const next = mulberry32(seed ^ 0x5bd1e995);
    const params = [net.w1, net.b1, net.w2, net.b2];
    const m = params.map((p) => new Float64Array(p.length));
    const v = params.map((p) => new Float64Array(p.length));
    const grads = params.map((p) => new Float64Array(p.length));
    // The gradient arrays as locals: V8 keeps the hot loops below on typed-array fast paths.
    const [g0, g1, g2, g3] = grads as [Float64Array, Float64Array, Float64Array, Float64Array];
    const w2 = net.w2;
    const h = new Float64Array(batch * hidden);
    const out = new Float64Array(batch * classes);
    const dh = new Float64Array(hidden);
    const order = Int32Array.from({ length: n }, (_, i) => i);
    let step = 0;
    for (let e = 0; e < epochs; e++) {
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        const t = order[i] as number;
        order[i] = order[j] as number;
        order[j] = t;
      }
      for (let start = 0; start < n; start += batch) {
        const rows = Math.min(batch, n - start);
        for (const g of grads) g.fill(0);
        for (let b = 0; b < rows; b++) {
          const r = order[start + b] as number;
          net.forwardRow(x, r, h, b, out);
          // softmax cross-entropy gradient: p - onehot, averaged over the batch
          const yr = y[r] as number;
          for (let c = 0; c < classes; c++) {
            const d = ((out[b * classes + c] as number) - (c === yr ? 1 : 0)) / rows;
            out[b * classes + c] = d;
            g3[c] += d;
            for (let k = 0; k < hidden; k++) g2[k * classes + c] += (h[b * hidden + k] as number) * d;
          }
          for (let k = 0; k < hidden; k++) {
            let s = 0;
            for (let c = 0; c < classes; c++) s += (w2[k * classes + c] as number) * (out[b * classes + c] as number);
            const hk = h[b * hidden + k] as number;
            dh[k] = s * (1 - hk * hk);
          }
          for (let f = 0; f < inputs; f++) {
            const xf = x[r * inputs + f] as number;
            if (xf === 0) continue;
            const base = f * hidden;
            for (let k = 0; k < hidden; k++) g0[base + k] += xf * (dh[k] as number);
          }
          for (let k = 0; k < hidden; k++) g1[k] += dh[k] as number;
        }
        // L2 penalty on the weights (not the biases), then an Adam step.
        for (const wi of [0, 2]) {
          const p = params[wi]!;
          const g = grads[wi]!;
          for (let i = 0; i < p.length; i++) g[i] += (alpha * (p[i] as number)) / rows;
        }
        step++;
        const c1 = 1 - 0.9 ** step;
        const c2 = 1 - 0.999 ** step;
        params.forEach((p, pi) => {
          const g = grads[pi]!;
          const mm = m[pi]!;
          const vv = v[pi]!;
          for (let i = 0; i < p.length; i++) {
            const gi = g[i] as number;
            mm[i] = 0.9 * (mm[i] as number) + 0.1 * gi;
            vv[i] = 0.999 * (vv[i] as number) + 0.001 * gi * gi;
            p[i] = (p[i] as number) - (lr * ((mm[i] as number) / c1)) / (Math.sqrt((vv[i] as number) / c2) + 1e-8);
          }
        });
      }
    }
    return net;
  }

  // Hidden activations of row r into h[b], class probabilities into out[b].
  private forwardRow(x: Float64Array, r: number, h: Float64Array, b: number, out: Float64Array): void {
    const { inputs, hidden, classes } = this;
    for (let k = 0; k < hidden; k++) h[b * hidden + k] = this.b1[k] as number;
    for (let f = 0; f < inputs; f++) {
      const xf = x[r * inputs + f] as number;
      if (xf === 0) continue;
      const base = f * hidden;
      for (let k = 0; k < hidden; k++) h[b * hidden + k] += xf * (this.w1[base + k] as number);
    }
    for (let k = 0; k < hidden; k++) h[b * hidden + k] = Math.tanh(h[b * hidden + k] as number);
    let max = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < classes; c++) {
      let s = this.b2[c] as number;
      for (let k = 0; k < hidden; k++) s += (h[b * hidden + k] as number) * (this.w2[k * classes + c] as number);
      out[b * classes + c] = s;
      if (s > max) max = s;
    }
    let z = 0;
    for (let c = 0; c < classes; c++) {
      const e = Math.exp((out[b * classes + c] as number) - max);
      out[b * classes + c] = e;
      z += e;
    }
    for (let c = 0; c < classes; c++) out[b * classes + c] = (out[b * classes + c] as number) / z;
  }

  /** The hidden-layer embeddings (n x hidden) of n rows: the signal just before classification. */
  embed(x: Float64Array, n: number): Float64Array {
    const h = new Float64Array(n * this.hidden);
    const out = new Float64Array(this.classes);
    const one = new Float64Array(this.hidden);
    for (let r = 0; r < n; r++) {
      this.forwardRow(x, r, one, 0, out);
      h.set(one, r * this.hidden);
    }
    return h;
  }

  /** Class probabilities (n x classes). */
  probabilities(x: Float64Array, n: number): Float64Array {
    const p = new Float64Array(n * this.classes);
    const one = new Float64Array(this.hidden);
    const out = new Float64Array(this.classes);
    for (let r = 0; r < n; r++) {
      this.forwardRow(x, r, one, 0, out);
      p.set(out, r * this.classes);
    }
    return p;
  }
}
