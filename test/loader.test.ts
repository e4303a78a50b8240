// Backend choice as a user meets it, each case in a fresh Node process: the default loads the
// addon; HDGLUE_MAX_ISA caps the level; a copy of the package with no binary falls back to
// TypeScript with exactly one coded warning, or fails loudly under HDGLUE_BACKEND=native.
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../lib/backend/native.js';
import { runNode } from './helpers.js';

const REPORT = `
import { readFileSync } from 'node:fs';
import { backendInfo, randomHV } from 'hdglue';
const warnings = [];
process.on('warning', (w) => warnings.push({ name: w.name, code: w.code, message: w.message }));
try {
  const info = backendInfo();
  const bits = Array.from(randomHV(100, 'abc', { seed: 42 }).data);
  // Whether the file backendInfo names is the one mapped into this process (Linux only).
  const mapped = info.binary && process.platform === 'linux' ? readFileSync('/proc/self/maps', 'utf8').includes(info.binary) : null;
  await new Promise((r) => setImmediate(r));
  console.log(JSON.stringify({ info, bits, warnings, mapped }));
} catch (e) {
  console.log(JSON.stringify({ error: { name: e.name, code: e.code, message: e.message, cause: String(e.cause) } }));
}
`;

// A package copy with dist/ but neither build/ nor prebuilds/, resolvable as 'hdglue'.
const tmp = mkdtempSync(join(tmpdir(), 'hdglue-loader-'));
const pkg = join(tmp, 'node_modules', 'hdglue');
cpSync(join(packageRoot, 'dist'), join(pkg, 'dist'), { recursive: true });
cpSync(join(packageRoot, 'package.json'), join(pkg, 'package.json'));
symlinkSync(join(packageRoot, 'node_modules', 'node-gyp-build'), join(tmp, 'node_modules', 'node-gyp-build'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function report(env: Record<string, string | undefined>, cwd = packageRoot) {
  // HDGLUE_PREBUILD (node-gyp-build's directory override, which the ASan run sets) would make the
  // copy without a binary find one.
  const clean = {
    HDGLUE_BACKEND: undefined,
    HDGLUE_MAX_ISA: undefined,
    HDGLUE_THREADS: undefined,
    HDGLUE_PREBUILD: undefined,
  };
  const r = runNode(REPORT, { ...clean, ...env }, cwd);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop() as string);
}

describe('backend loading', () => {
  it('loads the native addon by default at the best level the CPU has, with no warning', () => {
    const r = report({});
    expect(r.info.backend).toBe('native');
    expect(r.info.isa).toBe(r.info.detectedIsa);
    expect(r.warnings).toEqual([]);
  });

  it('reports the levels, the binary that loaded, its N-API version and the package version', () => {
    const r = report({});
    const { version } = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8'));
    expect(r.info.version).toBe(version);
    expect(r.info.availableIsas[0]).toBe('scalar');
    expect(r.info.availableIsas).toContain(r.info.detectedIsa);
    expect(r.info.availableIsas).toContain(process.arch === 'arm64' ? 'neon' : 'scalar');
    expect(r.info.binary).toMatch(/\.node$/);
    expect(r.info.binary.startsWith(packageRoot)).toBe(true);
    if (process.platform === 'linux') expect(r.mapped).toBe(true);
    expect(Number.isInteger(r.info.napiVersion)).toBe(true);
    expect(r.info.napiVersion).toBeGreaterThanOrEqual(1);
    expect(r.info.napiVersion).toBeLessThanOrEqual(Number(process.versions.napi));
    // Every level reported as available really runs when capped to it.
    for (const isa of r.info.availableIsas) expect(report({ HDGLUE_MAX_ISA: isa }).info.isa).toBe(isa);
  });

  it('HDGLUE_MAX_ISA=scalar caps the level', () => {
    expect(report({ HDGLUE_MAX_ISA: 'scalar' }).info.isa).toBe('scalar');
  });

  it('an unknown HDGLUE_MAX_ISA or HDGLUE_BACKEND is an error with a code', () => {
    expect(report({ HDGLUE_MAX_ISA: 'sse9' }).error.code).toBe('ERR_HDGLUE_INVALID_ENV');
    expect(report({ HDGLUE_BACKEND: 'gpu' }).error.code).toBe('ERR_HDGLUE_INVALID_ENV');
    expect(report({ HDGLUE_THREADS: '4abc' }).error.code).toBe('ERR_HDGLUE_INVALID_ENV');
    expect(report({ HDGLUE_THREADS: '0' }).error.code).toBe('ERR_HDGLUE_INVALID_ENV');
    expect(report({ HDGLUE_THREADS: '3' }).info.threads).toBe(3);
  });

  it('with no binary: falls back to TypeScript with one coded warning and the same bits', () => {
    const native = report({});
    const r = report({}, tmp);
    expect(r.info.backend).toBe('js');
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0].code).toBe('HDGLUE_FALLBACK_TO_JS');
    expect(r.info.nativeError).toBeTruthy();
    expect(r.info.availableIsas).toEqual(['js']);
    expect(r.info.binary).toBeUndefined();
    expect(r.info.napiVersion).toBeUndefined();
    expect(r.info.version).toBe(native.info.version);
    expect(r.bits).toEqual(native.bits);
  });

  it('with no binary and HDGLUE_BACKEND=native: a clear error naming the platform and the fix', () => {
    const r = report({ HDGLUE_BACKEND: 'native' }, tmp);
    expect(r.error.code).toBe('ERR_HDGLUE_NATIVE_UNAVAILABLE');
    expect(r.error.message).toContain(`${process.platform}-${process.arch}`);
    expect(r.error.message).toContain('--build-from-source');
    expect(r.error.cause).not.toBe('undefined');
  });
});
