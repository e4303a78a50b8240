#!/usr/bin/env node
// Pure-JavaScript level encoders, separate code from lib/backend/js/, as the peers the TypeScript
// backend's encodeLevels is measured against (issue 16: it must reach >= 0.9 of the best of them;
// it adopted the fastest, the four-row sweep). Every strategy takes encodeLevels' arguments and
// must give its bits exactly: test/js-encoders.test.ts checks that, and so does this file before
// timing. Plain JavaScript only: no wasm, no addon, no worker threads.
//   (a) columnCsa8     column-major CSA-8 tree on the row-major codebooks (the backend before)
//   (b) featureRipple  feature-major vertical counters in a typed array
//   (c) transposed16   column-interleaved codebooks, column-major CSA-16 tree
//   (d) transposedPair (c)'s layout, two rows per pass (CSA-8 each) sharing position loads
//   (e) sweep16        16-feature blocks swept across the columns, counts in per-column planes
//   (f) sweepPair      (e) on two rows per pass sharing position loads
//   (g) sweepQuad      (e) on four rows per pass
// Every implementation runs in turn, in a rotating order, for a slice of >= 0.2 s of this
// process's CPU time, N rounds per shape; speeds are embeddings per CPU-second (median and best
// round), and the backend's ratio to the fastest strategy is given per round too.
// Usage, after `npx tsc -p tsconfig.json`:
//   node bench/js-encoders.mjs [--rounds N] [--only sweepQuad,sweep16] [--json FILE]
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';

// ---------------------------------------------------------------------------------------------
// Binning, shared by the strategies (it is a few percent of the time). Two forms: numpy's edges
// walked from a division (the definition, as hdg_bin), and per-feature constants computed once per
// call with a multiplication for the first guess (as the native Binning/bin_one). Both end with
// the same comparisons against the same edges j * step + lo, which alone decide the bin, so both
// give the same bin for every finite value.

/** hdg_bin: numpy's clip(digitize(v, linspace(lo, hi, bins + 1)) - 1, 0, bins - 1). */
export function binOne(v, lo, hi, bins) {
  if (!(v >= lo)) return 0;
  if (v >= hi) return bins - 1;
  const step = (hi - lo) / bins;
  const c = (v - lo) / step;
  let j = !(c > 0) ? 0 : c >= bins - 1 ? bins - 1 : Math.floor(c);
  while (j > 0 && v < j * step + lo) j--;
  while (j + 1 < bins && v >= (j + 1) * step + lo) j++;
  return j;
}

/** Per-feature constants of the binning (the native Binning). */
function binning(lo, hi, features, bins) {
  const step = new Float64Array(features);
  const inv = new Float64Array(features);
  const flat = new Uint8Array(features);
  for (let f = 0; f < features; f++) {
    step[f] = (hi[f] - lo[f]) / bins;
    inv[f] = bins / (hi[f] - lo[f]);
    flat[f] = !(hi[f] > lo[f]) || !(step[f] > 0) ? 1 : 0;
  }
  return { lo, hi, step, inv, flat, bins };
}

/** Bins of row r into out[at + f] (times `scale`), with the constants of `b` (as bin_one). */
function binRow(x, r, features, b, out, at, scale) {
  const { lo, hi, step, inv, flat, bins } = b;
  const top = bins - 1;
  const base = r * features;
  for (let f = 0; f < features; f++) {
    const v = x[base + f];
    let j;
    if (flat[f] === 1) j = binOne(v, lo[f], hi[f], bins);
    else {
      const l = lo[f];
      const s = step[f];
      // NaN (an infinite range times 0) must give 0 too, hence no Math.max.
      const c = (v - l) * inv[f];
      j = !(c > 0) ? 0 : c >= top ? top : c | 0;
      while (j > 0 && v < j * s + l) j--;
      while (j + 1 < bins && v >= (j + 1) * s + l) j++;
      if (v >= hi[f]) j = top;
    }
    out[at + f] = j * scale;
  }
}

function firstBad(x, count) {
  for (let i = 0; i < count; i++) if (!Number.isFinite(x[i])) return i;
  return -1;
}

/** Planes above the four kept in locals (count bit q + 4), for counts up to `features`. */
function highPlanes(features) {
  let n = 0;
  while (features >>> 4 >= 2 ** n) n++;
  return n;
}

// The majority bit of each position: count > half, or count == half (even count) and the tie bit.
// Planes are ones..eights (bits 0..3) then high[hAt + q * hStride] (bit q + 4).
function decide(ones, twos, fours, eights, high, hAt, hStride, nhigh, half, tieWord) {
  let gt = 0;
  let eq = -1;
  for (let q = nhigh - 1; q >= 0; q--) {
    const c = high[hAt + q * hStride];
    if ((half >>> (q + 4)) & 1) eq &= c;
    else {
      gt |= eq & c;
      eq &= ~c;
    }
  }
  if (half & 8) eq &= eights;
  else {
    gt |= eq & eights;
    eq &= ~eights;
  }
  if (half & 4) eq &= fours;
  else {
    gt |= eq & fours;
    eq &= ~fours;
  }
  if (half & 2) eq &= twos;
  else {
    gt |= eq & twos;
    eq &= ~twos;
  }
  if (half & 1) eq &= ones;
  else {
    gt |= eq & ones;
    eq &= ~ones;
  }
  return gt | (eq & tieWord);
}

const i32 = (a) => new Int32Array(a.buffer, a.byteOffset, a.length);

// ---------------------------------------------------------------------------------------------
// (a) Column-major carry-save tree over the row-major codebooks, as the backend had it: for each
// 32-bit column, eight bound rows at a time through a CSA tree (ones, twos, fours in locals),
// eights rippled into an array. Plain bin(), one offsets[] entry per feature.

