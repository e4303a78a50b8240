// The compiled tier a parity test compares with the TypeScript backend: the native addon, or the
// WebAssembly core when HDGLUE_BACKEND=wasm (npm test runs the parity files both ways). The
// native tier switches levels in process (its raw `_useIsa`); the wasm tier runs the one level
// its module has (HDGLUE_MAX_ISA=scalar picks the scalar module).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { loadNative, packageRoot } from '../lib/backend/native.js';
import type { Backend } from '../lib/backend/types.js';
import { loadWasm } from '../lib/backend/wasm/backend.js';
import { WASM_FILES } from '../lib/backend/wasm/module.js';

/** A compiled backend, its levels under test and how to switch between them. */
export interface Tier {
  backend: Backend;
  /** 'native' or 'wasm'. */
  name: string;
  /** Levels to compare: on native every one the CPU has up to the level in use; on wasm its one. */
  levels(): string[];
  /** Switches to a level of levels(). */
  use(level: string): void;
  /** The level in use when loaded. */
  startIsa: string;
}

/** Loads the tier under test, or throws (the parity tests need it). */
export function tierUnderTest(): Tier {
  if (process.env.HDGLUE_BACKEND === 'wasm') {
    const load = loadWasm(process.env.HDGLUE_MAX_ISA ?? '');
    if (!load.ok) throw new Error(`the WebAssembly backend must load for the parity tests: ${String(load.error)}`);
    const be = load.backend;
    return { backend: be, name: 'wasm', levels: () => [be.isa], use: () => {}, startIsa: be.isa };
  }
  const load = loadNative();
  if (!load.ok) throw new Error(`the native addon must load for the parity tests: ${String(load.error)}`);
  const raw = createRequire(import.meta.url)('node-gyp-build')(packageRoot) as {
    _useIsa(level: string): void;
    info(): { isa: string; available: string[] };
  };
  const startIsa = raw.info().isa;
  const order = ['scalar', 'neon', 'avx2', 'avx512'];
  return {
    backend: load.backend,
    name: 'native',
    levels: () => raw.info().available.filter((l) => order.indexOf(l) <= order.indexOf(startIsa)),
    use: (level) => raw._useIsa(level),
    startIsa,
  };
}

/**
 * Whether both WebAssembly modules are built. Without the toolchain (clang, lld, wasi-libc) they
 * are not, and the tests that need them skip, as npm test skips its wasm steps with a notice;
 * under HDGLUE_REQUIRE_WASM=1 (CI) their absence is an error instead.
 */
export function wasmModulesBuilt(): boolean {
  const built = Object.values(WASM_FILES).every((f) => existsSync(join(packageRoot, 'wasm', f)));
  if (!built && process.env.HDGLUE_REQUIRE_WASM === '1') {
    throw new Error('HDGLUE_REQUIRE_WASM=1 but the WebAssembly modules are not built: npm run build:wasm');
  }
  return built;
}
