// AVX-512 kernels (F, BW, VL, VPOPCNTDQ: dispatch selects this level only when all four and the
// ZMM state are present). Bit-identical to kernels_scalar.cc; the tests compare against a per-bit
// oracle. Every access is an unaligned or masked load/store: JavaScript views are only 4-byte
// aligned, and masked tails never touch memory past the caller's arrays.
#include <immintrin.h>

#include "../core/bin_one.h"
#include "../core/kernels.h"
#include "../core/load.h"
#include "target.h"

#if defined(__x86_64__) || defined(_M_X64)

namespace hdg {

HDG_TARGET_BEGIN("avx512f,avx512bw,avx512vl,avx512vpopcntdq,avx2,popcnt,bmi,bmi2")

namespace {

// Low `n` lanes of a mask, n <= 64.
inline uint64_t low_bits(size_t n) { return n >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << n) - 1; }

inline __m512i ld(const uint64_t* p, __mmask8 m) { return _mm512_maskz_loadu_epi64(m, p); }

// Written out rather than _mm512_reduce_add_epi64, _mm512_cvtepi32_epi64 and _mm512_andnot_si512,
// whose GCC 12 definitions start from an "undefined" vector and trip -Wmaybe-uninitialized.
inline int64_t hsum64(__m512i v) {
  __m256i s = _mm256_add_epi64(_mm512_maskz_extracti64x4_epi64(0xff, v, 0),
                               _mm512_maskz_extracti64x4_epi64(0xff, v, 1));
  __m128i t = _mm_add_epi64(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
  return _mm_cvtsi128_si64(t) + _mm_extract_epi64(t, 1);
}

// Sign-extends the counters selected by `lim` to int64 lanes, zero elsewhere, never reading past them.
inline __m512i ld_widen(const int32_t* p, __mmask8 lim) {
  return _mm512_maskz_cvtepi32_epi64(lim, _mm256_maskz_loadu_epi32(lim, p));
}

const size_t kPrefetchRows = 8;

// G rows share each query load. The last partial vector of a row is a masked load, so a row's
// tail never reads the next row (which would need masking out again) or past the batch.
template <int G>
inline void hamming_rows(const uint64_t* q, const uint64_t* rows, size_t words, uint32_t* out) {
  __m512i acc[G];
  for (int g = 0; g < G; g++) acc[g] = _mm512_setzero_si512();
  size_t j = 0;
  for (; j + 8 <= words; j += 8) {
    __m512i qv = _mm512_loadu_si512(q + j);
    for (int g = 0; g < G; g++) {
      // Rows further on stream in while these are counted: with the hardware prefetcher alone
      // a batch from DRAM runs ~20% slower (measured at D = 10,000; 8 rows ahead was best).
      _mm_prefetch((const char*)(rows + (kPrefetchRows + g) * words + j), _MM_HINT_T0);
      __m512i x = _mm512_xor_si512(qv, _mm512_loadu_si512(rows + g * words + j));
      acc[g] = _mm512_add_epi64(acc[g], _mm512_popcnt_epi64(x));
    }
  }
  if (j < words) {
    __mmask8 m = (__mmask8)low_bits(words - j);
    __m512i qv = ld(q + j, m);
    for (int g = 0; g < G; g++)
      acc[g] = _mm512_add_epi64(acc[g], _mm512_popcnt_epi64(_mm512_xor_si512(qv, ld(rows + g * words + j, m))));
  }
  for (int g = 0; g < G; g++) out[g] = (uint32_t)hsum64(acc[g]);
}

void hamming_1xn(const uint64_t* q, const uint64_t* batch, size_t n, size_t words, uint32_t* out) {
  size_t r = 0;
  for (; r + 4 <= n; r += 4) hamming_rows<4>(q, batch + r * words, words, out + r);
  for (; r < n; r++) hamming_rows<1>(q, batch + r * words, words, out + r);
}

// Carry-save adder: (hi, lo) = a + b + c per bit position.
inline void csa(__m512i& hi, __m512i& lo, __m512i a, __m512i b, __m512i c) {
  hi = _mm512_ternarylogic_epi64(a, b, c, 0xe8);  // majority
  lo = _mm512_ternarylogic_epi64(a, b, c, 0x96);  // a ^ b ^ c
}

// Adds one bit vector to bit-sliced counter planes p[0..np).
inline void ripple(__m512i* p, unsigned np, __m512i x) {
  for (unsigned i = 0; i < np; i++) {
    __m512i carry = _mm512_and_si512(p[i], x);
    p[i] = _mm512_xor_si512(p[i], x);
    x = carry;
  }
}

// Bytes ahead of each row load that bundle prefetches: the line the next column's (generally
// line-splitting) load of the same row will need. Consecutive loads are a row length apart, a
// pattern the hardware prefetchers follow poorly. Measured at D = 10,000, k = 128 from L2:
// ~+20% over no prefetch; 64, 96, 160 and 192 bytes ahead were all slower than 128. Near the end of a row
// the prefetch may point past the batch, which is harmless: prefetches never fault.
const int kBundlePrefetch = 128;

inline __m512i ld_pf(const uint64_t* p, __mmask8 m) {
  _mm_prefetch((const char*)p + kBundlePrefetch, _MM_HINT_T0);
  return ld(p, m);
}

// Adds 16 rows (a column of 8 words each, masked by m) to the planes s[0..3] and returns the
// carry out of s[3], worth 16.
inline __m512i add16(__m512i* s, const uint64_t* row, size_t words, __mmask8 m) {
  __m512i twosA, twosB, foursA, foursB, eightsA, eightsB, sixteens;
  csa(twosA, s[0], s[0], ld_pf(row, m), ld_pf(row + words, m));
  csa(twosB, s[0], s[0], ld_pf(row + 2 * words, m), ld_pf(row + 3 * words, m));
  csa(foursA, s[1], s[1], twosA, twosB);
  csa(twosA, s[0], s[0], ld_pf(row + 4 * words, m), ld_pf(row + 5 * words, m));
  csa(twosB, s[0], s[0], ld_pf(row + 6 * words, m), ld_pf(row + 7 * words, m));
  csa(foursB, s[1], s[1], twosA, twosB);
  csa(eightsA, s[2], s[2], foursA, foursB);
  csa(twosA, s[0], s[0], ld_pf(row + 8 * words, m), ld_pf(row + 9 * words, m));
  csa(twosB, s[0], s[0], ld_pf(row + 10 * words, m), ld_pf(row + 11 * words, m));
  csa(foursA, s[1], s[1], twosA, twosB);
  csa(twosA, s[0], s[0], ld_pf(row + 12 * words, m), ld_pf(row + 13 * words, m));
  csa(twosB, s[0], s[0], ld_pf(row + 14 * words, m), ld_pf(row + 15 * words, m));
  csa(foursB, s[1], s[1], twosA, twosB);
  csa(eightsB, s[2], s[2], foursA, foursB);
  csa(sixteens, s[3], s[3], eightsA, eightsB);
  return sixteens;
}

// Bit-sliced count > k/2 over planes p[0..np), from the top plane down; eq tracks count == k/2
// so far. Planes above the count's width are zero and change nothing.
inline __m512i majority(const __m512i* p, unsigned np, size_t k, __m512i tie) {
  uint64_t half = k >> 1;
  __m512i gt = _mm512_setzero_si512(), eq = _mm512_set1_epi64(-1);
  for (unsigned i = np; i-- > 0;) {
    if ((half >> i) & 1) {
      eq = _mm512_and_si512(eq, p[i]);
    } else {
      gt = _mm512_ternarylogic_epi64(gt, eq, p[i], 0xf8);  // gt | (eq & plane)
      eq = _mm512_ternarylogic_epi64(eq, p[i], p[i], 0x30);  // eq & ~plane
    }
  }
  // Ties (count == k/2, only for even k) take the tie HV's bit, zero without one.
  return (k & 1) ? gt : _mm512_ternarylogic_epi64(gt, eq, tie, 0xf8);
}

// Majority of k < 2^NP rows over one column of up to 8 words (lanes outside m are zero), with
// all NP bit-sliced planes in registers. Harley-Seal: groups of 16 rows pass through a CSA tree
// into planes 0..3; only each group's carry, worth 16, ripples into the higher planes.
template <unsigned NP>
__attribute__((always_inline)) inline __m512i bundle_column(const uint64_t* col, size_t k, size_t words, __mmask8 m,
                                                            __m512i tie) {
  __m512i p[NP];
  for (unsigned i = 0; i < NP; i++) p[i] = _mm512_setzero_si512();
  size_t r = 0;
  for (; r + 16 <= k; r += 16) ripple(p + 4, NP - 4, add16(p, col + r * words, words, m));
  for (; r < k; r++) ripple(p, NP, ld(col + r * words, m));
  return majority(p, NP, k, tie);
}

// The same for any k: np >= 4 planes, those above plane 3 in L1.
inline __m512i bundle_column_any(const uint64_t* col, size_t k, size_t words, __mmask8 m, unsigned np, __m512i tie) {
  __m512i p[64], s[4];
  for (unsigned i = 0; i < np; i++) p[i] = _mm512_setzero_si512();
  for (int i = 0; i < 4; i++) s[i] = p[0];
  size_t r = 0;
  for (; r + 16 <= k; r += 16) ripple(p + 4, np - 4, add16(s, col + r * words, words, m));
  for (int i = 0; i < 4; i++) p[i] = s[i];
  for (; r < k; r++) ripple(p, np, ld(col + r * words, m));
  return majority(p, np, k, tie);
}

template <unsigned NP>
inline void bundle_columns(const uint64_t* batch, size_t k, size_t words, const uint64_t* tie, uint64_t* out) {
  // Full columns pass a constant mask to the always-inlined bundle_column, so they use plain
  // loads; not inlined, GCC also stored every plane to the stack once per group (~6% slower).
  size_t j = 0;
  for (; j + 8 <= words; j += 8) {
    __m512i t = tie ? _mm512_loadu_si512(tie + j) : _mm512_setzero_si512();
    _mm512_storeu_si512(out + j, bundle_column<NP>(batch + j, k, words, 0xff, t));
  }
  if (j < words) {
    __mmask8 m = (__mmask8)low_bits(words - j);
    __m512i t = tie ? ld(tie + j, m) : _mm512_setzero_si512();
    _mm512_mask_storeu_epi64(out + j, m, bundle_column<NP>(batch + j, k, words, m, t));
  }
}

// One word's 64 counters, for G rows at once: each block of 16 counters is loaded and stored
// once per group rather than once per row. `valid` has a bit per counter that exists (< dim).
// Every row adds +w, then rows with a 1 subtract 2w: -w = w - 2w modulo 2^32.
template <int G>
inline void acc_word(int32_t* c, const uint64_t* x, __m512i sum_w, const __m512i* w2, uint64_t valid) {
  for (int q = 0; q < 4; q++) {
    __mmask16 lim = (__mmask16)(valid >> (16 * q));
    if (!lim) return;
    __m512i v = _mm512_add_epi32(_mm512_maskz_loadu_epi32(lim, c + 16 * q), sum_w);
    for (int g = 0; g < G; g++) v = _mm512_mask_sub_epi32(v, (__mmask16)(x[g] >> (16 * q)), v, w2[g]);
    _mm512_mask_storeu_epi32(c + 16 * q, lim, v);
  }
}

template <int G>
inline void acc_rows(int32_t* counters, uint32_t dim, const uint64_t* rows, size_t words, const int32_t* weights) {
  int32_t sum = 0;
  __m512i w2[G];
  for (int g = 0; g < G; g++) {
    int32_t w = weights ? ld32(weights + g) : 1;
    sum = wrap_add(sum, w);
    w2[g] = _mm512_set1_epi32(wrap_add(w, w));
  }
  __m512i sum_w = _mm512_set1_epi32(sum);
  size_t full = dim >> 6;
  uint64_t x[G];
  for (size_t j = 0; j < full; j++) {
    for (int g = 0; g < G; g++) x[g] = ld64(rows + g * words + j);
    acc_word<G>(counters + (j << 6), x, sum_w, w2, ~(uint64_t)0);
  }
  if (full < words) {
    for (int g = 0; g < G; g++) x[g] = ld64(rows + g * words + full);
    acc_word<G>(counters + (full << 6), x, sum_w, w2, low_bits(dim & 63));
  }
}

inline uint64_t threshold_word(const int32_t* c, uint64_t tie, uint64_t valid) {
  const __m512i zero = _mm512_setzero_si512();
  uint64_t w = 0;
  for (int q = 0; q < 4; q++) {
    __mmask16 lim = (__mmask16)(valid >> (16 * q));
    if (!lim) break;
    __m512i v = _mm512_maskz_loadu_epi32(lim, c + 16 * q);
    // Lanes past dim load as zero: never negative, and masked out of the tie compare.
    __mmask16 bits = _mm512_cmplt_epi32_mask(v, zero) |
                     _mm512_mask_cmpeq_epi32_mask(lim & (__mmask16)(tie >> (16 * q)), v, zero);
    w |= (uint64_t)bits << (16 * q);
  }
  return w;
}

// Sum of the counters under each row's set bits, for G rows sharing each counter load. The
// counters are widened to int64 lanes, which cannot overflow below 2^32 additions per lane.
template <int G>
inline void dot_word(const int32_t* c, const uint64_t* x, __m512i* acc, uint64_t valid) {
  for (int b = 0; b < 8; b++) {
    __mmask8 lim = (__mmask8)(valid >> (8 * b));
    if (!lim) return;
    __m512i cv = ld_widen(c + 8 * b, lim);
    for (int g = 0; g < G; g++) acc[g] = _mm512_mask_add_epi64(acc[g], (__mmask8)(x[g] >> (8 * b)), acc[g], cv);
  }
}

template <int G>
inline void neg_sums(const uint64_t* rows, size_t words, const int32_t* cr, uint32_t dim, int64_t* neg) {
  __m512i acc[G];
  for (int g = 0; g < G; g++) acc[g] = _mm512_setzero_si512();
  size_t full = dim >> 6;
  uint64_t x[G];
  for (size_t j = 0; j < full; j++) {
    for (int g = 0; g < G; g++) x[g] = ld64(rows + g * words + j);
    dot_word<G>(cr + (j << 6), x, acc, ~(uint64_t)0);
  }
  if (full < words) {
    for (int g = 0; g < G; g++) x[g] = ld64(rows + g * words + full);
    dot_word<G>(cr + (full << 6), x, acc, low_bits(dim & 63));
  }
  for (int g = 0; g < G; g++) neg[g] = hsum64(acc[g]);
}

inline int64_t counter_total(const int32_t* cr, uint32_t dim) {
  __m512i acc = _mm512_setzero_si512();
  for (size_t i = 0; i < dim; i += 8) {
    __mmask8 lim = (__mmask8)low_bits(dim - i);
    acc = _mm512_add_epi64(acc, ld_widen(cr + i, lim));
  }
  return hsum64(acc);
}

}  // namespace

void bind_avx512(const uint64_t* a, const uint64_t* b, int b_stride, size_t n, size_t words, uint64_t* out) {
  // With b_stride both operands are flat arrays of n * words words: one stream, one tail.
  size_t rows = b_stride ? 1 : n, len = b_stride ? n * words : words;
  for (size_t r = 0; r < rows; r++) {
    const uint64_t* ar = a + r * len;
    uint64_t* o = out + r * len;
    size_t j = 0;
    for (; j + 8 <= len; j += 8)
      _mm512_storeu_si512(o + j, _mm512_xor_si512(_mm512_loadu_si512(ar + j), _mm512_loadu_si512(b + j)));
    if (j < len) {
      __mmask8 m = (__mmask8)low_bits(len - j);
      _mm512_mask_storeu_epi64(o + j, m, _mm512_xor_si512(ld(ar + j, m), ld(b + j, m)));
    }
  }
}

void hamming_1xn_avx512(const uint64_t* q, const uint64_t* batch, size_t n, size_t words, uint32_t* out) {
  hamming_1xn(q, batch, n, words, out);
}

namespace {

// hamming_mxn register tiles: Q queries x R rows of b per pass, so each column's Q + R loads
// feed Q * R xor/popcount/add triples (the 1 x n kernel loads 1.25 vectors per triple, most of
// them line-splitting: 157-word rows start anywhere within a line).
const int kTileQ = 6, kTileR = 4;  // 4 x 4, 4 x 6, 8 x 2, 8 x 3 were no faster at D = 10,000

// Sums of the 64-bit lanes of a0..a3 as four uint32 at out (each sum < 2^32: dim <= 2^24).
inline void hsum4_store(__m512i a0, __m512i a1, __m512i a2, __m512i a3, uint32_t* out) {
  // Per 128-bit lane: (a0, a1) and (a2, a3) pair sums, then a2/a3 moved to the high dwords.
  // (maskz forms: GCC 12's plain ones start from an "undefined" vector, as noted at hsum64.)
  __m512i s01 = _mm512_add_epi64(_mm512_maskz_unpacklo_epi64(0xff, a0, a1), _mm512_maskz_unpackhi_epi64(0xff, a0, a1));
  __m512i s23 = _mm512_add_epi64(_mm512_maskz_unpacklo_epi64(0xff, a2, a3), _mm512_maskz_unpackhi_epi64(0xff, a2, a3));
  __m512i v = _mm512_or_si512(s01, _mm512_maskz_slli_epi64(0xff, s23, 32));  // dwords a0 a2 a1 a3 per lane
  __m256i h = _mm256_add_epi32(_mm512_maskz_extracti64x4_epi64(0xff, v, 0), _mm512_maskz_extracti64x4_epi64(0xff, v, 1));
  __m128i t = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
  _mm_storeu_si128((__m128i*)out, _mm_shuffle_epi32(t, _MM_SHUFFLE(3, 1, 2, 0)));
}

// Distances of Q queries (rows of a) to R consecutive rows of b: out[q * n + r]. With PF the
// rows kPrefetchRows further on are prefetched (the first pass over a block, which may come
// from DRAM); later passes find the block in L2.
template <int Q, int R, bool PF>
inline void mxn_tile(const uint64_t* a, const uint64_t* rows, size_t words, uint32_t* out, size_t n) {
  __m512i acc[Q][R];
  for (int q = 0; q < Q; q++)
    for (int r = 0; r < R; r++) acc[q][r] = _mm512_setzero_si512();
  size_t j = 0;
  for (; j + 8 <= words; j += 8) {
    __m512i bv[R];
    for (int r = 0; r < R; r++) {
      if (PF) _mm_prefetch((const char*)(rows + (kPrefetchRows + r) * words + j), _MM_HINT_T0);
      bv[r] = _mm512_loadu_si512(rows + r * words + j);
    }
    for (int q = 0; q < Q; q++) {
      __m512i qv = _mm512_loadu_si512(a + q * words + j);
      for (int r = 0; r < R; r++)
        acc[q][r] = _mm512_add_epi64(acc[q][r], _mm512_popcnt_epi64(_mm512_xor_si512(qv, bv[r])));
    }
  }
  if (j < words) {
    __mmask8 m = (__mmask8)low_bits(words - j);
    __m512i bv[R];
    for (int r = 0; r < R; r++) bv[r] = ld(rows + r * words + j, m);
    for (int q = 0; q < Q; q++) {
      __m512i qv = ld(a + q * words + j, m);
      for (int r = 0; r < R; r++)
        acc[q][r] = _mm512_add_epi64(acc[q][r], _mm512_popcnt_epi64(_mm512_xor_si512(qv, bv[r])));
    }
  }
  for (int q = 0; q < Q; q++) {
    if constexpr (R == 4) {
      hsum4_store(acc[q][0], acc[q][1], acc[q][2], acc[q][3], out + q * n);
    } else {
      for (int r = 0; r < R; r++) out[q * n + r] = (uint32_t)hsum64(acc[q][r]);
    }
  }
}

// Q queries against rows [0, bn) of a block of b.
template <int Q, bool PF>
inline void mxn_queries(const uint64_t* a, const uint64_t* rows, size_t bn, size_t words, uint32_t* out, size_t n) {
  size_t r = 0;
  for (; r + kTileR <= bn; r += kTileR) mxn_tile<Q, kTileR, PF>(a, rows + r * words, words, out + r, n);
  for (; r < bn; r++) mxn_tile<Q, 1, PF>(a, rows + r * words, words, out + r, n);
}

// The last m < kTileQ queries, a tile of that height; with PF when no full tile went first.
template <int Q>
inline void mxn_rest(const uint64_t* a, size_t m, const uint64_t* rows, size_t bn, size_t words, uint32_t* out,
                     size_t n, bool pf) {
  if constexpr (Q > 0) {
    if ((size_t)Q != m) return mxn_rest<Q - 1>(a, m, rows, bn, words, out, n, pf);
    if (pf) mxn_queries<Q, true>(a, rows, bn, words, out, n);
    else mxn_queries<Q, false>(a, rows, bn, words, out, n);
  }
}

}  // namespace

void hamming_mxn_avx512(const uint64_t* a, size_t m, const uint64_t* b, size_t n, size_t words, uint32_t* out) {
  // Blocks of b rows sized to stay in L2 while every query of a scans them, kTileQ queries at a
  // time (their 6 x 1,256 bytes at D = 10,000 stay in L1 across the block).
  size_t block = words ? (256 * 1024 / 8) / words : n;
  if (block == 0) block = 1;
  for (size_t r0 = 0; r0 < n; r0 += block) {
    size_t bn = n - r0 < block ? n - r0 : block;
    const uint64_t* rows = b + r0 * words;
    size_t i = 0;
    for (; i + kTileQ <= m; i += kTileQ) {
      if (i == 0) mxn_queries<kTileQ, true>(a, rows, bn, words, out + r0, n);
      else mxn_queries<kTileQ, false>(a + i * words, rows, bn, words, out + i * n + r0, n);
    }
    if (i < m) mxn_rest<kTileQ - 1>(a + i * words, m - i, rows, bn, words, out + i * n + r0, n, i == 0);
  }
}

void bundle_avx512(const uint64_t* batch, size_t k, size_t words, const uint64_t* tie, uint64_t* out) {
  // Planes held in registers (32 zmm: up to 16 planes plus the CSA tree's temporaries). Keeping
  // them all there instead of planes 4 and up in L1 measured ~20% faster at k = 128.
  if (k < 16) return bundle_columns<4>(batch, k, words, tie, out);
  if (k < 256) return bundle_columns<8>(batch, k, words, tie, out);
  if (k < 65536) return bundle_columns<16>(batch, k, words, tie, out);
  unsigned np = 4;
  while (np < 64 && (k >> np) != 0) np++;
  for (size_t j = 0; j < words; j += 8) {
    __mmask8 m = (__mmask8)low_bits(words - j);
    __m512i t = tie ? ld(tie + j, m) : _mm512_setzero_si512();
    _mm512_mask_storeu_epi64(out + j, m, bundle_column_any(batch + j, k, words, m, np, t));
  }
}

void acc_add_avx512(int32_t* counters, uint32_t dim, const uint64_t* batch, size_t n, const int32_t* weights) {
  size_t words = hdg_words(dim);
  size_t r = 0;
  for (; r + 4 <= n; r += 4) acc_rows<4>(counters, dim, batch + r * words, words, weights ? weights + r : nullptr);
  for (; r < n; r++) acc_rows<1>(counters, dim, batch + r * words, words, weights ? weights + r : nullptr);
}

void threshold_avx512(const int32_t* counters, size_t m, uint32_t dim, const uint64_t* tie, uint64_t* out) {
  size_t words = hdg_words(dim), full = dim >> 6;
  for (size_t c = 0; c < m; c++) {
    const int32_t* cr = counters + c * (size_t)dim;
    uint64_t* o = out + c * words;
    for (size_t j = 0; j < full; j++) st64(o + j, threshold_word(cr + (j << 6), tie ? ld64(tie + j) : 0, ~(uint64_t)0));
    if (full < words)
      st64(o + full, threshold_word(cr + (full << 6), tie ? ld64(tie + full) : 0, low_bits(dim & 63)));
  }
}

void dot_counters_avx512(const uint64_t* hvs, size_t n, const int32_t* counters, size_t m, uint32_t dim,
                         int64_t* out) {
  size_t words = hdg_words(dim);
  for (size_t c = 0; c < m; c++) {
    const int32_t* cr = counters + c * (size_t)dim;
    int64_t total = counter_total(cr, dim), neg[4];
    size_t r = 0;
    for (; r + 4 <= n; r += 4) {
      neg_sums<4>(hvs + r * words, words, cr, dim, neg);
      for (int g = 0; g < 4; g++) out[(r + g) * m + c] = total - 2 * neg[g];
    }
    for (; r < n; r++) {
      neg_sums<1>(hvs + r * words, words, cr, dim, neg);
      out[r * m + c] = total - 2 * neg[0];
    }
  }
}

HDG_TARGET_END

// ---------------------------------------------------------------------------------------------
// Level encoder. Per block of output rows and per 512-bit column, the column's slices of every
// position row and of every level row the block uses are copied to an aligned, zero-padded
// stack scratch (64 bytes a row); then each row of the block runs a Harley-Seal tree over its
// features, all counter planes in registers, reading only that scratch. The copy costs (features +
// levels) loads per column and block against 2 * features per output row, and buys aligned,
// never line-splitting loads (rows of 157 words start anywhere within a line, so direct loads
// nearly all split, costing two load slots) and a shift instead of a multiply per feature:
// measured at D = 10,000, 128 features, 100 levels, ~520k rows/s against ~300k reading the
// arrays directly; blocks of 64 rows, trees of 32 rows and software prefetch of the next column
// measured no better. The bind XOR stays a separate instruction: a leaf CSA over two bound rows
// takes four ternlogs however the XORs are folded in. When the scratch would not fit, or the
// feature count needs more than 16 planes, the same tree reads the caller's arrays directly.

HDG_TARGET_BEGIN("avx512f,avx512bw,avx512vl,avx512vpopcntdq,avx2,popcnt,bmi,bmi2")

namespace {

// Output rows per block: their bins (rows * features * 2 bytes) stay in L1 with the scratch.
const size_t kEncBlock = 32;
// Scratch rows (64 bytes each) for positions plus levels: 32 KiB of stack.
const size_t kEncScratchRows = 512;

// Feature rows read from the scratch: row f of the column is level bins[f] ^ position f.
struct EncScratch {
  const __m512i* lv;
  const __m512i* pos;
  const uint16_t* b;
  __m512i row(size_t f) const { return _mm512_xor_si512(_mm512_load_si512(lv + b[f]), _mm512_load_si512(pos + f)); }
};

// Feature rows read from the caller's arrays (column j, lanes m).
struct EncDirect {
  const uint64_t* lv;
  const uint64_t* pos;
  const uint16_t* b;
  size_t words;
  __mmask8 m;
  __m512i row(size_t f) const {
    return _mm512_xor_si512(ld(lv + (size_t)b[f] * words, m), ld(pos + f * words, m));
  }
};

// Harley-Seal over 2^L feature rows from f: adds them into planes s[0..L) and returns the carry,
// worth 2^L. The same tree as add16 for L = 4, with the bind XOR on every leaf.
template <int L, class Src>
__attribute__((always_inline)) inline __m512i enc_add(__m512i* s, const Src& src, size_t f) {
  __m512i hi;
  if constexpr (L == 1) {
    csa(hi, s[0], s[0], src.row(f), src.row(f + 1));
  } else {
    __m512i a = enc_add<L - 1>(s, src, f);
    __m512i b = enc_add<L - 1>(s, src, f + ((size_t)1 << (L - 1)));
    csa(hi, s[L - 1], s[L - 1], a, b);
  }
  return hi;
}

// The rest of fewer than 2^(L+1) rows from f: trees of 2^L, 2^(L-1), ... rows, then a last single row.
template <int L, unsigned NP, class Src>
__attribute__((always_inline)) inline void enc_rest(__m512i* p, const Src& src, size_t f, size_t features) {
  if constexpr (L >= 1) {
    if (features - f >= ((size_t)1 << L)) {
      ripple(p + L, NP - L, enc_add<L>(p, src, f));
      f += (size_t)1 << L;
    }
    enc_rest<L - 1, NP>(p, src, f, features);
  } else {
    if (f < features) ripple(p, NP, src.row(f));
  }
}

// Majority over features < 2^NP rows of one column, all NP planes in registers: trees of 2^K
// rows whose carries ripple into planes K and up, then smaller trees for the rest.
template <unsigned NP, class Src>
__attribute__((always_inline)) inline __m512i enc_column(const Src& src, size_t features, __m512i tie) {
  constexpr int K = NP - 1 < 7 ? NP - 1 : 7;
  __m512i p[NP];
  for (unsigned i = 0; i < NP; i++) p[i] = _mm512_setzero_si512();
  size_t f = 0;
  for (; features - f >= ((size_t)1 << K); f += (size_t)1 << K) ripple(p + K, NP - K, enc_add<K>(p, src, f));
  enc_rest<K - 1, NP>(p, src, f, features);
  return majority(p, NP, features, tie);
}

// Any feature count (planes 4 and up in L1), reading the caller's arrays.
inline __m512i enc_column_any(const EncDirect& src, size_t features, unsigned np, __m512i tie) {
  __m512i p[64], s[4];
  for (unsigned i = 0; i < np; i++) p[i] = _mm512_setzero_si512();
  for (int i = 0; i < 4; i++) s[i] = p[0];
  size_t f = 0;
  for (; f + 16 <= features; f += 16) ripple(p + 4, np - 4, enc_add<4>(s, src, f));
  for (int i = 0; i < 4; i++) p[i] = s[i];
  for (; f < features; f++) ripple(p, np, src.row(f));
  return majority(p, np, features, tie);
}

// Rows [0, n) (one block) through the scratch; nl level rows are used.
template <unsigned NP>
void enc_block_scratch(const uint16_t* bins, size_t n, size_t features, const uint64_t* levels,
                       const uint64_t* positions, size_t nl, size_t words, const uint64_t* tie, uint64_t* out) {
  alignas(64) __m512i scratch[kEncScratchRows];
  __m512i* pos = scratch;
  __m512i* lv = scratch + features;
  for (size_t j = 0; j < words; j += 8) {
    __mmask8 m = (__mmask8)low_bits(words - j);
    for (size_t f = 0; f < features; f++) _mm512_store_si512(pos + f, ld(positions + f * words + j, m));
    for (size_t l = 0; l < nl; l++) _mm512_store_si512(lv + l, ld(levels + l * words + j, m));
    __m512i t = tie ? ld(tie + j, m) : _mm512_setzero_si512();
    for (size_t r = 0; r < n; r++) {
      __m512i v = enc_column<NP>(EncScratch{lv, pos, bins + r * features}, features, t);
      _mm512_mask_storeu_epi64(out + r * words + j, m, v);
    }
  }
}

template <unsigned NP>
void enc_block_direct(const uint16_t* bins, size_t n, size_t features, const uint64_t* levels,
                      const uint64_t* positions, size_t words, const uint64_t* tie, uint64_t* out) {
  size_t j = 0;
  for (; j + 8 <= words; j += 8) {
    __m512i t = tie ? _mm512_loadu_si512(tie + j) : _mm512_setzero_si512();
    for (size_t r = 0; r < n; r++) {
      EncDirect src{levels + j, positions + j, bins + r * features, words, 0xff};
      _mm512_storeu_si512(out + r * words + j, enc_column<NP>(src, features, t));
    }
  }
  if (j < words) {
    __mmask8 m = (__mmask8)low_bits(words - j);
    __m512i t = tie ? ld(tie + j, m) : _mm512_setzero_si512();
    for (size_t r = 0; r < n; r++) {
      EncDirect src{levels + j, positions + j, bins + r * features, words, m};
      _mm512_mask_storeu_epi64(out + r * words + j, m, enc_column<NP>(src, features, t));
    }
  }
}

template <unsigned NP>
void enc_block(const uint16_t* bins, size_t n, size_t features, const uint64_t* levels, const uint64_t* positions,
               size_t words, const uint64_t* tie, uint64_t* out) {
  unsigned maxbin = 0;
  for (size_t i = 0; i < n * features; i++) maxbin = bins[i] > maxbin ? bins[i] : maxbin;
  size_t nl = features ? (size_t)maxbin + 1 : 0;
  if (features + nl <= kEncScratchRows)
    enc_block_scratch<NP>(bins, n, features, levels, positions, nl, words, tie, out);
  else
    enc_block_direct<NP>(bins, n, features, levels, positions, words, tie, out);
}

}  // namespace

void encode_levels_avx512(const uint16_t* bins, size_t n, size_t features, const uint64_t* levels,
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
      unsigned np = 4;
      while (np < 64 && (features >> np) != 0) np++;
      for (size_t j = 0; j < words; j += 8) {
        __mmask8 m = (__mmask8)low_bits(words - j);
        __m512i t = tie ? ld(tie + j, m) : _mm512_setzero_si512();
        for (size_t r = 0; r < bn; r++) {
          EncDirect src{levels + j, positions + j, b + r * features, words, m};
          _mm512_mask_storeu_epi64(o + r * words + j, m, enc_column_any(src, features, np, t));
        }
      }
    }
  }
}

