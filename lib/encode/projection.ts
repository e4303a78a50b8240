/**
 * The projection encoder, for wide embeddings (512 to 4,096 values, e.g. transformer or ResNet
 * features): bit i of the hypervector is the sign of a seed-derived random +1/-1 combination of
 * the features (a random hyperplane, as in SimHash). Values are first quantized to 16-bit
 * integers against per-feature scales, so the sums are exact integers and every backend, ISA
 * level and thread count gives the same bits. The sign matrix is kept bit-packed (features rows
 * of `dim` bits), never as a dense float matrix.
 */

import { backend } from '../backend/index.js';
import { badDescription, parseDescription } from '../core/description.js';
import type { HVBatch } from '../core/hv.js';
import { randomBatch, type TieRule, tieData } from '../core/ops.js';
import { DEFAULTS } from '../defaults.js';
import { ErrorCode, rangeError, typeError } from '../errors.js';
import { checkCount, checkDim, checkOptions, checkSeed, describe, LIMITS } from '../validate.js';
import { BatchEncoder } from './base.js';
import type { EmbeddingMatrix, Matrix } from './embeddings.js';

/** Options of {@link ProjectionEncoder}. */
export interface ProjectionEncoderOptions {
  /** Values per embedding (1 to 65,536). */
  features: number;
  /** Bits per hypervector; default 10,000. */
  dim?: number;
  /** Seed of the sign matrix and of the tie-breaker; default 0. */
  seed?: number | bigint;
  /** Rule for a sum of exactly 0; default `'tiebreak'`. */
  tie?: TieRule;
  /**
   * Magnitude that maps to the largest quantized value, one for all features or one per feature
   * (default 1); larger values are clipped. {@link ProjectionEncoder.fit} sets it from data.
   */
  scale?: number | ArrayLike<number>;
}

/** The JSON form of a {@link ProjectionEncoder}. */
export interface ProjectionEncoderDescription {
  kind: 'hdglue.ProjectionEncoder';
  version: 1;
  features: number;
  dim: number;
  seed: string;
  tie: TieRule;
  scale: number[];
}

const QMAX = 32767;

/** Encodes wide embeddings by random projection; see the module description. */
export class ProjectionEncoder extends BatchEncoder {
  /** Values per embedding. */
  readonly features: number;
  /** Bits per hypervector. */
  readonly dim: number;
  /** Seed of the sign matrix. */
  readonly seed: bigint;
  /** Rule for zero sums. */
  readonly tie: TieRule;
  #scale: Float64Array;
  #mult: Float64Array;
  #signs: HVBatch;

  /** @param options - see {@link ProjectionEncoderOptions} */
  constructor(options: ProjectionEncoderOptions) {
    super();
    if (options === null || typeof options !== 'object') {
      throw typeError(`ProjectionEncoder options must be an object, got ${describe(options)}`);
    }
    this.features = checkCount(options.features, 'features', LIMITS.features);
    if (this.features < 1) throw rangeError(ErrorCode.OUT_OF_RANGE, 'features must be at least 1');
    this.dim = checkDim(options.dim ?? DEFAULTS.dim);
    this.seed = checkSeed(options.seed ?? 0);
    this.tie = options.tie ?? 'tiebreak';
    tieData(this.dim, this.tie, this.seed);
    this.#scale = scales(this.features, options.scale ?? 1);
    this.#mult = multipliers(this.#scale);
    this.#signs = randomBatch(
      this.dim,
      Array.from({ length: this.features }, (_, f) => `projection/${f}`),
      { seed: this.seed },
    );
  }

  /** Per-feature scales (a copy). */
  get scale(): Float64Array {
    return this.#scale.slice();
  }

  /**
   * Set each feature's scale to the largest |value| in the data (or the `quantile` of |value|,
   * for robustness to outliers). A feature that is always 0 keeps scale 1.
   */
  fit(x: EmbeddingMatrix, options?: { quantile?: number; n?: number }): this {
    const o = checkOptions(options);
    const q = o.quantile ?? 1;
    if (!(q > 0 && q <= 1)) throw rangeError(ErrorCode.OUT_OF_RANGE, `quantile must be in (0, 1], got ${q}`);
    const { n, data } = this.finiteMatrix(x, o.n);
    const scale = new Float64Array(this.features);
    const column = new Float64Array(n);
    for (let f = 0; f < this.features; f++) {
      for (let r = 0; r < n; r++) column[r] = Math.abs(data[r * this.features + f] as number);
      column.sort();
      const s = column[Math.min(n - 1, Math.ceil(q * n) - 1)] as number;
      // A feature that is (almost) always 0 keeps scale 1: no multiplier can overflow.
      scale[f] = s > 0 && Number.isFinite(QMAX / s) ? s : 1;
    }
    this.#scale = scale;
    this.#mult = multipliers(scale);
    return this;
  }

  /** The full state as plain JSON; {@link ProjectionEncoder.fromJSON} rebuilds it exactly. */
  toJSON(): ProjectionEncoderDescription {
    return {
      kind: 'hdglue.ProjectionEncoder',
      version: 1,
      features: this.features,
      dim: this.dim,
      seed: this.seed.toString(),
      tie: this.tie,
      scale: Array.from(this.#scale),
    };
  }

  /** Rebuild from {@link ProjectionEncoder.toJSON}'s output (an object or its JSON text). */
  static fromJSON(description: ProjectionEncoderDescription | string): ProjectionEncoder {
    const o = parseDescription(description, 'hdglue.ProjectionEncoder');
    if (!Array.isArray(o.scale)) throw badDescription('scale must be an array');
    try {
      return new ProjectionEncoder({
        features: o.features as number,
        dim: o.dim as number,
        seed: BigInt(o.seed),
        tie: o.tie as TieRule,
        scale: o.scale,
      });
    } catch (e) {
      throw badDescription((e as Error).message);
    }
  }

  /** @internal */
  protected kernel(m: Matrix, out: HVBatch): number {
    return backend().project(...this.#args(m, out));
  }

  /** @internal */
  protected kernelAsync(m: Matrix, out: HVBatch): Promise<number> {
    return backend().projectAsync(...this.#args(m, out));
  }

  #args(m: Matrix, out: HVBatch) {
    return [
      m.data,
      m.n,
      this.features,
      this.#mult,
      this.#signs.data,
      this.dim,
      tieData(this.dim, this.tie, this.seed),
      out.data,
    ] as const;
  }
}

function scales(features: number, scale: number | ArrayLike<number>): Float64Array {
  const out = new Float64Array(features);
  if (typeof scale === 'number') out.fill(scale);
  else if (scale !== null && typeof scale === 'object' && Array.from(scale).some((v) => typeof v !== 'number')) {
    throw typeError('scale must be a number or an array of numbers');
  } else if (scale !== null && typeof scale === 'object' && scale.length === features) {
    for (let f = 0; f < features; f++) out[f] = scale[f] as number;
  } else {
    throw rangeError(ErrorCode.SHAPE, `scale must be a number or ${features} numbers`);
  }
  for (let f = 0; f < features; f++) {
    const s = out[f] as number;
    // The multiplier 32767 / s must be finite too, or 0 * infinity would quantize to garbage.
    if (!(Number.isFinite(s) && s > 0 && Number.isFinite(QMAX / s))) {
      throw rangeError(
        ErrorCode.OUT_OF_RANGE,
        `scale of feature ${f} must be a positive finite number not below 1e-300, got ${s}`,
      );
    }
  }
  return out;
}

function multipliers(scale: Float64Array): Float64Array {
  return scale.map((s) => QMAX / s);
}
