/**
 * The level encoder: turns one network's embedding (a vector of `features` floats) into a
 * hypervector. Each value is binned within its feature's range, the bin's level vector is bound
 * (XOR) to the feature's position vector, and the bound vectors are bundled (majority) over the
 * features, all in one native call per batch.
 */

import { backend } from '../backend/index.js';
import { badDescription, parseDescription } from '../core/description.js';
import { HVBatch } from '../core/hv.js';
import { LEVEL_KINDS, type LevelKind, levelVectors } from '../core/levels.js';
import { randomBatch, type TieRule, tieData } from '../core/ops.js';
import { DEFAULTS } from '../defaults.js';
import { ErrorCode, rangeError, typeError } from '../errors.js';
import { checkCount, checkDim, checkOptions, checkSeed, describe, LIMITS } from '../validate.js';
import { BatchEncoder } from './base.js';
import type { EmbeddingMatrix, Matrix } from './embeddings.js';

/** Options of {@link EmbeddingEncoder}. */
export interface EmbeddingEncoderOptions {
  /** Number of values per embedding (1 to 65,536). */
  features: number;
  /** Bits per hypervector; default 10,000. */
  dim?: number;
  /** Bins per feature (1 to 65,536); default 64 (the default recipe's). */
  bins?: number;
  /** Level codebook: `'level'` (default, distance-preserving), `'random'` (the tutorial's) or `'circular'`. */
  levels?: LevelKind;
  /** One range for every feature; default [-1, 1] (tanh outputs). Values outside are clipped to the end bins. */
  range?: readonly [number, number];
  /** Per-feature ranges (overrides `range`); usually set by {@link EmbeddingEncoder.fit}. */
  ranges?: { lo: ArrayLike<number>; hi: ArrayLike<number> };
  /** Seed of the position and level vectors and of the tie-breaker; default 0. */
  seed?: number | bigint;
  /** Tie rule of the bundle over features (only an even feature count can tie); default `'tiebreak'`. */
  tie?: TieRule;
}

/** Options of {@link EmbeddingEncoder.fit}. */
export interface FitOptions {
  /** `'quantile'` (default, the default recipe's): between two quantiles, robust to outliers; `'minmax'`: each feature's observed range. */
  method?: 'minmax' | 'quantile';
  /** Lower and upper quantile for `'quantile'`; default [0.01, 0.99]. */
  quantiles?: readonly [number, number];
  /** Rows in a flat typed array (default: its length / features). */
  n?: number;
}

/** The JSON form of an {@link EmbeddingEncoder}: everything needed to rebuild it bit for bit. */
export interface EmbeddingEncoderDescription {
  kind: 'hdglue.EmbeddingEncoder';
  version: 1;
  features: number;
  dim: number;
  bins: number;
  levels: LevelKind;
  /** The seed as a decimal string (it may exceed 2^53). */
  seed: string;
  tie: TieRule;
  lo: number[];
  hi: number[];
}

/** Encodes embeddings of one network into hypervectors; see the module description. */
export class EmbeddingEncoder extends BatchEncoder {
  /** Values per embedding. */
  readonly features: number;
  /** Bits per hypervector. */
  readonly dim: number;
  /** Bins per feature. */
  readonly bins: number;
  /** Level codebook kind. */
  readonly levels: LevelKind;
  /** Seed of every vector the encoder derives. */
  readonly seed: bigint;
  /** Tie rule of the bundle. */
  readonly tie: TieRule;
  #lo: Float64Array;
  #hi: Float64Array;
  #levelRows: HVBatch;
  #positions: HVBatch;

