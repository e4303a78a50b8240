// The kernel sets of every ISA level, from one list of ops. Each entry of hdg_kernels_t
// (native/include/hdglue.h) is an op; each kernel file defines `hdg::<op>_<isa>` for its level,
// with the signature of the table's member, which is declared here from the member's type so it
// is written once. dispatch.cc builds one table per level with HDG_KERNEL_TABLE.
// A new op: its member in hdg_kernels_t, its name in HDG_KERNEL_OPS (in the table's order), and
// a definition in kernels_scalar.cc and in each file of native/kernels/.
#ifndef HDGLUE_CORE_KERNELS_H
#define HDGLUE_CORE_KERNELS_H

#include <type_traits>

#include "../include/hdglue.h"

// X(isa, op) for every op of hdg_kernels_t, in the order of its members.
#define HDG_KERNEL_OPS(X, isa) \
  X(isa, bind)                 \
  X(isa, hamming_1xn)          \
  X(isa, hamming_mxn)          \
  X(isa, bundle)               \
  X(isa, acc_add)              \
  X(isa, threshold)            \
  X(isa, dot_counters)         \
  X(isa, encode_levels)        \
  X(isa, bin_rows)             \
  X(isa, dots_one)             \
  X(isa, row_add)              \
  X(isa, dots_i16)             \
  X(isa, row_add_i16)

// A list that misses a member would leave it null in every table.
#define HDG_KERNEL_COUNT_OP(isa, op) +1
static_assert(sizeof(hdg_kernels_t) == (0 HDG_KERNEL_OPS(HDG_KERNEL_COUNT_OP, _)) * sizeof(void (*)(void)),
              "HDG_KERNEL_OPS must name every member of hdg_kernels_t");

// `<op>_<isa>` declared with the type of the table's member `op`.
#define HDG_DECLARE_KERNEL_OP(isa, op) std::remove_pointer_t<decltype(hdg_kernels_t::op)> op##_##isa;
#define HDG_DECLARE_KERNELS(isa) HDG_KERNEL_OPS(HDG_DECLARE_KERNEL_OP, isa)

// The table of one level, member by member; a list out of the members' order does not compile,
// since no two members share a type.
#define HDG_KERNEL_TABLE_OP(isa, op) hdg::op##_##isa,
#define HDG_KERNEL_TABLE(isa) \
  hdg_kernels_t { HDG_KERNEL_OPS(HDG_KERNEL_TABLE_OP, isa) }

namespace hdg {

HDG_DECLARE_KERNELS(scalar)
#if defined(__x86_64__) || defined(_M_X64)
HDG_DECLARE_KERNELS(avx2)
HDG_DECLARE_KERNELS(avx512)
#endif
#if defined(__aarch64__) || defined(_M_ARM64)
HDG_DECLARE_KERNELS(neon)
#endif
#if defined(__wasm_simd128__)
HDG_DECLARE_KERNELS(simd128)
#endif

}  // namespace hdg

#endif
