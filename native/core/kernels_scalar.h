// Declarations of the kernels of each ISA. Each kernel file defines the `<op>_<isa>` functions
// for its level; dispatch.cc builds one hdg_kernels_t table per level from them.
#ifndef HDGLUE_CORE_KERNELS_H
#define HDGLUE_CORE_KERNELS_H

#include "../include/hdglue.h"

namespace hdg {

#define HDG_DECLARE_KERNELS(isa)                                                                          \
  void bind_##isa(const uint64_t* a, const uint64_t* b, int b_stride, size_t n, size_t words, uint64_t* out); \
  void hamming_1xn_##isa(const uint64_t* q, const uint64_t* batch, size_t n, size_t words, uint32_t* out);  \
  void hamming_mxn_##isa(const uint64_t* a, size_t m, const uint64_t* b, size_t n, size_t words,            \
                         uint32_t* out);                                                                    \
  void bundle_##isa(const uint64_t* batch, size_t k, size_t words, const uint64_t* tie, uint64_t* out);     \
  void acc_add_##isa(int32_t* counters, uint32_t dim, const uint64_t* batch, size_t n,                      \
                     const int32_t* weights);                                                               \
  void threshold_##isa(const int32_t* counters, size_t m, uint32_t dim, const uint64_t* tie, uint64_t* out); \
  void dot_counters_##isa(const uint64_t* hvs, size_t n, const int32_t* counters, size_t m, uint32_t dim,  \
                          int64_t* out);                                                                    \
  void encode_levels_##isa(const uint16_t* bins, size_t n, size_t features, const uint64_t* levels,         \
                           const uint64_t* positions, size_t words, const uint64_t* tie, uint64_t* out); \
  void bin_rows_##isa(const double* x, size_t n, size_t features, const hdg_binning_t* b, uint16_t* out); \
  void dots_one_##isa(const uint64_t* hv, const int32_t* counters, size_t m, uint32_t dim, int64_t* out);   \
  void row_add_##isa(int32_t* counters, uint32_t dim, const uint64_t* hv, int32_t w);                        \
  void dots_i16_##isa(const uint64_t* const* hvs, size_t b, const int16_t* c16, size_t m, size_t words,       \
                      int64_t* out);                                                                        \
  void row_add_i16_##isa(int16_t* c16, uint32_t dim, const uint64_t* hv, int16_t w);

HDG_DECLARE_KERNELS(scalar)
#if defined(__x86_64__) || defined(_M_X64)
HDG_DECLARE_KERNELS(avx2)
HDG_DECLARE_KERNELS(avx512)
#endif
#if defined(__aarch64__) || defined(_M_ARM64)
HDG_DECLARE_KERNELS(neon)
#endif

}  // namespace hdg

#endif
