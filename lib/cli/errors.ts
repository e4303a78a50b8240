/**
 * How the CLI reports failures: a user's mistake (bad flag, missing or malformed file, unknown
 * member, corrupt model) is one line naming the file and the problem, exit code 2; anything else
 * is a bug in hdglue, reported with its stack, exit code 1. `--verbose` adds the stack to both.
 */

/** A mistake in how the CLI was called (unknown flag, missing value, bad combination). */
export class UsageError extends Error {
  /** Stable code, like the library's errors. */
  readonly code = 'ERR_HDGLUE_USAGE';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Exit code for a user's mistake. */
export const EXIT_USER = 2;
/** Exit code for an internal error. */
export const EXIT_BUG = 1;

// File-system errors a user can act on: the file is missing, unreadable, a directory, ...
const FS_CODES = new Set([
  'ENOENT',
  'EACCES',
  'EISDIR',
  'ENOTDIR',
  'EPERM',
  'EEXIST',
  'ENOSPC',
  'EROFS',
  'ELOOP',
  'ENAMETOOLONG',
]);

/** Whether an error is the user's to fix (exit 2) rather than a bug (exit 1). */
export function isUserError(e: unknown): boolean {
  if (e instanceof UsageError) return true;
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('ERR_HDGLUE_') || FS_CODES.has(code));
}

/** The one line printed for an error: file-system errors as "path: what", others by message. */
export function describeError(e: unknown): string {
  const err = e as { code?: string; path?: string; message?: string; syscall?: string };
  if (err && typeof err.code === 'string' && FS_CODES.has(err.code) && err.path) {
    const what: Record<string, string> = {
      ENOENT: 'no such file or directory',
      EACCES: 'permission denied',
      EISDIR: 'is a directory, not a file',
      ENOTDIR: 'a part of the path is not a directory',
      EPERM: 'operation not permitted',
      ENOSPC: 'no space left on the device',
      EROFS: 'read-only file system',
      EBUSY: 'busy (a mount point or a directory in use?)',
    };
    return `${err.path}: ${what[err.code] ?? err.message ?? err.code}`;
  }
  return (err?.message ?? String(e)).split('\n')[0] as string;
}
