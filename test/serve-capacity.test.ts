// Capacity, disconnects and reloads of `hdglue serve`, in process and deterministic: a fake
// batcher holds requests until the test lets them go, so "queued", "full" and "in flight" are
// states the test sets up rather than races it hopes to win.
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Label } from '../lib/label.js';
import type { GlueInputs, HDGlue } from '../lib/model/glue.js';
import {
  abortedError,
  type BatcherFactory,
  type BatcherLike,
  DirectPredictor,
  queueFullError,
} from '../lib/serve/predictor.js';
import { appFor, closeApps, digitsMembers, jsonRows, servedGlue } from './serve-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'hdglue-serve-capacity-'));
const pathA = join(dir, 'a.hdg');
const pathB = join(dir, 'b.hdg');
const live = join(dir, 'live.hdg');
let glueA: HDGlue;
const test = digitsMembers(8, 1200);
const body = (rows: number, names = ['top', 'bottom']) =>
  JSON.stringify({
    inputs: Object.fromEntries(names.map((n, i) => [n, jsonRows(i ? test.bottom : test.top, 0, rows)])),
  });

beforeAll(() => {
  glueA = servedGlue({ seed: 1 });
  glueA.save(pathA);
  servedGlue({ seed: 7, names: ['left', 'right'] }).save(pathB);
});
afterAll(async () => {
  await closeApps();
  rmSync(dir, { recursive: true, force: true });
});

/** A batcher that queues every request until release(); refuses past maxQueue rows. */
class HoldingBatcher implements BatcherLike {
  onBatch: ((rows: number) => void) | undefined;
  closed = false;
  readonly queue: { inputs: GlueInputs; rows: number; resolve(l: Label[]): void; reject(e: unknown): void }[] = [];
  constructor(
    readonly glue: HDGlue,
    readonly maxQueue: number,
  ) {}
  get queueDepth(): number {
    return this.queue.reduce((a, q) => a + q.rows, 0);
  }
  submit(inputs: GlueInputs, options?: { signal?: AbortSignal }): Promise<Label[]> {
    const rows = (Object.values(inputs)[0] as Float32Array).length / 32;
    if (this.queueDepth + rows > this.maxQueue) return Promise.reject(queueFullError(this.maxQueue));
    return new Promise((resolve, reject) => {
      const entry = { inputs, rows, resolve, reject };
      this.queue.push(entry);
      options?.signal?.addEventListener('abort', () => {
        const i = this.queue.indexOf(entry);
        if (i >= 0) this.queue.splice(i, 1);
        reject(abortedError());
      });
    });
  }
  release(): void {
    for (const q of this.queue.splice(0)) {
      this.onBatch?.(q.rows);
      q.resolve(this.glue.predict(q.inputs));
    }
  }
  async close(): Promise<void> {
    this.release();
    this.closed = true;
  }
}

function holding(maxQueue: number): { factory: BatcherFactory; made: HoldingBatcher[] } {
  const made: HoldingBatcher[] = [];
  return {
    made,
    factory: (glue) => {
      const b = new HoldingBatcher(glue, maxQueue);
      made.push(b);
      return b;
    },
  };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const json = { 'content-type': 'application/json' };

describe('a full queue', () => {
  it('answers 503 ERR_HDGLUE_QUEUE_FULL with Retry-After, and the queued request still completes', async () => {
    const h = holding(3);
    const { app } = await appFor(pathA, { batch: true, batcher: h.factory });
    const first = app.fastify.inject({ method: 'POST', url: '/v1/predict', headers: json, payload: body(2) });
    const b = h.made[0] as HoldingBatcher;
    await until(() => b.queue.length === 1, 'the first request to queue');
    const full = await app.fastify.inject({ method: 'POST', url: '/v1/predict', headers: json, payload: body(2) });
    expect(full.statusCode).toBe(503);
    expect(full.headers['retry-after']).toBe('1');
    expect(full.json().error.code).toBe('ERR_HDGLUE_QUEUE_FULL');
    const metrics = await app.fastify.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/^hdglue_queue_depth 2$/m);
    b.release();
    const r = await first;
    expect(r.statusCode).toBe(200);
    expect(r.json().labels).toEqual(
      glueA.predict({ top: test.top.subarray(0, 64), bottom: test.bottom.subarray(0, 64) }),
    );
  });
});

