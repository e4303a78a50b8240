// The routes of `hdglue serve`, in process through fastify's inject: answers equal the glue's own
// predictions on the same float32 rows (JSON, raw float32 and .npy bodies, batching off and, once
// lib/batch is wired in, on), and every bad request is a 4xx with a stable code.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeNpy } from '../lib/io/npy.js';
import type { HDGlue } from '../lib/model/glue.js';
import type { App } from '../lib/serve/app.js';
import { appFor, closeApps, digitsMembers, jsonRows, servedGlue } from './serve-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'hdglue-serve-routes-'));
const modelPath = join(dir, 'vote.hdg');
const concatPath = join(dir, 'concat.hdg');
let glue: HDGlue;
const test = digitsMembers(40, 1000);

beforeAll(() => {
  glue = servedGlue();
  glue.save(modelPath);
  servedGlue({ consensus: 'concat' }).save(concatPath);
});
afterAll(async () => {
  await closeApps();
  rmSync(dir, { recursive: true, force: true });
});

const MODES = [false, true];

function post(app: App, payload: unknown, headers: Record<string, string> = {}, url = '/v1/predict') {
  const body = typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload);
  return app.fastify.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', ...headers },
    payload: body as string,
  });
}

describe.each(MODES)('POST /v1/predict (batching %s)', (batch) => {
  it('answers the labels glue.predict gives for the same float32 rows, one request or many', async () => {
    const { app } = await appFor(modelPath, { batch });
    const want = glue.predict({ top: test.top, bottom: test.bottom });
    const r = await post(app, { inputs: { top: jsonRows(test.top, 0, 40), bottom: jsonRows(test.bottom, 0, 40) } });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ labels: want });
    // Single-row requests at once (coalesced when batching is on): each its own row's label.
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        post(app, { inputs: { top: jsonRows(test.top, i, 1), bottom: jsonRows(test.bottom, i, 1) } }),
      ),
    );
    expect(answers.map((a) => a.json().labels[0])).toEqual(want.slice(0, 12));
    // A member may be left out: the glue votes with the ones present.
    const one = await post(app, { inputs: { bottom: jsonRows(test.bottom, 0, 5) } });
    expect(one.json().labels).toEqual(glue.predict({ bottom: test.bottom.subarray(0, 5 * 32) }));
  });

  it('takes raw little-endian float32 rows and .npy files, with the members in the query', async () => {
    const { app } = await appFor(modelPath, { batch });
    const want = glue.predict({ top: test.top, bottom: test.bottom });
    const raw = Buffer.concat([Buffer.from(test.top.buffer), Buffer.from(test.bottom.buffer)]);
    const a = await post(app, raw, { 'content-type': 'application/octet-stream' });
    expect(a.statusCode).toBe(200);
    expect(a.json().labels).toEqual(want);
    // The order of the query, not the model's.
    const swapped = Buffer.concat([Buffer.from(test.bottom.buffer), Buffer.from(test.top.buffer)]);
    const b = await post(
      app,
      swapped,
      { 'content-type': 'application/octet-stream' },
      '/v1/predict?member=bottom&member=top',
    );
    expect(b.json().labels).toEqual(want);
    const npy = Buffer.concat([
      encodeNpy({ shape: [40, 32], data: test.top }),
      encodeNpy({ shape: [40, 32], data: Float64Array.from(test.bottom) }),
    ]);
    const c = await post(app, npy, { 'content-type': 'application/x-npy' });
    expect(c.json().labels).toEqual(want);
    const d = await post(
      app,
      Buffer.from(encodeNpy({ shape: [40, 32], data: test.top })),
      { 'content-type': 'application/x-npy' },
      '/v1/predict?member=top',
    );
    expect(d.json().labels).toEqual(glue.predict({ top: test.top }));
  });
});

describe('scores and explain', () => {
  it('give each row the vote totals and the members explanation, aligned with classes', async () => {
    const { app } = await appFor(modelPath);
    const r = await post(app, {
      inputs: { top: jsonRows(test.top, 0, 3), bottom: jsonRows(test.bottom, 0, 3) },
      scores: true,
      explain: true,
    });
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body.classes).toEqual(glue.labels());
    expect(body.scores).toHaveLength(3);
    expect(body.explain).toHaveLength(3);
    for (let i = 0; i < 3; i++) {
      const e = glue.explain({
        top: test.top.subarray(i * 32, (i + 1) * 32),
        bottom: test.bottom.subarray(i * 32, (i + 1) * 32),
      });
      expect(body.explain[i].label).toBe(body.labels[i]);
      expect(body.explain[i].label).toBe(e.label);
      expect(body.scores[i]).toEqual(glue.labels().map((c) => e.totals.get(c) ?? null));
      expect(body.explain[i].members.map((m: { name: string }) => m.name)).toEqual(['top', 'bottom']);
    }
    const q = await post(
      app,
      Buffer.from(test.top.buffer),
      { 'content-type': 'application/octet-stream' },
      '/v1/predict?member=top&scores=1',
    );
    expect(q.json().scores).toHaveLength(40);
    expect(q.json().explain).toBeUndefined();
  });

  it('are refused for a model that does not vote', async () => {
    const { app } = await appFor(concatPath);
    const ok = await post(app, { inputs: { top: jsonRows(test.top, 0, 2), bottom: jsonRows(test.bottom, 0, 2) } });
    expect(ok.statusCode).toBe(200);
    const r = await post(app, {
      inputs: { top: jsonRows(test.top, 0, 2), bottom: jsonRows(test.bottom, 0, 2) },
      scores: true,
    });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.code).toBe('ERR_HDGLUE_OUT_OF_RANGE');
  });
});

