/**
 * The WebAssembly backend: the C++ core compiled to wasm32 (scripts/build-wasm.mjs), the tier
 * between the native addon and the TypeScript kernels. Sync kernels run on one instance in this
 * thread; their async twins run in a pool of workers (pool.ts). Like the addon's loader, a
 * failure is returned, not thrown, so the caller decides between falling back and failing.
 * @internal
 */
import { ASYNC_KERNEL_NAMES, type AsyncKernels, asyncName, type Backend } from '../types.js';
import { WasmCore } from './core.js';
import { wasmKernels } from './kernels.js';
import { compileWasm } from './module.js';
import { WasmPool } from './pool.js';

/** What an attempt to load the WebAssembly backend gave. */
export type WasmLoad = { ok: true; backend: Backend } | { ok: false; error: unknown };

/** The async twins, each sending its call to the pool (started on first use). */
function asyncTwins(pool: () => WasmPool): AsyncKernels {
  const twins: Record<string, unknown> = {};
  for (const name of ASYNC_KERNEL_NAMES) twins[asyncName(name)] = (...a: unknown[]) => pool().run(name, a);
  return twins as AsyncKernels;
}

/**
 * Compiles and instantiates the module (the scalar one when `cap` is 'scalar'); never throws.
 * The first instance is made here, so a module that compiles but cannot run is a failed load.
 */
export function loadWasm(cap: string): WasmLoad {
  try {
    const compiled = compileWasm(cap);
    const core = new WasmCore(compiled.module);
    let pool: WasmPool | undefined;
    const backend: Backend = {
      name: 'wasm',
      isa: core.isa,
      detectedIsa: compiled.detectedIsa,
      threads: 1,
      availableIsas: compiled.availableIsas,
      binary: compiled.path,
      ...wasmKernels(core),
      ...asyncTwins(() => {
        pool ??= new WasmPool(compiled.module);
        return pool;
      }),
    };
    return { ok: true, backend };
  } catch (error) {
    return { ok: false, error };
  }
}
