// ONNX members for real: small networks whose weights this file knows are written as ONNX files
// (protobufjs over hdglue's schema subset), run by onnxruntime-node on hdglue's worker thread,
// and their embeddings compared with the same network computed here in JavaScript and with
// onnxruntime's own output run directly. Runs on whichever backend the environment selects.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeOnnx, type OnnxGraph } from '../lib/demo/onnx-writer.js';
import { EmbeddingEncoder } from '../lib/encode/level.js';
import { ErrorCode } from '../lib/errors.js';
import { HDGlue } from '../lib/model/glue.js';
import { OnnxGlue, OnnxMember } from '../lib/onnx/index.js';
import { buildMember, DEFAULT_RECIPE } from '../lib/train/recipe.js';
import { prng } from './helpers.js';

const root = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'hdglue-onnx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const f = (name: string) => join(dir, name);

const next = prng(99);
const uniform = (lo: number, hi: number) => lo + ((hi - lo) * next()) / 2 ** 32;
const floats = (n: number, lo: number, hi: number) => Array.from({ length: n }, () => uniform(lo, hi));

// An MLP: x [batch, 4] -> MatMul W1 [4, 3] + b1 -> Tanh = "embedding" -> MatMul W2 [3, 2] + b2 = "logits".
const IN = 4;
const HID = 3;
const OUT = 2;
const W1 = floats(IN * HID, -1, 1);
const B1 = floats(HID, -0.5, 0.5);
const W2 = floats(HID * OUT, -1, 1);
const B2 = floats(OUT, -0.5, 0.5);
const mlpGraph = (extra: Partial<OnnxGraph> = {}): OnnxGraph => ({
  name: 'tiny-mlp',
  inputs: [{ name: 'x', shape: ['batch', IN] }],
  outputs: [
    { name: 'embedding', shape: ['batch', HID] },
    { name: 'logits', shape: ['batch', OUT] },
  ],
  initializers: [
    { name: 'W1', dims: [IN, HID], values: W1 },
    { name: 'b1', dims: [HID], values: B1 },
    { name: 'W2', dims: [HID, OUT], values: W2 },
    { name: 'b2', dims: [OUT], values: B2 },
  ],
  nodes: [
    { op: 'MatMul', inputs: ['x', 'W1'], outputs: ['h0'] },
    { op: 'Add', inputs: ['h0', 'b1'], outputs: ['h1'] },
    { op: 'Tanh', inputs: ['h1'], outputs: ['embedding'] },
    { op: 'MatMul', inputs: ['embedding', 'W2'], outputs: ['l0'] },
    { op: 'Add', inputs: ['l0', 'b2'], outputs: ['logits'] },
  ],
  ...extra,
});

// A small "CNN" member with image inputs: img [batch, 1, 3, 3] -> Flatten -> MatMul K [9, 5] -> Relu = "features".
const K = floats(9 * 5, -1, 1);
const cnnGraph: OnnxGraph = {
  name: 'tiny-cnn',
  inputs: [{ name: 'img', shape: ['n', 1, 3, 3] }],
  outputs: [{ name: 'features', shape: ['n', 5] }],
  initializers: [{ name: 'K', dims: [9, 5], values: K }],
  nodes: [
    { op: 'Flatten', inputs: ['img'], outputs: ['flat'], attributes: { axis: 1 } },
    { op: 'MatMul', inputs: ['flat', 'K'], outputs: ['k0'] },
    { op: 'Relu', inputs: ['k0'], outputs: ['features'] },
  ],
};

// The same networks in JavaScript, in float64 from the float32-rounded weights the files hold.
const f32 = (v: readonly number[]) => Array.from(Float32Array.from(v));
function mlpJs(x: Float32Array, n: number): { embedding: Float64Array; logits: Float64Array } {
  const [w1, b1, w2, b2] = [f32(W1), f32(B1), f32(W2), f32(B2)];
  const embedding = new Float64Array(n * HID);
  const logits = new Float64Array(n * OUT);
  for (let r = 0; r < n; r++) {
    for (let k = 0; k < HID; k++) {
      let s = b1[k] as number;
      for (let i = 0; i < IN; i++) s += (x[r * IN + i] as number) * (w1[i * HID + k] as number);
      embedding[r * HID + k] = Math.tanh(s);
    }
    for (let c = 0; c < OUT; c++) {
      let s = b2[c] as number;
      for (let k = 0; k < HID; k++) s += (embedding[r * HID + k] as number) * (w2[k * OUT + c] as number);
      logits[r * OUT + c] = s;
    }
  }
  return { embedding, logits };
}
function cnnJs(img: Float32Array, n: number): Float64Array {
  const k = f32(K);
  const out = new Float64Array(n * 5);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < 5; j++) {
      let s = 0;
      for (let i = 0; i < 9; i++) s += (img[r * 9 + i] as number) * (k[i * 5 + j] as number);
      out[r * 5 + j] = Math.max(0, s);
    }
  }
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