// Binning, eight features at a time: the same guess, corrections and top clip as bin_one, with
// the bin index kept as an exact integer in a double so every step is the scalar's own IEEE
// operation. A correction loop repeats while any lane still moves, exactly like the scalar
// while-loops; flat features and masked-off lanes take no part and flat ones go through bin_one.
void bin_rows_avx512(const double* x, size_t n, size_t features, const hdg_binning_t* b, uint16_t* out) {
  const __m512d zero = _mm512_setzero_pd(), one = _mm512_set1_pd(1.0);
  const __m512d top = _mm512_set1_pd((double)(b->bins - 1)), nbins = _mm512_set1_pd((double)b->bins);
  for (size_t f = 0; f < features; f += 8) {
    size_t cnt = features - f < 8 ? features - f : 8;
    const __mmask8 m = (__mmask8)low_bits(cnt);
    const __mmask8 flat = _mm_mask_test_epi8_mask((__mmask16)m, _mm_maskz_loadu_epi8((__mmask16)m, b->flat + f),
                                                  _mm_set1_epi8(-1));
    const __mmask8 live = (__mmask8)(m & ~flat);
    const __m512d lo = _mm512_maskz_loadu_pd(m, b->lo + f), hi = _mm512_maskz_loadu_pd(m, b->hi + f);
    const __m512d step = _mm512_maskz_loadu_pd(m, b->step + f), inv = _mm512_maskz_loadu_pd(m, b->inv + f);
    for (size_t r = 0; r < n; r++) {
      const double* xr = x + r * features + f;
      __m512d v = _mm512_maskz_loadu_pd(m, xr);
      __m512d c = _mm512_mul_pd(_mm512_sub_pd(v, lo), inv);
      c = _mm512_mask_blend_pd(_mm512_cmp_pd_mask(c, zero, _CMP_GT_OQ), zero, c);
      c = _mm512_mask_blend_pd(_mm512_cmp_pd_mask(c, top, _CMP_LT_OQ), top, c);
      __m512d j = _mm512_maskz_roundscale_pd(0xff, c, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
      for (;;) {
        __m512d e = _mm512_add_pd(_mm512_mul_pd(j, step), lo);
        __mmask8 d = _mm512_mask_cmp_pd_mask(live, v, e, _CMP_LT_OQ) & _mm512_cmp_pd_mask(j, zero, _CMP_GT_OQ);
        if (!d) break;
        j = _mm512_mask_sub_pd(j, d, j, one);
      }
      for (;;) {
        __m512d j1 = _mm512_add_pd(j, one);
        __m512d e = _mm512_add_pd(_mm512_mul_pd(j1, step), lo);
        __mmask8 u = _mm512_mask_cmp_pd_mask(live, v, e, _CMP_GE_OQ) & _mm512_cmp_pd_mask(j1, nbins, _CMP_LT_OQ);
        if (!u) break;
        j = _mm512_mask_mov_pd(j, u, j1);
      }
      j = _mm512_mask_mov_pd(j, _mm512_cmp_pd_mask(v, hi, _CMP_GE_OQ), top);
      uint16_t* o = out + r * features + f;
      _mm_mask_storeu_epi16(o, m, _mm256_cvtepi32_epi16(_mm512_maskz_cvttpd_epu32(0xff, j)));
      for (unsigned k = flat; k; k &= k - 1) {
        unsigned i = (unsigned)__builtin_ctz(k);
        o[i] = (uint16_t)bin_one(xr[i], b, f + i);
      }
    }
  }
}

HDG_TARGET_END

// ---------------------------------------------------------------------------------------------
// Online refinement: one HV against every class row (dots_one, dots_i16) and one HV into one row
// (row_add, row_add_i16). The HV's bits are the masks themselves: a 16- or 32-bit slice of a word
// becomes a __mmask16 / __mmask32 with one kmov, shared by every row of a group, so a pass over
// the HV serves up to kDotsGroup rows and the rows' counters are each read once.

HDG_TARGET_BEGIN("avx512f,avx512bw,avx512vl,avx512vpopcntdq,avx2,popcnt,bmi,bmi2")

namespace {

// Rows per pass: int16 dots keep one accumulator per row and HV, two HV slices per HV, and the
// constants in the 32 zmm registers (one HV: 14 rows; two HVs: 11); int32 dots keep two per row
// (the int32 lanes and their int64 widening).
const size_t kDotsGroupI16 = 14, kDotsGroupI16Pair = 11, kDotsGroupI32 = 10;

// Words per int16 block: a lane gains at most 2 * 2^16 per word, so 2,048 words stay below 2^28
// and an int32 lane cannot overflow before the block's sums are widened.
const size_t kI16BlockWords = 2048;

// Words between widenings of the int32 dots: 4 additions of |c| < 2^24 per lane per word, 16
// words make 64 of them, below 2^30.
const size_t kI32BlockWords = 16;

// Sum of the 16 int32 lanes of v, exact in int64.
inline int64_t hsum32_wide(__m512i v) {
  __m512i lo = _mm512_maskz_cvtepi32_epi64(0xff, _mm512_maskz_extracti64x4_epi64(0xff, v, 0));
  __m512i hi = _mm512_maskz_cvtepi32_epi64(0xff, _mm512_maskz_extracti64x4_epi64(0xff, v, 1));
  return hsum64(_mm512_add_epi64(lo, hi));
}

// Dots of B HVs with G int16 rows (stride apart): each 32-bit slice of an HV turns into 32 lanes
// of +1 / -1 with one masked blend, and vpmaddwd multiplies and pairs them with the counters into
// int32 lanes. Each counter vector, once loaded, serves all B HVs: the rows (200 KB at D = 10,000
// and 10 classes) come from L2 once per B visited rows. Padding counters are zero, so neither a
// tail nor stray padding bits need care. out[r * m + g].
template <int B, int G>
inline void dots_i16_group(const uint64_t* const* hvs, const int16_t* rows, size_t stride, size_t words, size_t m,
                           int64_t* out) {
  const __m512i plus = _mm512_set1_epi16(1), minus = _mm512_set1_epi16(-1);
  int64_t sum[B][G];
  for (int r = 0; r < B; r++)
    for (int g = 0; g < G; g++) sum[r][g] = 0;
  for (size_t j0 = 0; j0 < words; j0 += kI16BlockWords) {
    size_t j1 = words - j0 < kI16BlockWords ? words : j0 + kI16BlockWords;
    __m512i acc[B][G];
    for (int r = 0; r < B; r++)
      for (int g = 0; g < G; g++) acc[r][g] = _mm512_setzero_si512();
    for (size_t j = j0; j < j1; j++) {
      __m512i x0[B], x1[B];
      for (int r = 0; r < B; r++) {
        uint64_t w = ld64(hvs[r] + j);
        x0[r] = _mm512_mask_blend_epi16((__mmask32)w, plus, minus);
        x1[r] = _mm512_mask_blend_epi16((__mmask32)(w >> 32), plus, minus);
      }
      for (int g = 0; g < G; g++) {
        const int16_t* c = rows + g * stride + (j << 6);
        __m512i c0 = _mm512_loadu_si512(c), c1 = _mm512_loadu_si512(c + 32);
        for (int r = 0; r < B; r++)
          acc[r][g] = _mm512_add_epi32(acc[r][g], _mm512_add_epi32(_mm512_madd_epi16(c0, x0[r]), _mm512_madd_epi16(c1, x1[r])));
      }
    }
    for (int r = 0; r < B; r++)
      for (int g = 0; g < G; g++) sum[r][g] += hsum32_wide(acc[r][g]);
  }
  for (int r = 0; r < B; r++)
    for (int g = 0; g < G; g++) out[r * m + g] = sum[r][g];
}

// Dots of G int32 rows (dim apart), |counter| < 2^24: each 16-bit slice of the HV negates the
// counters under its set bits (a masked subtract from zero, exact in that range) into int32 lanes,
// widened to int64 every kI32BlockWords words. The last, partial word loads only counters below dim.
template <int G>
inline void dots_one_group(const uint64_t* hv, const int32_t* rows, uint32_t dim, int64_t* out) {
  const __m512i zero = _mm512_setzero_si512();
  const size_t words = hdg_words(dim);
  __m512i wide[G];
  for (int g = 0; g < G; g++) wide[g] = zero;
  for (size_t j0 = 0; j0 < words; j0 += kI32BlockWords) {
    size_t j1 = words - j0 < kI32BlockWords ? words : j0 + kI32BlockWords;
    __m512i acc[G];
    for (int g = 0; g < G; g++) acc[g] = zero;
    for (size_t j = j0; j < j1; j++) {
      uint64_t valid = (j + 1) << 6 <= dim ? ~(uint64_t)0 : low_bits(dim & 63);
      uint64_t w = ld64(hv + j) & valid;
      for (int q = 0; q < 4; q++) {
        __mmask16 lim = (__mmask16)(valid >> (16 * q));
        if (!lim) break;
        __mmask16 neg = (__mmask16)(w >> (16 * q));
        for (int g = 0; g < G; g++) {
          __m512i c = _mm512_maskz_loadu_epi32(lim, rows + g * (size_t)dim + (j << 6) + 16 * q);
          acc[g] = _mm512_add_epi32(acc[g], _mm512_mask_sub_epi32(c, neg, zero, c));
        }
      }
    }
    for (int g = 0; g < G; g++) {
      wide[g] = _mm512_add_epi64(wide[g], _mm512_maskz_cvtepi32_epi64(0xff, _mm512_maskz_extracti64x4_epi64(0xff, acc[g], 0)));
      wide[g] = _mm512_add_epi64(wide[g], _mm512_maskz_cvtepi32_epi64(0xff, _mm512_maskz_extracti64x4_epi64(0xff, acc[g], 1)));
    }
  }
  for (int g = 0; g < G; g++) out[g] = hsum64(wide[g]);
}

// Group sizes as template arguments: pick<.., G, MaxG>(g) runs the kernel instantiated for g rows.
template <int B, int G, int MaxG>
inline void dots_i16_pick(size_t g, const uint64_t* const* hvs, const int16_t* rows, size_t stride, size_t words,
                          size_t m, int64_t* out) {
  if constexpr (G < MaxG) {
    if ((size_t)G != g) return dots_i16_pick<B, G + 1, MaxG>(g, hvs, rows, stride, words, m, out);
  }
  dots_i16_group<B, G>(hvs, rows, stride, words, m, out);
}

template <int G, int MaxG>
inline void dots_one_pick(size_t g, const uint64_t* hv, const int32_t* rows, uint32_t dim, int64_t* out) {
  if constexpr (G < MaxG) {
    if ((size_t)G != g) return dots_one_pick<G + 1, MaxG>(g, hv, rows, dim, out);
  }
  dots_one_group<G>(hv, rows, dim, out);
}

// Splits m rows into the fewest groups of at most max_g, of nearly equal sizes (10 classes make
// one group of 10, 26 make two of 13), and gives each group's first row and size to f.
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

void dots_i16_avx512(const uint64_t* const* hvs, size_t b, const int16_t* c16, size_t m, size_t words,
                     int64_t* out) {
  const size_t stride = words << 6;
  // Two HVs per pass: at D = 10,000 and 10 classes a refinement epoch ran ~20% faster than with
  // one, and no faster with four (five rows per pass, so the HV slices are made three times).
  size_t r = 0;
  for (; r + 2 <= b; r += 2)
    balanced_groups(m, kDotsGroupI16Pair, [&](size_t first, size_t g) {
      dots_i16_pick<2, 1, (int)kDotsGroupI16Pair>(g, hvs + r, c16 + first * stride, stride, words, m,
                                                  out + r * m + first);
    });
  if (r < b)
    balanced_groups(m, kDotsGroupI16, [&](size_t first, size_t g) {
      dots_i16_pick<1, 1, (int)kDotsGroupI16>(g, hvs + r, c16 + first * stride, stride, words, m, out + r * m + first);
    });
}

void dots_one_avx512(const uint64_t* hv, const int32_t* counters, size_t m, uint32_t dim, int64_t* out) {
  balanced_groups(m, kDotsGroupI32, [&](size_t first, size_t g) {
    dots_one_pick<1, (int)kDotsGroupI32>(g, hv, counters + first * (size_t)dim, dim, out + first);
  });
}

void row_add_i16_avx512(int16_t* c16, uint32_t dim, const uint64_t* hv, int16_t w) {
  const __m512i pos = _mm512_set1_epi16(w), neg = _mm512_set1_epi16((int16_t)(uint16_t)(0u - (uint16_t)w));
  const size_t words = hdg_words(dim), full = dim >> 6;
  for (size_t j = 0; j < full; j++) {
    uint64_t x = ld64(hv + j);
    int16_t* c = c16 + (j << 6);
    _mm512_storeu_si512(c, _mm512_add_epi16(_mm512_loadu_si512(c), _mm512_mask_blend_epi16((__mmask32)x, pos, neg)));
    _mm512_storeu_si512(c + 32, _mm512_add_epi16(_mm512_loadu_si512(c + 32),
                                                 _mm512_mask_blend_epi16((__mmask32)(x >> 32), pos, neg)));
  }
  if (full < words) {
    // Counters at and above dim (the padding) are neither read nor written.
    uint64_t valid = low_bits(dim & 63), x = ld64(hv + full);
    int16_t* c = c16 + (full << 6);
    for (int h = 0; h < 2; h++) {
      __mmask32 lim = (__mmask32)(valid >> (32 * h));
      __m512i v = _mm512_maskz_loadu_epi16(lim, c + 32 * h);
      v = _mm512_add_epi16(v, _mm512_mask_blend_epi16((__mmask32)(x >> (32 * h)), pos, neg));
      _mm512_mask_storeu_epi16(c + 32 * h, lim, v);
    }
  }
}

void row_add_avx512(int32_t* counters, uint32_t dim, const uint64_t* hv, int32_t w) {
  const __m512i pos = _mm512_set1_epi32(w), neg = _mm512_set1_epi32(wrap_add(~w, 1));
  const size_t words = hdg_words(dim);
  for (size_t j = 0; j < words; j++) {
    uint64_t valid = (j + 1) << 6 <= dim ? ~(uint64_t)0 : low_bits(dim & 63), x = ld64(hv + j);
    int32_t* c = counters + (j << 6);
    for (int q = 0; q < 4; q++) {
      __mmask16 lim = (__mmask16)(valid >> (16 * q));
      if (!lim) break;
      __m512i d = _mm512_mask_blend_epi32((__mmask16)(x >> (16 * q)), pos, neg);
      _mm512_mask_storeu_epi32(c + 16 * q, lim, _mm512_add_epi32(_mm512_maskz_loadu_epi32(lim, c + 16 * q), d));
    }
  }
}

HDG_TARGET_END

}  // namespace hdg

#endif
