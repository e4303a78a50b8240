/** Small helpers shared by the CLI commands: output sinks and numeric flag parsing. */
import { UsageError } from './errors.js';

/** Where a command prints: stdout for results, stderr for progress and notices. */
export interface Out {
  log(line: string): void;
  err(line: string): void;
  /** Whether stderr is a terminal (progress bars are drawn only then). */
  tty: boolean;
}

/**
 * Printed wherever a CV accuracy from `fit --cv` is shown: the folds score embeddings of rows
 * the networks were most likely trained on, which are cleaner than their embeddings of new rows,
 * so the figure overstates test accuracy (the demo's networks 0..4: 98.97 % CV, 98.70 % test).
 * The CLI cannot know how the embeddings were made, hence "likely".
 */
export const CV_CAVEAT =
  'note: the CV folds score rows the networks were likely trained on (their embeddings of them are too clean): expect test accuracy below this unless the embeddings are held-out or out-of-fold';

/** The same caveat for the nearest readout's held-out estimate, whose rows the networks saw too. */
export const HELD_OUT_CAVEAT =
  'note: held out from the glue, not from the networks, which likely trained on these rows: like a CV figure, this can overstate test accuracy';

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
