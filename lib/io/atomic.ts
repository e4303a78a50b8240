/**
 * Atomic file writes, shared by the model files and the `.npy` writer: the bytes go to a temporary
 * file in the same directory, are flushed, then renamed over the target, so a crash never leaves a
 * half-written file under the real name (test/durability.test.ts kills writers to check it).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Write bytes to `path` atomically (temporary file in the same directory, fsync, rename). */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  // pid alone is shared by worker threads: a random suffix keeps concurrent saves apart.
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx');
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
    syncDirectory(dirname(path));
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    // Name the destination, not the temporary file the caller never heard of; keep the errno.
    const err = e as NodeJS.ErrnoException;
    throw Object.assign(new Error(`${path}: cannot write: ${err.code ?? err.message}`, { cause: e }), {
      code: err.code,
      path,
    });
  }
}

// The rename is durable only once the directory entry is on disk. Directories cannot be opened
// for syncing everywhere (Windows), where this is skipped: the file itself is already synced.
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // not supported on this platform or file system
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