describe('a client that goes away', () => {
  it('gives its queued rows back (the batcher sees the abort) and the server keeps answering', async () => {
    const h = holding(4);
    // maxBatch 1: a request joining a queue of one batch or more gets its client's signal (one
    // joining a shorter queue runs in the next batch anyway, and is spared the signal's cost).
    const { app, holder } = await appFor(pathA, { batch: true, batcher: h.factory, maxBatch: 1 });
    const url = await app.fastify.listen({ host: '127.0.0.1', port: 0 });
    const b = h.made[0] as HoldingBatcher;
    // Four clients fill the queue, then hang up before any answer.
    const reqs = Array.from({ length: 4 }, () => {
      const req = httpRequest(`${url}/v1/predict`, { method: 'POST', headers: json });
      req.on('error', () => {});
      req.end(body(1));
      return req;
    });
    await until(() => b.queueDepth === 4, 'four queued rows');
    for (const r of reqs) r.destroy();
    // The three behind the first batch are dropped; the first one, next in line, is computed.
    await until(() => b.queueDepth === 1, 'the slots to be given back');
    b.release();
    await until(() => holder.queueDepth === 0, 'an empty queue');
    // The queue is usable again: no slot leaked.
    const ok = fetch(`${url}/v1/predict`, { method: 'POST', headers: json, body: body(4) });
    await until(() => b.queueDepth === 4, 'a new full batch');
    b.release();
    expect((await ok).status).toBe(200);
    const m = await (await fetch(`${url}/metrics`)).text();
    expect(m).toMatch(/^hdglue_requests_total\{route="\/v1\/predict",status="499"\} 4$/m);
  });

  it('batching off: the slot is released when the call settles', async () => {
    const { app, holder } = await appFor(pathA, { batch: false, maxQueue: 8 });
    const url = await app.fastify.listen({ host: '127.0.0.1', port: 0 });
    for (let i = 0; i < 20; i++) {
      const req = httpRequest(`${url}/v1/predict`, { method: 'POST', headers: json });
      req.on('error', () => {});
      req.end(body(8));
      setImmediate(() => req.destroy());
    }
    await new Promise((r) => setTimeout(r, 100));
    await until(() => holder.queueDepth === 0, 'every call to settle');
    const ok = await fetch(`${url}/v1/predict`, { method: 'POST', headers: json, body: body(8) });
    expect(ok.status).toBe(200);
  });
});

describe('DirectPredictor', () => {
  // A glue whose calls settle when the test says so.
  function fakeGlue() {
    const calls: { inputs: GlueInputs; settle(l: Label[]): void }[] = [];
    const glue = {
      predictAsync: (inputs: GlueInputs) => new Promise<Label[]>((settle) => calls.push({ inputs, settle })),
    } as unknown as HDGlue;
    return { glue, calls };
  }

  it('runs `concurrency` calls at once, queues the rest in order, and drops a queued request whose client left', async () => {
    const { glue, calls } = fakeGlue();
    const p = new DirectPredictor(glue, 100, 1);
    const batches: number[] = [];
    p.onBatch = (rows) => batches.push(rows);
    const a = p.predict({ a: [] }, 2, {});
    const gone = new AbortController();
    const b = p.predict({ b: [] }, 3, { signal: gone.signal });
    const c = p.predict({ c: [] }, 4, {});
    const left = new AbortController();
    left.abort();
    // Already gone when it would have to wait: refused at once.
    await expect(p.predict({ d: [] }, 1, { signal: left.signal })).rejects.toMatchObject({
      code: 'ERR_HDGLUE_ABORTED',
    });
    expect(calls).toHaveLength(1);
    expect(p.queueDepth).toBe(9);
    gone.abort();
    await expect(b).rejects.toMatchObject({ code: 'ERR_HDGLUE_ABORTED' });
    expect(p.queueDepth).toBe(6);
    calls[0]?.settle([1, 1]);
    await expect(a).resolves.toEqual([1, 1]);
    expect(calls.map((k) => Object.keys(k.inputs)[0])).toEqual(['a', 'c']);
    calls[1]?.settle([3, 3, 3, 3]);
    await expect(c).resolves.toEqual([3, 3, 3, 3]);
    expect(p.queueDepth).toBe(0);
    expect(batches).toEqual([2, 4]);
  });

  it('caps rows accepted, lets one oversized request in alone, and close finishes what was accepted', async () => {
    const { glue, calls } = fakeGlue();
    const p = new DirectPredictor(glue, 4, 1);
    const big = p.predict({}, 10, {}); // more than the cap, but nothing else is queued
    expect(p.queueDepth).toBe(10);
    await expect(p.predict({}, 1, {})).rejects.toMatchObject({ code: 'ERR_HDGLUE_QUEUE_FULL' });
    calls[0]?.settle([1]);
    await big;
    expect(p.queueDepth).toBe(0);
    const running = p.predict({}, 2, {});
    const waiting = p.predict({}, 2, {});
    let closed = false;
    const closing = p.close().then(() => {
      closed = true;
    });
    await expect(p.predict({}, 1, {})).rejects.toMatchObject({ code: 'ERR_HDGLUE_CLOSED' });
    await new Promise((r) => setTimeout(r, 10));
    expect(closed).toBe(false);
    calls[1]?.settle([2, 2]);
    await expect(running).resolves.toEqual([2, 2]);
    calls[2]?.settle([3, 3]);
    await expect(waiting).resolves.toEqual([3, 3]);
    await closing;
    expect(closed).toBe(true);
  });
});

