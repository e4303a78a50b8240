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

function compile(engine: WasmEngine, path: string): WasmModule {
  return new engine.Module(readFileSync(path));
}

/**
 * Compiles the best module this engine runs, or the scalar one when `cap` is 'scalar' (the
 * HDGLUE_MAX_ISA of the other tiers: any other level leaves the best). Throws when WebAssembly is
 * off (node --jitless) or the files are missing or unreadable.
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
