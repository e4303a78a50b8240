// Kernel tests run by ctest: every level's kernel table against a naive per-bit oracle (which
// shares no code with the kernels), on random inputs and the edge cases that break bit-sliced
// and SIMD code: D not a multiple of 64 or below 64, counts of 0, 1, 2, even and odd, all ties,
// unaligned pointers. Usage: hdglue_kernel_tests <scalar|avx2|avx512|neon|simd128>; exits 77
// (skipped) when this CPU lacks the level, unless HDGLUE_REQUIRE_ISA lists it. The wasm32 build
// (scripts/test-wasm-cpp.mjs) runs it under WASI for simd128 and scalar; there the threaded
// drivers run on the calling thread (HDG_NO_THREADS), which their tests still compare.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <string>
#include <vector>

#include "hdglue.h"

namespace {

int g_failed = 0, g_passed = 0;

int64_t naive_dot(const uint64_t* hv, const int32_t* row, uint32_t dim);

#define CHECK(cond, ...)                                   \
  do {                                                     \
    if (cond) {                                            \
      g_passed++;                                          \
    } else {                                               \
      g_failed++;                                          \
      if (g_failed <= 20) {                                \
        fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
        fprintf(stderr, __VA_ARGS__);                      \
        fprintf(stderr, "\n");                             \
      }                                                    \
    }                                                      \
  } while (0)

struct Rng {
  uint64_t s;
  uint64_t next() {
    s += 0x9e3779b97f4a7c15ULL;
    uint64_t z = s;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
};

// Storage offset by 4 bytes from 8-byte alignment, as a JavaScript subarray view may be.
struct Buf {
  std::vector<uint32_t> raw;
  uint64_t* p;
  explicit Buf(size_t words) : raw(words * 2 + 3, 0xdeadbeefu) {
    uintptr_t a = (uintptr_t)raw.data();
    uint32_t* base = raw.data() + ((a & 7) == 0 ? 1 : 0);
    p = reinterpret_cast<uint64_t*>(base);
    memset(p, 0, words * 8);
  }
};

int bit(const uint64_t* v, size_t i) {
  uint64_t w;
  memcpy(&w, v + (i >> 6), 8);
  return (int)((w >> (i & 63)) & 1);
}
void set_bit(uint64_t* v, size_t i, int b) {
  uint64_t w;
  memcpy(&w, v + (i >> 6), 8);
  w = (w & ~(1ULL << (i & 63))) | ((uint64_t)b << (i & 63));
  memcpy(v + (i >> 6), &w, 8);
}

void fill_random(uint64_t* v, size_t rows, uint32_t dim, Rng& r, int density_mode) {
  size_t words = hdg_words(dim);
  for (size_t row = 0; row < rows; row++)
    for (uint32_t i = 0; i < dim; i++) {
      int b;
      if (density_mode == 1) b = (r.next() & 7) == 0;          // sparse ones
      else if (density_mode == 2) b = (r.next() & 7) != 0;     // dense ones
      else b = (int)(r.next() & 1);
      set_bit(v + row * words, i, b);
    }
}

bool padding_zero(const uint64_t* v, size_t rows, uint32_t dim) {
  size_t words = hdg_words(dim);
  for (size_t row = 0; row < rows; row++)
    for (size_t i = dim; i < words * 64; i++)
      if (bit(v + row * words, i)) return false;
  return true;
}

bool equal_words(const uint64_t* a, const uint64_t* b, size_t words) { return memcmp(a, b, words * 8) == 0; }

const uint32_t kDims[] = {1, 2, 63, 64, 65, 127, 128, 129, 255, 511, 512, 513, 1000, 1023, 1024, 1025, 10000};

// Per-bit reference distances (no kernel involved).
void hamming_1xn_scalar_ref(const uint64_t* q, const uint64_t* batch, size_t n, uint32_t dim, uint32_t* out) {
  size_t words = hdg_words(dim);
  for (size_t row = 0; row < n; row++) {
    uint32_t d = 0;
    for (uint32_t i = 0; i < dim; i++) d += bit(q, i) != bit(batch + row * words, i);
    out[row] = d;
  }
}

void test_bind_hamming(const hdg_kernels_t* kt, Rng& r) {
  for (uint32_t dim : kDims) {
    size_t words = hdg_words(dim);
    for (size_t n : {0, 1, 2, 3, 7, 8, 9, 17, 33}) {
      Buf a(n * words + 1), b(n * words + 1), q(words), out(n * words + 1);
      fill_random(a.p, n, dim, r, 0);
      fill_random(b.p, n, dim, r, 0);
      fill_random(q.p, 1, dim, r, (int)(n % 3));
      for (int stride = 0; stride <= 1; stride++) {
        kt->bind(a.p, stride ? b.p : q.p, stride, n, words, out.p);
        bool ok = true;
        for (size_t row = 0; row < n && ok; row++)
          for (uint32_t i = 0; i < dim; i++) {
            int want = bit(a.p + row * words, i) ^ bit(stride ? b.p + row * words : q.p, i);
            if (bit(out.p + row * words, i) != want) { ok = false; break; }
          }
        CHECK(ok && padding_zero(out.p, n, dim), "bind dim=%u n=%zu stride=%d", dim, n, stride);
      }
      std::vector<uint32_t> d(n + 1, 12345);
      kt->hamming_1xn(q.p, a.p, n, words, d.data());
      bool ok = true;
      for (size_t row = 0; row < n; row++) {
        uint32_t want = 0;
        for (uint32_t i = 0; i < dim; i++) want += bit(q.p, i) != bit(a.p + row * words, i);
        if (d[row] != want) ok = false;
      }
      CHECK(ok && d[n] == 12345, "hamming_1xn dim=%u n=%zu", dim, n);
      // m x n against the 1 x n kernel of the oracle above, row by row.
      size_t m = n % 5;
      std::vector<uint32_t> mm(m * n + 1, 777);
      kt->hamming_mxn(b.p, m, a.p, n, words, mm.data());
      ok = true;
      for (size_t i = 0; i < m; i++)
        for (size_t row = 0; row < n; row++) {
          uint32_t want = 0;
          for (uint32_t x = 0; x < dim; x++) want += bit(b.p + i * words, x) != bit(a.p + row * words, x);
          if (mm[i * n + row] != want) ok = false;
        }
      CHECK(ok && mm[m * n] == 777, "hamming_mxn dim=%u m=%zu n=%zu", dim, m, n);
    }
  }
  // M x N with query counts that fill and overrun the register tiles (6 x 4 on AVX-512,
  // 3 x 2 on AVX2), against the 1 x N kernel of the same table, row by row.
  for (uint32_t dim : {65u, 513u, 10000u}) {
    size_t words = hdg_words(dim);
    for (size_t m : {5, 6, 7, 12, 13, 25}) {
      for (size_t n : {1, 3, 4, 5, 9, 130}) {
        Buf a(m * words), b(n * words);
        fill_random(a.p, m, dim, r, 0);
        fill_random(b.p, n, dim, r, (int)(n % 3));
        std::vector<uint32_t> got(m * n + 1, 777), want(n);
        kt->hamming_mxn(a.p, m, b.p, n, words, got.data());
        bool ok = got[m * n] == 777;
        for (size_t i = 0; i < m; i++) {
          hamming_1xn_scalar_ref(a.p + i * words, b.p, n, dim, want.data());
          for (size_t row = 0; row < n; row++) ok &= got[i * n + row] == want[row];
        }
        CHECK(ok, "hamming_mxn tiles dim=%u m=%zu n=%zu", dim, m, n);
      }
    }
  }
  // Large popcounts: all ones against all zeros, where per-lane counters could overflow.
  for (uint32_t dim : {65535u, 65536u, 200000u}) {
    size_t words = hdg_words(dim);
    Buf ones(words), zeros(words);
    for (uint32_t i = 0; i < dim; i++) set_bit(ones.p, i, 1);
    uint32_t d = 0;
    kt->hamming_1xn(zeros.p, ones.p, 1, words, &d);
    CHECK(d == dim, "hamming all ones dim=%u got %u", dim, d);
  }
}

void naive_bundle(const uint64_t* batch, size_t k, uint32_t dim, const uint64_t* tie, uint64_t* out) {
  size_t words = hdg_words(dim);
  memset(out, 0, words * 8);
  for (uint32_t i = 0; i < dim; i++) {
    size_t ones = 0;
    for (size_t row = 0; row < k; row++) ones += bit(batch + row * words, i);
    int b = 2 * ones > k ? 1 : 2 * ones < k ? 0 : (tie ? bit(tie, i) : 0);
    set_bit(out, i, b);
  }
}

void test_bundle(const hdg_kernels_t* kt, Rng& r) {
  for (uint32_t dim : kDims) {
    size_t words = hdg_words(dim);
    for (size_t k : {0, 1, 2, 3, 4, 5, 6, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 255, 256, 257}) {
      if (dim > 1100 && k > 70 && k != 128) continue;  // the oracle is per bit: keep the run short
      Buf batch(k * words + 1), tie(words), out(words), want(words);
      fill_random(batch.p, k, dim, r, (int)(k % 3));
      fill_random(tie.p, 1, dim, r, 0);
      for (int use_tie = 0; use_tie <= 1; use_tie++) {
        const uint64_t* t = use_tie ? tie.p : nullptr;
        kt->bundle(batch.p, k, words, t, out.p);
        naive_bundle(batch.p, k, dim, t, want.p);
        CHECK(equal_words(out.p, want.p, words), "bundle dim=%u k=%zu tie=%d", dim, k, use_tie);
      }
      if (k >= 2 && k % 2 == 0) {
        // All ties: rows in complementary pairs, so every bit is an exact tie.
        for (size_t row = 0; row < k; row += 2)
          for (uint32_t i = 0; i < dim; i++) set_bit(batch.p + (row + 1) * words, i, !bit(batch.p + row * words, i));
        kt->bundle(batch.p, k, words, tie.p, out.p);
        CHECK(equal_words(out.p, tie.p, words), "bundle all-ties tiebreak dim=%u k=%zu", dim, k);
        kt->bundle(batch.p, k, words, nullptr, out.p);
        bool zero = true;
        for (size_t j = 0; j < words; j++) zero &= memcmp(out.p + j, "\0\0\0\0\0\0\0\0", 8) == 0;  // unaligned: no direct load
        CHECK(zero, "bundle all-ties ones rule dim=%u k=%zu", dim, k);
      }
    }
  }
}

void test_counters(const hdg_kernels_t* kt, Rng& r) {
  for (uint32_t dim : kDims) {
    size_t words = hdg_words(dim);
    for (size_t n : {0, 1, 2, 5, 16, 33}) {
      Buf batch(n * words + 1), tie(words);
      fill_random(batch.p, n, dim, r, (int)(n % 3));
      fill_random(tie.p, 1, dim, r, 0);
      std::vector<int32_t> w(n + 1), c(dim + 1), want(dim + 1);
      for (size_t row = 0; row < n; row++) w[row] = (int32_t)(r.next() % 21) - 10;
      if (n > 2) w[0] = 2147483647, w[1] = -2147483647 - 1;  // wrap-around must agree too
      for (uint32_t i = 0; i < dim; i++) c[i] = want[i] = (int32_t)(r.next() % 9) - 4;
      c[dim] = want[dim] = 424242;
      for (int weighted = 0; weighted <= 1; weighted++) {
        kt->acc_add(c.data(), dim, batch.p, n, weighted ? w.data() : nullptr);
        for (size_t row = 0; row < n; row++)
          for (uint32_t i = 0; i < dim; i++) {
            int64_t ww = weighted ? w[row] : 1;
            uint32_t delta = (uint32_t)(bit(batch.p + row * words, i) ? -ww : ww);
            want[i] = (int32_t)((uint32_t)want[i] + delta);
          }
        CHECK(c == want, "acc_add dim=%u n=%zu weighted=%d", dim, n, weighted);
      }
      // Thresholds of m rows, including exact zeros, with and without a tie-breaker.
      size_t m = 3;
      std::vector<int32_t> rows(m * dim);
      for (auto& v : rows) v = (int32_t)(r.next() % 5) - 2;
      Buf out(m * words), exp(m * words);
      for (int use_tie = 0; use_tie <= 1; use_tie++) {
        kt->threshold(rows.data(), m, dim, use_tie ? tie.p : nullptr, out.p);
        memset(exp.p, 0, m * words * 8);
        for (size_t cr = 0; cr < m; cr++)
          for (uint32_t i = 0; i < dim; i++) {
            int32_t v = rows[cr * dim + i];
            set_bit(exp.p + cr * words, i, v < 0 ? 1 : v > 0 ? 0 : (use_tie ? bit(tie.p, i) : 0));
          }
        CHECK(equal_words(out.p, exp.p, m * words), "threshold dim=%u tie=%d", dim, use_tie);
      }
      // Dot of n HVs against m counter rows, with counters near the int32 limits.
      for (auto& v : rows) v = (int32_t)r.next();
      std::vector<int64_t> dot(n * m + 1, -99);
      kt->dot_counters(batch.p, n, rows.data(), m, dim, dot.data());
      bool ok = dot[n * m] == -99;
      for (size_t row = 0; row < n; row++)
        for (size_t cr = 0; cr < m; cr++) {
          int64_t s = 0;
          for (uint32_t i = 0; i < dim; i++) s += bit(batch.p + row * words, i) ? -(int64_t)rows[cr * dim + i] : rows[cr * dim + i];
          if (dot[row * m + cr] != s) ok = false;
        }
      CHECK(ok, "dot_counters dim=%u n=%zu", dim, n);
      // Weighted bundle = sign of the weighted bipolar sum.
      if (n > 0) {
        std::vector<int32_t> scratch(dim);
        for (size_t row = 0; row < n; row++) w[row] = (int32_t)(r.next() % 7) - 3;
        Buf wb(words), wexp(words);
        hdg_bundle_weighted(kt, batch.p, n, dim, w.data(), tie.p, scratch.data(), wb.p);
        for (uint32_t i = 0; i < dim; i++) {
          int64_t s = 0;
          for (size_t row = 0; row < n; row++) s += bit(batch.p + row * words, i) ? -w[row] : w[row];
          set_bit(wexp.p, i, s < 0 ? 1 : s > 0 ? 0 : bit(tie.p, i));
        }
        CHECK(equal_words(wb.p, wexp.p, words), "bundle_weighted dim=%u n=%zu", dim, n);
      }
    }
  }
}

// dot_counters over counter magnitudes where a kernel may sum in narrower lanes while a row's
// counters stay small (simd128 does below 2^21): rows of one value each, just below and above
// such bounds, against HVs of all ones (the largest lane sums), all zeros and random bits, over
// dims that span several chunks of the kernels' loops; and a row of small counters but one.
void test_dot_counters_ranges(const hdg_kernels_t* kt, Rng& r) {
  const int32_t values[] = {(1 << 21) - 1, 1 << 21, (1 << 22) - 1, (1 << 24) - 1, 1 << 26, 2147483647};
  const size_t m = 2 * (sizeof values / sizeof values[0]) + 1;
  for (uint32_t dim : {65u, 1000u, 10000u, 70000u}) {
    size_t words = hdg_words(dim);
    const size_t n = 3;
    Buf hvs(n * words);
    for (uint32_t i = 0; i < dim; i++) set_bit(hvs.p, i, 1);
    fill_random(hvs.p + 2 * words, 1, dim, r, 0);
    std::vector<int32_t> c(m * dim);
    for (size_t k = 0; k + 1 < m; k++)
      for (uint32_t i = 0; i < dim; i++) c[k * dim + i] = k % 2 ? -values[k / 2] : values[k / 2];
    for (uint32_t i = 0; i < dim; i++) c[(m - 1) * dim + i] = (int32_t)(r.next() % 2001) - 1000;
    c[(m - 1) * dim + dim / 2] = -(1 << 21);
    std::vector<int64_t> got(n * m + 1, -99);
    kt->dot_counters(hvs.p, n, c.data(), m, dim, got.data());
    bool ok = got[n * m] == -99;
    for (size_t row = 0; row < n; row++)
      for (size_t k = 0; k < m; k++) ok &= got[row * m + k] == naive_dot(hvs.p + row * words, c.data() + k * dim, dim);
    CHECK(ok, "dot_counters ranges dim=%u", dim);
  }
}

void test_permute_topk(const hdg_kernels_t* kt, Rng& r) {
  for (uint32_t dim : kDims) {
    size_t words = hdg_words(dim);
    Buf in(2 * words), out(2 * words);
    fill_random(in.p, 2, dim, r, 0);
    for (int64_t k : {0LL, 1LL, -1LL, 63LL, 64LL, 65LL, (long long)dim, -(long long)dim, 3LL * dim + 5, -7LL, 12345LL}) {
      hdg_permute(in.p, 2, dim, k, out.p);
      bool ok = true;
      int64_t s = ((k % (int64_t)dim) + dim) % dim;
      for (size_t row = 0; row < 2; row++)
        for (uint32_t i = 0; i < dim; i++)
          if (bit(out.p + row * words, (size_t)((i + s) % dim)) != bit(in.p + row * words, i)) ok = false;
      CHECK(ok && padding_zero(out.p, 2, dim), "permute dim=%u k=%lld", dim, (long long)k);
    }
    // Top-k with many equal distances (a batch of repeated rows) checks the index tie rule.
    for (size_t n : {1, 2, 5, 300, 600}) {
      if (dim > 1100 && n > 5) continue;
      Buf batch(n * words), q(3 * words);
      fill_random(batch.p, n, dim, r, 0);
      for (size_t row = 0; row + 3 < n; row += 4) memcpy(batch.p + (row + 2) * words, batch.p + row * words, words * 8);
      fill_random(q.p, 3, dim, r, 0);
      for (size_t k : {(size_t)1, (size_t)2, n / 2, n}) {
        if (k == 0 || k > n) continue;
        std::vector<uint32_t> idx(3 * k), dist(3 * k);
        hdg_topk(kt, q.p, 3, batch.p, n, words, k, idx.data(), dist.data());
        bool ok = true;
        for (size_t qi = 0; qi < 3; qi++) {
          std::vector<std::pair<uint32_t, uint32_t>> all(n);
          for (size_t row = 0; row < n; row++) {
            uint32_t d = 0;
            for (uint32_t i = 0; i < dim; i++) d += bit(q.p + qi * words, i) != bit(batch.p + row * words, i);
            all[row] = {d, (uint32_t)row};
          }
          std::sort(all.begin(), all.end());
          for (size_t j = 0; j < k; j++)
            if (idx[qi * k + j] != all[j].second || dist[qi * k + j] != all[j].first) ok = false;
        }
        CHECK(ok, "topk dim=%u n=%zu k=%zu", dim, n, k);
      }
    }
  }
}

// The threaded drivers must equal the single-threaded kernels for any split, including uneven
// chunks; sizes are above the 2 MiB-per-thread threshold so threads really start.
void test_parallel(const hdg_kernels_t* kt, Rng& r) {
  const uint32_t dim = 1000;
  const size_t words = hdg_words(dim), n = 50001, m = 5;
  Buf batch(n * words), q(m * words);
  for (size_t j = 0; j < n * words; j++) {
    uint64_t w = r.next() & (j % words == words - 1 ? 0xffffffffffULL : ~0ULL);  // dim 1000: 40 bits in the last word
    memcpy(batch.p + j, &w, 8);
  }
  fill_random(q.p, m, dim, r, 0);
  std::vector<uint32_t> want(n), got(n);
  kt->hamming_1xn(q.p, batch.p, n, words, want.data());
  for (unsigned t : {1u, 2u, 3u, 7u}) {
    std::fill(got.begin(), got.end(), 0u);
    hdg_hamming_1xn_mt(kt, q.p, batch.p, n, words, got.data(), t);
    CHECK(got == want, "hamming_1xn_mt threads=%u", t);
  }
  std::vector<uint32_t> wm(m * n), gm(m * n);
  kt->hamming_mxn(q.p, m, batch.p, n, words, wm.data());
  for (unsigned t : {2u, 3u}) {
    hdg_hamming_mxn_mt(kt, q.p, m, batch.p, n, words, gm.data(), t);
    CHECK(gm == wm, "hamming_mxn_mt threads=%u", t);
  }
  const size_t k = 9;
  std::vector<uint32_t> wi(m * k), wd(m * k), gi(m * k), gd(m * k);
  hdg_topk(kt, q.p, m, batch.p, n, words, k, wi.data(), wd.data());
  for (unsigned t : {2u, 4u}) {
    hdg_topk_mt(kt, q.p, m, batch.p, n, words, k, gi.data(), gd.data(), t);
    CHECK(gi == wi && gd == wd, "topk_mt threads=%u", t);
  }
  // One or two queries: rows are split instead and the parts' lists merged. Wide rows make even
  // a few hundred of them worth several threads; duplicates test the index order of the merge.
  const uint32_t wdim = 100000;
  const size_t ww = hdg_words(wdim), wn = 403;
  Buf wide(wn * ww), wq(2 * ww);
  fill_random(wide.p, wn, wdim, r, 0);
  for (size_t row = 0; row + 200 < wn; row += 3) memcpy(wide.p + (row + 200) * ww, wide.p + row * ww, ww * 8);
  fill_random(wq.p, 2, wdim, r, 0);
  for (size_t qm : {(size_t)1, (size_t)2}) {
    for (size_t kk : {(size_t)1, (size_t)7, (size_t)134, (size_t)135, (size_t)200, (size_t)201, wn}) {
      std::vector<uint32_t> ei(qm * kk), ed(qm * kk), ai(qm * kk), ad(qm * kk);
      hdg_topk(kt, wq.p, qm, wide.p, wn, ww, kk, ei.data(), ed.data());
      for (unsigned t : {2u, 3u}) {
        hdg_topk_mt(kt, wq.p, qm, wide.p, wn, ww, kk, ai.data(), ad.data(), t);
        CHECK(ai == ei && ad == ed, "topk_mt by rows m=%zu k=%zu threads=%u", qm, kk, t);
      }
    }
    std::vector<uint32_t> e1(qm * wn), a1(qm * wn);
    kt->hamming_mxn(wq.p, qm, wide.p, wn, ww, e1.data());
    hdg_hamming_mxn_mt(kt, wq.p, qm, wide.p, wn, ww, a1.data(), 3);
    CHECK(a1 == e1, "hamming_mxn_mt m=%zu", qm);
  }
}

// The level encoder against the oracle: bind each feature's level row to its position row,
// then the per-bit majority, for feature counts that exercise every tree size and tie.
void test_encode(const hdg_kernels_t* kt, Rng& r) {
  for (uint32_t dim : {1u, 63u, 64u, 65u, 129u, 511u, 1000u, 10000u}) {
    size_t words = hdg_words(dim);
    const size_t nlevels = 13;
    Buf levels(nlevels * words), tie(words);
    fill_random(levels.p, nlevels, dim, r, 0);
    fill_random(tie.p, 1, dim, r, 0);
    for (size_t features : {1, 2, 3, 7, 8, 15, 16, 17, 31, 32, 33, 64, 100, 128, 129, 255, 256, 300}) {
      if (dim > 1100 && features > 130 && features != 300) continue;
      Buf pos(features * words);
      fill_random(pos.p, features, dim, r, (int)(features % 3));
      for (size_t n : {0, 1, 2, 5, 33, 70}) {
        if (dim > 1100 && n > 5) continue;
        std::vector<uint16_t> bins(n * features);
        for (auto& b : bins) b = (uint16_t)(r.next() % nlevels);
        // Rows where every feature sits in the same bin, and pairs of features that cancel, so
        // even feature counts produce ties.
        if (n > 1)
          for (size_t f = 0; f < features; f++) bins[features + f] = 3;
        for (int use_tie = 0; use_tie <= 1; use_tie++) {
          const uint64_t* t = use_tie ? tie.p : nullptr;
          Buf out(n * words + 1), want(n * words + 1);
          kt->encode_levels(bins.data(), n, features, levels.p, pos.p, words, t, out.p);
          for (size_t row = 0; row < n; row++) {
            for (uint32_t i = 0; i < dim; i++) {
              size_t ones = 0;
              for (size_t f = 0; f < features; f++)
                ones += bit(levels.p + (size_t)bins[row * features + f] * words, i) ^ bit(pos.p + f * words, i);
              int b = 2 * ones > features ? 1 : 2 * ones < features ? 0 : (t ? bit(t, i) : 0);
              set_bit(want.p + row * words, i, b);
            }
          }
          CHECK(equal_words(out.p, want.p, n * words) && padding_zero(out.p, n, dim),
                "encode_levels dim=%u features=%zu n=%zu tie=%d", dim, features, n, use_tie);
        }
      }
    }
  }
}

// Encoder edges test_encode does not reach: many level rows or many features (the SIMD kernels
// then read the caller's arrays directly instead of a per-column copy), feature counts of 2^16
// and more (counter planes beyond the in-register trees), and the word past the output untouched.
void test_encode_wide(const hdg_kernels_t* kt, Rng& r) {
  struct Case {
    uint32_t dim;
    size_t nlevels, features, n;
  };
  const Case cases[] = {{65, 1100, 5, 33},    {1000, 1100, 20, 33}, {129, 1100, 130, 33}, {70, 1100, 300, 5},
                        {200, 13, 1100, 3},   {511, 3, 600, 2},     {70, 3, 65536, 1},    {70, 3, 65541, 2}};
  for (const Case& c : cases) {
    size_t words = hdg_words(c.dim);
    Buf levels(c.nlevels * words), pos(c.features * words), tie(words);
    fill_random(levels.p, c.nlevels, c.dim, r, 0);
    fill_random(pos.p, c.features, c.dim, r, 0);
    fill_random(tie.p, 1, c.dim, r, 0);
    std::vector<uint16_t> bins(c.n * c.features);
    for (auto& b : bins) b = (uint16_t)(r.next() % c.nlevels);
    // One row of a single bin and paired features, so even counts tie.
    if (c.n > 1)
      for (size_t f = 0; f < c.features; f++) bins[c.features + f] = (uint16_t)(c.nlevels - 1);
    for (int use_tie = 0; use_tie <= 1; use_tie++) {
      const uint64_t* t = use_tie ? tie.p : nullptr;
      Buf out(c.n * words + 1), want(c.n * words + 1);
      kt->encode_levels(bins.data(), c.n, c.features, levels.p, pos.p, words, t, out.p);
      for (size_t row = 0; row < c.n; row++) {
        for (uint32_t i = 0; i < c.dim; i++) {
          size_t ones = 0;
          for (size_t f = 0; f < c.features; f++)
            ones += bit(levels.p + (size_t)bins[row * c.features + f] * words, i) ^ bit(pos.p + f * words, i);
          int b = 2 * ones > c.features ? 1 : 2 * ones < c.features ? 0 : (t ? bit(t, i) : 0);
          set_bit(want.p + row * words, i, b);
        }
      }
      CHECK(equal_words(out.p, want.p, c.n * words + 1) && padding_zero(out.p, c.n, c.dim),
            "encode_levels wide dim=%u levels=%zu features=%zu n=%zu tie=%d", c.dim, c.nlevels, c.features, c.n,
            use_tie);
    }
  }
}

// Binning against hdg_bin, value by value, where binning goes wrong: values on every edge and one
// ulp either side of it, at and beyond lo and hi, huge ones, flat features (lo == hi) at every lane
// position, bin counts of 1 to 65536, and feature counts that leave every SIMD tail length.
void test_bin_rows(const hdg_kernels_t* kt, Rng& r) {
  auto unit = [&] { return (double)(r.next() >> 11) / 9007199254740992.0; };
  for (uint32_t bins : {1u, 2u, 3u, 7u, 32u, 100u, 1000u, 65536u}) {
    for (size_t features : {1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 33}) {
      std::vector<double> lo(features), hi(features), step(features), inv(features);
      std::vector<uint8_t> flat(features);
      for (size_t f = 0; f < features; f++) {
        double a = (unit() - 0.5) * (f % 3 == 0 ? 2e6 : 4), w = unit() * (f % 4 == 1 ? 1e-3 : 3);
        lo[f] = a;
        hi[f] = (f * 7 + bins) % 5 == 0 ? a : a + w;  // some flat features, in varying lanes
        step[f] = (hi[f] - lo[f]) / bins;
        inv[f] = bins / (hi[f] - lo[f]);
        flat[f] = !(hi[f] > lo[f]) || !(step[f] > 0);
      }
      hdg_binning_t b{lo.data(), hi.data(), step.data(), inv.data(), flat.data(), bins};
      const size_t n = 40;
      std::vector<double> x(n * features);
      for (size_t row = 0; row < n; row++) {
        for (size_t f = 0; f < features; f++) {
          double v;
          uint32_t j = (uint32_t)(r.next() % (bins + 1));
          double edge = (double)j * step[f] + lo[f];
          switch (row % 8) {
            case 0: v = edge; break;
            case 1: v = nextafter(edge, -1e308); break;
            case 2: v = nextafter(edge, 1e308); break;
            case 3: v = row % 16 == 3 ? lo[f] : hi[f]; break;
            case 4: v = row % 16 == 4 ? nextafter(hi[f], -1e308) : nextafter(lo[f], 1e308); break;
            case 5: v = (row % 16 == 5 ? -1 : 1) * (1e300 * unit()); break;
            case 6: v = lo[f] + (unit() * 1.4 - 0.2) * (hi[f] - lo[f] + 1); break;
            default: v = row % 16 == 7 ? lo[f] - 1 : hi[f] + 1; break;
          }
          x[row * features + f] = v;
        }
      }
      for (size_t rows : {(size_t)0, (size_t)1, (size_t)3, n}) {
        std::vector<uint16_t> out(rows * features + 1, 0xbeef);
        kt->bin_rows(x.data(), rows, features, &b, out.data());
        size_t bad = 0;
        for (size_t i = 0; i < rows * features; i++)
          if (out[i] != (uint16_t)hdg_bin(x[i], lo[i % features], hi[i % features], bins)) bad++;
        CHECK(bad == 0 && out[rows * features] == 0xbeef, "bin_rows bins=%u features=%zu rows=%zu: %zu wrong", bins,
              features, rows, bad);
      }
    }
  }
}

// Exact per-bit dot of one HV with one int32 counter row (the oracle of the refinement kernels).
int64_t naive_dot(const uint64_t* hv, const int32_t* row, uint32_t dim) {
  int64_t s = 0;
  for (uint32_t i = 0; i < dim; i++) s += bit(hv, i) ? -(int64_t)row[i] : (int64_t)row[i];
  return s;
}

// A counter value of one of the shapes that break lane arithmetic: small, at +-limit, random in
// (-limit, limit), with limit the kernel's precondition (or the type's range).
int64_t pick_counter(Rng& r, int64_t limit, int mode) {
  switch (mode) {
    case 0: return (int64_t)(r.next() % 7) - 3;
    case 1: return (r.next() & 1) ? limit - 1 : -(limit - 1);
    case 2: return (int64_t)(r.next() % (uint64_t)(2 * limit - 1)) - (limit - 1);
    default: {
      // Mostly extremes of one sign, so the lane sums grow as far as they can.
      int64_t v = limit - 1 - (int64_t)(r.next() % 3);
      return (r.next() % 8) ? v : -v;
    }
  }
}

// dots_one, dots_i16, row_add and row_add_i16 against the per-bit oracle, for dims below, at and
// past word boundaries, 1 to 12 classes (one group and several), and counters at their limits.
void test_refine_kernels(const hdg_kernels_t* kt, Rng& r) {
  for (uint32_t dim : {1u, 2u, 31u, 32u, 33u, 63u, 64u, 65u, 127u, 129u, 1000u, 1025u, 10000u, 140000u}) {
    size_t words = hdg_words(dim);
    const size_t stride = words * 64;
    for (size_t m = 1; m <= 12; m++) {
      if (dim > 2000 && m != 1 && m != 7 && m != 12) continue;
      if (dim > 20000 && m != 3) continue;
      for (int mode = 0; mode < 4; mode++) {
        Buf hv(words);
        fill_random(hv.p, 1, dim, r, mode % 3);
        // int32 rows within dots_one's precondition, one spare entry past the end as a sentinel.
        std::vector<int32_t> c(m * dim + 1, 0x5a5a5a5a);
        for (size_t i = 0; i < m * dim; i++) c[i] = (int32_t)pick_counter(r, HDG_DOTS_ONE_LIMIT, mode);
        std::vector<int64_t> got(m + 1, -7), want(m);
        kt->dots_one(hv.p, c.data(), m, dim, got.data());
        for (size_t k = 0; k < m; k++) want[k] = naive_dot(hv.p, c.data() + k * dim, dim);
        CHECK(std::equal(want.begin(), want.end(), got.begin()) && got[m] == -7, "dots_one dim=%u m=%zu mode=%d",
              dim, m, mode);
        // int16 rows in the padded layout; every int16 value is allowed, including -32768. Stray
        // padding bits in the HV must count for nothing.
        std::vector<int16_t> c16(m * stride + 1, 0);
        c16[m * stride] = 0x2b2b;
        std::vector<int32_t> wide(m * dim);
        for (size_t k = 0; k < m; k++)
          for (uint32_t i = 0; i < dim; i++) {
            int64_t v = mode == 1 && (r.next() & 1) ? -32768 : pick_counter(r, 32768, mode);
            c16[k * stride + i] = (int16_t)v;
            wide[k * dim + i] = (int32_t)v;
          }
        // 1 to 5 HVs per call (pairs and a single one left over), the first one the HV above.
        const size_t nb = 1 + (m + (size_t)mode) % 5;
        Buf many(nb * words), dirty(nb * words);
        memcpy(many.p, hv.p, words * 8);
        fill_random(many.p + words, nb - 1, dim, r, mode % 3);
        memcpy(dirty.p, many.p, nb * words * 8);
        for (size_t b = 0; b < nb; b++)
          for (size_t i = dim; i < words * 64; i++) set_bit(dirty.p + b * words, i, (int)(r.next() & 1));
        std::vector<const uint64_t*> rows(nb);
        for (size_t b = 0; b < nb; b++) rows[b] = dirty.p + b * words;
        std::vector<int64_t> got16(nb * m + 1, -7);
        kt->dots_i16(rows.data(), nb, c16.data(), m, words, got16.data());
        bool ok16 = got16[nb * m] == -7;
        for (size_t b = 0; b < nb; b++)
          for (size_t k = 0; k < m; k++) ok16 &= got16[b * m + k] == naive_dot(many.p + b * words, wide.data() + k * dim, dim);
        CHECK(ok16, "dots_i16 dim=%u m=%zu hvs=%zu mode=%d", dim, m, nb, mode);
      }
    }
    // The largest lane sums each kernel can meet: every counter at its extreme with the sign that
    // the HV turns positive (all bits set against -32768; no bits against 2^24 - 1), over dims
    // that span several widening blocks.
    if (dim >= 1000) {
      const size_t m = 2;
      Buf ones(words), zeros(words);
      for (uint32_t i = 0; i < dim; i++) set_bit(ones.p, i, 1);
      std::vector<int16_t> c16(m * stride, 0);
      for (size_t k = 0; k < m; k++)
        for (uint32_t i = 0; i < dim; i++) c16[k * stride + i] = -32768;
      std::vector<int64_t> got(2 * m);
      const uint64_t* both[2] = {ones.p, ones.p};
      kt->dots_i16(both, 2, c16.data(), m, words, got.data());
      CHECK(got[0] == 32768LL * dim && got[1] == got[0] && got[2] == got[0] && got[3] == got[0],
            "dots_i16 extreme dim=%u", dim);
      std::vector<int32_t> c(m * dim, HDG_DOTS_ONE_LIMIT - 1);
      kt->dots_one(zeros.p, c.data(), m, dim, got.data());
      CHECK(got[0] == (int64_t)(HDG_DOTS_ONE_LIMIT - 1) * dim && got[1] == got[0], "dots_one extreme dim=%u", dim);
      for (auto& v : c) v = -(HDG_DOTS_ONE_LIMIT - 1);
      kt->dots_one(ones.p, c.data(), m, dim, got.data());
      CHECK(got[0] == (int64_t)(HDG_DOTS_ONE_LIMIT - 1) * dim && got[1] == got[0], "dots_one extreme dim=%u", dim);
    }
    // row_add: w = +-1 as the driver uses it, and any int32 weight wrapping like acc_add.
    for (int32_t w : {1, -1, 3, 2147483647, -2147483647 - 1}) {
      Buf hv(words);
      fill_random(hv.p, 1, dim, r, (int)(r.next() % 3));
      std::vector<int32_t> c(dim + 1), want(dim + 1);
      for (uint32_t i = 0; i < dim; i++) c[i] = want[i] = (int32_t)r.next();
      c[dim] = want[dim] = 0x13579bdf;
      kt->row_add(c.data(), dim, hv.p, w);
      for (uint32_t i = 0; i < dim; i++)
        want[i] = (int32_t)((uint32_t)want[i] + (bit(hv.p, i) ? 0u - (uint32_t)w : (uint32_t)w));
      CHECK(c == want, "row_add dim=%u w=%d", dim, w);
    }
    for (int16_t w : {(int16_t)1, (int16_t)-1, (int16_t)32767, (int16_t)-32768}) {
      Buf hv(words);
      fill_random(hv.p, 1, dim, r, (int)(r.next() % 3));
      std::vector<int16_t> c(stride + 1, 0), want(stride + 1, 0);
      for (uint32_t i = 0; i < dim; i++) {
        // Values at the int16 limits so that adds wrap in both directions.
        int16_t v = (r.next() & 3) == 0 ? (int16_t)((r.next() & 1) ? 32767 : -32768) : (int16_t)r.next();
        c[i] = want[i] = v;
      }
      c[stride] = want[stride] = 0x1234;
      kt->row_add_i16(c.data(), dim, hv.p, w);
      for (uint32_t i = 0; i < dim; i++)
        want[i] = (int16_t)(uint16_t)((uint16_t)want[i] + (bit(hv.p, i) ? (uint16_t)(0u - (uint16_t)w) : (uint16_t)w));
      CHECK(c == want, "row_add_i16 dim=%u w=%d (padding must stay zero)", dim, (int)w);
    }
  }
}

// The online epoch written out per bit from its definition in hdglue.h, sharing no code with the
// driver or the kernels.
void naive_refine(const uint64_t* hvs, uint32_t dim, const int32_t* truth, const uint32_t* order, size_t count,
                  int32_t* counters, size_t m, double* norms2, double margin, int adapt, uint64_t* errors,
                  uint64_t* updates) {
  size_t words = hdg_words(dim);
  std::vector<int64_t> dot(m);
  std::vector<double> s(m);
  *errors = *updates = 0;
  for (size_t e = 0; e < count; e++) {
    const uint64_t* x = hvs + (size_t)order[e] * words;
    size_t t = (size_t)truth[order[e]];
    for (size_t k = 0; k < m; k++) {
      dot[k] = naive_dot(x, counters + k * dim, dim);
      s[k] = norms2[k] > 0 ? (double)dot[k] / (sqrt((double)dim) * sqrt(norms2[k])) : 0;
    }
    size_t p = 0;
    for (size_t k = 1; k < m; k++)
      if (s[k] > s[p]) p = k;
    long rival = -1;
    if (p != t) rival = (long)p;
    else
      for (size_t k = 0; k < m; k++)
        if (k != t && (rival < 0 || s[k] > s[rival])) rival = (long)k;
    if (p != t) ++*errors;
    double lead = rival < 0 ? INFINITY : s[t] - s[rival];
    if (p == t && !(lead < margin)) continue;
    ++*updates;
    for (uint32_t i = 0; i < dim; i++)
      counters[t * dim + i] = (int32_t)((uint32_t)counters[t * dim + i] + (bit(x, i) ? 0xffffffffu : 1u));
    norms2[t] = norms2[t] + (2.0 * (double)dot[t] + (double)dim);
    if (adapt && rival >= 0) {
      for (uint32_t i = 0; i < dim; i++)
        counters[rival * dim + i] = (int32_t)((uint32_t)counters[rival * dim + i] + (bit(x, i) ? 1u : 0xffffffffu));
      norms2[rival] = norms2[rival] + (-2.0 * (double)dot[rival] + (double)dim);
    }
  }
}

// hdg_refine_online against naive_refine: counters, norms2 (bit for bit) and both counts, over
// random orders with repeats, margins 0 and above, adapt on and off, 1 to 13 classes, and counters
// that start small (the int16 path), just below the int16 limit (switching to int32 mid-epoch),
// just below dots_one's limit (switching to dot_counters) and near the int32 limits (wrapping).
void test_refine_driver(const hdg_kernels_t* kt, Rng& r) {
  struct Start {
    int64_t limit;
    int mode;
  };
  const Start starts[] = {{8, 2}, {200, 2}, {32767 - 3, 3}, {HDG_DOTS_ONE_LIMIT - 2, 3}, {2147483647, 1}};
  for (uint32_t dim : {1u, 63u, 64u, 65u, 1000u, 4097u}) {
    size_t words = hdg_words(dim);
    for (size_t m : {1, 2, 3, 10, 13}) {
      for (const Start& st : starts) {
        for (int variant = 0; variant < 4; variant++) {
          const size_t n = 1 + r.next() % 40, count = variant == 3 ? 2 : 1 + r.next() % 120;
          const int adapt = variant & 1;
          const double margin = variant == 0 ? 0.0 : variant == 1 ? 0.05 : variant == 2 ? 0.5 : INFINITY;
          Buf hvs(n * words);
          fill_random(hvs.p, n, dim, r, (int)(r.next() % 3));
          std::vector<int32_t> truth(n);
          for (auto& t : truth) t = (int32_t)(r.next() % m);
          std::vector<uint32_t> order(count);
          for (auto& o : order) o = (uint32_t)(r.next() % n);  // repeats allowed
          std::vector<int32_t> c(m * dim);
          for (auto& v : c) v = (int32_t)pick_counter(r, st.limit, st.mode);
          // Some classes empty (zero counters, zero norm): their score is 0.
          if (m > 2)
            for (uint32_t i = 0; i < dim; i++) c[1 * dim + i] = 0;
          std::vector<double> norms(m);
          for (size_t k = 0; k < m; k++) {
            double s = 0;
            for (uint32_t i = 0; i < dim; i++) s += (double)c[k * dim + i] * (double)c[k * dim + i];
            norms[k] = s;
          }
          std::vector<int32_t> want_c = c;
          std::vector<double> want_n = norms;
          uint64_t we = 0, wu = 0, ge = 7, gu = 7;
          naive_refine(hvs.p, dim, truth.data(), order.data(), count, want_c.data(), m, want_n.data(), margin, adapt,
                       &we, &wu);
          hdg_status_t status = hdg_refine_online(kt, hvs.p, n, dim, truth.data(), order.data(), count, c.data(), m,
                                                  norms.data(), margin, adapt, &ge, &gu);
          CHECK(status == 0 && c == want_c && memcmp(norms.data(), want_n.data(), m * sizeof(double)) == 0 &&
                    ge == we && gu == wu,
                "refine_online dim=%u m=%zu limit=%lld variant=%d: errors %llu/%llu updates %llu/%llu", dim, m,
                (long long)st.limit, variant, (unsigned long long)ge, (unsigned long long)we,
                (unsigned long long)gu, (unsigned long long)wu);
        }
      }
    }
  }
  // A long epoch on two classes that start just below the int16 limit and must cross it: every
  // row is all -1 and of class 0, and an infinite margin updates both rows at every visit, moving
  // both further from zero.
  {
    const uint32_t dim = 200;
    size_t words = hdg_words(dim);
    const size_t n = 5, m = 2, count = 300;
    Buf hvs(n * words);
    for (size_t row = 0; row < n; row++)
      for (uint32_t i = 0; i < dim; i++) set_bit(hvs.p + row * words, i, 1);
    std::vector<int32_t> truth(n, 0), c(m * dim);
    std::vector<uint32_t> order(count);
    for (size_t e = 0; e < count; e++) order[e] = (uint32_t)(e % n);
    for (uint32_t i = 0; i < dim; i++) c[i] = -32700, c[dim + i] = 32700;
    std::vector<double> norms(m, 32700.0 * 32700.0 * dim);
    std::vector<int32_t> want_c = c;
    std::vector<double> want_n = norms;
    uint64_t we, wu, ge, gu;
    naive_refine(hvs.p, dim, truth.data(), order.data(), count, want_c.data(), m, want_n.data(), INFINITY, 1, &we,
                 &wu);
    hdg_refine_online(kt, hvs.p, n, dim, truth.data(), order.data(), count, c.data(), m, norms.data(), INFINITY, 1,
                      &ge, &gu);
    CHECK(c == want_c && memcmp(norms.data(), want_n.data(), m * sizeof(double)) == 0 && ge == we && gu == wu &&
              wu == count && c[0] == -32700 - (int32_t)count && c[dim] == 32700 + (int32_t)count,
          "refine_online across the int16 limit: updates %llu", (unsigned long long)gu);
  }
}

void test_rng() {
  // Locked known answers: these bits are the package's compatibility promise (saved codebooks,
  // model files) and lib/rng.ts must produce the same; changing them is a breaking change.
  const uint8_t name[] = {'a', 'b', 'c'};
  uint64_t hv[2];
  hdg_random_hv(42, name, 3, 100, hv);
  printf("rng kat: hash(abc)=%016llx hv(42,abc,100)=%016llx %016llx\n", (unsigned long long)hdg_hash_name(name, 3),
         (unsigned long long)hv[0], (unsigned long long)hv[1]);
  CHECK((hv[1] >> 36) == 0, "random_hv padding");
  uint64_t again[2];
  hdg_random_hv(42, name, 3, 100, again);
  CHECK(hv[0] == again[0] && hv[1] == again[1], "random_hv is deterministic");
  hdg_random_hv(43, name, 3, 100, again);
  CHECK(hv[0] != again[0], "random_hv depends on the seed");
  // A wide vector is balanced: about half ones.
  std::vector<uint64_t> wide(hdg_words(100000));
  hdg_random_hv(7, name, 3, 100000, wide.data());
  size_t ones = 0;
  for (uint64_t w : wide) ones += (size_t)__builtin_popcountll(w);
  CHECK(ones > 49000 && ones < 51000, "random_hv balance %zu", ones);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s <scalar|avx2|avx512|neon|simd128>\n", argv[0]);
    return 2;
  }
  int lvl = hdg_isa_parse(argv[1]);
  if (lvl < 0) {
    fprintf(stderr, "unknown level %s\n", argv[1]);
    return 2;
  }
  const hdg_kernels_t* kt = hdg_kernels_for((hdg_isa_t)lvl);
  printf("detected: %s, testing: %s\n", hdg_isa_name(hdg_detect_isa()), argv[1]);
  if (!kt) {
    const char* req = getenv("HDGLUE_REQUIRE_ISA");
    if (req && std::string(",") .append(req).append(",").find(std::string(",") + argv[1] + ",") != std::string::npos) {
      fprintf(stderr, "FAIL: level %s is required (HDGLUE_REQUIRE_ISA=%s) but this CPU lacks it\n", argv[1], req);
      return 1;
    }
    printf("skipped: this CPU lacks %s\n", argv[1]);
    return 77;
  }
  Rng r{0x5eed0000u + (uint64_t)lvl};
  test_rng();
  test_bind_hamming(kt, r);
  test_bundle(kt, r);
  test_counters(kt, r);
  test_dot_counters_ranges(kt, r);
  test_permute_topk(kt, r);
  test_parallel(kt, r);
  test_encode(kt, r);
  test_encode_wide(kt, r);
  test_bin_rows(kt, r);
  test_refine_kernels(kt, r);
  test_refine_driver(kt, r);
  printf("%s: %d passed, %d failed\n", argv[1], g_passed, g_failed);
  return g_failed ? 1 : 0;
}
