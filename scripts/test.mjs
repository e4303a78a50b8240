#!/usr/bin/env node
// `npm test`: the whole suite, in layers, with one summary line at the end.
//   0. Lint: biome, and the layering of lib/ (scripts/check-layers.mjs).
//   1. C++ kernel tests (ctest): every ISA level this CPU has against a per-bit oracle.
//   2. NEON kernels cross-compiled for aarch64 and run under qemu-user (skipped with a notice
//      when the toolchain is missing, unless HDGLUE_REQUIRE_NEON=1, as CI sets).
//   3. The WebAssembly tier: both modules built twice (same bytes), and the C++ kernel tests
//      compiled to wasm32 and run under node:wasi (skipped with a notice without clang, lld and
//      wasi-libc, unless HDGLUE_REQUIRE_WASM=1, as CI sets).
//   4. vitest on the native backend at its best level, then the parity and API files again at
//      every lower level (HDGLUE_MAX_ISA), then the parity, property, async and model files on
//      the WebAssembly backend (simd128), the parity, property and API files on its scalar
//      module, then the whole suite forced to the TS backend.
//   5. Install paths: prebuilds built and checked, the tarball packed and installed in fresh
//      projects with and without a compiler and prebuilds, and the arm64 prebuild under qemu.
//   6. Sanitizers and fuzzing: C++ tests and the addon's tests under ASan + UBSan, libFuzzer.
// The addon and dist/ are built by `pretest`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const results = [];

function step(name, cmd, args, env = {}, { skipCode } = {}) {
  console.log(`\n=== ${name} ===`);
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  const status = r.status === 0 ? 'passed' : r.status === skipCode ? 'skipped' : 'failed';
  results.push({ name, status, secs });
  console.log(`=== ${name}: ${status} (${secs} s) ===`);
}

const only = process.argv[2];

if (!only || only === 'lint')
  step('lint (biome)', process.execPath, [
    join(root, 'node_modules', '@biomejs', 'biome', 'bin', 'biome'),
    'check',
    'lib',
    'test',
    'bench',
    'scripts',
    'examples',
  ]);
if (!only || only === 'lint')
  step('layers of lib/ (imports point down, no cycle, files <= 500 lines)', process.execPath, [
    'scripts/check-layers.mjs',
  ]);
if (!only || only === 'cpp') step('C++ kernel tests (ctest)', process.execPath, ['scripts/test-cpp.mjs']);
if (!only || only === 'neon')
  step('NEON kernels under qemu-aarch64', 'bash', ['scripts/test-neon.sh'], {}, { skipCode: 77 });

// The files run on the WebAssembly tier: every parity and property file, the API, and the model
// files (golden bytes, HIL, glue training) whose results must not depend on the tier.
const WASM_FILES = [
  'test/parity.test.ts',
  'test/refine-parity.test.ts',
  'test/encoder-parity.test.ts',
  'test/property.test.ts',
  'test/api.test.ts',
  'test/async-safety.test.ts',
  'test/wasm.test.ts',
  'test/model-golden.test.ts',
  'test/hil.test.ts',
  'test/glue-learn.test.ts',
];
// test/wasm-modules.test.ts (both modules against TypeScript on random shapes) loads the modules
// itself whatever the backend, so the native vitest pass runs it (the TypeScript pass skips it).
if (!only || only === 'wasm' || only === 'js')
  step(
    'WebAssembly modules built twice, same bytes',
    process.execPath,
    ['scripts/build-wasm.mjs', '--check'],
    {},
    { skipCode: 77 },
  );
if (!only || only === 'wasm')
  step(
    'C++ kernel tests in WebAssembly (node:wasi)',
    process.execPath,
    ['scripts/test-wasm-cpp.mjs'],
    {},
    { skipCode: 77 },
  );

