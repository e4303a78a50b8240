/**
 * Backend choice. `HDGLUE_BACKEND=js|native` forces one (`native` fails loudly rather than
 * falling back); unset, the native addon is tried and, if it does not load, the TypeScript
 * backend is used with exactly one `process.emitWarning` carrying a code.
 * @internal
 */
import { ErrorCode, HdglueError, typeError } from '../errors.js';
import { bin, encodeLevels, project } from './js/encode.js';
import { jsKernels as coreKernels } from './js/kernels.js';
import { loadNative, platformTuple } from './native.js';
import type { Backend, Kernels } from './types.js';

const ISA_NAMES = ['scalar', 'avx2', 'avx512', 'neon'];

const jsKernels: Kernels = { ...coreKernels, bin, encodeLevels, project };

/** The TypeScript backend: the kernels, with async twins that yield once before running. */
export const jsBackend: Backend = {
  ...jsKernels,
  name: 'js',
  isa: 'js',
  detectedIsa: 'js',
  threads: 1,
  availableIsas: ['js'],
  hamming1xNAsync: (...a) => deferred(a, () => jsKernels.hamming1xN(...a)),
  hammingMxNAsync: (...a) => deferred(a, () => jsKernels.hammingMxN(...a)),
  topKAsync: (...a) => deferred(a, () => jsKernels.topK(...a)),
  bundleAsync: (...a) => deferred(a, () => jsKernels.bundle(...a)),
  accAddAsync: (...a) => deferred(a, () => jsKernels.accAdd(...a)),
  dotCountersAsync: (...a) => deferred(a, () => jsKernels.dotCounters(...a)),
  // The encoders read their input when called, as the addon does (it copies it before queueing):
  // a caller's later writes change neither backend's result.
  encodeLevelsAsync: (...a) => {
    const now: typeof a = [...a];
    now[0] = a[0].slice();
    return deferred(a, () => jsKernels.encodeLevels(...now));
  },
  projectAsync: (...a) => {
    const now: typeof a = [...a];
    now[0] = a[0].slice();
    return deferred(a, () => jsKernels.project(...now));
  },
};

// A promise that settles on a later turn, like the native worker's, so callers cannot come to
// rely on synchronous completion. As on the native side, an array that was detached, transferred
// or resized in between fails the call with ERR_HDGLUE_DETACHED instead of giving garbage.
function deferred<T>(args: readonly unknown[], work: () => T): Promise<T> {
  const views = args.filter((a): a is ArrayBufferView => ArrayBuffer.isView(a));
  // The native addon must refuse these (a shrink decommits memory its worker reads); this
  // backend refuses them too, with the same error, so behaviour does not depend on the backend.
  if (views.some((v) => (v.buffer as { resizable?: boolean }).resizable === true)) throw typeError(RESIZABLE_MESSAGE);
  const sizes = views.map((v) => v.byteLength);
  return new Promise((resolve, reject) => {
    setImmediate(() => {
      try {
        if (views.some((v, i) => v.byteLength !== sizes[i])) throw detachedError();
        resolve(work());
      } catch (e) {
        reject(e);
      }
    });
  });
}

// npm 11 runs a dependency's install script only while its allowScripts policy lets it (with a
// notice for unreviewed packages, not at all for denied ones or under strict-allow-scripts).
const ALLOW = 'on npm 11+, first allow its install script: npm install-scripts approve hdglue';
/** The error of an array detached, transferred or resized under an async call (as the addon words it). @internal */
export function detachedError(): Error & { code: ErrorCode } {
  return Object.assign(
    new Error(
      'an array passed to an async hdglue call was detached, transferred or resized before the call finished; its results are discarded',
    ),
    { code: ErrorCode.DETACHED },
  );
}

/** Word for word the addon's kResizableMessage (native/addon/worker.h). @internal */
export const RESIZABLE_MESSAGE =
  'an array passed to an async hdglue call is a view of a resizable ArrayBuffer, which could shrink under the running call; pass a copy (for example .slice())';

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
