// WebAssembly SIMD128 kernels (the wasm32 build only; empty elsewhere).
// PLACEHOLDER: forwards to the scalar kernels until the vector versions land.
#include "../core/kernels.h"

#if defined(__wasm_simd128__)

namespace hdg {

void bind_simd128(const uint64_t* a, const uint64_t* b, int b_stride, size_t n, size_t words, uint64_t* out) {
  bind_scalar(a, b, b_stride, n, words, out);
}
void hamming_1xn_simd128(const uint64_t* q, const uint64_t* batch, size_t n, size_t words, uint32_t* out) {
  hamming_1xn_scalar(q, batch, n, words, out);
}
void hamming_mxn_simd128(const uint64_t* a, size_t m, const uint64_t* b, size_t n, size_t words, uint32_t* out) {
  hamming_mxn_scalar(a, m, b, n, words, out);
}
void bundle_simd128(const uint64_t* batch, size_t k, size_t words, const uint64_t* tie, uint64_t* out) {
  bundle_scalar(batch, k, words, tie, out);
}
void acc_add_simd128(int32_t* counters, uint32_t dim, const uint64_t* batch, size_t n, const int32_t* weights) {
  acc_add_scalar(counters, dim, batch, n, weights);
}
void threshold_simd128(const int32_t* counters, size_t m, uint32_t dim, const uint64_t* tie, uint64_t* out) {
  threshold_scalar(counters, m, dim, tie, out);
}
void dot_counters_simd128(const uint64_t* hvs, size_t n, const int32_t* counters, size_t m, uint32_t dim,
                          int64_t* out) {
  dot_counters_scalar(hvs, n, counters, m, dim, out);
}
void encode_levels_simd128(const uint16_t* bins, size_t n, size_t features, const uint64_t* levels,
                           const uint64_t* positions, size_t words, const uint64_t* tie, uint64_t* out) {
  encode_levels_scalar(bins, n, features, levels, positions, words, tie, out);
}
void bin_rows_simd128(const double* x, size_t n, size_t features, const hdg_binning_t* b, uint16_t* out) {
  bin_rows_scalar(x, n, features, b, out);
}
void dots_one_simd128(const uint64_t* hv, const int32_t* counters, size_t m, uint32_t dim, int64_t* out) {
  dots_one_scalar(hv, counters, m, dim, out);
}
void row_add_simd128(int32_t* counters, uint32_t dim, const uint64_t* hv, int32_t w) {
  row_add_scalar(counters, dim, hv, w);
}
void dots_i16_simd128(const uint64_t* const* hvs, size_t b, const int16_t* c16, size_t m, size_t words,
                      int64_t* out) {
  dots_i16_scalar(hvs, b, c16, m, words, out);
}
void row_add_i16_simd128(int16_t* c16, uint32_t dim, const uint64_t* hv, int16_t w) {
  row_add_i16_scalar(c16, dim, hv, w);
}

}  // namespace hdg

#endif
