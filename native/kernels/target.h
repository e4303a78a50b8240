// Per-file instruction-set enabling (docs/ARCHITECTURE.md, invariant 6). The build compiles every file for
// the architecture baseline; a kernel file includes this header with HDG_TARGET set and its
// functions alone get the wider ISA, so nothing outside them can emit, say, an AVX instruction
// that would fault on an older CPU before dispatch has checked.
//   HDG_TARGET_BEGIN("avx2,popcnt") ... HDG_TARGET_END
#ifndef HDGLUE_KERNELS_TARGET_H
#define HDGLUE_KERNELS_TARGET_H

#define HDG_PRAGMA(x) _Pragma(#x)
#if defined(__clang__)
#define HDG_TARGET_BEGIN(t) HDG_PRAGMA(clang attribute push(__attribute__((target(t))), apply_to = function))
#define HDG_TARGET_END HDG_PRAGMA(clang attribute pop)
#elif defined(__GNUC__)
#define HDG_TARGET_BEGIN(t) HDG_PRAGMA(GCC push_options) HDG_PRAGMA(GCC target(t))
#define HDG_TARGET_END HDG_PRAGMA(GCC pop_options)
#else
#error "hdglue kernels need GCC or clang"
#endif

#endif
