/**
 * The predicted class of a row of scores is its largest score, the first on ties: one rule for the
 * networks' accuracy, the ensembles and the logistic baseline of `npm run accuracy:large`.
 */

/** Index of the largest of the `k` scores at `at` (the first on ties). */
export function argmaxAt(p: Float32Array | Float64Array, at: number, k: number): number {
  let best = 0;
  for (let c = 1; c < k; c++) if ((p[at + c] as number) > (p[at + best] as number)) best = c;
  return best;
}

/** Fraction of rows of an n x k score matrix whose largest score (first on ties) is at the label. */
export function argmaxAccuracy(scores: Float32Array | Float64Array, y: ArrayLike<number>, k: number): number {
  let ok = 0;
  for (let r = 0; r < y.length; r++) if (argmaxAt(scores, r * k, k) === y[r]) ok++;
  return ok / y.length;
}
