/**
 * Stratified row selection: the one place folds, validation splits and replay samples are drawn
 * from, so every caller splits the same way.
 */
import type { Label } from './label.js';
import { mulberry32 } from './rng.js';

/**
 * Each class's row indices (classes in first-seen order), shuffled by one seeded generator run
 * through the classes in turn: the basis of stratified folds and validation splits. @internal
 */
export function shuffledByClass(labels: readonly Label[], seed: number): number[][] {
  const next = mulberry32(seed);
  const out = rowsByClass(labels);
  for (const rows of out) {
    for (let i = rows.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [rows[i], rows[j]] = [rows[j] as number, rows[i] as number];
    }
  }
  return out;
}

/** Row indices of a split: the rows to fit on and the rows held out, each in row order. */
export interface Split {
  fitRows: number[];
  valRows: number[];
}

/**
 * A seeded stratified hold-out: `fraction` of each class's rows (rounded, and at least one row of
 * a class is always kept for fitting), chosen by {@link shuffledByClass}; the rest for fitting.
 * A fraction of 0 holds nothing out.
 */
export function stratifiedSplit(labels: readonly Label[], fraction: number, seed: number): Split {
  if (fraction === 0) return { fitRows: labels.map((_, i) => i), valRows: [] };
  const val = new Set<number>();
  for (const rows of shuffledByClass(labels, seed)) {
    const k = Math.min(rows.length - 1, Math.round(fraction * rows.length));
    for (const r of rows.slice(0, k)) val.add(r);
  }
  return splitRows(labels.length, val);
}

/**
 * A deterministic stratified hold-out without a seed: each class's `nth`, `2 * nth`, ... row (in
 * row order) held out, the rest for fitting.
 */
export function everyNthSplit(labels: readonly Label[], nth: number): Split {
  const val = new Set<number>();
  for (const rows of rowsByClass(labels)) {
    for (let k = nth - 1; k < rows.length; k += nth) val.add(rows[k] as number);
  }
  return splitRows(labels.length, val);
}

/** Stratified folds: each class's rows shuffled (seeded) and dealt round-robin. */
export function assignFolds(labels: readonly Label[], k: number, seed: number): Int32Array {
  const fold = new Int32Array(labels.length);
  let offset = 0;
  for (const rows of shuffledByClass(labels, seed)) {
    // Continue the deal where the last class stopped, so small classes do not all land in fold 0.
    rows.forEach((r, i) => {
      fold[r] = (offset + i) % k;
    });
    offset = (offset + rows.length) % k;
  }
  return fold;
}

/**
 * A stratified seeded sample of `size` row indices (all rows when there are no more): each
 * class's rows shuffled by {@link shuffledByClass}, then taken round-robin across the classes,
 * so every class is represented as evenly as its rows allow. Returned in ascending order. @internal
 */
export function stratifiedSample(labels: readonly Label[], size: number, seed: number): number[] {
  if (size >= labels.length) return labels.map((_, i) => i);
  const pools = shuffledByClass(labels, seed);
  const out: number[] = [];
  for (let round = 0; out.length < size; round++) {
    for (const rows of pools) {
      if (round < rows.length && out.length < size) out.push(rows[round] as number);
    }
  }
  return out.sort((a, b) => a - b);
}

// Each class's row indices in row order, classes in first-seen order.
function rowsByClass(labels: readonly Label[]): number[][] {
  const byClass = new Map<Label, number[]>();
  labels.forEach((l, i) => {
    const rows = byClass.get(l);
    if (rows) rows.push(i);
    else byClass.set(l, [i]);
  });
  return [...byClass.values()];
}

// Rows 0..n-1 parted into those in `val` and the others, each in row order.
function splitRows(n: number, val: ReadonlySet<number>): Split {
  const fitRows: number[] = [];
  const valRows: number[] = [];
  for (let i = 0; i < n; i++) (val.has(i) ? valRows : fitRows).push(i);
  return { fitRows, valRows };
}
