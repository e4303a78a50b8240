// libFuzzer harness for the C ABI (native/include/hdglue.h), built with clang under
// AddressSanitizer and UndefinedBehaviorSanitizer (CMake preset "fuzz", scripts/fuzz.mjs).
//
// Each input is decoded into one operation, its sizes (kept within bounds that run in well under
// a millisecond, with a rare large case that makes the threaded drivers split) and its data. The
// data is fuzz bytes or a seeded generator's output, in modes that reach the kernels' special
// cases: all zeros, all ones, sparse, dense, raw bytes (floats that are NaN, infinities,
// subnormals, -0). Every buffer is allocated to its exact size at an address that is 4 but not
// 8 bytes aligned, as JavaScript's Uint32Array views are, so any overread is an ASan report. The
// operation then runs on every kernel table this CPU has, and each result must equal the scalar
// table's bit for bit; the scalar results are in turn checked against naive per-bit references
// that share no code with the kernels. Any difference aborts, which libFuzzer reports as a crash
// with the input that caused it.
#include <fuzzer/FuzzedDataProvider.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "hdglue.h"

namespace {

[[noreturn]] void fail(const char* what) {
  fprintf(stderr, "hdglue fuzz: %s\n", what);
  abort();
}

#define REQUIRE(cond, what) \
  do {                      \
    if (!(cond)) fail(what); \
  } while (0)

// Exact-size heap buffer, freed on scope exit. Packed words sit at 4 (mod 8), as in a JavaScript
// Uint32Array view; every other type at its natural alignment, as typed arrays always are.
template <typename T>
struct Buf {
  static constexpr size_t kOffset = std::is_same<T, uint64_t>::value ? 4 : alignof(T) < 4 ? 4 : alignof(T);
  unsigned char* base = nullptr;
  T* p = nullptr;
  size_t n = 0;
  explicit Buf(size_t count) : n(count) {
    base = static_cast<unsigned char*>(malloc(kOffset + count * sizeof(T)));
    if (!base) abort();
    p = reinterpret_cast<T*>(base + kOffset);
  }
  ~Buf() { free(base); }
  Buf(const Buf&) = delete;
  Buf& operator=(const Buf&) = delete;
  size_t bytes() const { return n * sizeof(T); }
  bool same(const Buf& o) const { return n == o.n && memcmp(p, o.p, bytes()) == 0; }
};

struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
};

uint64_t ld(const uint64_t* p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}
void st(uint64_t* p, uint64_t v) { memcpy(p, &v, 8); }
template <typename T>
T get(const T* p, size_t i) {
  T v;
  memcpy(&v, p + i, sizeof v);
  return v;
}
template <typename T>
void put(T* p, size_t i, T v) {
  memcpy(p + i, &v, sizeof v);
}

int bit(const uint64_t* row, size_t i) { return (int)((ld(row + (i >> 6)) >> (i & 63)) & 1); }

uint64_t tail_mask(uint32_t dim) {
  unsigned r = dim & 63u;
  return r ? ((uint64_t)1 << r) - 1 : ~(uint64_t)0;
}

// Packed rows in one of the modes, padding cleared.
void fill_rows(FuzzedDataProvider& fdp, uint64_t* rows, size_t n, uint32_t dim) {
  size_t words = hdg_words(dim);
  int mode = fdp.ConsumeIntegralInRange<int>(0, 5);
  Rng rng{fdp.ConsumeIntegral<uint64_t>()};
  for (size_t i = 0; i < n * words; i++) {
    uint64_t w;
    switch (mode) {
      case 0: w = 0; break;
      case 1: w = ~(uint64_t)0; break;
      case 2: w = rng.next() & rng.next() & rng.next(); break;
      case 3: w = rng.next() | rng.next(); break;
      case 4: w = fdp.remaining_bytes() >= 8 ? fdp.ConsumeIntegral<uint64_t>() : rng.next(); break;
      default: w = rng.next(); break;
    }
    st(rows + i, w);
  }
  for (size_t r = 0; r < n; r++) st(rows + r * words + words - 1, ld(rows + r * words + words - 1) & tail_mask(dim));
}

void check_padding(const uint64_t* rows, size_t n, uint32_t dim, const char* what) {
  size_t words = hdg_words(dim);
  for (size_t r = 0; r < n; r++) REQUIRE((ld(rows + r * words + words - 1) & ~tail_mask(dim)) == 0, what);
}

// Counters in one of the modes: small, extreme (to exercise wrapping), or raw bytes.
void fill_counters(FuzzedDataProvider& fdp, int32_t* c, size_t count) {
  int mode = fdp.ConsumeIntegralInRange<int>(0, 3);
  Rng rng{fdp.ConsumeIntegral<uint64_t>()};
  for (size_t i = 0; i < count; i++) {
    int32_t v;
    switch (mode) {
      case 0: v = (int32_t)(rng.next() % 7) - 3; break;
      case 1: v = (int32_t)(rng.next() % 3 == 0 ? INT32_MIN : rng.next() % 3 == 0 ? INT32_MAX : 0); break;
      case 2: v = fdp.remaining_bytes() >= 4 ? fdp.ConsumeIntegral<int32_t>() : (int32_t)rng.next(); break;
      default: v = (int32_t)rng.next(); break;
    }
    put(c, i, v);
  }
}

