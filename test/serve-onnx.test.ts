// The server's ONNX hook: a member backed by a network takes raw input rows (nested in the
// network's row shape, flat, or as a .npy), which the front end runs through the network before
// the glue; answers equal the glue's on the embeddings OnnxMember computes itself. The loader is
// passed in for most cases; the last ones serve a model file that records its network, as
// `hdglue serve --model` does with nothing else given.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeOnnx, type OnnxGraph } from '../lib/demo/onnx-writer.js';
import { encodeNpy } from '../lib/io/npy.js';
import { HDGlue } from '../lib/model/glue.js';
import { OnnxMember } from '../lib/onnx/member.js';
import { onnxSourceOf } from '../lib/onnx/sources.js';
import { onnxFrontEnd } from '../lib/serve/model.js';
import { buildMember, DEFAULT_RECIPE } from '../lib/train/recipe.js';
import { prng } from './helpers.js';
import { appFor, closeApps } from './serve-fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'hdglue-serve-onnx-'));
const next = prng(5);
const uniform = () => next() / 2 ** 32 - 0.5;

// img [n, 1, 3, 3] -> Flatten -> MatMul K [9, 6] -> Tanh = "features".
const graph: OnnxGraph = {
  name: 'tiny-cnn',
  inputs: [{ name: 'img', shape: ['n', 1, 3, 3] }],
  outputs: [{ name: 'features', shape: ['n', 6] }],
  initializers: [{ name: 'K', dims: [9, 6], values: Array.from({ length: 54 }, () => 2 * uniform()) }],
  nodes: [
    { op: 'Flatten', inputs: ['img'], outputs: ['flat'], attributes: { axis: 1 } },
    { op: 'MatMul', inputs: ['flat', 'K'], outputs: ['k0'] },
    { op: 'Tanh', inputs: ['k0'], outputs: ['features'] },
  ],
};

const N = 120;
const images = Float32Array.from({ length: N * 9 }, uniform);
const other = Float32Array.from({ length: N * 4 }, uniform);
const labels = Array.from({ length: N }, (_, i) => i % 3);
for (let r = 0; r < N; r++) {
  images[r * 9 + (labels[r] as number)] += 1.5; // make the classes learnable
  other[r * 4 + (labels[r] as number)] += 1.5;
}
let cnnPath: string;
let modelPath: string;
let embeddings: Float32Array;
let glue: HDGlue;

beforeAll(async () => {
  cnnPath = join(dir, 'cnn.onnx');
  writeFileSync(cnnPath, await encodeOnnx(graph));
  const cnn = await OnnxMember.load(cnnPath, { output: 'features' });
  embeddings = (await cnn.embed(images)) as Float32Array;
  await cnn.close();
  const recipe = { ...DEFAULT_RECIPE, dim: 800, epochs: 3 };
  glue = new HDGlue()
    .addMember('cnn', buildMember(embeddings, 6, labels, recipe, 1))
    .addMember('other', buildMember(other, 4, labels, recipe, 2));
  modelPath = join(dir, 'model.hdg');
  glue.save(modelPath);
});
afterAll(async () => {
  await closeApps();
  rmSync(dir, { recursive: true, force: true });
});

const loader = async () => onnxFrontEnd({ cnn: await OnnxMember.load(cnnPath, { output: 'features' }) });
const image = (r: number) => [[0, 1, 2].map((y) => Array.from(images.subarray(r * 9 + 3 * y, r * 9 + 3 * y + 3)))];
const json = { 'content-type': 'application/json' };

