// The WebAssembly ABI of the core: what lib/backend/wasm calls. Like native/addon/addon.cc for
// Node, it is a thin layer over native/include/hdglue.h, but it knows nothing of JavaScript
// values: every argument is a number or an address in the module's own linear memory, where the
// JavaScript side has copied the inputs and reads the outputs back. Shapes are checked on the
// JavaScript side before anything is copied; here they are trusted, as in the C ABI.
// The module is single-threaded and imports nothing from its host that a kernel reaches.
#include <stdlib.h>
#include <string.h>

#include "../include/hdglue.h"

#define HDGW_EXPORT(name) extern "C" __attribute__((export_name(#name), used))

namespace {

const hdg_kernels_t* kt() { return hdg_kernels(); }

// The exact int64 results already in a Float64Array's storage (8 bytes per entry) rewritten in
// place as doubles, as the addon does: no second buffer.
void int64_to_double(double* out, size_t n) {
  for (size_t i = 0; i < n; i++) {
    int64_t v;
    memcpy(&v, out + i, 8);
    double d = (double)v;
    memcpy(out + i, &d, 8);
  }
}

}  // namespace

// ---- memory: 16-byte-aligned blocks, so SIMD loads of any buffer start on a vector boundary ----

HDGW_EXPORT(hdgw_alloc) void* hdgw_alloc(size_t bytes) {
  size_t rounded = (bytes + 15) & ~(size_t)15;
  if (rounded < bytes) return nullptr;
  return aligned_alloc(16, rounded ? rounded : 16);
}

HDGW_EXPORT(hdgw_free) void hdgw_free(void* p) { free(p); }

HDGW_EXPORT(hdgw_isa) int hdgw_isa(void) { return (int)hdg_active_isa(); }

// ---- kernels: the arguments of lib/backend/types.ts, addresses in place of arrays ----

HDGW_EXPORT(hdgw_random_hv)
void hdgw_random_hv(uint64_t seed, const uint8_t* name, size_t len, uint32_t dim, uint64_t* out) {
  hdg_random_hv(seed, name, len, dim, out);
}

HDGW_EXPORT(hdgw_bind)
void hdgw_bind(const uint64_t* a, const uint64_t* b, int stride, size_t n, size_t words, uint64_t* out) {
  kt()->bind(a, b, stride, n, words, out);
}

HDGW_EXPORT(hdgw_hamming_1xn)
void hdgw_hamming_1xn(const uint64_t* q, const uint64_t* batch, size_t n, size_t words, uint32_t* out) {
  kt()->hamming_1xn(q, batch, n, words, out);
}

HDGW_EXPORT(hdgw_hamming_mxn)
void hdgw_hamming_mxn(const uint64_t* a, size_t m, const uint64_t* b, size_t n, size_t words, uint32_t* out) {
  kt()->hamming_mxn(a, m, b, n, words, out);
}

HDGW_EXPORT(hdgw_topk)
void hdgw_topk(const uint64_t* q, size_t m, const uint64_t* batch, size_t n, size_t words, size_t k, uint32_t* idx,
               uint32_t* dist) {
  hdg_topk(kt(), q, m, batch, n, words, k, idx, dist);
}

HDGW_EXPORT(hdgw_bundle)
void hdgw_bundle(const uint64_t* batch, size_t k, size_t words, const uint64_t* tie, uint64_t* out) {
  kt()->bundle(batch, k, words, tie, out);
}

// Returns 0, or -1 when its dim-int32 scratch cannot be had (nothing written).
HDGW_EXPORT(hdgw_bundle_weighted)
int hdgw_bundle_weighted(const uint64_t* batch, size_t k, uint32_t dim, const int32_t* weights, const uint64_t* tie,
                         uint64_t* out) {
  int32_t* scratch = static_cast<int32_t*>(malloc((size_t)dim * sizeof(int32_t) + 16));
  if (!scratch) return -1;
  hdg_bundle_weighted(kt(), batch, k, dim, weights, tie, scratch, out);
  free(scratch);
  return 0;
}

HDGW_EXPORT(hdgw_acc_add)
void hdgw_acc_add(int32_t* counters, uint32_t dim, const uint64_t* batch, size_t n, const int32_t* weights) {
  kt()->acc_add(counters, dim, batch, n, weights);
}

HDGW_EXPORT(hdgw_threshold)
void hdgw_threshold(const int32_t* counters, size_t m, uint32_t dim, const uint64_t* tie, uint64_t* out) {
  kt()->threshold(counters, m, dim, tie, out);
}

