// Shared by the stress children: a small seeded glue on synthetic data, so each child builds the
// same model without files. Run as plain Node scripts (they import the built package, dist/).
import { EmbeddingEncoder, HDGlue, ProjectionEncoder } from 'hdglue';

/** mulberry32, as test/helpers.ts: tests never use Math.random. */
export function prng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** `n` rows of `features` values around one of `classes` centres; labels cycle through the classes. */
export function synthetic(n, features, classes, seed) {
  const next = prng(seed);
  const centres = Array.from({ length: classes }, () => Float32Array.from({ length: features }, () => next() * 2 - 1));
  const x = new Float32Array(n * features);
  const labels = [];
  for (let r = 0; r < n; r++) {
    const c = r % classes;
    labels.push(`c${c}`);
    for (let f = 0; f < features; f++) x[r * features + f] = centres[c][f] * 0.6 + (next() * 2 - 1) * 0.5;
  }
  return { x, labels };
}

/** A glue of two members (a level encoder and a projection encoder), trained on synthetic data. */
export function smallGlue({ dim = 2048, classes = 5, seed = 1 } = {}) {
  const a = synthetic(400, 32, classes, seed);
  const b = synthetic(400, 48, classes, seed + 1);
  const glue = new HDGlue();
  glue.addMember('a', { encoder: new EmbeddingEncoder({ features: 32, dim, bins: 16 }).fit(a.x) });
  glue.addMember('b', { encoder: new ProjectionEncoder({ features: 48, dim }).fit(b.x) });
  glue.fit({ a: a.x, b: b.x }, a.labels, { refine: { epochs: 3 } });
  return glue;
}

/** Inputs for the glue of smallGlue: `count` batches of `rows` rows each, all different. */
export function batches(count, rows, seed) {
  return Array.from({ length: count }, (_, i) => ({
    a: synthetic(rows, 32, 5, seed + 2 * i).x,
    b: synthetic(rows, 48, 5, seed + 2 * i + 1).x,
  }));
}
