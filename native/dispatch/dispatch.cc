// Run-time choice of kernels (docs/ARCHITECTURE.md, invariant 6): everything is compiled for the
// architecture baseline, and wider instructions are used only after the CPU *and* the OS say
// they work. CPUID alone is not enough: a hypervisor or kernel may leave AVX state disabled,
// which only XGETBV reveals, and executing AVX then faults.
#include <stdlib.h>
#include <string.h>

#include "../core/kernels.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#define HDG_X86 1
#elif defined(__aarch64__)
#include <sys/auxv.h>
#define HDG_ARM64 1
#elif defined(__wasm__)
// WebAssembly: the level is fixed when the module is built (an engine without SIMD refuses to
// compile a module that uses it, so the JavaScript loader picks the module, not this code).
#define HDG_WASM 1
#endif

namespace {

const hdg_kernels_t kScalar = HDG_KERNEL_TABLE(scalar);
#if HDG_X86
const hdg_kernels_t kAvx2 = HDG_KERNEL_TABLE(avx2);
const hdg_kernels_t kAvx512 = HDG_KERNEL_TABLE(avx512);

uint64_t xgetbv0() {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return ((uint64_t)hi << 32) | lo;
}
#endif
#if HDG_ARM64
const hdg_kernels_t kNeon = HDG_KERNEL_TABLE(neon);
#endif
#if defined(__wasm_simd128__)
const hdg_kernels_t kSimd128 = HDG_KERNEL_TABLE(simd128);
#endif

hdg_isa_t detect() {
#if HDG_X86
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return HDG_ISA_SCALAR;
  bool osxsave = c & (1u << 27), avx = c & (1u << 28), popcnt = c & (1u << 23);
  if (!(osxsave && avx && popcnt)) return HDG_ISA_SCALAR;
  uint64_t xcr0 = xgetbv0();
  if ((xcr0 & 0x6) != 0x6) return HDG_ISA_SCALAR;  // XMM and YMM state enabled by the OS
  if (__get_cpuid_max(0, nullptr) < 7) return HDG_ISA_SCALAR;
  __cpuid_count(7, 0, a, b, c, d);
  // The AVX2 and AVX-512 kernel files are compiled with BMI1/BMI2 enabled too; a VM may expose
  // AVX2 without them, and then neither level is safe.
  bool avx2 = b & (1u << 5), bmi1 = b & (1u << 3), bmi2 = b & (1u << 8);
  if (!(avx2 && bmi1 && bmi2)) return HDG_ISA_SCALAR;
  bool f = b & (1u << 16), bw = b & (1u << 30), vl = b & (1u << 31), vpopcntdq = c & (1u << 14);
  bool zmm_state = (xcr0 & 0xe6) == 0xe6;  // opmask, ZMM_Hi256 and Hi16_ZMM state enabled
  if (f && bw && vl && vpopcntdq && zmm_state) return HDG_ISA_AVX512;
  return HDG_ISA_AVX2;
#elif HDG_ARM64
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1 << 1)
#endif
  return (getauxval(AT_HWCAP) & HWCAP_ASIMD) ? HDG_ISA_NEON : HDG_ISA_SCALAR;
#elif defined(__wasm_simd128__)
  return HDG_ISA_SIMD128;
#else
  return HDG_ISA_SCALAR;
#endif
}

struct State {
  hdg_isa_t detected;
  hdg_isa_t active;
};

State compute_state() {
  State st{detect(), HDG_ISA_SCALAR};
  st.active = st.detected;
#if HDG_WASM
  // No environment inside the module (it imports nothing); the loader chooses the module.
  return st;
#endif
  const char* cap = getenv("HDGLUE_MAX_ISA");
  if (cap && *cap) {
    int lvl = hdg_isa_parse(cap);
    // An unknown name is reported by the JavaScript loader; here it caps nothing.
    if (lvl >= 0 && (hdg_isa_t)lvl < st.active) st.active = (hdg_isa_t)lvl;
    // A level of another architecture (neon on x86) sorts below avx2 only by enum order:
    // fall back to scalar rather than to a table this CPU cannot run.
    if (st.active == HDG_ISA_NEON && st.detected != HDG_ISA_NEON) st.active = HDG_ISA_SCALAR;
  }
  return st;
}

// Computed once, thread-safely (C++11 static initialization); both fields are pure functions
// of the CPU and of the environment at first use.
const State& state() {
  static const State st = compute_state();
  return st;
}

}  // namespace

extern "C" {

hdg_isa_t hdg_detect_isa(void) { return state().detected; }

hdg_isa_t hdg_active_isa(void) { return state().active; }

const hdg_kernels_t* hdg_kernels_for(hdg_isa_t isa) {
  hdg_isa_t det = state().detected;
  (void)det;  // unused on targets with no level to check (wasm)
  switch (isa) {
    case HDG_ISA_SCALAR:
      return &kScalar;
#if HDG_X86
    case HDG_ISA_AVX2:
      return det >= HDG_ISA_AVX2 ? &kAvx2 : nullptr;
    case HDG_ISA_AVX512:
      return det >= HDG_ISA_AVX512 ? &kAvx512 : nullptr;
#endif
#if HDG_ARM64
    case HDG_ISA_NEON:
      return det == HDG_ISA_NEON ? &kNeon : nullptr;
#endif
#if defined(__wasm_simd128__)
    case HDG_ISA_SIMD128:
      return &kSimd128;
#endif
    default:
      return nullptr;
  }
}

const hdg_kernels_t* hdg_kernels(void) {
  const hdg_kernels_t* k = hdg_kernels_for(hdg_active_isa());
  return k ? k : &kScalar;
}

const char* hdg_isa_name(hdg_isa_t isa) {
  switch (isa) {
    case HDG_ISA_SCALAR: return "scalar";
    case HDG_ISA_NEON: return "neon";
    case HDG_ISA_AVX2: return "avx2";
    case HDG_ISA_AVX512: return "avx512";
    case HDG_ISA_SIMD128: return "simd128";
  }
  return "unknown";
}

int hdg_isa_parse(const char* name) {
  if (!name) return -1;
  if (strcmp(name, "scalar") == 0) return HDG_ISA_SCALAR;
  if (strcmp(name, "neon") == 0) return HDG_ISA_NEON;
  if (strcmp(name, "avx2") == 0) return HDG_ISA_AVX2;
  if (strcmp(name, "avx512") == 0) return HDG_ISA_AVX512;
  if (strcmp(name, "simd128") == 0) return HDG_ISA_SIMD128;
  return -1;
}

}  // extern "C"
