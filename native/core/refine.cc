// One epoch of online margin refinement (hdg_refine_online, native/include/hdglue.h): visit rows in
// the caller's order, score each against every class, and update the counters at once, so the next
// row already sees the change. Sequential by nature, hence single-threaded; the speed comes from the
// kernels of the dispatch table.
//
// Counters live as int16 while they fit. A row's dots read all m counter rows, m * dim counters
// per visited row (400 KB at D = 10,000 and 10 classes in int32), from L2, so halving their width
// halves the traffic of the hot loop. The int16 copy is padded to 64 counters per HV word with zero
// padding (dots_i16 needs no tail handling) and written back to the caller's int32 rows when the
// epoch ends, or as soon as an update could leave the int16 range: a per-row bound starts at the
// row's largest magnitude and grows by one with every update of that row. Past int16, dots_one
// serves while the bound stays under its precondition (HDG_DOTS_ONE_LIMIT), and dot_counters,
// exact for any int32, after that. All three give the same exact integers, so the path taken
// never shows in the results.
//
// The scores are plain IEEE double operations in the order hdglue.h states; the whole core is
// compiled with -ffp-contract=off (binding.gyp, CMakeLists.txt). Here contraction could not change
// a result anyway: the only products are qn * sqrt(norm), followed by a division, and 2 * dot,
// which is exact, so a fused 2 * dot + dim rounds once just as the separate add does.
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../include/hdglue.h"

namespace {

// Largest magnitude the int16 working copy takes; -32768 is left out so the bound is symmetric.
const int64_t kI16Max = 32767;

// Below this many visits the int16 copy (one pass in, one pass out over m * dim counters) would
// cost more than it saves.
const size_t kI16MinCount = 4;

// Largest |counter| of one row, as int64 so that INT32_MIN's magnitude fits.
int64_t row_bound(const int32_t* row, uint32_t dim) {
  int64_t b = 0;
  for (uint32_t i = 0; i < dim; i++) {
    int64_t v = row[i];
    int64_t a = v < 0 ? -v : v;
    b = a > b ? a : b;
  }
  return b;
}

// The int16 working copy of the counters: row k at rows + k * stride, 64-byte aligned for the
// SIMD loads. malloc'd with room to align by hand (aligned_alloc is missing on some platforms).
struct Shadow {
  void* raw = nullptr;
  int16_t* rows = nullptr;
  size_t stride = 0;
  ~Shadow() { free(raw); }
  bool allocate(size_t m, size_t words) {
    stride = words << 6;
    if (m > (SIZE_MAX - 64) / (stride * sizeof(int16_t))) return false;
    size_t bytes = m * stride * sizeof(int16_t);
    raw = malloc(bytes + 64);
    if (!raw) return false;
    rows = reinterpret_cast<int16_t*>(((uintptr_t)raw + 63) & ~(uintptr_t)63);
    memset(rows, 0, bytes);
    return true;
  }
};

}  // namespace

