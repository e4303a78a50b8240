/**
 * Online margin refinement of the TypeScript backend: the per-row driver of one epoch and its
 * helpers (set-bit gathering, packed class pairs, row updates), bit for bit hdg_refine_online
 * (native/core/refine.cc), whose integer dots it reproduces exactly in doubles.
 *
 * Hot loops are written for V8: monomorphic typed-array access, state in locals, no closures,
 * no allocation per row.
 *
 * @internal Not exported from the package.
 */

// Scratch of refineOnline, grown on demand and kept up to SCRATCH_KEEP bytes, so an epoch
// allocates nothing per row.
const SCRATCH_KEEP = 8 << 20;
let refinePos = new Int32Array(0);
let refineClass = new Float64Array(0);
let refinePacked = new Float64Array(0);

/**
 * Scale of the second class of a packed pair. Two classes share one double, a + b * 2^26: a sum of
 * such values over the set bits is A + B * 2^26, exact while |A|, |B| < 2^25, and splits back into
 * A and B exactly (rounding the quotient by 2^26, a power of two, recovers B because |A| < 2^25).
 * Each gather then serves two classes, which halves the hot loop of the dots.
 */
const PAIR = 2 ** 26;

/** Splits a packed value (or sum) a + b * 2^26 with |a| < 2^25 into b; a is then v - b * PAIR. */
function high(v: number): number {
  return Math.round(v / PAIR);
}

/**
 * Set-bit positions of the row at hvs[o ..] (bits below dim only) into refinePos; returns their count.
 * Visiting each set bit once per row, rather than once per class, is what makes the dots cheap.
 */
function setBits(hvs: Uint32Array, o: number, dim: number): number {
  const pos = refinePos;
  const entries = Math.ceil(dim / 32);
  let np = 0;
  for (let e = 0; e < entries; e++) {
    let x = hvs[o + e]!;
    const base = e << 5;
    // Padding bits (never set in valid input) must not index another class's counters.
    if (dim - base < 32) x &= (1 << (dim - base)) - 1;
    while (x !== 0) {
      const low = x & -x;
      pos[np++] = base + 31 - Math.clz32(low);
      x ^= low;
    }
  }
  return np;
}

/**
 * Row at cb of `a` gains w * bipolar(row) (w = +-1, or +-2^26 for the upper class of a packed pair):
 * w everywhere, then -2w at the np set bits. Int32Array stores wrap, so on counters the two steps
 * equal the one wrapping add of the native kernels; packed doubles stay exact integers.
 */
function addRowAt(a: Int32Array | Float64Array, cb: number, dim: number, np: number, w: number): void {
  const end = cb + dim;
  for (let q = cb; q < end; q++) a[q] = a[q]! + w;
  const pos = refinePos;
  const w2 = 2 * w;
  for (let j = 0; j < np; j++) {
    const q = cb + pos[j]!;
    a[q] = a[q]! - w2;
  }
}

/** Sums of the counters under the np set bits, per class, into neg[0 .. m): plain int32 rows. */
function negSums(counters: Int32Array, m: number, dim: number, np: number, neg: Float64Array): void {
  const pos = refinePos;
  let k = 0;
  // Two classes share each position load; every partial sum is an integer below 2^53 by the
  // caller's contract, so the double sums are exact.
  for (; k + 2 <= m; k += 2) {
    const c0 = k * dim;
    const c1 = c0 + dim;
    let n0 = 0;
    let n1 = 0;
    for (let j = 0; j < np; j++) {
      const b = pos[j]!;
      n0 += counters[c0 + b]!;
      n1 += counters[c1 + b]!;
    }
    neg[k] = n0;
    neg[k + 1] = n1;
  }
  if (k < m) {
    const c0 = k * dim;
    let n0 = 0;
    for (let j = 0; j < np; j++) n0 += counters[c0 + pos[j]!]!;
    neg[k] = n0;
  }
}

/** The same from the packed pairs (pair q holds classes 2q and 2q + 1), three pairs per pass. */
function negSumsPacked(packed: Float64Array, m: number, dim: number, np: number, neg: Float64Array): void {
  const pos = refinePos;
  const pairs = (m + 1) >> 1;
  let q = 0;
  for (; q + 3 <= pairs; q += 3) {
    const c0 = q * dim;
    const c1 = c0 + dim;
    const c2 = c1 + dim;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    for (let j = 0; j < np; j++) {
      const b = pos[j]!;
      s0 += packed[c0 + b]!;
      s1 += packed[c1 + b]!;
      s2 += packed[c2 + b]!;
    }
    splitInto(neg, m, 2 * q, s0);
    splitInto(neg, m, 2 * q + 2, s1);
    splitInto(neg, m, 2 * q + 4, s2);
  }
  for (; q < pairs; q++) {
    const c0 = q * dim;
    let s0 = 0;
    for (let j = 0; j < np; j++) s0 += packed[c0 + pos[j]!]!;
    splitInto(neg, m, 2 * q, s0);
  }
}

/** neg[k] and neg[k + 1] (when k + 1 < m) from a packed sum. */
function splitInto(neg: Float64Array, m: number, k: number, s: number): void {
  const hi = high(s);
  neg[k] = s - hi * PAIR;
  if (k + 1 < m) neg[k + 1] = hi;
}

