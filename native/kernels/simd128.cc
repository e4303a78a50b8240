// WebAssembly SIMD128 kernels (the wasm32 build with -msimd128 only; empty elsewhere).
// Bit-identical to kernels_scalar.cc: scripts/test-wasm-cpp.mjs runs native/tests/test_kernels.cc
// against its per-bit oracle inside wasm.
//
// What the engine and the compiler make of the code decides its shapes, not the wasm text alone.
// V8 on x86 lowers i8x16.popcnt to a nibble lookup (about eleven instructions, two of them loads
// of constants), has no cheap bit-select (v128.bitselect is and/andnot/or) and 15 usable xmm
// registers; its shifts by an immediate, compares, narrows, bit masks, extadd_pairwise and
// i32x4.dot_i16x8_s are one or two instructions each. Clang 14 orders a block's loads first and
// rewrites some vector idioms into worse ones; csa_ordered() and opaque() below keep it from
// doing so where it mattered. Wasm memory accesses need no alignment: every load is a plain
// v128.load of any address (JavaScript views are only 4-byte aligned), and the odd word at a
// row's end is loaded alone, never past the input.
#include "../core/kernels.h"

#if defined(__wasm_simd128__)

#include <wasm_simd128.h>

#include "../core/load.h"

namespace hdg {

namespace {

inline v128_t ldq(const void* p) { return wasm_v128_load(p); }
inline void stq(void* p, v128_t v) { wasm_v128_store(p, v); }

// One word in the low lane, zero above, so an odd trailing word runs through the vector path.
inline v128_t ld_half(const uint64_t* p) { return wasm_v128_load64_zero(p); }
inline void st_half(uint64_t* p, v128_t v) { wasm_v128_store64_lane(p, v, 0); }

inline v128_t zero() { return wasm_i64x2_const(0, 0); }

// Carry-save adder: a + b + c = 2 * hi + lo per bit.
inline void csa(v128_t& hi, v128_t& lo, v128_t a, v128_t b, v128_t c) {
  v128_t u = wasm_v128_xor(a, b);
  hi = wasm_v128_or(wasm_v128_and(a, b), wasm_v128_and(u, c));
  lo = wasm_v128_xor(u, c);
}

// csa() whose low output is complete before any later load. Clang emits a whole carry-save
// tree's loads first, and V8 (which schedules pure operations as late as it can) keeps them
// there, so 32 live vectors spill on x86's 16 registers. A store is ordered with the loads in
// V8 and, with the empty asm's memory clobber, in clang too: storing each sum of two fresh
// vectors before the next two load keeps a handful live. The store is to a dead stack slot.
inline void csa_ordered(v128_t& hi, v128_t& lo, v128_t a, v128_t b, v128_t c) {
  csa(hi, lo, a, b, c);
  __asm__ volatile("" : "+r"(lo) : : "memory");
  [[maybe_unused]] volatile v128_t sink = lo;
}

// Adds x (worth 2^0 of p[0]) into bit-sliced planes p[0..np), carrying upwards.
inline void ripple(v128_t* p, unsigned np, v128_t x) {
  for (unsigned i = 0; i < np; i++) {
    v128_t c = wasm_v128_and(p[i], x);
    p[i] = wasm_v128_xor(p[i], x);
    x = c;
  }
}

// Bit-sliced count > k/2 over planes p[0..np) from the top down (eq: count == k/2 so far); ties
// (even k only) take the tie bits, zero without a tie HV. Bits of k/2 above the top plane are
// zero because k < 2^np.
inline v128_t majority(const v128_t* p, unsigned np, uint64_t k, v128_t tie) {
  uint64_t half = k >> 1;
  v128_t gt = zero(), eq = wasm_i64x2_const(-1, -1);
  for (unsigned i = np; i-- > 0;) {
    if ((half >> i) & 1) {
      eq = wasm_v128_and(eq, p[i]);
    } else {
      gt = wasm_v128_or(gt, wasm_v128_and(eq, p[i]));
      eq = wasm_v128_andnot(eq, p[i]);
    }
  }
  return (k & 1) ? gt : wasm_v128_or(gt, wasm_v128_and(eq, tie));
}

// Sum of the four uint32 lanes.
inline uint32_t hsum_u32(v128_t v) {
  v = wasm_i32x4_add(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
  v = wasm_i32x4_add(v, wasm_i32x4_shuffle(v, v, 1, 0, 3, 2));
  return wasm_u32x4_extract_lane(v, 0);
}

inline int64_t hsum_i64(v128_t v) { return wasm_i64x2_extract_lane(v, 0) + wasm_i64x2_extract_lane(v, 1); }

// Four int32 lanes added into two int64 lanes, exactly.
inline v128_t add_wide(v128_t acc, v128_t v) {
  return wasm_i64x2_add(acc, wasm_i64x2_add(wasm_i64x2_extend_low_i32x4(v), wasm_i64x2_extend_high_i32x4(v)));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// bind

void bind_simd128(const uint64_t* a, const uint64_t* b, int b_stride, size_t n, size_t words, uint64_t* out) {
  // With b_stride both operands are flat arrays of n * words words: one stream, one tail.
  size_t rows = b_stride ? 1 : n, len = b_stride ? n * words : words;
  for (size_t r = 0; r < rows; r++) {
    const uint64_t* ar = a + r * len;
    uint64_t* o = out + r * len;
    size_t j = 0;
    for (; j + 8 <= len; j += 8) {
      v128_t x0 = wasm_v128_xor(ldq(ar + j), ldq(b + j));
      v128_t x1 = wasm_v128_xor(ldq(ar + j + 2), ldq(b + j + 2));
      v128_t x2 = wasm_v128_xor(ldq(ar + j + 4), ldq(b + j + 4));
      v128_t x3 = wasm_v128_xor(ldq(ar + j + 6), ldq(b + j + 6));
      stq(o + j, x0);
      stq(o + j + 2, x1);
      stq(o + j + 4, x2);
      stq(o + j + 6, x3);
    }
    for (; j + 2 <= len; j += 2) stq(o + j, wasm_v128_xor(ldq(ar + j), ldq(b + j)));
    if (j < len) st64(o + j, ld64(ar + j) ^ ld64(b + j));
  }
}

// ---------------------------------------------------------------------------------------------
// Hamming distances

namespace {

// V8 lowers i8x16.popcnt to a nibble lookup of about eleven x86 instructions (two of them
// constant loads), so counting each xor vector would cost more than the rest of the loop put
// together. Harley-Seal instead: 16 vectors pass through a carry-save tree (15 CSAs of 5 logic
// ops each) into ones, twos, fours and eights, and only the carry worth 16 is counted.
// Byte lanes of a popcount hold at most 8, so 31 steps can add up in u8 lanes before widening.
constexpr int kSixteensPerWiden = 31;

inline v128_t widen_u8(v128_t acc32, v128_t acc8) {
  return wasm_i32x4_add(acc32, wasm_u32x4_extadd_pairwise_u16x8(wasm_u16x8_extadd_pairwise_u8x16(acc8)));
}

inline v128_t dbl(v128_t x) { return wasm_i8x16_add(x, x); }

inline uint32_t hamming_row(const uint64_t* q, const uint64_t* row, size_t words) {
  v128_t ones = zero(), twos = zero(), fours = zero(), eights = zero();
  v128_t acc8 = zero(), acc32 = zero();
  int steps = 0;
  size_t j = 0;
  auto x = [&](size_t i) { return wasm_v128_xor(ldq(q + j + 2 * i), ldq(row + j + 2 * i)); };
  for (; j + 32 <= words; j += 32) {
    v128_t twosA, twosB, foursA, foursB, eightsA, eightsB, sixteens;
    csa_ordered(twosA, ones, ones, x(0), x(1));
    csa_ordered(twosB, ones, ones, x(2), x(3));
    csa_ordered(foursA, twos, twos, twosA, twosB);
    csa_ordered(twosA, ones, ones, x(4), x(5));
    csa_ordered(twosB, ones, ones, x(6), x(7));
    csa_ordered(foursB, twos, twos, twosA, twosB);
    csa_ordered(eightsA, fours, fours, foursA, foursB);
    csa_ordered(twosA, ones, ones, x(8), x(9));
    csa_ordered(twosB, ones, ones, x(10), x(11));
    csa_ordered(foursA, twos, twos, twosA, twosB);
    csa_ordered(twosA, ones, ones, x(12), x(13));
    csa_ordered(twosB, ones, ones, x(14), x(15));
    csa_ordered(foursB, twos, twos, twosA, twosB);
    csa_ordered(eightsB, fours, fours, foursA, foursB);
    csa_ordered(sixteens, eights, eights, eightsA, eightsB);
    acc8 = wasm_i8x16_add(acc8, wasm_i8x16_popcnt(sixteens));
    if (++steps == kSixteensPerWiden) {
      acc32 = widen_u8(acc32, acc8);
      acc8 = zero();
      steps = 0;
    }
  }
  if (j + 16 <= words) {
    // Eight more vectors through the first half of the tree; their carry worth 8 is half-added
    // into eights, whose own carry is a sixteen.
    v128_t twosA, twosB, foursA, foursB, eightsA;
    csa_ordered(twosA, ones, ones, x(0), x(1));
    csa_ordered(twosB, ones, ones, x(2), x(3));
    csa_ordered(foursA, twos, twos, twosA, twosB);
    csa_ordered(twosA, ones, ones, x(4), x(5));
    csa_ordered(twosB, ones, ones, x(6), x(7));
    csa_ordered(foursB, twos, twos, twosA, twosB);
    csa_ordered(eightsA, fours, fours, foursA, foursB);
    acc8 = wasm_i8x16_add(acc8, wasm_i8x16_popcnt(wasm_v128_and(eights, eightsA)));
    eights = wasm_v128_xor(eights, eightsA);
    j += 16;
  }
  acc32 = wasm_i32x4_shl(widen_u8(acc32, acc8), 4);
  // The planes by weight, then at most 7 vectors and a word: at most 120 + 64 per u8 lane.
  v128_t rest = dbl(dbl(dbl(wasm_i8x16_popcnt(eights))));
  rest = wasm_i8x16_add(rest, dbl(dbl(wasm_i8x16_popcnt(fours))));
  rest = wasm_i8x16_add(rest, dbl(wasm_i8x16_popcnt(twos)));
  rest = wasm_i8x16_add(rest, wasm_i8x16_popcnt(ones));
  for (; j + 2 <= words; j += 2) rest = wasm_i8x16_add(rest, wasm_i8x16_popcnt(x(0)));
  if (j < words) rest = wasm_i8x16_add(rest, wasm_i8x16_popcnt(wasm_v128_xor(ld_half(q + j), ld_half(row + j))));
  return hsum_u32(widen_u8(acc32, rest));
}

}  // namespace

void hamming_1xn_simd128(const uint64_t* q, const uint64_t* batch, size_t n, size_t words, uint32_t* out) {
  for (size_t r = 0; r < n; r++) out[r] = hamming_row(q, batch + r * words, words);
}

void hamming_mxn_simd128(const uint64_t* a, size_t m, const uint64_t* b, size_t n, size_t words, uint32_t* out) {
  // A block of b rows stays in L2 while every query of a passes over it, instead of all of b
  // streaming from memory once per query.
  const size_t kBlockBytes = 256 * 1024;
  size_t row_bytes = words ? words * 8 : 1;
  size_t rows = kBlockBytes / row_bytes;
  if (rows == 0) rows = 1;
  for (size_t r0 = 0; r0 < n; r0 += rows) {
    size_t nr = n - r0 < rows ? n - r0 : rows;
    for (size_t i = 0; i < m; i++) hamming_1xn_simd128(a + i * words, b + r0 * words, nr, words, out + i * n + r0);
  }
}

// ---------------------------------------------------------------------------------------------
// Bit-sliced majority of a column of rows, shared by the bundle and the level encoder. A source
// gives row f of the column as a vector (src.row(f)); 16 rows at a time go through a Harley-Seal
// tree into planes 0..3 (ones, twos, fours, eights) and only its carry, worth 16, ripples into
// the planes above. The planes are a binary count per bit, compared with k / 2 at the end.

namespace {

// 16 rows from f into planes s[0..3]; returns the carry, worth 16.
template <class Src>
__attribute__((always_inline)) inline v128_t add16(v128_t* s, const Src& src, size_t f) {
  v128_t twosA, twosB, foursA, foursB, eightsA, eightsB, sixteens;
  csa_ordered(twosA, s[0], s[0], src.row(f), src.row(f + 1));
  csa_ordered(twosB, s[0], s[0], src.row(f + 2), src.row(f + 3));
  csa_ordered(foursA, s[1], s[1], twosA, twosB);
  csa_ordered(twosA, s[0], s[0], src.row(f + 4), src.row(f + 5));
  csa_ordered(twosB, s[0], s[0], src.row(f + 6), src.row(f + 7));
  csa_ordered(foursB, s[1], s[1], twosA, twosB);
  csa_ordered(eightsA, s[2], s[2], foursA, foursB);
  csa_ordered(twosA, s[0], s[0], src.row(f + 8), src.row(f + 9));
  csa_ordered(twosB, s[0], s[0], src.row(f + 10), src.row(f + 11));
  csa_ordered(foursA, s[1], s[1], twosA, twosB);
  csa_ordered(twosA, s[0], s[0], src.row(f + 12), src.row(f + 13));
  csa_ordered(twosB, s[0], s[0], src.row(f + 14), src.row(f + 15));
  csa_ordered(foursB, s[1], s[1], twosA, twosB);
  csa_ordered(eightsB, s[2], s[2], foursA, foursB);
  csa_ordered(sixteens, s[3], s[3], eightsA, eightsB);
  return sixteens;
}

// Majority over k < 2^NP rows of one column (NP >= 4), the planes in locals. Planes above the
// ones k needs stay zero, and so do the bits of k / 2 there: majority() reads them harmlessly.
template <unsigned NP, class Src>
__attribute__((always_inline)) inline v128_t column_majority(const Src& src, size_t k, v128_t tie) {
  v128_t p[NP];
  for (unsigned i = 0; i < NP; i++) p[i] = zero();
  size_t f = 0;
  for (; f + 16 <= k; f += 16) ripple(p + 4, NP - 4, add16(p, src, f));
  for (; f < k; f++) ripple(p, NP, src.row(f));
  return majority(p, NP, k, tie);
}

// Any row count: planes 4 and up in memory.
template <class Src>
inline v128_t column_majority_any(const Src& src, size_t k, unsigned np, v128_t tie) {
  v128_t p[64], s[4];
  for (unsigned i = 0; i < np; i++) p[i] = zero();
  for (int i = 0; i < 4; i++) s[i] = zero();
  size_t f = 0;
  for (; f + 16 <= k; f += 16) ripple(p + 4, np - 4, add16(s, src, f));
  for (int i = 0; i < 4; i++) p[i] = s[i];
  for (; f < k; f++) ripple(p, np, src.row(f));
  return majority(p, np, k, tie);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Bundle (majority), one column of 2 words (1 for an odd last word) at a time: the planes of a
// 2-word column fit in registers, and the rows' 64-byte lines serve the next three columns from
// L1.

namespace {

template <bool HALF>
struct BundleSrc {
  const uint64_t* col;
  size_t words;
  v128_t row(size_t r) const { return HALF ? ld_half(col + r * words) : ldq(col + r * words); }
};

template <bool HALF>
inline void bundle_col(const uint64_t* batch, size_t k, size_t words, size_t j, const uint64_t* tie,
                       uint64_t* out) {
  BundleSrc<HALF> src{batch + j, words};
  v128_t t = !tie ? zero() : HALF ? ld_half(tie + j) : ldq(tie + j);
  v128_t v;
  if (k < 16) {
    v = column_majority<4>(src, k, t);
  } else if (k < 256) {
    v = column_majority<8>(src, k, t);
  } else if (k < 65536) {
    v = column_majority<16>(src, k, t);
  } else {
    unsigned np = 4;
    while (np < 64 && (k >> np) != 0) np++;
    v = column_majority_any(src, k, np, t);
  }
  if (HALF) st_half(out + j, v);
  else stq(out + j, v);
}

}  // namespace

void bundle_simd128(const uint64_t* batch, size_t k, size_t words, const uint64_t* tie, uint64_t* out) {
  size_t j = 0;
  for (; j + 2 <= words; j += 2) bundle_col<false>(batch, k, words, j, tie, out);
  if (j < words) bundle_col<true>(batch, k, words, j, tie, out);
}

// ---------------------------------------------------------------------------------------------
// Counters. The bits of an HV word become int32 lane masks four counters at a time. Lane i of
// stagger(h) is the 32-bit half h shifted left by 3 - i, which puts bit 4g + i of h at bit
// 4g + 3 of lane i for every g; a shift left by 28 - 4g then moves the bits of counters
// 4g .. 4g + 3 to the lanes' sign bits and an arithmetic shift right by 31 spreads each over its
// lane: two one-instruction shifts per four counters and no constant, where an and-compare against
// per-group selectors needs three instructions and eight constants, too many for the registers.

namespace {

// Clang sees through both steps and "improves" them: the multiply by powers of two into per-lane
// shifts, which wasm lacks and it scalarizes into four shifts and lane inserts, and each shift
// pair into an and-compare-select against a constant. An empty asm statement makes a value
// opaque to it; it emits nothing.
inline v128_t opaque(v128_t v) {
  __asm__("" : "+r"(v));
  return v;
}

inline v128_t stagger(uint32_t h) {
  return wasm_i32x4_mul(wasm_i32x4_splat((int32_t)h), opaque(wasm_i32x4_const(8, 4, 2, 1)));
}

// Masks of counters 4g .. 4g + 3 (g < 8) of a staggered half; g must fold to a constant (the
// loops over it are fully unrolled), or V8 shifts by a register count in three instructions.
__attribute__((always_inline)) inline v128_t mask4(v128_t y, int g) {
  return wasm_i32x4_shr(opaque(wasm_i32x4_shl(y, (uint32_t)(28 - 4 * g))), 31);
}

// One word position's 64 counters for G rows, a half word at a time: each group of 4 counters is
// loaded and stored once per G rows. Every row adds +w, then rows with a 1 subtract 2w
// (-w = w - 2w modulo 2^32).
template <int G>
inline void acc_word(int32_t* c, const uint64_t* const* rows, size_t j, v128_t sum_w, const v128_t* w2) {
  for (int h = 0; h < 2; h++) {
    v128_t y[G];
    for (int g = 0; g < G; g++) y[g] = stagger((uint32_t)(ld64(rows[g] + j) >> (32 * h)));
    int32_t* ch = c + 32 * h;
#pragma clang loop unroll(full)
    for (int q = 0; q < 8; q++) {
      v128_t v = wasm_i32x4_add(ldq(ch + 4 * q), sum_w);
      for (int g = 0; g < G; g++) v = wasm_i32x4_sub(v, wasm_v128_and(mask4(y[g], q), w2[g]));
      stq(ch + 4 * q, v);
    }
  }
}

template <int G>
inline void acc_rows(int32_t* counters, uint32_t dim, const uint64_t* batch, size_t words, const int32_t* weights) {
  const uint64_t* rows[G];
  int32_t sum = 0;
  v128_t w2[G];
  for (int g = 0; g < G; g++) {
    rows[g] = batch + g * words;
    int32_t w = weights ? ld32(weights + g) : 1;
    sum = wrap_add(sum, w);
    w2[g] = wasm_i32x4_splat(wrap_add(w, w));
  }
  v128_t sum_w = wasm_i32x4_splat(sum);
  size_t full = dim >> 6;
  for (size_t j = 0; j < full; j++) acc_word<G>(counters + (j << 6), rows, j, sum_w, w2);
  if (full < words) {
    // The last word's counters stop at dim: work on a padded copy, whose padding lanes see only
    // the zero bits above dim and are discarded.
    size_t lim = dim - (full << 6);
    int32_t tmp[64] = {0};
    memcpy(tmp, counters + (full << 6), lim * sizeof(int32_t));
    acc_word<G>(tmp, rows, full, sum_w, w2);
    memcpy(counters + (full << 6), tmp, lim * sizeof(int32_t));
  }
}

}  // namespace

void acc_add_simd128(int32_t* counters, uint32_t dim, const uint64_t* batch, size_t n, const int32_t* weights) {
  size_t words = hdg_words(dim);
  size_t r = 0;
  for (; r + 4 <= n; r += 4) acc_rows<4>(counters, dim, batch + r * words, words, weights ? weights + r : nullptr);
  for (; r < n; r++) acc_rows<1>(counters, dim, batch + r * words, words, weights ? weights + r : nullptr);
}

void row_add_simd128(int32_t* counters, uint32_t dim, const uint64_t* hv, int32_t w) {
  acc_rows<1>(counters, dim, hv, hdg_words(dim), &w);
}

namespace {

// Bits of 64 counters: negative -> 1, positive -> 0, zero -> the tie bit. Saturating narrows
// keep each counter's sign and zeroness down to a byte, whose top bit i8x16.bitmask reads.
inline uint64_t threshold_word(const int32_t* c, uint64_t tie_bits) {
  uint64_t neg = 0, zer = 0;
  for (int q = 0; q < 4; q++) {
    const int32_t* p = c + 16 * q;
    v128_t a = wasm_i16x8_narrow_i32x4(ldq(p), ldq(p + 4));
    v128_t b = wasm_i16x8_narrow_i32x4(ldq(p + 8), ldq(p + 12));
    v128_t s = wasm_i8x16_narrow_i16x8(a, b);
    neg |= (uint64_t)wasm_i8x16_bitmask(s) << (16 * q);
    zer |= (uint64_t)wasm_i8x16_bitmask(wasm_i8x16_eq(s, zero())) << (16 * q);
  }
  return neg | (zer & tie_bits);
}

}  // namespace

void threshold_simd128(const int32_t* counters, size_t m, uint32_t dim, const uint64_t* tie, uint64_t* out) {
  size_t words = hdg_words(dim);
  size_t full = dim >> 6;
  for (size_t c = 0; c < m; c++) {
    const int32_t* cr = counters + c * (size_t)dim;
    uint64_t* o = out + c * words;
    for (size_t j = 0; j < full; j++) st64(o + j, threshold_word(cr + (j << 6), tie ? ld64(tie + j) : 0));
    if (full < words) {
      // Padding counters of +1 give bit 0 under either tie rule, keeping the bits above dim zero.
      size_t lim = dim - (full << 6);
      int32_t tmp[64];
      for (int i = 0; i < 64; i++) tmp[i] = 1;
      memcpy(tmp, cr + (full << 6), lim * sizeof(int32_t));
      st64(o + full, threshold_word(tmp, tie ? ld64(tie + full) : 0));
    }
  }
}

namespace {

// Counter magnitude below which dot_counters sums in int32 lanes: a chunk of kChunkWords words adds
// 16 counters per word to each lane, 1,024 of them, each below 2^21 in magnitude: under 2^31.
const int32_t kDotSmall = 1 << 21;

// Words per chunk of dot_counters: the counters are 32x the size of the bits, and 4,096 of them
// (16 KiB) stay in L1 while every row passes.
const size_t kChunkWords = 64;

// Sum of the counters of 64 positions under the set bits of each of R rows, into acc[r]. Counters
// load once for R rows. Lanes are int64 in general (any two int32 counters may already overflow
// an int32 sum), int32 when SMALL (every counter below kDotSmall in magnitude), which saves the
// widening of every masked vector.
template <int R, bool SMALL>
inline void dot_word(const int32_t* c, const uint64_t* const* rows, size_t j, v128_t* acc) {
  for (int h = 0; h < 2; h++) {
    v128_t y[R];
    for (int r = 0; r < R; r++) y[r] = stagger((uint32_t)(ld64(rows[r] + j) >> (32 * h)));
    const int32_t* ch = c + 32 * h;
#pragma clang loop unroll(full)
    for (int q = 0; q < 8; q++) {
      v128_t v = ldq(ch + 4 * q);
      for (int r = 0; r < R; r++) {
        v128_t sel = wasm_v128_and(v, mask4(y[r], q));
        acc[r] = SMALL ? wasm_i32x4_add(acc[r], sel) : add_wide(acc[r], sel);
      }
    }
  }
}

// Rows [r0, r0 + R) over the words [j0, j1), at most kChunkWords of them: out -= 2 * (sum of
// counters under set bits).
template <int R, bool SMALL>
inline void dot_rows(const uint64_t* hvs, size_t words, size_t r0, const int32_t* cr, uint32_t dim, size_t j0,
                     size_t j1, int64_t* out, size_t m, size_t c) {
  const uint64_t* rows[R];
  v128_t acc[R];
  for (int r = 0; r < R; r++) {
    rows[r] = hvs + (r0 + r) * words;
    acc[r] = zero();
  }
  size_t full = dim >> 6;
  size_t jf = j1 < full ? j1 : full;
  for (size_t j = j0; j < jf; j++) dot_word<R, SMALL>(cr + (j << 6), rows, j, acc);
  if (jf < j1) {
    // Last, partial word: padding counters of 0 meet any bits above dim and add nothing.
    size_t lim = dim - (full << 6);
    int32_t tmp[64] = {0};
    memcpy(tmp, cr + (full << 6), lim * sizeof(int32_t));
    dot_word<R, SMALL>(tmp, rows, full, acc);
  }
  for (int r = 0; r < R; r++) {
    int64_t* o = out + (r0 + r) * m + c;
    int64_t cur;
    memcpy(&cur, o, sizeof cur);
    cur -= 2 * hsum_i64(SMALL ? add_wide(zero(), acc[r]) : acc[r]);
    memcpy(o, &cur, sizeof cur);
  }
}

template <bool SMALL>
inline void dot_chunks(const uint64_t* hvs, size_t n, size_t words, const int32_t* cr, uint32_t dim, int64_t* out,
                       size_t m, size_t c) {
  for (size_t j0 = 0; j0 < words; j0 += kChunkWords) {
    size_t j1 = words - j0 < kChunkWords ? words : j0 + kChunkWords;
    size_t r = 0;
    for (; r + 4 <= n; r += 4) dot_rows<4, SMALL>(hvs, words, r, cr, dim, j0, j1, out, m, c);
    for (; r < n; r++) dot_rows<1, SMALL>(hvs, words, r, cr, dim, j0, j1, out, m, c);
  }
}

}  // namespace

void dot_counters_simd128(const uint64_t* hvs, size_t n, const int32_t* counters, size_t m, uint32_t dim,
                          int64_t* out) {
  size_t words = hdg_words(dim);
  for (size_t c = 0; c < m; c++) {
    const int32_t* cr = counters + c * (size_t)dim;
    // The row's total and its range, in one pass.
    v128_t t = zero(), lo = zero(), hi = zero();
    uint32_t i = 0;
    for (; i + 4 <= dim; i += 4) {
      v128_t v = ldq(cr + i);
      t = add_wide(t, v);
      lo = wasm_i32x4_min(lo, v);
      hi = wasm_i32x4_max(hi, v);
    }
    int64_t total = hsum_i64(t);
    bool small = wasm_i32x4_all_true(wasm_i32x4_gt(lo, wasm_i32x4_splat(-kDotSmall))) &&
                 wasm_i32x4_all_true(wasm_i32x4_lt(hi, wasm_i32x4_splat(kDotSmall)));
    for (; i < dim; i++) {
      int32_t v = ld32(cr + i);
      total += v;
      small = small && v > -kDotSmall && v < kDotSmall;
    }
    for (size_t r = 0; r < n; r++) memcpy(out + r * m + c, &total, sizeof total);
    if (small) dot_chunks<true>(hvs, n, words, cr, dim, out, m, c);
    else dot_chunks<false>(hvs, n, words, cr, dim, out, m, c);
  }
}

// ---------------------------------------------------------------------------------------------
// Level encoder, the NEON kernel's structure: per block of output rows and per column of 2 words
// (1 for an odd last word), the column's slices of every position row and of every level row the
// block uses are copied to a stack scratch, and each row of the block runs a Harley-Seal tree
// over its features (16 rows into planes 0..3, carries rippling into the higher planes) reading
// only that scratch. When the scratch would not fit the same tree reads the caller's arrays.

namespace {

const size_t kEncBlock = 32;
// Scratch rows (16 bytes each) for positions plus levels: 16 KiB of stack.
const size_t kEncScratchRows = 1024;

struct EncScratch {
  const v128_t* lv;
  const v128_t* pos;
  const uint16_t* b;
  v128_t row(size_t f) const { return wasm_v128_xor(lv[b[f]], pos[f]); }
};

// Column j of the caller's arrays: two words, or one (HALF) for an odd last word.
template <bool HALF>
struct EncDirect {
  const uint64_t* lv;
  const uint64_t* pos;
  const uint16_t* b;
  size_t words;
  static v128_t load(const uint64_t* p) { return HALF ? ld_half(p) : ldq(p); }
  v128_t row(size_t f) const { return wasm_v128_xor(load(lv + (size_t)b[f] * words), load(pos + f * words)); }
};

inline v128_t enc_load(const uint64_t* p, bool half) { return half ? ld_half(p) : ldq(p); }

inline void enc_store(uint64_t* o, bool half, v128_t v) {
  if (half) st_half(o, v);
  else stq(o, v);
}

template <unsigned NP>
void enc_block_scratch(const uint16_t* bins, size_t n, size_t features, const uint64_t* levels,
                       const uint64_t* positions, size_t nl, size_t words, const uint64_t* tie, uint64_t* out) {
  v128_t scratch[kEncScratchRows];
  v128_t* pos = scratch;
  v128_t* lv = scratch + features;
  for (size_t j = 0; j < words; j += 2) {
    bool half = words - j < 2;
    for (size_t f = 0; f < features; f++) pos[f] = enc_load(positions + f * words + j, half);
    for (size_t l = 0; l < nl; l++) lv[l] = enc_load(levels + l * words + j, half);
    v128_t t = tie ? enc_load(tie + j, half) : zero();
    for (size_t r = 0; r < n; r++)
      enc_store(out + r * words + j, half, column_majority<NP>(EncScratch{lv, pos, bins + r * features}, features, t));
  }
}

template <unsigned NP, bool HALF>
void enc_cols_direct(const uint16_t* bins, size_t n, size_t features, const uint64_t* levels,
                     const uint64_t* positions, size_t words, size_t j, const uint64_t* tie, uint64_t* out) {
  v128_t t = tie ? enc_load(tie + j, HALF) : zero();
  for (size_t r = 0; r < n; r++) {
    EncDirect<HALF> src{levels + j, positions + j, bins + r * features, words};
    enc_store(out + r * words + j, HALF, column_majority<NP>(src, features, t));
  }
}

template <unsigned NP>
void enc_block(const uint16_t* bins, size_t n, size_t features, const uint64_t* levels, const uint64_t* positions,
               size_t words, const uint64_t* tie, uint64_t* out) {
  unsigned maxbin = 0;
  for (size_t i = 0; i < n * features; i++) maxbin = bins[i] > maxbin ? bins[i] : maxbin;
  size_t nl = features ? (size_t)maxbin + 1 : 0;
  if (features + nl <= kEncScratchRows)
    return enc_block_scratch<NP>(bins, n, features, levels, positions, nl, words, tie, out);
  size_t j = 0;
  for (; j + 2 <= words; j += 2) enc_cols_direct<NP, false>(bins, n, features, levels, positions, words, j, tie, out);
  if (j < words) enc_cols_direct<NP, true>(bins, n, features, levels, positions, words, j, tie, out);
}

// Feature counts of 2^16 and more: planes in memory, the caller's arrays read directly.
template <bool HALF>
void enc_cols_any(const uint16_t* bins, size_t n, size_t features, const uint64_t* levels, const uint64_t* positions,
                  size_t words, size_t j, const uint64_t* tie, uint64_t* out) {
  unsigned np = 4;
  while (np < 64 && (features >> np) != 0) np++;
  v128_t t = tie ? enc_load(tie + j, HALF) : zero();
  for (size_t r = 0; r < n; r++) {
    EncDirect<HALF> src{levels + j, positions + j, bins + r * features, words};
    enc_store(out + r * words + j, HALF, column_majority_any(src, features, np, t));
  }
}

}  // namespace

void encode_levels_simd128(const uint16_t* bins, size_t n, size_t features, const uint64_t* levels,
                           const uint64_t* positions, size_t words, const uint64_t* tie, uint64_t* out) {
  for (size_t r0 = 0; r0 < n; r0 += kEncBlock) {
    size_t bn = n - r0 < kEncBlock ? n - r0 : kEncBlock;
    const uint16_t* b = bins + r0 * features;
    uint64_t* o = out + r0 * words;
    if (features < 16) {
      enc_block<4>(b, bn, features, levels, positions, words, tie, o);
    } else if (features < 256) {
      enc_block<8>(b, bn, features, levels, positions, words, tie, o);
    } else if (features < 65536) {
      enc_block<16>(b, bn, features, levels, positions, words, tie, o);
    } else {
      size_t j = 0;
      for (; j + 2 <= words; j += 2) enc_cols_any<false>(b, bn, features, levels, positions, words, j, tie, o);
      if (j < words) enc_cols_any<true>(b, bn, features, levels, positions, words, j, tie, o);
    }
  }
}

// Binning forwards to the scalar kernel: its double arithmetic must round exactly as the
// scalar's, and two f64 lanes per vector would gain little over it (the per-value corrections
// against the bin edges are data-dependent loops).
void bin_rows_simd128(const double* x, size_t n, size_t features, const hdg_binning_t* b, uint16_t* out) {
  bin_rows_scalar(x, n, features, b, out);
}

// ---------------------------------------------------------------------------------------------
// Online refinement: one HV against every class row (dots_one, dots_i16) and one HV into one
// int16 row (row_add_i16). Each slice of the HV becomes lane masks once and serves a group of up
// to kDotsGroup rows, so the rows' counters are each read once.

namespace {

const size_t kDotsGroup = 4;

// Words per int16 block: a row's int32 accumulator gains 8 pair sums of at most 2^16 per lane
// per word, so 2,048 words stay below 2^31 and nothing overflows before widening.
const size_t kI16BlockWords = 2048;

// Words per int32 block of dots_one: |counter| < 2^24 and 16 additions per lane per word, so 7
// words add at most 112 counters (and 112 mask lanes of -1) to a lane, below 2^31.
const size_t kI32BlockWords = 7;

// The int16 form of stagger(): lane i of stagger16(c) is the 16-bit chunk c shifted left by 7 - i,
// bit i of its low byte at bit 7 and bit i of its high byte at bit 15, so two immediate shifts
// (or one) make the masks of the chunk's 16 counters.
inline v128_t stagger16(uint64_t chunk) {
  return wasm_i16x8_mul(wasm_i16x8_splat((int16_t)(uint16_t)chunk),
                        opaque(wasm_i16x8_const(128, 64, 32, 16, 8, 4, 2, 1)));
}

// Masks of the 8 counters of the low / high byte of a staggered chunk.
inline v128_t mask8_lo(v128_t y) { return wasm_i16x8_shr(opaque(wasm_i16x8_shl(y, 8)), 15); }
inline v128_t mask8_hi(v128_t y) { return wasm_i16x8_shr(y, 15); }

// Dots of G int16 rows (stride apart): i32x4.dot_i16x8_s of the counters with the +1 / -1 lanes.
// Padding counters are zero: no tail to handle.
template <int G>
inline void dots_i16_group(const uint64_t* hv, const int16_t* rows, size_t stride, size_t words, int64_t* out) {
  v128_t sum[G];
  for (int g = 0; g < G; g++) sum[g] = zero();
  for (size_t j0 = 0; j0 < words; j0 += kI16BlockWords) {
    size_t j1 = words - j0 < kI16BlockWords ? words : j0 + kI16BlockWords;
    v128_t acc[G];
    for (int g = 0; g < G; g++) acc[g] = zero();
    for (size_t j = j0; j < j1; j++) {
      uint64_t x = ld64(hv + j);
      for (int c = 0; c < 4; c++) {
        // +1 / -1 lanes: a mask or 1.
        v128_t y = stagger16(x >> (16 * c)), one = wasm_i16x8_const_splat(1);
        v128_t s0 = wasm_v128_or(mask8_lo(y), one), s1 = wasm_v128_or(mask8_hi(y), one);
        const int16_t* base = rows + (j << 6) + 16 * c;
        for (int g = 0; g < G; g++) {
          v128_t d0 = wasm_i32x4_dot_i16x8(ldq(base + g * stride), s0);
          v128_t d1 = wasm_i32x4_dot_i16x8(ldq(base + g * stride + 8), s1);
          acc[g] = wasm_i32x4_add(acc[g], wasm_i32x4_add(d0, d1));
        }
      }
    }
    for (int g = 0; g < G; g++) sum[g] = add_wide(sum[g], acc[g]);
  }
  for (int g = 0; g < G; g++) out[g] = hsum_i64(sum[g]);
}

// Dots of G int32 rows (dim apart), |counter| < 2^24. Under a set bit the counter is negated:
// (v ^ m) - m with m the lane mask, and since m is the same for every row, the rows add v ^ m
// while `ones` adds m once for all of them. Lanes sum kI32BlockWords words in int32, then widen.
// The last, partial word goes one counter at a time, so nothing at or above dim is read.
template <int G>
inline void dots_one_group(const uint64_t* hv, const int32_t* rows, uint32_t dim, int64_t* out) {
  v128_t sum[G];
  for (int g = 0; g < G; g++) sum[g] = zero();
  const size_t full = dim >> 6;
  for (size_t j0 = 0; j0 < full; j0 += kI32BlockWords) {
    size_t j1 = full - j0 < kI32BlockWords ? full : j0 + kI32BlockWords;
    v128_t acc[G], ones = zero();
    for (int g = 0; g < G; g++) acc[g] = zero();
    for (size_t j = j0; j < j1; j++) {
      for (int h = 0; h < 2; h++) {
        v128_t y = stagger((uint32_t)(ld64(hv + j) >> (32 * h)));
        size_t base = (j << 6) + 32 * h;
#pragma clang loop unroll(full)
        for (int q = 0; q < 8; q++) {
          v128_t m = mask4(y, q);
          ones = wasm_i32x4_add(ones, m);
          for (int g = 0; g < G; g++)
            acc[g] = wasm_i32x4_add(acc[g], wasm_v128_xor(ldq(rows + g * (size_t)dim + base + 4 * q), m));
        }
      }
    }
    for (int g = 0; g < G; g++) sum[g] = add_wide(sum[g], wasm_i32x4_sub(acc[g], ones));
  }
  for (int g = 0; g < G; g++) {
    int64_t s = hsum_i64(sum[g]);
    const int32_t* r = rows + g * (size_t)dim;
    for (uint32_t i = (uint32_t)(full << 6); i < dim; i++) {
      int64_t v = ld32(r + i);
      s += ((ld64(hv + (i >> 6)) >> (i & 63)) & 1) ? -v : v;
    }
    out[g] = s;
  }
}

template <int G, int MaxG>
inline void dots_i16_pick(size_t g, const uint64_t* hv, const int16_t* rows, size_t stride, size_t words,
                          int64_t* out) {
  if constexpr (G < MaxG) {
    if ((size_t)G != g) return dots_i16_pick<G + 1, MaxG>(g, hv, rows, stride, words, out);
  }
  dots_i16_group<G>(hv, rows, stride, words, out);
}

template <int G, int MaxG>
inline void dots_one_pick(size_t g, const uint64_t* hv, const int32_t* rows, uint32_t dim, int64_t* out) {
  if constexpr (G < MaxG) {
    if ((size_t)G != g) return dots_one_pick<G + 1, MaxG>(g, hv, rows, dim, out);
  }
  dots_one_group<G>(hv, rows, dim, out);
}

// The fewest groups of at most max_g rows, of nearly equal sizes; f(first row, rows) for each.
template <class F>
inline void balanced_groups(size_t m, size_t max_g, F f) {
  size_t groups = (m + max_g - 1) / max_g, done = 0;
  for (size_t q = 0; q < groups; q++) {
    size_t left = groups - q, g = (m - done + left - 1) / left;
    f(done, g);
    done += g;
  }
}

}  // namespace

void dots_i16_simd128(const uint64_t* const* hvs, size_t b, const int16_t* c16, size_t m, size_t words,
                      int64_t* out) {
  const size_t stride = words << 6;
  for (size_t r = 0; r < b; r++)
    balanced_groups(m, kDotsGroup, [&](size_t first, size_t g) {
      dots_i16_pick<1, (int)kDotsGroup>(g, hvs[r], c16 + first * stride, stride, words, out + r * m + first);
    });
}

void dots_one_simd128(const uint64_t* hv, const int32_t* counters, size_t m, uint32_t dim, int64_t* out) {
  balanced_groups(m, kDotsGroup, [&](size_t first, size_t g) {
    dots_one_pick<1, (int)kDotsGroup>(g, hv, counters + first * (size_t)dim, dim, out + first);
  });
}

void row_add_i16_simd128(int16_t* c16, uint32_t dim, const uint64_t* hv, int16_t w) {
  // c + w - (bit ? 2w : 0) modulo 2^16 is c + (bit ? -w : w).
  const v128_t pos = wasm_i16x8_splat(w), w2 = wasm_i16x8_splat((int16_t)(uint16_t)(2u * (uint16_t)w));
  const size_t full = dim >> 6;
  for (size_t j = 0; j < full; j++) {
    uint64_t x = ld64(hv + j);
    int16_t* c = c16 + (j << 6);
    for (int q = 0; q < 4; q++) {
      v128_t y = stagger16(x >> (16 * q));
      int16_t* p = c + 16 * q;
      stq(p, wasm_i16x8_sub(wasm_i16x8_add(ldq(p), pos), wasm_v128_and(mask8_lo(y), w2)));
      stq(p + 8, wasm_i16x8_sub(wasm_i16x8_add(ldq(p + 8), pos), wasm_v128_and(mask8_hi(y), w2)));
    }
  }
  // The last, partial word one counter at a time, keeping the padding above dim zero.
  for (uint32_t i = (uint32_t)(full << 6); i < dim; i++) {
    int bit = (int)((ld64(hv + (i >> 6)) >> (i & 63)) & 1);
    uint16_t delta = bit ? (uint16_t)(0u - (uint16_t)w) : (uint16_t)w;
    c16[i] = (int16_t)(uint16_t)((uint16_t)c16[i] + delta);
  }
}

}  // namespace hdg

#endif  // __wasm_simd128__
