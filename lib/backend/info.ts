/**
 * What a bug report needs to know of the running library: which backend and instruction set it
 * runs on, which binary loaded, and the package version.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { backend, nativeLoadError, wasmLoadError } from './index.js';
import { packageRoot, platformTuple } from './native.js';

/** What {@link backendInfo} reports. */
export interface BackendInfo {
  /**
   * The tier in use: `'native'` (the compiled addon), `'wasm'` (the same C++ core compiled to
   * WebAssembly, shipped in the package) or `'js'` (the TypeScript backend).
   */
  backend: 'native' | 'wasm' | 'js';
  /**
   * Instruction-set level of the kernels in use: `'avx512' | 'avx2' | 'neon' | 'scalar'` (native),
   * `'simd128' | 'scalar'` (wasm), or `'js'`.
   */
  isa: string;
  /** Best level this CPU (native) or JavaScript engine (wasm) supports, or `'js'`. */
  detectedIsa: string;
  /**
   * Every level this CPU and binary can run, lowest first, e.g. `['scalar', 'avx2', 'avx512']`:
   * the values `HDGLUE_MAX_ISA` may usefully take (on wasm, `['scalar', 'simd128']`, and only
   * `scalar` caps it). `['js']` on the TypeScript backend.
   */
  availableIsas: string[];
  /**
   * Threads one large native scan (Hamming, top-k) may use; set with HDGLUE_THREADS. 1 on the wasm
   * backend (HDGLUE_THREADS sizes its pool of async workers instead) and on js.
   */
  threads: number;
  /** Platform tuple, e.g. `linux-x64-glibc (node 20.20.2, napi 10)`. */
  platform: string;
  /** Version of the hdglue package in use, from its package.json. */
  version: string;
  /**
   * Absolute path of the file that loaded: on native a shipped prebuild
   * (`.../prebuilds/linux-x64/hdglue.glibc.node`) or a local compile (`.../build/Release/hdglue.node`);
   * on wasm the module (`.../wasm/hdglue-simd128.wasm`). Absent on the js backend.
   */
  binary?: string;
  /**
   * N-API version the loaded binary was built against (the runtime's own is in `platform`).
   * Native only.
   */
  napiVersion?: number;
  /** Why the native backend is not in use, when it was tried and failed. */
  nativeError?: string;
  /** Why the WebAssembly backend is not in use, when it was tried and failed. */
  wasmError?: string;
}

let version: string | undefined;

/**
 * Which backend and instruction set hdglue runs on here, which binary loaded, and the package
 * version: what a bug report needs. Loads the backend if not yet loaded (and so may emit the one
 * fallback warning).
 */
export function backendInfo(): BackendInfo {
  const be = backend();
  // Read once: the package.json next to the code that runs, not whatever `npm ls` resolves.
  version ??= (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
  const info: BackendInfo = {
    backend: be.name,
    isa: be.isa,
    detectedIsa: be.detectedIsa,
    availableIsas: [...be.availableIsas],
    threads: be.threads,
    platform: platformTuple(),
    version,
  };
  if (be.binary !== undefined) info.binary = be.binary;
  if (be.napiVersion !== undefined) info.napiVersion = be.napiVersion;
  const err = nativeLoadError();
  if (err !== undefined) info.nativeError = err instanceof Error ? err.message : String(err);
  const werr = wasmLoadError();
  if (werr !== undefined) info.wasmError = werr instanceof Error ? werr.message : String(werr);
  return info;
}