extern "C" hdg_status_t hdg_refine_online(const hdg_kernels_t* kt, const uint64_t* hvs, size_t n, uint32_t dim,
                                          const int32_t* truth, const uint32_t* order, size_t count,
                                          int32_t* counters, size_t m, double* norms2, double margin, int adapt,
                                          uint64_t* errors, uint64_t* updates) {
  (void)n;  // the caller has checked every order[] entry against it
  *errors = 0;
  *updates = 0;
  if (count == 0 || m == 0) return 0;
  const size_t words = hdg_words(dim);

  // Per-class scratch in one block: dots, scores, score denominators, bounds, written-back flags.
  const size_t per_class = 2 * sizeof(int64_t) + 2 * sizeof(double) + 1;
  if (m > SIZE_MAX / per_class) return -1;
  unsigned char* block = static_cast<unsigned char*>(malloc(m * per_class));
  if (!block) return -1;
  int64_t* dots = reinterpret_cast<int64_t*>(block);
  double* score = reinterpret_cast<double*>(dots + m);
  double* den = score + m;
  int64_t* bound = reinterpret_cast<int64_t*>(den + m);
  unsigned char* dirty = reinterpret_cast<unsigned char*>(bound + m);

  const double qn = sqrt((double)dim);
  int64_t top = 0;
  for (size_t k = 0; k < m; k++) {
    bound[k] = row_bound(counters + k * (size_t)dim, dim);
    top = bound[k] > top ? bound[k] : top;
    dirty[k] = 0;
    // den > 0 exactly when norms2 > 0 (qn >= 1 and the square root of a positive double is
    // positive), so testing den is testing the stated condition.
    den[k] = norms2[k] > 0 ? qn * sqrt(norms2[k]) : 0.0;
  }

  Shadow sh;
  bool i16 = top <= kI16Max && count >= kI16MinCount && sh.allocate(m, words);
  if (i16) {
    for (size_t k = 0; k < m; k++) {
      const int32_t* src = counters + k * (size_t)dim;
      int16_t* dst = sh.rows + k * sh.stride;
      for (uint32_t i = 0; i < dim; i++) dst[i] = (int16_t)src[i];
    }
  }
  auto write_back = [&] {
    for (size_t k = 0; k < m; k++) {
      if (!dirty[k]) continue;
      int32_t* dst = counters + k * (size_t)dim;
      const int16_t* src = sh.rows + k * sh.stride;
      for (uint32_t i = 0; i < dim; i++) dst[i] = src[i];
    }
  };

  uint64_t err = 0, upd = 0;
  for (size_t e = 0; e < count; e++) {
    const uint32_t i = order[e];
    const size_t t = (size_t)truth[i];
    const uint64_t* x = hvs + (size_t)i * words;
    if (e + 1 < count) {
      // The next row to visit, likely in DRAM when the order is shuffled: its lines arrive while
      // this row is scored (shuffled 60k-row epochs at D = 10,000 ran ~20% slower without this).
      const char* next = reinterpret_cast<const char*>(hvs + (size_t)order[e + 1] * words);
      for (size_t b = 0; b < words * 8; b += 64) __builtin_prefetch(next + b);
      __builtin_prefetch(next + words * 8 - 1);  // the last line, when the row does not start one
    }
    if (i16) kt->dots_i16(x, sh.rows, m, words, dots);
    else if (top < HDG_DOTS_ONE_LIMIT) kt->dots_one(x, counters, m, dim, dots);
    else kt->dot_counters(x, 1, counters, m, dim, dots);

    size_t p = 0;
    for (size_t k = 0; k < m; k++) {
      score[k] = den[k] > 0 ? (double)dots[k] / den[k] : 0.0;
      if (score[k] > score[p]) p = k;
    }
    ptrdiff_t rival = -1;
    if (p != t) {
      err++;
      rival = (ptrdiff_t)p;
    } else {
      for (size_t k = 0; k < m; k++)
        if (k != t && (rival < 0 || score[k] > score[rival])) rival = (ptrdiff_t)k;
    }
    const double lead = rival < 0 ? INFINITY : score[t] - score[rival];
    if (p == t && !(lead < margin)) continue;

    upd++;
    const bool sub = adapt && rival >= 0;
    const size_t r = sub ? (size_t)rival : t;
    if (i16 && (bound[t] >= kI16Max || bound[r] >= kI16Max)) {
      // This update could leave int16: continue on the caller's rows from here on.
      write_back();
      i16 = false;
    }
    if (i16) {
      kt->row_add_i16(sh.rows + t * sh.stride, dim, x, 1);
      dirty[t] = 1;
      if (sub) {
        kt->row_add_i16(sh.rows + r * sh.stride, dim, x, -1);
        dirty[r] = 1;
      }
    } else {
      kt->row_add(counters + t * (size_t)dim, dim, x, 1);
      if (sub) kt->row_add(counters + r * (size_t)dim, dim, x, -1);
    }
    bound[t]++;
    top = bound[t] > top ? bound[t] : top;
    norms2[t] = norms2[t] + (2.0 * (double)dots[t] + (double)dim);
    den[t] = norms2[t] > 0 ? qn * sqrt(norms2[t]) : 0.0;
    if (sub) {
      bound[r]++;
      top = bound[r] > top ? bound[r] : top;
      norms2[r] = norms2[r] + (-2.0 * (double)dots[r] + (double)dim);
      den[r] = norms2[r] > 0 ? qn * sqrt(norms2[r]) : 0.0;
    }
  }
  if (i16) write_back();
  free(block);
  *errors = err;
  *updates = upd;
  return 0;
}
