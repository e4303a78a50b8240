// The raw addon checks every argument itself before reading memory, so even a caller that
// bypasses lib/core/ops.ts gets a coded TypeError / RangeError, never a crash or an overread.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../lib/backend/native.js';

type Fn = (...args: unknown[]) => unknown;
const raw = createRequire(import.meta.url)('node-gyp-build')(packageRoot) as Record<string, Fn>;

// "Name:code" of what fn throws; anything but a TypeError or RangeError fails the test.
function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    const err = e as Error & { code?: string };
    expect(err instanceof TypeError || err instanceof RangeError).toBe(true);
    return `${err.name}:${err.code}`;
  }
  return 'no error';
}

const T = 'TypeError:ERR_HDGLUE_INVALID_TYPE';
const SHAPE = 'RangeError:ERR_HDGLUE_SHAPE';
const RANGE = 'RangeError:ERR_HDGLUE_OUT_OF_RANGE';
const DIM = 'RangeError:ERR_HDGLUE_INVALID_DIM';

describe('raw addon boundary', () => {
  const u = (n: number) => new Uint32Array(n);
  it('rejects wrong types', () => {
    const hamming1xN = raw.hamming1xN as Fn;
    expect(code(() => hamming1xN([0, 0], u(2), 1, 1, u(1)))).toBe(T);
    expect(code(() => hamming1xN(new Int32Array(2), u(2), 1, 1, u(1)))).toBe(T);
    expect(code(() => hamming1xN(u(2), u(2), '1', 1, u(1)))).toBe(T);
    expect(code(() => hamming1xN(u(2), u(2), 1, 1, new Float64Array(1)))).toBe(T);
    expect(code(() => hamming1xN())).toBe(T);
    expect(code(() => (raw.randomHV as Fn)(1, new Uint8Array(0), 64, u(2)))).toBe(T);
    expect(code(() => (raw.dotCounters as Fn)(u(2), 1, u(64), 1, 64, new Float64Array(1)))).toBe(T);
  });

  it('rejects short arrays and bad sizes before touching memory', () => {
    const hamming1xN = raw.hamming1xN as Fn;
    expect(code(() => hamming1xN(u(2), u(2), 2, 1, u(2)))).toBe(SHAPE);
    expect(code(() => hamming1xN(u(2), u(4), 2, 1, u(1)))).toBe(SHAPE);
    expect(code(() => hamming1xN(u(1), u(2), 1, 1, u(1)))).toBe(SHAPE);
    expect(code(() => hamming1xN(u(2), u(2), 2 ** 40, 1, u(1)))).toBe(RANGE);
    expect(code(() => hamming1xN(u(2), u(2), -1, 1, u(1)))).toBe(RANGE);
    expect(code(() => hamming1xN(u(2), u(2), 1, 0, u(1)))).toBe(DIM);
    expect(code(() => hamming1xN(u(2), u(2), 1.5, 1, u(1)))).toBe(RANGE);
    expect(code(() => (raw.bundle as Fn)(u(4), 3, 1, null, u(2)))).toBe(SHAPE);
    expect(code(() => (raw.bundle as Fn)(u(4), 2, 1, u(1), u(2)))).toBe(SHAPE);
    expect(code(() => (raw.accAdd as Fn)(new Int32Array(63), 64, u(2), 1, null))).toBe(SHAPE);
    expect(code(() => (raw.accAdd as Fn)(new Int32Array(64), 0, u(2), 1, null))).toBe(DIM);
    expect(code(() => (raw.accAdd as Fn)(new Int32Array(64), 2 ** 24 + 1, u(2), 1, null))).toBe(DIM);
    expect(code(() => (raw.topK as Fn)(u(2), 1, u(2), 1, 1, 2, u(2), u(2)))).toBe(RANGE);
    expect(code(() => (raw.topK as Fn)(u(2), 1, u(4), 2, 1, 2, u(1), u(2)))).toBe(SHAPE);
    const shared = u(4);
    expect(code(() => (raw.permute as Fn)(shared, 1, 64, 3, shared))).toBe(SHAPE);
    // Outputs overlapping inputs would make results depend on the ISA level and thread count.
    const big = u(8);
    expect(code(() => (raw.hamming1xN as Fn)(big.subarray(0, 2), big.subarray(0, 4), 2, 1, big.subarray(2, 4)))).toBe(
      SHAPE,
    );
    expect(code(() => (raw.bind as Fn)(big.subarray(0, 2), big.subarray(2, 4), 1, 1, 1, big.subarray(1, 3)))).toBe(
      SHAPE,
    );
    const i32 = new Int32Array(128);
    const asU32 = new Uint32Array(i32.buffer, 0, 2);
    expect(code(() => (raw.accAdd as Fn)(i32.subarray(0, 64), 64, asU32, 1, null))).toBe(SHAPE);
    expect(code(() => (raw.permute as Fn)(u(2), 1, 64, 0.5, u(2)))).toBe(RANGE);
    expect(code(() => (raw.randomHV as Fn)(-1n, new Uint8Array(0), 64, u(2)))).toBe(RANGE);
    expect(code(() => (raw.randomHV as Fn)(1n, new Uint8Array(0), 65, u(2)))).toBe(SHAPE);
  });

  it('checks the encoders’ arguments: types, counts and every length', () => {
    const f64 = (n: number) => new Float64Array(n);
    const enc = raw.encodeLevels as Fn;
    // x, n, features, lo, hi, bins, levels, levelCount, positions, dim, tie, out
    const ok = () => [f64(6), 2, 3, f64(3), f64(3), 4, u(8), 4, u(6), 64, null, u(4)];
    expect(enc(...ok())).toBe(-1);
    const bad = (i: number, v: unknown) => {
      const a = ok();
      a[i] = v;
      return code(() => enc(...a));
    };
    expect(bad(0, new Int32Array(6))).toBe(T);
    expect(bad(0, f64(5))).toBe(SHAPE);
    expect(bad(2, 0)).toBe(RANGE);
    expect(bad(3, f64(2))).toBe(SHAPE);
    expect(bad(5, 0)).toBe(RANGE);
    expect(bad(6, u(6))).toBe(SHAPE);
    expect(bad(7, 3)).toBe(SHAPE);
    expect(bad(8, u(4))).toBe(SHAPE);
    expect(bad(9, 65)).toBe(SHAPE);
    expect(bad(10, u(1))).toBe(SHAPE);
    expect(bad(11, u(3))).toBe(SHAPE);
    const proj = raw.project as Fn;
    expect(proj(f64(6), 2, 3, f64(3), u(6), 64, null, u(4))).toBe(-1);
    expect(code(() => proj(f64(6), 2, 3, f64(2), u(6), 64, null, u(4)))).toBe(SHAPE);
    expect(code(() => proj(f64(6), 2, 3, f64(3), u(4), 64, null, u(4)))).toBe(SHAPE);
    expect(code(() => (raw.bin as Fn)(Number.NaN, 0, 1, 4))).toBe('RangeError:ERR_HDGLUE_NOT_FINITE');
  });

  it('checks the online refinement entries: types, lengths, class and row indices', () => {
    const i32 = (n: number) => new Int32Array(n);
    const f64 = (n: number) => new Float64Array(n);
    const dots = raw.dotsOne as Fn;
    const out = f64(2);
    dots(u(2), i32(128), 2, 64, out);
    expect(Array.from(out)).toEqual([0, 0]);
    expect(code(() => dots(u(2), u(128), 2, 64, f64(2)))).toBe(T);
    expect(code(() => dots(u(2), i32(127), 2, 64, f64(2)))).toBe(SHAPE);
    expect(code(() => dots(u(1), i32(128), 2, 64, f64(2)))).toBe(SHAPE);
    expect(code(() => dots(u(2), i32(128), 2, 64, f64(1)))).toBe(SHAPE);
    expect(code(() => dots(u(2), i32(128), 2, 0, f64(2)))).toBe(DIM);
    const add = raw.rowAdd as Fn;
    const row = i32(64);
    add(row, 64, u(2), -1);
    expect(row[0]).toBe(-1);
    expect(code(() => add(row, 64, u(2), 2))).toBe(RANGE);
    expect(code(() => add(row, 64, u(2), '1'))).toBe(T);
    expect(code(() => add(i32(63), 64, u(2), 1))).toBe(SHAPE);
    expect(code(() => add(row, 64, u(1), 1))).toBe(SHAPE);
    const rowsOf = new Int32Array(66);
    expect(code(() => add(rowsOf.subarray(0, 64), 64, new Uint32Array(rowsOf.buffer, 8, 2), 1))).toBe(SHAPE);

    const refine = raw.refineOnline as Fn;
    // hvs, n, dim, truth, order, count, counters, m, norms2, margin, adapt, stats
    const ok = () => [
      u(4),
      2,
      64,
      Int32Array.from([0, 1]),
      Uint32Array.from([1, 0, 1]),
      3,
      i32(128),
      2,
      f64(2),
      0.1,
      1,
      f64(2),
    ];
    const stats = f64(2);
    const args = ok();
    args[11] = stats;
    expect(refine(...args)).toBeUndefined();
    // All-zero counters: both classes score 0 and class 0 wins every tie, so row 1 (class 1) is an
    // error at its first visit.
    expect(stats[0]).toBeGreaterThan(0);
    const bad = (i: number, v: unknown) => {
      const a = ok();
      a[i] = v;
      return code(() => refine(...a));
    };
    expect(bad(0, i32(4))).toBe(T);
    expect(bad(0, u(3))).toBe(SHAPE);
    expect(bad(1, -1)).toBe(RANGE);
    expect(bad(2, 0)).toBe(DIM);
    expect(bad(3, u(2))).toBe(T);
    expect(bad(3, Int32Array.from([0]))).toBe(SHAPE);
    expect(bad(3, Int32Array.from([0, 2]))).toBe(RANGE);
    expect(bad(3, Int32Array.from([-1, 0]))).toBe(RANGE);
    expect(bad(4, i32(3))).toBe(T);
    expect(bad(4, Uint32Array.from([1, 0]))).toBe(SHAPE);
    expect(bad(4, Uint32Array.from([1, 2, 0]))).toBe(RANGE);
    expect(bad(5, 1.5)).toBe(RANGE);
    expect(bad(6, i32(127))).toBe(SHAPE);
    expect(bad(7, 1)).toBe(RANGE); // truth[1] = 1 is not below m = 1 (and counters fit one row)
    expect(bad(8, f64(1))).toBe(SHAPE);
    expect(bad(8, new Float32Array(2))).toBe(T);
    expect(bad(9, '0.1')).toBe(T);
    expect(bad(9, Number.NaN)).toBe(RANGE);
    expect(bad(10, 2)).toBe(RANGE);
    expect(bad(11, f64(1))).toBe(SHAPE);
    // Outputs must not share memory with inputs or with each other.
    const shared = f64(4);
    expect(bad(11, shared.subarray(0, 2)) === 'no error').toBe(true);
    const a = ok();
    a[8] = shared.subarray(0, 2);
    a[11] = shared.subarray(1, 3);
    expect(code(() => refine(...a))).toBe(SHAPE);
    const b = ok();
    // truth read from the counters' last two entries, which the epoch may change under it.
    const counters = i32(128);
    b[6] = counters;
    b[3] = counters.subarray(126, 128);
    expect(code(() => refine(...b))).toBe(SHAPE);
  });

  it('rejects bad async calls synchronously, before queueing work', () => {
    expect(code(() => (raw.hamming1xNAsync as Fn)(u(2), u(2), 2, 1, u(2)))).toBe(SHAPE);
    expect(code(() => (raw.bundleAsync as Fn)([], 0, 1, null, u(2)))).toBe(T);
  });

  it('accepts views at a 4-byte offset (JavaScript subarrays are not 8-byte aligned)', () => {
    const buf = new Uint32Array(7);
    buf.set([0xffffffff, 0x1, 0xffffffff, 0x1], 1);
    const q = buf.subarray(1, 3);
    const out = u(2);
    (raw.hamming1xN as Fn)(q, buf.subarray(1, 5), 2, 1, out);
    expect(Array.from(out)).toEqual([0, 0]);
  });
});
