// Counter-based generator (docs/ARCHITECTURE.md, invariant 2): each word of a random hypervector is a pure
// function of (seed, name, word index), so vectors never depend on creation order, threads or
// platform, and lib/rng.ts reproduces them bit for bit with BigInt arithmetic.
#include "../include/hdglue.h"
#include "load.h"

extern "C" {

uint64_t hdg_mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t hdg_hash_name(const uint8_t* name, size_t len) {
  // FNV-1a alone mixes the last bytes poorly; the SplitMix64 finalizer fixes the avalanche.
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < len; i++) {
    h ^= name[i];
    h *= 0x100000001b3ULL;
  }
  return hdg_mix64(h);
}

void hdg_random_hv(uint64_t seed, const uint8_t* name, size_t name_len, uint32_t dim, uint64_t* out) {
  const uint64_t golden = 0x9e3779b97f4a7c15ULL;
  uint64_t key = hdg_mix64(seed ^ hdg_hash_name(name, name_len));
  size_t words = hdg_words(dim);
  for (size_t j = 0; j < words; j++) hdg::st64(out + j, hdg_mix64(key + (uint64_t)(j + 1) * golden));
  if (words) hdg::st64(out + words - 1, hdg::ld64(out + words - 1) & hdg::tail_mask(dim));
}

}  // extern "C"
