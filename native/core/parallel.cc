// Row-parallel drivers for the scans that memory bandwidth bounds: one core streams about
// 14 GB/s here while two reach about 35 GB/s, so a 125 MB Hamming scan gains nearly 2x from a
// second thread. Threads are plain std::thread, started per call: a large scan takes
// milliseconds, thread start-up tens of microseconds, and no pool outlives the call.
#include <stdlib.h>

#include <vector>

#include "../include/hdglue.h"

#include "parallel.h"

using hdg::split;
using hdg::threads_for;

extern "C" {

unsigned hdg_default_threads(void) {
#if HDG_NO_THREADS
  return 1;
#else
  // Only a plain integer in [1, 64] counts; anything else is reported by the JavaScript loader
  // (ERR_HDGLUE_INVALID_ENV) before this is reached, so here it simply means "default".
  const char* env = getenv("HDGLUE_THREADS");
  if (env && *env) {
    char* end = nullptr;
    long v = strtol(env, &end, 10);
    if (end && *end == '\0' && v >= 1 && v <= 64) return (unsigned)v;
  }
  unsigned hw = std::thread::hardware_concurrency();
  if (hw == 0) hw = 1;
  return hw > 16 ? 16 : hw;
#endif
}

void hdg_hamming_1xn_mt(const hdg_kernels_t* kt, const uint64_t* q, const uint64_t* batch, size_t n, size_t words,
                        uint32_t* out, unsigned threads) {
  split(n, threads_for(n * words, threads),
        [=](size_t r0, size_t r1) { kt->hamming_1xn(q, batch + r0 * words, r1 - r0, words, out + r0); });
}

void hdg_hamming_mxn_mt(const hdg_kernels_t* kt, const uint64_t* a, size_t m, const uint64_t* b, size_t n,
                        size_t words, uint32_t* out, unsigned threads) {
  if (m == 1) {
    hdg_hamming_1xn_mt(kt, a, b, n, words, out, threads);
    return;
  }
  // Split the queries: every thread scans all of b for its own rows of the output.
  split(m, threads_for(m * n * words, threads),
        [=](size_t i0, size_t i1) { kt->hamming_mxn(a + i0 * words, i1 - i0, b, n, words, out + i0 * n); });
}

void hdg_topk_mt(const hdg_kernels_t* kt, const uint64_t* queries, size_t m, const uint64_t* batch, size_t n,
                 size_t words, size_t k, uint32_t* out_idx, uint32_t* out_dist, unsigned threads) {
  unsigned t = threads_for(m * n * words, threads);
  if (t <= 1 || k == 0) {
    hdg_topk(kt, queries, m, batch, n, words, k, out_idx, out_dist);
    return;
  }
  if (m >= t) {
    split(m, t, [=](size_t i0, size_t i1) {
      hdg_topk(kt, queries + i0 * words, i1 - i0, batch, n, words, k, out_idx + i0 * k, out_dist + i0 * k);
    });
    return;
  }
  // Few queries (the usual cleanup-memory case): split the rows instead, each part keeping its
  // own k best, then merge. Parts are sized so each holds at least k rows.
  size_t parts = t, chunk = 0;
  for (; parts > 1; parts--) {
    chunk = (n + parts - 1) / parts;
    if (chunk >= k && n - (parts - 1) * chunk >= k) break;  // every part, the last included
  }
  std::vector<uint32_t> idx, dist;
  std::vector<size_t> pos;
  if (parts > 1) {
    HDG_TRY {
      idx.resize(parts * m * k);
      dist.resize(parts * m * k);
      pos.resize(parts);
    }
    HDG_CATCH_ALL {
      parts = 1;
    }
  }
  if (parts <= 1) {
    hdg_topk(kt, queries, m, batch, n, words, k, out_idx, out_dist);
    return;
  }
  uint32_t* ip = idx.data();
  uint32_t* dp = dist.data();
  split(parts, (unsigned)parts, [=](size_t p0, size_t p1) {
    for (size_t p = p0; p < p1; p++) {
      size_t r0 = p * chunk, r1 = r0 + chunk < n ? r0 + chunk : n;
      uint32_t* pi = ip + p * m * k;
      hdg_topk(kt, queries, m, batch + r0 * words, r1 - r0, words, k, pi, dp + p * m * k);
      for (size_t e = 0; e < m * k; e++) pi[e] += (uint32_t)r0;
    }
  });
  // Each part's list is sorted by (distance, index) and parts cover increasing index ranges,
  // so a k-way merge by (distance, index) gives exactly the single-pass order.
  for (size_t q = 0; q < m; q++) {
    for (size_t p = 0; p < parts; p++) pos[p] = 0;
    for (size_t e = 0; e < k; e++) {
      size_t best = parts;
      for (size_t p = 0; p < parts; p++) {
        if (pos[p] >= k) continue;
        size_t at = (p * m + q) * k + pos[p];
        if (best == parts) {
          best = p;
          continue;
        }
        size_t bt = (best * m + q) * k + pos[best];
        if (dist[at] < dist[bt] || (dist[at] == dist[bt] && idx[at] < idx[bt])) best = p;
      }
      size_t bt = (best * m + q) * k + pos[best]++;
      out_idx[q * k + e] = idx[bt];
      out_dist[q * k + e] = dist[bt];
    }
  }
}

}  // extern "C"
