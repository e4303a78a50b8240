/**
 * How a glue's members' scores become one label, over the members present in a call. Each rule
 * is honestly labelled:
 * - `'vote'` (default): each present member scores every class; scores are z-scored per query
 *   across that member's classes (so members with different similarity scales count alike),
 *   multiplied by the member's weight and summed; the largest total wins.
 * - `'concat'`: one HIL over the members' hypervectors concatenated in member order, trained by
 *   the glue's fit; it needs every member's input.
 * - `'tutorial'`: the seed tutorial's algebra: G = bundle over members of bind(member vector,
 *   member HIL's symbolic vector); a query is bundle over members of bind(member vector,
 *   encoded input); bind(G, query) is compared with every class vector. It is kept so the
 *   tutorial can be run as written; it scores far below `'vote'` on real data.
 */

import { HVBatch } from '../core/hv.js';
import { bind, bundle, concat, hammingMatrix, randomHV, type TieRule } from '../core/ops.js';
import { ErrorCode, HdglueError, rangeError } from '../errors.js';
import type { Label } from '../label.js';
import { checkLimit, LIMITS } from '../validate.js';
import { argmax } from './argmax.js';
import { HIL, type PredictOptions, type RefineOptions } from './hil.js';

/** How the members' scores become one label. */
export type Consensus = 'vote' | 'tutorial' | 'concat';

/** A present member as a consensus sees it: its layer, its weight and its encoded inputs. */
export interface Ballot {
  name: string;
  hil: HIL;
  weight: number;
  hvs: HVBatch;
}

/** The 'concat' consensus's one HIL over the members' concatenated hypervectors, in `names` order. */
export interface JointLayer {
  names: string[];
  hil: HIL;
}

/** What `HDGlue.explain` reports for one input. */
export interface Explanation {
  /** The consensus label. */
  label: Label;
  /** Members whose input was present and that voted (weight > 0). */
  used: string[];
  /** Members with no input in this call. */
  missing: string[];
  /** Per present member: its scores, its own vote, its weight, and its share of the winner's total. */
  members: { name: string; weight: number; vote: Label; scores: Map<Label, number>; share: number }[];
  /** Consensus total per label. */
  totals: Map<Label, number>;
}

/** A consensus name, checked. */
export function checkConsensus(s: unknown): Consensus {
  if (s === 'vote' || s === 'tutorial' || s === 'concat') return s;
  throw rangeError(ErrorCode.OUT_OF_RANGE, `consensus must be 'vote', 'tutorial' or 'concat', got ${String(s)}`);
}

/**
 * The z-scored vote's labels for the batch the ballots hold. `own`, when given, receives each
 * voting member's own labels (first-best of its scores, as `HIL.predict` picks).
 */
export function voteLabels(present: readonly Ballot[], o: PredictOptions, own?: Map<string, Label[]>): Label[] {
  // Candidates are the classes of the members that vote here (present, weight > 0), so an
  // absent member's classes can never win by default.
  const { voters, labels } = candidates(present);
  const col = new Map(labels.map((l, i) => [l, i]));
  const n = (present[0] as Ballot).hvs.count;
  checkLimit(n * labels.length, LIMITS.scores, `rows * classes (${n} * ${labels.length}) scores`, 'predict in parts');
  const totals = new Float64Array(n * labels.length);
  for (const m of voters) {
    const mine = m.hil.labels;
    const cols = mine.map((l) => col.get(l) as number);
    const s = m.hil.scores(m.hvs, o.metric === undefined ? {} : { metric: o.metric });
    const c = mine.length;
    const z = new Float64Array(c);
    for (let r = 0; r < n; r++) {
      zscoreInto(s, r * c, c, z);
      for (let k = 0; k < c; k++) totals[r * labels.length + (cols[k] as number)] += m.weight * (z[k] as number);
    }
    if (own)
      own.set(
        m.name,
        Array.from({ length: n }, (_, r) => mine[argmax(s, r * c, c)] as Label),
      );
  }
  return Array.from({ length: n }, (_, r) => labels[argmax(totals, r * labels.length, labels.length)] as Label);
}

