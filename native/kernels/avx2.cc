// PLACEHOLDER: forwards to scalar until the avx2 kernels land.
#include "../core/kernels_scalar.h"
#if defined(__x86_64__)
namespace hdg {
void bind_avx2(const uint64_t* a, const uint64_t* b, int s, size_t n, size_t w, uint64_t* o) { bind_scalar(a, b, s, n, w, o); }
void hamming_1xn_avx2(const uint64_t* q, const uint64_t* b, size_t n, size_t w, uint32_t* o) { hamming_1xn_scalar(q, b, n, w, o); }
void hamming_mxn_avx2(const uint64_t* a, size_t m, const uint64_t* b, size_t n, size_t w, uint32_t* o) { hamming_mxn_scalar(a, m, b, n, w, o); }
void bundle_avx2(const uint64_t* b, size_t k, size_t w, const uint64_t* t, uint64_t* o) { bundle_scalar(b, k, w, t, o); }
void acc_add_avx2(int32_t* c, uint32_t d, const uint64_t* b, size_t n, const int32_t* w) { acc_add_scalar(c, d, b, n, w); }
void threshold_avx2(const int32_t* c, size_t m, uint32_t d, const uint64_t* t, uint64_t* o) { threshold_scalar(c, m, d, t, o); }
void dot_counters_avx2(const uint64_t* h, size_t n, const int32_t* c, size_t m, uint32_t d, int64_t* o) { dot_counters_scalar(h, n, c, m, d, o); }
}
#endif