describe('reload', () => {
  it('swaps the model for new requests while a request in flight finishes on the old one', async () => {
    copyFileSync(pathA, live);
    const h = holding(100);
    const { app, holder, logs } = await appFor(live, { batch: true, batcher: h.factory });
    const old = app.fastify.inject({ method: 'POST', url: '/v1/predict', headers: json, payload: body(3) });
    const a = h.made[0] as HoldingBatcher;
    await until(() => a.queue.length === 1, 'the request on the old model');
    copyFileSync(pathB, live);
    const result = await holder.reload();
    expect(result.ok).toBe(true);
    expect(logs.at(-1)).toMatch(/reloaded .*live\.hdg \(members: left, right\)/);
    // The old model is retired but not closed: its request is still queued.
    expect(a.closed).toBe(false);
    const health = await app.fastify.inject({ method: 'GET', url: '/healthz' });
    expect(health.json().members).toEqual(['left', 'right']);
    const fresh = app.fastify.inject({
      method: 'POST',
      url: '/v1/predict',
      headers: json,
      payload: body(3, ['left', 'right']),
    });
    const b = h.made[1] as HoldingBatcher;
    await until(() => b.queue.length === 1, 'the request on the new model');
    b.release();
    expect((await fresh).statusCode).toBe(200);
    const stale = await app.fastify.inject({ method: 'POST', url: '/v1/predict', headers: json, payload: body(3) });
    expect(stale.json().error.code).toBe('ERR_HDGLUE_UNKNOWN_MEMBER');
    a.release();
    const r = await old;
    expect(r.statusCode).toBe(200);
    expect(r.json().labels).toEqual(
      glueA.predict({ top: test.top.subarray(0, 96), bottom: test.bottom.subarray(0, 96) }),
    );
    await until(() => a.closed, 'the old model to close once its last request is done');
  });

  it('keeps the old model when the new file does not load, and says so in one line', async () => {
    copyFileSync(pathA, live);
    const { app, holder, logs } = await appFor(live);
    writeFileSync(live, Buffer.from('HDGLUE but not really a model file'));
    const result = await holder.reload();
    expect(result.ok).toBe(false);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/^hdglue: reload failed, still serving the previous model: .*live\.hdg/);
    expect(logs[0]).not.toContain('\n');
    const r = await app.fastify.inject({ method: 'POST', url: '/v1/predict', headers: json, payload: body(2) });
    expect(r.statusCode).toBe(200);
    const m = await app.fastify.inject({ method: 'GET', url: '/metrics' });
    expect(m.body).toMatch(/^hdglue_reloads_total\{result="failed"\} 1$/m);
  });
});
