// MicroBatcher on its own (no glue): a recording `run` shows which rows each call got, so the
// tests see coalescing, the maxBatch cap, chunking, grouping by inputs, waiting, aborts, the
// queue limit, close, isolation of bad requests and failing runs. Timing is checked with fake
// timers or with generous bounds only.
import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type BatchInfo, type BatchRun, HdglueError, MicroBatcher, type RowMatrix } from '../lib/index.js';

/** Each row's result: its values, member by member ("a:1,2|b:3"), so a caller can check it got its own rows. */
function rowText(inputs: Readonly<Record<string, RowMatrix>>, features: Readonly<Record<string, number>>, r: number) {
  return Object.keys(inputs)
    .map((n) => {
      const w = features[n] as number;
      return `${n}:${Array.from((inputs[n] as RowMatrix).subarray(r * w, (r + 1) * w)).join(',')}`;
    })
    .join('|');
}

interface Call {
  names: string[];
  rows: number;
  inputs: Readonly<Record<string, RowMatrix>>;
}

/** A run that records its calls; `gate`, when given, is awaited before answering. */
function recorder(gate?: () => Promise<void>) {
  const calls: Call[] = [];
  const run: BatchRun<string> = async (inputs, rows, features) => {
    calls.push({ names: Object.keys(inputs), rows, inputs });
    if (gate) await gate();
    return Array.from({ length: rows }, (_, r) => rowText(inputs, features, r));
  };
  return { calls, run };
}