// Embedding values: nice values in [-2, 2], raw bit patterns (NaN, infinities, subnormals, -0),
// or a mix with a few specials sprinkled in.
template <typename T>
void fill_values(FuzzedDataProvider& fdp, T* x, size_t count) {
  int mode = fdp.ConsumeIntegralInRange<int>(0, 2);
  Rng rng{fdp.ConsumeIntegral<uint64_t>()};
  const T specials[] = {(T)0.0, (T)-0.0, (T)1.0, (T)-1.0, std::numeric_limits<T>::denorm_min(),
                        std::numeric_limits<T>::min(), std::numeric_limits<T>::max(), -std::numeric_limits<T>::max()};
  for (size_t i = 0; i < count; i++) {
    T v;
    if (mode == 1) {
      if (fdp.remaining_bytes() >= sizeof(T)) {
        auto raw = fdp.ConsumeBytes<unsigned char>(sizeof(T));
        memcpy(&v, raw.data(), sizeof(T));
      } else {
        uint64_t r = rng.next();
        memcpy(&v, &r, sizeof(T));
      }
    } else {
      v = (T)(((double)(rng.next() >> 11) / 9007199254740992.0) * 4.0 - 2.0);
      if (mode == 2 && rng.next() % 8 == 0) v = specials[rng.next() % 8];
    }
    put(x, i, v);
  }
}

struct Tables {
  const hdg_kernels_t* t[4];
  int n = 0;
  Tables() {
    for (hdg_isa_t isa : {HDG_ISA_SCALAR, HDG_ISA_NEON, HDG_ISA_AVX2, HDG_ISA_AVX512})
      if (const hdg_kernels_t* k = hdg_kernels_for(isa)) t[n++] = k;
  }
};
const Tables& tables() {
  static const Tables t;
  return t;
}

const uint32_t kDims[] = {1, 2, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257, 511, 512, 513, 1000, 1024, 1025};

uint32_t pick_dim(FuzzedDataProvider& fdp, uint32_t max) {
  if (fdp.ConsumeBool()) {
    uint32_t d = kDims[fdp.ConsumeIntegralInRange<size_t>(0, sizeof kDims / sizeof kDims[0] - 1)];
    return d <= max ? d : max;
  }
  return fdp.ConsumeIntegralInRange<uint32_t>(1, max);
}

// ---- the operations ----

void op_bind(FuzzedDataProvider& fdp) {
  uint32_t dim = pick_dim(fdp, 1100);
  size_t words = hdg_words(dim), n = fdp.ConsumeIntegralInRange<size_t>(0, 24);
  int stride = fdp.ConsumeBool();
  Buf<uint64_t> a(n * words), b((stride ? n : 1) * words);
  fill_rows(fdp, a.p, n, dim);
  fill_rows(fdp, b.p, stride ? n : 1, dim);
  Buf<uint64_t> ref(n * words);
  for (size_t i = 0; i < n * words; i++) st(ref.p + i, ld(a.p + i) ^ ld(b.p + (stride ? i : i % words)));
  for (int k = 0; k < tables().n; k++) {
    Buf<uint64_t> out(n * words);
    tables().t[k]->bind(a.p, b.p, stride, n, words, out.p);
    REQUIRE(out.same(ref), "bind differs from XOR");
  }
}

uint32_t naive_hamming(const uint64_t* a, const uint64_t* b, uint32_t dim) {
  uint32_t d = 0;
  for (uint32_t i = 0; i < dim; i++) d += bit(a, i) != bit(b, i);
  return d;
}

void op_hamming(FuzzedDataProvider& fdp) {
  uint32_t dim = pick_dim(fdp, 1100);
  size_t words = hdg_words(dim), m = fdp.ConsumeIntegralInRange<size_t>(1, 6), n = fdp.ConsumeIntegralInRange<size_t>(0, 24);
  Buf<uint64_t> a(m * words), b(n * words);
  fill_rows(fdp, a.p, m, dim);
  fill_rows(fdp, b.p, n, dim);
  Buf<uint32_t> ref(m * n);
  for (size_t i = 0; i < m; i++)
    for (size_t r = 0; r < n; r++) put(ref.p, i * n + r, naive_hamming(a.p + i * words, b.p + r * words, dim));
  for (int k = 0; k < tables().n; k++) {
    const hdg_kernels_t* kt = tables().t[k];
    Buf<uint32_t> one(n), many(m * n);
    kt->hamming_1xn(a.p, b.p, n, words, one.p);
    REQUIRE(memcmp(one.p, ref.p, one.bytes()) == 0, "hamming_1xn differs from the per-bit count");
    kt->hamming_mxn(a.p, m, b.p, n, words, many.p);
    REQUIRE(many.same(ref), "hamming_mxn differs from the per-bit count");
  }
}