describe('bad requests', () => {
  const row = () => jsonRows(test.top, 0, 1)[0] as number[];
  const cases: [string, unknown, string, Record<string, string>?][] = [
    ['not JSON', '{"inputs": {"top": [[1, 2', 'ERR_HDGLUE_BAD_REQUEST'],
    ['NaN spelled in JSON', '{"inputs": {"top": [[NaN]]}}', 'ERR_HDGLUE_BAD_REQUEST'],
    ['an empty body', '', 'ERR_HDGLUE_BAD_REQUEST'],
    ['a JSON array', '[1, 2]', 'ERR_HDGLUE_BAD_REQUEST'],
    ['no inputs', { scores: true }, 'ERR_HDGLUE_BAD_REQUEST'],
    ['an unknown key', { inputs: { top: [row()] }, score: true }, 'ERR_HDGLUE_BAD_REQUEST'],
    ['scores not a boolean', { inputs: { top: [row()] }, scores: 'yes' }, 'ERR_HDGLUE_BAD_REQUEST'],
    ['no member', { inputs: {} }, 'ERR_HDGLUE_NO_INPUT'],
    ['an unknown member', { inputs: { left: [row()] } }, 'ERR_HDGLUE_UNKNOWN_MEMBER'],
    ['a member named __proto__', '{"inputs": {"__proto__": [[1]]}}', 'ERR_HDGLUE_BAD_REQUEST'],
    ['a member named constructor', { inputs: { constructor: [row()] } }, 'ERR_HDGLUE_UNKNOWN_MEMBER'],
    ['rows not an array', { inputs: { top: 'rows' } }, 'ERR_HDGLUE_INVALID_TYPE'],
    ['no rows', { inputs: { top: [] } }, 'ERR_HDGLUE_SHAPE'],
    ['a wrong width', { inputs: { top: [row().slice(1)] } }, 'ERR_HDGLUE_SHAPE'],
    ['a string value', { inputs: { top: [[...row().slice(1), '1']] } }, 'ERR_HDGLUE_INVALID_TYPE'],
    ['a nested row', { inputs: { top: [[row()]] } }, 'ERR_HDGLUE_SHAPE'],
    ['a value beyond float32', { inputs: { top: [[...row().slice(1), 1e39]] } }, 'ERR_HDGLUE_NOT_FINITE'],
    [
      '1e999 (Infinity once parsed)',
      `{"inputs": {"top": [[${[...row().slice(1), '1e999'].join(',')}]]}}`,
      'ERR_HDGLUE_NOT_FINITE',
    ],
    ['row counts that differ', { inputs: { top: [row(), row()], bottom: [row()] } }, 'ERR_HDGLUE_SHAPE'],
    [
      'a query with a JSON body',
      { inputs: { top: [row()] } },
      'ERR_HDGLUE_BAD_REQUEST',
      { url: '/v1/predict?scores=1' },
    ],
    ['text/plain', 'hello', 'ERR_HDGLUE_BAD_REQUEST', { 'content-type': 'text/plain' }],
    ['an unknown content type', 'x', 'ERR_HDGLUE_BAD_REQUEST', { 'content-type': 'image/png' }],
  ];
  it.each(cases)('%s: 4xx with the code', async (_what, payload, code, extra = {}) => {
    const { app } = await appFor(modelPath);
    const { url, ...headers } = extra;
    const r = await post(app, payload, headers, url);
    expect(r.statusCode).toBeGreaterThanOrEqual(400);
    expect(r.statusCode).toBeLessThan(500);
    expect(r.json().error.code).toBe(code);
    expect(typeof r.json().error.message).toBe('string');
  });

  it('binary bodies: wrong lengths, NaN, unknown or repeated members, truncated or trailing .npy', async () => {
    const { app } = await appFor(modelPath);
    const f32 = { 'content-type': 'application/octet-stream' };
    const npy = { 'content-type': 'application/x-npy' };
    const nan = Float32Array.from(test.top.subarray(0, 64));
    nan[40] = Number.NaN;
    const one = encodeNpy({ shape: [2, 32], data: test.top.subarray(0, 64) });
    const expectCode = async (
      r: Promise<{ statusCode: number; json(): { error: { code: string } } }>,
      code: string,
    ) => {
      const a = await r;
      expect(a.statusCode).toBe(400);
      expect(a.json().error.code).toBe(code);
    };
    await expectCode(post(app, Buffer.alloc(4 * 63), f32, '/v1/predict?member=top'), 'ERR_HDGLUE_SHAPE');
    await expectCode(post(app, Buffer.alloc(0), f32), 'ERR_HDGLUE_SHAPE');
    await expectCode(post(app, Buffer.from(nan.buffer), f32, '/v1/predict?member=top'), 'ERR_HDGLUE_NOT_FINITE');
    await expectCode(post(app, Buffer.alloc(128), f32, '/v1/predict?member=left'), 'ERR_HDGLUE_UNKNOWN_MEMBER');
    await expectCode(post(app, Buffer.alloc(256), f32, '/v1/predict?member=top&member=top'), 'ERR_HDGLUE_BAD_REQUEST');
    await expectCode(post(app, Buffer.alloc(128), f32, '/v1/predict?member=top&verbose=1'), 'ERR_HDGLUE_BAD_REQUEST');
    await expectCode(
      post(app, Buffer.from(one.subarray(0, one.length - 3)), npy, '/v1/predict?member=top'),
      'ERR_HDGLUE_NPY',
    );
    await expectCode(
      post(app, Buffer.concat([one, Buffer.alloc(5)]), npy, '/v1/predict?member=top'),
      'ERR_HDGLUE_SHAPE',
    );
    await expectCode(post(app, Buffer.from(one), npy), 'ERR_HDGLUE_NPY'); // bottom's .npy is missing
    await expectCode(post(app, Buffer.from('not an npy at all'), npy, '/v1/predict?member=top'), 'ERR_HDGLUE_NPY');
    const wide = encodeNpy({ shape: [2, 31], data: new Float32Array(62) });
    await expectCode(post(app, Buffer.from(wide), npy, '/v1/predict?member=top'), 'ERR_HDGLUE_SHAPE');
    const ints = encodeNpy({ shape: [2, 32], data: new Int32Array(64) });
    await expectCode(post(app, Buffer.from(ints), npy, '/v1/predict?member=top'), 'ERR_HDGLUE_NPY');
  });

  it('a body over the limit is 413 ERR_HDGLUE_LIMIT', async () => {
    const { app } = await appFor(modelPath, { bodyLimit: 4096 });
    const r = await post(app, { inputs: { top: jsonRows(test.top, 0, 40) } });
    expect(r.statusCode).toBe(413);
    expect(r.json().error.code).toBe('ERR_HDGLUE_LIMIT');
  });

  it('rows that claim more values than the body can hold are 400, refused before any allocation', async () => {
    const { app } = await appFor(modelPath, { bodyLimit: 4096 });
    // 600 empty rows fit in 4 KiB of body but claim 600 x 32 values, more than 4 KiB can spell.
    const r = await post(app, `{"inputs": {"top": [${Array(600).fill('[]').join(',')}]}}`);
    expect(r.statusCode).toBe(400);
    expect(r.json().error.code).toBe('ERR_HDGLUE_SHAPE');
    expect(r.json().error.message).toMatch(/cannot fit/);
  });

  it('unknown routes and methods are 404 with a code', async () => {
    const { app } = await appFor(modelPath);
    for (const [method, url] of [
      ['GET', '/v1/predict'],
      ['GET', '/etc/passwd'],
      ['POST', '/healthz'],
    ] as const) {
      const r = await app.fastify.inject({ method, url });
      expect(r.statusCode).toBe(404);
      expect(r.json().error.code).toBe('ERR_HDGLUE_BAD_REQUEST');
    }
  });
});

