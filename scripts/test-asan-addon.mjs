#!/usr/bin/env node
// The addon's own tests with the addon built under AddressSanitizer + UndefinedBehaviorSanitizer.
// The addon is compiled by node-gyp from the same sources into build-asan/ (a generated
// binding.gyp with the sanitizer flags), node-gyp-build is pointed at it with HDGLUE_PREBUILD, and
// Node runs with libasan preloaded (Node itself is not instrumented; the runtime must be loaded
// before anything allocates). Every sanitizer report aborts the run.
//
//   node scripts/test-asan-addon.mjs          the reduced suite `npm test` runs (about a minute)
//   node scripts/test-asan-addon.mjs --full   every test file (run by hand; figures in RELIABILITY.md)
//
// Leak detection is off: Node keeps much of its own memory until exit by design, which LeakSanitizer
// would report; leaks of the addon's own (per-call vectors, async workers) show in bench/soak.mjs.
// Without gcc's libasan it exits 77 (skipped) with a notice.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const full = process.argv.includes('--full');
const out = join(root, 'build-asan');

const lib = spawnSync('gcc', ['-print-file-name=libasan.so'], { encoding: 'utf8' });
const libasan = lib.stdout?.trim() ?? '';
if (lib.status !== 0 || !libasan.startsWith('/') || !existsSync(libasan)) {
  console.log('NOTICE: ASan addon tests skipped: gcc has no libasan.so');
  process.exit(77);
}

const sources = JSON.parse(readFileSync(join(root, 'native/sources.json'), 'utf8'));
const arch = process.arch === 'x64' ? sources.x64 : process.arch === 'arm64' ? sources.arm64 : [];
const abs = (f) => join(root, f);
// gyp wants sources relative to the .gyp file.
const rel = (f) => relative(out, join(root, f));
// -g1: line numbers in reports; full -g makes the AVX-512 kernels take minutes to compile.
const san = ['-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-fno-omit-frame-pointer', '-g1'];
// The same target as binding.gyp, with absolute paths and the sanitizer flags added.
const gyp = {
  targets: [
    {
      target_name: 'hdglue',
      sources: [...sources.core, ...sources.addon, ...arch].map(rel),
      include_dirs: [join(root, require('node-addon-api').include_dir), abs('native/include')],
      defines: ['NAPI_VERSION=8', 'NAPI_CPP_EXCEPTIONS', 'NODE_ADDON_API_DISABLE_DEPRECATED'],
      'cflags!': ['-fno-exceptions', '-O3', '-O2'],
      'cflags_cc!': ['-fno-exceptions', '-std=gnu++17', '-std=gnu++20', '-O3', '-O2'],
      cflags_cc: [
        '-std=c++17',
        '-fexceptions',
        '-O1',
        '-ffp-contract=off',
        '-fno-strict-aliasing',
        process.arch === 'arm64' ? '-march=armv8-a' : '-march=x86-64',
        ...san,
      ],
      ldflags: san,
    },
  ],
};
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'binding.gyp'), `${JSON.stringify(gyp, null, 2)}\n`);
writeFileSync(join(out, 'package.json'), '{ "name": "hdglue-asan-build", "private": true }\n');
const gypBin = join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
// The headers of the running Node when it ships them (as Debian's does), as npm's own build of
// the addon finds them; node-gyp would otherwise try to download them.
const prefix = dirname(dirname(process.execPath));
const nodedir =
  process.env.npm_config_nodedir ?? (existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined);
const built = spawnSync(
  process.execPath,
  [gypBin, 'rebuild', '-j', '2', ...(nodedir ? [`--nodedir=${nodedir}`] : [])],
  { cwd: out, stdio: 'inherit' },
);
if (built.status !== 0) process.exit(built.status ?? 1);

const env = {
  ...process.env,
  HDGLUE_PREBUILD: out,
  HDGLUE_BACKEND: 'native',
  HDGLUE_MAX_ISA: '',
  LD_PRELOAD: libasan,
  // Node installs its own SIGSEGV handler (WebAssembly bounds checks); ASan must leave it alone.
  ASAN_OPTIONS: 'detect_leaks=0:abort_on_error=1:handle_segv=0:allow_user_segv_handler=1',
  UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
};
// The addon that loads must be this build, or the run proves nothing.
const which = spawnSync(process.execPath, ['-p', `require('node-gyp-build').path(${JSON.stringify(root)})`], {
  cwd: root,
  env,
  encoding: 'utf8',
});
if (which.status !== 0 || !which.stdout.trim().startsWith(out)) {
  console.error(`the ASan addon does not load: ${which.stdout}${which.stderr}`);
  process.exit(1);
}
console.log(`addon under ASan + UBSan: ${which.stdout.trim()}`);

// Every file that reaches the addon with arrays, on every path: kernels at each level, the raw
// boundary, encoders, async calls under abuse (their child processes inherit the preload) and the
// property tests. Left out of the reduced run: the CLI, the demo and the README check, which only
// repeat these calls on larger data.
const reduced = [
  'test/addon-boundary.test.ts',
  'test/parity.test.ts',
  'test/refine-parity.test.ts',
  'test/encoder-parity.test.ts',
  'test/api.test.ts',
  'test/async-safety.test.ts',
  'test/property.test.ts',
  'test/limits.test.ts',
];
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const files = full ? [] : reduced.filter((f) => existsSync(join(root, f)));
const r = spawnSync(process.execPath, [vitest, 'run', ...files], { cwd: root, env, stdio: 'inherit' });
process.exit(r.status ?? 1);
