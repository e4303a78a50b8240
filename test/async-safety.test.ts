// Async calls under abuse, on whichever backend the environment selects (npm test runs this file
// on native and again with HDGLUE_BACKEND=js): many at once with forced collections, the addon in
// several worker threads, inputs written to, transferred or shrunk while a call runs. The
// contract (README, "*Async functions"): never a crash; an input detached, transferred or resized
// while a call runs rejects it with ERR_HDGLUE_DETACHED; a view of a resizable ArrayBuffer is
// refused up front (ERR_HDGLUE_INVALID_TYPE); the encoders read their input when called, so later
// writes do not change their result; the scans read it in place, so a write during the call gives
// each distance from old or new words, in range, and never a crash. The crash-prone scenarios run
// in child processes, so a regression fails its test instead of killing the test runner.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../lib/backend/native.js';
import {
  Accumulators,
  bundleAsync,
  Codebook,
  EmbeddingEncoder,
  ErrorCode,
  HDGlue,
  HVBatch,
  hammingManyAsync,
  hammingMatrixAsync,
  ProjectionEncoder,
  randomBatch,
  randomHV,
  topKAsync,
} from '../lib/index.js';
import { prng, randomRows } from './helpers.js';

function child(script: string, args: string[]) {
  const r = spawnSync(process.execPath, ['--expose-gc', `test/stress/${script}`, ...args], {
    cwd: packageRoot,
    encoding: 'utf8',
    timeout: 60_000,
  });
  // A crash shows as a signal (SIGSEGV, SIGABRT) and no status.
  expect({ status: r.status, signal: r.signal, stderr: r.stderr.slice(-2000) }).toEqual({
    status: 0,
    signal: null,
    stderr: '',
  });
  return JSON.parse(r.stdout.trim().split('\n').pop() as string);
}

function resizableCopy<T extends Float32Array | Float64Array | Uint32Array | Int32Array>(a: T): T {
  const buf = new ArrayBuffer(a.byteLength, { maxByteLength: a.byteLength * 2 } as never);
  const view = new (a.constructor as new (b: ArrayBuffer) => T)(buf);
  view.set(a as never);
  return view;
}

async function rejection(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return `${(e as Error).name}:${(e as { code?: string }).code}`;
  }
  return 'resolved';
}

const INVALID = 'TypeError:ERR_HDGLUE_INVALID_TYPE';
const DETACHED = `Error:${ErrorCode.DETACHED}`;

