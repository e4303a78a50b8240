#!/usr/bin/env node
// Builds the WebAssembly tier: the C++ core (native/sources.json, keys "core" and "wasm")
// compiled for wasm32 with clang, lld and Debian's wasi-libc + libc++ headers, in two modules:
//   wasm/hdglue-simd128.wasm  -msimd128: the simd128 kernel table (every engine of Node 20+)
//   wasm/hdglue-scalar.wasm   no SIMD instruction at all: engines without SIMD, HDGLUE_MAX_ISA=scalar
// The modules import nothing and are built at pack time (`prepack`) and by `npm test`, never at
// install. Same sources, same clang version and these flags give the same bytes: `--check`
// builds twice in separate directories and fails if any byte differs.
//
//   node scripts/build-wasm.mjs [--out DIR] [--check]
// Exit codes: 0 built; 1 a compile, link or reproducibility failure; 77 the toolchain is missing
// (a skip with a notice), unless HDGLUE_REQUIRE_WASM=1 (CI), where that is a failure.
// Imported as a module (scripts/test-wasm-cpp.mjs) it builds nothing: it lends its flags and its
// toolchain probe, so the C++ tests compile exactly as the shipped modules do.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const outDir = args.includes('--out') ? args[args.indexOf('--out') + 1] : join(root, 'wasm');
const check = args.includes('--check');
/** The Debian/Ubuntu packages of the toolchain, for the notice when it is missing. */
export const APT = 'apt-get install clang lld wasi-libc libc++-dev-wasm32 libclang-rt-dev-wasm32';

/** The modules: file name and the flags that differ. */
export const MODULES = [
  { file: 'hdglue-simd128.wasm', isa: 'simd128', flags: ['-msimd128'] },
  { file: 'hdglue-scalar.wasm', isa: 'scalar', flags: ['-mno-simd128'] },
];

// -ffp-contract=off: the encoders' float arithmetic must round as JavaScript's does (wasm has no
// FMA without relaxed-simd, which is never enabled; the flag keeps that true whatever clang does).
// No exceptions and no threads in the module (native/core/parallel.h). -ffile-prefix-map keeps
// the checkout's path out of the bytes; --strip-all drops the names section. Paths are relative
// to the repository root, the compiler's working directory.
export const CXXFLAGS = [
  '--target=wasm32-wasi',
  '-O3',
  '-std=c++17',
  '-fno-exceptions',
  '-fno-rtti',
  '-ffp-contract=off',
  '-fno-strict-aliasing',
  '-Wall',
  '-Wextra',
  '-Werror',
  `-ffile-prefix-map=${root}/=`,
  '-Inative/include',
];
const LDFLAGS = [
  '--target=wasm32-wasi',
  '-nostartfiles',
  '-Wl,--no-entry',
  '-Wl,--strip-all',
  '-Wl,-z,stack-size=1048576',
  '-Wl,--export=__wasm_call_ctors',
];

function fail(message, code = 1) {
  console.error(`build-wasm: ${message}`);
  process.exit(code);
}

function missing(what) {
  console.error(`build-wasm: NOTICE: cannot build the WebAssembly tier: ${what}`);
  console.error(`build-wasm: on Debian/Ubuntu: ${APT}`);
  if (process.env.HDGLUE_REQUIRE_WASM === '1') fail('HDGLUE_REQUIRE_WASM=1 and the toolchain is missing');
  console.error('build-wasm: skipped (exit 77)');
  process.exit(77);
}

