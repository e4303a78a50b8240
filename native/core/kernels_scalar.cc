// Portable reference kernels. Every ISA variant is tested against these bit for bit, and the
// TypeScript backend mirrors them, so they favour obvious correctness over speed where the two
// conflict (they are still bit-sliced, never per-bit integer counting, for the bundle).
#include "kernels.h"

#include "bin_one.h"
#include "load.h"

namespace hdg {

// At the x86-64 baseline there is no POPCNT instruction and __builtin_popcountll becomes a
// libgcc call, so x86 uses SWAR; on arm64 the builtin is a short NEON sequence.
static inline uint64_t popcount64(uint64_t x) {
#if defined(__aarch64__)
  return (uint64_t)__builtin_popcountll(x);
#else
  x = x - ((x >> 1) & 0x5555555555555555ULL);
  x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
  return (x * 0x0101010101010101ULL) >> 56;
#endif
}

// Carry-save adder: (h, l) = a + b + c, bit by bit.
static inline void csa(uint64_t& h, uint64_t& l, uint64_t a, uint64_t b, uint64_t c) {
  uint64_t u = a ^ b;
  h = (a & b) | (u & c);
  l = u ^ c;
}

// Harley-Seal: eight words cost seven CSAs and one popcount instead of eight popcounts.
static uint64_t popcount_xor(const uint64_t* a, const uint64_t* b, size_t words) {
  uint64_t total = 0, ones = 0, twos = 0, fours = 0, eights, twos_a, twos_b, fours_a, fours_b;
  size_t j = 0;
  for (; j + 8 <= words; j += 8) {
    csa(twos_a, ones, ones, ld64(a + j) ^ ld64(b + j), ld64(a + j + 1) ^ ld64(b + j + 1));
    csa(twos_b, ones, ones, ld64(a + j + 2) ^ ld64(b + j + 2), ld64(a + j + 3) ^ ld64(b + j + 3));
    csa(fours_a, twos, twos, twos_a, twos_b);
    csa(twos_a, ones, ones, ld64(a + j + 4) ^ ld64(b + j + 4), ld64(a + j + 5) ^ ld64(b + j + 5));
    csa(twos_b, ones, ones, ld64(a + j + 6) ^ ld64(b + j + 6), ld64(a + j + 7) ^ ld64(b + j + 7));
    csa(fours_b, twos, twos, twos_a, twos_b);
    csa(eights, fours, fours, fours_a, fours_b);
    total += popcount64(eights);
  }
  total = 8 * total + 4 * popcount64(fours) + 2 * popcount64(twos) + popcount64(ones);
  for (; j < words; j++) total += popcount64(ld64(a + j) ^ ld64(b + j));
  return total;
}

void bind_scalar(const uint64_t* a, const uint64_t* b, int b_stride, size_t n, size_t words, uint64_t* out) {
  for (size_t r = 0; r < n; r++) {
    const uint64_t* ar = a + r * words;
    const uint64_t* br = b + (b_stride ? r * words : 0);
    uint64_t* o = out + r * words;
    for (size_t j = 0; j < words; j++) st64(o + j, ld64(ar + j) ^ ld64(br + j));
  }
}

void hamming_1xn_scalar(const uint64_t* q, const uint64_t* batch, size_t n, size_t words, uint32_t* out) {
  for (size_t r = 0; r < n; r++) {
    out[r] = (uint32_t)popcount_xor(q, batch + r * words, words);
  }
}

void hamming_mxn_scalar(const uint64_t* a, size_t m, const uint64_t* b, size_t n, size_t words, uint32_t* out) {
  for (size_t i = 0; i < m; i++) hamming_1xn_scalar(a + i * words, b, n, words, out + i * n);
}

// Majority from bit-sliced counter planes: bit = count > k/2, tie when 2 * count == k.
// Planes hold the count of ones per bit position in binary, plane p = bit p of the count.
static inline uint64_t majority_from_planes(const uint64_t* planes, unsigned nplanes, uint64_t k,
                                            uint64_t tie_bits) {
  uint64_t half = k >> 1;
  uint64_t gt = 0, eq = ~(uint64_t)0;
  for (unsigned p = nplanes; p-- > 0;) {
    uint64_t c = planes[p];
    if ((half >> p) & 1) {
      eq &= c;
    } else {
      gt |= eq & c;
      eq &= ~c;
    }
  }
  // Bits of `half` above the top plane are zero because half < 2^nplanes.
  uint64_t tie = (k & 1) ? 0 : eq;
  return gt | (tie & tie_bits);
}

// Adds x (worth 2^p) into bit-sliced counter planes, carrying upwards while bits remain.
static inline void ripple_add(uint64_t* planes, unsigned p, uint64_t x) {
  for (; x != 0; p++) {
    uint64_t carry = planes[p] & x;
    planes[p] ^= x;
    x = carry;
  }
}

void bundle_scalar(const uint64_t* batch, size_t k, size_t words, const uint64_t* tie, uint64_t* out) {
  unsigned nplanes = 0;
  while (nplanes < 64 && (k >> nplanes) != 0) nplanes++;
  // Per column word, rows go through a carry-save tree eight at a time (ones, twos and fours
  // stay carry-save; each group's eights ripple into the planes from plane 3 up), so a row
  // costs under one CSA instead of a branchy ripple. Count = ones + 2 twos + 4 fours + 8 high,
  // which makes [ones, twos, fours, high...] an exact binary count at the end.
  const size_t BLOCK = 4;
  uint64_t planes[4][64];
  for (size_t j0 = 0; j0 < words; j0 += BLOCK) {
    size_t bw = words - j0 < BLOCK ? words - j0 : BLOCK;
    for (size_t b = 0; b < bw; b++) {
      for (unsigned p = 0; p < nplanes + 1 && p < 64; p++) planes[b][p] = 0;
      const uint64_t* col = batch + j0 + b;
      uint64_t ones = 0, twos = 0, fours = 0, eights, twos_a, twos_b, fours_a, fours_b;
      size_t r = 0;
      for (; r + 8 <= k; r += 8) {
        const uint64_t* x = col + r * words;
        csa(twos_a, ones, ones, ld64(x), ld64(x + words));
        csa(twos_b, ones, ones, ld64(x + 2 * words), ld64(x + 3 * words));
        csa(fours_a, twos, twos, twos_a, twos_b);
        csa(twos_a, ones, ones, ld64(x + 4 * words), ld64(x + 5 * words));
        csa(twos_b, ones, ones, ld64(x + 6 * words), ld64(x + 7 * words));
        csa(fours_b, twos, twos, twos_a, twos_b);
        csa(eights, fours, fours, fours_a, fours_b);
        ripple_add(planes[b], 3, eights);
      }
      ripple_add(planes[b], 0, ones);
      ripple_add(planes[b], 1, twos);
      ripple_add(planes[b], 2, fours);
      for (; r < k; r++) ripple_add(planes[b], 0, ld64(col + r * words));
    }
    for (size_t b = 0; b < bw; b++) {
      uint64_t tb = tie ? ld64(tie + j0 + b) : 0;
      st64(out + j0 + b, majority_from_planes(planes[b], nplanes, k, tb));
    }
  }
}

void acc_add_scalar(int32_t* counters, uint32_t dim, const uint64_t* batch, size_t n, const int32_t* weights) {
  size_t words = hdg_words(dim);
  for (size_t r = 0; r < n; r++) {
    int32_t w = weights ? ld32(weights + r) : 1;
    const uint64_t* row = batch + r * words;
    for (size_t j = 0; j < words; j++) {
      uint64_t x = ld64(row + j);
      size_t base = j << 6;
      unsigned lim = (unsigned)(dim - base < 64 ? dim - base : 64);
      for (unsigned b = 0; b < lim; b++) {
        // Conditional negate without a branch: m is 0 or -1.
        int32_t m = -(int32_t)((x >> b) & 1);
        int32_t delta = wrap_add((int32_t)(w ^ m), -m);
        st32(counters + base + b, wrap_add(ld32(counters + base + b), delta));
      }
    }
  }
}

void threshold_scalar(const int32_t* counters, size_t m, uint32_t dim, const uint64_t* tie, uint64_t* out) {
  size_t words = hdg_words(dim);
  for (size_t c = 0; c < m; c++) {
    const int32_t* cr = counters + c * (size_t)dim;
    uint64_t* o = out + c * words;
    for (size_t j = 0; j < words; j++) {
      size_t base = j << 6;
      unsigned lim = (unsigned)(dim - base < 64 ? dim - base : 64);
      uint64_t tb = tie ? ld64(tie + j) : 0;
      uint64_t w = 0;
      for (unsigned b = 0; b < lim; b++) {
        int32_t v = ld32(cr + base + b);
        uint64_t bit = v < 0 ? 1 : v > 0 ? 0 : (tb >> b) & 1;
        w |= bit << b;
      }
      st64(o + j, w);
    }
  }
}

void dot_counters_scalar(const uint64_t* hvs, size_t n, const int32_t* counters, size_t m, uint32_t dim,
                         int64_t* out) {
  size_t words = hdg_words(dim);
  for (size_t c = 0; c < m; c++) {
    const int32_t* cr = counters + c * (size_t)dim;
    int64_t total = 0;
    for (uint32_t i = 0; i < dim; i++) total += ld32(cr + i);
    for (size_t r = 0; r < n; r++) {
      const uint64_t* row = hvs + r * words;
      int64_t neg = 0;
      for (size_t j = 0; j < words; j++) {
        // Masking the last word keeps a row with stray padding bits from indexing past the
        // counters (the public API rejects such rows; a raw caller must not read out of bounds).
        uint64_t x = ld64(row + j) & (j + 1 == words ? tail_mask(dim) : ~(uint64_t)0);
        size_t base = j << 6;
        while (x) {
          unsigned b = (unsigned)__builtin_ctzll(x);
          neg += ld32(cr + base + b);
          x &= x - 1;
        }
      }
      out[r * m + c] = total - 2 * neg;
    }
  }
}

void dots_one_scalar(const uint64_t* hv, const int32_t* counters, size_t m, uint32_t dim, int64_t* out) {
  // The reference has no use for the SIMD levels' magnitude precondition: int64 sums take any int32.
  dot_counters_scalar(hv, 1, counters, m, dim, out);
}

void row_add_scalar(int32_t* counters, uint32_t dim, const uint64_t* hv, int32_t w) {
  acc_add_scalar(counters, dim, hv, 1, &w);
}

void dots_i16_scalar(const uint64_t* const* hvs, size_t b, const int16_t* c16, size_t m, size_t words,
                     int64_t* out) {
  const size_t stride = words << 6;
  for (size_t c = 0; c < m; c++) {
    const int16_t* cr = c16 + c * stride;
    // The padding counters are zero, so the whole padded row can be summed and every bit of
    // the last word visited: neither adds anything past dim.
    int64_t total = 0;
    for (size_t i = 0; i < stride; i++) total += cr[i];
    for (size_t r = 0; r < b; r++) {
      const uint64_t* hv = hvs[r];
      int64_t neg = 0;
      for (size_t j = 0; j < words; j++) {
        uint64_t x = ld64(hv + j);
        while (x) {
          neg += cr[(j << 6) + (unsigned)__builtin_ctzll(x)];
          x &= x - 1;
        }
      }
      out[r * m + c] = total - 2 * neg;
    }
  }
}

void row_add_i16_scalar(int16_t* c16, uint32_t dim, const uint64_t* hv, int16_t w) {
  for (uint32_t i = 0; i < dim; i++) {
    int bit = (int)((ld64(hv + (i >> 6)) >> (i & 63)) & 1);
    // Through uint16_t: the sum wraps modulo 2^16 like the SIMD lanes, with no signed overflow.
    uint16_t delta = bit ? (uint16_t)(0u - (uint16_t)w) : (uint16_t)w;
    c16[i] = (int16_t)(uint16_t)((uint16_t)c16[i] + delta);
  }
}

void encode_levels_scalar(const uint16_t* bins, size_t n, size_t features, const uint64_t* levels,
                          const uint64_t* positions, size_t words, const uint64_t* tie, uint64_t* out) {
  unsigned nplanes = 0;
  while (nplanes < 64 && (features >> nplanes) != 0) nplanes++;
  uint64_t planes[64];
  for (size_t r = 0; r < n; r++) {
    const uint16_t* b = bins + r * features;
    uint64_t* o = out + r * words;
    for (size_t j = 0; j < words; j++) {
      for (unsigned p = 0; p < nplanes; p++) planes[p] = 0;
      // The same carry-save tree as bundle_scalar, over rows formed on the fly.
      uint64_t ones = 0, twos = 0, fours = 0, eights, twos_a, twos_b, fours_a, fours_b;
      size_t f = 0;
      auto row = [&](size_t i) { return ld64(levels + (size_t)b[i] * words + j) ^ ld64(positions + i * words + j); };
      for (; f + 8 <= features; f += 8) {
        csa(twos_a, ones, ones, row(f), row(f + 1));
        csa(twos_b, ones, ones, row(f + 2), row(f + 3));
        csa(fours_a, twos, twos, twos_a, twos_b);
        csa(twos_a, ones, ones, row(f + 4), row(f + 5));
        csa(twos_b, ones, ones, row(f + 6), row(f + 7));
        csa(fours_b, twos, twos, twos_a, twos_b);
        csa(eights, fours, fours, fours_a, fours_b);
        ripple_add(planes, 3, eights);
      }
      ripple_add(planes, 0, ones);
      ripple_add(planes, 1, twos);
      ripple_add(planes, 2, fours);
      for (; f < features; f++) ripple_add(planes, 0, row(f));
      uint64_t tb = tie ? ld64(tie + j) : 0;
      st64(o + j, majority_from_planes(planes, nplanes, features, tb));
    }
  }
}

void bin_rows_scalar(const double* x, size_t n, size_t features, const hdg_binning_t* b, uint16_t* out) {
  for (size_t r = 0; r < n; r++)
    for (size_t f = 0; f < features; f++) out[r * features + f] = (uint16_t)bin_one(x[r * features + f], b, f);
}

}  // namespace hdg
