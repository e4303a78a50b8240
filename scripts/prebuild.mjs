#!/usr/bin/env node
// `npm run prebuilds [-- --arch x64,arm64]`: the binaries shipped in the tarball, one per target,
// each checked by scripts/check-binary.mjs (baseline instructions outside the kernels, glibc and
// libstdc++ versions). This file holds the flags of every target; nothing else builds prebuilds.
//
// Each target is built in its own copy of the shipped native sources, build-prebuilds/<tuple>/,
// never in build/: node-gyp-build prefers build/Release over prebuilds/, so a cross build left
// there would shadow the host's binary, and prebuildify moves the .node it made out of build/.
// The copy is made from package.json "files", so a source missing from the tarball fails here.
// The compile flags themselves are binding.gyp's (architecture baseline, SIMD per kernel file).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';

const root = join(import.meta.dirname, '..');

/** prebuildify flags shared by every target: N-API (one binary for every Node), stripped, libc in the name. */
const FLAGS = ['--napi', '--strip', '--tag-libc'];

/** Linux targets. `cross` is the GNU toolchain prefix used when the target is not the host. */
const TARGETS = {
  x64: { cross: 'x86_64-linux-gnu-', apt: 'g++-x86-64-linux-gnu' },
  arm64: { cross: 'aarch64-linux-gnu-', apt: 'g++-aarch64-linux-gnu' },
};

const { values } = parseArgs({ options: { arch: { type: 'string', default: 'x64,arm64' } } });
const arches = values.arch.split(',').filter(Boolean);
for (const a of arches) {
  if (!TARGETS[a]) {
    console.error(`prebuild: unknown --arch ${a}; one of ${Object.keys(TARGETS).join(', ')}`);
    process.exit(2);
  }
}
if (process.platform !== 'linux') {
  console.error('prebuild: builds the linux prebuilds only; run it on Linux');
  process.exit(2);
}

// Node's headers: npm passes its nodedir config to scripts; outside npm, use the running Node's
// own include/ (distribution packages and official tarballs both ship it), so nothing is
// downloaded.
const env = { ...process.env };
if (!env.npm_config_nodedir) {
  const prefix = dirname(dirname(process.execPath));
  if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) env.npm_config_nodedir = prefix;
}

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const shipped = pkg.files.filter((f) => f.startsWith('native/') || f === 'binding.gyp');

function has(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

const results = [];
for (const arch of arches) {
  const t0 = Date.now();
  const tuple = `linux-${arch}`;
  const cross = arch !== process.arch;
  const prefix = cross ? TARGETS[arch].cross : '';
  if (cross && !has(`${prefix}g++`)) {
    console.error(`prebuild: ${prefix}g++ not found; on Debian: apt-get install ${TARGETS[arch].apt}`);
    process.exit(1);
  }
  const stage = join(root, 'build-prebuilds', tuple);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  cpSync(join(root, 'package.json'), join(stage, 'package.json'));
  for (const f of shipped) cpSync(join(root, f), join(stage, f), { recursive: true });
  const out = join(root, 'prebuilds', tuple);
  rmSync(out, { recursive: true, force: true });

  const targetEnv = { ...env };
  if (cross) {
    Object.assign(targetEnv, {
      CC: `${prefix}gcc`,
      CXX: `${prefix}g++`,
      LINK: `${prefix}g++`,
      AR: `${prefix}ar`,
    });
  }
  console.log(`\n--- prebuild ${tuple}${cross ? ` (cross, ${prefix}g++)` : ''} ---`);
  const args = [
    join(root, 'node_modules', 'prebuildify', 'bin.js'),
    ...FLAGS,
    `--arch=${arch}`,
    `--strip-bin=${prefix}strip`,
    `--node-gyp=${join(root, 'node_modules', '.bin', 'node-gyp')}`,
    `--out=${root}`,
    `--cwd=${stage}`,
  ];
  const r = spawnSync(process.execPath, args, { cwd: stage, env: targetEnv, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`prebuild: prebuildify failed for ${tuple}`);
    process.exit(1);
  }
  const binary = join(out, `${pkg.name}.glibc.node`);
  if (!existsSync(binary)) {
    console.error(`prebuild: expected ${binary}`);
    process.exit(1);
  }
  const buildSecs = ((Date.now() - t0) / 1000).toFixed(1);
  // The check needs the symbols that --strip removed. gyp's COPY step hard-links the link output
  // in obj.target/ to build/Release/, so strip emptied both: link it again from the same objects
  // (ld is deterministic) and let check-binary prove the code is byte-identical to the shipped file.
  const release = join(stage, 'build', 'Release', 'obj.target');
  rmSync(join(release, `${pkg.name}.node`));
  const relink = spawnSync('make', ['-C', join(stage, 'build'), 'BUILDTYPE=Release'], {
    env: targetEnv,
    stdio: 'inherit',
  });
  if (relink.status !== 0) {
    console.error(`prebuild: relinking the unstripped ${tuple} binary failed`);
    process.exit(1);
  }
  const check = spawnSync(
    process.execPath,
    [
      join(root, 'scripts', 'check-binary.mjs'),
      `--arch=${arch}`,
      `--binary=${binary}`,
      `--unstripped=${join(release, `${pkg.name}.node`)}`,
      `--objects=${join(release, pkg.name)}`,
      `--json=${join(stage, 'check.json')}`,
    ],
    { stdio: 'inherit' },
  );
  const report = JSON.parse(readFileSync(join(stage, 'check.json'), 'utf8'));
  results.push({ tuple, binary, bytes: statSync(binary).size, buildSecs, ok: check.status === 0, report });
}

console.log('\n--- prebuilds ---');
for (const r of results) {
  const v = Object.entries(r.report.versions)
    .map(([family, x]) => `${family}_${x.max}`)
    .join(' ');
  console.log(
    `${r.ok ? 'ok  ' : 'FAIL'} ${r.binary.slice(root.length + 1)}  ${r.bytes} bytes  built in ${r.buildSecs} s  needs ${v}`,
  );
}
process.exit(results.every((r) => r.ok) ? 0 : 1);
