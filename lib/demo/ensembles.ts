/**
 * The plain ensembles every accuracy table shows beside the glue: a majority vote of the
 * networks' top classes and the class of largest mean probability, both from the networks'
 * probabilities (n rows of k classes each), with argmax's first-on-ties rule.
 */
import { argmaxAt } from './argmax.js';

/**
 * Majority vote of the members' top classes for n rows of k classes. A tie (with three members:
 * three different votes) goes to the tied class with the largest summed probability, so the
 * rule does not favour small class indices.
 */
export function majorityVote(probs: readonly (Float32Array | Float64Array)[], n: number, k: number): Int32Array {
  const out = new Int32Array(n);
  const votes = new Int32Array(k);
  for (let r = 0; r < n; r++) {
    votes.fill(0);
    for (const p of probs) votes[argmaxAt(p, r * k, k)] = (votes[argmaxAt(p, r * k, k)] as number) + 1;
    let top = 0;
    for (let c = 0; c < k; c++) top = Math.max(top, votes[c] as number);
    let best = -1;
    let bestSum = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < k; c++) {
      if (votes[c] !== top) continue;
      let s = 0;
      for (const p of probs) s += p[r * k + c] as number;
      if (s > bestSum) {
        bestSum = s;
        best = c;
      }
    }
    out[r] = best;
  }
  return out;
}

/** The class of largest mean probability over the members, for n rows of k classes. */
export function meanProbability(probs: readonly (Float32Array | Float64Array)[], n: number, k: number): Int32Array {
  const sum = new Float64Array(n * k);
  for (const p of probs) for (let j = 0; j < sum.length; j++) sum[j] = (sum[j] as number) + (p[j] as number);
  return Int32Array.from({ length: n }, (_, r) => argmaxAt(sum, r * k, k));
}

/**
 * The demo's majority vote (its README table): as {@link majorityVote}, but a tie goes to the
 * smallest class index. Kept apart because the demo's published figures use this rule.
 */
export function majorityVoteLowestTie(
  probs: readonly (Float32Array | Float64Array)[],
  n: number,
  k: number,
): Int32Array {
  const out = new Int32Array(n);
  const votes = new Int32Array(k);
  for (let r = 0; r < n; r++) {
    votes.fill(0);
    for (const p of probs) {
      const c = argmaxAt(p, r * k, k);
      votes[c] = (votes[c] as number) + 1;
    }
    let best = 0;
    for (let c = 1; c < k; c++) if ((votes[c] as number) > (votes[best] as number)) best = c;
    out[r] = best;
  }
  return out;
}
