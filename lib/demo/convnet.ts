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
 * Speed: convolutions are im2col + a matrix product per image, dense layers one matrix product
 * per batch, all through the register-blocked kernel in ./gemm.ts.
 */
import { mulberry32 } from '../rng.js';
import { gemm } from './gemm.js';

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

/** A layer working on `batch` rows of `inSize` values at a time. */
interface Layer {
  readonly inSize: number;
  readonly outSize: number;
  /** Learnable arrays and their gradient buffers, in a fixed order. */
  readonly params: { w: Float32Array; g: Float32Array; decay: boolean }[];
  /** Forward `batch` rows of `x` (batch x inSize); keeps what backward needs. */
  forward(x: Float32Array, batch: number): Float32Array;
  /** Accumulate parameter gradients from `dy`; return dL/dx unless `needDx` is false. */
  backward(dy: Float32Array, batch: number, needDx: boolean): Float32Array | null;
  /** Make room for batches of up to `batch` rows. */
  reserve(batch: number): void;
}

// Uniform(-b, b): He's bound sqrt(6 / fanIn) before a ReLU, Glorot's sqrt(6 / (fanIn + fanOut)) otherwise.
function initUniform(w: Float32Array, bound: number, next: () => number): void {
  for (let i = 0; i < w.length; i++) w[i] = (next() * 2 - 1) * bound;
}

class Conv implements Layer {
  readonly inSize: number;
  readonly outSize: number;
  readonly params: { w: Float32Array; g: Float32Array; decay: boolean }[];
  private readonly c: number;
  private readonly h: number;
  private readonly wd: number;
  private readonly k: number;
  private readonly f: number;
  private readonly oh: number;
  private readonly ow: number;
  private readonly w: Float32Array; // f x (c k k)
  private readonly b: Float32Array;
  private readonly gw: Float32Array;
  private readonly gb: Float32Array;
  private cols = new Float32Array(0); // per row: (c k k) x (oh ow)
  private out = new Float32Array(0);
  private dx = new Float32Array(0);
  private readonly dcols: Float32Array;

  constructor(
    shape: readonly [number, number, number],
    filters: number,
    kernel: number,
    bound: number,
    next: () => number,
  ) {
    [this.c, this.h, this.wd] = shape;
    this.k = kernel;
    this.f = filters;
    this.oh = this.h - kernel + 1;
    this.ow = this.wd - kernel + 1;
    if (this.oh < 1 || this.ow < 1)
      throw new RangeError(`conv: a ${kernel}x${kernel} kernel does not fit ${this.h}x${this.wd}`);
    this.inSize = this.c * this.h * this.wd;
    this.outSize = filters * this.oh * this.ow;
    const q = this.c * kernel * kernel;
    this.w = new Float32Array(filters * q);
    this.b = new Float32Array(filters);
    initUniform(this.w, bound, next);
    this.gw = new Float32Array(this.w.length);
    this.gb = new Float32Array(filters);
    this.dcols = new Float32Array(q * this.oh * this.ow);
    this.params = [
      { w: this.w, g: this.gw, decay: true },
      { w: this.b, g: this.gb, decay: false },
    ];
  }

  shape(): [number, number, number] {
    return [this.f, this.oh, this.ow];
  }

  reserve(batch: number): void {
    const q = this.c * this.k * this.k;
    if (this.out.length < batch * this.outSize) {
      this.cols = new Float32Array(batch * q * this.oh * this.ow);
      this.out = new Float32Array(batch * this.outSize);
      this.dx = new Float32Array(batch * this.inSize);
    }
  }

  forward(x: Float32Array, batch: number): Float32Array {
    this.reserve(batch);
    const { c, h, wd, k, f, oh, ow, w, b, cols, out } = this;
    const q = c * k * k;
    const p = oh * ow;
    for (let n = 0; n < batch; n++) {
      // im2col: row (ch, ky, kx) of this image's columns is the input shifted by (ky, kx).
      const cb = n * q * p;
      const xb = n * this.inSize;
      for (let ch = 0; ch < c; ch++) {
        for (let ky = 0; ky < k; ky++) {
          for (let kx = 0; kx < k; kx++) {
            const row = cb + ((ch * k + ky) * k + kx) * p;
            for (let y = 0; y < oh; y++) {
              const src = xb + (ch * h + y + ky) * wd + kx;
              const dst = row + y * ow;
              for (let xx = 0; xx < ow; xx++) cols[dst + xx] = x[src + xx] as number;
            }
          }
        }
      }
      // out (f x p) = bias + w (f x q) . cols (q x p)
      const ob = n * this.outSize;
      for (let fi = 0; fi < f; fi++) out.fill(b[fi] as number, ob + fi * p, ob + (fi + 1) * p);
      gemm(f, p, q, w, 0, q, 1, cols, cb, p, 1, out, ob, p);
    }
    return out;
  }

