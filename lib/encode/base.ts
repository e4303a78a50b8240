/**
 * What every encoder shares: turning one embedding or a batch (flat typed array or array of
 * rows) into an HVBatch with one backend call, synchronously or off the event loop, and the
 * checked reading of calibration data. Subclasses supply only the kernel call.
 */

import { HVBatch, type Hypervector } from '../core/hv.js';
import {
  checkEncoded,
  type Embedding,
  type EmbeddingMatrix,
  type Matrix,
  notFinite,
  toMatrix,
  toRow,
} from './embeddings.js';

/** Base of {@link EmbeddingEncoder} and {@link ProjectionEncoder}. */
export abstract class BatchEncoder {
  /** Values per embedding. */
  abstract readonly features: number;
  /** Bits per hypervector. */
  abstract readonly dim: number;

  /** Run the encoder's kernel into `out`; -1, or the index of the first non-finite value. @internal */
  protected abstract kernel(m: Matrix, out: HVBatch): number;

  /** The async twin of {@link kernel}. @internal */
  protected abstract kernelAsync(m: Matrix, out: HVBatch): Promise<number>;

  /** Encode one embedding. */
  encode(x: Embedding): Hypervector {
    return this.#run(toRow(x, this.features)).row(0);
  }

  /** Encode `n` embeddings (a flat row-major Float32Array/Float64Array of n * features values, or an array of rows). */
  encodeBatch(x: EmbeddingMatrix, n?: number): HVBatch {
    return this.#run(toMatrix(x, this.features, n));
  }

  /**
   * {@link encodeBatch} off the event loop (on the native backend), split over threads for large
   * batches. Do not modify or transfer `x` until it settles.
   */
  async encodeBatchAsync(x: EmbeddingMatrix, n?: number): Promise<HVBatch> {
    const m = toMatrix(x, this.features, n);
    const out = new HVBatch(this.dim, m.n);
    checkEncoded(await this.kernelAsync(m, out), m.data, this.features);
    return out;
  }

  /** Calibration data as a matrix whose every value is finite (else a coded error). @internal */
  protected finiteMatrix(x: EmbeddingMatrix, n?: number): Matrix {
    const m = toMatrix(x, this.features, n);
    for (let i = 0; i < m.n * this.features; i++)
      if (!Number.isFinite(m.data[i])) throw notFinite(m.data, i, this.features);
    return m;
  }

  #run(m: Matrix): HVBatch {
    const out = new HVBatch(this.dim, m.n);
    checkEncoded(this.kernel(m, out), m.data, this.features);
    return out;
  }
}