HDGW_EXPORT(hdgw_dot_counters)
void hdgw_dot_counters(const uint64_t* hvs, size_t n, const int32_t* counters, size_t m, uint32_t dim, double* out) {
  kt()->dot_counters(hvs, n, counters, m, dim, reinterpret_cast<int64_t*>(out));
  int64_to_double(out, n * m);
}

HDGW_EXPORT(hdgw_dots_one)
void hdgw_dots_one(const uint64_t* hv, const int32_t* counters, size_t m, uint32_t dim, double* out) {
  // dots_one wants every counter inside (-2^24, 2^24); any other input takes the general kernel.
  // A min/max over every counter with no early exit, which the compiler vectorizes: the check
  // reads as much memory as the kernel, so a per-element branch would cost more than the dots.
  int32_t lo = 0, hi = 0;
  for (size_t i = 0; i < m * dim; i++) {
    int32_t c = counters[i];
    lo = c < lo ? c : lo;
    hi = c > hi ? c : hi;
  }
  bool small = lo > -HDG_DOTS_ONE_LIMIT && hi < HDG_DOTS_ONE_LIMIT;
  int64_t* ip = reinterpret_cast<int64_t*>(out);
  if (small) kt()->dots_one(hv, counters, m, dim, ip);
  else kt()->dot_counters(hv, 1, counters, m, dim, ip);
  int64_to_double(out, m);
}

HDGW_EXPORT(hdgw_row_add) void hdgw_row_add(int32_t* counters, uint32_t dim, const uint64_t* hv, int32_t w) {
  kt()->row_add(counters, dim, hv, w);
}

// stats[0] += errors, stats[1] += updates; returns 0, or -1 out of memory (nothing changed).
HDGW_EXPORT(hdgw_refine_online)
int hdgw_refine_online(const uint64_t* hvs, size_t n, uint32_t dim, const int32_t* truth, const uint32_t* order,
                       size_t count, int32_t* counters, size_t m, double* norms2, double margin, int adapt,
                       double* stats) {
  uint64_t errors = 0, updates = 0;
  if (hdg_refine_online(kt(), hvs, n, dim, truth, order, count, counters, m, norms2, margin, adapt, &errors,
                        &updates) != 0)
    return -1;
  stats[0] += (double)errors;
  stats[1] += (double)updates;
  return 0;
}

// k is a safe integer, checked by the caller; a double carries every one exactly.
HDGW_EXPORT(hdgw_permute) void hdgw_permute(const uint64_t* in, size_t n, uint32_t dim, double k, uint64_t* out) {
  hdg_permute(in, n, dim, (int64_t)k, out);
}

HDGW_EXPORT(hdgw_bin) uint32_t hdgw_bin(double v, double lo, double hi, uint32_t bins) {
  return hdg_bin(v, lo, hi, bins);
}

// The encoders: 0 done, 1 a non-finite value (its index in *bad), -1 out of memory.
HDGW_EXPORT(hdgw_encode_f32)
int hdgw_encode_f32(const float* x, size_t n, size_t features, const double* lo, const double* hi, uint32_t bins,
                    const uint64_t* levels, const uint64_t* positions, uint32_t dim, const uint64_t* tie,
                    uint64_t* out, size_t* bad) {
  return hdg_encode_f32(kt(), x, n, features, lo, hi, bins, levels, positions, dim, tie, out, 1, bad);
}

HDGW_EXPORT(hdgw_encode_f64)
int hdgw_encode_f64(const double* x, size_t n, size_t features, const double* lo, const double* hi, uint32_t bins,
                    const uint64_t* levels, const uint64_t* positions, uint32_t dim, const uint64_t* tie,
                    uint64_t* out, size_t* bad) {
  return hdg_encode_f64(kt(), x, n, features, lo, hi, bins, levels, positions, dim, tie, out, 1, bad);
}

HDGW_EXPORT(hdgw_project_f32)
int hdgw_project_f32(const float* x, size_t n, size_t features, const double* mult, const uint64_t* proj,
                     uint32_t dim, const uint64_t* tie, uint64_t* out, size_t* bad) {
  return hdg_project_f32(kt(), x, n, features, mult, proj, dim, tie, out, 1, bad);
}

HDGW_EXPORT(hdgw_project_f64)
int hdgw_project_f64(const double* x, size_t n, size_t features, const double* mult, const uint64_t* proj,
                     uint32_t dim, const uint64_t* tie, uint64_t* out, size_t* bad) {
  return hdg_project_f64(kt(), x, n, features, mult, proj, dim, tie, out, 1, bad);
}
