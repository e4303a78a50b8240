/**
 * The level encoder's widest block sweep, unrolled: one pass over the columns adds 16 features of
 * four embeddings into their count planes, each position word loaded once for the four (faster
 * per embedding than one or two at a time in bench/js-encoders.mjs; six or eight per pass were
 * no faster, spilling more than they save). Used by majorityRows (encode-levels.ts); the
 * narrower sweeps and the reason they are unrolled are in encode-sweep.ts.
 * @internal
 */

/**
 * Adds a block of 16 features of four embeddings into their planes: embedding k's level-row
 * offsets at offsets[g + k * gap], its planes at S[k * other + stride * j + p].
 */
export function sweepFour(
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
  const c0 = offsets[g + 2 * gap]!;
  const c1 = offsets[g + 2 * gap + 1]!;
  const c2 = offsets[g + 2 * gap + 2]!;
  const c3 = offsets[g + 2 * gap + 3]!;
  const c4 = offsets[g + 2 * gap + 4]!;
  const c5 = offsets[g + 2 * gap + 5]!;
  const c6 = offsets[g + 2 * gap + 6]!;
  const c7 = offsets[g + 2 * gap + 7]!;
  const c8 = offsets[g + 2 * gap + 8]!;
  const c9 = offsets[g + 2 * gap + 9]!;
  const c10 = offsets[g + 2 * gap + 10]!;
  const c11 = offsets[g + 2 * gap + 11]!;
  const c12 = offsets[g + 2 * gap + 12]!;
  const c13 = offsets[g + 2 * gap + 13]!;
  const c14 = offsets[g + 2 * gap + 14]!;
  const c15 = offsets[g + 2 * gap + 15]!;
  const d0 = offsets[g + 3 * gap]!;
  const d1 = offsets[g + 3 * gap + 1]!;
  const d2 = offsets[g + 3 * gap + 2]!;
  const d3 = offsets[g + 3 * gap + 3]!;
  const d4 = offsets[g + 3 * gap + 4]!;
  const d5 = offsets[g + 3 * gap + 5]!;
  const d6 = offsets[g + 3 * gap + 6]!;
  const d7 = offsets[g + 3 * gap + 7]!;
  const d8 = offsets[g + 3 * gap + 8]!;
  const d9 = offsets[g + 3 * gap + 9]!;
  const d10 = offsets[g + 3 * gap + 10]!;
  const d11 = offsets[g + 3 * gap + 11]!;
  const d12 = offsets[g + 3 * gap + 12]!;
  const d13 = offsets[g + 3 * gap + 13]!;
  const d14 = offsets[g + 3 * gap + 14]!;
  const d15 = offsets[g + 3 * gap + 15]!;
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
    {
      const t = s + 2 * other;
      let ones = S[t]!;
      let twos = S[t + 1]!;
      let fours = S[t + 2]!;
      let eights = S[t + 3]!;
      let x: number;
      let y: number;
      let u: number;
      x = L[c0 + j]! ^ p0;
      y = L[c1 + j]! ^ p1;
      u = ones ^ x;
      let tA = (ones & x) | (u & y);
      ones = u ^ y;
      x = L[c2 + j]! ^ p2;
      y = L[c3 + j]! ^ p3;
      u = ones ^ x;
      let tB = (ones & x) | (u & y);
      ones = u ^ y;
      u = twos ^ tA;
      let fA = (twos & tA) | (u & tB);
      twos = u ^ tB;
      x = L[c4 + j]! ^ p4;
      y = L[c5 + j]! ^ p5;
      u = ones ^ x;
      tA = (ones & x) | (u & y);
      ones = u ^ y;
      x = L[c6 + j]! ^ p6;
      y = L[c7 + j]! ^ p7;
      u = ones ^ x;
      tB = (ones & x) | (u & y);
      ones = u ^ y;
      u = twos ^ tA;
      let fB = (twos & tA) | (u & tB);
      twos = u ^ tB;
      u = fours ^ fA;
      const eA = (fours & fA) | (u & fB);
      fours = u ^ fB;
      x = L[c8 + j]! ^ p8;
      y = L[c9 + j]! ^ p9;
      u = ones ^ x;
      tA = (ones & x) | (u & y);
      ones = u ^ y;
      x = L[c10 + j]! ^ p10;
      y = L[c11 + j]! ^ p11;
      u = ones ^ x;
      tB = (ones & x) | (u & y);
      ones = u ^ y;
      u = twos ^ tA;
      fA = (twos & tA) | (u & tB);
      twos = u ^ tB;
      x = L[c12 + j]! ^ p12;
      y = L[c13 + j]! ^ p13;
      u = ones ^ x;
      tA = (ones & x) | (u & y);
      ones = u ^ y;
      x = L[c14 + j]! ^ p14;
      y = L[c15 + j]! ^ p15;
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
    {
      const t = s + 3 * other;
      let ones = S[t]!;
      let twos = S[t + 1]!;
      let fours = S[t + 2]!;
      let eights = S[t + 3]!;
      let x: number;
      let y: number;
      let u: number;
      x = L[d0 + j]! ^ p0;
      y = L[d1 + j]! ^ p1;
      u = ones ^ x;
      let tA = (ones & x) | (u & y);
      ones = u ^ y;
      x = L[d2 + j]! ^ p2;
      y = L[d3 + j]! ^ p3;
      u = ones ^ x;
      let tB = (ones & x) | (u & y);
      ones = u ^ y;
      u = twos ^ tA;
      let fA = (twos & tA) | (u & tB);
      twos = u ^ tB;
      x = L[d4 + j]! ^ p4;
      y = L[d5 + j]! ^ p5;
      u = ones ^ x;
      tA = (ones & x) | (u & y);
      ones = u ^ y;
      x = L[d6 + j]! ^ p6;
      y = L[d7 + j]! ^ p7;
      u = ones ^ x;
      tB = (ones & x) | (u & y);
      ones = u ^ y;
      u = twos ^ tA;
      let fB = (twos & tA) | (u & tB);
      twos = u ^ tB;
      u = fours ^ fA;
      const eA = (fours & fA) | (u & fB);
      fours = u ^ fB;
      x = L[d8 + j]! ^ p8;
      y = L[d9 + j]! ^ p9;
      u = ones ^ x;
      tA = (ones & x) | (u & y);
      ones = u ^ y;
      x = L[d10 + j]! ^ p10;
      y = L[d11 + j]! ^ p11;
      u = ones ^ x;
      tB = (ones & x) | (u & y);
      ones = u ^ y;
      u = twos ^ tA;
      fA = (twos & tA) | (u & tB);
      twos = u ^ tB;
      x = L[d12 + j]! ^ p12;
      y = L[d13 + j]! ^ p13;
      u = ones ^ x;
      tA = (ones & x) | (u & y);
      ones = u ^ y;
      x = L[d14 + j]! ^ p14;
      y = L[d15 + j]! ^ p15;
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
