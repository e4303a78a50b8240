// The documented maximums (LIMITS, RELIABILITY.md): each request beyond one fails at once with its
// code, before the memory it would need is allocated, and leaves the object as it was. Runs on
// whichever backend the environment selects.
import { describe, expect, it } from 'vitest';
import { EmbeddingEncoder, ErrorCode, HDGlue, HIL, HVBatch, LIMITS, MAX_DIM, ProjectionEncoder } from '../lib/index.js';

function fails(fn: () => unknown, code: string): void {
  // Nothing this large may be allocated on the way to the error: well below what each call asks for.
  const before = process.memoryUsage().arrayBuffers;
  const t0 = performance.now();
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect((caught as { code?: string } | undefined)?.code, String(caught)).toBe(code);
  expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 2 ** 20);
  // Generous: a limit is a comparison, while the refused work would take seconds or exhaust memory.
  expect(performance.now() - t0).toBeLessThan(2000);
}

describe(`limits on the ${process.env.HDGLUE_BACKEND ?? 'default'} backend`, () => {
  it('states every maximum', () => {
    expect(LIMITS).toEqual({
      dim: MAX_DIM,
      features: 65536,
      bins: 65536,
      classes: 65536,
      counters: 2 ** 28,
      members: 1024,
      rows: 2 ** 24,
      scores: 2 ** 28,
    });
    expect(Object.isFrozen(LIMITS)).toBe(true);
  });

  it('dimension, features and bins', () => {
    fails(() => new HIL({ dim: MAX_DIM + 1 }), ErrorCode.INVALID_DIM);
    fails(() => new EmbeddingEncoder({ features: 65537, dim: 64 }), ErrorCode.OUT_OF_RANGE);
    fails(() => new EmbeddingEncoder({ features: 1, dim: 64, bins: 65537 }), ErrorCode.OUT_OF_RANGE);
    fails(() => new ProjectionEncoder({ features: 65537, dim: 64 }), ErrorCode.OUT_OF_RANGE);
  });

  it('classes of an HIL: their count, and their counters (classes * dim)', () => {
    const wide = new HIL({ dim: 2 ** 20 });
    // 257 classes of 2^20 bits need 2^28 + 2^20 counters (1 GiB + 4 MiB): refused before growing.
    const rows = new HVBatch(2 ** 20, 257);
    fails(
      () =>
        wide.partialFit(
          rows,
          Array.from({ length: 257 }, (_, i) => i),
        ),
      ErrorCode.LIMIT,
    );
    expect(wide.classes).toBe(0);
    const hil = new HIL({ dim: 64 });
    const many = new HVBatch(64, LIMITS.classes + 1);
    fails(
      () =>
        hil.fit(
          many,
          Array.from({ length: LIMITS.classes + 1 }, (_, i) => `c${i}`),
        ),
      ErrorCode.LIMIT,
    );
    // Up to the limit is fine.
    hil.fit(
      many.slice(0, LIMITS.classes),
      Array.from({ length: LIMITS.classes }, (_, i) => `c${i}`),
    );
    expect(hil.classes).toBe(LIMITS.classes);
    fails(() => hil.partialFit(many.slice(0, 1), ['one more']), ErrorCode.LIMIT);
    expect(hil.classes).toBe(LIMITS.classes);
  });

  it('scores of one call (rows * classes)', () => {
    const hil = new HIL({ dim: 64 });
    const classes = 4097;
    hil.fit(
      new HVBatch(64, classes),
      Array.from({ length: classes }, (_, i) => i),
    );
    // 65,536 queries * 4,097 classes is above 2^28 scores (2 GiB of doubles).
    const queries = new HVBatch(64, 65536);
    fails(() => hil.scores(queries), ErrorCode.LIMIT);
    fails(() => hil.predict(queries), ErrorCode.LIMIT);
    expect(hil.predict(queries.slice(0, 10))).toHaveLength(10);
  });

  it('members of a glue', () => {
    const glue = new HDGlue();
    const enc = new EmbeddingEncoder({ features: 1, dim: 64, bins: 1 });
    for (let i = 0; i < LIMITS.members; i++) glue.addMember(`m${i}`, { encoder: enc });
    fails(() => glue.addMember('one more', { encoder: enc }), ErrorCode.LIMIT);
    expect(glue.members()).toHaveLength(LIMITS.members);
  });

  it('rows of one batch', () => {
    const enc = new EmbeddingEncoder({ features: 1, dim: 64, bins: 4 });
    // A sparse array of rows costs nothing to make; encoding it would allocate 2^24 rows of doubles first.
    const rows = new Array(LIMITS.rows + 1);
    fails(() => enc.encodeBatch(rows), ErrorCode.LIMIT);
    fails(() => enc.encodeBatch(new Float32Array(4), LIMITS.rows + 1), ErrorCode.LIMIT);
    const proj = new ProjectionEncoder({ features: 1, dim: 64 });
    fails(() => proj.encodeBatch(rows), ErrorCode.LIMIT);
    const glue = new HDGlue();
    glue.addMember('m', { encoder: enc });
    fails(() => glue.predict({ m: rows }), ErrorCode.LIMIT);
  });
});