void op_bundle(FuzzedDataProvider& fdp) {
  uint32_t dim = pick_dim(fdp, 1100);
  size_t words = hdg_words(dim), n = fdp.ConsumeIntegralInRange<size_t>(0, 70);
  bool with_tie = fdp.ConsumeBool();
  Buf<uint64_t> rows(n * words), tie(words);
  fill_rows(fdp, rows.p, n, dim);
  fill_rows(fdp, tie.p, 1, dim);
  Buf<uint64_t> ref(words);
  for (size_t j = 0; j < words; j++) st(ref.p + j, 0);
  for (uint32_t i = 0; i < dim; i++) {
    size_t ones = 0;
    for (size_t r = 0; r < n; r++) ones += bit(rows.p + r * words, i);
    int b = 2 * ones > n ? 1 : 2 * ones < n ? 0 : (with_tie ? bit(tie.p, i) : 0);
    if (b) st(ref.p + (i >> 6), ld(ref.p + (i >> 6)) | (uint64_t)1 << (i & 63));
  }
  for (int k = 0; k < tables().n; k++) {
    Buf<uint64_t> out(words);
    tables().t[k]->bundle(rows.p, n, words, with_tie ? tie.p : nullptr, out.p);
    REQUIRE(out.same(ref), "bundle differs from the per-bit majority");
  }
  // The weighted bundle: sign of the wrapping int32 sum of weight * bipolar.
  Buf<int32_t> w(n), scratch(dim);
  fill_counters(fdp, w.p, n);
  for (size_t j = 0; j < words; j++) st(ref.p + j, 0);
  for (uint32_t i = 0; i < dim; i++) {
    uint32_t s = 0;
    for (size_t r = 0; r < n; r++) s += (uint32_t)get(w.p, r) * (bit(rows.p + r * words, i) ? UINT32_MAX : 1u);
    int32_t c = (int32_t)s;
    int b = c < 0 ? 1 : c > 0 ? 0 : (with_tie ? bit(tie.p, i) : 0);
    if (b) st(ref.p + (i >> 6), ld(ref.p + (i >> 6)) | (uint64_t)1 << (i & 63));
  }
  for (int k = 0; k < tables().n; k++) {
    Buf<uint64_t> out(words);
    hdg_bundle_weighted(tables().t[k], rows.p, n, dim, w.p, with_tie ? tie.p : nullptr, scratch.p, out.p);
    REQUIRE(out.same(ref), "weighted bundle differs from the wrapping per-bit sum");
  }
}

void op_counters(FuzzedDataProvider& fdp) {
  uint32_t dim = pick_dim(fdp, 1100);
  size_t words = hdg_words(dim), n = fdp.ConsumeIntegralInRange<size_t>(0, 20), m = fdp.ConsumeIntegralInRange<size_t>(0, 5);
  bool weighted = fdp.ConsumeBool(), with_tie = fdp.ConsumeBool();
  Buf<uint64_t> rows(n * words), tie(words);
  fill_rows(fdp, rows.p, n, dim);
  fill_rows(fdp, tie.p, 1, dim);
  Buf<int32_t> w(n), start(dim), counters(m * dim);
  fill_counters(fdp, w.p, n);
  fill_counters(fdp, start.p, dim);
  fill_counters(fdp, counters.p, m * dim);
  // acc_add, wrapping.
  Buf<int32_t> ref(dim);
  for (uint32_t i = 0; i < dim; i++) {
    uint32_t s = (uint32_t)get(start.p, i);
    for (size_t r = 0; r < n; r++)
      s += (uint32_t)(weighted ? get(w.p, r) : 1) * (bit(rows.p + r * words, i) ? UINT32_MAX : 1u);
    put(ref.p, i, (int32_t)s);
  }
  for (int k = 0; k < tables().n; k++) {
    Buf<int32_t> c(dim);
    memcpy(c.p, start.p, start.bytes());
    tables().t[k]->acc_add(c.p, dim, rows.p, n, weighted ? w.p : nullptr);
    REQUIRE(c.same(ref), "acc_add differs from the wrapping per-bit sum");
  }
  // threshold.
  Buf<uint64_t> tref(m * words);
  for (size_t j = 0; j < m * words; j++) st(tref.p + j, 0);
  for (size_t r = 0; r < m; r++)
    for (uint32_t i = 0; i < dim; i++) {
      int32_t c = get(counters.p, r * dim + i);
      int b = c < 0 ? 1 : c > 0 ? 0 : (with_tie ? bit(tie.p, i) : 0);
      if (b) st(tref.p + r * words + (i >> 6), ld(tref.p + r * words + (i >> 6)) | (uint64_t)1 << (i & 63));
    }
  for (int k = 0; k < tables().n; k++) {
    Buf<uint64_t> out(m * words);
    tables().t[k]->threshold(counters.p, m, dim, with_tie ? tie.p : nullptr, out.p);
    REQUIRE(out.same(tref), "threshold differs from the per-bit sign");
  }
  // dot_counters, exact int64.
  Buf<int64_t> dref(n * m);
  for (size_t r = 0; r < n; r++)
    for (size_t c = 0; c < m; c++) {
      int64_t s = 0;
      for (uint32_t i = 0; i < dim; i++) s += (int64_t)get(counters.p, c * dim + i) * (bit(rows.p + r * words, i) ? -1 : 1);
      put(dref.p, r * m + c, s);
    }
  for (int k = 0; k < tables().n; k++) {
    Buf<int64_t> out(n * m);
    tables().t[k]->dot_counters(rows.p, n, counters.p, m, dim, out.p);
    REQUIRE(out.same(dref), "dot_counters differs from the exact per-bit sum");
  }
}

// The binning constants of a range, exactly as encode.cc computes them.
struct Ranges {
  std::vector<double> lo, hi, step, inv;
  std::vector<uint8_t> flat;
  hdg_binning_t view;
};

