/**
 * The class a row of scores picks, one rule for prediction and for refine's error count (the
 * first of equal scores wins, so ties go to the class seen first).
 *
 * @internal
 */

/** Index of the largest of the `c` scores at `s[at..]` (the first on ties). */
export function argmax(s: Float64Array, at: number, c: number): number {
  let best = 0;
  for (let k = 1; k < c; k++) if ((s[at + k] as number) > (s[at + best] as number)) best = k;
  return best;
}

/** Index of the largest of the `c` scores at `s[at..]` other than `skip` (-1 if there is none). */
export function argmaxExcept(s: Float64Array, at: number, c: number, skip: number): number {
  let best = -1;
  for (let k = 0; k < c; k++)
    if (k !== skip && (best < 0 || (s[at + k] as number) > (s[at + best] as number))) best = k;
  return best;
}
