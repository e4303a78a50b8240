// Portable reference kernels. Every ISA variant is tested against these bit for bit, and the
// TypeScript backend mirrors them, so they favour obvious correctness over speed where the two
// conflict (they are still bit-sliced, never per-bit integer counting, for the bundle).
#include "kernels_scalar.h"

#include "load.h"

namespace hdg {

static inline unsigned popcount64(uint64_t x) {
#if defined(__GNUC__) || defined(__clang__)
  return (unsigned)__builtin_popcountll(x);
#else
  x = x - ((x >> 1) & 0x5555555555555555ULL);
  x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
  return (unsigned)((x * 0x0101010101010101ULL) >> 56);
#endif
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
    const uint64_t* row = batch + r * words;
    uint32_t d = 0;
    for (size_t j = 0; j < words; j++) d += popcount64(ld64(q + j) ^ ld64(row + j));
    out[r] = d;
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

void bundle_scalar(const uint64_t* batch, size_t k, size_t words, const uint64_t* tie, uint64_t* out) {
  unsigned nplanes = 0;
  while (nplanes < 64 && (k >> nplanes) != 0) nplanes++;
  // A block of words keeps its planes in L1 while every row streams past once.
  const size_t BLOCK = 8;
  uint64_t planes[8][64];
  for (size_t j0 = 0; j0 < words; j0 += BLOCK) {
    size_t bw = words - j0 < BLOCK ? words - j0 : BLOCK;
    for (size_t b = 0; b < bw; b++)
      for (unsigned p = 0; p < nplanes; p++) planes[b][p] = 0;
    for (size_t r = 0; r < k; r++) {
      const uint64_t* row = batch + r * words + j0;
      for (size_t b = 0; b < bw; b++) {
        uint64_t x = ld64(row + b);
        for (unsigned p = 0; x != 0; p++) {
          uint64_t carry = planes[b][p] & x;
          planes[b][p] ^= x;
          x = carry;
        }
      }
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
        uint64_t x = ld64(row + j);
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

}  // namespace hdg
