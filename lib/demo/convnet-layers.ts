/**
 * The layers of the networks in ./convnet.ts, each with its forward and backward pass over a batch
 * of rows: convolution (im2col + a matrix product per image), max-pooling, dense (one matrix
 * product per batch) and the ReLU / tanh activations. The products go through the register-blocked
 * kernel in ./gemm.ts. Each layer keeps its output and gradient buffers between batches, grown only
 * when a batch is larger, so training allocates nothing per step.
 */
import { gemm } from './gemm.js';

/** A learnable array, its gradient buffer, and whether the L2 penalty applies to it (weights, not biases). @internal */
export interface Param {
  w: Float32Array;
  g: Float32Array;
  decay: boolean;
}

/** A layer working on `batch` rows of `inSize` values at a time. @internal */
export interface Layer {
  readonly inSize: number;
  readonly outSize: number;
  /** Learnable arrays and their gradient buffers, in a fixed order. */
  readonly params: Param[];
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

/** A "valid" (unpadded) convolution with stride 1, channel-major rows. @internal */
export class Conv implements Layer {
  readonly inSize: number;
  readonly outSize: number;
  readonly params: Param[];
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

/** Max-pooling over non-overlapping `size` x `size` windows (the remainder rows and columns dropped). @internal */
export class MaxPool implements Layer {
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

/** A fully connected layer, weights stored in x out. @internal */
export class Dense implements Layer {
  readonly inSize: number;
  readonly outSize: number;
  readonly params: Param[];
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

/** An element-wise ReLU or tanh. @internal */
export class Activation implements Layer {
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
