/**
 * What `hdglue fit` reports instead of a training accuracy for the nearest readout. That readout
 * stores every training row, so each one finds itself at distance 0: its training accuracy is
 * about 100 % whatever the data, and measuring it scans n rows for each of n rows (two minutes at
 * 60,000 rows). Instead a seeded sample of at most {@link HELD_OUT_ROWS} training rows is scored
 * by glues fitted without them: cost about {@link HELD_OUT_ROWS} x n distances, linear in n, and
 * a figure that says something about new data.
 */
import { mulberry32 } from '../rng.js';

/** Most training rows the estimate scores. */
export const HELD_OUT_ROWS = 1000;

/**
 * Disjoint groups of positions in `0..n-1` to hold out one at a time: a seeded sample of
 * `min(n, max)` positions, cut into groups of at most a fifth of `n`, so that every glue fitted
 * for the estimate keeps at least four fifths of the rows (with n >= 5,000 that is one group,
 * one refit). Empty when `n < 2` (nothing would be left to fit on).
 */
export function heldOutGroups(n: number, seed: number, max: number = HELD_OUT_ROWS): number[][] {
  if (n < 2) return [];
  const m = Math.min(n, max);
  // A partial Fisher-Yates shuffle: only the first m positions are drawn.
  const order = Array.from({ length: n }, (_, i) => i);
  const next = mulberry32(seed);
  for (let i = 0; i < m; i++) {
    const j = i + Math.floor(next() * (n - i));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  const size = Math.max(1, Math.floor(n / 5));
  const groups: number[][] = [];
  for (let at = 0; at < m; at += size) groups.push(order.slice(at, Math.min(m, at + size)).sort((a, b) => a - b));
  return groups;
}
