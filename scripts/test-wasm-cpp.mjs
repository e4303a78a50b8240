#!/usr/bin/env node
// The C++ kernel tests (native/tests/test_kernels.cc) inside WebAssembly: the test program and the
// core (native/sources.json "core" plus native/kernels/simd128.cc) compiled for wasm32-wasi as a
// command module, with the flags of scripts/build-wasm.mjs, twice:
//   -msimd128      run as `test_kernels simd128` (the kernel table of wasm/hdglue-simd128.wasm)
//   -mno-simd128   run as `test_kernels scalar`  (the kernel table of wasm/hdglue-scalar.wasm)
// Each runs under Node's WASI (preview1) and must exit 0. The SIMD levels of the native build are
// tested by scripts/test-cpp.mjs; this is the only place the simd128 kernels meet the oracle.
//
//   node scripts/test-wasm-cpp.mjs
// Exit codes: 0 passed; 1 a compile, link or test failure; 77 the toolchain is missing (a skip
// with a notice), unless HDGLUE_REQUIRE_WASM=1 (CI), where that is a failure.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { APT, CXXFLAGS, MODULES, probeToolchain, STACK_FLAGS } from './build-wasm.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function say(message) {
  console.error(`test-wasm-cpp: ${message}`);
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

/** Compiles and links the test program for one module's flags; returns the .wasm path. */
async function buildTest(cxx, flags, dir) {
  const sources = JSON.parse(readFileSync(join(root, 'native', 'sources.json'), 'utf8'));
  // The kernels and the core only: exports.cc is the shipped module's ABI, which the test does not call.
  const files = [...sources.core, 'native/kernels/simd128.cc', 'native/tests/test_kernels.cc'];
  const objects = files.map((f) => join(dir, `${basename(f)}.o`));
  await Promise.all(files.map((f, i) => run(cxx, [...CXXFLAGS, ...flags, '-c', f, '-o', objects[i]])));
  const out = join(dir, 'test_kernels.wasm');
  // A command module: wasi-libc's start files call main and pass its status to proc_exit. The
  // stack is the shipped modules' size and place (below the data: an overflow traps), so a
  // kernel's stack use is tested as it will run.
  await run(cxx, ['--target=wasm32-wasi', ...STACK_FLAGS, ...flags, ...objects, '-o', out]);
  return out;
}

/** Runs the test module with `level` under WASI; returns its exit status. */
async function runTest(file, level) {
  // Imported here: node:wasi warns that it is experimental as soon as it loads.
  const { WASI } = await import('node:wasi');
  const wasi = new WASI({ version: 'preview1', args: ['test_kernels', level], env: {}, returnOnExit: true });
  const module = await WebAssembly.compile(readFileSync(file));
  const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
  return wasi.start(instance);
}

const tc = probeToolchain();
if (tc.missing) {
  say(`NOTICE: cannot test the WebAssembly kernels: ${tc.missing}`);
  say(`on Debian/Ubuntu: ${APT}`);
  if (process.env.HDGLUE_REQUIRE_WASM === '1') {
    say('HDGLUE_REQUIRE_WASM=1 and the toolchain is missing');
    process.exit(1);
  }
  say('skipped (exit 77)');
  process.exit(77);
}

let failed = 0;
for (const mod of MODULES) {
  const dir = mkdtempSync(join(os.tmpdir(), `hdglue-wasm-test-${mod.isa}-`));
  try {
    const file = await buildTest(tc.cxx, mod.flags, dir);
    const status = await runTest(file, mod.isa);
    say(`${mod.isa} (${mod.flags.join(' ')}): exit ${status}${status === 0 ? ', passed' : ', FAILED'}`);
    if (status !== 0) failed++;
  } catch (e) {
    say(`${mod.isa}: ${e instanceof Error ? e.message : String(e)}`);
    failed++;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
say(`${tc.version}; ${failed ? `${failed} of ${MODULES.length} FAILED` : `all ${MODULES.length} passed`}`);
process.exit(failed ? 1 : 0);
