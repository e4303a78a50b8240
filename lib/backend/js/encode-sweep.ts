/**
 * The level encoder's block sweeps, unrolled: one pass over the columns adds 16 features of one
 * embedding ({@link sweepOne}) or of two ({@link sweepTwo}) into their count planes; four are
 * in encode-sweep-four.ts. Used by majorityRows (encode-levels.ts), which describes the layouts.
 *
 * Unrolled by hand: V8 keeps a block's level-row offsets out of the column loop only when they
 * are named locals; read from an array they cost one more bounds-checked load per bound word,
 * which was clearly slower when tried for bench/js-encoders.mjs.
 * @internal
 */

/**
 * Adds a block of 16 features of one embedding into its planes S[s0 + stride * j + p]: L the level
 * rows, offsets[g + k] the level-row offset of the block's feature k, P[p0 + k * len + j] its
 * position word j.
 */
export function sweepOne(
  L: Int32Array,
  P: Int32Array,
  offsets: Int32Array,
  g: number,
  p0: number,
  len: number,
  S: Int32Array,
  s0: number,
  stride: number,
): void {
  const l0 = offsets[g]!;
  const l1 = offsets[g + 1]!;
  const l2 = offsets[g + 2]!;
  const l3 = offsets[g + 3]!;
  const l4 = offsets[g + 4]!;
  const l5 = offsets[g + 5]!;
  const l6 = offsets[g + 6]!;
  const l7 = offsets[g + 7]!;
  const l8 = offsets[g + 8]!;
  const l9 = offsets[g + 9]!;
  const l10 = offsets[g + 10]!;
  const l11 = offsets[g + 11]!;
  const l12 = offsets[g + 12]!;
  const l13 = offsets[g + 13]!;
  const l14 = offsets[g + 14]!;
  const l15 = offsets[g + 15]!;
  const r0 = p0;
  const r1 = p0 + len;
  const r2 = p0 + 2 * len;
  const r3 = p0 + 3 * len;
  const r4 = p0 + 4 * len;
  const r5 = p0 + 5 * len;
  const r6 = p0 + 6 * len;
  const r7 = p0 + 7 * len;
  const r8 = p0 + 8 * len;
  const r9 = p0 + 9 * len;
  const r10 = p0 + 10 * len;
  const r11 = p0 + 11 * len;
  const r12 = p0 + 12 * len;
  const r13 = p0 + 13 * len;
  const r14 = p0 + 14 * len;
  const r15 = p0 + 15 * len;
  for (let j = 0, s = s0; j < len; j++, s += stride) {
    let ones = S[s]!;
    let twos = S[s + 1]!;
    let fours = S[s + 2]!;
    let eights = S[s + 3]!;
    let x: number;
    let y: number;
    let u: number;
    // Carry-save adds: acc + x + y is (carry, sum) = ((acc & x) | (u & y), u ^ y), u = acc ^ x.
    x = L[l0 + j]! ^ P[r0 + j]!;
    y = L[l1 + j]! ^ P[r1 + j]!;
    u = ones ^ x;
    let tA = (ones & x) | (u & y);
    ones = u ^ y;
    x = L[l2 + j]! ^ P[r2 + j]!;
    y = L[l3 + j]! ^ P[r3 + j]!;
    u = ones ^ x;
    let tB = (ones & x) | (u & y);
    ones = u ^ y;
    u = twos ^ tA;
    let fA = (twos & tA) | (u & tB);
    twos = u ^ tB;
    x = L[l4 + j]! ^ P[r4 + j]!;
    y = L[l5 + j]! ^ P[r5 + j]!;
    u = ones ^ x;
    tA = (ones & x) | (u & y);
    ones = u ^ y;
    x = L[l6 + j]! ^ P[r6 + j]!;
    y = L[l7 + j]! ^ P[r7 + j]!;
    u = ones ^ x;
    tB = (ones & x) | (u & y);
    ones = u ^ y;
    u = twos ^ tA;
    let fB = (twos & tA) | (u & tB);
    twos = u ^ tB;
    u = fours ^ fA;
    const eA = (fours & fA) | (u & fB);
    fours = u ^ fB;
    x = L[l8 + j]! ^ P[r8 + j]!;
    y = L[l9 + j]! ^ P[r9 + j]!;
    u = ones ^ x;
    tA = (ones & x) | (u & y);
    ones = u ^ y;
    x = L[l10 + j]! ^ P[r10 + j]!;
    y = L[l11 + j]! ^ P[r11 + j]!;
    u = ones ^ x;
    tB = (ones & x) | (u & y);
    ones = u ^ y;
    u = twos ^ tA;
    fA = (twos & tA) | (u & tB);
    twos = u ^ tB;
    x = L[l12 + j]! ^ P[r12 + j]!;
    y = L[l13 + j]! ^ P[r13 + j]!;
    u = ones ^ x;
    tA = (ones & x) | (u & y);
    ones = u ^ y;
    x = L[l14 + j]! ^ P[r14 + j]!;
    y = L[l15 + j]! ^ P[r15 + j]!;
    u = ones ^ x;
    tB = (ones & x) | (u & y);
    ones = u ^ y;
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
      const h = S[k]!;
      S[k] = h ^ carry;
      carry &= h;
    }
  }
}

