// Splitting row ranges over threads, shared by the threaded drivers (parallel.cc, encode.cc).
#ifndef HDGLUE_CORE_PARALLEL_H
#define HDGLUE_CORE_PARALLEL_H

#include <stddef.h>

#include <thread>
#include <vector>

namespace hdg {

// Below this many 64-bit words of work per thread (2 MiB) a thread costs more than it saves. The
// fuzz build (native/fuzz) lowers it, so that inputs small enough to run thousands of times a
// second still go through the splitting and merging code.
#ifndef HDG_MIN_WORDS_PER_THREAD
#define HDG_MIN_WORDS_PER_THREAD ((size_t)1 << 18)
#endif
const size_t kMinWordsPerThread = HDG_MIN_WORDS_PER_THREAD;

// Runs fn(begin, end) over [0, n) in `parts` contiguous chunks, the first on this thread. If a
// thread cannot be started, its chunk runs here instead, so the result never depends on it.
template <typename Fn>
void split(size_t n, unsigned parts, Fn fn) {
  if (parts <= 1 || n < 2) {
    fn((size_t)0, n);
    return;
  }
  if (parts > n) parts = (unsigned)n;
  std::vector<std::thread> pool;
  std::vector<size_t> inline_chunks;
  size_t chunk = (n + parts - 1) / parts;
  for (size_t start = chunk; start < n; start += chunk) {
    size_t end = start + chunk < n ? start + chunk : n;
    try {
      pool.emplace_back(fn, start, end);
    } catch (...) {
      inline_chunks.push_back(start);
    }
  }
  fn((size_t)0, chunk < n ? chunk : n);
  for (size_t start : inline_chunks) fn(start, start + chunk < n ? start + chunk : n);
  for (auto& t : pool) t.join();
}

// Threads worth starting for `total_words` of work, at most `threads`.
inline unsigned threads_for(size_t total_words, unsigned threads) {
  size_t useful = total_words / kMinWordsPerThread;
  if (useful < 1) useful = 1;
  return threads < useful ? threads : (unsigned)useful;
}

}  // namespace hdg

#endif