  /** @param options - see {@link EmbeddingEncoderOptions} */
  constructor(options: EmbeddingEncoderOptions) {
    super();
    if (options === null || typeof options !== 'object') {
      throw typeError(`EmbeddingEncoder options must be an object, got ${describe(options)}`);
    }
    this.features = checkCount(options.features, 'features', LIMITS.features);
    if (this.features < 1) throw rangeError(ErrorCode.OUT_OF_RANGE, 'features must be at least 1');
    this.dim = checkDim(options.dim ?? DEFAULTS.dim);
    this.bins = checkCount(options.bins ?? DEFAULTS.bins, 'bins', LIMITS.bins);
    if (this.bins < 1) throw rangeError(ErrorCode.OUT_OF_RANGE, 'bins must be at least 1');
    this.levels = options.levels ?? DEFAULTS.levels;
    if (!LEVEL_KINDS.includes(this.levels)) {
      throw rangeError(
        ErrorCode.OUT_OF_RANGE,
        `levels must be one of ${LEVEL_KINDS.join(', ')}, got ${String(this.levels)}`,
      );
    }
    this.seed = checkSeed(options.seed ?? 0);
    this.tie = options.tie ?? 'tiebreak';
    tieData(this.dim, this.tie, this.seed); // validates the rule
    [this.#lo, this.#hi] = initialRanges(this.features, options);
    this.#levelRows = levelVectors(this.dim, this.bins, this.levels, { seed: this.seed, prefix: 'encoder/level' });
    this.#positions = randomBatch(
      this.dim,
      Array.from({ length: this.features }, (_, f) => `encoder/position/${f}`),
      { seed: this.seed },
    );
  }

  /** Lower end of each feature's range (a copy). */
  get lo(): Float64Array {
    return this.#lo.slice();
  }

  /** Upper end of each feature's range (a copy). */
  get hi(): Float64Array {
    return this.#hi.slice();
  }