/** A promise and its resolver, to hold a run until the test lets it go. */
function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const tick = () => new Promise<void>((r) => setImmediate(r));
const row = (...v: number[]) => [v];
const expected = (x: Record<string, number[][]>) =>
  x[Object.keys(x)[0] as string]?.map((_, r) =>
    Object.keys(x)
      .sort()
      .map((n) => `${n}:${(x[n] as number[][])[r]?.join(',')}`)
      .join('|'),
  );

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('MicroBatcher: coalescing', () => {
  it('runs concurrent single-row requests as one call and gives each caller its own row', async () => {
    const { calls, run } = recorder();
    const b = new MicroBatcher(run, { widths: { a: 2 }, maxWaitMs: 0 });
    const ps = Array.from({ length: 20 }, (_, i) => b.submit({ a: row(i, -i) }));
    expect(b.queueDepth).toBe(20);
    const out = await Promise.all(ps);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.rows).toBe(20);
    out.forEach((o, i) => {
      expect(o).toEqual([`a:${i},${-i}`]);
    });
    expect(b.stats()).toMatchObject({ batches: 1, rows: 20, lastBatchRows: 20, requests: 20 });
  });

  it('never passes more than maxBatch rows to run, and rows pile up while a call runs', async () => {
    const { calls, run } = recorder(tick);
    const b = new MicroBatcher(run, { widths: { a: 1 }, maxBatch: 16, maxWaitMs: 0 });
    const ps = Array.from({ length: 100 }, (_, i) => b.submit({ a: row(i) }));
    const out = await Promise.all(ps);
    expect(calls.every((c) => c.rows <= 16)).toBe(true);
    expect(calls.map((c) => c.rows)).toEqual([16, 16, 16, 16, 16, 16, 4]);
    expect(out.map((o) => o[0])).toEqual(Array.from({ length: 100 }, (_, i) => `a:${i}`));
  });

  it('cuts a request larger than maxBatch into chunks that share calls with others, in order', async () => {
    const { calls, run } = recorder();
    const b = new MicroBatcher(run, { widths: { a: 1 }, maxBatch: 16, maxWaitMs: 0 });
    const big = Array.from({ length: 40 }, (_, i) => [i]);
    const small = b.submit({ a: [[-1]] });
    const large = b.submit({ a: big });
    const after = b.submit({ a: [[-2], [-3]] });
    expect(await small).toEqual(['a:-1']);
    expect(await large).toEqual(big.map((v) => `a:${v[0]}`));
    expect(await after).toEqual(['a:-2', 'a:-3']);
    expect(calls.map((c) => c.rows)).toEqual([16, 16, 11]);
    // The last call holds the big request's tail, then the request queued after it.
    expect(Array.from(calls[2]?.inputs.a ?? [])).toEqual([...big.slice(31).map((v) => v[0]), -2, -3]);
  });

  it('keeps requests with different inputs in different calls', async () => {
    const { calls, run } = recorder();
    const b = new MicroBatcher(run, { widths: { a: 1, b: 2 }, maxWaitMs: 0 });
    const reqs = [
      { a: [[1]] },
      { a: [[2]], b: [[2, 2]] },
      { b: [[3, 3]] },
      { b: [[4, 4]], a: [[4]] },
      { a: [[5]] },
      { b: [[6, 6]] },
    ];
    const out = await Promise.all(reqs.map((r) => b.submit(r)));
    out.forEach((o, i) => {
      expect(o).toEqual(expected(reqs[i] as Record<string, number[][]>));
    });
    expect(calls).toHaveLength(3);
    expect(calls.map((c) => [c.names, c.rows])).toEqual([
      [['a'], 2],
      [['a', 'b'], 2],
      [['b'], 2],
    ]);
  });

  it('with maxWaitMs 0, a request submitted on a later turn goes in a later call', async () => {
    const { calls, run } = recorder();
    const b = new MicroBatcher(run, { widths: { a: 1 }, maxWaitMs: 0 });
    const p1 = b.submit({ a: [[1]] });
    const p2 = b.submit({ a: [[2]] });
    await tick();
    const p3 = b.submit({ a: [[3]] });
    await Promise.all([p1, p2, p3]);
    expect(calls.map((c) => c.rows)).toEqual([2, 1]);
  });

  it('runs at most `concurrency` calls at once', async () => {
    let running = 0;
    let most = 0;
    const run: BatchRun<number> = async (inputs, rows) => {
      running++;
      most = Math.max(most, running);
      await tick();
      await tick();
      running--;
      return Array.from(inputs.a?.subarray(0, rows) ?? []);
    };
    for (const concurrency of [1, 3]) {
      most = 0;
      const b = new MicroBatcher(run, { widths: { a: 1 }, maxBatch: 2, maxWaitMs: 0, concurrency });
      const ps = Array.from({ length: 12 }, (_, i) => b.submit({ a: [[i]] }));
      expect(b.inFlight).toBe(concurrency);
      expect((await Promise.all(ps)).map((o) => o[0])).toEqual(Array.from({ length: 12 }, (_, i) => i));
      expect(most).toBe(concurrency);
      expect(b.inFlight).toBe(0);
    }
  });

  it('resolves requests of one group in arrival order', async () => {
    const { run } = recorder(tick);
    const b = new MicroBatcher(run, { widths: { a: 1 }, maxBatch: 3, maxWaitMs: 0 });
    const order: number[] = [];
    const ps = Array.from({ length: 10 }, (_, i) =>
      b.submit({ a: Array.from({ length: 1 + (i % 3) }, () => [i]) }).then(() => order.push(i)),
    );
    await Promise.all(ps);
    expect(order).toEqual(Array.from({ length: 10 }, (_, i) => i));
  });
});