describe('serving a glue with an ONNX member', () => {
  it('takes raw rows (nested or flat) and answers what the glue gives on the network embeddings', async () => {
    const { app } = await appFor(modelPath, { onnx: loader });
    const rows = 10;
    const want = glue.predict({ cnn: embeddings.subarray(0, rows * 6), other: other.subarray(0, rows * 4) });
    const otherRows = Array.from({ length: rows }, (_, r) => Array.from(other.subarray(r * 4, r * 4 + 4)));
    const nested = await app.fastify.inject({
      method: 'POST',
      url: '/v1/predict',
      headers: json,
      payload: JSON.stringify({ inputs: { cnn: Array.from({ length: rows }, (_, r) => image(r)), other: otherRows } }),
    });
    expect(nested.statusCode).toBe(200);
    expect(nested.json().labels).toEqual(want);
    const flat = await app.fastify.inject({
      method: 'POST',
      url: '/v1/predict',
      headers: json,
      payload: JSON.stringify({
        inputs: { cnn: Array.from({ length: rows }, (_, r) => Array.from(images.subarray(r * 9, r * 9 + 9))) },
        explain: true,
      }),
    });
    expect(flat.json().labels).toEqual(glue.predict({ cnn: embeddings.subarray(0, rows * 6) }));
    expect(flat.json().explain[0].members[0].name).toBe('cnn');
    const npy = await app.fastify.inject({
      method: 'POST',
      url: '/v1/predict?member=cnn&member=other',
      headers: { 'content-type': 'application/x-npy' },
      payload: Buffer.concat([
        encodeNpy({ shape: [rows, 1, 3, 3], data: images.subarray(0, rows * 9) }),
        encodeNpy({ shape: [rows, 4], data: other.subarray(0, rows * 4) }),
      ]),
    });
    expect(npy.json().labels).toEqual(want);
    const health = await app.fastify.inject({ method: 'GET', url: '/healthz' });
    expect(health.json().members).toEqual(['cnn', 'other']);
  });

  it('counts rows in the networks against --max-queue: a flood gets 503, the rest are answered', async () => {
    const { app } = await appFor(modelPath, { onnx: loader, maxQueue: 4 });
    const body = JSON.stringify({ inputs: { cnn: Array.from({ length: 3 }, (_, r) => image(r)) } });
    const answers = await Promise.all(
      Array.from({ length: 6 }, () =>
        app.fastify.inject({ method: 'POST', url: '/v1/predict', headers: json, payload: body }),
      ),
    );
    const codes = answers.map((a) => a.statusCode);
    expect(codes).toContain(200);
    expect(codes).toContain(503);
    for (const a of answers.filter((x) => x.statusCode === 503)) {
      expect(a.json().error.code).toBe('ERR_HDGLUE_QUEUE_FULL');
      expect(a.headers['retry-after']).toBeDefined();
    }
    // Refused at the networks, before their rows reach the predictor's own queue.
    expect(answers.some((a) => a.statusCode === 503 && /networks/.test(a.json().error.message))).toBe(true);
    const again = await app.fastify.inject({ method: 'POST', url: '/v1/predict', headers: json, payload: body });
    expect(again.statusCode).toBe(200);
  });

  it('refuses raw rows of the wrong shape with a code', async () => {
    const { app } = await appFor(modelPath, { onnx: loader });
    const cases: [unknown, string][] = [
      [[[[1, 2, 3]]], 'ERR_HDGLUE_INVALID_TYPE'], // a number where a row of the image belongs
      [[Array.from({ length: 6 }, () => 0)], 'ERR_HDGLUE_SHAPE'],
      [
        [
          [
            [
              [1, 2],
              [3, 4],
              [5, 6],
            ],
          ],
        ],
        'ERR_HDGLUE_SHAPE',
      ],
    ];
    for (const [cnn, code] of cases) {
      const r = await app.fastify.inject({
        method: 'POST',
        url: '/v1/predict',
        headers: json,
        payload: JSON.stringify({ inputs: { cnn } }),
      });
      expect(r.statusCode).toBe(400);
      expect(r.json().error.code).toBe(code);
    }
  });
});

describe('serving a self-contained model (the network recorded in the model file)', () => {
  it('builds the network from the record, with batching on, and answers as the glue does', async () => {
    const recorded = join(dir, 'recorded.hdg');
    const cnn = await OnnxMember.load(cnnPath, { output: 'features' });
    const copy = HDGlue.load(modelPath);
    copy.onnxSources = { cnn: onnxSourceOf(cnn, recorded) };
    await cnn.close();
    copy.save(recorded);
    const { app } = await appFor(recorded, { batch: true });
    const rows = 12;
    const r = await app.fastify.inject({
      method: 'POST',
      url: '/v1/predict',
      headers: json,
      payload: JSON.stringify({
        inputs: {
          cnn: Array.from({ length: rows }, (_, q) => image(q)),
          other: Array.from({ length: rows }, (_, q) => Array.from(other.subarray(q * 4, q * 4 + 4))),
        },
      }),
    });
    expect(r.statusCode).toBe(200);
    expect(r.json().labels).toEqual(
      glue.predict({ cnn: embeddings.subarray(0, rows * 6), other: other.subarray(0, rows * 4) }),
    );
  });

  it('refuses to start on a recorded network whose bytes changed, naming the file', async () => {
    const moved = join(dir, 'moved');
    const { mkdirSync, copyFileSync, appendFileSync } = await import('node:fs');
    mkdirSync(moved, { recursive: true });
    copyFileSync(cnnPath, join(moved, 'cnn.onnx'));
    const cnn = await OnnxMember.load(join(moved, 'cnn.onnx'), { output: 'features' });
    const copy = HDGlue.load(modelPath);
    copy.onnxSources = { cnn: onnxSourceOf(cnn, join(moved, 'model.hdg')) };
    await cnn.close();
    copy.save(join(moved, 'model.hdg'));
    appendFileSync(join(moved, 'cnn.onnx'), Buffer.from([0]));
    await expect(appFor(join(moved, 'model.hdg'), { batch: true })).rejects.toMatchObject({
      code: 'ERR_HDGLUE_ONNX_CHANGED',
      message: expect.stringContaining('cnn.onnx'),
    });
  });
});
