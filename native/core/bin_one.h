// One value's bin with precomputed per-feature constants: the scalar form every binning kernel
// shares for its tails and for flat features. Inline, so each kernel file compiles it for its own
// target; the arithmetic is plain IEEE multiply/add/compare (the build disables FMA contraction,
// -ffp-contract=off), so every ISA and the TypeScript backend get the same bin.
#ifndef HDGLUE_CORE_BIN_ONE_H
#define HDGLUE_CORE_BIN_ONE_H

#include "../include/hdglue.h"

namespace hdg {

// Same result as hdg_bin, without its data-dependent branches (clipped values are common and
// unpredictable): a clamped first guess by multiplication, then corrections against the exact
// edges, which alone decide the bin. Below lo the guess is 0 and above hi it is bins - 1, and no
// correction moves either. Clipping at the top is decided against hi itself, as digitize does
// with the last edge (edge bins - 1 computed as j * step + lo may round above hi).
inline uint32_t bin_one(double v, const hdg_binning_t* b, size_t f) {
  double lo = b->lo[f], step = b->step[f];
  uint32_t bins = b->bins;
  if (b->flat[f]) return hdg_bin(v, lo, b->hi[f], bins);
  double c = (v - lo) * b->inv[f];
  double top = (double)(bins - 1);
  c = c > 0 ? c : 0;
  c = c < top ? c : top;
  uint32_t j = (uint32_t)c;
  while (j > 0 && v < (double)j * step + lo) j--;
  while (j + 1 < bins && v >= (double)(j + 1) * step + lo) j++;
  return v >= b->hi[f] ? bins - 1 : j;
}

}  // namespace hdg

#endif
