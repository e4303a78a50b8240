/**
 * Loader of the native addon. The package root is fixed relative to this file (no upward
 * search, so another package's build can never be picked up), and node-gyp-build chooses
 * between a local build and the shipped prebuilds. A failure is returned, not thrown, with
 * the original error kept as `cause`, so the caller decides between falling back and failing.
 * @internal
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import {
  ASYNC_KERNEL_NAMES,
  type AsyncKernels,
  asyncName,
  type Backend,
  KERNEL_NAMES,
  type KernelName,
  type Kernels,
} from './types.js';

/** The raw addon's report of itself (its `info()`). */
interface AddonInfo {
  isa: string;
  detected: string;
  available: string[];
  napiVersion: number;
  threads: number;
}

/** Package root: this file is dist/backend/native.js (or lib/backend/native.ts under vitest). */
export const packageRoot: string = fileURLToPath(new URL('../../', import.meta.url));

/** What an attempt to load the addon gave. */
export type NativeLoad = { ok: true; backend: Backend } | { ok: false; error: unknown };

let tuple: string | undefined;

/** Platform tuple as prebuildify names its folders, for error messages (computed once: the report is slow). */
export function platformTuple(): string {
  if (tuple !== undefined) return tuple;
  const report = process.report?.getReport?.() as { header?: { glibcVersionRuntime?: string } } | undefined;
  const libc = process.platform === 'linux' ? (report?.header?.glibcVersionRuntime ? 'glibc' : 'musl') : '';
  tuple = `${process.platform}-${process.arch}${libc ? `-${libc}` : ''} (node ${process.versions.node}, napi ${process.versions.napi})`;
  return tuple;
}

/** Try to load the addon once; never throws. */
export function loadNative(): NativeLoad {
  try {
    const require = createRequire(import.meta.url);
    // resolve() then require(), rather than nodeGypBuild(dir), so the path of the file that
    // loaded can be reported: whether a local build/ or a shipped prebuild won matters when a
    // user reports a crash.
    const nodeGypBuild = require('node-gyp-build') as { resolve(dir: string): string };
    const binary = nodeGypBuild.resolve(packageRoot);
    const raw = require(binary) as Record<string, unknown>;
    const kernels = kernelsOf(raw, binary);
    const info = (raw.info as () => AddonInfo)();
    // Spread into a literal, which V8 keeps in fast mode; kernelsOf's keyed stores alone leave
    // a dictionary-mode object, slower to look kernels up in.
    const backend: Backend = {
      name: 'native',
      isa: info.isa,
      detectedIsa: info.detected,
      threads: info.threads,
      availableIsas: info.available,
      binary,
      napiVersion: info.napiVersion,
      ...kernels,
    };
    return { ok: true, backend };
  } catch (error) {
    return { ok: false, error };
  }
}

/**
 * The kernels and their async twins of a raw addon object, taken by the lists of types.ts. A
 * binary that lacks one (say, built from other sources than this package's) is refused with an
 * error naming the key, which the loader turns into the one fallback warning like any binary
 * that does not load, rather than a TypeError at the first call of the missing kernel.
 * @internal
 */
export function kernelsOf(raw: Record<string, unknown>, binary: string): Pick<Kernels, KernelName> & AsyncKernels {
  const out: Record<string, unknown> = {};
  const take = (key: string) => {
    const f = raw[key];
    if (typeof f !== 'function') {
      throw new Error(
        `the binary ${binary} lacks the kernel ${key}, so it was built from other sources than this hdglue`,
      );
    }
    out[key] = f;
  };
  for (const name of KERNEL_NAMES) take(name);
  for (const name of ASYNC_KERNEL_NAMES) take(asyncName(name));
  return out as Pick<Kernels, KernelName> & AsyncKernels;
}
