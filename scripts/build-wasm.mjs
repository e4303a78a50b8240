#!/usr/bin/env node
// Builds the WebAssembly tier: the C++ core (native/sources.json, keys "core" and "wasm")
// compiled for wasm32 with clang, lld and Debian's wasi-libc + libc++ headers, in two modules:
//   wasm/hdglue-simd128.wasm  -msimd128: the simd128 kernel table (every engine of Node 20+)
//   wasm/hdglue-scalar.wasm   no SIMD instruction at all: engines without SIMD, HDGLUE_MAX_ISA=scalar
// and wasm/BUILDINFO (JSON): the compiler and linker versions, the flags, and each module's size
// and sha256; no timestamp or path, so it is as reproducible as the modules.
// The modules import nothing and are built at pack time (`prepack`) and by `npm test`, never at
// install. Same sources, same clang version and these flags give the same bytes: `--check`
// builds a second time from a copy of native/ at another (temporary) path, into another
// directory, and fails if any byte differs, so the checkout's path is shown to stay out.
//
//   node scripts/build-wasm.mjs [--out DIR] [--check]
// Everything it prints goes to stderr (stdout stays empty: `npm pack --json` runs it).
// Exit codes: 0 built; 1 a compile, link or reproducibility failure; 77 the toolchain is missing
// (a skip with a notice), unless HDGLUE_REQUIRE_WASM=1 (CI), where that is a failure.
// Imported as a module (scripts/test-wasm-cpp.mjs) it builds nothing: it lends its flags and its
// toolchain probe, so the C++ tests compile exactly as the shipped modules do.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, isAbsolute, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// The real path: the compiler sees its working directory through getcwd(), which resolves
// symlinks, so -ffile-prefix-map must name the same form.
const root = realpathSync(join(dirname(fileURLToPath(import.meta.url)), '..'));
/** The Debian/Ubuntu packages of the toolchain, for the notice when it is missing. */
export const APT = 'apt-get install clang lld wasi-libc libc++-dev-wasm32 libclang-rt-dev-wasm32';

/** The modules: file name and the flags that differ. */
export const MODULES = [
  { file: 'hdglue-simd128.wasm', isa: 'simd128', flags: ['-msimd128'] },
  { file: 'hdglue-scalar.wasm', isa: 'scalar', flags: ['-mno-simd128'] },
];

/** The provenance file written beside the modules. */
export const BUILDINFO = 'BUILDINFO';

/** The source tree a build needs (every source and header it includes lives under it). */
const SOURCE_TREE = 'native';

// -ffp-contract=off: the encoders' float arithmetic must round as JavaScript's does (wasm has no
// FMA without relaxed-simd, which is never enabled; the flag keeps that true whatever clang does).
// No exceptions and no threads in the module (native/core/parallel.h). -ffile-prefix-map keeps
// the source tree's path out of the bytes; --strip-all drops the names section. Paths are
// relative to `srcRoot`, the compiler's working directory.
/** The compile flags for sources under `srcRoot` (an absolute, symlink-free path). */
export function cxxflags(srcRoot = root) {
  return [
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
    `-ffile-prefix-map=${srcRoot}/=`,
    '-Inative/include',
  ];
}
/** The compile flags for the checkout's own sources. */
export const CXXFLAGS = cxxflags(root);

// --stack-first: wasm-ld (clang 14) otherwise places the stack above the static data, so a stack
// overflow would silently overwrite it; below the data, an overflow runs past address 0 and traps.
/** The stack's size and place, shared by the shipped modules and the C++ tests run in wasm. */
export const STACK_FLAGS = ['-Wl,-z,stack-size=1048576', '-Wl,--stack-first'];
/** The link flags of the shipped modules. */
export const LDFLAGS = [
  '--target=wasm32-wasi',
  '-nostartfiles',
  '-Wl,--no-entry',
  '-Wl,--strip-all',
  ...STACK_FLAGS,
  '-Wl,--export=__wasm_call_ctors',
];

/** A failure of the build: reported on one line at the top level, exit 1. */
class BuildError extends Error {}

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

