/**
 * The seed tutorial's algebra on one HIL (`mode: 'tutorial'`): the whole layer is one vector,
 * bundle over classes of bind(class vector, prototype), queried by binding it with the query
 * and taking the nearest class vector. It is here so that pipeline can be run as written; on
 * real data it scores far below the layer's default readout (see the README).
 *
 * @internal
 */
import { HVBatch, type Hypervector } from '../core/hv.js';
import { bind, bundle, hammingMatrix, randomHV, type TieRule } from '../core/ops.js';
import type { Label } from '../label.js';

/** What the algebra needs of a layer: its dimension and the seed of its class vectors. */
export interface TutorialLayer {
  readonly dim: number;
  readonly seed: bigint;
}

/** The class vector of a label: a random vector named after the label. */
export function classVector(layer: TutorialLayer, label: Label): Hypervector {
  return randomHV(layer.dim, classKey(label), { seed: layer.seed });
}

/**
 * The tutorial's single HIL vector: bundle over classes of bind(class vector, prototype), with
 * `protos` one row per label and `tie` the bundle's rule for a zero count.
 */
export function symbolicVector(
  layer: TutorialLayer,
  labels: readonly Label[],
  protos: HVBatch,
  tie: TieRule,
): Hypervector {
  const terms = HVBatch.from(labels.map((l, k) => bind(classVector(layer, l), protos.row(k))));
  return bundle(terms, { tie, seed: layer.seed });
}

/**
 * Scores of the tutorial's query: bind(HIL vector, query), then its Hamming similarity to each
 * class vector, as the seed's query_hil does (`hvs.count * labels.length` values).
 */
export function tutorialScores(
  layer: TutorialLayer,
  labels: readonly Label[],
  symbolic: Hypervector,
  hvs: HVBatch,
): Float64Array {
  const probe = bind(hvs, symbolic);
  const classes = HVBatch.from(
    labels.map((l) => classVector(layer, l)),
    layer.dim,
  );
  const d = hammingMatrix(probe, classes);
  return Float64Array.from(d, (v) => 1 - v / layer.dim);
}

/** Name of a label's class vector: numbers and strings never collide. */
function classKey(l: Label): string {
  return typeof l === 'number' ? `class/n/${l}` : `class/s/${l}`;
}
