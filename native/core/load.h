// Unaligned word access shared by every kernel file. JavaScript typed arrays are only 4-byte
// aligned at a byteOffset, so no kernel may assume 8-byte alignment; memcpy compiles to a
// plain load on every target we build for.
#ifndef HDGLUE_CORE_LOAD_H
#define HDGLUE_CORE_LOAD_H

#include <stdint.h>
#include <string.h>

namespace hdg {

static inline uint64_t ld64(const uint64_t* p) {
  uint64_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

static inline void st64(uint64_t* p, uint64_t v) { memcpy(p, &v, sizeof v); }

static inline int32_t ld32(const int32_t* p) {
  int32_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

static inline void st32(int32_t* p, int32_t v) { memcpy(p, &v, sizeof v); }

// Wrapping int32 add: signed overflow is undefined in C++, the ABI promises modulo 2^32.
static inline int32_t wrap_add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }

static inline int32_t wrap_mul(int32_t a, int32_t b) { return (int32_t)((uint32_t)a * (uint32_t)b); }

// Mask of the valid bits in the last word of a `dim`-bit vector.
static inline uint64_t tail_mask(uint32_t dim) {
  unsigned r = dim & 63u;
  return r ? ((uint64_t)1 << r) - 1 : ~(uint64_t)0;
}

}  // namespace hdg

#endif
