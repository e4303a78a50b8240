// The one module of stratified row selection (lib/split.ts): every split is a partition, keeps
// each class's share, is a pure function of its seed, and picks the rows the CLI and the demo
// picked before the splitters were merged into it.
import { describe, expect, it } from 'vitest';
import { assignFolds, everyNthSplit, stratifiedSample, stratifiedSplit } from '../lib/split.js';

// 3 classes of 10, 20 and 5 rows, interleaved.
const labels: string[] = [];
for (let i = 0; i < 35; i++) labels.push(i < 30 ? (i % 3 === 0 ? 'a' : 'b') : 'c');
const all = labels.map((_, i) => i);
const count = (rows: readonly number[], l: string) => rows.filter((r) => labels[r] === l).length;

describe('stratified selection', () => {
  it('stratifiedSplit: a partition with each class split in the same proportion, seeded', () => {
    const { fitRows, valRows } = stratifiedSplit(labels, 0.2, 7);
    // Printed by `hdglue fit`'s own stratifiedSplit before it moved here (commit 87a1e39).
    expect(valRows).toEqual([15, 16, 17, 18, 23, 28, 34]);
    expect([...fitRows, ...valRows].sort((x, y) => x - y)).toEqual(all);
    expect([count(valRows, 'a'), count(valRows, 'b'), count(valRows, 'c')]).toEqual([2, 4, 1]);
    expect(stratifiedSplit(labels, 0.2, 8).valRows).not.toEqual(valRows);
    expect(stratifiedSplit(labels, 0, 7)).toEqual({ fitRows: all, valRows: [] });
    // At least one row of every class is kept for fitting.
    expect(count(stratifiedSplit(labels, 0.99, 7).fitRows, 'c')).toBe(1);
  });

  it("everyNthSplit: the demo's old rule (each class's 5th, 10th, ... row in row order)", () => {
    const seen = new Map<string, number>();
    const want: number[] = [];
    labels.forEach((l, i) => {
      const k = seen.get(l) ?? 0;
      seen.set(l, k + 1);
      if (k % 5 === 4) want.push(i);
    });
    const { fitRows, valRows } = everyNthSplit(labels, 5);
    expect(valRows).toEqual(want);
    expect(fitRows).toEqual(all.filter((i) => !want.includes(i)));
  });

  it('assignFolds: every class spread over the folds within one row, seeded', () => {
    const fold = assignFolds(labels, 5, 3);
    for (const l of ['a', 'b', 'c']) {
      const per = [0, 0, 0, 0, 0];
      labels.forEach((x, i) => {
        if (x === l) per[fold[i] as number]++;
      });
      expect(Math.max(...per) - Math.min(...per)).toBeLessThanOrEqual(1);
    }
    expect(Array.from(assignFolds(labels, 5, 3))).toEqual(Array.from(fold));
  });

  it('stratifiedSample: the requested size, classes taken round-robin, ascending, all rows when asked for more', () => {
    const s = stratifiedSample(labels, 14, 1);
    expect(s).toHaveLength(14);
    expect([...s].sort((x, y) => x - y)).toEqual(s);
    expect(new Set(s).size).toBe(14);
    // 14 rows round-robin over classes of 10, 20 and 5: 5 + 5 + 4.
    expect([count(s, 'a'), count(s, 'b'), count(s, 'c')]).toEqual([5, 5, 4]);
    expect(stratifiedSample(labels, 14, 1)).toEqual(s);
    expect(stratifiedSample(labels, 99, 1)).toEqual(all);
  });
});