// Ranges inside the encoders' contract (lo == hi, or lo < hi with a finite normal step), or any
// doubles at all: the addon accepts whatever Float64Array a direct caller passes.
bool fill_ranges(FuzzedDataProvider& fdp, Ranges& r, size_t features, uint32_t bins) {
  bool contract = fdp.ConsumeIntegralInRange<int>(0, 3) != 0;
  r.lo.resize(features);
  r.hi.resize(features);
  Rng rng{fdp.ConsumeIntegral<uint64_t>()};
  for (size_t f = 0; f < features; f++) {
    double a, b;
    if (contract) {
      a = ((double)(rng.next() >> 11) / 9007199254740992.0) * 4.0 - 2.0;
      int shape = (int)(rng.next() % 8);
      b = shape == 0 ? a : shape == 1 ? a + 1e-300 * bins : a + ((double)(rng.next() >> 11) / 9007199254740992.0) * 3.0;
      if (shape == 2) a = -1e300, b = 1e300;
      double step = (b - a) / bins;
      if (a < b && !(std::isfinite(b - a) && step >= 2.2250738585072014e-308)) b = a;
    } else {
      uint64_t x = fdp.remaining_bytes() >= 8 ? fdp.ConsumeIntegral<uint64_t>() : rng.next();
      uint64_t y = fdp.remaining_bytes() >= 8 ? fdp.ConsumeIntegral<uint64_t>() : rng.next();
      memcpy(&a, &x, 8);
      memcpy(&b, &y, 8);
    }
    r.lo[f] = a;
    r.hi[f] = b;
  }
  r.step.resize(features);
  r.inv.resize(features);
  r.flat.resize(features);
  for (size_t f = 0; f < features; f++) {
    r.step[f] = (r.hi[f] - r.lo[f]) / bins;
    r.inv[f] = bins / (r.hi[f] - r.lo[f]);
    r.flat[f] = !(r.hi[f] > r.lo[f]) || !(r.step[f] > 0);
  }
  r.view = {r.lo.data(), r.hi.data(), r.step.data(), r.inv.data(), r.flat.data(), bins};
  return contract;
}

void op_bin_rows(FuzzedDataProvider& fdp) {
  size_t features = fdp.ConsumeIntegralInRange<size_t>(1, 19), n = fdp.ConsumeIntegralInRange<size_t>(1, 6);
  uint32_t bins = fdp.ConsumeBool() ? fdp.ConsumeIntegralInRange<uint32_t>(1, 70)
                                    : fdp.ConsumeIntegralInRange<uint32_t>(1, 65536);
  Ranges r;
  bool contract = fill_ranges(fdp, r, features, bins);
  Buf<double> x(n * features);
  fill_values(fdp, x.p, n * features);
  // The kernels take finite values only (the encoders check first); non-finite ones still must
  // not produce an index out of range, as a caller writing during an async call could pass them.
  Buf<uint16_t> ref(n * features);
  tables().t[0]->bin_rows(x.p, n, features, &r.view, ref.p);
  for (size_t i = 0; i < n * features; i++) {
    REQUIRE(get(ref.p, i) < bins, "bin_rows gave an index out of range");
    double v = get(x.p, i);
    if (contract && std::isfinite(v))
      REQUIRE(get(ref.p, i) == hdg_bin(v, r.lo[i % features], r.hi[i % features], bins), "bin_rows differs from hdg_bin");
  }
  for (int k = 1; k < tables().n; k++) {
    Buf<uint16_t> out(n * features);
    tables().t[k]->bin_rows(x.p, n, features, &r.view, out.p);
    for (size_t i = 0; i < n * features; i++) REQUIRE(get(out.p, i) < bins, "bin_rows gave an index out of range");
    bool finite = true;
    for (size_t i = 0; i < n * features; i++) finite = finite && std::isfinite(get(x.p, i));
    if (contract && finite) REQUIRE(out.same(ref), "bin_rows differs between levels");
  }
}

void op_bin(FuzzedDataProvider& fdp) {
  uint32_t bins = fdp.ConsumeIntegralInRange<uint32_t>(1, 65536);
  double v = fdp.ConsumeFloatingPoint<double>(), lo = fdp.ConsumeFloatingPoint<double>(),
         hi = fdp.ConsumeFloatingPoint<double>();
  if (fdp.ConsumeBool()) std::swap(lo, hi);
  uint32_t b = hdg_bin(v, lo, hi, bins);
  REQUIRE(b < bins, "hdg_bin out of range");
  double step = (hi - lo) / bins;
  if (std::isfinite(v) && std::isfinite(lo) && std::isfinite(hi) && lo < hi && std::isfinite(hi - lo) &&
      step >= 2.2250738585072014e-308) {
    // digitize's definition: edge j = j * step + lo (the last one hi) and v in [edge b, edge b + 1).
    double below = b == 0 ? -INFINITY : (double)b * step + lo;
    double above = b + 1 == bins ? INFINITY : (double)(b + 1) * step + lo;
    REQUIRE(v >= below || b == 0, "hdg_bin: value below its bin's lower edge");
    REQUIRE(v < above || v >= hi, "hdg_bin: value at or above its bin's upper edge");
    REQUIRE(v < hi || b == bins - 1, "hdg_bin: a value at or above hi is not in the last bin");
  }
}

