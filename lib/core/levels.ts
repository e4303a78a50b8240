/**
 * Level codebooks: `count` hypervectors for the bins of a scalar value. `'random'` makes them
 * independent (the tutorial's choice: only equal bins are similar, which is why its method scores
 * about a quarter); `'level'` is a thermometer code, where each step flips a fresh, seed-chosen
 * slice of D / (2 (count - 1)) bits, so neighbours are close and the two ends differ in half the
 * bits (orthogonal); `'circular'` flips slices on the way out and restores them in the same order
 * on the way back, so the last level is as close to the first as neighbours are, for periodic
 * values such as angles or hours.
 */
import { ErrorCode, rangeError } from '../errors.js';
import { randomHVInto } from '../rng.js';
import { checkCount, checkDim, checkOptions, checkSeed } from '../validate.js';
import { HVBatch } from './hv.js';
import { randomHV, type SeedOptions } from './ops.js';

/** Kinds of level codebook. */
export type LevelKind = 'random' | 'level' | 'circular';

/** The kinds, for validation. @internal */
export const LEVEL_KINDS: readonly LevelKind[] = ['random', 'level', 'circular'];

/** Options of {@link levelVectors}. */
export interface LevelOptions extends SeedOptions {
  /** Names of the vectors are `${prefix}/${i}` (and `${prefix}/base`, `${prefix}/order`); default `'level'`. */
  prefix?: string;
}

/**
 * A level codebook of `count` rows. Every bit is a pure function of (seed, prefix, kind, count,
 * dim), identical on every backend.
 */
export function levelVectors(dim: number, count: number, kind: LevelKind, options?: LevelOptions): HVBatch {
  checkDim(dim);
  checkCount(count, 'count', 65536);
  if (count < 1) throw rangeError(ErrorCode.OUT_OF_RANGE, 'a level codebook needs at least one level');
  if (!LEVEL_KINDS.includes(kind)) {
    throw rangeError(ErrorCode.OUT_OF_RANGE, `levels must be one of ${LEVEL_KINDS.join(', ')}, got ${String(kind)}`);
  }
  const o = checkOptions(options);
  const seed = checkSeed(o.seed ?? 0);
  const prefix = o.prefix ?? 'level';
  const out = new HVBatch(dim, count);
  const stride = 2 * Math.ceil(dim / 64);
  if (kind === 'random') {
    for (let i = 0; i < count; i++) out.data.set(randomHV(dim, `${prefix}/${i}`, { seed }).data, i * stride);
    return out;
  }
  // Every step must flip at least one bit, or neighbouring levels would be the same vector.
  if (kind === 'level' && count - 1 > dim / 2) {
    throw rangeError(
      ErrorCode.OUT_OF_RANGE,
      `a 'level' codebook of ${count} levels needs dim >= ${2 * (count - 1)} (got ${dim})`,
    );
  }
  if (kind === 'circular' && count > dim) {
    throw rangeError(
      ErrorCode.OUT_OF_RANGE,
      `a 'circular' codebook of ${count} levels needs dim >= ${count} (got ${dim})`,
    );
  }
  const base = randomHV(dim, `${prefix}/base`, { seed }).data;
  const order = permutation(dim, seed, `${prefix}/order`);
  // Level i flips the positions order[from, to): a growing prefix reaching dim / 2 at the last
  // level for the thermometer; for the circle, with t = i / count, the prefix grows to dim / 2 at
  // t = 1/2 and then its start moves up, so the flipped set shrinks back towards level 0. Bounds
  // are rounded from exact fractions, so odd counts and any count close the circle evenly.
  for (let i = 0; i < count; i++) {
    const row = out.data.subarray(i * stride, (i + 1) * stride);
    row.set(base);
    let from = 0;
    let to = 0;
    if (kind === 'level') to = count > 1 ? Math.round((i * dim) / (2 * (count - 1))) : 0;
    else if (2 * i <= count) to = Math.round((i * dim) / count);
    else {
      from = Math.round(((2 * i - count) * dim) / (2 * count));
      to = Math.round(dim / 2);
    }
    for (let p = from; p < to; p++) {
      const bit = order[p] as number;
      row[bit >>> 5] = (row[bit >>> 5] as number) ^ (1 << (bit & 31));
    }
  }
  return out;
}

// A seed-derived permutation of 0..dim-1 (Fisher-Yates over a counter-based stream of 32-bit
// words taken from random vectors, so it is as reproducible as the vectors themselves).
function permutation(dim: number, seed: bigint, name: string): Uint32Array {
  const order = new Uint32Array(dim);
  for (let i = 0; i < dim; i++) order[i] = i;
  const chunkBits = 1 << 20;
  const stream = new Uint32Array(chunkBits / 32);
  const enc = new TextEncoder();
  let avail = 0;
  let chunk = 0;
  for (let i = dim - 1; i > 0; i--) {
    if (avail === 0) {
      randomHVInto(seed, enc.encode(`${name}/${chunk++}`), chunkBits, stream);
      avail = stream.length;
    }
    const u = stream[--avail] as number;
    const j = Math.floor((u * (i + 1)) / 4294967296);
    const t = order[i] as number;
    order[i] = order[j] as number;
    order[j] = t;
  }
  return order;
}