describe('MicroBatcher: waiting', () => {
  it('waits maxWaitMs for company after the first request, then runs what it has', async () => {
    vi.useFakeTimers();
    const { calls, run } = recorder();
    const b = new MicroBatcher(run, { widths: { a: 1 }, maxWaitMs: 50 });
    const p1 = b.submit({ a: [[1]] });
    await vi.advanceTimersByTimeAsync(30);
    const p2 = b.submit({ a: [[2]] });
    await vi.advanceTimersByTimeAsync(19);
    expect(calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(2);
    expect(calls.map((c) => c.rows)).toEqual([2]);
    expect(await p1).toEqual(['a:1']);
    expect(await p2).toEqual(['a:2']);
  });

  it('runs a full batch at once, without waiting', async () => {
    vi.useFakeTimers();
    const { calls, run } = recorder();
    const b = new MicroBatcher(run, { widths: { a: 1 }, maxWaitMs: 1000, maxBatch: 4 });
    const ps = [1, 2, 3, 4, 5].map((i) => b.submit({ a: [[i]] }));
    await vi.advanceTimersByTimeAsync(0);
    expect(calls.map((c) => c.rows)).toEqual([4]);
    expect(b.queueDepth).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls.map((c) => c.rows)).toEqual([4, 1]);
    expect((await Promise.all(ps)).flat()).toEqual(['a:1', 'a:2', 'a:3', 'a:4', 'a:5']);
  });

  it('a lone request is answered within maxWaitMs plus the run (real timers, generous bound)', async () => {
    const { run } = recorder();
    const b = new MicroBatcher(run, { widths: { a: 1 }, maxWaitMs: 5 });
    const t0 = performance.now();
    await b.submit({ a: [[1]] });
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('reports each call to onBatch: rows, requests, wait and run time, error', async () => {
    vi.useFakeTimers();
    const infos: BatchInfo[] = [];
    let fail = false;
    const b = new MicroBatcher<number>(
      async (_inputs, rows) => {
        if (fail) throw new Error('boom');
        return new Array(rows).fill(0);
      },
      { widths: { a: 1 }, maxWaitMs: 10, onBatch: (i) => infos.push(i) },
    );
    const ps = [b.submit({ a: [[1]] }), b.submit({ a: [[2], [3]] })];
    await vi.advanceTimersByTimeAsync(10);
    await Promise.all(ps);
    fail = true;
    const bad = b.submit({ a: [[1]] }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10);
    expect(((await bad) as Error).message).toBe('boom');
    expect(infos).toHaveLength(2);
    expect(infos[0]).toMatchObject({ rows: 3, requests: 2 });
    expect(infos[0]?.waitMs).toBeGreaterThanOrEqual(0);
    expect(infos[0]?.runMs).toBeGreaterThanOrEqual(0);
    expect(infos[0]).not.toHaveProperty('error');
    expect((infos[1] as BatchInfo).error).toEqual(new Error('boom'));
    expect(b.stats()).toMatchObject({ batches: 2, failedBatches: 1, rows: 4, lastBatchRows: 1 });
  });
});

describe('MicroBatcher: abort', () => {
  it('a request aborted while queued is taken out: its rows never reach run', async () => {
    vi.useFakeTimers();
    const { calls, run } = recorder();
    const b = new MicroBatcher(run, { widths: { a: 1 }, maxWaitMs: 20 });
    const ac = new AbortController();
    const p1 = b.submit({ a: [[1]] });
    const p2 = b.submit({ a: [[2], [2]] }, { signal: ac.signal });
    const p3 = b.submit({ a: [[3]] });
    expect(b.queueDepth).toBe(4);
    ac.abort(new Error('client went away'));
    expect(b.queueDepth).toBe(2);
    const err = await p2.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HdglueError);
    expect(err).toMatchObject({ code: 'ERR_HDGLUE_ABORTED', name: 'AbortError' });
    expect(((err as Error).cause as Error).message).toBe('client went away');
    await vi.advanceTimersByTimeAsync(20);
    expect(await p1).toEqual(['a:1']);
    expect(await p3).toEqual(['a:3']);
    expect(calls.map((c) => Array.from(c.inputs.a ?? []))).toEqual([[1, 3]]);
    expect(b.stats().aborted).toBe(1);
  });

  it('aborting the oldest request restarts the wait from the next one', async () => {
    vi.useFakeTimers();
    const { calls, run } = recorder();
    const b = new MicroBatcher(run, { widths: { a: 1 }, maxWaitMs: 20 });
    const ac = new AbortController();
    const p1 = b.submit({ a: [[1]] }, { signal: ac.signal });
    await vi.advanceTimersByTimeAsync(10);
    const p2 = b.submit({ a: [[2]] });
    ac.abort();
    await expect(p1).rejects.toMatchObject({ code: 'ERR_HDGLUE_ABORTED' });
    await vi.advanceTimersByTimeAsync(15);
    expect(calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(10);
    expect(await p2).toEqual(['a:2']);
  });

  it('a request aborted while its call runs is rejected at once; the others get their rows', async () => {
    const gate = deferred();
    const { calls, run } = recorder(() => gate.promise);
    const b = new MicroBatcher(run, { widths: { a: 1 }, maxWaitMs: 0 });
    const ac = new AbortController();
    const p1 = b.submit({ a: [[1]] }, { signal: ac.signal });
    const p2 = b.submit({ a: [[2]] });
    await tick();
    expect(calls).toHaveLength(1);
    expect(b.inFlight).toBe(1);
    ac.abort();
    await expect(p1).rejects.toMatchObject({ code: 'ERR_HDGLUE_ABORTED' });
    expect(b.inFlight).toBe(1);
    gate.resolve();
    expect(await p2).toEqual(['a:2']);
  });

  it('an aborted request cut into chunks loses its waiting chunks too', async () => {
    const gate = deferred();
    const { calls, run } = recorder(() => gate.promise);
    const b = new MicroBatcher(run, { widths: { a: 1 }, maxWaitMs: 0, maxBatch: 4 });
    const ac = new AbortController();
    const p = b.submit({ a: Array.from({ length: 10 }, (_, i) => [i]) }, { signal: ac.signal });
    await tick();
    expect(b.queueDepth).toBe(6);
    ac.abort();
    expect(b.queueDepth).toBe(0);
    await expect(p).rejects.toMatchObject({ code: 'ERR_HDGLUE_ABORTED' });
    gate.resolve();
    await b.close();
    expect(calls.map((c) => c.rows)).toEqual([4]);
  });

  it('many requests on one signal share one listener, removed when they settle', async () => {
    vi.useFakeTimers();
    const { calls, run } = recorder();
    const b = new MicroBatcher(run, { widths: { a: 1 }, maxWaitMs: 10 });
    const shared = new AbortController();
    const first = Array.from({ length: 30 }, (_, i) => b.submit({ a: [[i]] }, { signal: shared.signal }));
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(10);
    expect((await Promise.all(first)).flat()).toHaveLength(30);
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0);
    const second = Array.from({ length: 30 }, (_, i) =>
      b.submit({ a: [[i]] }, { signal: shared.signal }).catch((e: unknown) => (e as { code: string }).code),
    );
    const other = b.submit({ a: [[-1]] });
    shared.abort();
    expect(await Promise.all(second)).toEqual(new Array(30).fill('ERR_HDGLUE_ABORTED'));
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(10);
    expect(await other).toEqual(['a:-1']);
    expect(calls.map((c) => c.rows)).toEqual([30, 1]);
  });

  it('a signal that already fired is refused before queueing', async () => {
    const { calls, run } = recorder();
    const b = new MicroBatcher(run, { widths: { a: 1 } });
    expect(await codeOf(b.submit({ a: [[1]] }, { signal: AbortSignal.abort() }))).toBe('ERR_HDGLUE_ABORTED');
    expect(b.queueDepth).toBe(0);
    await b.close();
    expect(calls).toHaveLength(0);
  });
});

describe('MicroBatcher: queue limit and close', () => {
  it('refuses rows past maxQueue with ERR_HDGLUE_QUEUE_FULL, and a request larger than the queue with ERR_HDGLUE_LIMIT', async () => {
    const gate = deferred();
    const { run } = recorder(() => gate.promise);
    const b = new MicroBatcher(run, { widths: { a: 1 }, maxQueue: 4, maxBatch: 2, maxWaitMs: 0 });
    const running = b.submit({ a: [[0], [0]] });
    await tick();
    expect([b.queueDepth, b.inFlight]).toEqual([0, 1]);
    const queued = b.submit({ a: [[1], [2], [3]] });
    const full = b.submit({ a: [[4], [5]] });
    const err = await full.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HdglueError);
    expect((err as HdglueError).code).toBe('ERR_HDGLUE_QUEUE_FULL');
    const fits = b.submit({ a: [[4]] });
    expect(b.queueDepth).toBe(4);
    expect(await codeOf(b.submit({ a: [[9], [9], [9], [9], [9]] }))).toBe('ERR_HDGLUE_LIMIT');
    expect(b.stats().queueFull).toBe(1);
    gate.resolve();
    expect(await running).toEqual(['a:0', 'a:0']);
    expect(await queued).toEqual(['a:1', 'a:2', 'a:3']);
    expect(await fits).toEqual(['a:4']);
  });

  it('close: refuses new requests, runs the queued ones without waiting, resolves when idle', async () => {
    vi.useFakeTimers();
    const { calls, run } = recorder();
    const b = new MicroBatcher(run, { widths: { a: 1 }, maxWaitMs: 1000 });
    const ps = [b.submit({ a: [[1]] }), b.submit({ a: [[2]] })];
    const closing = b.close();
    expect(b.close()).toBe(closing);
    expect(b.closed).toBe(true);
    expect(await codeOf(b.submit({ a: [[3]] }))).toBe('ERR_HDGLUE_CLOSED');
    await vi.advanceTimersByTimeAsync(0);
    await closing;
    expect(calls.map((c) => c.rows)).toEqual([2]);
    expect((await Promise.all(ps)).flat()).toEqual(['a:1', 'a:2']);
    expect([b.queueDepth, b.inFlight]).toEqual([0, 0]);
    await b.close();
  });

  it('close on an idle batcher resolves at once', async () => {
    const b = new MicroBatcher(recorder().run, { widths: { a: 1 } });
    await b.close();
  });
});

