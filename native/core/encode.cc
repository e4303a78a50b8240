// Encoder drivers: binning or quantizing the float inputs, then the dispatched kernels, one call
// per batch. Work is blocked so the bins of 32 embeddings sit in L1 next to the codebook slices
// the kernel streams, and rows are split over threads. Each bin is decided by comparisons with
// edges computed exactly as lib/backend/js/encode.ts computes them (the build disables FMA
// contraction, -ffp-contract=off), so both backends bin every value identically.
#include <math.h>
#include <string.h>

#include <atomic>
#include <memory>
#include <vector>

#include "../include/hdglue.h"
#include "parallel.h"

namespace {

const size_t kBlock = 32;

// NaN and the infinities are exactly the values whose exponent bits are all ones; testing the
// bits lets the compiler vectorize the scan, which runs over every value before any encoding.
inline bool nonfinite_bits(float v) {
  uint32_t b;
  memcpy(&b, &v, 4);
  return (b & 0x7f800000u) == 0x7f800000u;
}
inline bool nonfinite_bits(double v) {
  uint64_t b;
  memcpy(&b, &v, 8);
  return (b & 0x7ff0000000000000ull) == 0x7ff0000000000000ull;
}

template <typename T>
bool first_nonfinite(const T* x, size_t count, size_t* bad) {
  const size_t chunk = 1024;
  for (size_t c0 = 0; c0 < count; c0 += chunk) {
    size_t c1 = c0 + chunk < count ? c0 + chunk : count;
    bool any = false;
    for (size_t i = c0; i < c1; i++) any |= nonfinite_bits(x[i]);
    if (!any) continue;
    for (size_t i = c0; i < c1; i++) {
      if (nonfinite_bits(x[i])) {
        *bad = i;
        return true;
      }
    }
  }
  return false;
}

// Per-feature constants of hdg_bin (hdg_binning_t), computed once per call instead of once per value.
struct Binning {
  std::vector<double> lo, hi, step, inv;
  std::vector<uint8_t> flat;
  hdg_binning_t view;
  Binning(const double* l, const double* h, size_t features, uint32_t bins)
      : lo(l, l + features), hi(h, h + features), step(features), inv(features), flat(features) {
    for (size_t f = 0; f < features; f++) {
      step[f] = (hi[f] - lo[f]) / bins;
      inv[f] = bins / (hi[f] - lo[f]);
      flat[f] = !(hi[f] > lo[f]) || !(step[f] > 0);
    }
    view = {lo.data(), hi.data(), step.data(), inv.data(), flat.data(), bins};
  }
};

// Rows of the block as doubles for the binning kernel: float input is widened (exactly) into
// `tmp`, double input is used in place.
inline const double* as_double(const float* x, size_t count, std::vector<double>& tmp) {
  for (size_t i = 0; i < count; i++) tmp[i] = (double)x[i];
  return tmp.data();
}
inline const double* as_double(const double* x, size_t, std::vector<double>&) { return x; }

template <typename T>
hdg_status_t encode(const hdg_kernels_t* kt, const T* x, size_t n, size_t features, const double* lo,
                    const double* hi, uint32_t bins, const uint64_t* levels, const uint64_t* positions, uint32_t dim,
                    const uint64_t* tie, uint64_t* out, unsigned threads, size_t* bad) {
  // The whole batch is checked before anything is written: an error leaves `out` untouched.
  if (first_nonfinite(x, n * features, bad)) return 1;
  Binning* binning;
  HDG_TRY {
    binning = new Binning(lo, hi, features, bins);
  }
  HDG_CATCH_ALL {
    return -1;
  }
  std::unique_ptr<Binning> own(binning);
  const hdg_binning_t* bv = &binning->view;
  size_t words = hdg_words(dim);
  unsigned t = hdg::threads_for(n * features * words, threads);
  std::atomic<bool> oom{false};
  hdg::split(n, t, [&](size_t r0, size_t r1) {
    std::vector<uint16_t> b;
    std::vector<double> wide;
    HDG_TRY {
      b.resize(kBlock * features);
      if (sizeof(T) != sizeof(double)) wide.resize(kBlock * features);
    }
    HDG_CATCH_ALL {
      oom = true;
      return;
    }
    for (size_t r = r0; r < r1; r += kBlock) {
      size_t m = r1 - r < kBlock ? r1 - r : kBlock;
      kt->bin_rows(as_double(x + r * features, m * features, wide), m, features, bv, b.data());
      kt->encode_levels(b.data(), m, features, levels, positions, words, tie, out + r * words);
    }
  });
  return oom ? -1 : 0;
}

template <typename T>
hdg_status_t project(const hdg_kernels_t* kt, const T* x, size_t n, size_t features, const double* mult,
                     const uint64_t* proj, uint32_t dim, const uint64_t* tie, uint64_t* out, unsigned threads,
                     size_t* bad) {
  if (first_nonfinite(x, n * features, bad)) return 1;
  size_t words = hdg_words(dim);
  unsigned t = hdg::threads_for(n * features * words, threads);
  std::atomic<bool> oom{false};
  hdg::split(n, t, [&](size_t r0, size_t r1) {
    std::vector<int32_t> counters, q;
    HDG_TRY {
      counters.resize(dim);
      q.resize(features);
    }
    HDG_CATCH_ALL {
      oom = true;
      return;
    }
    for (size_t r = r0; r < r1; r++) {
      for (size_t f = 0; f < features; f++) q[f] = hdg_quantize((double)x[r * features + f], mult[f]);
      for (uint32_t i = 0; i < dim; i++) counters[i] = 0;
      kt->acc_add(counters.data(), dim, proj, features, q.data());
      kt->threshold(counters.data(), 1, dim, tie, out + r * words);
    }
  });
  return oom ? -1 : 0;
}

}  // namespace

