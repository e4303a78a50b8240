#!/usr/bin/env node
// Configure, build and run the C++ kernel tests with CMake for this machine's architecture.
// HDGLUE_SANITIZE=address,undefined builds them under sanitizers in a separate directory (preset asan-ubsan).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const san = process.env.HDGLUE_SANITIZE ?? '';
const dir = join(root, 'build-cmake', san ? `host-${san.replace(/,/g, '-')}` : 'host');

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

// The two usual builds are CMake presets (CMakePresets.json); any other sanitizer list is
// configured by hand in a directory of its own.
const preset = { '': 'host', 'address,undefined': 'asan-ubsan' }[san];
if (preset) {
  run('cmake', ['--preset', preset]);
  run('cmake', ['--build', '--preset', preset]);
  run('ctest', ['--preset', preset]);
} else {
  run('cmake', ['-S', '.', '-B', dir, '-DCMAKE_BUILD_TYPE=Release', `-DHDGLUE_SANITIZE=${san}`]);
  run('cmake', ['--build', dir, '-j', '2']);
  run('ctest', ['--test-dir', dir, '--output-on-failure']);
}
