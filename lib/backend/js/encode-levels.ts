/**
 * The level encoder's core in TypeScript, bit for bit encode_levels_scalar
 * (native/core/kernels_scalar.cc): for each embedding, the majority over features of
 * levels[bin of the feature] ^ positions[feature], ties by the tie-breaker (none: bit 0).
 *
 * Laid out for V8, whose optimized code keeps typed-array loads in program order and spills a
 * great deal once a loop body holds many values (the strategies compared in
 * bench/js-encoders.mjs):
 * - Features go in blocks of 16, and one pass over the columns adds a whole block
 *   (encode-sweep.ts). The block's level-row offsets stay fixed for the pass, so a bound word
 *   costs two loads (level, position) and no offsets[] lookup, all walking forwards; up to
 *   four embeddings per pass share the position loads.
 * - A column's 16 bound words go through a carry-save tree into the column's ones, twos, fours
 *   and eights, kept in an Int32Array next to the column's higher count planes, into which the
 *   tree's sixteens ripple: `stride` adjacent words per column.
 * - A remainder of features worth it is padded to a whole block with features whose bound word
 *   is 0 (level row 0 against a copy of itself), which count nothing; a smaller one is added a
 *   feature at a time. Nothing else is copied: position rows are read in place, so a call for
 *   one embedding costs little more than the embedding (a per-column copy of them was no faster
 *   to read, and costs about one embedding's work to make).
 * @internal
 */
import { sweepOne, sweepTwo } from './encode-sweep.js';
import { sweepFour } from './encode-sweep-four.js';

/** Features added per pass over the columns. */
const BLOCK = 16;

/**
 * Smallest remainder (features % 16) worth padding to a whole block: a feature added alone (a
 * ripple through the column's planes in memory) costs about as much as 2.5 features in a block.
 */
const PAD_FROM = 6;

/** Blocks of 16 features: the whole ones, and a padded last one if the remainder is worth it. */
function blockCount(features: number): number {
  return Math.floor(features / BLOCK) + (features % BLOCK >= PAD_FROM ? 1 : 0);
}

/** Planes a count up to `features` needs. */
function planeCount(features: number): number {
  let n = 0;
  while (features >>> n !== 0) n++;
  return n;
}

/**
 * Words of count planes per column: ones, twos, fours, eights, then bit 4 upwards. A count never
 * exceeds `features`, so ripples stop below planeCount(features); the tree always writes four
 * planes, even for fewer than 16 features.
 */
export function planeStride(features: number): number {
  return Math.max(4, planeCount(features));
}

/** Entries of one embedding's level-row offsets: its features, or its padded blocks if more. */
export function offsetWidth(features: number): number {
  return Math.max(features, blockCount(features) * BLOCK);
}

/**
 * Position rows of the padded last block, if there is one (else an empty array): those of its
 * features, then for each padding feature level row 0, the row its offset (0) selects, so that
 * its bound word is 0.
 */
export function paddedBlock(L: Int32Array, P: Int32Array, features: number, len: number): Int32Array {
  const full = Math.floor(features / BLOCK);
  const blocks = blockCount(features);
  const tail = new Int32Array(blocks > full ? BLOCK * len : 0);
  if (blocks > full) {
    tail.set(P.subarray(full * BLOCK * len, features * len));
    for (let f = features; f < blocks * BLOCK; f++) tail.set(L.subarray(0, len), (f % BLOCK) * len);
  }
  return tail;
}

/**
 * Embeddings r < m (1 to 4) into out[at + r * len + j] for every column j: L the level rows and
 * P the position rows (`len` words each, as Int32 views: every word a small integer to V8), tail
 * their paddedBlock(); offsets[r * width + f] the level-row offset (bin * len) of embedding r's
 * feature f, width = offsetWidth(features), with zeros after its features (padding features);
 * planes room for m embeddings' count planes (m * planeStride(features) * len words).
 */
export function majorityRows(
  L: Int32Array,
  P: Int32Array,
  tail: Int32Array,
  features: number,
  len: number,
  offsets: Int32Array,
  m: number,
  planes: Int32Array,
  tie: Uint32Array | null,
  out: Uint32Array,
  at: number,
): void {
  const stride = planeStride(features);
  const width = offsetWidth(features);
  const blocks = blockCount(features);
  const full = Math.floor(features / BLOCK);
  const other = stride * len;
  planes.fill(0, 0, m * other);
  for (let b = 0; b < blocks; b++) {
    const f = b * BLOCK;
    // Whole blocks read the position rows in place; the padded one its copy.
    const Q = b < full ? P : tail;
    const p0 = b < full ? f * len : 0;
    if (m === 4) sweepFour(L, Q, offsets, f, width, p0, len, planes, other, stride);
    else {
      if (m >= 2) sweepTwo(L, Q, offsets, f, width, p0, len, planes, other, stride);
      if (m % 2 === 1) sweepOne(L, Q, offsets, (m - 1) * width + f, p0, len, planes, (m - 1) * other, stride);
    }
  }
  for (let r = 0; r < m; r++) {
    addSingles(L, P, offsets, r * width, blocks * BLOCK, features, len, planes, r * other, stride);
    decide(planes, r * other, stride, features, len, tie, out, at + r * len);
  }
}

// Features [from, features) one at a time, straight from the position rows.
function addSingles(
  L: Int32Array,
  P: Int32Array,
  offsets: Int32Array,
  o: number,
  from: number,
  features: number,
  len: number,
  S: Int32Array,
  s0: number,
  stride: number,
): void {
  for (let f = from; f < features; f++) {
    const lb = offsets[o + f]!;
    const pb = f * len;
    for (let j = 0, s = s0; j < len; j++, s += stride) {
      let carry = L[lb + j]! ^ P[pb + j]!;
      for (let k = s; carry !== 0; k++) {
        const h = S[k]!;
        S[k] = h ^ carry;
        carry &= h;
      }
    }
  }
}

// count > half per bit, most significant plane first; eq keeps the bits equal so far. An odd
// number of features has no ties.
function decide(
  S: Int32Array,
  s0: number,
  stride: number,
  features: number,
  len: number,
  tie: Uint32Array | null,
  out: Uint32Array,
  at: number,
): void {
  const half = features >>> 1;
  const ties = features % 2 === 0 ? tie : null;
  const top = planeCount(features) - 1;
  for (let j = 0, s = s0; j < len; j++, s += stride) {
    let gt = 0;
    let eq = -1;
    for (let p = top; p >= 0; p--) {
      const c = S[s + p]!;
      if ((half >>> p) & 1) eq &= c;
      else {
        gt |= eq & c;
        eq &= ~c;
      }
    }
    out[at + j] = ties === null ? gt : gt | (eq & ties[j]!);
  }
}
