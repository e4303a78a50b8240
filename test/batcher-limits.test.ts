// glueBatcher under a small LIMITS.scores (mocked for this file only): a batch of many small
// requests may pass the rows * classes bound that none of them passes alone, and is then
// predicted in parts, each request's labels still those of predictAsync alone.
import { describe, expect, it, vi } from 'vitest';

vi.mock('../lib/validate.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../lib/validate.js')>();
  return { ...real, LIMITS: Object.freeze({ ...real.LIMITS, scores: 40 }) };
});

const { EmbeddingEncoder, glueBatcher, HDGlue } = await import('../lib/index.js');
const { prng } = await import('./helpers.js');

describe('glueBatcher: a batch past LIMITS.scores', () => {
  it('is predicted in parts, with the labels of each request alone', async () => {
    const g = new HDGlue();
    g.addMember('a', { encoder: new EmbeddingEncoder({ features: 3, dim: 256, bins: 8, seed: 1 }) });
    const next = prng(4);
    const x = Float64Array.from({ length: 60 * 3 }, () => next() / 2 ** 32 - 0.5);
    const y = Array.from({ length: 60 }, (_, i) => i % 4);
    g.fit({ a: x }, y);
    // 4 classes: at most 10 rows per call; 30 one-row requests form one batch of 30 rows.
    await expect(g.predictAsync({ a: x.subarray(0, 33) })).rejects.toMatchObject({ code: 'ERR_HDGLUE_LIMIT' });
    const rows = Array.from({ length: 30 }, (_, r) => x.subarray(r * 3, r * 3 + 3));
    let calls = 0;
    const b = glueBatcher(g, { maxWaitMs: 0, onBatch: () => calls++ });
    const got = await Promise.all(rows.map((r) => b.submit({ a: Float64Array.from(r) })));
    expect(calls).toBe(1);
    for (let r = 0; r < 30; r++) expect(got[r]).toEqual(await g.predictAsync({ a: Float64Array.from(rows[r] ?? []) }));
  });
});