describe(`async safety on the ${process.env.HDGLUE_BACKEND ?? 'default'} backend`, () => {
  it('many concurrent predictAsync and encodeBatchAsync calls with forced GC each get their own result', () => {
    const r = child('async-gc.mjs', ['6', '16']);
    expect(r).toEqual({ calls: 192, mismatches: 0 });
  });

  it('the addon works in several worker threads at once, each agreeing with the main thread', () => {
    const r = child('workers.mjs', ['4']);
    expect(r.mismatches).toBe(0);
    expect(r.workerBackends).toEqual([r.backend]);
  });

  it('inputs transferred and collected, or shrunk, under a running call never crash the process', () => {
    const r = child('detach-gc.mjs', ['4']);
    expect(r).toEqual({
      'encodeBatchAsync transferred:ERR_HDGLUE_DETACHED': 4,
      'predictAsync transferred:ERR_HDGLUE_DETACHED': 4,
      'hammingManyAsync resizable:ERR_HDGLUE_INVALID_TYPE': 4,
    });
  });

  it('refuses views of resizable ArrayBuffers in every async call (regression: a shrink crashed the worker)', async () => {
    const dim = 256;
    const batch = randomBatch(
      dim,
      Array.from({ length: 8 }, (_, i) => `r${i}`),
    );
    const rz = new HVBatch(dim, 8, resizableCopy(batch.data));
    const q = randomHV(dim, 'q');
    const rq = new HVBatch(dim, 1, resizableCopy(q.data)).row(0);
    expect(await rejection(hammingManyAsync(q, rz))).toBe(INVALID);
    expect(await rejection(hammingManyAsync(rq, batch))).toBe(INVALID);
    expect(await rejection(hammingMatrixAsync(batch, rz))).toBe(INVALID);
    expect(await rejection(topKAsync(q, rz, 3))).toBe(INVALID);
    expect(await rejection(bundleAsync(rz))).toBe(INVALID);
    const acc = new Accumulators(dim, 2, resizableCopy(new Int32Array(2 * dim)));
    expect(await rejection(acc.addAsync(0, batch))).toBe(INVALID);
    expect(await rejection(acc.dotAsync(batch))).toBe(INVALID);
    const enc = new EmbeddingEncoder({ features: 4, dim, bins: 8 });
    const x = Float32Array.from({ length: 8 }, (_, i) => Math.sin(i));
    expect(await rejection(enc.encodeBatchAsync(resizableCopy(x)))).toBe(INVALID);
    const proj = new ProjectionEncoder({ features: 4, dim });
    expect(await rejection(proj.encodeBatchAsync(resizableCopy(Float64Array.from(x))))).toBe(INVALID);
    // The synchronous twins read nothing after they return, so they accept such views.
    expect(enc.encodeBatch(resizableCopy(x)).equals(enc.encodeBatch(x))).toBe(true);
    // A refused call changed nothing.
    expect(acc.counters.every((c) => c === 0)).toBe(true);
  });

  it('a detached array is refused even once views of resizable buffers went through the same checks', () => {
    // Regression: V8 11 (Node 20) optimized code reports a detached typed array's old length after
    // it has seen length-tracking views of resizable ArrayBuffers, and reads the transferred memory.
    // The checks took `length` at its word: the TypeScript backend then computed on detached
    // arrays (or reported stale padding bits) where the addon refused them. They now use byteLength.
    const outcomes: Record<string, number> = {};
    const enc = new EmbeddingEncoder({ features: 2, dim: 64, bins: 4 });
    for (let i = 0; i < 30000; i++) {
      const n = 1 + (i % 5);
      const dim = 1 + (i % 7) * 40;
      const len = n * 2 * Math.ceil(dim / 64);
      const kind = i % 10 === 0 ? 'detached' : i % 10 === 1 ? 'resizable' : 'plain';
      const bytes = (len + 3) * 4;
      const buf =
        kind === 'resizable' ? new ArrayBuffer(bytes, { maxByteLength: bytes * 2 } as never) : new ArrayBuffer(bytes);
      const view = new Uint32Array(buf, 8, len);
      const x = new Float32Array(buf, 0, 2);
      if (kind === 'detached') {
        view.fill(0xffffffff);
        structuredClone(buf, { transfer: [buf] });
      }
      for (const [what, fn] of [
        ['batch', () => new HVBatch(dim, n, view)],
        ['encode', () => enc.encodeBatch(x)],
      ] as const) {
        let code = 'ok';
        try {
          fn();
        } catch (e) {
          code = (e as { code: string }).code;
        }
        const key = `${kind} ${what}: ${code}`;
        outcomes[key] = (outcomes[key] ?? 0) + 1;
      }
    }
    expect(outcomes).toEqual({
      'plain batch: ok': 24000,
      'plain encode: ok': 24000,
      'resizable batch: ok': 3000,
      'resizable encode: ok': 3000,
      'detached batch: ERR_HDGLUE_SHAPE': 3000,
      'detached encode: ERR_HDGLUE_SHAPE': 3000,
    });
  });

  it('the raw addon refuses them too, before queueing any work', () => {
    const raw = createRequire(import.meta.url)('node-gyp-build')(packageRoot) as Record<
      string,
      (...a: unknown[]) => unknown
    >;
    const rz = resizableCopy(new Uint32Array(8));
    let caught: unknown;
    try {
      raw.hamming1xNAsync?.(new Uint32Array(2), rz, 4, 1, new Uint32Array(4));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(TypeError);
    expect((caught as { code?: string }).code).toBe(ErrorCode.INVALID_TYPE);
  });

  it('an input transferred during each async call rejects it with ERR_HDGLUE_DETACHED', async () => {
    const dim = 512;
    const names = Array.from({ length: 32 }, (_, i) => `r${i}`);
    const give = (a: ArrayBufferView) => structuredClone(a.buffer, { transfer: [a.buffer as ArrayBuffer] });
    const fresh = () => randomBatch(dim, names);
    let b = fresh();
    let p = rejection(hammingManyAsync(randomHV(dim, 'q'), b));
    give(b.data);
    expect(await p).toBe(DETACHED);
    b = fresh();
    p = rejection(hammingMatrixAsync(fresh(), b));
    give(b.data);
    expect(await p).toBe(DETACHED);
    b = fresh();
    p = rejection(topKAsync(randomHV(dim, 'q'), b, 5));
    give(b.data);
    expect(await p).toBe(DETACHED);
    b = fresh();
    p = rejection(bundleAsync(b));
    give(b.data);
    expect(await p).toBe(DETACHED);
    // Regression: the accumulators queue their work, which ran on the detached array (the
    // TypeScript backend read it as zeros and added +1 to every counter; the addon raised
    // ERR_HDGLUE_SHAPE); now both report the detach and leave the counters as they were.
    const acc = new Accumulators(dim, 1);
    b = fresh();
    p = rejection(acc.addAsync(0, b));
    give(b.data);
    expect(await p).toBe(DETACHED);
    expect(acc.counters.every((c) => c === 0)).toBe(true);
    b = fresh();
    p = rejection(acc.dotAsync(b));
    give(b.data);
    expect(await p).toBe(DETACHED);
    const enc = new EmbeddingEncoder({ features: 16, dim, bins: 8 });
    const x = Float32Array.from({ length: 64 }, (_, i) => Math.cos(i));
    p = rejection(enc.encodeBatchAsync(x));
    give(x);
    expect(await p).toBe(DETACHED);
    const cb = new Codebook(dim);
    cb.addMany(names);
    const query = randomHV(dim, 'q');
    p = rejection(cb.nearestAsync(query, 2));
    give(query.data);
    expect(await p).toBe(DETACHED);
  });

  it('writes to an encoder input after the call do not change its result', async () => {
    const next = prng(11);
    const enc = new EmbeddingEncoder({ features: 24, dim: 1000, bins: 10 });
    const proj = new ProjectionEncoder({ features: 24, dim: 1000 });
    for (let rep = 0; rep < 10; rep++) {
      const x = Float32Array.from({ length: 24 * 50 }, () => (next() / 2 ** 32) * 2 - 1);
      const want = [enc.encodeBatch(x), proj.encodeBatch(x)];
      const pending = [enc.encodeBatchAsync(x), proj.encodeBatchAsync(x)];
      // Includes NaN and infinities, which the call would have refused had it read them.
      for (let i = 0; i < x.length; i++) x[i] = [Number.NaN, Number.POSITIVE_INFINITY, 1e30, -0][i % 4] as number;
      const got = await Promise.all(pending);
      expect(got[0]?.equals(want[0] as HVBatch)).toBe(true);
      expect(got[1]?.equals(want[1] as HVBatch)).toBe(true);
    }
  });

  it('writes to a scanned batch during the call give in-range results, never a crash', async () => {
    const next = prng(12);
    const dim = 4000;
    const n = 600;
    for (let rep = 0; rep < 6; rep++) {
      const batch = new HVBatch(dim, n, randomRows(dim, n, next));
      const q = new HVBatch(dim, 1, randomRows(dim, 1, next)).row(0);
      const other = randomRows(dim, n, next);
      const acc = new Accumulators(dim, 1);
      const pending = Promise.all([
        hammingManyAsync(q, batch),
        topKAsync(q, batch, 7),
        bundleAsync(batch),
        acc.addAsync(0, batch),
      ]);
      // Valid bits only (padding stays zero): the worker may see any mix of old and new words.
      batch.data.set(other);
      const [d, top, bundled] = await pending;
      expect(d.every((v) => v <= dim)).toBe(true);
      expect(top.indices.every((i) => i < n)).toBe(true);
      for (let i = 1; i < 7; i++) expect(top.distances[i]).toBeGreaterThanOrEqual(top.distances[i - 1] as number);
      expect(bundled.dim).toBe(dim);
      expect(acc.counters.every((c) => Math.abs(c) <= n && (c - n) % 2 === 0)).toBe(true);
    }
  });

  it('concurrent predictAsync calls in this process each give the synchronous answer', async () => {
    const dim = 1024;
    const next = prng(13);
    const x = Float32Array.from({ length: 16 * 60 }, () => (next() / 2 ** 32) * 2 - 1);
    const labels = Array.from({ length: 60 }, (_, i) => i % 3);
    const glue = new HDGlue();
    glue.addMember('m', { encoder: new EmbeddingEncoder({ features: 16, dim, bins: 8 }).fit(x) });
    glue.fit({ m: x }, labels);
    const want = glue.predict({ m: x });
    const all = await Promise.all(Array.from({ length: 12 }, () => glue.predictAsync({ m: x.slice() })));
    for (const got of all) expect(got).toEqual(want);
  });
});
