// Operations built on the kernel table rather than given ISA variants of their own: rotation is
// a word shuffle, top-k and the weighted bundle are bookkeeping around the dispatched kernels.
#include "../include/hdglue.h"
#include "load.h"

namespace {

// 64 bits of `in` starting at bit position pos (may be negative or past the end: zeros there).
inline uint64_t get64(const uint64_t* in, size_t words, int64_t pos) {
  if (pos <= -64) return 0;
  if (pos < 0) return words ? hdg::ld64(in) << (unsigned)(-pos) : 0;
  size_t w = (size_t)pos >> 6;
  unsigned off = (unsigned)(pos & 63);
  uint64_t lo = w < words ? hdg::ld64(in + w) : 0;
  if (off == 0) return lo;
  uint64_t hi = w + 1 < words ? hdg::ld64(in + w + 1) : 0;
  return (lo >> off) | (hi << (64 - off));
}

// Max-heap on (distance, index): the root is the worst of the current k best.
inline bool worse(uint32_t da, uint32_t ia, uint32_t db, uint32_t ib) { return da > db || (da == db && ia > ib); }

void sift_down(uint32_t* idx, uint32_t* dist, size_t k, size_t i) {
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, top = i;
    if (l < k && worse(dist[l], idx[l], dist[top], idx[top])) top = l;
    if (r < k && worse(dist[r], idx[r], dist[top], idx[top])) top = r;
    if (top == i) return;
    uint32_t t = idx[i]; idx[i] = idx[top]; idx[top] = t;
    t = dist[i]; dist[i] = dist[top]; dist[top] = t;
    i = top;
  }
}

void sift_up(uint32_t* idx, uint32_t* dist, size_t i) {
  while (i > 0) {
    size_t p = (i - 1) / 2;
    if (!worse(dist[i], idx[i], dist[p], idx[p])) return;
    uint32_t t = idx[i]; idx[i] = idx[p]; idx[p] = t;
    t = dist[i]; dist[i] = dist[p]; dist[p] = t;
    i = p;
  }
}

}  // namespace

extern "C" {

void hdg_permute(const uint64_t* in, size_t n, uint32_t dim, int64_t k, uint64_t* out) {
  size_t words = hdg_words(dim);
  if (dim == 0) return;
  int64_t s = k % (int64_t)dim;
  if (s < 0) s += dim;
  uint64_t mask = hdg::tail_mask(dim);
  for (size_t r = 0; r < n; r++) {
    const uint64_t* src = in + r * words;
    uint64_t* dst = out + r * words;
    for (size_t j = 0; j < words; j++) {
      // out bit t = in bit t - s for t >= s, and in bit t - s + dim for t < s.
      int64_t t0 = (int64_t)(j << 6);
      uint64_t v = get64(src, words, t0 - s);
      if (t0 < s) v |= get64(src, words, t0 - s + (int64_t)dim);
      if (j + 1 == words) v &= mask;
      hdg::st64(dst + j, v);
    }
  }
}

void hdg_topk(const hdg_kernels_t* kt, const uint64_t* queries, size_t m, const uint64_t* batch, size_t n,
              size_t words, size_t k, uint32_t* out_idx, uint32_t* out_dist) {
  if (k == 0) return;
  // Rows in blocks that stay in L2 while every query scans them, so the batch is read once
  // from memory for all queries; each query keeps its k best in its own slice of the output.
  const size_t BLOCK = 256;
  uint32_t d[256];
  for (size_t r0 = 0; r0 < n; r0 += BLOCK) {
    size_t bn = n - r0 < BLOCK ? n - r0 : BLOCK;
    const uint64_t* rows = batch + r0 * words;
    for (size_t q = 0; q < m; q++) {
      uint32_t* hi = out_idx + q * k;
      uint32_t* hd = out_dist + q * k;
      kt->hamming_1xn(queries + q * words, rows, bn, words, d);
      for (size_t b = 0; b < bn; b++) {
        uint32_t row = (uint32_t)(r0 + b);
        if (row < k) {
          hi[row] = row;
          hd[row] = d[b];
          sift_up(hi, hd, row);
        } else if (worse(hd[0], hi[0], d[b], row)) {
          hi[0] = row;
          hd[0] = d[b];
          sift_down(hi, hd, k, 0);
        }
      }
    }
  }
  // Heap sort in place: repeatedly move the worst to the end, giving ascending order.
  for (size_t q = 0; q < m; q++) {
    uint32_t* hi = out_idx + q * k;
    uint32_t* hd = out_dist + q * k;
    for (size_t end = k; end-- > 1;) {
      uint32_t t = hi[0]; hi[0] = hi[end]; hi[end] = t;
      t = hd[0]; hd[0] = hd[end]; hd[end] = t;
      sift_down(hi, hd, end, 0);
    }
  }
}

void hdg_bundle_weighted(const hdg_kernels_t* kt, const uint64_t* batch, size_t k, uint32_t dim,
                         const int32_t* weights, const uint64_t* tie, int32_t* scratch, uint64_t* out) {
  for (uint32_t i = 0; i < dim; i++) hdg::st32(scratch + i, 0);
  kt->acc_add(scratch, dim, batch, k, weights);
  kt->threshold(scratch, 1, dim, tie, out);
}

}  // extern "C"
