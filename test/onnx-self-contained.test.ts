// Self-contained models: `hdglue fit` with ONNX members records each network (its file relative
// to the model, its SHA-256, output and input) in the model file, and predict, eval and info then
// need only --model (and the raw inputs); a changed or vanished file is refused in one line
// naming it, --member flags override the record, and a model moved with its networks keeps
// working. The library side: OnnxGlue.save / OnnxGlue.fromModel and onnxMembersOf. Runs the real
// launcher over dist/ (built by npm test's pretest), on whichever backend the environment selects.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeOnnx, type OnnxGraph } from '../lib/demo/onnx-writer.js';
import { ErrorCode } from '../lib/errors.js';
import { writeNpy } from '../lib/io/npy.js';
import { HDGlue } from '../lib/model/glue.js';
import { OnnxGlue, OnnxMember, onnxMembersOf } from '../lib/onnx/index.js';
import { buildMember, DEFAULT_RECIPE } from '../lib/train/recipe.js';
import { prng } from './helpers.js';

const root = join(import.meta.dirname, '..');
const bin = join(root, 'bin', 'hdglue.mjs');
const top = mkdtempSync(join(tmpdir(), 'hdglue-onnx-sc-'));
afterAll(() => rmSync(top, { recursive: true, force: true }));
// The project as a user lays it out: networks in nets/ and beside, models in out/.
const dir = join(top, 'a');
const f = (name: string, base = dir) => join(base, name);