/** The first clang++ on PATH that targets wasm32-wasi with its libc++ headers, or undefined. */
export function findCompiler() {
  const names = process.env.HDGLUE_WASM_CXX
    ? [process.env.HDGLUE_WASM_CXX]
    : ['clang++', 'clang++-19', 'clang++-16', 'clang++-14'];
  const probe = join(mkdtempSync(join(os.tmpdir(), 'hdglue-wasm-probe-')), 'p.cc');
  writeFileSync(
    probe,
    '#include <vector>\n#include <wasm_simd128.h>\nint f(){std::vector<int> v(3);return (int)v.size();}\n',
  );
  try {
    for (const cxx of names) {
      const r = spawnSync(
        cxx,
        [...CXXFLAGS.filter((f) => f !== '-Werror'), '-msimd128', '-c', probe, '-o', `${probe}.o`],
        {
          encoding: 'utf8',
        },
      );
      if (r.status === 0) return cxx;
    }
  } finally {
    rmSync(dirname(probe), { recursive: true, force: true });
  }
  return undefined;
}

function run(cmd, argv) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} ${argv.join(' ')} exited ${code}`)),
    );
  });
}

/** Compiles and links every module into `dir`; returns their sha256 by file name. */
async function build(cxx, dir) {
  const sources = JSON.parse(readFileSync(join(root, 'native', 'sources.json'), 'utf8'));
  const files = [...sources.core, ...sources.wasm];
  const hashes = {};
  for (const mod of MODULES) {
    const objDir = mkdtempSync(join(os.tmpdir(), `hdglue-wasm-${mod.isa}-`));
    try {
      const objects = files.map((f) => join(objDir, `${basename(f)}.o`));
      await Promise.all(files.map((f, i) => run(cxx, [...CXXFLAGS, ...mod.flags, '-c', f, '-o', objects[i]])));
      const tmp = join(dir, `.${mod.file}.tmp`);
      await run(cxx, [...LDFLAGS, ...mod.flags, ...objects, '-o', tmp]);
      const bytes = readFileSync(tmp);
      // A module that needs anything from its host would fail to instantiate in the loader.
      const imports = WebAssembly.Module.imports(new WebAssembly.Module(bytes));
      if (imports.length) fail(`${mod.file} imports ${imports.map((i) => `${i.module}.${i.name}`).join(', ')}`);
      renameSync(tmp, join(dir, mod.file));
      hashes[mod.file] = createHash('sha256').update(bytes).digest('hex');
    } finally {
      rmSync(objDir, { recursive: true, force: true });
    }
  }
  return hashes;
}

/**
 * The wasm toolchain: `{ cxx, version }`, or `{ missing }` saying what is absent (a compiler
 * for wasm32-wasi with libc++ headers and wasm_simd128.h, or wasm-ld).
 */
export function probeToolchain() {
  const cxx = findCompiler();
  if (!cxx) return { missing: 'no clang++ here compiles for wasm32-wasi with libc++ headers and wasm_simd128.h' };
  if (spawnSync('wasm-ld', ['--version']).status !== 0) return { missing: 'wasm-ld (lld) is not on PATH' };
  return { cxx, version: spawnSync(cxx, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0] };
}

async function main() {
  const tc = probeToolchain();
  if (tc.missing) missing(tc.missing);
  const { cxx, version } = tc;
  mkdirSync(outDir, { recursive: true });
  try {
    const hashes = await build(cxx, outDir);
    if (check) {
      const again = mkdtempSync(join(os.tmpdir(), 'hdglue-wasm-again-'));
      try {
        const second = await build(cxx, again);
        for (const [file, h] of Object.entries(hashes))
          if (second[file] !== h) fail(`not reproducible: ${file} built twice gave ${h} and ${second[file]}`);
        console.error('build-wasm: reproducible: a second build gave the same bytes');
      } finally {
        rmSync(again, { recursive: true, force: true });
      }
    }
    for (const [file, h] of Object.entries(hashes)) {
      const size = readFileSync(join(outDir, file)).length;
      console.error(`build-wasm: ${file} ${size} bytes sha256 ${h}`);
    }
    console.error(`build-wasm: ${version}`);
  } catch (e) {
    fail(e instanceof Error ? e.message : String(e));
  }
}

/** Whether this file is the script node was started with (importing it must not start a build). */
function isMain() {
  try {
    return !!process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) await main();
