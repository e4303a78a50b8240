/**
 * Placing a call's arrays in the module's arena, shared by the kernel files. Long inputs are
 * streamed through in row chunks (see {@link CHUNK_BYTES}), so a scan of any size needs only a
 * chunk's room in linear memory and each chunk is still in cache when the kernel reads it.
 * @internal
 */
import { ErrorCode, rangeError } from '../../errors.js';
import { aligned, type Typed, type WasmCore } from './core.js';

/**
 * Bytes of streamed rows copied in per kernel call: large enough that the per-call overhead
 * (a few hundred nanoseconds) vanishes, small enough to stay in a core's L2 between the copy and
 * the kernel's read.
 */
export const CHUNK_BYTES = 1 << 18;

/** Refuses an array shorter than a call needs (the other backends would read past its end). */
export function need(a: Typed, count: number, name: string): void {
  if (a.length < count) {
    throw rangeError(ErrorCode.SHAPE, `${name} has ${a.length} entries but the call needs ${count}`);
  }
}

/** Addresses of consecutive 16-byte-aligned blocks of the given byte sizes, in one arena. */
export function place(core: WasmCore, sizes: readonly number[]): number[] {
  let total = 0;
  const offsets = sizes.map((s) => {
    const at = total;
    total += aligned(s);
    return at;
  });
  const base = core.arena(total);
  return offsets.map((o) => base + o);
}

/** Rows per chunk for rows of `rowBytes` bytes: at least one, at most `n`. */
export function chunkRows(rowBytes: number, n: number): number {
  return Math.max(1, Math.min(n, Math.floor(CHUNK_BYTES / Math.max(1, rowBytes))));
}

/** A view of `count` elements of `a` from element `at`, without copying. */
export function part<T extends Typed>(a: T, at: number, count: number): T {
  return a.subarray(at, at + count) as T;
}
