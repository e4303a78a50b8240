// The hdglue CLI as users run it: the real launcher (bin/hdglue.mjs over dist/, built by
// `npm test`'s pretest) in a child process, on real .npy files written to disk. Runs on whichever
// backend the environment selects (npm test runs the suite natively and with HDGLUE_BACKEND=js).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeNpy, writeNpy } from '../lib/npy.js';
import { prng } from './helpers.js';

const root = join(import.meta.dirname, '..');
const bin = join(root, 'bin', 'hdglue.mjs');
const dir = mkdtempSync(join(tmpdir(), 'hdglue-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const f = (name: string) => join(dir, name);

// Three classes whose embeddings sit around different centres: two members of different widths
// and dtypes, rows aligned.
const CLASSES = [3, 7, 11];
function makeSet(n: number, seed: number) {
  const next = prng(seed);
  const rand = () => next() / 2 ** 32;
  const y = Array.from({ length: n }, (_, i) => CLASSES[i % 3] as number);
  const centre = (c: number, k: number) => Math.sin(c * 1.7 + k * 0.9);
  const a = new Float32Array(n * 8);
  const b = new Float64Array(n * 12);
  for (let r = 0; r < n; r++) {
    for (let k = 0; k < 8; k++) a[r * 8 + k] = centre(y[r] as number, k) + (rand() - 0.5) * 0.6;
    for (let k = 0; k < 12; k++) b[r * 12 + k] = 3 * centre((y[r] as number) + 1, k) + (rand() - 0.5) * 1.5;
  }
  return { y, a, b, n };
}

beforeAll(() => {
  const train = makeSet(150, 1);
  const test = makeSet(60, 2);
  writeNpy(f('a_train.npy'), { shape: [train.n, 8], data: train.a });
  writeNpy(f('b_train.npy'), { shape: [train.n, 12], data: train.b });
  writeNpy(f('y_train.npy'), { shape: [train.n], data: BigInt64Array.from(train.y, BigInt) });
  writeNpy(f('a_test.npy'), { shape: [test.n, 8], data: test.a });
  writeNpy(f('b_test.npy'), { shape: [test.n, 12], data: test.b });
  writeNpy(f('y_test.npy'), { shape: [test.n], data: Int32Array.from(test.y) });
  writeNpy(f('y_test_str.npy'), { shape: [test.n], data: test.y.map((v) => `digit ${v}`) });
  writeNpy(f('y_train_str.npy'), { shape: [train.n], data: train.y.map((v) => `digit ${v}`) });
});

const members = (split: string) => ['--member', `a=a_${split}.npy`, '--member', `b=b_${split}.npy`];

describe('hdglue fit / eval / predict / info', () => {
  it('fits, saves, and evaluates the model it saved (JSON outputs parse)', () => {
    const fit = run('fit', ...members('train'), '--labels', 'y_train.npy', '--out', 'm.hdg', '--dim', '2000', '--json');
    expect(fit.stderr).toBe('');
    expect(fit.code).toBe(0);
    const fr = JSON.parse(fit.stdout);
    expect(fr).toMatchObject({ rows: 150, classes: 3, consensus: 'vote', recipe: { dim: 2000, bins: 16 } });
    expect(Object.keys(fr.members)).toEqual(['a', 'b']);
    expect(existsSync(f('m.hdg'))).toBe(true);

    const ev = run('eval', '--model', 'm.hdg', ...members('test'), '--labels', 'y_test.npy', '--json');
    expect(ev.code).toBe(0);
    const er = JSON.parse(ev.stdout);
    expect(er.n).toBe(60);
    expect(er.accuracy).toBeGreaterThan(0.9);
    expect(Object.keys(er.members)).toEqual(['a', 'b']);
    expect(er.confusion.labels).toEqual(CLASSES);
    const matrix = er.confusion.matrix as number[][];
    expect(matrix.flat().reduce((s, v) => s + v, 0)).toBe(60);
    const diagonal = matrix.reduce((s, row, i) => s + (row[i] as number), 0);
    expect(diagonal / 60).toBeCloseTo(er.accuracy, 12);

    // predict agrees with eval's count of hits, through CSV and JSON.
    const pj = run('predict', '--model', 'm.hdg', ...members('test'), '--json');
    expect(pj.code).toBe(0);
    const preds = JSON.parse(pj.stdout).predictions as number[];
    expect(preds).toHaveLength(60);
    const y = makeSet(60, 2).y;
    expect(preds.filter((p, i) => p === y[i]).length).toBe(diagonal);
    const pc = run('predict', '--model', 'm.hdg', ...members('test'), '--out', 'p.csv');
    expect(pc.code).toBe(0);
    const lines = readFileSync(f('p.csv'), 'utf8').trim().split('\n');
    expect(lines[0]).toBe('row,label');
    expect(lines.slice(1)).toEqual(preds.map((p, i) => `${i},${p}`));

    const info = run('info', 'm.hdg', '--json');
    expect(info.code).toBe(0);
    const ir = JSON.parse(info.stdout);
    expect(ir.classes).toEqual(CLASSES);
    expect(ir.members.map((m: { name: string; features: number }) => [m.name, m.features])).toEqual([
      ['a', 8],
      ['b', 12],
    ]);
    expect(ir.members[0]).toMatchObject({ dim: 2000, bins: 16, levels: 'level', classes: 3, examples: 150 });
  });

  it('keeps string labels, uses a validation split, and prints readable text without --json', () => {
    const fit = run(
      'fit',
      ...members('train'),
      '--labels',
      'y_train_str.npy',
      '--out',
      's.hdg',
      '--dim',
      '1000',
      '--validation',
      '0.2',
      '--range=-4,4',
    );
    expect(fit.code).toBe(0);
    expect(fit.stdout).toMatch(/fitted 2 member\(s\) on 120 of 150 rows, 3 classes/);
    expect(fit.stdout).toMatch(/validation accuracy \(30 held-out rows\): \d+\.\d\d %/);
    const ev = run('eval', '--model', 's.hdg', ...members('test'), '--labels', 'y_test_str.npy');
    expect(ev.code).toBe(0);
    expect(ev.stdout).toMatch(/^accuracy: \d+\.\d\d % \(\d+ of 60\)/);
    expect(ev.stdout).toContain('digit 11');
    // Numbers against a model of strings: a mismatched file, said so.
    const bad = run('eval', '--model', 's.hdg', ...members('test'), '--labels', 'y_test.npy');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/y_test\.npy: label 3 is a number, but the classes of s\.hdg are strings/);
  });

  it('fit --cv chooses the settings by cross-validation and records them in the model', () => {
    const fit = run(
      'fit',
      ...members('train'),
      '--labels',
      'y_train.npy',
      '--out',
      'cv.hdg',
      '--cv',
      '3',
      '--dim',
      '512',
      '--json',
    );
    expect(fit.code).toBe(0);
    const fr = JSON.parse(fit.stdout);
    expect(fr.cv).toMatchObject({ folds: 3, candidates: 20 }); // 10 recipes x (vote, concat)
    expect(['vote', 'concat']).toContain(fr.consensus);
    expect(fr.recipe.dim).toBe(512); // pinned by the flag, the rest searched
    const info = JSON.parse(run('info', 'cv.hdg', '--json').stdout);
    expect(info.tuning.folds).toBe(3);
    expect(info.tuning.cv).toBe(fr.cv.accuracy);
    expect(info.tuning.recipe).toEqual(fr.recipe);
    expect(run('fit', ...members('train'), '--labels', 'y_train.npy', '--out', 'x.hdg', '--cv', '1').stderr).toMatch(
      /--cv must be an integer from 2 to 20/,
    );
  });

  it('reports the backend with info and no model', () => {
    const r = run('info', '--json');
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.backend).toBe(process.env.HDGLUE_BACKEND === 'js' ? 'js' : 'native');
  });
});