/**
 * Why the vote decides what it does for a batch of one row: each voter's scores, own vote and
 * signed share of the winner's total. `missing` names the members that had no input.
 */
export function explainVote(present: readonly Ballot[], missing: string[]): Explanation {
  const { voters, labels } = candidates(present);
  const col = new Map(labels.map((l, i) => [l, i]));
  const totals = new Float64Array(labels.length);
  const members: Explanation['members'] = [];
  const zs: Float64Array[] = [];
  for (const m of voters) {
    const s = m.hil.scores(m.hvs);
    const z = zscoreInto(s, 0, s.length, new Float64Array(s.length));
    const own = m.hil.labels;
    own.forEach((l, k) => {
      totals[col.get(l) as number] += m.weight * (z[k] as number);
    });
    const best = argmax(s, 0, own.length);
    members.push({
      name: m.name,
      weight: m.weight,
      vote: own[best] as Label,
      scores: new Map(own.map((l, k) => [l, s[k] as number])),
      share: 0,
    });
    zs.push(z);
  }
  const win = argmax(totals, 0, totals.length);
  const label = labels[win] as Label;
  // Each member's signed contribution to the winner's total, as a share of all contributions.
  const contrib = voters.map((m, i) => {
    const k = m.hil.labels.indexOf(label);
    return k >= 0 ? m.weight * ((zs[i] as Float64Array)[k] as number) : 0;
  });
  const denom = contrib.reduce((a, c) => a + Math.abs(c), 0);
  members.forEach((mm, i) => {
    mm.share = denom > 0 ? (contrib[i] as number) / denom : 0;
  });
  return {
    label,
    used: voters.map((m) => m.name),
    missing,
    members,
    totals: new Map(labels.map((l, i) => [l, totals[i] as number])),
  };
}

/** The 'concat' consensus's labels: the joint layer over every member's encoded inputs. */
export function concatLabels(
  joint: JointLayer | null,
  encoded: ReadonlyMap<string, HVBatch>,
  o: PredictOptions,
): Label[] {
  if (!joint) {
    throw new HdglueError(
      ErrorCode.NO_INPUT,
      "the 'concat' consensus needs fit() on a glue created with consensus 'concat' (members changed since, or never fit)",
    );
  }
  const missing = joint.names.filter((n) => !encoded.has(n));
  if (missing.length) {
    throw new HdglueError(
      ErrorCode.NO_INPUT,
      `the 'concat' consensus needs every member's input; missing: ${missing.map((n) => JSON.stringify(n)).join(', ')}`,
    );
  }
  return joint.hil.predict(
    concat(joint.names.map((n) => encoded.get(n) as HVBatch)),
    o.metric === undefined ? {} : { metric: o.metric },
  );
}

/**
 * The 'concat' rule's joint layer over every member's encoded rows, concatenated in `names`
 * order (the bit layout it predicts with): a fresh HIL with the tie, metric and readout of `like`
 * (the first member's layer) and the glue's seed, fitted, then corrected with `refine` if given
 * (prototype readout only).
 */
export function fitJoint(
  names: string[],
  encoded: ReadonlyMap<string, HVBatch>,
  like: HIL,
  seed: bigint,
  labels: ArrayLike<Label>,
  refine?: Omit<RefineOptions, 'validation'>,
): JointLayer {
  const all = concat(names.map((n) => encoded.get(n) as HVBatch));
  const hil = new HIL({ dim: all.dim, seed, tie: like.tie, metric: like.metric, readout: like.readout });
  hil.fit(all, labels);
  if (refine && hil.readout === 'prototype') hil.refine(all, labels, refine);
  return { names, hil };
}