  /** The level vectors, one per bin (a copy). */
  get levelVectors(): HVBatch {
    return new HVBatch(this.dim, this.bins, this.#levelRows.data.slice());
  }

  /** The position vectors, one per feature (a copy). */
  get positionVectors(): HVBatch {
    return new HVBatch(this.dim, this.features, this.#positions.data.slice());
  }

  /**
   * Calibrate each feature's range from data (for unbounded signals such as ReLU outputs):
   * its min and max, or two quantiles. Replaces the ranges only if the data is valid.
   */
  fit(x: EmbeddingMatrix, options?: FitOptions): this {
    const o = checkOptions(options);
    const method = o.method ?? DEFAULTS.range;
    if (method !== 'minmax' && method !== 'quantile') {
      throw rangeError(ErrorCode.OUT_OF_RANGE, `fit method must be 'minmax' or 'quantile', got ${String(method)}`);
    }
    const qs = o.quantiles ?? [0.01, 0.99];
    if (!Array.isArray(qs) || qs.length !== 2 || typeof qs[0] !== 'number' || typeof qs[1] !== 'number') {
      throw typeError('quantiles must be [low, high], two numbers');
    }
    const [qlo, qhi] = qs;
    if (method === 'quantile' && !(qlo >= 0 && qlo < qhi && qhi <= 1)) {
      throw rangeError(ErrorCode.OUT_OF_RANGE, `quantiles must satisfy 0 <= low < high <= 1, got [${qlo}, ${qhi}]`);
    }
    const { n, data } = this.finiteMatrix(x, o.n);
    const lo = new Float64Array(this.features);
    const hi = new Float64Array(this.features);
    const column = new Float64Array(n);
    for (let f = 0; f < this.features; f++) {
      for (let r = 0; r < n; r++) column[r] = data[r * this.features + f] as number;
      if (method === 'minmax') {
        let a = Number.POSITIVE_INFINITY;
        let b = Number.NEGATIVE_INFINITY;
        for (const v of column) {
          if (v < a) a = v;
          if (v > b) b = v;
        }
        lo[f] = a;
        hi[f] = b;
      } else {
        column.sort();
        lo[f] = quantile(column, qlo);
        hi[f] = quantile(column, qhi);
      }
    }
    checkRanges(lo, hi, this.bins);
    this.#lo = lo;
    this.#hi = hi;
    return this;
  }

  /** The full state as plain JSON (ranges, options, seed); {@link EmbeddingEncoder.fromJSON} rebuilds it exactly. */
  toJSON(): EmbeddingEncoderDescription {
    return {
      kind: 'hdglue.EmbeddingEncoder',
      version: 1,
      features: this.features,
      dim: this.dim,
      bins: this.bins,
      levels: this.levels,
      seed: this.seed.toString(),
      tie: this.tie,
      lo: Array.from(this.#lo),
      hi: Array.from(this.#hi),
    };
  }

  /** Rebuild an encoder from {@link EmbeddingEncoder.toJSON}'s output (an object or its JSON text). */
  static fromJSON(description: EmbeddingEncoderDescription | string): EmbeddingEncoder {
    const o = parseDescription(description, 'hdglue.EmbeddingEncoder');
    if (!Array.isArray(o.lo) || !Array.isArray(o.hi)) throw badDescription('lo and hi must be arrays');
    // Every description ever written names its bins; the constructor's default (which follows the
    // default recipe and has changed) must not decide what a stored encoder was.
    if (o.bins === undefined) throw badDescription('bins is missing');
    try {
      return new EmbeddingEncoder({
        features: o.features as number,
        dim: o.dim as number,
        bins: o.bins as number,
        levels: o.levels as LevelKind,
        seed: BigInt(o.seed),
        tie: o.tie as TieRule,
        ranges: { lo: o.lo, hi: o.hi },
      });
    } catch (e) {
      throw badDescription((e as Error).message);
    }
  }

  /** @internal */
  protected kernel(m: Matrix, out: HVBatch): number {
    return backend().encodeLevels(...this.#args(m, out));
  }

  /** @internal */
  protected kernelAsync(m: Matrix, out: HVBatch): Promise<number> {
    return backend().encodeLevelsAsync(...this.#args(m, out));
  }

  #args(m: Matrix, out: HVBatch) {
    return [
      m.data,
      m.n,
      this.features,
      this.#lo,
      this.#hi,
      this.bins,
      this.#levelRows.data,
      this.bins,
      this.#positions.data,
      this.dim,
      tieData(this.dim, this.tie, this.seed),
      out.data,
    ] as const;
  }
}

// Linear interpolation between order statistics, numpy's default quantile method, with numpy's
// own rounding: from the upper neighbour when the fraction is at least 1/2.
function quantile(sorted: Float64Array, q: number): number {
  const pos = q * (sorted.length - 1);
  const i = Math.floor(pos);
  const t = pos - i;
  const a = sorted[i] as number;
  if (i + 1 >= sorted.length) return a;
  const b = sorted[i + 1] as number;
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

function initialRanges(features: number, options: EmbeddingEncoderOptions): [Float64Array, Float64Array] {
  const lo = new Float64Array(features);
  const hi = new Float64Array(features);
  if (options.ranges !== undefined) {
    const r = options.ranges;
    if (r === null || typeof r !== 'object') throw typeError(`ranges must be { lo, hi }, got ${describe(r)}`);
    for (const [name, src, dst] of [
      ['lo', r.lo, lo],
      ['hi', r.hi, hi],
    ] as const) {
      if (src === null || typeof src !== 'object' || src.length !== features) {
        throw rangeError(ErrorCode.SHAPE, `ranges.${name} must have ${features} numbers`);
      }
      for (let f = 0; f < features; f++) {
        const v: unknown = src[f];
        if (typeof v !== 'number') throw typeError(`ranges.${name}[${f}] must be a number, got ${describe(v)}`);
        dst[f] = v;
      }
    }
  } else {
    const range = options.range ?? [-1, 1];
    if (!Array.isArray(range) || range.length !== 2 || typeof range[0] !== 'number' || typeof range[1] !== 'number') {
      throw typeError('range must be [lo, hi], two numbers');
    }
    lo.fill(range[0]);
    hi.fill(range[1]);
  }
  checkRanges(lo, hi, options.bins ?? DEFAULTS.bins);
  return [lo, hi];
}

/**
 * Ranges the binning handles exactly: lo == hi (everything below is bin 0, the rest the last
 * bin), or lo < hi with a finite, normal step (hi - lo) / bins. A narrower range would need
 * numpy's zero-step formula, and a wider one overflows; both are refused rather than binned
 * differently from numpy.
 */
function checkRanges(lo: Float64Array, hi: Float64Array, bins: number): void {
  for (let f = 0; f < lo.length; f++) {
    const a = lo[f] as number;
    const b = hi[f] as number;
    if (!Number.isFinite(a) || !Number.isFinite(b) || a > b) {
      throw rangeError(ErrorCode.OUT_OF_RANGE, `feature ${f}: range [${a}, ${b}] must be finite with lo <= hi`);
    }
    const step = (b - a) / bins;
    if (a < b && !(Number.isFinite(b - a) && step >= 2.2250738585072014e-308)) {
      throw rangeError(
        ErrorCode.OUT_OF_RANGE,
        `feature ${f}: range [${a}, ${b}] cannot be split into ${bins} bins exactly (its width overflows or its step is subnormal)`,
      );
    }
  }
}