template <typename T>
void op_encode(FuzzedDataProvider& fdp) {
  uint32_t dim = pick_dim(fdp, 700);
  size_t words = hdg_words(dim), features = fdp.ConsumeIntegralInRange<size_t>(1, 24),
         n = fdp.ConsumeIntegralInRange<size_t>(0, 40);
  uint32_t bins = fdp.ConsumeIntegralInRange<uint32_t>(1, 40);
  size_t levels_n = bins + fdp.ConsumeIntegralInRange<size_t>(0, 3);
  bool with_tie = fdp.ConsumeBool();
  unsigned threads = fdp.ConsumeIntegralInRange<unsigned>(1, 3);
  Ranges r;
  bool contract = fill_ranges(fdp, r, features, bins);
  Buf<T> x(n * features);
  fill_values(fdp, x.p, n * features);
  Buf<uint64_t> levels(levels_n * words), positions(features * words), tie(words);
  fill_rows(fdp, levels.p, levels_n, dim);
  fill_rows(fdp, positions.p, features, dim);
  fill_rows(fdp, tie.p, 1, dim);
  // Each status, bad index and output must agree between levels, NaN and infinity included.
  Buf<uint64_t> ref(n * words);
  memset(ref.p, 0xa5, ref.bytes());
  size_t ref_bad = 0;
  auto call = [&](const hdg_kernels_t* kt, uint64_t* out, size_t* bad) {
    if (sizeof(T) == 4)
      return hdg_encode_f32(kt, reinterpret_cast<const float*>(x.p), n, features, r.lo.data(), r.hi.data(), bins,
                            levels.p, positions.p, dim, with_tie ? tie.p : nullptr, out, threads, bad);
    return hdg_encode_f64(kt, reinterpret_cast<const double*>(x.p), n, features, r.lo.data(), r.hi.data(), bins,
                          levels.p, positions.p, dim, with_tie ? tie.p : nullptr, out, threads, bad);
  };
  hdg_status_t st = call(tables().t[0], ref.p, &ref_bad);
  REQUIRE(st == 0 || st == 1, "hdg_encode: unexpected status");
  if (st == 1) {
    REQUIRE(ref_bad < n * features && !std::isfinite(get(x.p, ref_bad)), "hdg_encode: wrong bad index");
    for (size_t i = 0; i < ref_bad; i++) REQUIRE(std::isfinite(get(x.p, i)), "hdg_encode: not the first bad index");
    for (size_t i = 0; i < ref.bytes(); i++) REQUIRE(((unsigned char*)ref.p)[i] == 0xa5, "hdg_encode wrote on error");
  } else {
    check_padding(ref.p, n, dim, "hdg_encode: padding bits set");
  }
  for (int k = 1; k < tables().n; k++) {
    Buf<uint64_t> out(n * words);
    memset(out.p, 0xa5, out.bytes());
    size_t bad = 0;
    REQUIRE(call(tables().t[k], out.p, &bad) == st, "hdg_encode status differs between levels");
    REQUIRE(st == 0 || bad == ref_bad, "hdg_encode bad index differs between levels");
    if (st == 0) check_padding(out.p, n, dim, "hdg_encode: padding bits set");
    if (contract) REQUIRE(out.same(ref), "hdg_encode differs between levels");
  }
}

template <typename T>
void op_project(FuzzedDataProvider& fdp) {
  uint32_t dim = pick_dim(fdp, 700);
  size_t words = hdg_words(dim), features = fdp.ConsumeIntegralInRange<size_t>(1, 24),
         n = fdp.ConsumeIntegralInRange<size_t>(0, 16);
  bool with_tie = fdp.ConsumeBool();
  unsigned threads = fdp.ConsumeIntegralInRange<unsigned>(1, 3);
  Buf<T> x(n * features);
  fill_values(fdp, x.p, n * features);
  Buf<double> mult(features);
  fill_values(fdp, mult.p, features);
  if (fdp.ConsumeBool())
    for (size_t f = 0; f < features; f++) put(mult.p, f, 32767.0 / (std::fabs(get(mult.p, f)) + 1e-3));
  Buf<uint64_t> proj(features * words), tie(words);
  fill_rows(fdp, proj.p, features, dim);
  fill_rows(fdp, tie.p, 1, dim);
  auto call = [&](const hdg_kernels_t* kt, uint64_t* out, size_t* bad) {
    if (sizeof(T) == 4)
      return hdg_project_f32(kt, reinterpret_cast<const float*>(x.p), n, features, mult.p, proj.p, dim,
                             with_tie ? tie.p : nullptr, out, threads, bad);
    return hdg_project_f64(kt, reinterpret_cast<const double*>(x.p), n, features, mult.p, proj.p, dim,
                           with_tie ? tie.p : nullptr, out, threads, bad);
  };
  Buf<uint64_t> ref(n * words);
  size_t ref_bad = 0;
  hdg_status_t st = call(tables().t[0], ref.p, &ref_bad);
  REQUIRE(st == 0 || st == 1, "hdg_project: unexpected status");
  if (st == 0) {
    check_padding(ref.p, n, dim, "hdg_project: padding bits set");
    // The reference: the sign of the exact integer sum of quantized weights.
    for (size_t row = 0; row < n; row++)
      for (uint32_t i = 0; i < dim; i++) {
        int64_t s = 0;
        for (size_t f = 0; f < features; f++) {
          int32_t q = hdg_quantize((double)get(x.p, row * features + f), get(mult.p, f));
          REQUIRE(q >= -32767 && q <= 32767, "hdg_quantize out of range");
          s += bit(proj.p + f * words, i) ? -q : q;
        }
        int b = s < 0 ? 1 : s > 0 ? 0 : (with_tie ? bit(tie.p, i) : 0);
        REQUIRE(bit(ref.p + row * words, i) == b, "hdg_project differs from the exact sign");
      }
  }
  for (int k = 1; k < tables().n; k++) {
    Buf<uint64_t> out(n * words);
    size_t bad = 0;
    REQUIRE(call(tables().t[k], out.p, &bad) == st, "hdg_project status differs between levels");
    if (st == 1) REQUIRE(bad == ref_bad, "hdg_project bad index differs between levels");
    if (st == 0) REQUIRE(out.same(ref), "hdg_project differs between levels");
  }
}

