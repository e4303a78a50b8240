/*
 * hdglue core: C ABI over bit-packed binary hypervectors.
 *
 * This header knows nothing of N-API or JavaScript, so the same core is linked
 * into the Node addon, the C++ tests and any cross build.
 *
 * Layout (docs/ARCHITECTURE.md, invariant 1): a hypervector of dimension D is W = ceil(D/64)
 * little-endian 64-bit words; bit i lives in word i >> 6 at bit i & 63. Bits at
 * and above D are zero in every input and every output. A batch is n rows of W
 * words, contiguous. Pointers need not be 8-byte aligned: kernels use unaligned
 * loads, because JavaScript Uint32Array views are only 4-byte aligned.
 *
 * Bipolar meaning: bit 0 = +1, bit 1 = -1. Bind is XOR. A bundle (majority) bit
 * is 1 when more rows have 1 than 0 there, 0 when fewer, and a tie is resolved
 * by the tie rule: with a tie-breaker HV the tie takes that HV's bit; with none
 * (the "ones" rule, vsax's) a tie gives +1, i.e. bit 0.
 *
 * Counters (class accumulators) are int32 per bit, bipolar: adding a row with
 * weight w adds +w where the row's bit is 0 and -w where it is 1. Arithmetic
 * wraps modulo 2^32 (two's complement) in every backend, so results agree bit
 * for bit; callers keep magnitudes in range.
 *
 * Every function is pure apart from writing its outputs, touches no global
 * mutable state except the once-filled dispatch table, and never throws.
 */
#ifndef HDGLUE_H
#define HDGLUE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Largest supported dimension (2^24 bits); larger ones are rejected at the boundary. */
#define HDG_MAX_DIM (1u << 24)

/* Number of 64-bit words that hold `dim` bits. */
static inline size_t hdg_words(uint32_t dim) { return ((size_t)dim + 63u) >> 6; }

/* Instruction-set levels, ordered: a higher value may use everything below it on its architecture. */
typedef enum hdg_isa_t {
  HDG_ISA_SCALAR = 0,
  HDG_ISA_NEON = 1,
  HDG_ISA_AVX2 = 2,
  HDG_ISA_AVX512 = 3,
  HDG_ISA_SIMD128 = 4 /* WebAssembly 128-bit SIMD (the wasm32 build only) */
} hdg_isa_t;

/* ---- random hypervectors (rng.cc) ---- */

/* Stable 64-bit hash of a byte string (FNV-1a 64 followed by the SplitMix64 finalizer). */
uint64_t hdg_hash_name(const uint8_t* name, size_t len);

/* SplitMix64 finalizer: the bijective mixer every generator output passes through. */
uint64_t hdg_mix64(uint64_t z);

/* Random HV as a pure function of (seed, name): word j = mix64(key + (j + 1) * golden)
 * with key = mix64(seed ^ hash(name)); the last word is masked to `dim` bits. */
void hdg_random_hv(uint64_t seed, const uint8_t* name, size_t name_len, uint32_t dim, uint64_t* out);

/* ---- kernel function table (filled once by dispatch) ---- */

/* Per-feature constants of the level encoder's binning, computed once per call (encode.cc):
 * step = (hi - lo) / bins and inv = bins / (hi - lo); flat[f] is nonzero where the range is empty
 * or too narrow to step through (!(hi > lo) || !(step > 0)), and hdg_bin's own branches decide. */
typedef struct hdg_binning_t {
  const double* lo;
  const double* hi;
  const double* step;
  const double* inv;
  const uint8_t* flat;
  uint32_t bins; /* 1..65536 */
} hdg_binning_t;

