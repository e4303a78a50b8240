// ONNX members from the command line and in the demo: the demo's MLPs exported to ONNX give the
// embeddings the MLPs compute in JavaScript (to float32 precision); `hdglue fit/predict/eval`
// with `--member NAME=MODEL.onnx:OUTPUT --input NAME=INPUTS.npy` give what the same commands give
// on onnxruntime's embeddings saved as .npy; user mistakes print one line naming member and file;
// `hdglue demo --onnx` prints the demo's figures. Runs the real launcher over dist/ (built by
// npm test's pretest), on whichever backend the environment selects.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDigits, subset } from '../lib/demo/digits.js';
import { MLP } from '../lib/demo/mlp.js';
import { MLP_OUTPUTS, mlpToOnnx } from '../lib/demo/onnx-export.js';
import { writeNpy } from '../lib/io/npy.js';
import { HDGlue } from '../lib/model/glue.js';
import { OnnxMember } from '../lib/onnx/index.js';

const root = join(import.meta.dirname, '..');
const bin = join(root, 'bin', 'hdglue.mjs');
const dir = mkdtempSync(join(tmpdir(), 'hdglue-onnx-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const f = (name: string) => join(dir, name);

function run(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// Two small digit MLPs trained here (few epochs: the point is the export, not the accuracy).
const digits = loadDigits();
const train = subset(
  digits,
  Array.from({ length: 600 }, (_, i) => i),
);
const test = subset(
  digits,
  Array.from({ length: 300 }, (_, i) => 1000 + i),
);
const nets = [1, 2].map((seed) => MLP.train(train.x, train.y, train.n, 10, { epochs: 15, seed }));

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

beforeAll(async () => {
  for (const [i, net] of nets.entries()) writeFileSync(f(`net${i}.onnx`), await mlpToOnnx(net, `net${i}`));
  writeNpy(f('x_train.npy'), { dtype: 'float32', shape: [train.n, 64], data: Float32Array.from(train.x) });
  writeNpy(f('x_test.npy'), { dtype: 'float64', shape: [test.n, 64], data: test.x });
  writeNpy(f('y_train.npy'), { dtype: 'int32', shape: [train.n], data: train.y });
  writeNpy(f('y_test.npy'), { dtype: 'int32', shape: [test.n], data: test.y });
  // Images as a 3-D array: the model takes [batch, 64], so this is a wrong shape.
  writeNpy(f('x_images.npy'), { dtype: 'float32', shape: [test.n, 8, 8], data: Float32Array.from(test.x) });
});

describe("the demo's MLPs exported to ONNX", () => {
  it('give the JavaScript embeddings, logits and probabilities to float32 precision', async () => {
    const net = nets[0] as MLP;
    const members = await Promise.all(
      Object.values(MLP_OUTPUTS).map((output) => OnnxMember.load(f('net0.onnx'), { output, batchSize: 128 })),
    );
    try {
      const [hidden, , probabilities] = await Promise.all(members.map((m) => m.embed(Float32Array.from(test.x))));
      // float32 weights and sums in onnxruntime against float64 in JavaScript.
      expect(maxAbsDiff(hidden as Float32Array, net.embed(test.x, test.n))).toBeLessThan(2e-6);
      expect(maxAbsDiff(probabilities as Float32Array, net.probabilities(test.x, test.n))).toBeLessThan(2e-6);
      expect(members.map((m) => m.features)).toEqual([128, 10, 10]);
    } finally {
      await Promise.all(members.map((m) => m.close()));
    }
  });
});

describe('hdglue fit / predict / eval with ONNX members', () => {
  it('give the results of the same commands on the embeddings onnxruntime computes', async () => {
    // The reference: the embeddings read through hdglue, saved as plain .npy members.
    for (const [i] of nets.entries()) {
      const m = await OnnxMember.load(f(`net${i}.onnx`), { output: 'hidden' });
      for (const [part, x] of [
        ['train', train.x],
        ['test', test.x],
      ] as const) {
        const e = await m.embed(Float32Array.from(x));
        writeNpy(f(`emb${i}_${part}.npy`), { dtype: 'float32', shape: [x.length / 64, 128], data: e });
      }
      await m.close();
    }
    const onnx = (part: string) => [
      '--member',
      'a=net0.onnx:hidden',
      '--input',
      `a=x_${part}.npy`,
      '--member',
      'b=net1.onnx:hidden',
      '--input',
      `b=x_${part}.npy`,
    ];
    // A mixed glue: member a from its network, member b from saved embeddings.
    const mixed = (part: string) => [
      '--member',
      'a=net0.onnx:hidden',
      '--input',
      `a=x_${part}.npy`,
      '--member',
      `b=emb1_${part}.npy`,
    ];
    const npy = (part: string) => ['--member', `a=emb0_${part}.npy`, '--member', `b=emb1_${part}.npy`];

    const fitOnnx = run(
      'fit',
      ...onnx('train'),
      '--labels',
      'y_train.npy',
      '--out',
      'onnx.hdg',
      '--dim',
      '2000',
      '--json',
    );
    expect(fitOnnx.code, fitOnnx.stderr).toBe(0);
    const fitNpy = run(
      'fit',
      ...npy('train'),
      '--labels',
      'y_train.npy',
      '--out',
      'npy.hdg',
      '--dim',
      '2000',
      '--json',
    );
    expect(fitNpy.code, fitNpy.stderr).toBe(0);
    // The same model file, byte for byte, but for the record of the networks (lib/model/onnx-source.ts).
    const recorded = HDGlue.load(f('onnx.hdg'));
    expect(Object.keys(recorded.onnxSources ?? {})).toEqual(['a', 'b']);
    recorded.onnxSources = undefined;
    recorded.save(f('onnx-unrecorded.hdg'));
    expect(readFileSync(f('onnx-unrecorded.hdg')).equals(readFileSync(f('npy.hdg')))).toBe(true);

    const predOnnx = run('predict', '--model', 'onnx.hdg', ...onnx('test'), '--json');
    const predMixed = run('predict', '--model', 'onnx.hdg', ...mixed('test'), '--json');
    const predNpy = run('predict', '--model', 'onnx.hdg', ...npy('test'), '--json');
    expect(predOnnx.code, predOnnx.stderr).toBe(0);
    expect(predMixed.code, predMixed.stderr).toBe(0);
    expect(predOnnx.stdout).toBe(predNpy.stdout);
    expect(predMixed.stdout).toBe(predNpy.stdout);

    const evalOnnx = run('eval', '--model', 'onnx.hdg', ...onnx('test'), '--labels', 'y_test.npy', '--json');
    const evalNpy = run('eval', '--model', 'onnx.hdg', ...npy('test'), '--labels', 'y_test.npy', '--json');
    expect(evalOnnx.code, evalOnnx.stderr).toBe(0);
    expect(JSON.parse(evalOnnx.stdout)).toEqual(JSON.parse(evalNpy.stdout));
    expect(JSON.parse(evalOnnx.stdout).accuracy).toBeGreaterThan(0.8);
  });

  it('a missing output, a wrong input shape, a corrupt file: one line naming member and file, exit 2', () => {
    writeFileSync(f('corrupt.onnx'), readFileSync(f('net0.onnx')).subarray(0, 1000));
    const cases: [string[], RegExp][] = [
      [
        ['--member', 'cnn=net0.onnx:features', '--input', 'cnn=x_test.npy'],
        /^hdglue: member "cnn" \(net0\.onnx\): the model has no output named "features"; its outputs are "hidden", "logits", "probabilities"/,
      ],
      [
        ['--member', 'cnn=net0.onnx:hidden', '--input', 'cnn=x_images.npy'],
        /^hdglue: x_images\.npy: member "cnn" \(net0\.onnx\): the model's input takes shape \[batch, 64\], got \[300, 8, 8\]/,
      ],
      [
        ['--member', 'cnn=corrupt.onnx:hidden', '--input', 'cnn=x_test.npy'],
        /^hdglue: member "cnn" \(corrupt\.onnx\): onnxruntime cannot load this file as an ONNX model/,
      ],
      [
        ['--member', 'cnn=absent.onnx:hidden', '--input', 'cnn=x_test.npy'],
        /^hdglue: member "cnn" \(absent\.onnx\): cannot read/,
      ],
      [['--member', 'cnn=net0.onnx:hidden'], /^hdglue: member cnn is an ONNX model: give its inputs with --input cnn=/],
      [['--member', 'cnn=net0.onnx', '--input', 'cnn=x_test.npy'], /MODEL\.onnx:OUTPUT/],
      [['--member', 'a=emb0_test.npy', '--input', 'a=x_test.npy'], /only MODEL\.onnx:OUTPUT members take inputs/],
    ];
    for (const [args, message] of cases) {
      const r = run('predict', '--model', 'onnx.hdg', ...args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});

describe('hdglue demo --onnx', () => {
  it('runs the tutorial from exported ONNX files and gives the JavaScript run figures', () => {
    const opts = ['--networks', '2', '--epochs', '20', '--dim', '2000', '--seeds', '1', '--no-cv', '--json'];
    const js = run('demo', ...opts);
    const onnx = run('demo', ...opts, '--onnx-dir', 'demo-onnx');
    expect(js.code, js.stderr).toBe(0);
    expect(onnx.code, onnx.stderr).toBe(0);
    const a = JSON.parse(js.stdout);
    const b = JSON.parse(onnx.stdout);
    expect(a.config.onnx).toBe(false);
    expect(b.config.onnx).toBe('demo-onnx');
    expect(readFileSync(f('demo-onnx/seed0/mlp0.onnx')).length).toBeGreaterThan(4 * (64 * 128 + 128 * 10));
    // Every accuracy within 2 of the 540 test images: float32 networks move an embedding across
    // a bin edge now and then, and nothing else differs.
    const diffs: string[] = [];
    const walk = (x: unknown, y: unknown, path: string) => {
      if (typeof x === 'number') {
        if (
          !path.startsWith('.seconds') &&
          !path.startsWith('.config') &&
          Math.abs(x - (y as number)) > 2 / 540 + 1e-12
        )
          diffs.push(`${path}: ${x} vs ${String(y)}`);
      } else if (x !== null && typeof x === 'object') {
        for (const k of Object.keys(x))
          walk((x as Record<string, unknown>)[k], (y as Record<string, unknown>)?.[k], `${path}.${k}`);
      }
    };
    walk(a, b, '');
    expect(diffs).toEqual([]);
    expect(a.runs[0].networks.length).toBe(2);
  });
});