function run(cwd: string, ...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', env: { ...process.env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const next = prng(7);
const floats = (n: number, lo: number, hi: number) =>
  Array.from({ length: n }, () => lo + ((hi - lo) * next()) / 2 ** 32);

// mlp: x [batch, 4] -> MatMul W [4, 6] -> Tanh = "embedding"; cnn: img [n, 1, 3, 3] -> Flatten ->
// MatMul K [9, 5] -> Relu = "features". Labels come from the mlp's inputs, so the glue can learn.
const mlpGraph = (w: number[]): OnnxGraph => ({
  name: 'mlp',
  inputs: [{ name: 'x', shape: ['batch', 4] }],
  outputs: [{ name: 'embedding', shape: ['batch', 6] }],
  initializers: [{ name: 'W', dims: [4, 6], values: w }],
  nodes: [
    { op: 'MatMul', inputs: ['x', 'W'], outputs: ['h'] },
    { op: 'Tanh', inputs: ['h'], outputs: ['embedding'] },
  ],
});
const K = floats(45, -1, 1);
const cnnGraph: OnnxGraph = {
  name: 'cnn',
  inputs: [{ name: 'img', shape: ['n', 1, 3, 3] }],
  outputs: [{ name: 'features', shape: ['n', 5] }],
  initializers: [{ name: 'K', dims: [9, 5], values: K }],
  nodes: [
    { op: 'Flatten', inputs: ['img'], outputs: ['flat'], attributes: { axis: 1 } },
    { op: 'MatMul', inputs: ['flat', 'K'], outputs: ['k0'] },
    { op: 'Relu', inputs: ['k0'], outputs: ['features'] },
  ],
};

const N = 240;
const X = Float32Array.from(floats(N * 4, -2, 2));
const IMGS = Float32Array.from(floats(N * 9, 0, 1));
const EMB = Float32Array.from(floats(N * 3, -1, 1));
const Y = Int32Array.from(
  { length: N },
  (_, r) => ((X[r * 4] as number) > 0 ? 1 : 0) + ((X[r * 4 + 1] as number) > 0 ? 2 : 0),
);
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

beforeAll(async () => {
  mkdirSync(f('nets'), { recursive: true });
  mkdirSync(f('out'));
  mkdirSync(f('data'));
  writeFileSync(f('mlp.onnx'), await encodeOnnx(mlpGraph(floats(24, -1, 1))));
  writeFileSync(f('nets/cnn.onnx'), await encodeOnnx(cnnGraph));
  writeFileSync(f('other.onnx'), await encodeOnnx(mlpGraph(floats(24, -1, 1))));
  writeNpy(f('data/x.npy'), { dtype: 'float32', shape: [N, 4], data: X });
  writeNpy(f('data/img.npy'), { dtype: 'float32', shape: [N, 1, 3, 3], data: IMGS });
  writeNpy(f('data/emb.npy'), { dtype: 'float32', shape: [N, 3], data: EMB });
  writeNpy(f('data/y.npy'), { dtype: 'int32', shape: [N], data: Y });
  const fit = run(
    dir,
    'fit',
    ...['--member', 'a=mlp.onnx:embedding', '--input', 'a=data/x.npy'],
    ...['--member', 'c=nets/cnn.onnx:features', '--input', 'c=data/img.npy'],
    ...['--member', 'b=data/emb.npy', '--labels', 'data/y.npy', '--out', 'out/model.hdg', '--dim', '1000'],
  );
  expect(fit.code, fit.stderr).toBe(0);
});

// The inputs of predict and eval: raw inputs for the recorded networks, embeddings for b.
const recorded = ['--input', 'a=data/x.npy', '--input', 'c=data/img.npy', '--member', 'b=data/emb.npy'];
const explicit = [
  ...['--member', 'a=mlp.onnx:embedding', '--input', 'a=data/x.npy'],
  ...['--member', 'c=nets/cnn.onnx:features', '--input', 'c=data/img.npy', '--member', 'b=data/emb.npy'],
];

describe('hdglue fit with ONNX members', () => {
  it('records each network relative to the model, with its SHA-256, output and input', () => {
    const glue = HDGlue.load(f('out/model.hdg'));
    expect(glue.members()).toEqual(['a', 'c', 'b']);
    expect(glue.onnxSources).toEqual({
      a: {
        path: '../mlp.onnx',
        sha256: sha(f('mlp.onnx')),
        output: 'embedding',
        input: { name: 'x', shape: ['batch', 4] },
      },
      c: {
        path: '../nets/cnn.onnx',
        sha256: sha(f('nets/cnn.onnx')),
        output: 'features',
        input: { name: 'img', shape: ['n', 1, 3, 3] },
      },
    });
  });
});

describe('hdglue predict / eval / info with only --model', () => {
  it('predict and eval from the record give what explicit --member flags give', () => {
    const fromRecord = run(dir, 'predict', '--model', 'out/model.hdg', ...recorded, '--json');
    const fromFlags = run(dir, 'predict', '--model', 'out/model.hdg', ...explicit, '--json');
    expect(fromRecord.code, fromRecord.stderr).toBe(0);
    expect(fromFlags.code, fromFlags.stderr).toBe(0);
    expect(JSON.parse(fromRecord.stdout).predictions).toEqual(JSON.parse(fromFlags.stdout).predictions);
    // Only a recorded network, alone: the other members are left out as for any absent member.
    const alone = run(dir, 'predict', '--model', 'out/model.hdg', '--input', 'a=data/x.npy', '--json');
    expect(alone.code, alone.stderr).toBe(0);
    expect(JSON.parse(alone.stdout).members).toEqual(['a']);

    const evalRecord = run(dir, 'eval', '--model', 'out/model.hdg', ...recorded, '--labels', 'data/y.npy', '--json');
    const evalFlags = run(dir, 'eval', '--model', 'out/model.hdg', ...explicit, '--labels', 'data/y.npy', '--json');
    expect(evalRecord.code, evalRecord.stderr).toBe(0);
    const a = JSON.parse(evalRecord.stdout);
    const b = JSON.parse(evalFlags.stdout);
    expect(a.accuracy).toBe(b.accuracy);
    expect(a.members).toEqual(b.members);
    expect(a.accuracy).toBeGreaterThan(0.6);
  });

  it('info shows each network member source, in text and JSON', () => {
    const text = run(dir, 'info', 'out/model.hdg');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(
      `    network: ../mlp.onnx (sha256 ${sha(f('mlp.onnx')).slice(0, 12)}), input "x" [batch, 4], output "embedding"`,
    );
    expect(text.stdout).toContain('    network: ../nets/cnn.onnx');
    const json = JSON.parse(run(dir, 'info', 'out/model.hdg', '--json').stdout);
    expect(json.members.map((m: { source?: unknown }) => m.source)).toEqual([
      {
        path: '../mlp.onnx',
        sha256: sha(f('mlp.onnx')),
        output: 'embedding',
        input: { name: 'x', shape: ['batch', 4] },
      },
      expect.objectContaining({ path: '../nets/cnn.onnx' }),
      undefined,
    ]);
  });

  it('a model moved together with its networks still works (paths are relative to the model)', () => {
    const moved = join(top, 'moved', 'deeper');
    cpSync(dir, moved, { recursive: true });
    const here = run(dir, 'predict', '--model', 'out/model.hdg', ...recorded, '--json');
    // Run from elsewhere: the record resolves against the model's directory, not the cwd.
    const there = run(
      top,
      'predict',
      '--model',
      join(moved, 'out/model.hdg'),
      ...['--input', `a=${join(moved, 'data/x.npy')}`, '--input', `c=${join(moved, 'data/img.npy')}`],
      ...['--member', `b=${join(moved, 'data/emb.npy')}`, '--json'],
    );
    expect(there.code, there.stderr).toBe(0);
    expect(JSON.parse(there.stdout).predictions).toEqual(JSON.parse(here.stdout).predictions);
  });

  it('a network changed by one byte or deleted is refused in one line naming its file; flags override', () => {
    const copy = join(top, 'changed');
    cpSync(dir, copy, { recursive: true });
    const cnn = f('nets/cnn.onnx', copy);
    const bytes = readFileSync(cnn);
    // The lowest bit of the first weight: one byte, and still a valid ONNX file (run below).
    const at = bytes.indexOf(Buffer.from(Float32Array.of(K[0] as number).buffer));
    expect(at).toBeGreaterThan(0);
    bytes[at] = (bytes[at] as number) ^ 1;
    writeFileSync(cnn, bytes);
    const changed = run(copy, 'predict', '--model', 'out/model.hdg', ...recorded);
    expect(changed.code, changed.stderr).toBe(2);
    expect(changed.stderr.trim().split('\n')).toHaveLength(1);
    expect(changed.stderr).toMatch(
      /^hdglue: out\/model\.hdg: member "c" \(nets\/cnn\.onnx\): the ONNX file has changed: its SHA-256 is [0-9a-f]{12}\.\.\., [0-9a-f]{12}\.\.\. was expected; refit the model, or run another file with --member c=MODEL\.onnx:OUTPUT$/m,
    );
    // eval refuses the same way, and a member not used is not checked.
    expect(run(copy, 'eval', '--model', 'out/model.hdg', ...recorded, '--labels', 'data/y.npy').code).toBe(2);
    const withoutC = run(copy, 'predict', '--model', 'out/model.hdg', '--input', 'a=data/x.npy', '--json');
    expect(withoutC.code, withoutC.stderr).toBe(0);
    // An explicit --member runs the file it names, recorded or not.
    const override = run(
      copy,
      'predict',
      '--model',
      'out/model.hdg',
      ...['--input', 'a=data/x.npy', '--member', 'c=nets/cnn.onnx:features', '--input', 'c=data/img.npy', '--json'],
    );
    expect(override.code, override.stderr).toBe(0);
    // Another network for a, through the flags: runs, and predicts from its own embeddings.
    const other = run(
      copy,
      'predict',
      '--model',
      'out/model.hdg',
      '--member',
      'a=other.onnx:embedding',
      '--input',
      'a=data/x.npy',
      '--json',
    );
    expect(other.code, other.stderr).toBe(0);

    rmSync(f('mlp.onnx', copy));
    const gone = run(copy, 'predict', '--model', 'out/model.hdg', '--input', 'a=data/x.npy');
    expect(gone.code, gone.stderr).toBe(2);
    expect(gone.stderr.trim().split('\n')).toHaveLength(1);
    expect(gone.stderr).toMatch(
      /^hdglue: out\/model\.hdg: member "a" \(mlp\.onnx\): cannot read the ONNX file: no such file; refit/,
    );
  });

  it('inputs for members the model records no network for are refused in one line', () => {
    const r = run(dir, 'predict', '--model', 'out/model.hdg', '--input', 'b=data/x.npy');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^hdglue: --input b: there is no --member b and out\/model\.hdg records no ONNX file for b$/m,
    );
    const none = run(dir, 'predict', '--model', 'out/model.hdg');
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/or --input NAME=INPUTS\.npy for a network out\/model\.hdg records \(a, c\)/);
  });
});

