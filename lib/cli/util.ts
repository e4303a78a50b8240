/** Small helpers shared by the CLI commands: output sinks and numeric flag parsing. */
import { UsageError } from './errors.js';

/** Where a command prints: stdout for results, stderr for progress and notices. */
export interface Out {
  log(line: string): void;
  err(line: string): void;
  /** Whether stderr is a terminal (progress bars are drawn only then). */
  tty: boolean;
}

/** An integer flag in [min, max], or `dflt` when absent. */
export function intFlag(v: string | undefined, name: string, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  return n;
}

/** A number flag in [min, max], or `dflt` when absent. */
export function numberFlag(v: string | undefined, name: string, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(`${name} must be a number from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  return n;
}

/** A CSV field: quoted when it holds a comma, quote or line break. */
export function csvField(v: string | number): string {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
