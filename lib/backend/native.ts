/**
 * Loader of the native addon. The package root is fixed relative to this file (no upward
 * search, so another package's build can never be picked up), and node-gyp-build chooses
 * between a local build and the shipped prebuilds. A failure is returned, not thrown, with
 * the original error kept as `cause`, so the caller decides between falling back and failing.
 * @internal
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Backend, Kernels } from './types.js';

/** The raw addon's surface: the kernels plus its own report. Never exported from the package. */
interface RawAddon
  extends Kernels,
    Omit<
      Backend,
      'name' | 'isa' | 'detectedIsa' | 'threads' | 'availableIsas' | 'binary' | 'napiVersion' | keyof Kernels
    > {
  info(): { isa: string; detected: string; available: string[]; napiVersion: number; threads: number };
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
    const raw = require(binary) as RawAddon;
    const info = raw.info();
    const backend: Backend = {
      name: 'native',
      isa: info.isa,
      detectedIsa: info.detected,
      threads: info.threads,
      availableIsas: info.available,
      binary,
      napiVersion: info.napiVersion,
      randomHV: raw.randomHV,
      bind: raw.bind,
      hamming1xN: raw.hamming1xN,
      hammingMxN: raw.hammingMxN,
      topK: raw.topK,
      bundle: raw.bundle,
      bundleWeighted: raw.bundleWeighted,
      accAdd: raw.accAdd,
      threshold: raw.threshold,
      dotCounters: raw.dotCounters,
      permute: raw.permute,
      dotsOne: raw.dotsOne,
      rowAdd: raw.rowAdd,
      refineOnline: raw.refineOnline,
      bin: raw.bin,
      encodeLevels: raw.encodeLevels,
      project: raw.project,
      encodeLevelsAsync: raw.encodeLevelsAsync,
      projectAsync: raw.projectAsync,
      hamming1xNAsync: raw.hamming1xNAsync,
      hammingMxNAsync: raw.hammingMxNAsync,
      topKAsync: raw.topKAsync,
      bundleAsync: raw.bundleAsync,
      accAddAsync: raw.accAddAsync,
      dotCountersAsync: raw.dotCountersAsync,
    };
    return { ok: true, backend };
  } catch (error) {
    return { ok: false, error };
  }
}
