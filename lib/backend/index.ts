/**
 * Backend choice, in three tiers: the native addon, then the WebAssembly core, then the
 * TypeScript kernels, all bit-identical. `HDGLUE_BACKEND=native|wasm|js` forces one (`native` and
 * `wasm` fail loudly rather than falling back); unset, the first tier that loads is used, and
 * landing below native emits exactly one `process.emitWarning` with a code naming the tier.
 * @internal
 */
import { ErrorCode, HdglueError } from '../errors.js';
import { jsBackend } from './js/backend.js';
import { loadNative, platformTuple } from './native.js';
import type { Backend } from './types.js';
import { loadWasm } from './wasm/backend.js';

// Re-exported so lib/core, the tests and the benchmarks keep taking them from the backend's entry.
export { detachedError, RESIZABLE_MESSAGE } from './async-errors.js';
export { jsBackend } from './js/backend.js';

// simd128 is the WebAssembly module's level (backendInfo().availableIsas lists it there); as a cap
// on native it sorts above every CPU level, so it caps nothing, as avx2 caps nothing on wasm.
const ISA_NAMES = ['scalar', 'avx2', 'avx512', 'neon', 'simd128'];

// npm 11 runs a dependency's install script only while its allowScripts policy lets it (with a
// notice for unreviewed packages, not at all for denied ones or under strict-allow-scripts).
const ALLOW = 'on npm 11+, first allow its install script: npm install-scripts approve hdglue';

let chosen: Backend | undefined;
let loadError: unknown;
let wasmError: unknown;

/** Why the native backend is not in use, if it was tried and failed. @internal */
export function nativeLoadError(): unknown {
  return loadError;
}

/** Why the WebAssembly backend is not in use, if it was tried and failed. @internal */
export function wasmLoadError(): unknown {
  return wasmError;
}

/** The first line of an error's message. */
function firstLine(e: unknown): string {
  return e instanceof Error ? (e.message.split('\n')[0] ?? '') : String(e);
}

/** The backend in use, chosen on first call. @internal */
export function backend(): Backend {
  if (chosen) return chosen;
  const want = process.env.HDGLUE_BACKEND ?? '';
  const cap = process.env.HDGLUE_MAX_ISA ?? '';
  const threads = process.env.HDGLUE_THREADS ?? '';
  if (threads !== '' && !/^([1-9]|[1-5][0-9]|6[0-4])$/.test(threads)) {
    throw new HdglueError(ErrorCode.INVALID_ENV, `HDGLUE_THREADS=${threads} is not an integer in [1, 64]`);
  }
  if (cap !== '' && !ISA_NAMES.includes(cap)) {
    throw new HdglueError(
      ErrorCode.INVALID_ENV,
      `HDGLUE_MAX_ISA=${cap} is not one of ${ISA_NAMES.join(', ')}; unset it to use the best level this CPU has`,
    );
  }
  if (want === 'js') {
    chosen = jsBackend;
    return chosen;
  }
  if (want !== '' && want !== 'native' && want !== 'wasm') {
    throw new HdglueError(
      ErrorCode.INVALID_ENV,
      `HDGLUE_BACKEND=${want} is not one of native, wasm, js; unset it to choose automatically`,
    );
  }
  if (want === 'wasm') {
    const wasm = loadWasm(cap);
    if (wasm.ok) {
      chosen = wasm.backend;
      return chosen;
    }
    wasmError = wasm.error;
    throw new HdglueError(
      ErrorCode.WASM_UNAVAILABLE,
      `HDGLUE_BACKEND=wasm but the WebAssembly backend does not load: ${firstLine(wasm.error)}. ` +
        'The package ships it in its wasm/ folder (a checkout builds it with npm run build:wasm); unset HDGLUE_BACKEND to choose automatically.',
      { cause: wasm.error },
    );
  }
  const load = loadNative();
  if (load.ok) {
    chosen = load.backend;
    return chosen;
  }
  loadError = load.error;
  const reason = firstLine(load.error);
  if (want === 'native') {
    throw new HdglueError(
      ErrorCode.NATIVE_UNAVAILABLE,
      `HDGLUE_BACKEND=native but no hdglue binary loads for ${platformTuple()}: ${reason}. ` +
        `Compile one: with a C++ compiler, make and python3 installed, run npm rebuild hdglue --build-from-source (${ALLOW}); or unset HDGLUE_BACKEND to use the TypeScript backend.`,
      { cause: load.error },
    );
  }
  const compile = `To compile a native one: with a C++ compiler, make and python3 installed, npm rebuild hdglue --build-from-source (${ALLOW}).`;
  const wasm = loadWasm(cap);
  if (wasm.ok) {
    process.emitWarning(
      `hdglue: no native binary loads for ${platformTuple()} (${reason}); using the WebAssembly backend (${wasm.backend.isa}), which gives the same results more slowly. ${compile}`,
      { code: ErrorCode.FALLBACK_WASM },
    );
    chosen = wasm.backend;
    return chosen;
  }
  wasmError = wasm.error;
  process.emitWarning(
    `hdglue: no native binary loads for ${platformTuple()} (${reason}) and the WebAssembly backend does not load (${firstLine(wasm.error)}); using the TypeScript backend, which gives the same results more slowly. ${compile}`,
    { code: ErrorCode.FALLBACK },
  );
  chosen = jsBackend;
  return chosen;
}