/** One epoch of online margin refinement, bit for bit hdg_refine_online (contract: Kernels.refineOnline). */
export function refineOnline(
  hvs: Uint32Array,
  _n: number,
  dim: number,
  truth: Int32Array,
  order: Uint32Array,
  count: number,
  counters: Int32Array,
  m: number,
  norms2: Float64Array,
  margin: number,
  adapt: 0 | 1,
  stats: Float64Array,
): void {
  if (count === 0 || m === 0) return;
  const len = Math.ceil(dim / 64) * 2;
  if (refinePos.length < dim) refinePos = new Int32Array(dim);
  if (refineClass.length < 5 * m) refineClass = new Float64Array(5 * m);
  // Per class: the counter total, the current dot, the score denominator, the score and a bound
  // on the largest |counter| (the largest at entry, plus one per update of the class).
  const totals = refineClass.subarray(0, m);
  const dots = refineClass.subarray(m, 2 * m);
  const den = refineClass.subarray(2 * m, 3 * m);
  const score = refineClass.subarray(3 * m, 4 * m);
  const bound = refineClass.subarray(4 * m, 5 * m);
  const qn = Math.sqrt(dim);
  let top = 0;
  for (let k = 0; k < m; k++) {
    let s = 0;
    let b = 0;
    const cb = k * dim;
    for (let q = cb; q < cb + dim; q++) {
      const v = counters[q]!;
      s += v;
      b = Math.max(b, Math.abs(v));
    }
    totals[k] = s;
    bound[k] = b;
    top = Math.max(top, b);
    // den > 0 exactly when norms2 > 0 (qn >= 1), as in the native driver.
    const n2 = norms2[k]!;
    den[k] = n2 > 0 ? qn * Math.sqrt(n2) : 0;
  }
  // Packed pairs while every sum of at most dim counters stays below 2^25 in magnitude; an update
  // that could break that unpacks them for the rest of the epoch.
  const limit = Math.floor((2 ** 25 - 1) / dim);
  const pairs = (m + 1) >> 1;
  let packed: Float64Array | null = null;
  if (top < limit && count >= 4) {
    if (refinePacked.length < pairs * dim) refinePacked = new Float64Array(pairs * dim);
    packed = refinePacked;
    for (let q = 0; q < pairs; q++) {
      const a = 2 * q * dim;
      const o = q * dim;
      if (2 * q + 1 < m) for (let i = 0; i < dim; i++) packed[o + i] = counters[a + i]! + counters[a + dim + i]! * PAIR;
      else for (let i = 0; i < dim; i++) packed[o + i] = counters[a + i]!;
    }
  }
  const unpack = (p: Float64Array) => {
    for (let q = 0; q < pairs; q++) {
      const a = 2 * q * dim;
      const o = q * dim;
      for (let i = 0; i < dim; i++) {
        const v = p[o + i]!;
        const hi = high(v);
        counters[a + i] = v - hi * PAIR;
        if (2 * q + 1 < m) counters[a + dim + i] = hi;
      }
    }
  };
  let errors = 0;
  let updates = 0;
  for (let e = 0; e < count; e++) {
    const i = order[e]!;
    const t = truth[i]!;
    const np = setBits(hvs, i * len, dim);
    // dot = total - 2 * (sum of the counters under set bits), exact integers.
    if (packed) negSumsPacked(packed, m, dim, np, dots);
    else negSums(counters, m, dim, np, dots);
    let p = 0;
    for (let c = 0; c < m; c++) {
      const dot = totals[c]! - 2 * dots[c]!;
      dots[c] = dot;
      const d = den[c]!;
      const sc = d > 0 ? dot / d : 0;
      score[c] = sc;
      if (sc > score[p]!) p = c;
    }
    let rival = -1;
    if (p !== t) {
      errors++;
      rival = p;
    } else {
      for (let c = 0; c < m; c++) if (c !== t && (rival < 0 || score[c]! > score[rival]!)) rival = c;
    }
    const lead = rival < 0 ? Number.POSITIVE_INFINITY : score[t]! - score[rival]!;
    if (p === t && !(lead < margin)) continue;
    updates++;
    const sub = adapt === 1 && rival >= 0;
    if (packed && (bound[t]! + 1 >= limit || (sub && bound[rival]! + 1 >= limit))) {
      unpack(packed);
      packed = null;
    }
    const change = dim - 2 * np;
    if (packed) addRowAt(packed, (t >> 1) * dim, dim, np, t & 1 ? PAIR : 1);
    else addRowAt(counters, t * dim, dim, np, 1);
    bound[t] = bound[t]! + 1;
    totals[t] = totals[t]! + change;
    norms2[t] = norms2[t]! + (2 * dots[t]! + dim);
    const nt = norms2[t]!;
    den[t] = nt > 0 ? qn * Math.sqrt(nt) : 0;
    if (sub) {
      if (packed) addRowAt(packed, (rival >> 1) * dim, dim, np, rival & 1 ? -PAIR : -1);
      else addRowAt(counters, rival * dim, dim, np, -1);
      bound[rival] = bound[rival]! + 1;
      totals[rival] = totals[rival]! - change;
      norms2[rival] = norms2[rival]! + (-2 * dots[rival]! + dim);
      const nr = norms2[rival]!;
      den[rival] = nr > 0 ? qn * Math.sqrt(nr) : 0;
    }
  }
  if (packed) unpack(packed);
  stats[0] = stats[0]! + errors;
  stats[1] = stats[1]! + updates;
  // Kept for the next epoch of an ordinary layer; a huge one (over 8 MiB) is let go, so one large
  // refine does not hold its scratch for the life of the process.
  if (refinePacked.byteLength > SCRATCH_KEEP) refinePacked = new Float64Array(0);
  if (refinePos.byteLength > SCRATCH_KEEP) refinePos = new Int32Array(0);
  if (refineClass.byteLength > SCRATCH_KEEP) refineClass = new Float64Array(0);
}