describe('MicroBatcher: bad requests and failing runs', () => {
  it('rejects a bad request alone, with the glue codes, and never sends its rows', async () => {
    const { calls, run } = recorder();
    const b = new MicroBatcher(run, { widths: { a: 2, b: 1 }, maxWaitMs: 0 });
    const good = b.submit({ a: [[1, 1]] });
    const bad: [unknown, string][] = [
      [{ a: [[Number.NaN, 1]] }, 'ERR_HDGLUE_NOT_FINITE'],
      [{ a: new Float32Array([1, Number.POSITIVE_INFINITY]) }, 'ERR_HDGLUE_NOT_FINITE'],
      [{ a: [[1, 2, 3]] }, 'ERR_HDGLUE_SHAPE'],
      [{ a: new Float64Array(3) }, 'ERR_HDGLUE_SHAPE'],
      [{ a: [] }, 'ERR_HDGLUE_SHAPE'],
      [{ a: [[1, 2]], b: [[1], [2]] }, 'ERR_HDGLUE_SHAPE'],
      [{ c: [[1]] }, 'ERR_HDGLUE_UNKNOWN_MEMBER'],
      [{}, 'ERR_HDGLUE_NO_INPUT'],
      [null, 'ERR_HDGLUE_INVALID_TYPE'],
      [{ a: 'x' }, 'ERR_HDGLUE_INVALID_TYPE'],
      [{ a: [[1, '2']] }, 'ERR_HDGLUE_INVALID_TYPE'],
    ];
    const codes = await Promise.all(bad.map(([x]) => codeOf(b.submit(x as Record<string, number[][]>))));
    expect(codes).toEqual(bad.map(([, c]) => c));
    expect(await codeOf(b.submit({ a: [[1, 1]] }, 'x' as never))).toBe('ERR_HDGLUE_INVALID_TYPE');
    expect(await codeOf(b.submit({ a: [[1, 1]] }, { signal: {} as AbortSignal }))).toBe('ERR_HDGLUE_INVALID_TYPE');
    const good2 = b.submit({ a: [[2, 2]], b: [[3]] });
    expect(await good).toEqual(['a:1,1']);
    expect(await good2).toEqual(['a:2,2|b:3']);
    expect(calls.map((c) => c.rows)).toEqual([1, 1]);
  });

  it('names the row and feature of a non-finite value, as the encoders do', async () => {
    const b = new MicroBatcher(recorder().run, { widths: { a: 3 } });
    await expect(
      b.submit({
        a: [
          [0, 0, 0],
          [0, Number.NaN, 0],
        ],
      }),
    ).rejects.toThrow('embedding row 1, feature 1 is NaN: values must be finite numbers');
    // float32 on request: a float64 too large for it becomes infinite, and is refused.
    const f32 = new MicroBatcher(recorder().run, { widths: { a: 1 }, dtype: 'float32' });
    expect(await codeOf(f32.submit({ a: [[1e300]] }))).toBe('ERR_HDGLUE_NOT_FINITE');
  });

  it('a run that throws or rejects fails every request of its call, and only those', async () => {
    let mode: 'ok' | 'throw' | 'reject' | 'short' = 'throw';
    const run: BatchRun<number> = (_inputs, rows) => {
      if (mode === 'throw') throw new Error('sync failure');
      if (mode === 'reject') return Promise.reject(new Error('async failure'));
      if (mode === 'short') return [1];
      return new Array(rows).fill(7);
    };
    const b = new MicroBatcher(run, { widths: { a: 1 }, maxWaitMs: 0 });
    for (const [m, message] of [
      ['throw', 'sync failure'],
      ['reject', 'async failure'],
      ['short', 'run returned 1 results for a batch of 2 rows'],
    ] as const) {
      mode = m;
      const out = await Promise.allSettled([b.submit({ a: [[1]] }), b.submit({ a: [[2]] })]);
      for (const o of out) expect(o.status === 'rejected' && (o.reason as Error).message).toContain(message);
    }
    mode = 'ok';
    expect(await b.submit({ a: [[1]] })).toEqual([7]);
  });

  it('a failing call rejects a chunked request and drops its waiting chunks', async () => {
    let calls = 0;
    const b = new MicroBatcher<number>(
      async (_i, rows) => {
        calls++;
        if (calls === 1) throw new Error('first call fails');
        return new Array(rows).fill(1);
      },
      { widths: { a: 1 }, maxBatch: 2, maxWaitMs: 0 },
    );
    const p = b.submit({ a: [[1], [2], [3], [4], [5]] });
    await expect(p).rejects.toThrow('first call fails');
    await b.close();
    expect(calls).toBe(1);
  });
});