// Top-k and the threaded scans. The fuzz build lowers the work per thread to 64 words
// (HDG_MIN_WORDS_PER_THREAD), so these sizes already split over up to four threads, both by
// queries and (few queries) by rows with a merge.
void op_topk(FuzzedDataProvider& fdp) {
  uint32_t dim = pick_dim(fdp, 600);
  size_t words = hdg_words(dim);
  size_t m = fdp.ConsumeIntegralInRange<size_t>(1, 5);
  size_t n = fdp.ConsumeIntegralInRange<size_t>(0, 600);
  size_t k = fdp.ConsumeIntegralInRange<size_t>(0, n);
  Buf<uint64_t> q(m * words), rows(n * words);
  fill_rows(fdp, q.p, m, dim);
  Rng rng{fdp.ConsumeIntegral<uint64_t>()};
  // Few distinct rows make many equal distances, where the index order decides.
  size_t distinct = fdp.ConsumeIntegralInRange<size_t>(1, 64);
  Buf<uint64_t> pool(distinct * words);
  fill_rows(fdp, pool.p, distinct, dim);
  for (size_t r = 0; r < n; r++) memcpy(rows.p + r * words, pool.p + (rng.next() % distinct) * words, words * 8);
  // Reference: every distance, sorted by (distance, index).
  Buf<uint32_t> dist_all(n);
  std::vector<uint32_t> order(n);
  Buf<uint32_t> ref_i(m * k), ref_d(m * k);
  for (size_t i = 0; i < m; i++) {
    tables().t[0]->hamming_1xn(q.p + i * words, rows.p, n, words, dist_all.p);
    for (size_t r = 0; r < n; r++) order[r] = (uint32_t)r;
    std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](uint32_t a, uint32_t b) {
      uint32_t da = get(dist_all.p, a), db = get(dist_all.p, b);
      return da < db || (da == db && a < b);
    });
    for (size_t e = 0; e < k; e++) {
      put(ref_i.p, i * k + e, order[e]);
      put(ref_d.p, i * k + e, get(dist_all.p, order[e]));
    }
  }
  // Threads cost a millisecond each under ASan: the threaded drivers run on one table per input.
  int threaded = fdp.ConsumeIntegralInRange<int>(0, tables().n - 1);
  unsigned threads = fdp.ConsumeBool() ? 1 : fdp.ConsumeIntegralInRange<unsigned>(2, 4);
  for (int t = 0; t < tables().n; t++) {
    Buf<uint32_t> oi(m * k), od(m * k);
    hdg_topk(tables().t[t], q.p, m, rows.p, n, words, k, oi.p, od.p);
    REQUIRE(oi.same(ref_i) && od.same(ref_d), "hdg_topk differs from the sorted distances");
    if (t != threaded) continue;
    hdg_topk_mt(tables().t[t], q.p, m, rows.p, n, words, k, oi.p, od.p, threads);
    REQUIRE(oi.same(ref_i) && od.same(ref_d), "hdg_topk_mt differs from the sorted distances");
    {
      Buf<uint32_t> d1(n), dm(m * n), dref(m * n);
      tables().t[0]->hamming_mxn(q.p, m, rows.p, n, words, dref.p);
      hdg_hamming_1xn_mt(tables().t[t], q.p, rows.p, n, words, d1.p, threads);
      REQUIRE(memcmp(d1.p, dref.p, d1.bytes()) == 0, "hdg_hamming_1xn_mt differs from the single-threaded kernel");
      hdg_hamming_mxn_mt(tables().t[t], q.p, m, rows.p, n, words, dm.p, threads);
      REQUIRE(dm.same(dref), "hdg_hamming_mxn_mt differs from the single-threaded kernel");
    }
  }
}

void op_permute(FuzzedDataProvider& fdp) {
  uint32_t dim = pick_dim(fdp, 1100);
  size_t words = hdg_words(dim), n = fdp.ConsumeIntegralInRange<size_t>(0, 6);
  int64_t k;
  switch (fdp.ConsumeIntegralInRange<int>(0, 3)) {
    case 0: k = fdp.ConsumeIntegralInRange<int64_t>(-2 * (int64_t)dim, 2 * (int64_t)dim); break;
    case 1: k = fdp.ConsumeBool() ? INT64_MIN : INT64_MAX; break;
    case 2: k = fdp.ConsumeIntegralInRange<int64_t>(-9007199254740991, 9007199254740991); break;
    default: k = fdp.ConsumeIntegral<int64_t>(); break;
  }
  Buf<uint64_t> in(n * words), out(n * words), back(n * words);
  fill_rows(fdp, in.p, n, dim);
  hdg_permute(in.p, n, dim, k, out.p);
  check_padding(out.p, n, dim, "hdg_permute: padding bits set");
  int64_t s = k % (int64_t)dim;
  if (s < 0) s += dim;
  for (size_t r = 0; r < n; r++)
    for (uint32_t i = 0; i < dim; i++)
      REQUIRE(bit(out.p + r * words, (uint32_t)((i + (uint64_t)s) % dim)) == bit(in.p + r * words, i),
              "hdg_permute moved a bit to the wrong place");
  hdg_permute(out.p, n, dim, -s, back.p);
  REQUIRE(back.same(in), "hdg_permute by -k does not undo k");
}

void op_random(FuzzedDataProvider& fdp) {
  uint32_t dim = pick_dim(fdp, 4096);
  uint64_t seed = fdp.ConsumeIntegral<uint64_t>();
  auto name = fdp.ConsumeBytes<uint8_t>(fdp.ConsumeIntegralInRange<size_t>(0, 64));
  Buf<uint8_t> nb(name.size());
  if (!name.empty()) memcpy(nb.p, name.data(), name.size());
  Buf<uint64_t> a(hdg_words(dim)), b(hdg_words(dim));
  hdg_random_hv(seed, nb.p, name.size(), dim, a.p);
  hdg_random_hv(seed, nb.p, name.size(), dim, b.p);
  REQUIRE(a.same(b), "hdg_random_hv is not a pure function");
  check_padding(a.p, 1, dim, "hdg_random_hv: padding bits set");
}

int64_t naive_dot(const uint64_t* hv, const int32_t* row, uint32_t dim) {
  int64_t s = 0;
  for (uint32_t i = 0; i < dim; i++) s += bit(hv, i) ? -(int64_t)get(row, i) : (int64_t)get(row, i);
  return s;
}

