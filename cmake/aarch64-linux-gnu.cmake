# Cross toolchain for the aarch64 build of the C++ kernel tests (scripts/test-neon.sh). ctest runs
# the test binary through qemu-user; -L points qemu at the cross sysroot so the dynamic loader
# and libstdc++ of the target are found without installing them system-wide.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(HDG_CROSS_PREFIX aarch64-linux-gnu)
set(CMAKE_C_COMPILER ${HDG_CROSS_PREFIX}-gcc)
set(CMAKE_CXX_COMPILER ${HDG_CROSS_PREFIX}-g++)

set(HDG_CROSS_SYSROOT /usr/${HDG_CROSS_PREFIX} CACHE PATH "Target root qemu loads libraries from")
find_program(HDG_QEMU_AARCH64 NAMES qemu-aarch64-static qemu-aarch64)
if(NOT HDG_QEMU_AARCH64)
  # Left unresolved so the failure names the missing tool instead of an exec format error.
  set(HDG_QEMU_AARCH64 qemu-aarch64-static)
endif()
set(CMAKE_CROSSCOMPILING_EMULATOR ${HDG_QEMU_AARCH64} -L ${HDG_CROSS_SYSROOT})

# Headers and libraries come from the target root only; programs (the build tools) from the host.
set(CMAKE_FIND_ROOT_PATH ${HDG_CROSS_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