typedef struct hdg_kernels_t {
  /* out[r] = a[r] ^ b[b_stride ? r : 0] for r < n; b_stride is 0 (broadcast one HV) or 1. */
  void (*bind)(const uint64_t* a, const uint64_t* b, int b_stride, size_t n, size_t words, uint64_t* out);
  /* out[r] = popcount(q ^ batch[r]) for r < n. */
  void (*hamming_1xn)(const uint64_t* q, const uint64_t* batch, size_t n, size_t words, uint32_t* out);
  /* out[i * n + r] = popcount(a[i] ^ b[r]) for i < m, r < n. */
  void (*hamming_mxn)(const uint64_t* a, size_t m, const uint64_t* b, size_t n, size_t words, uint32_t* out);
  /* Majority of k rows of `batch`, ties by `tie` (NULL: the ones rule, tie -> bit 0). */
  void (*bundle)(const uint64_t* batch, size_t k, size_t words, const uint64_t* tie, uint64_t* out);
  /* counters[i] += weight(r) * (bit i of row r ? -1 : +1) for every row r; weights NULL means 1 each.
   * `dim` counters per call, one counter row shared by all rows. */
  void (*acc_add)(int32_t* counters, uint32_t dim, const uint64_t* batch, size_t n, const int32_t* weights);
  /* m counter rows of `dim` each to m HVs: bit = c < 0 ? 1 : c > 0 ? 0 : tie rule. */
  void (*threshold)(const int32_t* counters, size_t m, uint32_t dim, const uint64_t* tie, uint64_t* out);
  /* out[r * m + c] = sum_i counters[c][i] * (bit i of hv r ? -1 : +1), exact as int64. */
  void (*dot_counters)(const uint64_t* hvs, size_t n, const int32_t* counters, size_t m, uint32_t dim, int64_t* out);
  /* The level encoder's core: for each of n rows, the majority over f < features of
   * levels[bins[r * features + f]] ^ positions[f], ties by `tie` (NULL: the ones rule). In other
   * words bundle(bind(level of the feature's bin, position of the feature)) without materializing
   * the bound rows. bins[] < the number of level rows (the caller guarantees it). */
  void (*encode_levels)(const uint16_t* bins, size_t n, size_t features, const uint64_t* levels,
                        const uint64_t* positions, size_t words, const uint64_t* tie, uint64_t* out);
  /* out[r * features + f] = hdg_bin(x[r * features + f], lo[f], hi[f], bins) for r < n, with the
   * constants of `b`; every x finite (the encoders check first). */
  void (*bin_rows)(const double* x, size_t n, size_t features, const hdg_binning_t* b, uint16_t* out);
  /* The integer dots of one HV against m counter rows of `dim` each:
   * out[c] = sum_i counters[c * dim + i] * (bit i of hv ? -1 : +1), exact as int64.
   * Precondition: every counter lies in (-HDG_DOTS_ONE_LIMIT, HDG_DOTS_ONE_LIMIT), which lets the
   * SIMD levels sum int32 lanes for a while before widening; dot_counters takes any int32. */
  void (*dots_one)(const uint64_t* hv, const int32_t* counters, size_t m, uint32_t dim, int64_t* out);
  /* One HV into one counter row: counters[i] += w * (bit i of hv ? -1 : +1) for i < dim, wrapping
   * modulo 2^32 (acc_add of a single row). */
  void (*row_add)(int32_t* counters, uint32_t dim, const uint64_t* hv, int32_t w);
  /* dots_one of b HVs (hvs[r], r < b) over int16 counter rows laid out for the online refinement:
   * out[r * m + c] is HV r's dot with row c, which starts at c16 + c * 64 * words (each HV word
   * covers 64 counters); the counters at and above dim, the row's padding, are zero, so any
   * padding bits of the HVs count for nothing. Several HVs per call share each counter load.
   * Exact for every int16 value. */
  void (*dots_i16)(const uint64_t* const* hvs, size_t b, const int16_t* c16, size_t m, size_t words, int64_t* out);
  /* row_add on one such int16 row, wrapping modulo 2^16; the padding counters stay zero. */
  void (*row_add_i16)(int16_t* c16, uint32_t dim, const uint64_t* hv, int16_t w);
} hdg_kernels_t;

/* Counter magnitude bound of the dots_one precondition (2^24). */
#define HDG_DOTS_ONE_LIMIT (1 << 24)