// The refinement kernels: dots_one (counters inside its precondition), dots_i16 (any int16, stray
// padding bits in the HV), row_add (any weight, wrapping) and row_add_i16 (padding left zero), all
// against per-bit references on every table.
void op_refine_kernels(FuzzedDataProvider& fdp) {
  uint32_t dim = pick_dim(fdp, 1100);
  size_t words = hdg_words(dim), stride = words * 64, m = fdp.ConsumeIntegralInRange<size_t>(0, 14);
  Buf<uint64_t> hv(words), dirty(words);
  fill_rows(fdp, hv.p, 1, dim);
  memcpy(dirty.p, hv.p, hv.bytes());
  if (fdp.ConsumeBool()) st(dirty.p + words - 1, ld(dirty.p + words - 1) | (fdp.ConsumeIntegral<uint64_t>() & ~tail_mask(dim)));
  Buf<int32_t> c(m * dim);
  fill_counters(fdp, c.p, m * dim);
  for (size_t i = 0; i < m * dim; i++) put(c.p, i, get(c.p, i) % HDG_DOTS_ONE_LIMIT);  // |v| < 2^24
  Buf<int16_t> c16(m * stride);
  Buf<int32_t> wide(m * dim), raw16(m * dim);
  fill_counters(fdp, raw16.p, m * dim);
  memset(c16.p, 0, c16.bytes());
  for (size_t k = 0; k < m; k++)
    for (uint32_t i = 0; i < dim; i++) {
      int16_t v = (int16_t)get(raw16.p, k * dim + i);
      put(c16.p, k * stride + i, v);
      put(wide.p, k * dim + i, (int32_t)v);
    }
  Buf<int64_t> ref(m), ref16(m);
  for (size_t k = 0; k < m; k++) {
    put(ref.p, k, naive_dot(hv.p, c.p + k * dim, dim));
    put(ref16.p, k, naive_dot(hv.p, wide.p + k * dim, dim));
  }
  int32_t w = fdp.ConsumeBool() ? (fdp.ConsumeBool() ? 1 : -1) : fdp.ConsumeIntegral<int32_t>();
  int16_t w16 = fdp.ConsumeBool() ? (int16_t)(fdp.ConsumeBool() ? 1 : -1) : fdp.ConsumeIntegral<int16_t>();
  Buf<int32_t> row(dim), row_ref(dim);
  fill_counters(fdp, row.p, dim);
  for (uint32_t i = 0; i < dim; i++)
    put(row_ref.p, i, (int32_t)((uint32_t)get(row.p, i) + (bit(hv.p, i) ? 0u - (uint32_t)w : (uint32_t)w)));
  Buf<int16_t> row16(stride), row16_ref(stride);
  memset(row16.p, 0, row16.bytes());
  // The top halves: the int32 modes' extremes become int16's.
  for (uint32_t i = 0; i < dim; i++) put(row16.p, i, (int16_t)(get(row.p, i) >> 16));
  memcpy(row16_ref.p, row16.p, row16.bytes());
  for (uint32_t i = 0; i < dim; i++)
    put(row16_ref.p, i,
        (int16_t)(uint16_t)((uint16_t)get(row16.p, i) + (bit(hv.p, i) ? (uint16_t)(0u - (uint16_t)w16) : (uint16_t)w16)));
  for (int k = 0; k < tables().n; k++) {
    const hdg_kernels_t* kt = tables().t[k];
    Buf<int64_t> out(m);
    kt->dots_one(hv.p, c.p, m, dim, out.p);
    REQUIRE(out.same(ref), "dots_one differs from the exact per-bit sum");
    // The same HV twice and once more alone: the pair and the single paths must agree.
    const uint64_t* rows[3] = {dirty.p, dirty.p, dirty.p};
    Buf<int64_t> out3(3 * m);
    kt->dots_i16(rows, 3, c16.p, m, words, out3.p);
    for (size_t r = 0; r < 3; r++)
      REQUIRE(memcmp(out3.p + r * m, ref16.p, ref16.bytes()) == 0, "dots_i16 differs from the exact per-bit sum");
    Buf<int32_t> r(dim);
    memcpy(r.p, row.p, row.bytes());
    kt->row_add(r.p, dim, hv.p, w);
    REQUIRE(r.same(row_ref), "row_add differs from the wrapping per-bit sum");
    Buf<int16_t> r16(stride);
    memcpy(r16.p, row16.p, row16.bytes());
    kt->row_add_i16(r16.p, dim, hv.p, w16);
    REQUIRE(r16.same(row16_ref), "row_add_i16 differs from the wrapping per-bit sum or touched the padding");
  }
}

// Same doubles, NaNs alike whatever their payload.
bool same_doubles(const double* a, const double* b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    double x = get(a, i), y = get(b, i);
    if (x != x && y != y) continue;
    if (memcmp(&x, &y, 8) != 0) return false;
  }
  return true;
}