  backward(dy: Float32Array, batch: number, needDx: boolean): Float32Array | null {
    const { c, h, wd, k, f, oh, ow, w, cols, gw, gb, dcols, dx } = this;
    const q = c * k * k;
    const p = oh * ow;
    if (needDx) dx.fill(0, 0, batch * this.inSize);
    for (let n = 0; n < batch; n++) {
      const cb = n * q * p;
      const db = n * this.outSize;
      for (let fi = 0; fi < f; fi++) {
        let sb = 0;
        for (let j = db + fi * p; j < db + (fi + 1) * p; j++) sb += dy[j] as number;
        gb[fi] = (gb[fi] as number) + sb;
      }
      // gw (f x q) += dy (f x p) . cols^T (p x q)
      gemm(f, q, p, dy, db, p, 1, cols, cb, 1, p, gw, 0, q);
      if (!needDx) continue;
      // dcols (q x p) = w^T (q x f) . dy (f x p)
      dcols.fill(0);
      gemm(q, p, f, w, 0, 1, q, dy, db, p, 1, dcols, 0, p);
      // col2im: the transpose of the im2col copy above.
      const xb = n * this.inSize;
      for (let ch = 0; ch < c; ch++) {
        for (let ky = 0; ky < k; ky++) {
          for (let kx = 0; kx < k; kx++) {
            const row = ((ch * k + ky) * k + kx) * p;
            for (let y = 0; y < oh; y++) {
              const dst = xb + (ch * h + y + ky) * wd + kx;
              const src = row + y * ow;
              for (let xx = 0; xx < ow; xx++) dx[dst + xx] = (dx[dst + xx] as number) + (dcols[src + xx] as number);
            }
          }
        }
      }
    }
    return needDx ? dx : null;
  }
}

class MaxPool implements Layer {
  readonly inSize: number;
  readonly outSize: number;
  readonly params = [];
  private readonly c: number;
  private readonly h: number;
  private readonly wd: number;
  private readonly s: number;
  private readonly oh: number;
  private readonly ow: number;
  private out = new Float32Array(0);
  private arg = new Int32Array(0); // index (within the row) of each output's maximum
  private dx = new Float32Array(0);

  constructor(shape: readonly [number, number, number], size: number) {
    [this.c, this.h, this.wd] = shape;
    this.s = size;
    this.oh = Math.floor(this.h / size);
    this.ow = Math.floor(this.wd / size);
    if (this.oh < 1 || this.ow < 1) throw new RangeError(`maxpool: ${size}x${size} does not fit ${this.h}x${this.wd}`);
    this.inSize = this.c * this.h * this.wd;
    this.outSize = this.c * this.oh * this.ow;
  }

  shape(): [number, number, number] {
    return [this.c, this.oh, this.ow];
  }

  reserve(batch: number): void {
    if (this.out.length < batch * this.outSize) {
      this.out = new Float32Array(batch * this.outSize);
      this.arg = new Int32Array(batch * this.outSize);
      this.dx = new Float32Array(batch * this.inSize);
    }
  }

  forward(x: Float32Array, batch: number): Float32Array {
    this.reserve(batch);
    const { c, h, wd, s, oh, ow, out, arg } = this;
    for (let n = 0; n < batch; n++) {
      const xb = n * this.inSize;
      let o = n * this.outSize;
      for (let ch = 0; ch < c; ch++) {
        for (let y = 0; y < oh; y++) {
          for (let xx = 0; xx < ow; xx++, o++) {
            let best = ch * h * wd + y * s * wd + xx * s;
            let bv = x[xb + best] as number;
            for (let dy = 0; dy < s; dy++) {
              for (let dx = 0; dx < s; dx++) {
                const i = ch * h * wd + (y * s + dy) * wd + xx * s + dx;
                // Strictly greater: the first maximum wins, a fixed rule for ties.
                if ((x[xb + i] as number) > bv) {
                  bv = x[xb + i] as number;
                  best = i;
                }
              }
            }
            out[o] = bv;
            arg[o] = best;
          }
        }
      }
    }
    return out;
  }

  backward(dy: Float32Array, batch: number, needDx: boolean): Float32Array | null {
    if (!needDx) return null;
    const { dx, arg } = this;
    dx.fill(0, 0, batch * this.inSize);
    for (let n = 0; n < batch; n++) {
      const xb = n * this.inSize;
      const ob = n * this.outSize;
      for (let o = 0; o < this.outSize; o++) {
        const i = xb + (arg[ob + o] as number);
        dx[i] = (dx[i] as number) + (dy[ob + o] as number);
      }
    }
    return dx;
  }
}

