/**
 * Seeded, stratified row selection: the one place folds, validation splits and replay samples
 * are drawn from, so every caller shuffles the same way.
 */
import type { Label } from './label.js';
import { mulberry32 } from './rng.js';

/**
 * Each class's row indices (classes in first-seen order), shuffled by one seeded generator run
 * through the classes in turn: the basis of stratified folds and validation splits. @internal
 */
export function shuffledByClass(labels: readonly Label[], seed: number): number[][] {
  const byClass = new Map<Label, number[]>();
  labels.forEach((l, i) => {
    const rows = byClass.get(l);
    if (rows) rows.push(i);
    else byClass.set(l, [i]);
  });
  const next = mulberry32(seed);
  const out = [...byClass.values()];
  for (const rows of out) {
    for (let i = rows.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [rows[i], rows[j]] = [rows[j] as number, rows[i] as number];
    }
  }
  return out;
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