// hdg_refine_online on every table against the epoch written out from its definition: counters
// that start small, near the int16 limit, near dots_one's limit or anywhere (wrapping), norms that
// are exact or arbitrary doubles (NaN, negative, infinite), any margin.
void op_refine_driver(FuzzedDataProvider& fdp) {
  uint32_t dim = pick_dim(fdp, 300);
  size_t words = hdg_words(dim), m = fdp.ConsumeIntegralInRange<size_t>(1, 12),
         n = fdp.ConsumeIntegralInRange<size_t>(1, 20), count = fdp.ConsumeIntegralInRange<size_t>(0, 60);
  int adapt = fdp.ConsumeBool();
  double margin = fdp.ConsumeBool() ? fdp.ConsumeFloatingPointInRange<double>(-0.5, 1.0) : fdp.ConsumeFloatingPoint<double>();
  Buf<uint64_t> hvs(n * words);
  fill_rows(fdp, hvs.p, n, dim);
  Buf<int32_t> truth(n), c0(m * dim);
  Buf<uint32_t> order(count);
  Rng rng{fdp.ConsumeIntegral<uint64_t>()};
  for (size_t i = 0; i < n; i++) put(truth.p, i, (int32_t)(rng.next() % m));
  for (size_t e = 0; e < count; e++) put(order.p, e, (uint32_t)(rng.next() % n));
  int shape = fdp.ConsumeIntegralInRange<int>(0, 3);
  fill_counters(fdp, c0.p, m * dim);
  for (size_t i = 0; i < m * dim; i++) {
    int64_t v = get(c0.p, i);
    if (shape == 0) v %= 64;
    if (shape == 1) v = 32767 - 40 + v % 40;
    if (shape == 2) v = HDG_DOTS_ONE_LIMIT - 40 + v % 40;
    if (shape != 3 && (rng.next() & 1)) v = -v;
    put(c0.p, i, (int32_t)v);
  }
  Buf<double> n0(m);
  bool exact = fdp.ConsumeBool();
  for (size_t k = 0; k < m; k++) {
    double s = 0;
    for (uint32_t i = 0; i < dim; i++) s += (double)get(c0.p, k * dim + i) * (double)get(c0.p, k * dim + i);
    put(n0.p, k, exact ? s : fdp.ConsumeFloatingPoint<double>());
  }
  // The reference epoch.
  Buf<int32_t> rc(m * dim);
  Buf<double> rn(m);
  memcpy(rc.p, c0.p, c0.bytes());
  memcpy(rn.p, n0.p, n0.bytes());
  uint64_t rerr = 0, rupd = 0;
  std::vector<int64_t> dot(m);
  std::vector<double> s(m);
  for (size_t e = 0; e < count; e++) {
    const uint64_t* x = hvs.p + (size_t)get(order.p, e) * words;
    size_t t = (size_t)get(truth.p, get(order.p, e));
    for (size_t k = 0; k < m; k++) {
      dot[k] = naive_dot(x, rc.p + k * dim, dim);
      double nk = get(rn.p, k);
      s[k] = nk > 0 ? (double)dot[k] / (std::sqrt((double)dim) * std::sqrt(nk)) : 0;
    }
    size_t p = 0;
    for (size_t k = 1; k < m; k++)
      if (s[k] > s[p]) p = k;
    long rival = p != t ? (long)p : -1;
    if (p == t)
      for (size_t k = 0; k < m; k++)
        if (k != t && (rival < 0 || s[k] > s[rival])) rival = (long)k;
    if (p != t) rerr++;
    double lead = rival < 0 ? INFINITY : s[t] - s[rival];
    if (p == t && !(lead < margin)) continue;
    rupd++;
    for (uint32_t i = 0; i < dim; i++)
      put(rc.p, t * dim + i, (int32_t)((uint32_t)get(rc.p, t * dim + i) + (bit(x, i) ? UINT32_MAX : 1u)));
    put(rn.p, t, get(rn.p, t) + (2.0 * (double)dot[t] + (double)dim));
    if (adapt && rival >= 0) {
      for (uint32_t i = 0; i < dim; i++)
        put(rc.p, rival * dim + i, (int32_t)((uint32_t)get(rc.p, rival * dim + i) + (bit(x, i) ? 1u : UINT32_MAX)));
      put(rn.p, rival, get(rn.p, rival) + (-2.0 * (double)dot[rival] + (double)dim));
    }
  }
  for (int k = 0; k < tables().n; k++) {
    Buf<int32_t> c(m * dim);
    Buf<double> nn(m);
    memcpy(c.p, c0.p, c0.bytes());
    memcpy(nn.p, n0.p, n0.bytes());
    uint64_t err = 0, upd = 0;
    REQUIRE(hdg_refine_online(tables().t[k], hvs.p, n, dim, truth.p, order.p, count, c.p, m, nn.p, margin, adapt,
                              &err, &upd) == 0,
            "hdg_refine_online failed");
    REQUIRE(c.same(rc), "hdg_refine_online counters differ from the reference epoch");
    REQUIRE(same_doubles(nn.p, rn.p, m), "hdg_refine_online norms differ from the reference epoch");
    REQUIRE(err == rerr && upd == rupd, "hdg_refine_online counts differ from the reference epoch");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider fdp(data, size);
  int op = fdp.ConsumeIntegralInRange<int>(0, 14);
  // HDGLUE_FUZZ_TRACE=1 names the operation of each input (to find what makes an input slow).
  static const bool trace = getenv("HDGLUE_FUZZ_TRACE") != nullptr;
  if (trace) fprintf(stderr, "op %d\n", op);
  switch (op) {
    case 0: op_bind(fdp); break;
    case 1: op_hamming(fdp); break;
    case 2: op_bundle(fdp); break;
    case 3: op_counters(fdp); break;
    case 4: op_bin_rows(fdp); break;
    case 5: op_bin(fdp); break;
    case 6: op_encode<float>(fdp); break;
    case 7: op_encode<double>(fdp); break;
    case 8: op_project<float>(fdp); break;
    case 9: op_project<double>(fdp); break;
    case 10: op_topk(fdp); break;
    case 11: op_permute(fdp); break;
    case 13: op_refine_kernels(fdp); break;
    case 14: op_refine_driver(fdp); break;
    default: op_random(fdp); break;
  }
  return 0;
}