class Dense implements Layer {
  readonly inSize: number;
  readonly outSize: number;
  readonly params: { w: Float32Array; g: Float32Array; decay: boolean }[];
  private readonly w: Float32Array; // in x out, so the inner loops run over contiguous outputs
  private readonly b: Float32Array;
  private readonly gw: Float32Array;
  private readonly gb: Float32Array;
  private x: Float32Array = new Float32Array(0);
  private out = new Float32Array(0);
  private dx = new Float32Array(0);

  constructor(inSize: number, units: number, bound: number, next: () => number) {
    this.inSize = inSize;
    this.outSize = units;
    this.w = new Float32Array(inSize * units);
    this.b = new Float32Array(units);
    initUniform(this.w, bound, next);
    this.gw = new Float32Array(this.w.length);
    this.gb = new Float32Array(units);
    this.params = [
      { w: this.w, g: this.gw, decay: true },
      { w: this.b, g: this.gb, decay: false },
    ];
  }

  reserve(batch: number): void {
    if (this.out.length < batch * this.outSize) {
      this.out = new Float32Array(batch * this.outSize);
      this.dx = new Float32Array(batch * this.inSize);
    }
  }

  forward(x: Float32Array, batch: number): Float32Array {
    this.reserve(batch);
    this.x = x;
    const { inSize: I, outSize: O, w, b, out } = this;
    for (let n = 0; n < batch; n++) out.set(b, n * O);
    // out (batch x O) += x (batch x I) . w (I x O)
    gemm(batch, O, I, x, 0, I, 1, w, 0, O, 1, out, 0, O);
    return out;
  }

  backward(dy: Float32Array, batch: number, needDx: boolean): Float32Array | null {
    const { inSize: I, outSize: O, w, gw, gb, x, dx } = this;
    for (let n = 0; n < batch; n++) {
      for (let j = 0; j < O; j++) gb[j] = (gb[j] as number) + (dy[n * O + j] as number);
    }
    // gw (I x O) += x^T (I x batch) . dy (batch x O)
    gemm(I, O, batch, x, 0, 1, I, dy, 0, O, 1, gw, 0, O);
    if (needDx) {
      // dx (batch x I) = dy (batch x O) . w^T (O x I)
      dx.fill(0, 0, batch * I);
      gemm(batch, I, O, dy, 0, O, 1, w, 0, 1, O, dx, 0, I);
    }
    return needDx ? dx : null;
  }
}

class Activation implements Layer {
  readonly inSize: number;
  readonly outSize: number;
  readonly params = [];
  private readonly kind: 'relu' | 'tanh';
  private out = new Float32Array(0);
  private dx = new Float32Array(0);

  constructor(size: number, kind: 'relu' | 'tanh') {
    this.inSize = size;
    this.outSize = size;
    this.kind = kind;
  }

  reserve(batch: number): void {
    if (this.out.length < batch * this.outSize) {
      this.out = new Float32Array(batch * this.outSize);
      this.dx = new Float32Array(batch * this.inSize);
    }
  }

  forward(x: Float32Array, batch: number): Float32Array {
    this.reserve(batch);
    const m = batch * this.inSize;
    const out = this.out;
    if (this.kind === 'relu') for (let i = 0; i < m; i++) out[i] = Math.max(0, x[i] as number);
    else for (let i = 0; i < m; i++) out[i] = Math.tanh(x[i] as number);
    return out;
  }

  backward(dy: Float32Array, batch: number, needDx: boolean): Float32Array | null {
    if (!needDx) return null;
    const m = batch * this.inSize;
    const { out, dx } = this;
    if (this.kind === 'relu') for (let i = 0; i < m; i++) dx[i] = (out[i] as number) > 0 ? (dy[i] as number) : 0;
    else
      for (let i = 0; i < m; i++) {
        const y = out[i] as number;
        dx[i] = (dy[i] as number) * (1 - y * y);
      }
    return dx;
  }
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

/** Fraction of rows of an n x k score matrix whose largest score (first on ties) is at the label. */
export function argmaxAccuracy(scores: Float32Array | Float64Array, y: ArrayLike<number>, k: number): number {
  let ok = 0;
  for (let r = 0; r < y.length; r++) {
    let best = 0;
    for (let c = 1; c < k; c++) if ((scores[r * k + c] as number) > (scores[r * k + best] as number)) best = c;
    if (best === y[r]) ok++;
  }
  return ok / y.length;
}