describe('OnnxGlue.save / OnnxGlue.fromModel / onnxMembersOf', () => {
  it('a glue saved with its ONNX members is rebuilt from the model file alone', async () => {
    const mlp = await OnnxMember.load(f('mlp.onnx'), { output: 'embedding' });
    const og = new OnnxGlue({ a: mlp });
    try {
      expect(mlp.sha256).toBe(sha(f('mlp.onnx')));
      const x = await og.embed({ a: X, b: EMB });
      const labels = Array.from(Y);
      for (const [i, name] of ['a', 'b'].entries()) {
        const m = x[name] as Float32Array;
        const { encoder, hil } = buildMember(m, m.length / N, labels, { ...DEFAULT_RECIPE, dim: 1000 }, i);
        og.glue.addMember(name, { encoder, hil });
      }
      og.save(f('out/lib.hdg'));
      expect(og.glue.onnxSources).toEqual({
        a: { path: '../mlp.onnx', sha256: mlp.sha256, output: 'embedding', input: { name: 'x', shape: ['batch', 4] } },
      });
      const back = await OnnxGlue.fromModel(f('out/lib.hdg'), { batchSize: 64 });
      try {
        expect(back.sources()).toEqual(['a']);
        expect(back.source('a')?.batchSize).toBe(64);
        expect(await back.predict({ a: X, b: EMB })).toEqual(await og.predict({ a: X, b: EMB }));
      } finally {
        await back.close();
      }
    } finally {
      await og.close();
    }
  });

  it('onnxMembersOf opens the members asked for; a changed file is ERR_HDGLUE_ONNX_CHANGED naming it', async () => {
    const glue = HDGlue.load(f('out/model.hdg'));
    const only = await onnxMembersOf(glue, f('out/model.hdg'), { members: ['c'] });
    expect(Object.keys(only)).toEqual(['c']);
    expect(only.c?.path).toBe(f('nets/cnn.onnx'));
    await only.c?.close();
    await expect(onnxMembersOf(glue, f('out/model.hdg'), { members: ['b'] })).rejects.toMatchObject({
      code: ErrorCode.ONNX_MODEL,
      message: expect.stringMatching(/member "b" has no recorded ONNX file \(recorded: "a", "c"\)/),
    });
    const copy = join(top, 'lib-changed');
    cpSync(dir, copy, { recursive: true });
    writeFileSync(f('nets/cnn.onnx', copy), Buffer.concat([readFileSync(f('nets/cnn.onnx', copy)), Buffer.from([0])]));
    await expect(OnnxGlue.fromModel(f('out/model.hdg', copy))).rejects.toMatchObject({
      code: ErrorCode.ONNX_CHANGED,
      message: expect.stringMatching(/cnn\.onnx\): the ONNX file has changed/),
    });
    rmSync(f('nets/cnn.onnx', copy));
    await expect(OnnxGlue.fromModel(f('out/model.hdg', copy))).rejects.toMatchObject({
      code: ErrorCode.ONNX_CHANGED,
      message: expect.stringMatching(/cnn\.onnx\): cannot read the ONNX file: no such file/),
    });
    // The expected hash is an option of OnnxMember.load too.
    await expect(OnnxMember.load(f('mlp.onnx'), { output: 'embedding', sha256: '0'.repeat(64) })).rejects.toMatchObject(
      {
        code: ErrorCode.ONNX_CHANGED,
      },
    );
    const ok = await OnnxMember.load(f('mlp.onnx'), { output: 'embedding', sha256: sha(f('mlp.onnx')).toUpperCase() });
    await ok.close();
  });
});
