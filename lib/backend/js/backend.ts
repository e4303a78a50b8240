/**
 * The TypeScript backend: its kernels, plus async twins that run them on a later turn. The twins
 * are generated from the list of async kernels (lib/backend/types.ts), except the encoders',
 * which copy their input first.
 * @internal
 */
import { typeError } from '../../errors.js';
import { detachedError, RESIZABLE_MESSAGE } from '../async-errors.js';
import { ASYNC_KERNEL_NAMES, type AsyncKernels, asyncName, type Backend } from '../types.js';
import { jsKernels } from './kernels.js';

/** The async twins that copy their input before deferring; written out below. */
type Copying = 'encodeLevelsAsync' | 'projectAsync';

/** The async twins that only defer: `<name>Async(...a)` runs `<name>(...a)` on a later turn. */
function deferringTwins(): Omit<AsyncKernels, Copying> {
  const twins: Record<string, unknown> = {};
  for (const name of ASYNC_KERNEL_NAMES) {
    if (name === 'encodeLevels' || name === 'project') continue;
    const run = jsKernels[name] as (...args: unknown[]) => unknown;
    twins[asyncName(name)] = (...a: unknown[]) => deferred(a, () => run(...a));
  }
  return twins as Omit<AsyncKernels, Copying>;
}

/** The TypeScript backend: the kernels, with async twins that yield once before running. */
export const jsBackend: Backend = {
  ...jsKernels,
  name: 'js',
  isa: 'js',
  detectedIsa: 'js',
  threads: 1,
  availableIsas: ['js'],
  ...deferringTwins(),
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
