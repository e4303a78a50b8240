/**
 * The WebAssembly backend's sync kernels over one instance, assembled from the files that hold
 * them by job; typing the object as {@link Kernels} makes the compiler refuse a missing one.
 * @internal
 */
import type { Kernels } from '../types.js';
import type { WasmCore } from './core.js';
import { counterKernels } from './kernels-counters.js';
import { encodeKernels } from './kernels-encode.js';
import { hvKernels } from './kernels-hv.js';

/** Every kernel, run by the module instance of `core`. */
export function wasmKernels(core: WasmCore): Kernels {
  return { ...hvKernels(core), ...counterKernels(core), ...encodeKernels(core) };
}