describe('hdglue errors: one line naming the file, exit code 2, no stack', () => {
  beforeAll(() => {
    const ok = run('fit', ...members('train'), '--labels', 'y_train.npy', '--out', 'e.hdg', '--dim', '500');
    expect(ok.code).toBe(0);
    writeFileSync(f('text.npy'), 'row,label\n0,1\n');
    writeNpy(f('ints.npy'), { shape: [150, 8], data: new Int32Array(150 * 8) });
    writeNpy(f('cube.npy'), { shape: [150, 2, 4], data: new Float32Array(150 * 8) });
    writeNpy(f('short.npy'), { shape: [149, 8], data: new Float32Array(149 * 8) });
    writeNpy(f('y_short.npy'), { shape: [149], data: new Int32Array(149) });
    writeNpy(f('y_float.npy'), { shape: [150], data: new Float64Array(150) });
    const nan = new Float32Array(150 * 8);
    nan[2 * 8 + 1] = Number.NaN;
    writeNpy(f('nan.npy'), { shape: [150, 8], data: nan });
    // A Fortran-order file: numpy's header for it differs only in that flag.
    const bytes = encodeNpy({ shape: [150, 8], data: new Float32Array(150 * 8) });
    const text = Buffer.from(bytes).toString('latin1').replace("'fortran_order': False", "'fortran_order': True ");
    writeFileSync(f('fortran.npy'), Buffer.from(text, 'latin1'));
    const model = readFileSync(f('e.hdg'));
    model[model.length - 9] ^= 0x40;
    writeFileSync(f('corrupt.hdg'), model);
  });

  const cases: [string, string[], RegExp][] = [
    [
      'a missing file',
      ['fit', '--member', 'a=nope.npy', '--labels', 'y_train.npy', '--out', 'x.hdg'],
      /nope\.npy: no such file/,
    ],
    [
      'a file that is not .npy',
      ['fit', '--member', 'a=text.npy', '--labels', 'y_train.npy', '--out', 'x.hdg'],
      /text\.npy: .*not a \.npy file/,
    ],
    [
      'integer embeddings',
      ['fit', '--member', 'a=ints.npy', '--labels', 'y_train.npy', '--out', 'x.hdg'],
      /ints\.npy: embeddings must be float32 or float64, this file holds int32/,
    ],
    [
      '3-D embeddings',
      ['fit', '--member', 'a=cube.npy', '--labels', 'y_train.npy', '--out', 'x.hdg'],
      /cube\.npy: embeddings must be 2-D .*shape \(150, 2, 4\)/,
    ],
    [
      'a Fortran-order file',
      ['fit', '--member', 'a=fortran.npy', '--labels', 'y_train.npy', '--out', 'x.hdg'],
      /fortran\.npy: .*Fortran order/,
    ],
    [
      'members with different row counts',
      ['fit', ...members('train').slice(0, 2), '--member', 'b=short.npy', '--labels', 'y_train.npy', '--out', 'x.hdg'],
      /short\.npy: 149 rows, but .*a_train\.npy has 150/,
    ],
    [
      'labels and members with different row counts',
      ['fit', ...members('train'), '--labels', 'y_short.npy', '--out', 'x.hdg'],
      /y_short\.npy: 149 labels, but the members have 150 rows/,
    ],
    [
      'float labels',
      ['fit', ...members('train'), '--labels', 'y_float.npy', '--out', 'x.hdg'],
      /y_float\.npy: labels must be integers or strings/,
    ],
    [
      'a member the model does not know',
      ['predict', '--model', 'e.hdg', '--member', 'zzz=a_test.npy'],
      /e\.hdg has no member "zzz" \(its members: a, b\)/,
    ],
    [
      'a member of the wrong width',
      ['predict', '--model', 'e.hdg', '--member', 'a=b_test.npy'],
      /b_test\.npy: 12 features per row, but member "a" of e\.hdg takes 8/,
    ],
    [
      'a corrupt model file',
      ['eval', '--model', 'corrupt.hdg', ...members('test'), '--labels', 'y_test.npy'],
      /corrupt\.hdg: .*(checksum|corrupt|truncated)/,
    ],
    ['a missing model file', ['info', 'gone.hdg'], /gone\.hdg: no such file/],
    ['an unknown flag', ['fit', '--membr', 'a=a_train.npy'], /fit: Unknown option '--membr'/],
    [
      'a bad flag value',
      ['fit', ...members('train'), '--labels', 'y_train.npy', '--out', 'x.hdg', '--dim', 'big'],
      /--dim must be an integer/,
    ],
    ['an unknown command', ['frobnicate'], /unknown command "frobnicate"/],
    [
      'a NaN embedding',
      ['fit', '--member', 'a=nan.npy', '--labels', 'y_train.npy', '--out', 'x.hdg'],
      /nan\.npy: row 2, feature 1 is NaN/,
    ],
    [
      'an --out directory that does not exist',
      ['fit', ...members('train'), '--labels', 'y_train.npy', '--out', 'nodir/x.hdg'],
      /--out nodir\/x\.hdg: the directory .*nodir does not exist/,
    ],
    [
      'an --out that is a directory',
      ['fit', ...members('train'), '--labels', 'y_train.npy', '--out', '.'],
      /--out \.: exists and is not a regular file/,
    ],
  ];
  for (const [what, args, message] of cases) {
    it(what, () => {
      const r = run(...args);
      expect(r.code).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^hdglue: /);
      expect(lines[0]).toMatch(message);
      expect(r.stdout).toBe('');
      expect(existsSync(f('x.hdg'))).toBe(false);
    });
  }

  it('prints the stack with --verbose', () => {
    const r = run('info', 'gone.hdg', '--verbose');
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n').length).toBeGreaterThan(2);
    expect(r.stderr).toMatch(/\n\s+at /);
  });
});