describe('MicroBatcher: rows and arrays', () => {
  it('calls run as a plain function, not as a method of the batcher', async () => {
    let self: unknown = 'unset';
    const b = new MicroBatcher(
      function (this: unknown, _inputs, rows) {
        self = this;
        return new Array<number>(rows).fill(0);
      },
      { widths: { a: 1 } },
    );
    await b.submit({ a: [[1]] });
    expect(self).toBeUndefined();
  });

  it('copies rows at submit: the caller may change its arrays at once', async () => {
    const { run } = recorder();
    const b = new MicroBatcher(run, { widths: { a: 2 }, maxWaitMs: 0 });
    const x = new Float32Array([1, 2]);
    const p = b.submit({ a: x });
    x[0] = Number.NaN;
    expect(await p).toEqual(['a:1,2']);
  });

  it('passes float32 when every request gave float32, float64 otherwise (exact), or the asked dtype', async () => {
    const seen: string[] = [];
    const run: BatchRun<number> = (inputs, rows) => {
      seen.push((inputs.a as RowMatrix).constructor.name);
      return Array.from((inputs.a as RowMatrix).subarray(0, rows));
    };
    const auto = new MicroBatcher(run, { widths: { a: 1 }, maxWaitMs: 0 });
    const third = Math.fround(1 / 3);
    await Promise.all([auto.submit({ a: new Float32Array([third]) }), auto.submit({ a: new Float32Array([2]) })]);
    const mixed = await Promise.all([auto.submit({ a: new Float32Array([third]) }), auto.submit({ a: [[1 / 3]] })]);
    expect(mixed).toEqual([[third], [1 / 3]]);
    await auto.submit({ a: [[1]] });
    const f32 = new MicroBatcher(run, { widths: { a: 1 }, dtype: 'float32', maxWaitMs: 0 });
    expect(await f32.submit({ a: [[1 / 3]] })).toEqual([third]);
    const f64 = new MicroBatcher(run, { widths: { a: 1 }, dtype: 'float64', maxWaitMs: 0 });
    await f64.submit({ a: new Float32Array([1]) });
    expect(seen).toEqual(['Float32Array', 'Float64Array', 'Float64Array', 'Float32Array', 'Float64Array']);
  });

  it('takes widths as a function, read at every request', async () => {
    const widths = new Map([['a', 1]]);
    const b = new MicroBatcher(recorder().run, { widths: (n) => widths.get(n), maxWaitMs: 0 });
    expect(await codeOf(b.submit({ z: [[1, 2]] }))).toBe('ERR_HDGLUE_UNKNOWN_MEMBER');
    widths.set('z', 2);
    expect(await b.submit({ z: [[1, 2]] })).toEqual(['z:1,2']);
  });

  it('checks its options', () => {
    const run = recorder().run;
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as { code?: string }).code;
      }
      return undefined;
    };
    expect(code(() => new MicroBatcher(run, { widths: { a: 1 }, maxBatch: 0 }))).toBe('ERR_HDGLUE_OUT_OF_RANGE');
    expect(code(() => new MicroBatcher(run, { widths: { a: 1 }, maxBatch: 65537 }))).toBe('ERR_HDGLUE_OUT_OF_RANGE');
    expect(code(() => new MicroBatcher(run, { widths: { a: 1 }, maxWaitMs: -1 }))).toBe('ERR_HDGLUE_OUT_OF_RANGE');
    expect(code(() => new MicroBatcher(run, { widths: { a: 1 }, maxWaitMs: Number.NaN }))).toBe(
      'ERR_HDGLUE_OUT_OF_RANGE',
    );
    expect(code(() => new MicroBatcher(run, { widths: { a: 1 }, maxQueue: 1.5 }))).toBe('ERR_HDGLUE_OUT_OF_RANGE');
    expect(code(() => new MicroBatcher(run, { widths: { a: 1 }, concurrency: 0 }))).toBe('ERR_HDGLUE_OUT_OF_RANGE');
    expect(code(() => new MicroBatcher(run, { widths: { a: 0 } }))).toBe('ERR_HDGLUE_OUT_OF_RANGE');
    expect(code(() => new MicroBatcher(run, { widths: {} }))).toBe('ERR_HDGLUE_SHAPE');
    expect(code(() => new MicroBatcher(run, { widths: { a: 1 }, dtype: 'int8' as never }))).toBe(
      'ERR_HDGLUE_OUT_OF_RANGE',
    );
    expect(code(() => new MicroBatcher(run, { widths: { a: 1 }, maxBatch: '4' as never }))).toBe(
      'ERR_HDGLUE_INVALID_TYPE',
    );
    expect(code(() => new MicroBatcher('run' as never, { widths: { a: 1 } }))).toBe('ERR_HDGLUE_INVALID_TYPE');
    expect(code(() => new MicroBatcher(run, undefined as never))).toBe('ERR_HDGLUE_INVALID_TYPE');
  });
});