// onnxruntime's own output for a file, run in a separate process (not through hdglue), as JSON.
function ortDirect(path: string, input: string, output: string, data: Float32Array, dims: number[]): number[] {
  const script = `
    const ort = require('onnxruntime-node');
    const { path, input, output, data, dims } = JSON.parse(require('fs').readFileSync(0, 'utf8'));
    ort.InferenceSession.create(path).then(async (s) => {
      const r = await s.run({ [input]: new ort.Tensor('float32', Float32Array.from(data), dims) }, [output]);
      process.stdout.write(JSON.stringify(Array.from(r[output].data)));
    });`;
  const r = spawnSync(process.execPath, ['-e', script], {
    cwd: root,
    input: JSON.stringify({ path, input, output, data: Array.from(data), dims }),
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as number[];
}

const N = 37;
const X = Float32Array.from(floats(N * IN, -2, 2));
const IMGS = Float32Array.from(floats(N * 9, 0, 1));

beforeAll(async () => {
  writeFileSync(f('mlp.onnx'), await encodeOnnx(mlpGraph()));
  writeFileSync(f('cnn.onnx'), await encodeOnnx(cnnGraph));
});

describe('OnnxMember', () => {
  it('reads the named output: equal to the network computed in JavaScript and to onnxruntime run directly', async () => {
    const emb = await OnnxMember.load(f('mlp.onnx'), { output: 'embedding', batchSize: 8 });
    const log = await OnnxMember.load(f('mlp.onnx'), { output: 'logits', input: 'x' });
    try {
      expect(emb.input).toBe('x');
      expect(emb.inputShape).toEqual(['batch', IN]);
      expect(emb.outputs).toEqual(['embedding', 'logits']);
      expect(emb.features).toBe(HID);
      const e = await emb.embed(X); // 37 rows in batches of 8: five runs
      const l = await log.embed(X);
      expect(e).toBeInstanceOf(Float32Array);
      const js = mlpJs(X, N);
      // float32 arithmetic in onnxruntime against float64 here: agreement to float32 precision.
      expect(maxAbsDiff(e, js.embedding)).toBeLessThan(1e-6);
      expect(maxAbsDiff(l, js.logits)).toBeLessThan(1e-5);
      // And exactly what onnxruntime itself returns for that layer, batched or not.
      expect(Array.from(e)).toEqual(ortDirect(f('mlp.onnx'), 'x', 'embedding', X, [N, IN]));
      expect(Array.from(l)).toEqual(ortDirect(f('mlp.onnx'), 'x', 'logits', X, [N, IN]));
    } finally {
      await emb.close();
      await log.close();
    }
  });

  it('takes named tensors of the shape each model wants: images as { data, dims }, vectors as rows', async () => {
    const cnn = await OnnxMember.load(f('cnn.onnx'), { output: 'features', batchSize: 5 });
    const mlp = await OnnxMember.load(f('mlp.onnx'), { output: 'embedding' });
    try {
      const fromTensor = await cnn.embed({ data: IMGS, dims: [N, 1, 3, 3] });
      expect(maxAbsDiff(fromTensor, cnnJs(IMGS, N))).toBeLessThan(1e-6);
      // The same images as a flat Float32Array (row shape from the model) give the same values.
      expect(await cnn.embed(IMGS)).toEqual(fromTensor);
      const rows = Array.from({ length: N }, (_, r) => Array.from(X.subarray(r * IN, (r + 1) * IN)));
      expect(await mlp.embed(rows)).toEqual(await mlp.embed(X));
      // float64 inputs are converted to the model's float32.
      expect(await mlp.embed(Float64Array.from(X))).toEqual(await mlp.embed(X));
    } finally {
      await cnn.close();
      await mlp.close();
    }
  });

  it('runs off the event loop: timers keep firing while a large batch is inferred', async () => {
    // 4096 x 512 x 512 multiply-adds per layer, three layers: long enough to see the loop run.
    const W = 512;
    const wide: OnnxGraph = {
      name: 'wide',
      inputs: [{ name: 'x', shape: ['batch', W] }],
      outputs: [{ name: 'y', shape: ['batch', W] }],
      initializers: [{ name: 'M', dims: [W, W], values: floats(W * W, -0.05, 0.05) }],
      nodes: [
        { op: 'MatMul', inputs: ['x', 'M'], outputs: ['a'] },
        { op: 'Tanh', inputs: ['a'], outputs: ['b'] },
        { op: 'MatMul', inputs: ['b', 'M'], outputs: ['c'] },
        { op: 'Tanh', inputs: ['c'], outputs: ['d'] },
        { op: 'MatMul', inputs: ['d', 'M'], outputs: ['y'] },
      ],
    };
    writeFileSync(f('wide.onnx'), await encodeOnnx(wide));
    const m = await OnnxMember.load(f('wide.onnx'), { output: 'y', batchSize: 4096 });
    try {
      const x = Float32Array.from(floats(4096 * W, -1, 1));
      let ticks = 0;
      const timer = setInterval(() => ticks++, 1);
      let runs = 0;
      // Repeat until the inference has spanned several timer periods, however fast the CPU.
      const t0 = performance.now();
      while (runs === 0 || performance.now() - t0 < 100) {
        await m.embed(x);
        runs++;
      }
      clearInterval(timer);
      // Blocked by inference, the loop would get about one tick per run (between runs); free,
      // a 1 ms timer fires dozens of times during each run of tens of milliseconds.
      expect(ticks).toBeGreaterThanOrEqual(5 * runs);
    } finally {
      await m.close();
    }
  });

  it('errors name the member and the file: missing output, wrong input shape, corrupt or missing file', async () => {
    const mlp = f('mlp.onnx');
    await expect(OnnxMember.load(mlp, { output: 'hidden', name: 'resnet' })).rejects.toMatchObject({
      code: ErrorCode.ONNX_MODEL,
      message: expect.stringMatching(
        /member "resnet" \(.*mlp\.onnx\): the model has no output named "hidden"; its outputs are "embedding", "logits"/,
      ),
    });
    await expect(OnnxMember.load(mlp, { output: 'embedding', input: 'pixels' })).rejects.toMatchObject({
      code: ErrorCode.ONNX_MODEL,
      message: expect.stringMatching(/member "mlp" .*no input named "pixels"; its input is "x"/),
    });
    const m = await OnnxMember.load(mlp, { output: 'embedding', name: 'vit' });
    try {
      await expect(m.embed({ data: new Float32Array(30), dims: [6, 5] })).rejects.toMatchObject({
        code: ErrorCode.SHAPE,
        message: expect.stringMatching(
          /member "vit" \(.*mlp\.onnx\): the model's input takes shape \[batch, 4\], got \[6, 5\]/,
        ),
      });
      await expect(m.embed(new Float32Array(10))).rejects.toMatchObject({ code: ErrorCode.SHAPE });
      await expect(m.embed({ data: new Float32Array(8), dims: [2, 2, 2] })).rejects.toMatchObject({
        code: ErrorCode.SHAPE,
      });
    } finally {
      await m.close();
    }
    await expect(m.embed(X)).rejects.toMatchObject({ code: ErrorCode.ONNX_RUN, message: /closed/ });

    const bytes = readFileSync(mlp);
    writeFileSync(f('truncated.onnx'), bytes.subarray(0, bytes.length >> 1));
    writeFileSync(f('text.onnx'), 'this is not a model\n');
    for (const bad of ['truncated.onnx', 'text.onnx']) {
      await expect(OnnxMember.load(f(bad), { output: 'embedding', name: 'cnn' })).rejects.toMatchObject({
        code: ErrorCode.ONNX_MODEL,
        message: expect.stringContaining(
          `member "cnn" (${f(bad)}): onnxruntime cannot load this file as an ONNX model`,
        ),
      });
    }
    await expect(OnnxMember.load(f('absent.onnx'), { output: 'embedding' })).rejects.toMatchObject({
      code: ErrorCode.ONNX_MODEL,
      message: `member "absent" (${f('absent.onnx')}): cannot read the ONNX file: no such file`,
    });
  });

  it('refuses models it cannot feed or read: two inputs, an integer output', async () => {
    const two = mlpGraph({
      inputs: [
        { name: 'x', shape: ['batch', IN] },
        { name: 'unused', shape: ['batch', 1] },
      ],
    });
    writeFileSync(f('two.onnx'), await encodeOnnx(two));
    await expect(OnnxMember.load(f('two.onnx'), { output: 'embedding' })).rejects.toMatchObject({
      code: ErrorCode.ONNX_MODEL,
      message: expect.stringMatching(/takes 2 inputs \("x", "unused"\); an ONNX member feeds exactly one/),
    });
    const argmax: OnnxGraph = {
      ...mlpGraph(),
      outputs: [{ name: 'cls', type: 'int64', shape: ['batch', 1] }],
      nodes: [...mlpGraph().nodes, { op: 'ArgMax', inputs: ['logits'], outputs: ['cls'], attributes: { axis: 1 } }],
    };
    writeFileSync(f('argmax.onnx'), await encodeOnnx(argmax));
    await expect(OnnxMember.load(f('argmax.onnx'), { output: 'cls' })).rejects.toMatchObject({
      code: ErrorCode.ONNX_MODEL,
      message: expect.stringMatching(/output "cls" is a int64 tensor .* must be a float32 or float64 tensor/),
    });
  });

  it('runs a model whose batch dimension is fixed one row at a time', async () => {
    writeFileSync(f('fixed.onnx'), await encodeOnnx(mlpGraph({ inputs: [{ name: 'x', shape: [1, IN] }] })));
    const m = await OnnxMember.load(f('fixed.onnx'), { output: 'embedding', batchSize: 64 });
    try {
      expect(m.batchSize).toBe(1);
      expect(maxAbsDiff(await m.embed(X.subarray(0, 5 * IN)), mlpJs(X, 5).embedding)).toBeLessThan(1e-6);
    } finally {
      await m.close();
    }
  });
});

describe('OnnxGlue', () => {
  // Three classes whose inputs sit around different centres, for every member.
  const CLASSES = ['a', 'b', 'c'];
  function dataset(n: number) {
    const y = Array.from({ length: n }, (_, i) => CLASSES[i % 3] as string);
    const x = new Float32Array(n * IN);
    const img = new Float32Array(n * 9);
    const emb = new Float64Array(n * 6);
    y.forEach((_, r) => {
      const c = r % 3;
      for (let i = 0; i < IN; i++) x[r * IN + i] = (i % 3 === c ? 1.5 : -0.5) + uniform(-0.3, 0.3);
      for (let i = 0; i < 9; i++) img[r * 9 + i] = (i % 3 === c ? 0.9 : 0.1) + uniform(-0.1, 0.1);
      for (let i = 0; i < 6; i++) emb[r * 6 + i] = (i % 3 === c ? 1 : 0) + uniform(-0.4, 0.4);
    });
    return { y, raw: { mlp: x, cnn: { data: img, dims: [n, 1, 3, 3] }, precomputed: emb } };
  }

  it('mixes ONNX members (images, vectors) and precomputed embeddings in one glue', async () => {
    const cnn = await OnnxMember.load(f('cnn.onnx'), { output: 'features', batchSize: 16 });
    const mlp = await OnnxMember.load(f('mlp.onnx'), { output: 'embedding', batchSize: 16 });
    const og = new OnnxGlue({ cnn, mlp });
    try {
      const train = dataset(90);
      const test = dataset(60);
      const emb = await og.embed(train.raw);
      expect(Object.keys(emb)).toEqual(['mlp', 'cnn', 'precomputed']);
      expect(emb.precomputed).toBe(train.raw.precomputed);
      const widths: Record<string, number> = { mlp: HID, cnn: 5, precomputed: 6 };
      const recipe = { ...DEFAULT_RECIPE, dim: 2048 };
      for (const [name, x] of Object.entries(emb)) {
        const built = buildMember(x as Float32Array, widths[name] as number, train.y, recipe, name.length);
        og.glue.addMember(name, { encoder: built.encoder, hil: built.hil });
      }
      const predicted = await og.predict(test.raw);
      // The consensus on raw inputs is exactly the glue's on onnxruntime's embeddings.
      const direct = {
        mlp: Float32Array.from(ortDirect(f('mlp.onnx'), 'x', 'embedding', test.raw.mlp, [60, IN])),
        cnn: Float32Array.from(ortDirect(f('cnn.onnx'), 'img', 'features', test.raw.cnn.data, [60, 1, 3, 3])),
        precomputed: test.raw.precomputed,
      };
      expect(predicted).toEqual(og.glue.predict(direct));
      expect(await og.accuracy(test.raw, test.y)).toBeGreaterThan(0.9);
      // A member missing from the inputs is left out, as with the plain glue.
      expect((await og.predict({ cnn: test.raw.cnn })).length).toBe(60);
      // fit and fitWeights take raw inputs too.
      await og.fit(train.raw, train.y, { refine: { epochs: 2 } });
      const w = await og.fitWeights(test.raw, test.y);
      expect(Object.keys(w).sort()).toEqual(['cnn', 'mlp', 'precomputed']);
      await expect(og.embed({ precomputed: { data: new Float32Array(6), dims: [1, 6] } })).rejects.toMatchObject({
        code: ErrorCode.INVALID_TYPE,
      });
    } finally {
      await og.close();
    }
  });

  it('an error in one member names that member, as the glue calls it', async () => {
    const m = await OnnxMember.load(f('mlp.onnx'), { output: 'embedding' });
    const og = new OnnxGlue({ text: m }, new HDGlue());
    og.glue.addMember('text', { encoder: new EmbeddingEncoder({ features: HID, dim: 256 }) });
    try {
      await expect(og.predict({ text: new Float32Array(7) })).rejects.toMatchObject({
        code: ErrorCode.SHAPE,
        message: expect.stringContaining(`member "text" (${f('mlp.onnx')})`),
      });
    } finally {
      await og.close();
    }
  });
});

describe('packaging', () => {
  const probe = (code: string, cwd = root, env: NodeJS.ProcessEnv = {}) =>
    spawnSync(process.execPath, ['--input-type=module', '-e', code], {
      cwd,
      encoding: 'utf8',
      env: { ...process.env, ...env },
    });
  const loaded = `process.report.getReport().sharedObjects.filter((s) => /onnxruntime/.test(s))`;

  it('importing hdglue never loads onnxruntime; hdglue/onnx loads it only when a member is loaded', () => {
    const r = probe(`
      const h = await import('hdglue');
      const g = new h.HDGlue();
      const before = ${loaded};
      const { OnnxMember } = await import('hdglue/onnx');
      const imported = ${loaded};
      const m = await OnnxMember.load(${JSON.stringify(f('mlp.onnx'))}, { output: 'embedding' });
      const after = ${loaded};
      await m.close();
      console.log(JSON.stringify({ before: before.length, imported: imported.length, after: after.length }));`);
    expect(r.status, r.stderr).toBe(0);
    const counts = JSON.parse(r.stdout) as { before: number; imported: number; after: number };
    expect(counts.before).toBe(0);
    expect(counts.imported).toBe(0);
    expect(counts.after).toBeGreaterThan(0);
  });

  it('without onnxruntime-node installed, loading a member says how to install it', () => {
    // A project where hdglue is installed and onnxruntime-node is not: a copy of the package's
    // files, with only its own dependencies beside it.
    const project = f('project');
    const pkg = join(project, 'node_modules', 'hdglue');
    mkdirSync(pkg, { recursive: true });
    cpSync(join(root, 'package.json'), join(pkg, 'package.json'));
    cpSync(join(root, 'dist'), join(pkg, 'dist'), { recursive: true });
    symlinkSync(join(root, 'node_modules', 'node-gyp-build'), join(project, 'node_modules', 'node-gyp-build'));
    const r = probe(
      `
      const h = await import('hdglue');
      const { OnnxMember } = await import('hdglue/onnx');
      try {
        await OnnxMember.load(${JSON.stringify(f('mlp.onnx'))}, { output: 'embedding' });
        console.log('loaded');
      } catch (e) {
        console.log(JSON.stringify({ code: e.code, message: e.message, glue: typeof h.HDGlue }));
      }`,
      project,
      { HDGLUE_BACKEND: 'js' },
    );
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { code: string; message: string; glue: string };
    expect(out.glue).toBe('function');
    expect(out.code).toBe(ErrorCode.ONNX_RUNTIME_MISSING);
    expect(out.message).toMatch(/onnxruntime-node, which is not installed: npm install onnxruntime-node/);
  });
});
