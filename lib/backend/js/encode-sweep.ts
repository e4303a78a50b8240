/**
 * The level encoder's block sweeps, unrolled: one pass over the columns adds 16 features of one
 * embedding ({@link sweepOne}) or of two ({@link sweepTwo}) into their count planes. Used by
 * LevelMajority (encode-levels.ts), which describes the layouts.
 *
 * Unrolled by hand because V8 keeps a block's 16 level-row offsets in locals only when they are
 * named: read from an array inside the column loop they cost one more bounds-checked load per
 * bound word (measured in bench/js-encoders.mjs). Two embeddings per pass load each position word
 * once for both.
 * @internal
 */
/**
 * Adds features [f, f + 16) of one embedding into its planes S[s + stride * j + p]: L the level
 * rows, P the block-interleaved positions, offsets[g + k] feature f + k's level-row offset.
 */
export function sweepOne(
  L: Int32Array,
  P: Int32Array,
  offsets: Int32Array,
  g: number,
  f: number,
  len: number,
  S: Int32Array,
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
  for (let j = 0, q = f * len, s = 0; j < len; j++, q += 16, s += stride) {
    // Carry-save adds: acc + a + c is (carry, sum) = ((acc & a) | (u & c), u ^ c), u = acc ^ a.
    let ones = S[s]!;
    let twos = S[s + 1]!;
    let fours = S[s + 2]!;
    let eights = S[s + 3]!;
    let a: number;
    let c: number;
    let u: number;
    a = L[l0 + j]! ^ P[q]!;
    c = L[l1 + j]! ^ P[q + 1]!;
    u = ones ^ a;
    let tA = (ones & a) | (u & c);
    ones = u ^ c;
    a = L[l2 + j]! ^ P[q + 2]!;
    c = L[l3 + j]! ^ P[q + 3]!;
    u = ones ^ a;
    let tB = (ones & a) | (u & c);
    ones = u ^ c;
    u = twos ^ tA;
    let fA = (twos & tA) | (u & tB);
    twos = u ^ tB;
    a = L[l4 + j]! ^ P[q + 4]!;
    c = L[l5 + j]! ^ P[q + 5]!;
    u = ones ^ a;
    tA = (ones & a) | (u & c);
    ones = u ^ c;
    a = L[l6 + j]! ^ P[q + 6]!;
    c = L[l7 + j]! ^ P[q + 7]!;
    u = ones ^ a;
    tB = (ones & a) | (u & c);
    ones = u ^ c;
    u = twos ^ tA;
    let fB = (twos & tA) | (u & tB);
    twos = u ^ tB;
    u = fours ^ fA;
    const eA = (fours & fA) | (u & fB);
    fours = u ^ fB;
    a = L[l8 + j]! ^ P[q + 8]!;
    c = L[l9 + j]! ^ P[q + 9]!;
    u = ones ^ a;
    tA = (ones & a) | (u & c);
    ones = u ^ c;
    a = L[l10 + j]! ^ P[q + 10]!;
    c = L[l11 + j]! ^ P[q + 11]!;
    u = ones ^ a;
    tB = (ones & a) | (u & c);
    ones = u ^ c;
    u = twos ^ tA;
    fA = (twos & tA) | (u & tB);
    twos = u ^ tB;
    a = L[l12 + j]! ^ P[q + 12]!;
    c = L[l13 + j]! ^ P[q + 13]!;
    u = ones ^ a;
    tA = (ones & a) | (u & c);
    ones = u ^ c;
    a = L[l14 + j]! ^ P[q + 14]!;
    c = L[l15 + j]! ^ P[q + 15]!;
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
      const h = S[k]!;
      S[k] = h ^ carry;
      carry &= h;
    }
  }
}

/**
 * {@link sweepOne} for two embeddings at once, offsets at gA and gB, planes at 0 and at sB:
 * each position word is loaded once for both.
 */
