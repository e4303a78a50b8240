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
// On int16 counters the rows are scored kBlock at a time: one dots_i16 call shares each counter
// load among them, before any of them is decided. A row's dots then miss the updates made by the
// block's earlier rows, and those are added back exactly: an update of class t by row y (and of
// the rival r by -y) moves row x's dot with t by bipolar(y) . bipolar(x) = dim - 2 hamming(x, y)
// (and its dot with r by the opposite). So every row is still decided on the current counters.
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
#include "load.h"

namespace {

// Largest magnitude the int16 working copy takes; -32768 is left out so the bound is symmetric.
const int64_t kI16Max = 32767;

// Below this many visits the int16 copy (one pass in, one pass out over m * dim counters) would
// cost more than it saves.
const size_t kI16MinCount = 4;

// Visited rows per dots_i16 call: every counter vector loaded serves all of them, which divides
// the L2 traffic of the dots by the block size.
const size_t kBlock = 4;

// SWAR popcount: refine.cc is compiled for the architecture baseline, which on x86-64 has no
// POPCNT instruction.
inline uint64_t popcount64(uint64_t x) {
  x = x - ((x >> 1) & 0x5555555555555555ULL);
  x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
  return (x * 0x0101010101010101ULL) >> 56;
}

// bipolar(a) . bipolar(b) over the first dim bits: dim - 2 hamming(a, b). The table's Hamming
// kernel takes the full words; the last word is masked here, so padding bits never count.
int64_t pair_dot(const hdg_kernels_t* kt, const uint64_t* a, const uint64_t* b, size_t words, uint32_t dim) {
  uint32_t h = 0;
  if (words > 1) kt->hamming_1xn(a, b, 1, words - 1, &h);
  uint64_t last = (hdg::ld64(a + words - 1) ^ hdg::ld64(b + words - 1)) & hdg::tail_mask(dim);
  return (int64_t)dim - 2 * ((int64_t)h + (int64_t)popcount64(last));
}

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

  // Scratch in one allocation: the dots of a block of rows, then per class the scores, score
  // denominators, bounds and written-back flags.
  const size_t per_class = kBlock * sizeof(int64_t) + 2 * sizeof(double) + sizeof(int64_t) + 1;
  if (m > SIZE_MAX / per_class) return -1;
  unsigned char* scratch = static_cast<unsigned char*>(malloc(m * per_class));
  if (!scratch) return -1;
  int64_t* block = reinterpret_cast<int64_t*>(scratch);
  double* score = reinterpret_cast<double*>(block + kBlock * m);
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
  for (size_t e0 = 0; e0 < count;) {
    // int16 counters: a block of rows scored in one pass over the counters; past int16, one row.
    const size_t bn = i16 ? (count - e0 < kBlock ? count - e0 : kBlock) : 1;
    const uint64_t* xs[kBlock];
    for (size_t b = 0; b < bn; b++) xs[b] = hvs + (size_t)order[e0 + b] * words;
    // The next block's rows, likely in DRAM when the order is shuffled: their lines arrive while
    // this block is scored (shuffled 60k-row epochs at D = 10,000 ran ~20% slower without this).
    for (size_t e = e0 + bn; e < e0 + 2 * bn && e < count; e++) {
      const char* next = reinterpret_cast<const char*>(hvs + (size_t)order[e] * words);
      for (size_t b = 0; b < words * 8; b += 64) __builtin_prefetch(next + b);
      __builtin_prefetch(next + words * 8 - 1);  // the last line, when the row does not start one
    }
    if (i16) kt->dots_i16(xs, bn, sh.rows, m, words, block);
    else if (top < HDG_DOTS_ONE_LIMIT) kt->dots_one(xs[0], counters, m, dim, block);
    else kt->dot_counters(xs[0], 1, counters, m, dim, block);

    // The block's updates so far: row b of the block, its class, and the rival it was taken from
    // (-1 for none). A later row's dots were computed before them, and each one moved that row's
    // dot with its class t by bipolar(x_b) . bipolar(x) = dim - 2 hamming(x_b, x), exactly.
    size_t done_b[kBlock], done_t[kBlock];
    ptrdiff_t done_r[kBlock];
    size_t ndone = 0;
    for (size_t b = 0; b < bn; b++) {
      const uint64_t* x = xs[b];
      const size_t t = (size_t)truth[order[e0 + b]];
      int64_t* dots = block + b * m;
      for (size_t u = 0; u < ndone; u++) {
        int64_t g = pair_dot(kt, xs[done_b[u]], x, words, dim);
        dots[done_t[u]] += g;
        if (done_r[u] >= 0) dots[done_r[u]] -= g;
      }

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
        // This update could leave int16: continue on the caller's rows from here on. The rest of
        // the block keeps its dots, which the corrections keep current whatever holds the rows.
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
      done_b[ndone] = b;
      done_t[ndone] = t;
      done_r[ndone] = sub ? (ptrdiff_t)r : -1;
      ndone++;
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
    e0 += bn;
  }
  if (i16) write_back();
  free(scratch);
  *errors = err;
  *updates = upd;
  return 0;
}
