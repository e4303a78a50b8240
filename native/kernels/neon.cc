// AArch64 Advanced SIMD kernels. The build baseline (-march=armv8-a) already enables ASIMD, so
// no target pragma is needed; dispatch still checks HWCAP_ASIMD, since the architecture permits
// cores (and kernels) without it, and the whole file is empty on any other architecture.
// Every kernel is bit-identical to kernels_scalar.cc (the tests compare against a per-bit oracle).
//
// All vector loads go through uint8_t pointers (vld1q_u8 / vld1q_s32 on 4-byte-aligned int32):
// a uint64_t* from JavaScript may be only 4-byte aligned, and telling the compiler otherwise
// through a 64-bit element type would be undefined behaviour even though the hardware accepts it.
#include "../core/bin_one.h"
#include "../core/kernels.h"

#if defined(__aarch64__)

#include <arm_neon.h>

#include "../core/load.h"

namespace hdg {

namespace {

inline uint64x2_t ldq(const uint64_t* p) { return vreinterpretq_u64_u8(vld1q_u8((const uint8_t*)p)); }
inline void stq(uint64_t* p, uint64x2_t v) { vst1q_u8((uint8_t*)p, vreinterpretq_u8_u64(v)); }

// One word in the low lane, zero above, so an odd trailing word runs through the vector path.
inline uint64x2_t ld_half(const uint64_t* p) { return vcombine_u64(vcreate_u64(ld64(p)), vcreate_u64(0)); }

}  // namespace

// ---------------------------------------------------------------------------------------------
// bind

void bind_neon(const uint64_t* a, const uint64_t* b, int b_stride, size_t n, size_t words, uint64_t* out) {
  for (size_t r = 0; r < n; r++) {
    const uint64_t* ar = a + r * words;
    const uint64_t* br = b + (b_stride ? r * words : 0);
    uint64_t* o = out + r * words;
    size_t j = 0;
    for (; j + 8 <= words; j += 8) {
      uint64x2_t x0 = veorq_u64(ldq(ar + j), ldq(br + j));
      uint64x2_t x1 = veorq_u64(ldq(ar + j + 2), ldq(br + j + 2));
      uint64x2_t x2 = veorq_u64(ldq(ar + j + 4), ldq(br + j + 4));
      uint64x2_t x3 = veorq_u64(ldq(ar + j + 6), ldq(br + j + 6));
      stq(o + j, x0);
      stq(o + j + 2, x1);
      stq(o + j + 4, x2);
      stq(o + j + 6, x3);
    }
    for (; j + 2 <= words; j += 2) stq(o + j, veorq_u64(ldq(ar + j), ldq(br + j)));
    if (j < words) st64(o + j, ld64(ar + j) ^ ld64(br + j));
  }
}

// ---------------------------------------------------------------------------------------------
// Hamming distances

namespace {

// Byte lanes of vcntq_u8 hold at most 8; four of them per step and 7 steps keep a u8 lane at
// <= 224 before it is widened, and each widening goes straight to u32 so no u16 lane can fill
// up either, whatever the dimension.
constexpr size_t kPopSteps = 7;

inline uint32_t hamming_row(const uint64_t* q, const uint64_t* row, size_t words) {
  uint32x4_t acc32 = vdupq_n_u32(0);
  size_t j = 0;
  while (j + 8 <= words) {
    uint8x16_t acc8 = vdupq_n_u8(0);
    for (size_t s = 0; s < kPopSteps && j + 8 <= words; s++, j += 8) {
      uint8x16_t c0 = vcntq_u8(vreinterpretq_u8_u64(veorq_u64(ldq(q + j), ldq(row + j))));
      uint8x16_t c1 = vcntq_u8(vreinterpretq_u8_u64(veorq_u64(ldq(q + j + 2), ldq(row + j + 2))));
      uint8x16_t c2 = vcntq_u8(vreinterpretq_u8_u64(veorq_u64(ldq(q + j + 4), ldq(row + j + 4))));
      uint8x16_t c3 = vcntq_u8(vreinterpretq_u8_u64(veorq_u64(ldq(q + j + 6), ldq(row + j + 6))));
      acc8 = vaddq_u8(acc8, vaddq_u8(vaddq_u8(c0, c1), vaddq_u8(c2, c3)));
    }
    acc32 = vpadalq_u16(acc32, vpaddlq_u8(acc8));
  }
  // At most 3 vectors and a word remain: their counts fit in one u8 lane (<= 32).
  uint8x16_t acc8 = vdupq_n_u8(0);
  for (; j + 2 <= words; j += 2)
    acc8 = vaddq_u8(acc8, vcntq_u8(vreinterpretq_u8_u64(veorq_u64(ldq(q + j), ldq(row + j)))));
  if (j < words) acc8 = vaddq_u8(acc8, vcntq_u8(vreinterpretq_u8_u64(veorq_u64(ld_half(q + j), ld_half(row + j)))));
  acc32 = vpadalq_u16(acc32, vpaddlq_u8(acc8));
  return vaddvq_u32(acc32);
}

}  // namespace

void hamming_1xn_neon(const uint64_t* q, const uint64_t* batch, size_t n, size_t words, uint32_t* out) {
  for (size_t r = 0; r < n; r++) out[r] = hamming_row(q, batch + r * words, words);
}

void hamming_mxn_neon(const uint64_t* a, size_t m, const uint64_t* b, size_t n, size_t words, uint32_t* out) {
  // A block of b rows stays in L2 while every query of a passes over it, instead of all of b
  // streaming from memory once per query.
  const size_t kBlockBytes = 256 * 1024;
  size_t row_bytes = words ? words * 8 : 1;
  size_t rows = kBlockBytes / row_bytes;
  if (rows == 0) rows = 1;
  for (size_t r0 = 0; r0 < n; r0 += rows) {
    size_t nr = n - r0 < rows ? n - r0 : rows;
    for (size_t i = 0; i < m; i++) hamming_1xn_neon(a + i * words, b + r0 * words, nr, words, out + i * n + r0);
  }
}

// ---------------------------------------------------------------------------------------------
// Bundle (majority)

namespace {

// Carry-save adder: a + b + c = 2 * hi + lo per bit. When a ^ b is set exactly one of a, b is,
// so the carry is c; otherwise a == b and the carry is a: one vbsl instead of and/and/or.
inline void csa(uint64x2_t& hi, uint64x2_t& lo, uint64x2_t a, uint64x2_t b, uint64x2_t c) {
  uint64x2_t u = veorq_u64(a, b);
  hi = vbslq_u64(u, c, a);
  lo = veorq_u64(u, c);
}

// W vectors of 2 words each; with HALF the last vector holds a single word (the odd tail).
// Counter planes are kept as a binary count per bit: planes 0..3 are the Harley-Seal ones, twos,
// fours and eights, which stay in registers; planes 4.. count the sixteens and live in `hi`.
template <int W, bool HALF>
inline void bundle_cols(const uint64_t* batch, size_t k, size_t words, size_t j0, unsigned nplanes,
                        const uint64_t* tie, uint64_t* out) {
  auto load = [&](size_t r, int v) -> uint64x2_t {
    const uint64_t* p = batch + r * words + j0 + 2 * v;
    return (HALF && v == W - 1) ? ld_half(p) : ldq(p);
  };
  uint64x2_t ones[W], twos[W], fours[W], eights[W];
  uint64x2_t hi[64 - 4][W];
  unsigned nhi = nplanes > 4 ? nplanes - 4 : 0;
  for (int v = 0; v < W; v++) ones[v] = twos[v] = fours[v] = eights[v] = vdupq_n_u64(0);
  for (unsigned p = 0; p < nhi; p++)
    for (int v = 0; v < W; v++) hi[p][v] = vdupq_n_u64(0);

  size_t r = 0;
  for (; r + 16 <= k; r += 16) {
    for (int v = 0; v < W; v++) {
      uint64x2_t twosA, twosB, foursA, foursB, eightsA, eightsB, sixteens;
      csa(twosA, ones[v], ones[v], load(r + 0, v), load(r + 1, v));
      csa(twosB, ones[v], ones[v], load(r + 2, v), load(r + 3, v));
      csa(foursA, twos[v], twos[v], twosA, twosB);
      csa(twosA, ones[v], ones[v], load(r + 4, v), load(r + 5, v));
      csa(twosB, ones[v], ones[v], load(r + 6, v), load(r + 7, v));
      csa(foursB, twos[v], twos[v], twosA, twosB);
      csa(eightsA, fours[v], fours[v], foursA, foursB);
      csa(twosA, ones[v], ones[v], load(r + 8, v), load(r + 9, v));
      csa(twosB, ones[v], ones[v], load(r + 10, v), load(r + 11, v));
      csa(foursA, twos[v], twos[v], twosA, twosB);
      csa(twosA, ones[v], ones[v], load(r + 12, v), load(r + 13, v));
      csa(twosB, ones[v], ones[v], load(r + 14, v), load(r + 15, v));
      csa(foursB, twos[v], twos[v], twosA, twosB);
      csa(eightsB, fours[v], fours[v], foursA, foursB);
      csa(sixteens, eights[v], eights[v], eightsA, eightsB);
      // The count never exceeds k < 2^nplanes, so the carry is spent within nhi planes.
      uint64x2_t x = sixteens;
      for (unsigned p = 0; p < nhi; p++) {
        uint64x2_t c = vandq_u64(hi[p][v], x);
        hi[p][v] = veorq_u64(hi[p][v], x);
        x = c;
      }
    }
  }
  for (; r < k; r++) {
    for (int v = 0; v < W; v++) {
      uint64x2_t x = load(r, v), c;
      c = vandq_u64(ones[v], x), ones[v] = veorq_u64(ones[v], x), x = c;
      c = vandq_u64(twos[v], x), twos[v] = veorq_u64(twos[v], x), x = c;
      c = vandq_u64(fours[v], x), fours[v] = veorq_u64(fours[v], x), x = c;
      c = vandq_u64(eights[v], x), eights[v] = veorq_u64(eights[v], x), x = c;
      for (unsigned p = 0; p < nhi; p++) {
        c = vandq_u64(hi[p][v], x);
        hi[p][v] = veorq_u64(hi[p][v], x);
        x = c;
      }
    }
  }

  // bit = count > k/2, tie when 2 * count == k: compare the planes with half = k >> 1 from the
  // top, tracking "greater so far" and "equal so far" as in majority_from_planes.
  uint64_t half = (uint64_t)k >> 1;
  for (int v = 0; v < W; v++) {
    uint64x2_t gt = vdupq_n_u64(0), eq = vdupq_n_u64(~(uint64_t)0);
    for (unsigned p = nplanes; p-- > 0;) {
      uint64x2_t c = p == 0 ? ones[v] : p == 1 ? twos[v] : p == 2 ? fours[v] : p == 3 ? eights[v] : hi[p - 4][v];
      if ((half >> p) & 1) {
        eq = vandq_u64(eq, c);
      } else {
        gt = vorrq_u64(gt, vandq_u64(eq, c));
        eq = vbicq_u64(eq, c);
      }
    }
    uint64x2_t res = gt;
    if (!(k & 1) && tie) {
      const uint64_t* tp = tie + j0 + 2 * v;
      uint64x2_t tb = (HALF && v == W - 1) ? ld_half(tp) : ldq(tp);
      res = vorrq_u64(res, vandq_u64(eq, tb));
    }
    uint64_t* o = out + j0 + 2 * v;
    if (HALF && v == W - 1)
      st64(o, vgetq_lane_u64(res, 0));
    else
      stq(o, res);
  }
}

}  // namespace

void bundle_neon(const uint64_t* batch, size_t k, size_t words, const uint64_t* tie, uint64_t* out) {
  unsigned nplanes = 0;
  while (nplanes < 64 && (k >> nplanes) != 0) nplanes++;
  // Four vectors are one 64-byte line per row: every line of the batch is fetched once.
  size_t j = 0;
  for (; j + 8 <= words; j += 8) bundle_cols<4, false>(batch, k, words, j, nplanes, tie, out);
  for (; j + 2 <= words; j += 2) bundle_cols<1, false>(batch, k, words, j, nplanes, tie, out);
  if (j < words) bundle_cols<1, true>(batch, k, words, j, nplanes, tie, out);
}

// ---------------------------------------------------------------------------------------------
// Counters

namespace {

// Lane i of kBit[g] is bit 4g + i of a 32-bit half word: vtstq against it expands four bits of
// the half into four all-ones / all-zeros int32 lane masks.
alignas(16) const uint32_t kBitTable[8][4] = {
    {1u << 0, 1u << 1, 1u << 2, 1u << 3},     {1u << 4, 1u << 5, 1u << 6, 1u << 7},
    {1u << 8, 1u << 9, 1u << 10, 1u << 11},   {1u << 12, 1u << 13, 1u << 14, 1u << 15},
    {1u << 16, 1u << 17, 1u << 18, 1u << 19}, {1u << 20, 1u << 21, 1u << 22, 1u << 23},
    {1u << 24, 1u << 25, 1u << 26, 1u << 27}, {1u << 28, 1u << 29, 1u << 30, 1u << 31}};

struct BitMasks {
  uint32x4_t bit[8];
  BitMasks() {
    for (int g = 0; g < 8; g++) bit[g] = vld1q_u32(kBitTable[g]);
  }
  // Masks of counters 4g .. 4g + 3 of the 64 that word x covers.
  inline uint32x4_t lanes(uint32x4_t lo, uint32x4_t hi, int g) const {
    return vtstq_u32(g < 8 ? lo : hi, bit[g & 7]);
  }
};

// Counters of one 64-bit word position, accumulated over rows [r0, r1) in registers.
inline void acc_word(int32_t* c, const uint64_t* batch, size_t words, size_t j, size_t r0, size_t r1,
                     const int32_t* weights, const BitMasks& bm) {
  int32x4_t acc[16];
  for (int g = 0; g < 16; g++) acc[g] = vld1q_s32(c + 4 * g);
  for (size_t r = r0; r < r1; r++) {
    int32_t w = weights ? ld32(weights + r) : 1;
    int32x4_t pos = vdupq_n_s32(w);
    int32x4_t neg = vnegq_s32(pos);  // wraps for INT32_MIN, as wrap_add(~w, 1) does
    uint64_t x = ld64(batch + r * words + j);
    uint32x4_t lo = vdupq_n_u32((uint32_t)x), hi = vdupq_n_u32((uint32_t)(x >> 32));
    for (int g = 0; g < 16; g++) acc[g] = vaddq_s32(acc[g], vbslq_s32(bm.lanes(lo, hi, g), neg, pos));
  }
  for (int g = 0; g < 16; g++) vst1q_s32(c + 4 * g, acc[g]);
}

}  // namespace

void acc_add_neon(int32_t* counters, uint32_t dim, const uint64_t* batch, size_t n, const int32_t* weights) {
  size_t words = hdg_words(dim);
  size_t full = dim >> 6;  // words whose 64 counters all exist
  const BitMasks bm;
  // Rows in blocks, so the word of each row read at position j is on a line still in L1 from
  // position j - 1, while each counter is loaded and stored once per block instead of per row.
  const size_t kRowBlock = 64;
  for (size_t r0 = 0; r0 < n; r0 += kRowBlock) {
    size_t r1 = n - r0 < kRowBlock ? n : r0 + kRowBlock;
    for (size_t j = 0; j < full; j++) acc_word(counters + (j << 6), batch, words, j, r0, r1, weights, bm);
    if (full < words) {
      // The last word's counters stop at dim: work on a padded copy. The padding lanes see only
      // the zero bits above dim and are discarded.
      size_t lim = dim - (full << 6);
      int32_t tmp[64] = {0};
      memcpy(tmp, counters + (full << 6), lim * sizeof(int32_t));
      acc_word(tmp, batch, words, full, r0, r1, weights, bm);
      memcpy(counters + (full << 6), tmp, lim * sizeof(int32_t));
    }
  }
}

namespace {

// Byte lanes of 0x00 / 0xff for 64 consecutive counters to a little-endian 64-bit bit mask.
inline uint64_t movemask64(uint8x16_t m0, uint8x16_t m1, uint8x16_t m2, uint8x16_t m3) {
  const uint8x16_t w = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
  uint8x16_t a = vpaddq_u8(vandq_u8(m0, w), vandq_u8(m1, w));
  uint8x16_t b = vpaddq_u8(vandq_u8(m2, w), vandq_u8(m3, w));
  a = vpaddq_u8(a, b);
  a = vpaddq_u8(a, a);
  return vgetq_lane_u64(vreinterpretq_u64_u8(a), 0);
}

// Narrow four int32 lane masks (16 counters) to 16 byte masks, in counter order.
inline uint8x16_t narrow16(uint32x4_t a, uint32x4_t b, uint32x4_t c, uint32x4_t d) {
  uint16x8_t ab = vuzp1q_u16(vreinterpretq_u16_u32(a), vreinterpretq_u16_u32(b));
  uint16x8_t cd = vuzp1q_u16(vreinterpretq_u16_u32(c), vreinterpretq_u16_u32(d));
  return vuzp1q_u8(vreinterpretq_u8_u16(ab), vreinterpretq_u8_u16(cd));
}

// Bits of 64 counters: negative -> 1, positive -> 0, zero -> the tie bit.
inline uint64_t threshold_word(const int32_t* c, uint64_t tie_bits, bool use_tie) {
  uint8x16_t neg[4], pos[4];
  for (int q = 0; q < 4; q++) {
    int32x4_t v0 = vld1q_s32(c + 16 * q), v1 = vld1q_s32(c + 16 * q + 4);
    int32x4_t v2 = vld1q_s32(c + 16 * q + 8), v3 = vld1q_s32(c + 16 * q + 12);
    neg[q] = narrow16(vcltzq_s32(v0), vcltzq_s32(v1), vcltzq_s32(v2), vcltzq_s32(v3));
    if (use_tie) pos[q] = narrow16(vcgtzq_s32(v0), vcgtzq_s32(v1), vcgtzq_s32(v2), vcgtzq_s32(v3));
  }
  uint64_t bits = movemask64(neg[0], neg[1], neg[2], neg[3]);
  // Negative and positive are disjoint, so "not positive" is "negative or zero".
  if (use_tie) bits |= tie_bits & ~movemask64(pos[0], pos[1], pos[2], pos[3]);
  return bits;
}

}  // namespace

void threshold_neon(const int32_t* counters, size_t m, uint32_t dim, const uint64_t* tie, uint64_t* out) {
  size_t words = hdg_words(dim);
  size_t full = dim >> 6;
  bool use_tie = tie != nullptr;
  for (size_t c = 0; c < m; c++) {
    const int32_t* cr = counters + c * (size_t)dim;
    uint64_t* o = out + c * words;
    for (size_t j = 0; j < full; j++) st64(o + j, threshold_word(cr + (j << 6), use_tie ? ld64(tie + j) : 0, use_tie));
    if (full < words) {
      // Padding counters of +1 give bit 0 under either tie rule, keeping the bits above dim zero.
      size_t lim = dim - (full << 6);
      int32_t tmp[64];
      for (int i = 0; i < 64; i++) tmp[i] = 1;
      memcpy(tmp, cr + (full << 6), lim * sizeof(int32_t));
      st64(o + full, threshold_word(tmp, use_tie ? ld64(tie + full) : 0, use_tie));
    }
  }
}

namespace {

// Sum of the counters of 64 positions where the bit of each of R rows is set, into acc[r].
// The counters are loaded once for all R rows; int32 lanes are widened pairwise into int64 at
// every step, since a single sum of two counters can already leave the int32 range.
template <int R>
inline void dot_word(const int32_t* c, const uint64_t* const* rows, size_t j, int64x2_t* acc, const BitMasks& bm) {
  uint32x4_t lo[R], hi[R];
  for (int r = 0; r < R; r++) {
    uint64_t x = ld64(rows[r] + j);
    lo[r] = vdupq_n_u32((uint32_t)x);
    hi[r] = vdupq_n_u32((uint32_t)(x >> 32));
  }
  for (int g = 0; g < 16; g++) {
    int32x4_t v = vld1q_s32(c + 4 * g);
    for (int r = 0; r < R; r++) {
      int32x4_t sel = vandq_s32(v, vreinterpretq_s32_u32(bm.lanes(lo[r], hi[r], g)));
      acc[r] = vpadalq_s32(acc[r], sel);
    }
  }
}

// Rows [r0, r0 + R) of the chunk of words [j0, j1): out -= 2 * (sum of counters at set bits).
template <int R>
inline void dot_rows(const uint64_t* hvs, size_t words, size_t r0, const int32_t* cr, uint32_t dim, size_t j0,
                     size_t j1, int64_t* out, size_t m, size_t c, const BitMasks& bm) {
  const uint64_t* rows[R];
  int64x2_t acc[R];
  for (int r = 0; r < R; r++) {
    rows[r] = hvs + (r0 + r) * words;
    acc[r] = vdupq_n_s64(0);
  }
  size_t full = dim >> 6;
  size_t jf = j1 < full ? j1 : full;
  for (size_t j = j0; j < jf; j++) dot_word<R>(cr + (j << 6), rows, j, acc, bm);
  if (jf < j1) {
    // Last, partial word: padding counters of 0 meet the zero bits above dim and add nothing.
    size_t lim = dim - (full << 6);
    int32_t tmp[64] = {0};
    memcpy(tmp, cr + (full << 6), lim * sizeof(int32_t));
    dot_word<R>(tmp, rows, full, acc, bm);
  }
  for (int r = 0; r < R; r++) {
    int64_t* o = out + (r0 + r) * m + c;
    int64_t neg = vaddvq_s64(acc[r]);
    int64_t cur;
    memcpy(&cur, o, sizeof cur);
    cur -= 2 * neg;
    memcpy(o, &cur, sizeof cur);
  }
}

}  // namespace

void dot_counters_neon(const uint64_t* hvs, size_t n, const int32_t* counters, size_t m, uint32_t dim,
                       int64_t* out) {
  size_t words = hdg_words(dim);
  const BitMasks bm;
  // Counters are 32x the size of the bits: a chunk of them stays in L1 while all rows pass.
  const size_t kChunkWords = 64;  // 4096 counters, 16 KiB
  for (size_t c = 0; c < m; c++) {
    const int32_t* cr = counters + c * (size_t)dim;
    int64x2_t t = vdupq_n_s64(0);
    uint32_t i = 0;
    for (; i + 4 <= dim; i += 4) t = vpadalq_s32(t, vld1q_s32(cr + i));
    int64_t total = vaddvq_s64(t);
    for (; i < dim; i++) total += ld32(cr + i);
    for (size_t r = 0; r < n; r++) memcpy(out + r * m + c, &total, sizeof total);
    for (size_t j0 = 0; j0 < words; j0 += kChunkWords) {
      size_t j1 = words - j0 < kChunkWords ? words : j0 + kChunkWords;
      size_t r = 0;
      for (; r + 4 <= n; r += 4) dot_rows<4>(hvs, words, r, cr, dim, j0, j1, out, m, c, bm);
      for (; r < n; r++) dot_rows<1>(hvs, words, r, cr, dim, j0, j1, out, m, c, bm);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Level encoder, the AVX-512 kernel's structure on 128-bit columns: per block of output rows and
// per column of 2 words (1 for an odd last word), the column's slices of every position row and
// of every level row the block uses are copied to a stack scratch, and each row of the block runs
// a Harley-Seal tree over its features (16 rows into planes 0..3, carries rippling into the
// higher planes) reading only that scratch. When the scratch would not fit the same tree reads
// the caller's arrays directly.

namespace {

const size_t kEncBlock = 32;
// Scratch rows (16 bytes each) for positions plus levels: 16 KiB of stack.
const size_t kEncScratchRows = 1024;

struct EncScratch {
  const uint64x2_t* lv;
  const uint64x2_t* pos;
  const uint16_t* b;
  uint64x2_t row(size_t f) const { return veorq_u64(lv[b[f]], pos[f]); }
};

// Column j of the caller's arrays: two words, or one (HALF) for an odd last word.
template <bool HALF>
struct EncDirect {
  const uint64_t* lv;
  const uint64_t* pos;
  const uint16_t* b;
  size_t words;
  static uint64x2_t load(const uint64_t* p) { return HALF ? ld_half(p) : ldq(p); }
  uint64x2_t row(size_t f) const { return veorq_u64(load(lv + (size_t)b[f] * words), load(pos + f * words)); }
};

inline void enc_ripple(uint64x2_t* p, unsigned np, uint64x2_t x) {
  for (unsigned i = 0; i < np; i++) {
    uint64x2_t c = vandq_u64(p[i], x);
    p[i] = veorq_u64(p[i], x);
    x = c;
  }
}

// 16 feature rows from f into planes s[0..3]; returns the carry, worth 16.
template <class Src>
__attribute__((always_inline)) inline uint64x2_t enc_add16(uint64x2_t* s, const Src& src, size_t f) {
  uint64x2_t twosA, twosB, foursA, foursB, eightsA, eightsB, sixteens;
  csa(twosA, s[0], s[0], src.row(f), src.row(f + 1));
  csa(twosB, s[0], s[0], src.row(f + 2), src.row(f + 3));
  csa(foursA, s[1], s[1], twosA, twosB);
  csa(twosA, s[0], s[0], src.row(f + 4), src.row(f + 5));
  csa(twosB, s[0], s[0], src.row(f + 6), src.row(f + 7));
  csa(foursB, s[1], s[1], twosA, twosB);
  csa(eightsA, s[2], s[2], foursA, foursB);
  csa(twosA, s[0], s[0], src.row(f + 8), src.row(f + 9));
  csa(twosB, s[0], s[0], src.row(f + 10), src.row(f + 11));
  csa(foursA, s[1], s[1], twosA, twosB);
  csa(twosA, s[0], s[0], src.row(f + 12), src.row(f + 13));
  csa(twosB, s[0], s[0], src.row(f + 14), src.row(f + 15));
  csa(foursB, s[1], s[1], twosA, twosB);
  csa(eightsB, s[2], s[2], foursA, foursB);
  csa(sixteens, s[3], s[3], eightsA, eightsB);
  return sixteens;
}

// Bit-sliced count > k/2 over planes p[0..np) from the top down (eq: count == k/2 so far); ties
// take the tie bits (zero without a tie HV).
inline uint64x2_t enc_majority(const uint64x2_t* p, unsigned np, size_t k, uint64x2_t tie) {
  uint64_t half = (uint64_t)k >> 1;
  uint64x2_t gt = vdupq_n_u64(0), eq = vdupq_n_u64(~(uint64_t)0);
  for (unsigned i = np; i-- > 0;) {
    if ((half >> i) & 1) {
      eq = vandq_u64(eq, p[i]);
    } else {
      gt = vorrq_u64(gt, vandq_u64(eq, p[i]));
      eq = vbicq_u64(eq, p[i]);
    }
  }
  return (k & 1) ? gt : vorrq_u64(gt, vandq_u64(eq, tie));
}

// Majority over features < 2^NP rows of one column (NP >= 4), planes in registers.
template <unsigned NP, class Src>
__attribute__((always_inline)) inline uint64x2_t enc_column(const Src& src, size_t features, uint64x2_t tie) {
  uint64x2_t p[NP];
  for (unsigned i = 0; i < NP; i++) p[i] = vdupq_n_u64(0);
  size_t f = 0;
  for (; f + 16 <= features; f += 16) enc_ripple(p + 4, NP - 4, enc_add16(p, src, f));
  for (; f < features; f++) enc_ripple(p, NP, src.row(f));
  return enc_majority(p, NP, features, tie);
}

// Any feature count: planes 4 and up in memory.
template <class Src>
inline uint64x2_t enc_column_any(const Src& src, size_t features, unsigned np, uint64x2_t tie) {
  uint64x2_t p[64], s[4];
  for (unsigned i = 0; i < np; i++) p[i] = vdupq_n_u64(0);
  for (int i = 0; i < 4; i++) s[i] = vdupq_n_u64(0);
  size_t f = 0;
  for (; f + 16 <= features; f += 16) enc_ripple(p + 4, np - 4, enc_add16(s, src, f));
  for (int i = 0; i < 4; i++) p[i] = s[i];
  for (; f < features; f++) enc_ripple(p, np, src.row(f));
  return enc_majority(p, np, features, tie);
}

inline uint64x2_t enc_load(const uint64_t* p, bool half) { return half ? ld_half(p) : ldq(p); }

inline void enc_store(uint64_t* o, bool half, uint64x2_t v) {
  if (half) st64(o, vgetq_lane_u64(v, 0));
  else stq(o, v);
}

template <unsigned NP>
void enc_block_scratch(const uint16_t* bins, size_t n, size_t features, const uint64_t* levels,
                       const uint64_t* positions, size_t nl, size_t words, const uint64_t* tie, uint64_t* out) {
  uint64x2_t scratch[kEncScratchRows];
  uint64x2_t* pos = scratch;
  uint64x2_t* lv = scratch + features;
  for (size_t j = 0; j < words; j += 2) {
    bool half = words - j < 2;
    for (size_t f = 0; f < features; f++) pos[f] = enc_load(positions + f * words + j, half);
    for (size_t l = 0; l < nl; l++) lv[l] = enc_load(levels + l * words + j, half);
    uint64x2_t t = tie ? enc_load(tie + j, half) : vdupq_n_u64(0);
    for (size_t r = 0; r < n; r++)
      enc_store(out + r * words + j, half, enc_column<NP>(EncScratch{lv, pos, bins + r * features}, features, t));
  }
}

template <unsigned NP, bool HALF>
void enc_cols_direct(const uint16_t* bins, size_t n, size_t features, const uint64_t* levels,
                     const uint64_t* positions, size_t words, size_t j, const uint64_t* tie, uint64_t* out) {
  uint64x2_t t = tie ? enc_load(tie + j, HALF) : vdupq_n_u64(0);
  for (size_t r = 0; r < n; r++) {
    EncDirect<HALF> src{levels + j, positions + j, bins + r * features, words};
    uint64x2_t v = enc_column<NP>(src, features, t);
    enc_store(out + r * words + j, HALF, v);
  }
}

template <unsigned NP>
void enc_block(const uint16_t* bins, size_t n, size_t features, const uint64_t* levels, const uint64_t* positions,
               size_t words, const uint64_t* tie, uint64_t* out) {
  unsigned maxbin = 0;
  for (size_t i = 0; i < n * features; i++) maxbin = bins[i] > maxbin ? bins[i] : maxbin;
  size_t nl = features ? (size_t)maxbin + 1 : 0;
  if (features + nl <= kEncScratchRows) return enc_block_scratch<NP>(bins, n, features, levels, positions, nl, words, tie, out);
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
  uint64x2_t t = tie ? enc_load(tie + j, HALF) : vdupq_n_u64(0);
  for (size_t r = 0; r < n; r++) {
    EncDirect<HALF> src{levels + j, positions + j, bins + r * features, words};
    enc_store(out + r * words + j, HALF, enc_column_any(src, features, np, t));
  }
}

}  // namespace

void encode_levels_neon(const uint16_t* bins, size_t n, size_t features, const uint64_t* levels,
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

// Binning stays scalar on arm64: two double lanes per NEON register would gain little over the
// scalar loop, which the compiler schedules well there.
void bin_rows_neon(const double* x, size_t n, size_t features, const hdg_binning_t* b, uint16_t* out) {
  for (size_t r = 0; r < n; r++)
    for (size_t f = 0; f < features; f++) out[r * features + f] = (uint16_t)bin_one(x[r * features + f], b, f);
}

// ---------------------------------------------------------------------------------------------
// Online refinement: one HV against every class row (dots_one, dots_i16) and one HV into one row
// (row_add, row_add_i16). Each slice of the HV becomes lane masks once and serves every row of a
// group of up to kDotsGroup rows, so the rows' counters are each read once.

namespace {

const size_t kDotsGroup = 8;

// Words per int16 block: each of a row's two int32 accumulators gains 8 products of at most 2^15
// per lane per word, so 2,048 words stay below 2^29 and nothing overflows before widening.
const size_t kI16BlockWords = 2048;

alignas(16) const uint16_t kBit16[8] = {1, 2, 4, 8, 16, 32, 64, 128};

// Eight int16 lanes of -1 where bit i of `byte` is set and +1 where it is clear.
inline int16x8_t signs16(unsigned byte, uint16x8_t sel) {
  uint16x8_t m = vtstq_u16(vdupq_n_u16((uint16_t)byte), sel);
  return vreinterpretq_s16_u16(vorrq_u16(m, vdupq_n_u16(1)));
}

// Dots of G int16 rows (stride apart): widening multiply-accumulates of the counters by the
// +1 / -1 lanes. Padding counters are zero: no tail to handle.
template <int G>
inline void dots_i16_group(const uint64_t* hv, const int16_t* rows, size_t stride, size_t words, int64_t* out) {
  const uint16x8_t sel = vld1q_u16(kBit16);
  int64_t sum[G];
  for (int g = 0; g < G; g++) sum[g] = 0;
  for (size_t j0 = 0; j0 < words; j0 += kI16BlockWords) {
    size_t j1 = words - j0 < kI16BlockWords ? words : j0 + kI16BlockWords;
    int32x4_t lo[G], hi[G];
    for (int g = 0; g < G; g++) lo[g] = hi[g] = vdupq_n_s32(0);
    for (size_t j = j0; j < j1; j++) {
      uint64_t w = ld64(hv + j);
      for (int q = 0; q < 8; q++) {
        int16x8_t x = signs16((unsigned)(w >> (8 * q)) & 0xff, sel);
        for (int g = 0; g < G; g++) {
          int16x8_t c = vld1q_s16(rows + g * stride + (j << 6) + 8 * q);
          lo[g] = vmlal_s16(lo[g], vget_low_s16(c), vget_low_s16(x));
          hi[g] = vmlal_high_s16(hi[g], c, x);
        }
      }
    }
    for (int g = 0; g < G; g++) sum[g] += vaddlvq_s32(lo[g]) + vaddlvq_s32(hi[g]);
  }
  for (int g = 0; g < G; g++) out[g] = sum[g];
}

// Dots of G int32 rows (dim apart), |counter| < 2^24: counters under set bits negated (exact in
// that range), then pairwise widened into int64 lanes at every step. The last, partial word goes
// one counter at a time, so nothing at or above dim is read.
template <int G>
inline void dots_one_group(const uint64_t* hv, const int32_t* rows, uint32_t dim, int64_t* out, const BitMasks& bm) {
  int64x2_t acc[G];
  for (int g = 0; g < G; g++) acc[g] = vdupq_n_s64(0);
  const size_t full = dim >> 6;
  for (size_t j = 0; j < full; j++) {
    uint64_t w = ld64(hv + j);
    uint32x4_t lo = vdupq_n_u32((uint32_t)w), hi = vdupq_n_u32((uint32_t)(w >> 32));
    for (int q = 0; q < 16; q++) {
      uint32x4_t m = bm.lanes(lo, hi, q);
      for (int g = 0; g < G; g++) {
        int32x4_t v = vld1q_s32(rows + g * (size_t)dim + (j << 6) + 4 * q);
        acc[g] = vpadalq_s32(acc[g], vbslq_s32(m, vnegq_s32(v), v));
      }
    }
  }
  for (int g = 0; g < G; g++) {
    int64_t s = vaddvq_s64(acc[g]);
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
inline void dots_one_pick(size_t g, const uint64_t* hv, const int32_t* rows, uint32_t dim, int64_t* out,
                          const BitMasks& bm) {
  if constexpr (G < MaxG) {
    if ((size_t)G != g) return dots_one_pick<G + 1, MaxG>(g, hv, rows, dim, out, bm);
  }
  dots_one_group<G>(hv, rows, dim, out, bm);
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

void dots_i16_neon(const uint64_t* const* hvs, size_t b, const int16_t* c16, size_t m, size_t words,
                   int64_t* out) {
  const size_t stride = words << 6;
  // One HV per pass: with 32 registers of 128 bits, sharing loads between HVs would cost the row
  // groups half their size.
  for (size_t r = 0; r < b; r++)
    balanced_groups(m, kDotsGroup, [&](size_t first, size_t g) {
      dots_i16_pick<1, (int)kDotsGroup>(g, hvs[r], c16 + first * stride, stride, words, out + r * m + first);
    });
}

void dots_one_neon(const uint64_t* hv, const int32_t* counters, size_t m, uint32_t dim, int64_t* out) {
  const BitMasks bm;
  balanced_groups(m, kDotsGroup, [&](size_t first, size_t g) {
    dots_one_pick<1, (int)kDotsGroup>(g, hv, counters + first * (size_t)dim, dim, out + first, bm);
  });
}

void row_add_i16_neon(int16_t* c16, uint32_t dim, const uint64_t* hv, int16_t w) {
  const uint16x8_t sel = vld1q_u16(kBit16);
  const int16x8_t pos = vdupq_n_s16(w), neg = vdupq_n_s16((int16_t)(uint16_t)(0u - (uint16_t)w));
  const size_t full = dim >> 6;
  for (size_t j = 0; j < full; j++) {
    uint64_t x = ld64(hv + j);
    int16_t* c = c16 + (j << 6);
    for (int q = 0; q < 8; q++) {
      uint16x8_t m = vtstq_u16(vdupq_n_u16((uint16_t)((x >> (8 * q)) & 0xff)), sel);
      vst1q_s16(c + 8 * q, vaddq_s16(vld1q_s16(c + 8 * q), vbslq_s16(m, neg, pos)));
    }
  }
  // The last, partial word one counter at a time, keeping the padding above dim zero.
  for (uint32_t i = (uint32_t)(full << 6); i < dim; i++) {
    int bit = (int)((ld64(hv + (i >> 6)) >> (i & 63)) & 1);
    uint16_t delta = bit ? (uint16_t)(0u - (uint16_t)w) : (uint16_t)w;
    c16[i] = (int16_t)(uint16_t)((uint16_t)c16[i] + delta);
  }
}

void row_add_neon(int32_t* counters, uint32_t dim, const uint64_t* hv, int32_t w) {
  const BitMasks bm;
  const int32x4_t pos = vdupq_n_s32(w), neg = vnegq_s32(pos);  // wraps for INT32_MIN, as wrap_add does
  const size_t full = dim >> 6;
  for (size_t j = 0; j < full; j++) {
    uint64_t x = ld64(hv + j);
    uint32x4_t lo = vdupq_n_u32((uint32_t)x), hi = vdupq_n_u32((uint32_t)(x >> 32));
    int32_t* c = counters + (j << 6);
    for (int q = 0; q < 16; q++)
      vst1q_s32(c + 4 * q, vaddq_s32(vld1q_s32(c + 4 * q), vbslq_s32(bm.lanes(lo, hi, q), neg, pos)));
  }
  for (uint32_t i = (uint32_t)(full << 6); i < dim; i++) {
    int bit = (int)((ld64(hv + (i >> 6)) >> (i & 63)) & 1);
    st32(counters + i, wrap_add(ld32(counters + i), bit ? wrap_add(~w, 1) : w));
  }
}

}  // namespace hdg

#endif  // __aarch64__
