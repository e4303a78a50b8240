// Splitting row ranges over threads, shared by the threaded drivers (parallel.cc, encode.cc).
#ifndef HDGLUE_CORE_PARALLEL_H
#define HDGLUE_CORE_PARALLEL_H

#include <stddef.h>

// The WebAssembly build has no threads (its module is single-threaded; the JavaScript side runs
// async calls in workers, each with its own instance) and no exceptions.
#if defined(__wasm__)
#define HDG_NO_THREADS 1
#endif

#if !HDG_NO_THREADS
#include <thread>
#include <vector>
#endif

// try/catch around allocations that may fail; without exceptions (the wasm build) a failed
// allocation traps instead, which the JavaScript side reports and recovers from with a fresh
// instance. Only wasm drops them: MSVC signals exceptions with _CPPUNWIND and may not define
// __cpp_exceptions, and a native build without the catch would terminate on bad_alloc.
#if !defined(__wasm__) || defined(__cpp_exceptions)
#define HDG_TRY try
#define HDG_CATCH_ALL catch (...)
#else
#define HDG_TRY if (true)
#define HDG_CATCH_ALL else
#endif

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
#if HDG_NO_THREADS
  (void)parts;
  fn((size_t)0, n);
#else
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
    HDG_TRY {
      pool.emplace_back(fn, start, end);
    }
    HDG_CATCH_ALL {
      inline_chunks.push_back(start);
    }
  }
  fn((size_t)0, chunk < n ? chunk : n);
  for (size_t start : inline_chunks) fn(start, start + chunk < n ? start + chunk : n);
  for (auto& t : pool) t.join();
#endif
}

// Threads worth starting for `total_words` of work, at most `threads`.
inline unsigned threads_for(size_t total_words, unsigned threads) {
  size_t useful = total_words / kMinWordsPerThread;
  if (useful < 1) useful = 1;
  return threads < useful ? threads : (unsigned)useful;
}

}  // namespace hdg

#endif
