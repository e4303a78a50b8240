/**
 * Backend choice. `HDGLUE_BACKEND=js|native` forces one (`native` fails loudly rather than
 * falling back); unset, the native addon is tried and, if it does not load, the TypeScript
 * backend is used with exactly one `process.emitWarning` carrying a code.
 * @internal
 */
import { ErrorCode, HdglueError } from '../errors.js';
import { jsBackend } from './js/backend.js';
import { loadNative, platformTuple } from './native.js';
import type { Backend } from './types.js';

// Re-exported so lib/core, the tests and the benchmarks keep taking them from the backend's entry.
export { detachedError, RESIZABLE_MESSAGE } from './async-errors.js';
export { jsBackend } from './js/backend.js';

const ISA_NAMES = ['scalar', 'avx2', 'avx512', 'neon'];

// npm 11 runs a dependency's install script only while its allowScripts policy lets it (with a
// notice for unreviewed packages, not at all for denied ones or under strict-allow-scripts).
const ALLOW = 'on npm 11+, first allow its install script: npm install-scripts approve hdglue';

let chosen: Backend | undefined;
let loadError: unknown;

/** Why the native backend is not in use, if it was tried and failed. @internal */
export function nativeLoadError(): unknown {
  return loadError;
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
  if (want !== '' && want !== 'native') {
    throw new HdglueError(
      ErrorCode.INVALID_ENV,
      `HDGLUE_BACKEND=${want} is not one of js, native; unset it to choose automatically`,
    );
  }
  const load = loadNative();
  if (load.ok) {
    chosen = load.backend;
    return chosen;
  }
  loadError = load.error;
  const reason = load.error instanceof Error ? load.error.message.split('\n')[0] : String(load.error);
  if (want === 'native') {
    throw new HdglueError(
      ErrorCode.NATIVE_UNAVAILABLE,
      `HDGLUE_BACKEND=native but no hdglue binary loads for ${platformTuple()}: ${reason}. ` +
        `Compile one: with a C++ compiler, make and python3 installed, run npm rebuild hdglue --build-from-source (${ALLOW}); or unset HDGLUE_BACKEND to use the TypeScript backend.`,
      { cause: load.error },
    );
  }
  process.emitWarning(
    `hdglue: no native binary loads for ${platformTuple()} (${reason}); using the TypeScript backend, which gives the same results more slowly. ` +
      `To compile one: with a C++ compiler, make and python3 installed, npm rebuild hdglue --build-from-source (${ALLOW}).`,
    { code: ErrorCode.FALLBACK },
  );
  chosen = jsBackend;
  return chosen;
}