export function sweepTwo(
  L: Int32Array,
  P: Int32Array,
  offsets: Int32Array,
  gA: number,
  gB: number,
  f: number,
  len: number,
  S: Int32Array,
  sB: number,
  stride: number,
): void {
  const a0 = offsets[gA]!;
  const a1 = offsets[gA + 1]!;
  const a2 = offsets[gA + 2]!;
  const a3 = offsets[gA + 3]!;
  const a4 = offsets[gA + 4]!;
  const a5 = offsets[gA + 5]!;
  const a6 = offsets[gA + 6]!;
  const a7 = offsets[gA + 7]!;
  const a8 = offsets[gA + 8]!;
  const a9 = offsets[gA + 9]!;
  const a10 = offsets[gA + 10]!;
  const a11 = offsets[gA + 11]!;
  const a12 = offsets[gA + 12]!;
  const a13 = offsets[gA + 13]!;
  const a14 = offsets[gA + 14]!;
  const a15 = offsets[gA + 15]!;
  const b0 = offsets[gB]!;
  const b1 = offsets[gB + 1]!;
  const b2 = offsets[gB + 2]!;
  const b3 = offsets[gB + 3]!;
  const b4 = offsets[gB + 4]!;
  const b5 = offsets[gB + 5]!;
  const b6 = offsets[gB + 6]!;
  const b7 = offsets[gB + 7]!;
  const b8 = offsets[gB + 8]!;
  const b9 = offsets[gB + 9]!;
  const b10 = offsets[gB + 10]!;
  const b11 = offsets[gB + 11]!;
  const b12 = offsets[gB + 12]!;
  const b13 = offsets[gB + 13]!;
  const b14 = offsets[gB + 14]!;
  const b15 = offsets[gB + 15]!;
  for (let j = 0, q = f * len, s = 0; j < len; j++, q += 16, s += stride) {
    const p0 = P[q]!;
    const p1 = P[q + 1]!;
    const p2 = P[q + 2]!;
    const p3 = P[q + 3]!;
    const p4 = P[q + 4]!;
    const p5 = P[q + 5]!;
    const p6 = P[q + 6]!;
    const p7 = P[q + 7]!;
    const p8 = P[q + 8]!;
    const p9 = P[q + 9]!;
    const p10 = P[q + 10]!;
    const p11 = P[q + 11]!;
    const p12 = P[q + 12]!;
    const p13 = P[q + 13]!;
    const p14 = P[q + 14]!;
    const p15 = P[q + 15]!;
    {
      let ones = S[s]!;
      let twos = S[s + 1]!;
      let fours = S[s + 2]!;
      let eights = S[s + 3]!;
      let a: number;
      let c: number;
      let u: number;
      a = L[a0 + j]! ^ p0;
      c = L[a1 + j]! ^ p1;
      u = ones ^ a;
      let tA = (ones & a) | (u & c);
      ones = u ^ c;
      a = L[a2 + j]! ^ p2;
      c = L[a3 + j]! ^ p3;
      u = ones ^ a;
      let tB = (ones & a) | (u & c);
      ones = u ^ c;
      u = twos ^ tA;
      let fA = (twos & tA) | (u & tB);
      twos = u ^ tB;
      a = L[a4 + j]! ^ p4;
      c = L[a5 + j]! ^ p5;
      u = ones ^ a;
      tA = (ones & a) | (u & c);
      ones = u ^ c;
      a = L[a6 + j]! ^ p6;
      c = L[a7 + j]! ^ p7;
      u = ones ^ a;
      tB = (ones & a) | (u & c);
      ones = u ^ c;
      u = twos ^ tA;
      let fB = (twos & tA) | (u & tB);
      twos = u ^ tB;
      u = fours ^ fA;
      const eA = (fours & fA) | (u & fB);
      fours = u ^ fB;
      a = L[a8 + j]! ^ p8;
      c = L[a9 + j]! ^ p9;
      u = ones ^ a;
      tA = (ones & a) | (u & c);
      ones = u ^ c;
      a = L[a10 + j]! ^ p10;
      c = L[a11 + j]! ^ p11;
      u = ones ^ a;
      tB = (ones & a) | (u & c);
      ones = u ^ c;
      u = twos ^ tA;
      fA = (twos & tA) | (u & tB);
      twos = u ^ tB;
      a = L[a12 + j]! ^ p12;
      c = L[a13 + j]! ^ p13;
      u = ones ^ a;
      tA = (ones & a) | (u & c);
      ones = u ^ c;
      a = L[a14 + j]! ^ p14;
      c = L[a15 + j]! ^ p15;
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
        const h = S[k]!;
        S[k] = h ^ carry;
        carry &= h;
      }
    }
    {
      const t = s + sB;
      let ones = S[t]!;
      let twos = S[t + 1]!;
      let fours = S[t + 2]!;
      let eights = S[t + 3]!;
      let a: number;
      let c: number;
      let u: number;
      a = L[b0 + j]! ^ p0;
      c = L[b1 + j]! ^ p1;
      u = ones ^ a;
      let tA = (ones & a) | (u & c);
      ones = u ^ c;
      a = L[b2 + j]! ^ p2;
      c = L[b3 + j]! ^ p3;
      u = ones ^ a;
      let tB = (ones & a) | (u & c);
      ones = u ^ c;
      u = twos ^ tA;
      let fA = (twos & tA) | (u & tB);
      twos = u ^ tB;
      a = L[b4 + j]! ^ p4;
      c = L[b5 + j]! ^ p5;
      u = ones ^ a;
      tA = (ones & a) | (u & c);
      ones = u ^ c;
      a = L[b6 + j]! ^ p6;
      c = L[b7 + j]! ^ p7;
      u = ones ^ a;
      tB = (ones & a) | (u & c);
      ones = u ^ c;
      u = twos ^ tA;
      let fB = (twos & tA) | (u & tB);
      twos = u ^ tB;
      u = fours ^ fA;
      const eA = (fours & fA) | (u & fB);
      fours = u ^ fB;
      a = L[b8 + j]! ^ p8;
      c = L[b9 + j]! ^ p9;
      u = ones ^ a;
      tA = (ones & a) | (u & c);
      ones = u ^ c;
      a = L[b10 + j]! ^ p10;
      c = L[b11 + j]! ^ p11;
      u = ones ^ a;
      tB = (ones & a) | (u & c);
      ones = u ^ c;
      u = twos ^ tA;
      fA = (twos & tA) | (u & tB);
      twos = u ^ tB;
      a = L[b12 + j]! ^ p12;
      c = L[b13 + j]! ^ p13;
      u = ones ^ a;
      tA = (ones & a) | (u & c);
      ones = u ^ c;
      a = L[b14 + j]! ^ p14;
      c = L[b15 + j]! ^ p15;
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