/**
 * The tutorial consensus's labels, among `classes` (every class the glue knows); `seed` and
 * `tie` are the glue's (they make the member vectors and break the bundles' ties).
 */
export function tutorialLabels(
  present: readonly Ballot[],
  classes: readonly Label[],
  seed: bigint,
  tie: TieRule,
): Label[] {
  // Weights are not part of the tutorial's algebra; a weight of 0 leaves a member out.
  const members = present.filter((m) => m.weight > 0);
  if (members.length === 0) throw new HdglueError(ErrorCode.NO_INPUT, 'every member with an input has weight 0');
  const first = (members[0] as Ballot).hil;
  for (const m of members) {
    if (m.hil.dim !== first.dim || m.hil.seed !== first.seed) {
      throw new HdglueError(
        ErrorCode.DIM_MISMATCH,
        'the tutorial consensus needs every member to share dim and seed (one class-vector memory)',
      );
    }
  }
  const dim = first.dim;
  // The seed string keeps the word 'network' (the tutorial's name): the same bits as ever.
  const netVec = (name: string) => randomHV(dim, `network/${name}`, { seed });
  const opts = { tie, seed };
  // G = bundle_i bind(net_i, HIL_i), over the members present, as create_hdglue_consensus.
  const g = bundle(HVBatch.from(members.map((m) => bind(netVec(m.name), m.hil.symbolic({ tie })))), opts);
  const vectors = HVBatch.from(
    classes.map((l) => first.classVector(l)),
    dim,
  );
  const n = (members[0] as Ballot).hvs.count;
  const out: Label[] = [];
  const bound = members.map((m) => bind(m.hvs, netVec(m.name)));
  for (let r = 0; r < n; r++) {
    // query = bundle_i bind(net_i, enc_i(x)); result = bind(G, query); nearest class vector.
    const q = bundle(HVBatch.from(bound.map((b) => b.row(r))), opts);
    const d = hammingMatrix(new HVBatch(dim, 1, bind(g, q).data), vectors);
    let best = 0;
    for (let k = 1; k < d.length; k++) if ((d[k] as number) < (d[best] as number)) best = k;
    out.push(classes[best] as Label);
  }
  return out;
}

// The members that vote (input present, weight > 0) and the classes they know, first-seen order.
function candidates(present: readonly Ballot[]): { voters: Ballot[]; labels: Label[] } {
  const voters = present.filter((m) => m.weight > 0);
  if (voters.length === 0)
    throw new HdglueError(ErrorCode.NO_INPUT, 'every member with an input has weight 0: nothing votes');
  const labels: Label[] = [];
  const seen = new Set<Label>();
  for (const m of voters) {
    for (const l of m.hil.labels) {
      if (!seen.has(l)) {
        seen.add(l);
        labels.push(l);
      }
    }
  }
  return { voters, labels };
}

// Standardized scores of one query across one member's classes; all-equal scores give zeros.
function zscoreInto(s: Float64Array, at: number, c: number, z: Float64Array): Float64Array {
  let mean = 0;
  for (let k = 0; k < c; k++) mean += s[at + k] as number;
  mean /= c;
  let v = 0;
  for (let k = 0; k < c; k++) v += ((s[at + k] as number) - mean) ** 2;
  const sd = Math.sqrt(v / c);
  for (let k = 0; k < c; k++) z[k] = sd > 0 ? ((s[at + k] as number) - mean) / sd : 0;
  return z;
}

/** The concat layer is trained over every member: a call that names only some is refused. @internal */
export function requireAll(names: readonly string[], encoded: ReadonlyMap<string, unknown>, what: string): void {
  const missing = names.filter((n) => !encoded.has(n));
  if (missing.length)
    throw new HdglueError(
      ErrorCode.NO_INPUT,
      `${what} over every member; missing: ${missing.map((n) => JSON.stringify(n)).join(', ')}`,
    );
}