describe('hdglue demo', () => {
  const small = ['demo', '--networks', '2', '--dim', '1000', '--epochs', '5', '--seeds', '2'];

  it('prints JSON that parses, the same for the same seed', () => {
    const one = run(...small, '--json');
    expect(one.code).toBe(0);
    const a = JSON.parse(one.stdout);
    expect(a.runs).toHaveLength(2);
    expect(a.runs[0].networks).toHaveLength(2);
    expect(a.summary.curve.map((c: { networks: number }) => c.networks)).toEqual([1, 2, 3]);
    for (const key of ['glue', 'tutorialGlue', 'majority', 'glueCV']) expect(a.summary).toHaveProperty(key);
    expect(a.rawPixels1NN).toBeGreaterThan(0.9);
    expect(a.advanced.newClass.before.digit).toBe(0);
    const two = JSON.parse(run(...small, '--json').stdout);
    for (const r of [a, two]) {
      delete r.machine;
      delete r.seconds;
    }
    expect(two).toEqual(a);
  });

  it('writes an SVG and a PNG of accuracy vs networks with both curves', () => {
    const svg = run(...small, '--plot', 'curve.svg');
    expect(svg.code).toBe(0);
    expect(svg.stdout).toContain('accuracy vs number of networks');
    const text = readFileSync(f('curve.svg'), 'utf8');
    expect(text.startsWith('<svg')).toBe(true);
    expect(text).toContain('HD-Glue (default)');
    expect(text).toContain('majority vote of the MLPs');
    expect(text).toContain('mean probability of the MLPs');
    // One line mark (a path with points) per series.
    expect((text.match(/aria-roledescription="line mark"/g) ?? []).length).toBe(3);
    const png = run(...small, '--plot', 'curve.png');
    expect(png.code).toBe(0);
    const bytes = readFileSync(f('curve.png'));
    expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(bytes.readUInt32BE(16)).toBeGreaterThan(500); // IHDR width
  });
});
