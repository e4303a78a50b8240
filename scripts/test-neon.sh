#!/usr/bin/env bash
# Cross-build the C++ kernel tests for aarch64 and run them under qemu-user, so the NEON kernels
# are checked against the per-bit oracle on an x86 machine.
#
# Exit codes: 0 all passed; 1 a build or test failure; 77 the cross toolchain or qemu is missing
# (a skip, for machines that cannot run this), unless HDGLUE_REQUIRE_NEON=1, where a missing tool
# is a failure so CI cannot pass without having run NEON.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${root}/build-cmake/aarch64"
toolchain="${root}/cmake/aarch64-linux-gnu.cmake"
sysroot=/usr/aarch64-linux-gnu

missing=()
for tool in aarch64-linux-gnu-g++ aarch64-linux-gnu-gcc; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ! command -v qemu-aarch64-static >/dev/null 2>&1 && ! command -v qemu-aarch64 >/dev/null 2>&1; then
  missing+=("qemu-aarch64-static (qemu-user-static)")
fi
[[ -d "$sysroot/lib" ]] || missing+=("$sysroot (aarch64 libc/libstdc++ for qemu -L)")

if ((${#missing[@]})); then
  echo "test-neon: NOTICE: cannot cross-test NEON, missing: ${missing[*]}" >&2
  echo "test-neon: on Debian/Ubuntu: apt-get install g++-aarch64-linux-gnu qemu-user-static" >&2
  if [[ "${HDGLUE_REQUIRE_NEON:-}" == 1 ]]; then
    echo "test-neon: FAIL: HDGLUE_REQUIRE_NEON=1 and the tools are missing" >&2
    exit 1
  fi
  echo "test-neon: skipped (exit 77)" >&2
  exit 77
fi
for tool in cmake ctest; do
  command -v "$tool" >/dev/null 2>&1 || { echo "test-neon: FAIL: $tool not found" >&2; exit 1; }
done

jobs="$(nproc 2>/dev/null || echo 2)"
cmake -S "$root" -B "$build" -DCMAKE_TOOLCHAIN_FILE="$toolchain" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" --parallel "$jobs"

# Requiring both levels turns "neon not detected" into a failure instead of a skip; the x86
# levels have no table on aarch64 and are reported as skipped.
cd "$build"
HDGLUE_REQUIRE_ISA=neon,scalar ctest --output-on-failure --timeout 1800