/** The first line `cmd --version` prints, or undefined. */
function versionOf(cmd) {
  const r = spawnSync(cmd, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n')[0].trim() : undefined;
}

/**
 * The wasm toolchain: `{ cxx, version, linker }` (the compiler command, the first line of its
 * `--version`, and that of the wasm-ld it links with), or `{ missing }` saying what is absent (a
 * compiler for wasm32-wasi with libc++ headers and wasm_simd128.h, or wasm-ld).
 */
export function probeToolchain() {
  const cxx = findCompiler();
  if (!cxx) return { missing: 'no clang++ here compiles for wasm32-wasi with libc++ headers and wasm_simd128.h' };
  if (spawnSync('wasm-ld', ['--version']).status !== 0) return { missing: 'wasm-ld (lld) is not on PATH' };
  // The linker clang itself runs (its own directory first, then PATH), which may not be PATH's.
  const ld = spawnSync(cxx, ['--target=wasm32-wasi', '-print-prog-name=wasm-ld'], { encoding: 'utf8' });
  const linker = versionOf(ld.status === 0 && ld.stdout.trim() ? ld.stdout.trim() : 'wasm-ld');
  return { cxx, version: versionOf(cxx) ?? 'unknown', linker: linker ?? 'unknown' };
}

/** The Debian package (name and version) that installed the wasm32 libc clang links, or undefined. */
function libcPackage(cxx) {
  const file = spawnSync(cxx, ['--target=wasm32-wasi', '-print-file-name=libc.a'], { encoding: 'utf8' });
  const path = file.status === 0 ? file.stdout.trim() : '';
  if (!isAbsolute(path)) return undefined;
  const owner = spawnSync('dpkg-query', ['-S', path], { encoding: 'utf8' });
  // "wasi-libc: /usr/lib/wasm32-wasi/libc.a"; then "wasi-libc\t0.0~git20220510.9886d3d-2".
  const pkg = owner.status === 0 ? owner.stdout.split(/[:,\s]/)[0] : '';
  if (!pkg) return undefined;
  const v = spawnSync('dpkg-query', ['-W', pkg], { encoding: 'utf8' });
  const version = v.status === 0 ? v.stdout.split('\n')[0].split('\t')[1]?.trim() : '';
  return version ? `${pkg} ${version}` : undefined;
}

function run(cmd, argv, cwd) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { cwd, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new BuildError(`${cmd} ${argv.join(' ')} exited ${code}`)),
    );
  });
}