if (!only || only === 'js') {
  const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
  const raw = createRequire(import.meta.url)('node-gyp-build')(root);
  const { available, detected } = raw.info();
  step(`vitest, native backend (${detected})`, process.execPath, [vitest, 'run'], {
    HDGLUE_BACKEND: 'native',
    HDGLUE_MAX_ISA: '',
  });
  for (const isa of available.filter((l) => l !== detected)) {
    step(
      `vitest parity + API, native capped at ${isa}`,
      process.execPath,
      [
        vitest,
        'run',
        'test/parity.test.ts',
        'test/refine-parity.test.ts',
        'test/encoder-parity.test.ts',
        'test/api.test.ts',
      ],
      {
        HDGLUE_BACKEND: 'native',
        HDGLUE_MAX_ISA: isa,
      },
    );
  }
  const all =
    process.arch === 'arm64' ? ['scalar', 'neon'] : process.arch === 'x64' ? ['scalar', 'avx2', 'avx512'] : ['scalar'];
  for (const isa of all.filter((l) => !available.includes(l))) {
    results.push({ name: `vitest parity at ${isa} (this CPU lacks it)`, status: 'skipped', secs: '0.0' });
  }
  if (existsSync(join(root, 'wasm', 'hdglue-simd128.wasm'))) {
    step(
      'vitest parity + property + models, WebAssembly backend (simd128)',
      process.execPath,
      [vitest, 'run', ...WASM_FILES],
      {
        HDGLUE_BACKEND: 'wasm',
        HDGLUE_MAX_ISA: '',
      },
    );
    step(
      'vitest parity + property + API, WebAssembly backend (scalar module)',
      process.execPath,
      [vitest, 'run', ...WASM_FILES.slice(0, 5)],
      { HDGLUE_BACKEND: 'wasm', HDGLUE_MAX_ISA: 'scalar' },
    );
  } else {
    results.push({
      name: 'vitest on the WebAssembly backend (the modules are not built)',
      status: 'skipped',
      secs: '0.0',
    });
  }
  step('vitest, TypeScript backend', process.execPath, [vitest, 'run'], { HDGLUE_BACKEND: 'js', HDGLUE_MAX_ISA: '' });
}

// Reliability (RELIABILITY.md): the C++ tests under ASan + UBSan, a short libFuzzer run on the C
// ABI (skipped with a notice without clang, unless HDGLUE_REQUIRE_FUZZ=1, as CI sets), and the
// addon's own tests against an ASan + UBSan build of it.
if (!only || only === 'sanitize')
  step('C++ kernel tests under ASan + UBSan (preset asan-ubsan)', process.execPath, ['scripts/test-cpp.mjs'], {
    HDGLUE_SANITIZE: 'address,undefined',
  });
if (!only || only === 'fuzz')
  step('libFuzzer on the C ABI, 10 s', process.execPath, ['scripts/fuzz.mjs', '--seconds', '10'], {}, { skipCode: 77 });
if (!only || only === 'sanitize')
  step(
    'addon tests under ASan + UBSan (reduced suite)',
    process.execPath,
    ['scripts/test-asan-addon.mjs'],
    {},
    {
      skipCode: 77,
    },
  );

// The README quotes the demo's table; a fresh run must print the same one.
if (!only || only === 'readme')
  step('README demo table matches a fresh demo run', process.execPath, ['scripts/check-readme.mjs']);

// Last: it packs the tarball (dist/ from `pretest`) and builds the prebuilds it installs.
if (!only || only === 'install')
  step('install paths from the packed tarball (scripts/test-install.mjs)', process.execPath, [
    'scripts/test-install.mjs',
  ]);

console.log('\n=== summary ===');
for (const r of results) console.log(`${r.status.padEnd(8)} ${r.name} (${r.secs} s)`);
const count = (s) => results.filter((r) => r.status === s).length;
for (const r of results.filter((x) => x.status === 'skipped')) console.log(`NOTICE: skipped: ${r.name}`);
console.log(`steps: ${count('passed')} passed, ${count('failed')} failed, ${count('skipped')} skipped`);
process.exit(count('failed') ? 1 : 0);
