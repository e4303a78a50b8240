// Backend choice as a user meets it, each case in a fresh Node process: the default loads the
// addon; HDGLUE_MAX_ISA caps the level; a copy of the package with no binary falls back to the
// WebAssembly core, or to TypeScript when that is missing too or WebAssembly is off (--jitless),
// with exactly one coded warning naming the tier, or fails loudly under HDGLUE_BACKEND=native|wasm.
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../lib/backend/native.js';
import { runNode } from './helpers.js';
import { wasmModulesBuilt } from './tier.js';

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

const haveWasm = wasmModulesBuilt();

// A package copy with dist/ but neither build/ nor prebuilds/, resolvable as 'hdglue'.
const tmp = mkdtempSync(join(tmpdir(), 'hdglue-loader-'));
const pkg = join(tmp, 'node_modules', 'hdglue');
cpSync(join(packageRoot, 'dist'), join(pkg, 'dist'), { recursive: true });
cpSync(join(packageRoot, 'package.json'), join(pkg, 'package.json'));
symlinkSync(join(packageRoot, 'node_modules', 'node-gyp-build'), join(tmp, 'node_modules', 'node-gyp-build'));
// The same with the WebAssembly modules (the package as shipped, minus every native binary).
const tmpWasm = mkdtempSync(join(tmpdir(), 'hdglue-loader-wasm-'));
const pkgWasm = join(tmpWasm, 'node_modules', 'hdglue');
cpSync(pkg, pkgWasm, { recursive: true });
if (haveWasm) cpSync(join(packageRoot, 'wasm'), join(pkgWasm, 'wasm'), { recursive: true });
symlinkSync(join(packageRoot, 'node_modules', 'node-gyp-build'), join(tmpWasm, 'node_modules', 'node-gyp-build'));
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
  rmSync(tmpWasm, { recursive: true, force: true });
});

function report(env: Record<string, string | undefined>, cwd = packageRoot, nodeArgs: string[] = []) {
  // HDGLUE_PREBUILD (node-gyp-build's directory override, which the ASan run sets) would make the
  // copy without a binary find one.
  const clean = {
    HDGLUE_BACKEND: undefined,
    HDGLUE_MAX_ISA: undefined,
    HDGLUE_THREADS: undefined,
    HDGLUE_PREBUILD: undefined,
  };
  const r = runNode(REPORT, { ...clean, ...env }, cwd, nodeArgs);
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

  it.skipIf(!haveWasm)(
    'with no binary: falls back to WebAssembly with one coded warning naming it, and the same bits',
    () => {
      const native = report({});
      const r = report({}, tmpWasm);
      expect(r.info.backend).toBe('wasm');
      expect(r.info.isa).toBe('simd128');
      expect(r.info.availableIsas).toEqual(['scalar', 'simd128']);
      expect(r.info.binary).toBe(join(pkgWasm, 'wasm', 'hdglue-simd128.wasm'));
      expect(r.info.napiVersion).toBeUndefined();
      expect(r.info.nativeError).toBeTruthy();
      expect(r.info.wasmError).toBeUndefined();
      expect(r.warnings).toHaveLength(1);
      expect(r.warnings[0].code).toBe('HDGLUE_FALLBACK_TO_WASM');
      expect(r.warnings[0].message).toContain('WebAssembly backend (simd128)');
      expect(r.bits).toEqual(native.bits);
      expect(report({ HDGLUE_MAX_ISA: 'scalar' }, tmpWasm).info.isa).toBe('scalar');
    },
  );

  it.skipIf(!haveWasm)('HDGLUE_BACKEND=wasm loads the WebAssembly tier beside a working addon, with no warning', () => {
    const r = report({ HDGLUE_BACKEND: 'wasm' });
    expect(r.info.backend).toBe('wasm');
    expect(r.info.isa).toBe('simd128');
    expect(r.info.nativeError).toBeUndefined();
    expect(r.warnings).toEqual([]);
    expect(r.bits).toEqual(report({}).bits);
    const scalar = report({ HDGLUE_BACKEND: 'wasm', HDGLUE_MAX_ISA: 'scalar' });
    expect([scalar.info.isa, scalar.info.binary.endsWith('hdglue-scalar.wasm')]).toEqual(['scalar', true]);
    // Every level it lists is a value HDGLUE_MAX_ISA takes, and runs when capped to it.
    expect(r.info.availableIsas).toEqual(['scalar', 'simd128']);
    for (const isa of r.info.availableIsas)
      expect(report({ HDGLUE_BACKEND: 'wasm', HDGLUE_MAX_ISA: isa }).info.isa).toBe(isa);
    // The WebAssembly level as a cap on native names no CPU level: it caps nothing.
    expect(report({ HDGLUE_MAX_ISA: 'simd128' }).info.isa).toBe(report({}).info.isa);
  });

  it.skipIf(!haveWasm)(
    'with WebAssembly off (node --jitless): falls back to TypeScript with one warning saying why',
    () => {
      const r = report({}, tmpWasm, ['--jitless']);
      expect(r.info.backend).toBe('js');
      expect(r.warnings).toHaveLength(1);
      expect(r.warnings[0].code).toBe('HDGLUE_FALLBACK_TO_JS');
      expect(r.warnings[0].message).toContain('--jitless');
      expect(r.info.wasmError).toContain('WebAssembly is not available');
      expect(r.bits).toEqual(report({}).bits);
    },
  );

  it('with neither a binary nor the WebAssembly modules: falls back to TypeScript with one coded warning and the same bits', () => {
    const native = report({});
    const r = report({}, tmp);
    expect(r.info.backend).toBe('js');
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0].code).toBe('HDGLUE_FALLBACK_TO_JS');
    expect(r.warnings[0].message).toContain('the WebAssembly backend does not load');
    expect(r.info.nativeError).toBeTruthy();
    expect(r.info.wasmError).toBeTruthy();
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

  it('with no WebAssembly modules and HDGLUE_BACKEND=wasm: a clear error with its code', () => {
    const r = report({ HDGLUE_BACKEND: 'wasm' }, tmp);
    expect(r.error.code).toBe('ERR_HDGLUE_WASM_UNAVAILABLE');
    expect(r.error.message).toContain('hdglue-simd128.wasm');
    expect(r.error.message).toContain('npm run build:wasm');
  });

  it.skipIf(!haveWasm)('a corrupt SIMD module is an error, not a quiet fall to the scalar module', () => {
    const bad = mkdtempSync(join(tmpdir(), 'hdglue-loader-bad-'));
    try {
      cpSync(tmpWasm, bad, { recursive: true, verbatimSymlinks: true });
      const file = join(bad, 'node_modules', 'hdglue', 'wasm', 'hdglue-simd128.wasm');
      writeFileSync(file, readFileSync(file).subarray(0, 1000));
      const r = report({ HDGLUE_BACKEND: 'wasm' }, bad);
      expect(r.error.code).toBe('ERR_HDGLUE_WASM_UNAVAILABLE');
      expect(r.error.message).toContain('hdglue-simd128.wasm does not load');
      // Unforced, the loader says why in its one warning and lands on TypeScript.
      const d = report({}, bad);
      expect(d.info.backend).toBe('js');
      expect(d.warnings).toHaveLength(1);
      expect(d.warnings[0].message).toContain('hdglue-simd128.wasm does not load');
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
  });
});