describe('GET /healthz and /metrics', () => {
  it('healthz names the model; metrics has the hdglue series', async () => {
    const { app } = await appFor(modelPath);
    const h = await app.fastify.inject({ method: 'GET', url: '/healthz' });
    expect(h.statusCode).toBe(200);
    expect(h.json()).toMatchObject({ status: 'ok', model: basename(modelPath), members: ['top', 'bottom'] });
    await post(app, { inputs: { top: jsonRows(test.top, 0, 7), bottom: jsonRows(test.bottom, 0, 7) } });
    await post(app, { inputs: { top: 'x' } });
    const m = await app.fastify.inject({ method: 'GET', url: '/metrics' });
    expect(m.statusCode).toBe(200);
    expect(m.headers['content-type']).toMatch(/^text\/plain/);
    const text = m.body;
    expect(text).toMatch(/^hdglue_requests_total\{route="\/v1\/predict",status="200"\} 1$/m);
    expect(text).toMatch(/^hdglue_requests_total\{route="\/v1\/predict",status="400"\} 1$/m);
    expect(text).toMatch(/^hdglue_request_duration_seconds_count\{route="\/v1\/predict"\} 2$/m);
    expect(text).toMatch(/^hdglue_batch_size_sum 7$/m);
    expect(text).toMatch(/^hdglue_rows_total 7$/m);
    expect(text).toMatch(/^hdglue_queue_depth 0$/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
  });
});