/* Highest level this CPU and OS support (ignores HDGLUE_MAX_ISA). */
hdg_isa_t hdg_detect_isa(void);

/* Level selected at first use: detected level capped by HDGLUE_MAX_ISA. */
hdg_isa_t hdg_active_isa(void);

/* Kernel table for a given level; NULL when that level is not compiled in or not supported here. */
const hdg_kernels_t* hdg_kernels_for(hdg_isa_t isa);

/* Kernel table for the active level (never NULL). */
const hdg_kernels_t* hdg_kernels(void);

/* Name of a level: "scalar", "neon", "avx2", "avx512", "simd128". */
const char* hdg_isa_name(hdg_isa_t isa);

/* Parse a level name; returns -1 for an unknown name. */
int hdg_isa_parse(const char* name);

/* ---- operations with no ISA variants (ops.cc) ---- */

/* Cyclic rotation by k bits within dim: bit (i + k) mod dim of out = bit i of in. Rows processed
 * independently; k may be any value (reduced modulo dim). out must not alias in. */
void hdg_permute(const uint64_t* in, size_t n, uint32_t dim, int64_t k, uint64_t* out);

/* Top-k nearest rows of `batch` to each of m queries by Hamming distance, selected in the same
 * pass that computes the distances: the batch is read once, in L2-sized blocks, for all queries,
 * and no n-sized temporary is made. Order: ascending distance, ties by ascending row index.
 * Requires k <= n. out_idx and out_dist hold m * k entries (they double as the heaps). */
void hdg_topk(const hdg_kernels_t* kt, const uint64_t* queries, size_t m, const uint64_t* batch, size_t n,
              size_t words, size_t k, uint32_t* out_idx, uint32_t* out_dist);

/* Weighted bundle: sign of sum_r w_r * bipolar(row r), ties by `tie` (NULL: ones rule).
 * `scratch` holds dim int32. */
void hdg_bundle_weighted(const hdg_kernels_t* kt, const uint64_t* batch, size_t k, uint32_t dim,
                         const int32_t* weights, const uint64_t* tie, int32_t* scratch, uint64_t* out);

/* ---- multi-threaded batch drivers (parallel.cc) ----
 * Large scans are bound by memory bandwidth, which one core cannot saturate; these split the
 * rows (or queries) over `threads` threads, the caller's included, giving results identical to
 * the single-threaded kernels. Small inputs, or threads <= 1, run on the calling thread alone. */

/* Threads to use by default: HDGLUE_THREADS if set to 1..64, else the hardware's count (max 16). */
unsigned hdg_default_threads(void);

void hdg_hamming_1xn_mt(const hdg_kernels_t* kt, const uint64_t* q, const uint64_t* batch, size_t n, size_t words,
                        uint32_t* out, unsigned threads);
void hdg_hamming_mxn_mt(const hdg_kernels_t* kt, const uint64_t* a, size_t m, const uint64_t* b, size_t n,
                        size_t words, uint32_t* out, unsigned threads);
void hdg_topk_mt(const hdg_kernels_t* kt, const uint64_t* queries, size_t m, const uint64_t* batch, size_t n,
                 size_t words, size_t k, uint32_t* out_idx, uint32_t* out_dist, unsigned threads);

/* ---- encoders (encode.cc) ---- */

/* Bin of a finite value for a feature with range [lo, hi] split into `bins` bins: numpy's
 * clip(digitize(v, linspace(lo, hi, bins + 1)) - 1, 0, bins - 1), edges computed as numpy does
 * (edge j = j * ((hi - lo) / bins) + lo, the last edge = hi) in double precision without fused
 * multiply-add. Exact for lo == hi and for ranges whose step (hi - lo) / bins is a finite normal
 * double, the only ranges the encoders accept (numpy itself changes formula for a zero step). */
uint32_t hdg_bin(double v, double lo, double hi, uint32_t bins);

/* Result of the encoders: 0 done; 1 a value is NaN or infinite (its row-major index in *bad,
 * nothing written); -1 out of memory (rows handled by other threads may have been written). */
typedef int hdg_status_t;