extern "C" {

uint32_t hdg_bin(double v, double lo, double hi, uint32_t bins) {
  // Below the first edge, or at/above the last: the clipped ends (also covers lo == hi).
  if (!(v >= lo)) return 0;
  if (v >= hi) return bins - 1;
  double step = (hi - lo) / bins;
  // A first guess by division, then corrected against the edges themselves, which is what
  // digitize compares with: the guess may be off by one where rounding differs.
  double c = (v - lo) / step;
  uint32_t j = !(c > 0) ? 0 : c >= (double)(bins - 1) ? bins - 1 : (uint32_t)c;
  while (j > 0 && v < (double)j * step + lo) j--;
  while (j + 1 < bins && v >= (double)(j + 1) * step + lo) j++;
  return j;
}

int32_t hdg_quantize(double v, double mult) {
  double t = floor(v * mult + 0.5);
  if (t != t) return 0;  // 0 * infinity; lib/ rejects scales that make mult infinite anyway
  if (!(t > -32767.0)) return -32767;
  if (t > 32767.0) return 32767;
  return (int32_t)t;
}

hdg_status_t hdg_encode_f32(const hdg_kernels_t* kt, const float* x, size_t n, size_t features, const double* lo,
                            const double* hi, uint32_t bins, const uint64_t* levels, const uint64_t* positions,
                            uint32_t dim, const uint64_t* tie, uint64_t* out, unsigned threads, size_t* bad) {
  return encode(kt, x, n, features, lo, hi, bins, levels, positions, dim, tie, out, threads, bad);
}

hdg_status_t hdg_encode_f64(const hdg_kernels_t* kt, const double* x, size_t n, size_t features, const double* lo,
                            const double* hi, uint32_t bins, const uint64_t* levels, const uint64_t* positions,
                            uint32_t dim, const uint64_t* tie, uint64_t* out, unsigned threads, size_t* bad) {
  return encode(kt, x, n, features, lo, hi, bins, levels, positions, dim, tie, out, threads, bad);
}

hdg_status_t hdg_project_f32(const hdg_kernels_t* kt, const float* x, size_t n, size_t features, const double* mult,
                             const uint64_t* proj, uint32_t dim, const uint64_t* tie, uint64_t* out, unsigned threads,
                             size_t* bad) {
  return project(kt, x, n, features, mult, proj, dim, tie, out, threads, bad);
}

hdg_status_t hdg_project_f64(const hdg_kernels_t* kt, const double* x, size_t n, size_t features, const double* mult,
                             const uint64_t* proj, uint32_t dim, const uint64_t* tie, uint64_t* out, unsigned threads,
                             size_t* bad) {
  return project(kt, x, n, features, mult, proj, dim, tie, out, threads, bad);
}

}  // extern "C"
