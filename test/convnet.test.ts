// The networks of `npm run accuracy:large` (lib/demo/convnet.ts): the backward pass against
// finite differences for every layer kind, the blocked matrix product against a plain one, the
// seeded determinism, the ONNX export run by onnxruntime against the JavaScript outputs, and the
// stratified split of lib/demo/fashion.ts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type NetSpec, Network } from '../lib/demo/convnet.js';
import { NETWORK_OUTPUTS, networkToOnnx } from '../lib/demo/convnet-onnx.js';
import { splitRows } from '../lib/demo/fashion.js';
import { gemm } from '../lib/demo/gemm.js';
import { OnnxMember } from '../lib/onnx/index.js';
import { prng } from './helpers.js';

function randomArray(n: number, seed: number, scale = 1): Float32Array {
  const next = prng(seed);
  return Float32Array.from({ length: n }, () => (next() / 2 ** 32 - 0.5) * 2 * scale);
}

describe('gemm', () => {
  it('matches a plain triple loop for every stride layout and edge size', () => {
    for (const [M, N, K] of [
      [1, 1, 1],
      [4, 4, 4],
      [5, 7, 3],
      [9, 13, 17],
    ] as const) {
      const a = randomArray(M * K, M * 100 + K);
      const b = randomArray(K * N, N * 100 + K);
      for (const aT of [false, true]) {
        for (const bT of [false, true]) {
          const c = randomArray(M * N, 7);
          const want = Float64Array.from(c);
          for (let i = 0; i < M; i++)
            for (let j = 0; j < N; j++) {
              let s = 0;
              for (let k = 0; k < K; k++)
                s += (a[aT ? k * M + i : i * K + k] as number) * (b[bT ? j * K + k : k * N + j] as number);
              want[i * N + j] = (want[i * N + j] as number) + s;
            }
          gemm(M, N, K, a, 0, aT ? 1 : K, aT ? M : 1, b, 0, bT ? 1 : N, bT ? K : 1, c, 0, N);
          c.forEach((v, i) => {
            expect(v).toBeCloseTo(want[i] as number, 5);
          });
        }
      }
    }
  });
});

describe('Network', () => {
  const specs: Record<string, NetSpec> = {
    cnn: {
      input: [1, 8, 8],
      classes: 3,
      layers: [
        { kind: 'conv', filters: 3, kernel: 3 },
        { kind: 'relu' },
        { kind: 'maxpool', size: 2 },
        { kind: 'dense', units: 5 },
        { kind: 'tanh' },
      ],
    },
    twoConv: {
      input: [2, 7, 7],
      classes: 4,
      layers: [
        { kind: 'conv', filters: 3, kernel: 2 },
        { kind: 'tanh' },
        { kind: 'conv', filters: 2, kernel: 3 },
        { kind: 'relu' },
        { kind: 'maxpool', size: 2 },
      ],
    },
    mlp: { input: [1, 1, 10], classes: 3, layers: [{ kind: 'dense', units: 6 }, { kind: 'relu' }] },
  };

  for (const [name, spec] of Object.entries(specs)) {
    it(`${name}: gradients agree with central differences`, () => {
      const size = spec.input[0] * spec.input[1] * spec.input[2];
      const n = 5;
      const x = randomArray(n * size, 11);
      const y = Array.from({ length: n }, (_, i) => i % spec.classes);
      const net = new Network(spec, 3);
      const { grads } = net.gradients(x, y);
      const params = net.parameters();
      let checked = 0;
      params.forEach((p, pi) => {
        // A few entries of each array; float32 weights and activations, so a tolerance of about 1e-3.
        for (let i = 0; i < p.length; i += Math.max(1, Math.floor(p.length / 6))) {
          const keep = p[i] as number;
          p[i] = keep + 1e-3;
          const up = net.gradients(x, y).loss;
          p[i] = keep - 1e-3;
          const down = net.gradients(x, y).loss;
          p[i] = keep;
          const numeric = (up - down) / 2e-3;
          const analytic = (grads[pi] as Float32Array)[i] as number;
          expect(Math.abs(numeric - analytic)).toBeLessThan(1e-3 + 1e-2 * Math.abs(numeric));
          checked++;
        }
      });
      expect(checked).toBeGreaterThan(10);
    });
  }

  it('trains deterministically for a seed and learns a separable problem', () => {
    const spec = specs.mlp as NetSpec;
    const n = 300;
    const next = prng(5);
    const x = new Float32Array(n * 10);
    const y: number[] = [];
    for (let r = 0; r < n; r++) {
      const c = r % 3;
      y.push(c);
      for (let k = 0; k < 10; k++) x[r * 10 + k] = (k % 3 === c ? 1 : 0) + (next() / 2 ** 32 - 0.5);
    }
    const a = Network.train(spec, x, y, { epochs: 5, learningRate: 1e-2, seed: 9, batchSize: 32 });
    const b = Network.train(spec, x, y, { epochs: 5, learningRate: 1e-2, seed: 9, batchSize: 32 });
    expect(a.parameters()).toEqual(b.parameters());
    expect(a.accuracy(x, y)).toBeGreaterThan(0.95);
    const { embeddings, probabilities } = a.outputs(x, 64);
    expect(embeddings.length).toBe(n * 6);
    expect(probabilities.length).toBe(n * 3);
    for (let r = 0; r < n; r++) {
      const s =
        (probabilities[r * 3] as number) + (probabilities[r * 3 + 1] as number) + (probabilities[r * 3 + 2] as number);
      expect(s).toBeCloseTo(1, 5);
    }
  });
});