/* Level encoder: n embeddings of `features` values (row-major), each value binned with its
 * feature's lo/hi, then kt->encode_levels over `levels` (rows of the level codebook, at least
 * `bins` of them) and `positions` (features rows). Rows are split over `threads` threads. */
hdg_status_t hdg_encode_f32(const hdg_kernels_t* kt, const float* x, size_t n, size_t features, const double* lo,
                            const double* hi, uint32_t bins, const uint64_t* levels, const uint64_t* positions,
                            uint32_t dim, const uint64_t* tie, uint64_t* out, unsigned threads, size_t* bad);
hdg_status_t hdg_encode_f64(const hdg_kernels_t* kt, const double* x, size_t n, size_t features, const double* lo,
                            const double* hi, uint32_t bins, const uint64_t* levels, const uint64_t* positions,
                            uint32_t dim, const uint64_t* tie, uint64_t* out, unsigned threads, size_t* bad);

/* Integer weight of a value in the projection encoder: clamp(floor(v * mult + 0.5), -32767, 32767). */
int32_t hdg_quantize(double v, double mult);

/* Projection encoder: for each embedding, the sign of sum_f q_f * bipolar(proj[f]) with
 * q_f = hdg_quantize(x_f, mult[f]) and proj the `features` rows of a random sign matrix, ties
 * by `tie`. Exact integer arithmetic (|sum| <= 32767 * features < 2^31 for features <= 65536), so
 * every ISA and thread count agree. */
hdg_status_t hdg_project_f32(const hdg_kernels_t* kt, const float* x, size_t n, size_t features, const double* mult,
                             const uint64_t* proj, uint32_t dim, const uint64_t* tie, uint64_t* out, unsigned threads,
                             size_t* bad);
hdg_status_t hdg_project_f64(const hdg_kernels_t* kt, const double* x, size_t n, size_t features, const double* mult,
                             const uint64_t* proj, uint32_t dim, const uint64_t* tie, uint64_t* out, unsigned threads,
                             size_t* bad);

/* ---- online margin refinement (refine.cc) ---- */

/* One epoch of online (perceptron) refinement of m class counter rows (`counters`, m x dim int32,
 * updated in place). The rows of `hvs` (n packed rows) are visited in `order` (count indices < n,
 * repeats allowed); for row i of true class t = truth[i] < m:
 *   1. dot[k] = the exact integer dot of row i with counter row k, for every k;
 *   2. s[k] = norms2[k] > 0 ? (double)dot[k] / (sqrt((double)dim) * sqrt(norms2[k])) : 0;
 *   3. p = the first index of the largest s; p != t counts an error;
 *   4. rival = p != t ? p : the first index of the largest s over k != t (-1 when m == 1);
 *   5. lead = rival < 0 ? +infinity : s[t] - s[rival]; when p == t and !(lead < margin), no update;
 *   6. otherwise an update: row t += bipolar(row i), norms2[t] += 2 dot[t] + dim; and when adapt
 *      is nonzero and rival >= 0, row rival -= bipolar(row i), norms2[rival] += -2 dot[rival] + dim.
 * Every step is that IEEE double operation, in that order, with no fused multiply-add, so the
 * TypeScript twin agrees bit for bit. norms2 (m doubles, in/out) is the rows' sums of squares as
 * the caller tracks them; it stays exact while the values stay below 2^53. Counters wrap modulo 2^32
 * as everywhere; the results are the stated ones while no counter leaves the int32 range.
 * Single-threaded (each update feeds the next row's dots). *errors and *updates receive the
 * counts. Returns 0, or -1 when memory for the per-class scratch runs out (nothing changed). */
hdg_status_t hdg_refine_online(const hdg_kernels_t* kt, const uint64_t* hvs, size_t n, uint32_t dim,
                               const int32_t* truth, const uint32_t* order, size_t count, int32_t* counters,
                               size_t m, double* norms2, double margin, int adapt, uint64_t* errors,
                               uint64_t* updates);

#ifdef __cplusplus
}
#endif

#endif /* HDGLUE_H */