/** Strategy (a): column-major CSA-8 tree on row-major codebooks (the backend's former code). */
export function columnCsa8(x, n, features, lo, hi, bins, levels, _levelCount, positions, dim, tie, out) {
  const bad = firstBad(x, n * features);
  if (bad >= 0) return bad;
  const len = 2 * Math.ceil(dim / 64);
  const offsets = new Int32Array(features);
  const high = new Int32Array(32);
  const half = features >>> 1;
  const useTie = features % 2 === 0 && tie !== null;
  let nhigh = 0;
  while (features >>> 3 >= 2 ** nhigh) nhigh++;
  const f8 = features - (features % 8);
  for (let r = 0; r < n; r++) {
    for (let f = 0; f < features; f++) offsets[f] = binOne(x[r * features + f], lo[f], hi[f], bins) * len;
    for (let j = 0; j < len; j++) {
      let ones = 0;
      let twos = 0;
      let fours = 0;
      for (let q = 0; q < nhigh; q++) high[q] = 0;
      let f = 0;
      for (; f < f8; f += 8) {
        const p = f * len + j;
        const x0 = levels[offsets[f] + j] ^ positions[p];
        const x1 = levels[offsets[f + 1] + j] ^ positions[p + len];
        const x2 = levels[offsets[f + 2] + j] ^ positions[p + 2 * len];
        const x3 = levels[offsets[f + 3] + j] ^ positions[p + 3 * len];
        const x4 = levels[offsets[f + 4] + j] ^ positions[p + 4 * len];
        const x5 = levels[offsets[f + 5] + j] ^ positions[p + 5 * len];
        const x6 = levels[offsets[f + 6] + j] ^ positions[p + 6 * len];
        const x7 = levels[offsets[f + 7] + j] ^ positions[p + 7 * len];
        let u = ones ^ x0;
        const tA = (ones & x0) | (u & x1);
        ones = u ^ x1;
        u = ones ^ x2;
        const tB = (ones & x2) | (u & x3);
        ones = u ^ x3;
        u = twos ^ tA;
        const fA = (twos & tA) | (u & tB);
        twos = u ^ tB;
        u = ones ^ x4;
        const tC = (ones & x4) | (u & x5);
        ones = u ^ x5;
        u = ones ^ x6;
        const tD = (ones & x6) | (u & x7);
        ones = u ^ x7;
        u = twos ^ tC;
        const fB = (twos & tC) | (u & tD);
        twos = u ^ tD;
        u = fours ^ fA;
        let carry = (fours & fA) | (u & fB);
        fours = u ^ fB;
        for (let q = 0; carry !== 0; q++) {
          const h = high[q];
          high[q] = h ^ carry;
          carry &= h;
        }
      }
      for (; f < features; f++) {
        let carry = levels[offsets[f] + j] ^ positions[f * len + j];
        let c = ones & carry;
        ones ^= carry;
        carry = c;
        c = twos & carry;
        twos ^= carry;
        carry = c;
        c = fours & carry;
        fours ^= carry;
        carry = c;
        for (let q = 0; carry !== 0; q++) {
          const h = high[q];
          high[q] = h ^ carry;
          carry &= h;
        }
      }
      // high[0] is bit 3 here: decide() takes it as `eights` and the rest as its high planes.
      out[r * len + j] = decide(ones, twos, fours, high[0], high, 1, 1, nhigh - 1, half, useTie ? tie[j] : 0);
    }
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// (b) Feature-major vertical counters: one row's count planes for every column live in an
// Int32Array (plane p of column j at p * len + j); each feature's bound row is rippled into them
// across all columns, then every column is compared with half.

/** Strategy (b): feature-major bit-sliced vertical counters in a typed array. */
export function featureRipple(x, n, features, lo, hi, bins, levels, _levelCount, positions, dim, tie, out) {
  const bad = firstBad(x, n * features);
  if (bad >= 0) return bad;
  const len = 2 * Math.ceil(dim / 64);
  const L = i32(levels);
  const P = i32(positions);
  const b = binning(lo, hi, features, bins);
  const offsets = new Int32Array(features);
  let nplanes = 0;
  while (features >>> nplanes !== 0) nplanes++;
  const planes = new Int32Array((nplanes + 1) * len);
  const half = features >>> 1;
  const useTie = features % 2 === 0 && tie !== null;
  for (let r = 0; r < n; r++) {
    binRow(x, r, features, b, offsets, 0, len);
    planes.fill(0);
    for (let f = 0; f < features; f++) {
      const lb = offsets[f];
      const pb = f * len;
      for (let j = 0; j < len; j++) {
        let c = L[lb + j] ^ P[pb + j];
        for (let k = j; c !== 0; k += len) {
          const h = planes[k];
          planes[k] = h ^ c;
          c &= h;
        }
      }
    }
    for (let j = 0; j < len; j++) {
      let gt = 0;
      let eq = -1;
      for (let p = nplanes - 1; p >= 0; p--) {
        const c = planes[p * len + j];
        if ((half >>> p) & 1) eq &= c;
        else {
          gt |= eq & c;
          eq &= ~c;
        }
      }
      out[r * len + j] = gt | (useTie ? eq & tie[j] : 0);
    }
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// Column-interleaved copies of the codebooks, made once per call: word j of every level row (and
// of every position row) side by side, so one column's whole working set is a few hundred
// contiguous words and a bound word is T[j * rows + index].

function transpose(src, rows, len) {
  const t = new Int32Array(rows * len);
  for (let r = 0; r < rows; r++) {
    const s = r * len;
    for (let j = 0; j < len; j++) t[j * rows + r] = src[s + j];
  }
  return t;
}

// ---------------------------------------------------------------------------------------------
// (c) Transposed codebooks, column-major CSA-16: per column, sixteen bound rows through a
// carry-save tree into ones/twos/fours/eights (locals), sixteens rippled into a small array.

/** Strategy (c): column-interleaved codebooks, column-major CSA-16 tree. */
export function transposed16(x, n, features, lo, hi, bins, levels, _levelCount, positions, dim, tie, out) {
  const bad = firstBad(x, n * features);
  if (bad >= 0) return bad;
  const len = 2 * Math.ceil(dim / 64);
  const LT = transpose(levels, bins, len);
  const PT = transpose(positions, features, len);
  const b = binning(lo, hi, features, bins);
  const br = new Int32Array(features);
  const nhigh = highPlanes(features);
  const high = new Int32Array(nhigh + 1);
  const half = features >>> 1;
  const useTie = features % 2 === 0 && tie !== null;
  const f16 = features - (features % 16);
  for (let r = 0; r < n; r++) {
    binRow(x, r, features, b, br, 0, 1);
    for (let j = 0; j < len; j++) {
      const lj = j * bins;
      const pj = j * features;
      let ones = 0;
      let twos = 0;
      let fours = 0;
      let eights = 0;
      high.fill(0);
      let f = 0;
      for (; f < f16; f += 16) {
        const q = pj + f;
        let a = LT[lj + br[f]] ^ PT[q];
        let c = LT[lj + br[f + 1]] ^ PT[q + 1];
        let u = ones ^ a;
        let tA = (ones & a) | (u & c);
        ones = u ^ c;
        a = LT[lj + br[f + 2]] ^ PT[q + 2];
        c = LT[lj + br[f + 3]] ^ PT[q + 3];
        u = ones ^ a;
        let tB = (ones & a) | (u & c);
        ones = u ^ c;
        u = twos ^ tA;
        let fA = (twos & tA) | (u & tB);
        twos = u ^ tB;
        a = LT[lj + br[f + 4]] ^ PT[q + 4];
        c = LT[lj + br[f + 5]] ^ PT[q + 5];
        u = ones ^ a;
        tA = (ones & a) | (u & c);
        ones = u ^ c;
        a = LT[lj + br[f + 6]] ^ PT[q + 6];
        c = LT[lj + br[f + 7]] ^ PT[q + 7];
        u = ones ^ a;
        tB = (ones & a) | (u & c);
        ones = u ^ c;
        u = twos ^ tA;
        let fB = (twos & tA) | (u & tB);
        twos = u ^ tB;
        u = fours ^ fA;
        const eA = (fours & fA) | (u & fB);
        fours = u ^ fB;
        a = LT[lj + br[f + 8]] ^ PT[q + 8];
        c = LT[lj + br[f + 9]] ^ PT[q + 9];
        u = ones ^ a;
        tA = (ones & a) | (u & c);
        ones = u ^ c;
        a = LT[lj + br[f + 10]] ^ PT[q + 10];
        c = LT[lj + br[f + 11]] ^ PT[q + 11];
        u = ones ^ a;
        tB = (ones & a) | (u & c);
        ones = u ^ c;
        u = twos ^ tA;
        fA = (twos & tA) | (u & tB);
        twos = u ^ tB;
        a = LT[lj + br[f + 12]] ^ PT[q + 12];
        c = LT[lj + br[f + 13]] ^ PT[q + 13];
        u = ones ^ a;
        tA = (ones & a) | (u & c);
        ones = u ^ c;
        a = LT[lj + br[f + 14]] ^ PT[q + 14];
        c = LT[lj + br[f + 15]] ^ PT[q + 15];
        u = ones ^ a;
        tB = (ones & a) | (u & c);
        ones = u ^ c;
        u = twos ^ tA;
        fB = (twos & tA) | (u & tB);
        twos = u ^ tB;
        u = fours ^ fA;
        const eB = (fours & fA) | (u & fB);
        fours = u ^ fB;
        u = eights ^ eA;
        let carry = (eights & eA) | (u & eB);
        eights = u ^ eB;
        for (let k = 0; carry !== 0; k++) {
          const h = high[k];
          high[k] = h ^ carry;
          carry &= h;
        }
      }
      for (; f < features; f++) {
        let carry = LT[lj + br[f]] ^ PT[pj + f];
        let c = ones & carry;
        ones ^= carry;
        carry = c;
        c = twos & carry;
        twos ^= carry;
        carry = c;
        c = fours & carry;
        fours ^= carry;
        carry = c;
        c = eights & carry;
        eights ^= carry;
        carry = c;
        for (let k = 0; carry !== 0; k++) {
          const h = high[k];
          high[k] = h ^ carry;
          carry &= h;
        }
      }
      out[r * len + j] = decide(ones, twos, fours, eights, high, 0, 1, nhigh, half, useTie ? tie[j] : 0);
    }
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// (d) Transposed codebooks, two embeddings per pass: both rows' CSA-8 trees run side by side over
// the same column, so each position word is loaded once for two bound words.

/** Strategy (d): column-interleaved codebooks, two rows per pass sharing position loads. */
export function transposedPair(x, n, features, lo, hi, bins, levels, _levelCount, positions, dim, tie, out) {
  const bad = firstBad(x, n * features);
  if (bad >= 0) return bad;
  const len = 2 * Math.ceil(dim / 64);
  const LT = transpose(levels, bins, len);
  const PT = transpose(positions, features, len);
  const b = binning(lo, hi, features, bins);
  const br = new Int32Array(2 * features);
  let nhigh = 0;
  while (features >>> 3 >= 2 ** nhigh) nhigh++;
  const hA = new Int32Array(nhigh + 1);
  const hB = new Int32Array(nhigh + 1);
  const half = features >>> 1;
  const useTie = features % 2 === 0 && tie !== null;
  const f8 = features - (features % 8);
  for (let r = 0; r < n; r += 2) {
    const pair = r + 1 < n;
    binRow(x, r, features, b, br, 0, 1);
    // A lone last row pairs with itself; only its first result is stored.
    binRow(x, pair ? r + 1 : r, features, b, br, features, 1);
    for (let j = 0; j < len; j++) {
      const lj = j * bins;
      const pj = j * features;
      let o1 = 0;
      let o2 = 0;
      let o4 = 0;
      let e1 = 0;
      let e2 = 0;
      let e4 = 0;
      hA.fill(0);
      hB.fill(0);
      let f = 0;
      for (; f < f8; f += 8) {
        const q = pj + f;
        const g = features + f;
        let p = PT[q];
        let a = LT[lj + br[f]] ^ p;
        let d = LT[lj + br[g]] ^ p;
        p = PT[q + 1];
        let c = LT[lj + br[f + 1]] ^ p;
        let e = LT[lj + br[g + 1]] ^ p;
        let u = o1 ^ a;
        let tA = (o1 & a) | (u & c);
        o1 = u ^ c;
        u = e1 ^ d;
        let sA = (e1 & d) | (u & e);
        e1 = u ^ e;
        p = PT[q + 2];
        a = LT[lj + br[f + 2]] ^ p;
        d = LT[lj + br[g + 2]] ^ p;
        p = PT[q + 3];
        c = LT[lj + br[f + 3]] ^ p;
        e = LT[lj + br[g + 3]] ^ p;
        u = o1 ^ a;
        let tB = (o1 & a) | (u & c);
        o1 = u ^ c;
        u = e1 ^ d;
        let sB = (e1 & d) | (u & e);
        e1 = u ^ e;
        u = o2 ^ tA;
        const fA = (o2 & tA) | (u & tB);
        o2 = u ^ tB;
        u = e2 ^ sA;
        const gA = (e2 & sA) | (u & sB);
        e2 = u ^ sB;
        p = PT[q + 4];
        a = LT[lj + br[f + 4]] ^ p;
        d = LT[lj + br[g + 4]] ^ p;
        p = PT[q + 5];
        c = LT[lj + br[f + 5]] ^ p;
        e = LT[lj + br[g + 5]] ^ p;
        u = o1 ^ a;
        tA = (o1 & a) | (u & c);
        o1 = u ^ c;
        u = e1 ^ d;
        sA = (e1 & d) | (u & e);
        e1 = u ^ e;
        p = PT[q + 6];
        a = LT[lj + br[f + 6]] ^ p;
        d = LT[lj + br[g + 6]] ^ p;
        p = PT[q + 7];
        c = LT[lj + br[f + 7]] ^ p;
        e = LT[lj + br[g + 7]] ^ p;
        u = o1 ^ a;
        tB = (o1 & a) | (u & c);
        o1 = u ^ c;
        u = e1 ^ d;
        sB = (e1 & d) | (u & e);
        e1 = u ^ e;
        u = o2 ^ tA;
        const fB = (o2 & tA) | (u & tB);
        o2 = u ^ tB;
        u = e2 ^ sA;
        const gB = (e2 & sA) | (u & sB);
        e2 = u ^ sB;
        u = o4 ^ fA;
        let carry = (o4 & fA) | (u & fB);
        o4 = u ^ fB;
        for (let k = 0; carry !== 0; k++) {
          const h = hA[k];
          hA[k] = h ^ carry;
          carry &= h;
        }
        u = e4 ^ gA;
        carry = (e4 & gA) | (u & gB);
        e4 = u ^ gB;
        for (let k = 0; carry !== 0; k++) {
          const h = hB[k];
          hB[k] = h ^ carry;
          carry &= h;
        }
      }
      for (; f < features; f++) {
        const p = PT[pj + f];
        let carry = LT[lj + br[f]] ^ p;
        let c = o1 & carry;
        o1 ^= carry;
        carry = c;
        c = o2 & carry;
        o2 ^= carry;
        carry = c;
        c = o4 & carry;
        o4 ^= carry;
        carry = c;
        for (let k = 0; carry !== 0; k++) {
          const h = hA[k];
          hA[k] = h ^ carry;
          carry &= h;
        }
        carry = LT[lj + br[features + f]] ^ p;
        c = e1 & carry;
        e1 ^= carry;
        carry = c;
        c = e2 & carry;
        e2 ^= carry;
        carry = c;
        c = e4 & carry;
        e4 ^= carry;
        carry = c;
        for (let k = 0; carry !== 0; k++) {
          const h = hB[k];
          hB[k] = h ^ carry;
          carry &= h;
        }
      }
      const t = useTie ? tie[j] : 0;
      out[r * len + j] = decide(o1, o2, o4, hA[0], hA, 1, 1, nhigh - 1, half, t);
      if (pair) out[(r + 1) * len + j] = decide(e1, e2, e4, hB[0], hB, 1, 1, nhigh - 1, half, t);
    }
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// (e) Feature-blocked sweep: 16 features per pass over the columns. The 16 level-row offsets stay
// fixed for the pass (locals, no offsets[] lookup per word), position rows are copied once per
// call so a block's 16 words of a column are adjacent, and each column's count (ones, twos, fours,
// eights, then higher planes) sits in `stride` adjacent words of one Int32Array: the CSA-16 tree
// reads and writes four of them and ripples its sixteens into the rest. Features left over are
// padded to a block with features whose bound word is 0, or rippled in one at a time if few.

/**
 * Full 16-feature blocks, plus a last padded one when more than 5 features are left: those left
 * are then added in the block (a feature added alone costs about 2.5 in a block).
 */
function sweepBlocks(features) {
  return (features >>> 4) + ((features & 15) > 5 ? 1 : 0);
}

/**
 * Position rows of the blocks, interleaved: feature 16b + k, column j at (b * len + j) * 16 + k.
 * A padding feature's row is level row 0, the one its offset (0) selects: its bound word is 0.
 */
function blockPositions(positions, L, features, blocks, len) {
  const t = new Int32Array(blocks * 16 * len);
  for (let f = 0; f < blocks * 16; f++) {
    const to = (f >> 4) * 16 * len + (f & 15);
    const src = f < features ? positions : L;
    const from = f < features ? f * len : 0;
    for (let j = 0; j < len; j++) t[to + 16 * j] = src[from + j];
  }
  return t;
}

/** Bit planes a count up to `features` needs. */
function planeCount(features) {
  let n = 0;
  while (features >>> n !== 0) n++;
  return n;
}

/** One column's majority from its planes S[s], S[s + 1], ... (bit 0 first). */
function fromPlanes(S, s, nplanes, half, tieWord) {
  let gt = 0;
  let eq = -1;
  for (let p = nplanes - 1; p >= 0; p--) {
    const c = S[s + p];
    if ((half >>> p) & 1) eq &= c;
    else {
      gt |= eq & c;
      eq &= ~c;
    }
  }
  return gt | (eq & tieWord);
}

/** Adds bound rows of features [from, features) one at a time into the planes. */
function addSingles(L, positions, offsets, ob, from, features, len, S, so, stride) {
  for (let f = from; f < features; f++) {
    const lb = offsets[ob + f];
    const pb = f * len;
    for (let j = 0, s = so; j < len; j++, s += stride) {
      let carry = L[lb + j] ^ positions[pb + j];
      for (let k = s; carry !== 0; k++) {
        const h = S[k];
        S[k] = h ^ carry;
        carry &= h;
      }
    }
  }
}

/** Strategy (e): 16-feature blocks swept across the columns, counts in per-column planes. */
export function sweep16(x, n, features, lo, hi, bins, levels, _levelCount, positions, dim, tie, out) {
  const bad = firstBad(x, n * features);
  if (bad >= 0) return bad;
  const len = 2 * Math.ceil(dim / 64);
  const L = i32(levels);
  const blocks = sweepBlocks(features);
  const width = Math.max(features, blocks * 16);
  const P = blockPositions(positions, L, features, blocks, len);
  const b = binning(lo, hi, features, bins);
  const o = new Int32Array(width);
  const nplanes = planeCount(features);
  const stride = Math.max(4, nplanes);
  const S = new Int32Array(stride * len);
  const half = features >>> 1;
  const useTie = features % 2 === 0 && tie !== null;
  for (let r = 0; r < n; r++) {
    binRow(x, r, features, b, o, 0, len);
    S.fill(0);
    for (let blk = 0; blk < blocks; blk++) {
      const f = blk * 16;
      const l0 = o[f];
      const l1 = o[f + 1];
      const l2 = o[f + 2];
      const l3 = o[f + 3];
      const l4 = o[f + 4];
      const l5 = o[f + 5];
      const l6 = o[f + 6];
      const l7 = o[f + 7];
      const l8 = o[f + 8];
      const l9 = o[f + 9];
      const l10 = o[f + 10];
      const l11 = o[f + 11];
      const l12 = o[f + 12];
      const l13 = o[f + 13];
      const l14 = o[f + 14];
      const l15 = o[f + 15];
      for (let j = 0, q = f * len, s = 0; j < len; j++, q += 16, s += stride) {
        let ones = S[s];
        let twos = S[s + 1];
        let fours = S[s + 2];
        let eights = S[s + 3];
        let a;
        let c;
        let u;
        a = L[l0 + j] ^ P[q + 0];
        c = L[l1 + j] ^ P[q + 1];
        u = ones ^ a;
        let tA = (ones & a) | (u & c);
        ones = u ^ c;
        a = L[l2 + j] ^ P[q + 2];
        c = L[l3 + j] ^ P[q + 3];
        u = ones ^ a;
        let tB = (ones & a) | (u & c);
        ones = u ^ c;
        u = twos ^ tA;
        let fA = (twos & tA) | (u & tB);
        twos = u ^ tB;
        a = L[l4 + j] ^ P[q + 4];
        c = L[l5 + j] ^ P[q + 5];
        u = ones ^ a;
        tA = (ones & a) | (u & c);
        ones = u ^ c;
        a = L[l6 + j] ^ P[q + 6];
        c = L[l7 + j] ^ P[q + 7];
        u = ones ^ a;
        tB = (ones & a) | (u & c);
        ones = u ^ c;
        u = twos ^ tA;
        let fB = (twos & tA) | (u & tB);
        twos = u ^ tB;
        u = fours ^ fA;
        const eA = (fours & fA) | (u & fB);
        fours = u ^ fB;
        a = L[l8 + j] ^ P[q + 8];
        c = L[l9 + j] ^ P[q + 9];
        u = ones ^ a;
        tA = (ones & a) | (u & c);
        ones = u ^ c;
        a = L[l10 + j] ^ P[q + 10];
        c = L[l11 + j] ^ P[q + 11];
        u = ones ^ a;
        tB = (ones & a) | (u & c);
        ones = u ^ c;
        u = twos ^ tA;
        fA = (twos & tA) | (u & tB);
        twos = u ^ tB;
        a = L[l12 + j] ^ P[q + 12];
        c = L[l13 + j] ^ P[q + 13];
        u = ones ^ a;
        tA = (ones & a) | (u & c);
        ones = u ^ c;
        a = L[l14 + j] ^ P[q + 14];
        c = L[l15 + j] ^ P[q + 15];
        u = ones ^ a;
        tB = (ones & a) | (u & c);
        ones = u ^ c;
        u = twos ^ tA;
        fB = (twos & tA) | (u & tB);
        twos = u ^ tB;
        u = fours ^ fA;
        const eB = (fours & fA) | (u & fB);
        fours = u ^ fB;
        u = eights ^ eA;
        let carry = (eights & eA) | (u & eB);
        eights = u ^ eB;
        S[s] = ones;
        S[s + 1] = twos;
        S[s + 2] = fours;
        S[s + 3] = eights;
        for (let k = s + 4; carry !== 0; k++) {
          const h = S[k];
          S[k] = h ^ carry;
          carry &= h;
        }
      }
    }
    addSingles(L, positions, o, 0, blocks * 16, features, len, S, 0, stride);
    for (let j = 0; j < len; j++) {
      out[r * len + j] = fromPlanes(S, j * stride, nplanes, half, useTie ? tie[j] : 0);
    }
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// (f) The sweep of (e) over two embeddings at once: each position word is loaded once for two
// bound words; each embedding keeps its own planes.

/** Strategy (f): the 16-feature sweep on two rows per pass, sharing position loads. */
export function sweepPair(x, n, features, lo, hi, bins, levels, _levelCount, positions, dim, tie, out) {
  const bad = firstBad(x, n * features);
  if (bad >= 0) return bad;
  const len = 2 * Math.ceil(dim / 64);
  const L = i32(levels);
  const blocks = sweepBlocks(features);
  const width = Math.max(features, blocks * 16);
  const P = blockPositions(positions, L, features, blocks, len);
  const b = binning(lo, hi, features, bins);
  const o = new Int32Array(2 * width);
  const nplanes = planeCount(features);
  const stride = Math.max(4, nplanes);
  const S = new Int32Array(2 * stride * len);
  const sB = stride * len;
  const half = features >>> 1;
  const useTie = features % 2 === 0 && tie !== null;
  for (let r = 0; r < n; r += 2) {
    const pair = r + 1 < n;
    binRow(x, r, features, b, o, 0, len);
    // A lone last row is paired with itself; only its first result is stored.
    binRow(x, pair ? r + 1 : r, features, b, o, width, len);
    S.fill(0);
    for (let blk = 0; blk < blocks; blk++) {
      const f = blk * 16;
      const a0 = o[f];
      const a1 = o[f + 1];
      const a2 = o[f + 2];
      const a3 = o[f + 3];
      const a4 = o[f + 4];
      const a5 = o[f + 5];
      const a6 = o[f + 6];
      const a7 = o[f + 7];
      const a8 = o[f + 8];
      const a9 = o[f + 9];
      const a10 = o[f + 10];
      const a11 = o[f + 11];
      const a12 = o[f + 12];
      const a13 = o[f + 13];
      const a14 = o[f + 14];
      const a15 = o[f + 15];
      const b0 = o[width + f];
      const b1 = o[width + f + 1];
      const b2 = o[width + f + 2];
      const b3 = o[width + f + 3];
      const b4 = o[width + f + 4];
      const b5 = o[width + f + 5];
      const b6 = o[width + f + 6];
      const b7 = o[width + f + 7];
      const b8 = o[width + f + 8];
      const b9 = o[width + f + 9];
      const b10 = o[width + f + 10];
      const b11 = o[width + f + 11];
      const b12 = o[width + f + 12];
      const b13 = o[width + f + 13];
      const b14 = o[width + f + 14];
      const b15 = o[width + f + 15];
      for (let j = 0, q = f * len, s = 0; j < len; j++, q += 16, s += stride) {
        const p0 = P[q + 0];
        const p1 = P[q + 1];
        const p2 = P[q + 2];
        const p3 = P[q + 3];
        const p4 = P[q + 4];
        const p5 = P[q + 5];
        const p6 = P[q + 6];
        const p7 = P[q + 7];
        const p8 = P[q + 8];
        const p9 = P[q + 9];
        const p10 = P[q + 10];
        const p11 = P[q + 11];
        const p12 = P[q + 12];
        const p13 = P[q + 13];
        const p14 = P[q + 14];
        const p15 = P[q + 15];
        let a;
        let c;
        let u;
        let onesA = S[s];
        let twosA = S[s + 1];
        let foursA = S[s + 2];
        let eightsA = S[s + 3];
        a = L[a0 + j] ^ p0;
        c = L[a1 + j] ^ p1;
        u = onesA ^ a;
        let tAA = (onesA & a) | (u & c);
        onesA = u ^ c;
        a = L[a2 + j] ^ p2;
        c = L[a3 + j] ^ p3;
        u = onesA ^ a;
        let tBA = (onesA & a) | (u & c);
        onesA = u ^ c;
        u = twosA ^ tAA;
        let fAA = (twosA & tAA) | (u & tBA);
        twosA = u ^ tBA;
        a = L[a4 + j] ^ p4;
        c = L[a5 + j] ^ p5;
        u = onesA ^ a;
        tAA = (onesA & a) | (u & c);
        onesA = u ^ c;
        a = L[a6 + j] ^ p6;
        c = L[a7 + j] ^ p7;
        u = onesA ^ a;
        tBA = (onesA & a) | (u & c);
        onesA = u ^ c;
        u = twosA ^ tAA;
        let fBA = (twosA & tAA) | (u & tBA);
        twosA = u ^ tBA;
        u = foursA ^ fAA;
        const eAA = (foursA & fAA) | (u & fBA);
        foursA = u ^ fBA;
        a = L[a8 + j] ^ p8;
        c = L[a9 + j] ^ p9;
        u = onesA ^ a;
        tAA = (onesA & a) | (u & c);
        onesA = u ^ c;
        a = L[a10 + j] ^ p10;
        c = L[a11 + j] ^ p11;
        u = onesA ^ a;
        tBA = (onesA & a) | (u & c);
        onesA = u ^ c;
        u = twosA ^ tAA;
        fAA = (twosA & tAA) | (u & tBA);
        twosA = u ^ tBA;
        a = L[a12 + j] ^ p12;
        c = L[a13 + j] ^ p13;
        u = onesA ^ a;
        tAA = (onesA & a) | (u & c);
        onesA = u ^ c;
        a = L[a14 + j] ^ p14;
        c = L[a15 + j] ^ p15;
        u = onesA ^ a;
        tBA = (onesA & a) | (u & c);
        onesA = u ^ c;
        u = twosA ^ tAA;
        fBA = (twosA & tAA) | (u & tBA);
        twosA = u ^ tBA;
        u = foursA ^ fAA;
        const eBA = (foursA & fAA) | (u & fBA);
        foursA = u ^ fBA;
        u = eightsA ^ eAA;
        let carryA = (eightsA & eAA) | (u & eBA);
        eightsA = u ^ eBA;
        S[s] = onesA;
        S[s + 1] = twosA;
        S[s + 2] = foursA;
        S[s + 3] = eightsA;
        for (let k = s + 4; carryA !== 0; k++) {
          const h = S[k];
          S[k] = h ^ carryA;
          carryA &= h;
        }
        const t = sB + s;
        let onesB = S[t];
        let twosB = S[t + 1];
        let foursB = S[t + 2];
        let eightsB = S[t + 3];
        a = L[b0 + j] ^ p0;
        c = L[b1 + j] ^ p1;
        u = onesB ^ a;
        let tAB = (onesB & a) | (u & c);
        onesB = u ^ c;
        a = L[b2 + j] ^ p2;
        c = L[b3 + j] ^ p3;
        u = onesB ^ a;
        let tBB = (onesB & a) | (u & c);
        onesB = u ^ c;
        u = twosB ^ tAB;
        let fAB = (twosB & tAB) | (u & tBB);
        twosB = u ^ tBB;
        a = L[b4 + j] ^ p4;
        c = L[b5 + j] ^ p5;
        u = onesB ^ a;
        tAB = (onesB & a) | (u & c);
        onesB = u ^ c;
        a = L[b6 + j] ^ p6;
        c = L[b7 + j] ^ p7;
        u = onesB ^ a;
        tBB = (onesB & a) | (u & c);
        onesB = u ^ c;
        u = twosB ^ tAB;
        let fBB = (twosB & tAB) | (u & tBB);
        twosB = u ^ tBB;
        u = foursB ^ fAB;
        const eAB = (foursB & fAB) | (u & fBB);
        foursB = u ^ fBB;
        a = L[b8 + j] ^ p8;
        c = L[b9 + j] ^ p9;
        u = onesB ^ a;
        tAB = (onesB & a) | (u & c);
        onesB = u ^ c;
        a = L[b10 + j] ^ p10;
        c = L[b11 + j] ^ p11;
        u = onesB ^ a;
        tBB = (onesB & a) | (u & c);
        onesB = u ^ c;
        u = twosB ^ tAB;
        fAB = (twosB & tAB) | (u & tBB);
        twosB = u ^ tBB;
        a = L[b12 + j] ^ p12;
        c = L[b13 + j] ^ p13;
        u = onesB ^ a;
        tAB = (onesB & a) | (u & c);
        onesB = u ^ c;
        a = L[b14 + j] ^ p14;
        c = L[b15 + j] ^ p15;
        u = onesB ^ a;
        tBB = (onesB & a) | (u & c);
        onesB = u ^ c;
        u = twosB ^ tAB;
        fBB = (twosB & tAB) | (u & tBB);
        twosB = u ^ tBB;
        u = foursB ^ fAB;
        const eBB = (foursB & fAB) | (u & fBB);
        foursB = u ^ fBB;
        u = eightsB ^ eAB;
        let carryB = (eightsB & eAB) | (u & eBB);
        eightsB = u ^ eBB;
        S[t] = onesB;
        S[t + 1] = twosB;
        S[t + 2] = foursB;
        S[t + 3] = eightsB;
        for (let k = t + 4; carryB !== 0; k++) {
          const h = S[k];
          S[k] = h ^ carryB;
          carryB &= h;
        }
      }
    }
    addSingles(L, positions, o, 0, blocks * 16, features, len, S, 0, stride);
    addSingles(L, positions, o, width, blocks * 16, features, len, S, sB, stride);
    for (let j = 0; j < len; j++) {
      const tw = useTie ? tie[j] : 0;
      out[r * len + j] = fromPlanes(S, j * stride, nplanes, half, tw);
      if (pair) out[(r + 1) * len + j] = fromPlanes(S, sB + j * stride, nplanes, half, tw);
    }
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// (g) The sweep of (e) over four embeddings at once: each position word is loaded once for four
// bound words. A batch's last rows (fewer than four) are padded with copies of its last row,
// whose results are not stored.

/** Strategy (g): the 16-feature sweep on four rows per pass, sharing position loads. */
export function sweepQuad(x, n, features, lo, hi, bins, levels, _levelCount, positions, dim, tie, out) {
  const bad = firstBad(x, n * features);
  if (bad >= 0) return bad;
  const len = 2 * Math.ceil(dim / 64);
  const L = i32(levels);
  const blocks = sweepBlocks(features);
  const width = Math.max(features, blocks * 16);
  const P = blockPositions(positions, L, features, blocks, len);
  const b = binning(lo, hi, features, bins);
  const o = new Int32Array(4 * width);
  const nplanes = planeCount(features);
  const stride = Math.max(4, nplanes);
  const other = stride * len;
  const S = new Int32Array(4 * other);
  const half = features >>> 1;
  const useTie = features % 2 === 0 && tie !== null;
  for (let r = 0; r < n; r += 4) {
    const m = Math.min(4, n - r);
    for (let k = 0; k < 4; k++) binRow(x, r + Math.min(k, m - 1), features, b, o, k * width, len);
    S.fill(0);
    for (let blk = 0; blk < blocks; blk++) {
      const f = blk * 16;
      const a0 = o[f];
      const a1 = o[f + 1];
      const a2 = o[f + 2];
      const a3 = o[f + 3];
      const a4 = o[f + 4];
      const a5 = o[f + 5];
      const a6 = o[f + 6];
      const a7 = o[f + 7];
      const a8 = o[f + 8];
      const a9 = o[f + 9];
      const a10 = o[f + 10];
      const a11 = o[f + 11];
      const a12 = o[f + 12];
      const a13 = o[f + 13];
      const a14 = o[f + 14];
      const a15 = o[f + 15];
      const b0 = o[1 * width + f];
      const b1 = o[1 * width + f + 1];
      const b2 = o[1 * width + f + 2];
      const b3 = o[1 * width + f + 3];
      const b4 = o[1 * width + f + 4];
      const b5 = o[1 * width + f + 5];
      const b6 = o[1 * width + f + 6];
      const b7 = o[1 * width + f + 7];
      const b8 = o[1 * width + f + 8];
      const b9 = o[1 * width + f + 9];
      const b10 = o[1 * width + f + 10];
      const b11 = o[1 * width + f + 11];
      const b12 = o[1 * width + f + 12];
      const b13 = o[1 * width + f + 13];
      const b14 = o[1 * width + f + 14];
      const b15 = o[1 * width + f + 15];
      const c0 = o[2 * width + f];
      const c1 = o[2 * width + f + 1];
      const c2 = o[2 * width + f + 2];
      const c3 = o[2 * width + f + 3];
      const c4 = o[2 * width + f + 4];
      const c5 = o[2 * width + f + 5];
      const c6 = o[2 * width + f + 6];
      const c7 = o[2 * width + f + 7];
      const c8 = o[2 * width + f + 8];
      const c9 = o[2 * width + f + 9];
      const c10 = o[2 * width + f + 10];
      const c11 = o[2 * width + f + 11];
      const c12 = o[2 * width + f + 12];
      const c13 = o[2 * width + f + 13];
      const c14 = o[2 * width + f + 14];
      const c15 = o[2 * width + f + 15];
      const d0 = o[3 * width + f];
      const d1 = o[3 * width + f + 1];
      const d2 = o[3 * width + f + 2];
      const d3 = o[3 * width + f + 3];
      const d4 = o[3 * width + f + 4];
      const d5 = o[3 * width + f + 5];
      const d6 = o[3 * width + f + 6];
      const d7 = o[3 * width + f + 7];
      const d8 = o[3 * width + f + 8];
      const d9 = o[3 * width + f + 9];
      const d10 = o[3 * width + f + 10];
      const d11 = o[3 * width + f + 11];
      const d12 = o[3 * width + f + 12];
      const d13 = o[3 * width + f + 13];
      const d14 = o[3 * width + f + 14];
      const d15 = o[3 * width + f + 15];
      for (let j = 0, q = f * len, s = 0; j < len; j++, q += 16, s += stride) {
        const p0 = P[q + 0];
        const p1 = P[q + 1];
        const p2 = P[q + 2];
        const p3 = P[q + 3];
        const p4 = P[q + 4];
        const p5 = P[q + 5];
        const p6 = P[q + 6];
        const p7 = P[q + 7];
        const p8 = P[q + 8];
        const p9 = P[q + 9];
        const p10 = P[q + 10];
        const p11 = P[q + 11];
        const p12 = P[q + 12];
        const p13 = P[q + 13];
        const p14 = P[q + 14];
        const p15 = P[q + 15];
        let a;
        let c;
        let u;
        let onesA = S[s];
        let twosA = S[s + 1];
        let foursA = S[s + 2];
        let eightsA = S[s + 3];
        a = L[a0 + j] ^ p0;
        c = L[a1 + j] ^ p1;
        u = onesA ^ a;
        let tAA = (onesA & a) | (u & c);
        onesA = u ^ c;
        a = L[a2 + j] ^ p2;
        c = L[a3 + j] ^ p3;
        u = onesA ^ a;
        let tBA = (onesA & a) | (u & c);
        onesA = u ^ c;
        u = twosA ^ tAA;
        let fAA = (twosA & tAA) | (u & tBA);
        twosA = u ^ tBA;
        a = L[a4 + j] ^ p4;
        c = L[a5 + j] ^ p5;
        u = onesA ^ a;
        tAA = (onesA & a) | (u & c);
        onesA = u ^ c;
        a = L[a6 + j] ^ p6;
        c = L[a7 + j] ^ p7;
        u = onesA ^ a;
        tBA = (onesA & a) | (u & c);
        onesA = u ^ c;
        u = twosA ^ tAA;
        let fBA = (twosA & tAA) | (u & tBA);
        twosA = u ^ tBA;
        u = foursA ^ fAA;
        const eAA = (foursA & fAA) | (u & fBA);
        foursA = u ^ fBA;
        a = L[a8 + j] ^ p8;
        c = L[a9 + j] ^ p9;
        u = onesA ^ a;
        tAA = (onesA & a) | (u & c);
        onesA = u ^ c;
        a = L[a10 + j] ^ p10;
        c = L[a11 + j] ^ p11;
        u = onesA ^ a;
        tBA = (onesA & a) | (u & c);
        onesA = u ^ c;
        u = twosA ^ tAA;
        fAA = (twosA & tAA) | (u & tBA);
        twosA = u ^ tBA;
        a = L[a12 + j] ^ p12;
        c = L[a13 + j] ^ p13;
        u = onesA ^ a;
        tAA = (onesA & a) | (u & c);
        onesA = u ^ c;
        a = L[a14 + j] ^ p14;
        c = L[a15 + j] ^ p15;
        u = onesA ^ a;
        tBA = (onesA & a) | (u & c);
        onesA = u ^ c;
        u = twosA ^ tAA;
        fBA = (twosA & tAA) | (u & tBA);
        twosA = u ^ tBA;
        u = foursA ^ fAA;
        const eBA = (foursA & fAA) | (u & fBA);
        foursA = u ^ fBA;
        u = eightsA ^ eAA;
        let carryA = (eightsA & eAA) | (u & eBA);
        eightsA = u ^ eBA;
        S[s] = onesA;
        S[s + 1] = twosA;
        S[s + 2] = foursA;
        S[s + 3] = eightsA;
        for (let k = s + 4; carryA !== 0; k++) {
          const h = S[k];
          S[k] = h ^ carryA;
          carryA &= h;
        }
        const sB = s + 1 * other;
        let onesB = S[sB];
        let twosB = S[sB + 1];
        let foursB = S[sB + 2];
        let eightsB = S[sB + 3];
        a = L[b0 + j] ^ p0;
        c = L[b1 + j] ^ p1;
        u = onesB ^ a;
        let tAB = (onesB & a) | (u & c);
        onesB = u ^ c;
        a = L[b2 + j] ^ p2;
        c = L[b3 + j] ^ p3;
        u = onesB ^ a;
        let tBB = (onesB & a) | (u & c);
        onesB = u ^ c;
        u = twosB ^ tAB;
        let fAB = (twosB & tAB) | (u & tBB);
        twosB = u ^ tBB;
        a = L[b4 + j] ^ p4;
        c = L[b5 + j] ^ p5;
        u = onesB ^ a;
        tAB = (onesB & a) | (u & c);
        onesB = u ^ c;
        a = L[b6 + j] ^ p6;
        c = L[b7 + j] ^ p7;
        u = onesB ^ a;
        tBB = (onesB & a) | (u & c);
        onesB = u ^ c;
        u = twosB ^ tAB;
        let fBB = (twosB & tAB) | (u & tBB);
        twosB = u ^ tBB;
        u = foursB ^ fAB;
        const eAB = (foursB & fAB) | (u & fBB);
        foursB = u ^ fBB;
        a = L[b8 + j] ^ p8;
        c = L[b9 + j] ^ p9;
        u = onesB ^ a;
        tAB = (onesB & a) | (u & c);
        onesB = u ^ c;
        a = L[b10 + j] ^ p10;
        c = L[b11 + j] ^ p11;
        u = onesB ^ a;
        tBB = (onesB & a) | (u & c);
        onesB = u ^ c;
        u = twosB ^ tAB;
        fAB = (twosB & tAB) | (u & tBB);
        twosB = u ^ tBB;
        a = L[b12 + j] ^ p12;
        c = L[b13 + j] ^ p13;
        u = onesB ^ a;
        tAB = (onesB & a) | (u & c);
        onesB = u ^ c;
        a = L[b14 + j] ^ p14;
        c = L[b15 + j] ^ p15;
        u = onesB ^ a;
        tBB = (onesB & a) | (u & c);
        onesB = u ^ c;
        u = twosB ^ tAB;
        fBB = (twosB & tAB) | (u & tBB);
        twosB = u ^ tBB;
        u = foursB ^ fAB;
        const eBB = (foursB & fAB) | (u & fBB);
        foursB = u ^ fBB;
        u = eightsB ^ eAB;
        let carryB = (eightsB & eAB) | (u & eBB);
        eightsB = u ^ eBB;
        S[sB] = onesB;
        S[sB + 1] = twosB;
        S[sB + 2] = foursB;
        S[sB + 3] = eightsB;
        for (let k = sB + 4; carryB !== 0; k++) {
          const h = S[k];
          S[k] = h ^ carryB;
          carryB &= h;
        }
        const sC = s + 2 * other;
        let onesC = S[sC];
        let twosC = S[sC + 1];
        let foursC = S[sC + 2];
        let eightsC = S[sC + 3];
        a = L[c0 + j] ^ p0;
        c = L[c1 + j] ^ p1;
        u = onesC ^ a;
        let tAC = (onesC & a) | (u & c);
        onesC = u ^ c;
        a = L[c2 + j] ^ p2;
        c = L[c3 + j] ^ p3;
        u = onesC ^ a;
        let tBC = (onesC & a) | (u & c);
        onesC = u ^ c;
        u = twosC ^ tAC;
        let fAC = (twosC & tAC) | (u & tBC);
        twosC = u ^ tBC;
        a = L[c4 + j] ^ p4;
        c = L[c5 + j] ^ p5;
        u = onesC ^ a;
        tAC = (onesC & a) | (u & c);
        onesC = u ^ c;
        a = L[c6 + j] ^ p6;
        c = L[c7 + j] ^ p7;
        u = onesC ^ a;
        tBC = (onesC & a) | (u & c);
        onesC = u ^ c;
        u = twosC ^ tAC;
        let fBC = (twosC & tAC) | (u & tBC);
        twosC = u ^ tBC;
        u = foursC ^ fAC;
        const eAC = (foursC & fAC) | (u & fBC);
        foursC = u ^ fBC;
        a = L[c8 + j] ^ p8;
        c = L[c9 + j] ^ p9;
        u = onesC ^ a;
        tAC = (onesC & a) | (u & c);
        onesC = u ^ c;
        a = L[c10 + j] ^ p10;
        c = L[c11 + j] ^ p11;
        u = onesC ^ a;
        tBC = (onesC & a) | (u & c);
        onesC = u ^ c;
        u = twosC ^ tAC;
        fAC = (twosC & tAC) | (u & tBC);
        twosC = u ^ tBC;
        a = L[c12 + j] ^ p12;
        c = L[c13 + j] ^ p13;
        u = onesC ^ a;
        tAC = (onesC & a) | (u & c);
        onesC = u ^ c;
        a = L[c14 + j] ^ p14;
        c = L[c15 + j] ^ p15;
        u = onesC ^ a;
        tBC = (onesC & a) | (u & c);
        onesC = u ^ c;
        u = twosC ^ tAC;
        fBC = (twosC & tAC) | (u & tBC);
        twosC = u ^ tBC;
        u = foursC ^ fAC;
        const eBC = (foursC & fAC) | (u & fBC);
        foursC = u ^ fBC;
        u = eightsC ^ eAC;
        let carryC = (eightsC & eAC) | (u & eBC);
        eightsC = u ^ eBC;
        S[sC] = onesC;
        S[sC + 1] = twosC;
        S[sC + 2] = foursC;
        S[sC + 3] = eightsC;
        for (let k = sC + 4; carryC !== 0; k++) {
          const h = S[k];
          S[k] = h ^ carryC;
          carryC &= h;
        }
        const sD = s + 3 * other;
        let onesD = S[sD];
        let twosD = S[sD + 1];
        let foursD = S[sD + 2];
        let eightsD = S[sD + 3];
        a = L[d0 + j] ^ p0;
        c = L[d1 + j] ^ p1;
        u = onesD ^ a;
        let tAD = (onesD & a) | (u & c);
        onesD = u ^ c;
        a = L[d2 + j] ^ p2;
        c = L[d3 + j] ^ p3;
        u = onesD ^ a;
        let tBD = (onesD & a) | (u & c);
        onesD = u ^ c;
        u = twosD ^ tAD;
        let fAD = (twosD & tAD) | (u & tBD);
        twosD = u ^ tBD;
        a = L[d4 + j] ^ p4;
        c = L[d5 + j] ^ p5;
        u = onesD ^ a;
        tAD = (onesD & a) | (u & c);
        onesD = u ^ c;
        a = L[d6 + j] ^ p6;
        c = L[d7 + j] ^ p7;
        u = onesD ^ a;
        tBD = (onesD & a) | (u & c);
        onesD = u ^ c;
        u = twosD ^ tAD;
        let fBD = (twosD & tAD) | (u & tBD);
        twosD = u ^ tBD;
        u = foursD ^ fAD;
        const eAD = (foursD & fAD) | (u & fBD);
        foursD = u ^ fBD;
        a = L[d8 + j] ^ p8;
        c = L[d9 + j] ^ p9;
        u = onesD ^ a;
        tAD = (onesD & a) | (u & c);
        onesD = u ^ c;
        a = L[d10 + j] ^ p10;
        c = L[d11 + j] ^ p11;
        u = onesD ^ a;
        tBD = (onesD & a) | (u & c);
        onesD = u ^ c;
        u = twosD ^ tAD;
        fAD = (twosD & tAD) | (u & tBD);
        twosD = u ^ tBD;
        a = L[d12 + j] ^ p12;
        c = L[d13 + j] ^ p13;
        u = onesD ^ a;
        tAD = (onesD & a) | (u & c);
        onesD = u ^ c;
        a = L[d14 + j] ^ p14;
        c = L[d15 + j] ^ p15;
        u = onesD ^ a;
        tBD = (onesD & a) | (u & c);
        onesD = u ^ c;
        u = twosD ^ tAD;
        fBD = (twosD & tAD) | (u & tBD);
        twosD = u ^ tBD;
        u = foursD ^ fAD;
        const eBD = (foursD & fAD) | (u & fBD);
        foursD = u ^ fBD;
        u = eightsD ^ eAD;
        let carryD = (eightsD & eAD) | (u & eBD);
        eightsD = u ^ eBD;
        S[sD] = onesD;
        S[sD + 1] = twosD;
        S[sD + 2] = foursD;
        S[sD + 3] = eightsD;
        for (let k = sD + 4; carryD !== 0; k++) {
          const h = S[k];
          S[k] = h ^ carryD;
          carryD &= h;
        }
      }
    }
    for (let k = 0; k < m; k++) {
      addSingles(L, positions, o, k * width, blocks * 16, features, len, S, k * other, stride);
      for (let j = 0; j < len; j++) {
        out[(r + k) * len + j] = fromPlanes(S, k * other + j * stride, nplanes, half, useTie ? tie[j] : 0);
      }
    }
  }
  return -1;
}

/** Every strategy, by name. */
export const STRATEGIES = { columnCsa8, featureRipple, transposed16, transposedPair, sweep16, sweepPair, sweepQuad };

// ---------------------------------------------------------------------------------------------
// The benchmark.

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Inputs of one benchmark shape, built with the library's own codebooks. */
export async function makeShape({ features, dim, bins, rows }) {
  const h = await import(join(root, 'dist/index.js'));
  const enc = new h.EmbeddingEncoder({ features, dim, bins, levels: 'level', seed: 1 });
  const x = new Float32Array(rows * features);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.37) * 1.1;
  return {
    x,
    n: rows,
    features,
    lo: enc.lo,
    hi: enc.hi,
    bins,
    levels: enc.levelVectors.data,
    levelCount: bins,
    positions: enc.positionVectors.data,
    dim,
    tie: h.tieBreaker(dim, { seed: 1 }).data,
    out: new Uint32Array(rows * 2 * Math.ceil(dim / 64)),
  };
}

function call(fn, s) {
  return fn(s.x, s.n, s.features, s.lo, s.hi, s.bins, s.levels, s.levelCount, s.positions, s.dim, s.tie, s.out);
}

async function main() {
  const args = process.argv.slice(2);
  const opt = (name, d) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : d;
  };
  const rounds = Number(opt('--rounds', '7'));
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc');
  const jsonFile = opt('--json');
  const { jsBackend } = await import(join(root, 'dist/backend/index.js'));
  // --only a,b: time the backend and these strategies alone (all are still checked).
  const only = opt('--only')?.split(',');
  const timed = Object.entries(STRATEGIES).filter(([k]) => !only || only.includes(k));
  const impls = { backend: jsBackend.encodeLevels, ...Object.fromEntries(timed) };
  const shapes = [
    { name: 'D10000 F128 bins100', features: 128, dim: 10000, bins: 100, rows: 256 },
    { name: 'D4096 F64 bins100', features: 64, dim: 4096, bins: 100, rows: 256 },
    { name: 'D10000 F77 bins50', features: 77, dim: 10000, bins: 50, rows: 256 },
    { name: 'D10000 F128 bins100', features: 128, dim: 10000, bins: 100, rows: 1 },
  ];
  const cpu = `${os.cpus()[0]?.model ?? 'unknown'} (${os.arch()})`;
  console.log(`node ${process.version}, ${cpu}, ${os.cpus().length} CPUs; ${rounds} alternating rounds`);
  const records = [];
  for (const shape of shapes) {
    const s = await makeShape(shape);
    // Same bits as the backend before any timing.
    const expected = s.out.slice();
    call(jsBackend.encodeLevels, s);
    expected.set(s.out);
    for (const [name, fn] of Object.entries(STRATEGIES)) {
      s.out.fill(0);
      if (call(fn, s) !== -1 || s.out.some((v, i) => v !== expected[i]))
        throw new Error(`${name} differs on ${shape.name}`);
    }
    const names = Object.keys(impls);
    const samples = Object.fromEntries(names.map((k) => [k, []]));
    for (const fn of Object.values(impls)) call(fn, s); // warm-up
    for (let round = 0; round < rounds; round++) {
      // Rotate the order each round so no implementation always runs first.
      for (let i = 0; i < names.length; i++) {
        const name = names[(i + round) % names.length];
        const fn = impls[name];
        // CPU time of this process, not wall time: the machine is shared, and time spent
        // descheduled is not the encoder's. Single-threaded code, so process time is its time.
        // Garbage left by the previous implementation is collected now, and one untimed call
        // lets the collector's background threads finish (process CPU time counts them too):
        // otherwise whatever runs after the most wasteful implementation pays for its garbage.
        gc();
        call(fn, s);
        const c0 = process.cpuUsage();
        let calls = 0;
        let us = 0;
        while (calls < 3 || us < 2e5) {
          call(fn, s);
          calls++;
          const c = process.cpuUsage(c0);
          us = c.user + c.system;
        }
        samples[name].push((calls * s.n) / (us / 1e6));
      }
    }
    const median = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];
    console.log(
      `\n${shape.name}, ${shape.rows} rows per call (embeddings per CPU-second: median, max of ${rounds} rounds)`,
    );
    const med = Object.fromEntries(names.map((k) => [k, median(samples[k])]));
    for (const k of names) {
      console.log(
        `  ${k.padEnd(16)} ${med[k].toFixed(0).padStart(8)}  ${Math.max(...samples[k])
          .toFixed(0)
          .padStart(8)}`,
      );
      records.push({ shape: shape.name, impl: k, perSecond: med[k], unit: 'embeddings/s' });
    }
    const top = names.filter((k) => k !== 'backend').reduce((p, q) => (med[q] > med[p] ? q : p));
    // Per-round ratios too (both ran within the same round, under its machine load), and the
    // ratio of the best rounds (interference only ever slows a round down).
    const per = samples.backend.map((v, i) => v / samples[top][i]);
    const bestRatio = Math.max(...samples.backend) / Math.max(...samples[top]);
    console.log(
      `  backend / best strategy (${top}): ${(med.backend / med[top]).toFixed(3)} (medians), ` +
        `${median(per).toFixed(3)} (median of per-round ratios: ${per.map((v) => v.toFixed(2)).join(' ')}), ` +
        `${bestRatio.toFixed(3)} (best rounds)`,
    );
    records.push({ shape: shape.name, ratio: med.backend / med[top], bestRatio, best: top, perRound: per });
  }
  if (jsonFile) writeFileSync(jsonFile, `${JSON.stringify({ node: process.version, cpu, records }, null, 2)}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