/**
 * {@link sweepOne} for two embeddings, offsets at g and g + gap, planes at 0 and at `other`:
 * each position word is loaded once for both.
 */
export function sweepTwo(
  L: Int32Array,
  P: Int32Array,
  offsets: Int32Array,
  g: number,
  gap: number,
  p0: number,
  len: number,
  S: Int32Array,
  other: number,
  stride: number,
): void {
  const a0 = offsets[g]!;
  const a1 = offsets[g + 1]!;
  const a2 = offsets[g + 2]!;
  const a3 = offsets[g + 3]!;
  const a4 = offsets[g + 4]!;
  const a5 = offsets[g + 5]!;
  const a6 = offsets[g + 6]!;
  const a7 = offsets[g + 7]!;
  const a8 = offsets[g + 8]!;
  const a9 = offsets[g + 9]!;
  const a10 = offsets[g + 10]!;
  const a11 = offsets[g + 11]!;
  const a12 = offsets[g + 12]!;
  const a13 = offsets[g + 13]!;
  const a14 = offsets[g + 14]!;
  const a15 = offsets[g + 15]!;
  const b0 = offsets[g + gap]!;
  const b1 = offsets[g + gap + 1]!;
  const b2 = offsets[g + gap + 2]!;
  const b3 = offsets[g + gap + 3]!;
  const b4 = offsets[g + gap + 4]!;
  const b5 = offsets[g + gap + 5]!;
  const b6 = offsets[g + gap + 6]!;
  const b7 = offsets[g + gap + 7]!;
  const b8 = offsets[g + gap + 8]!;
  const b9 = offsets[g + gap + 9]!;
  const b10 = offsets[g + gap + 10]!;
  const b11 = offsets[g + gap + 11]!;
  const b12 = offsets[g + gap + 12]!;
  const b13 = offsets[g + gap + 13]!;
  const b14 = offsets[g + gap + 14]!;
  const b15 = offsets[g + gap + 15]!;
  const r0 = p0;
  const r1 = p0 + len;
  const r2 = p0 + 2 * len;
  const r3 = p0 + 3 * len;
  const r4 = p0 + 4 * len;
  const r5 = p0 + 5 * len;
  const r6 = p0 + 6 * len;
  const r7 = p0 + 7 * len;
  const r8 = p0 + 8 * len;
  const r9 = p0 + 9 * len;
  const r10 = p0 + 10 * len;
  const r11 = p0 + 11 * len;
  const r12 = p0 + 12 * len;
  const r13 = p0 + 13 * len;
  const r14 = p0 + 14 * len;
  const r15 = p0 + 15 * len;
  for (let j = 0, s = 0; j < len; j++, s += stride) {
    const p0 = P[r0 + j]!;
    const p1 = P[r1 + j]!;
    const p2 = P[r2 + j]!;
    const p3 = P[r3 + j]!;
    const p4 = P[r4 + j]!;
    const p5 = P[r5 + j]!;
    const p6 = P[r6 + j]!;
    const p7 = P[r7 + j]!;
    const p8 = P[r8 + j]!;
    const p9 = P[r9 + j]!;
    const p10 = P[r10 + j]!;
    const p11 = P[r11 + j]!;
    const p12 = P[r12 + j]!;
    const p13 = P[r13 + j]!;
    const p14 = P[r14 + j]!;
    const p15 = P[r15 + j]!;
    {
      let ones = S[s]!;
      let twos = S[s + 1]!;
      let fours = S[s + 2]!;
      let eights = S[s + 3]!;
      let x: number;
      let y: number;
      let u: number;
      // Carry-save adds: acc + x + y is (carry, sum) = ((acc & x) | (u & y), u ^ y), u = acc ^ x.
      x = L[a0 + j]! ^ p0;
      y = L[a1 + j]! ^ p1;
      u = ones ^ x;
      let tA = (ones & x) | (u & y);
      ones = u ^ y;
      x = L[a2 + j]! ^ p2;
      y = L[a3 + j]! ^ p3;
      u = ones ^ x;
      let tB = (ones & x) | (u & y);
      ones = u ^ y;
      u = twos ^ tA;
      let fA = (twos & tA) | (u & tB);
      twos = u ^ tB;
      x = L[a4 + j]! ^ p4;
      y = L[a5 + j]! ^ p5;
      u = ones ^ x;
      tA = (ones & x) | (u & y);
      ones = u ^ y;
      x = L[a6 + j]! ^ p6;
      y = L[a7 + j]! ^ p7;
      u = ones ^ x;
      tB = (ones & x) | (u & y);
      ones = u ^ y;
      u = twos ^ tA;
      let fB = (twos & tA) | (u & tB);
      twos = u ^ tB;
      u = fours ^ fA;
      const eA = (fours & fA) | (u & fB);
      fours = u ^ fB;
      x = L[a8 + j]! ^ p8;
      y = L[a9 + j]! ^ p9;
      u = ones ^ x;
      tA = (ones & x) | (u & y);
      ones = u ^ y;
      x = L[a10 + j]! ^ p10;
      y = L[a11 + j]! ^ p11;
      u = ones ^ x;
      tB = (ones & x) | (u & y);
      ones = u ^ y;
      u = twos ^ tA;
      fA = (twos & tA) | (u & tB);
      twos = u ^ tB;
      x = L[a12 + j]! ^ p12;
      y = L[a13 + j]! ^ p13;
      u = ones ^ x;
      tA = (ones & x) | (u & y);
      ones = u ^ y;
      x = L[a14 + j]! ^ p14;
      y = L[a15 + j]! ^ p15;
      u = ones ^ x;
      tB = (ones & x) | (u & y);
      ones = u ^ y;
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
        const h = S[k]!;
        S[k] = h ^ carry;
        carry &= h;
      }
    }
    {
      const t = s + other;
      let ones = S[t]!;
      let twos = S[t + 1]!;
      let fours = S[t + 2]!;
      let eights = S[t + 3]!;
      let x: number;
      let y: number;
      let u: number;
      x = L[b0 + j]! ^ p0;
      y = L[b1 + j]! ^ p1;
      u = ones ^ x;
      let tA = (ones & x) | (u & y);
      ones = u ^ y;
      x = L[b2 + j]! ^ p2;
      y = L[b3 + j]! ^ p3;
      u = ones ^ x;
      let tB = (ones & x) | (u & y);
      ones = u ^ y;
      u = twos ^ tA;
      let fA = (twos & tA) | (u & tB);
      twos = u ^ tB;
      x = L[b4 + j]! ^ p4;
      y = L[b5 + j]! ^ p5;
      u = ones ^ x;
      tA = (ones & x) | (u & y);
      ones = u ^ y;
      x = L[b6 + j]! ^ p6;
      y = L[b7 + j]! ^ p7;
      u = ones ^ x;
      tB = (ones & x) | (u & y);
      ones = u ^ y;
      u = twos ^ tA;
      let fB = (twos & tA) | (u & tB);
      twos = u ^ tB;
      u = fours ^ fA;
      const eA = (fours & fA) | (u & fB);
      fours = u ^ fB;
      x = L[b8 + j]! ^ p8;
      y = L[b9 + j]! ^ p9;
      u = ones ^ x;
      tA = (ones & x) | (u & y);
      ones = u ^ y;
      x = L[b10 + j]! ^ p10;
      y = L[b11 + j]! ^ p11;
      u = ones ^ x;
      tB = (ones & x) | (u & y);
      ones = u ^ y;
      u = twos ^ tA;
      fA = (twos & tA) | (u & tB);
      twos = u ^ tB;
      x = L[b12 + j]! ^ p12;
      y = L[b13 + j]! ^ p13;
      u = ones ^ x;
      tA = (ones & x) | (u & y);
      ones = u ^ y;
      x = L[b14 + j]! ^ p14;
      y = L[b15 + j]! ^ p15;
      u = ones ^ x;
      tB = (ones & x) | (u & y);
      ones = u ^ y;
      u = twos ^ tA;
      fB = (twos & tA) | (u & tB);
      twos = u ^ tB;
      u = fours ^ fA;
      const eB = (fours & fA) | (u & fB);
      fours = u ^ fB;
      u = eights ^ eA;
      let carry = (eights & eA) | (u & eB);
      eights = u ^ eB;
      S[t] = ones;
      S[t + 1] = twos;
      S[t + 2] = fours;
      S[t + 3] = eights;
      for (let k = t + 4; carry !== 0; k++) {
        const h = S[k]!;
        S[k] = h ^ carry;
        carry &= h;
      }
    }
  }
}