describe('splitRows', () => {
  it('gives exact part sizes, disjoint rows, and each class its share to within two rows', () => {
    const labels = Array.from({ length: 1003 }, (_, i) => ((i * 7) % 10 === 3 ? 9 : i % 4));
    const parts = splitRows(labels, [100, 600, Number.POSITIVE_INFINITY], 4);
    expect(parts.map((p) => p.length)).toEqual([100, 600, 303]);
    expect(new Set(parts.flat()).size).toBe(1003);
    const count = (rows: number[], c: number) => rows.filter((r) => labels[r] === c).length;
    for (const c of new Set(labels)) {
      const all = labels.filter((l) => l === c).length;
      for (const p of parts) expect(Math.abs(count(p, c) - (all * p.length) / 1003)).toBeLessThanOrEqual(2);
    }
    expect(splitRows(labels, [100, 600, Number.POSITIVE_INFINITY], 4)).toEqual(parts);
    expect(() => splitRows(labels, [1000, 10], 4)).toThrow(RangeError);
  });
});

describe('networkToOnnx', () => {
  it('runs in onnxruntime with the same outputs as the JavaScript network, from uint8 pixels', async () => {
    const spec: NetSpec = {
      input: [2, 9, 9],
      classes: 4,
      layers: [
        { kind: 'conv', filters: 3, kernel: 3 },
        { kind: 'relu' },
        { kind: 'maxpool', size: 2 },
        { kind: 'dense', units: 6 },
        { kind: 'tanh' },
      ],
    };
    const net = new Network(spec, 12);
    const n = 7;
    const next = prng(21);
    const pixels = Uint8Array.from({ length: n * 162 }, () => next() % 256);
    const dir = mkdtempSync(join(tmpdir(), 'hdglue-convnet-onnx-'));
    try {
      const path = join(dir, 'net.onnx');
      writeFileSync(path, await networkToOnnx(net, 'net'));
      const run = async (output: string) => {
        const m = await OnnxMember.load(path, { output });
        try {
          return await m.embed({ data: pixels, dims: [n, 2, 9, 9] });
        } finally {
          await m.close();
        }
      };
      const js = net.outputs(Float32Array.from(pixels, (p) => p / 255));
      const features = await run(NETWORK_OUTPUTS.features);
      const probabilities = await run(NETWORK_OUTPUTS.probabilities);
      expect(features.length).toBe(js.embeddings.length);
      js.embeddings.forEach((v, i) => {
        expect(Math.abs(v - (features[i] as number))).toBeLessThan(1e-5);
      });
      js.probabilities.forEach((v, i) => {
        expect(Math.abs(v - (probabilities[i] as number))).toBeLessThan(1e-5);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
