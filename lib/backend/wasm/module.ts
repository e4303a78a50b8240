/**
 * Finding and compiling the WebAssembly core shipped in the package's wasm/ folder (built by
 * scripts/build-wasm.mjs at pack time, never at install). Two modules: the simd128 one, which an
 * engine without WebAssembly SIMD refuses to compile, and the scalar one, which every engine runs.
 * @internal
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../native.js';
import { type WasmEngine, type WasmModule, wasmEngine } from './engine.js';

/** The module files, by the level they run. */
export const WASM_FILES = { simd128: 'hdglue-simd128.wasm', scalar: 'hdglue-scalar.wasm' } as const;

/** A compiled module and what the loader learnt choosing it. */
export interface CompiledWasm {
  readonly module: WasmModule;
  /** The level of the module chosen: 'simd128', or 'scalar' under HDGLUE_MAX_ISA=scalar or without SIMD. */
  readonly isa: 'simd128' | 'scalar';
  /** 'simd128' when this engine compiles the SIMD module, else 'scalar'. */
  readonly detectedIsa: 'simd128' | 'scalar';
  /** Levels this engine runs, lowest first. */
  readonly availableIsas: readonly string[];
  /** Absolute path of the .wasm file chosen. */
  readonly path: string;
}

/** The smallest module with a SIMD instruction: `(func (result v128) i32.const 0 i8x16.splat)`. */
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 8, 1, 6, 0, 65, 0, 253, 15, 11,
]);

/** Whether the engine accepts WebAssembly SIMD (Node 16.4+ does; an embedder may turn it off). */
function engineHasSimd(engine: WasmEngine): boolean {
  return engine.validate(SIMD_PROBE);
}

function compile(engine: WasmEngine, path: string): WasmModule {
  return new engine.Module(readFileSync(path));
}

/**
 * Compiles the best module this engine runs, or the scalar one when `cap` is 'scalar' (the
 * HDGLUE_MAX_ISA of the other tiers: any other level leaves the best). Throws when WebAssembly is
 * off (node --jitless) or a file is missing, unreadable or corrupt; only an engine without SIMD
 * falls back to the scalar module.
 */
export function compileWasm(cap: string): CompiledWasm {
  const engine = wasmEngine();
  if (!engine) throw new Error('WebAssembly is not available in this process (it is off under node --jitless)');
  const dir = join(packageRoot, 'wasm');
  const scalarPath = join(dir, WASM_FILES.scalar);
  const simdPath = join(dir, WASM_FILES.simd128);
  let simd: WasmModule | undefined;
  let simdError: unknown;
  try {
    simd = compile(engine, simdPath);
  } catch (e) {
    // Only an engine without SIMD falls back to the scalar module; a missing, unreadable or
    // corrupt file is a broken package, which must not pass for an engine without SIMD.
    if (engineHasSimd(engine)) {
      throw new Error(`${simdPath} does not load: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    simdError = e;
  }
  const detectedIsa = simd ? 'simd128' : 'scalar';
  const availableIsas = simd ? ['scalar', 'simd128'] : ['scalar'];
  if (simd && cap !== 'scalar') return { module: simd, isa: 'simd128', detectedIsa, availableIsas, path: simdPath };
  try {
    return { module: compile(engine, scalarPath), isa: 'scalar', detectedIsa, availableIsas, path: scalarPath };
  } catch (e) {
    const why = simdError instanceof Error ? `; ${WASM_FILES.simd128}: ${simdError.message.split('\n')[0]}` : '';
    throw new Error(`no WebAssembly module loads from ${dir}: ${e instanceof Error ? e.message : String(e)}${why}`, {
      cause: e,
    });
  }
}