/** Waits for every job (no compiler is left running over a deleted directory), then throws the first failure. */
async function all(jobs) {
  const failed = (await Promise.allSettled(jobs)).find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** The sources of the modules, from `srcRoot`'s native/sources.json, each checked to lie in the source tree. */
function sourcesOf(srcRoot) {
  const sources = JSON.parse(readFileSync(join(srcRoot, SOURCE_TREE, 'sources.json'), 'utf8'));
  const files = [...sources.core, ...sources.wasm];
  for (const f of files)
    if (isAbsolute(f) || normalize(f) !== f || !f.startsWith(`${SOURCE_TREE}/`))
      throw new BuildError(`native/sources.json: ${f} is not a relative path under ${SOURCE_TREE}/`);
  return files;
}

/** Hex sha256 of a module's bytes. */
function sha256(bytes) {
  return createHash('sha256').update(bytes).digest('hex');
}

/** An object file's name from its source's relative path, so two sources of one name do not collide. */
function objectName(file) {
  return `${file.replaceAll('/', '__')}.o`;
}

/**
 * Compiles the sources under `srcRoot` (its working directory) and links every module into
 * `dir`. Nothing lands in `dir` unless all modules build; returns each module's sha256 and size
 * by file name.
 */
async function build(cxx, srcRoot, dir) {
  const files = sourcesOf(srcRoot);
  const names = files.map(objectName);
  if (new Set(names).size !== names.length) throw new BuildError(`two sources map to one object name: ${files}`);
  const flags = cxxflags(srcRoot);
  const objRoot = mkdtempSync(join(os.tmpdir(), 'hdglue-wasm-obj-'));
  const tmps = MODULES.map((mod) => join(dir, `.${mod.file}.tmp`));
  try {
    const built = {};
    for (const [m, mod] of MODULES.entries()) {
      const objDir = join(objRoot, mod.isa);
      mkdirSync(objDir);
      const objects = names.map((n) => join(objDir, n));
      await all(files.map((f, i) => run(cxx, [...flags, ...mod.flags, '-c', f, '-o', objects[i]], srcRoot)));
      await run(cxx, [...LDFLAGS, ...mod.flags, ...objects, '-o', tmps[m]], srcRoot);
      const bytes = readFileSync(tmps[m]);
      // A module that needs anything from its host would fail to instantiate in the loader.
      const imports = WebAssembly.Module.imports(new WebAssembly.Module(bytes));
      if (imports.length)
        throw new BuildError(`${mod.file} imports ${imports.map((i) => `${i.module}.${i.name}`).join(', ')}`);
      built[mod.file] = { size: bytes.length, sha256: sha256(bytes) };
    }
    for (const [m, mod] of MODULES.entries()) renameSync(tmps[m], join(dir, mod.file));
    return built;
  } finally {
    for (const t of tmps) rmSync(t, { force: true });
    rmSync(objRoot, { recursive: true, force: true });
  }
}

/**
 * Builds again from a copy of the source tree at another path, into another directory, and
 * compares every module byte for byte with the one in `outDir`.
 */
async function checkReproducible(cxx, outDir) {
  const tmp = realpathSync(mkdtempSync(join(os.tmpdir(), 'hdglue-wasm-check-')));
  try {
    // A path of another length and depth than the checkout's.
    const copy = join(tmp, 'elsewhere', 'hdglue-copy');
    cpSync(join(root, SOURCE_TREE), join(copy, SOURCE_TREE), { recursive: true });
    const again = join(tmp, 'out');
    mkdirSync(again);
    await build(cxx, copy, again);
    for (const mod of MODULES) {
      const a = readFileSync(join(outDir, mod.file));
      const b = readFileSync(join(again, mod.file));
      if (a.equals(b)) continue;
      let at = 0;
      while (at < Math.min(a.length, b.length) && a[at] === b[at]) at++;
      throw new BuildError(
        `not reproducible: ${mod.file} from ${root} (${a.length} bytes, sha256 ${sha256(a)}) and from a copy at ` +
          `${copy} (${b.length} bytes, sha256 ${sha256(b)}) first differ at byte ${at}`,
      );
    }
    console.error(`build-wasm: reproducible: a second build from a copy at ${copy} gave the same bytes`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** wasm/BUILDINFO: deterministic JSON (no time, no path: the checkout's is written <checkout>). */
function buildInfo(tc, built) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const libc = libcPackage(tc.cxx);
  const info = {
    comment: 'How the modules beside this file were built (scripts/build-wasm.mjs in the hdglue repository).',
    package: `${pkg.name}@${pkg.version}`,
    compiler: { command: tc.cxx, version: tc.version },
    linker: { version: tc.linker },
    ...(libc ? { libc } : {}),
    sources: sourcesOf(root),
    cxxflags: CXXFLAGS.map((f) => f.replace(`=${root}/`, '=<checkout>/')),
    ldflags: LDFLAGS,
    modules: MODULES.map((mod) => ({ file: mod.file, isa: mod.isa, flags: mod.flags, ...built[mod.file] })),
  };
  return `${JSON.stringify(info, null, 2)}\n`;
}

/** The build; resolves to the exit code. Failures throw. */
async function main() {
  const args = process.argv.slice(2);
  const out = args.includes('--out') ? args[args.indexOf('--out') + 1] : join(root, 'wasm');
  if (!out) throw new BuildError('--out needs a directory');
  // Absolute: the compiler runs in the source tree, not in the caller's directory.
  const outDir = resolve(out);
  const check = args.includes('--check');
  const tc = probeToolchain();
  if (tc.missing) {
    console.error(`build-wasm: NOTICE: cannot build the WebAssembly tier: ${tc.missing}`);
    console.error(`build-wasm: on Debian/Ubuntu: ${APT}`);
    if (process.env.HDGLUE_REQUIRE_WASM === '1') {
      console.error('build-wasm: HDGLUE_REQUIRE_WASM=1 and the toolchain is missing');
      return 1;
    }
    console.error('build-wasm: skipped (exit 77)');
    return 77;
  }
  console.error(`build-wasm: compiler ${tc.cxx}: ${tc.version}; linker: ${tc.linker}`);
  mkdirSync(outDir, { recursive: true });
  const built = await build(tc.cxx, root, outDir);
  // Written before the check, so it always describes the modules beside it.
  const info = join(outDir, BUILDINFO);
  try {
    writeFileSync(`${info}.tmp`, buildInfo(tc, built));
    renameSync(`${info}.tmp`, info);
  } finally {
    rmSync(`${info}.tmp`, { force: true });
  }
  if (check) await checkReproducible(tc.cxx, outDir);
  for (const mod of MODULES)
    console.error(`build-wasm: ${mod.file} ${built[mod.file].size} bytes sha256 ${built[mod.file].sha256}`);
  console.error(`build-wasm: provenance in ${info}`);
  return 0;
}

/** Whether this file is the script node was started with (importing it must not start a build). */
function isMain() {
  try {
    return !!process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  // The exit code is set, not forced: every `finally` above has run and stderr drains.
  try {
    process.exitCode = await main();
  } catch (e) {
    console.error(`build-wasm: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  }
}
