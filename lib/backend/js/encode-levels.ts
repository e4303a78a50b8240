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

/**
 * The majority of bound rows for one encodeLevels call: the codebooks readied once, then up to
 * four embeddings at a time.
 */
export class LevelMajority {
  private readonly levels: Int32Array;
  private readonly positions: Int32Array;
  /** Position rows of the padded last block, if any: its features', then copies of level row 0. */
  private readonly tail: Int32Array;
  /** Count planes of up to four embeddings, `stride` words per column: bit 0 (ones) upwards. */
  private readonly planes: Int32Array;
  private readonly stride: number;
  /** Planes a count up to `features` needs. */
  private readonly nplanes: number;
  /** Blocks, the last one padded if the remainder is. */
  private readonly blocks: number;
  /** Entries of one embedding's offsets: its features, or its padded blocks if more. */
  readonly width: number;

  /**
   * @param levels the level rows, `len` 32-bit words each
   * @param positions `features` position rows of `len` words
   * @param features features per embedding (>= 1)
   * @param len 32-bit words per row (an even number)
   * @param most the most embeddings {@link rows} will be given at once (1 to 4)
   */
  constructor(
    levels: Uint32Array,
    positions: Uint32Array,
    private readonly features: number,
    private readonly len: number,
    most: number,
  ) {
    // Int32 views: every word is a small integer to V8, whatever its top bit.
    this.levels = new Int32Array(levels.buffer, levels.byteOffset, levels.length);
    this.positions = new Int32Array(positions.buffer, positions.byteOffset, positions.length);
    this.blocks = Math.floor(features / BLOCK) + (features % BLOCK >= PAD_FROM ? 1 : 0);
    this.width = Math.max(features, this.blocks * BLOCK);
    const full = Math.floor(features / BLOCK);
    this.tail = new Int32Array(this.blocks > full ? BLOCK * len : 0);
    if (this.blocks > full) {
      // A padding feature's position row is level row 0, the row its offset (0) selects.
      this.tail.set(this.positions.subarray(full * BLOCK * len, features * len));
      for (let f = features; f < this.blocks * BLOCK; f++)
        this.tail.set(this.levels.subarray(0, len), (f % BLOCK) * len);
    }
    let nplanes = 0;
    while (features >>> nplanes !== 0) nplanes++;
    this.nplanes = nplanes;
    // A count never exceeds `features`, so ripples stop below plane nplanes; the tree always
    // writes four planes, even for fewer than 16 features.
    this.stride = Math.max(4, nplanes);
    this.planes = new Int32Array(most * this.stride * len);
  }

  /**
   * Embeddings r < m (m from 1 to the constructor's `most`): out[at + r * len + j] for every
   * column j, from the level-row offsets (bin * len) of embedding r's features in
   * offsets[r * width + f], f < features; the entries after them up to (r + 1) * width must be 0
   * (padding features).
   */
  rows(offsets: Int32Array, m: number, tie: Uint32Array | null, out: Uint32Array, at: number): void {
    const { levels, positions, tail, planes, len, stride, width } = this;
    const other = stride * len;
    planes.fill(0, 0, m * other);
    const full = Math.floor(this.features / BLOCK);
    for (let b = 0; b < this.blocks; b++) {
      const f = b * BLOCK;
      // Whole blocks read the position rows in place; the padded one its copy.
      const P = b < full ? positions : tail;
      const p0 = b < full ? f * len : 0;
      if (m === 4) sweepFour(levels, P, offsets, f, width, p0, len, planes, other, stride);
      else {
        if (m >= 2) sweepTwo(levels, P, offsets, f, width, p0, len, planes, other, stride);
        if (m % 2 === 1) sweepOne(levels, P, offsets, (m - 1) * width + f, p0, len, planes, (m - 1) * other, stride);
      }
    }
    for (let r = 0; r < m; r++) {
      this.addSingles(offsets, r * width, r * other);
      this.decide(r * other, tie, out, at + r * len);
    }
  }

  // The features after the blocks, one at a time, straight from the position rows.
  private addSingles(offsets: Int32Array, o: number, s0: number): void {
    const { levels: L, positions: Q, planes: S, len, stride } = this;
    for (let f = this.blocks * BLOCK; f < this.features; f++) {
      const lb = offsets[o + f]!;
      const pb = f * len;
      for (let j = 0, s = s0; j < len; j++, s += stride) {
        let carry = L[lb + j]! ^ Q[pb + j]!;
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
  private decide(s0: number, tie: Uint32Array | null, out: Uint32Array, at: number): void {
    const { planes: S, len, stride } = this;
    const half = this.features >>> 1;
    const ties = this.features % 2 === 0 ? tie : null;
    const top = this.nplanes - 1;
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
}
