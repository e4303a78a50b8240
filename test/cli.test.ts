// The hdglue CLI as users run it: the real launcher (bin/hdglue.mjs over dist/, built by
// `npm test`'s pretest) in a child process, on real .npy files written to disk. Runs on whichever
// backend the environment selects (npm test runs the suite natively and with HDGLUE_BACKEND=js).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDigits, loadSplit, subset } from '../lib/demo/digits.js';
import { encodeNpy, writeNpy } from '../lib/io/npy.js';
import { tutorialGlue } from '../lib/train/tutorial.js';
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
    expect(fr).toMatchObject({ rows: 150, classes: 3, consensus: 'vote', recipe: { dim: 2000, bins: 64 } });
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
    expect(ir.members[0]).toMatchObject({ dim: 2000, bins: 64, levels: 'level', classes: 3, examples: 150 });
  });

  it('fit --schedule batch trains the batch schedule (another model than the online default) and says so', () => {
    const common = [
      ...members('train'),
      '--labels',
      'y_train.npy',
      '--dim',
      '2000',
      '--epochs',
      '5',
      '--margin',
      '0.5',
    ];
    const online = run('fit', ...common, '--out', 'online.hdg', '--json');
    const batch = run('fit', ...common, '--out', 'batch.hdg', '--schedule', 'batch', '--json');
    expect(online.code).toBe(0);
    expect(batch.code).toBe(0);
    expect(JSON.parse(batch.stdout).recipe.schedule).toBe('batch');
    expect(JSON.parse(online.stdout).recipe.schedule).toBeUndefined();
    expect(readFileSync(f('online.hdg')).equals(readFileSync(f('batch.hdg')))).toBe(false);
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
    expect(fr.cv).toMatchObject({ folds: 3, candidates: 16 }); // 8 recipes of the default grid x (vote, concat)
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

  it('says where the CV figure is printed that the networks likely trained on the rows it scores', () => {
    const caveat = /CV folds score rows the networks were likely trained on.*expect test accuracy below this/;
    const fit = run('fit', ...members('train'), '--labels', 'y_train.npy', '--out', 'cvt.hdg', '--cv', '2');
    expect(fit.code).toBe(0);
    // Right after the CV scores, before the file is written.
    const lines = fit.stdout.trim().split('\n');
    const at = lines.findIndex((l) => caveat.test(l));
    expect(at).toBeGreaterThan(lines.findIndex((l) => /2-fold cross-validation over/.test(l)));
    const json = run('fit', ...members('train'), '--labels', 'y_train.npy', '--out', 'cvt.hdg', '--cv', '2', '--json');
    expect(JSON.parse(json.stdout).cv.caveat).toMatch(caveat);
    const info = run('info', 'cvt.hdg');
    expect(info.code).toBe(0);
    const il = info.stdout.split('\n');
    const chosen = il.findIndex((l) => /^chosen by 2-fold CV/.test(l));
    expect(chosen).toBeGreaterThan(0);
    expect(il[chosen + 1]).toMatch(caveat);
    expect(JSON.parse(run('info', 'cvt.hdg', '--json').stdout).tuning.caveat).toMatch(caveat);
    // No CV, no caveat.
    expect(run('fit', ...members('train'), '--labels', 'y_train.npy', '--out', 'nocv.hdg', '--dim', '500').code).toBe(
      0,
    );
    expect(run('info', 'nocv.hdg').stdout).not.toMatch(caveat);
  });

  it('fit --readout nearest reports a held-out estimate on sampled rows, not the n x n training accuracy', () => {
    const fit = run('fit', ...members('train'), '--labels', 'y_train.npy', '--out', 'nn.hdg', '--readout', 'nearest');
    expect(fit.code).toBe(0);
    expect(fit.stdout).toMatch(/training accuracy is not measured for the nearest readout/);
    expect(fit.stdout).not.toMatch(/training accuracy \d/);
    expect(fit.stdout).toMatch(
      /held-out estimate: \d+\.\d\d % on 150 sampled training rows, each scored by a glue fitted without it/,
    );
    expect(fit.stdout).toMatch(
      / {2}a: 8 features, held-out estimate \d+\.\d\d %, nearest readout over 150 stored rows/,
    );
    const fr = JSON.parse(
      run('fit', ...members('train'), '--labels', 'y_train.npy', '--out', 'nn.hdg', '--readout', 'nearest', '--json')
        .stdout,
    );
    expect(fr.heldOut.rows).toBe(150);
    expect(fr.heldOut.accuracy).toBeGreaterThan(0.8);
    expect(fr.members.a).not.toHaveProperty('trainAccuracy');
    expect(fr.members.a.heldOutAccuracy).toBeGreaterThan(0.6);
    // The same seed samples the same rows: the figure is reproducible.
    const again = run('fit', ...members('train'), '--labels', 'y_train.npy', '--out', 'nn.hdg', '--readout', 'nearest');
    expect(again.stdout.split('\n').filter((l) => /held-out/.test(l))).toEqual(
      fit.stdout.split('\n').filter((l) => /held-out/.test(l)),
    );
    // With a validation split, that is the honest figure, and no sample is scored.
    const val = JSON.parse(
      run(
        'fit',
        ...members('train'),
        '--labels',
        'y_train.npy',
        '--out',
        'nn.hdg',
        '--readout',
        'nearest',
        '--validation',
        '0.2',
        '--json',
      ).stdout,
    );
    expect(val).not.toHaveProperty('heldOut');
    expect(val.validationAccuracy).toBeGreaterThan(0.8);
    // eval's per-member figure comes from the consensus pass: one member alone equals the glue.
    const ev = JSON.parse(
      run('eval', '--model', 'nn.hdg', '--member', 'a=a_test.npy', '--labels', 'y_test.npy', '--json').stdout,
    );
    expect(ev.members.a).toBe(ev.accuracy);
  });

  it('stops quietly when the reader closes the pipe early (hdglue predict ... | head -1)', () => {
    // Enough rows that the CSV outgrows the pipe's buffer, so the writer meets the closed pipe.
    const n = 30000;
    const next = prng(9);
    writeNpy(f('big.npy'), { shape: [n, 8], data: Float32Array.from({ length: n * 8 }, () => next() / 2 ** 32) });
    writeNpy(f('big_y.npy'), { shape: [n], data: Int32Array.from({ length: n }, (_, i) => i % 3) });
    const fit = run(
      'fit',
      '--member',
      'a=big.npy',
      '--labels',
      'big_y.npy',
      '--out',
      'big.hdg',
      '--dim',
      '256',
      '--epochs',
      '1',
    );
    expect(fit.code).toBe(0);
    const r = spawnSync(
      'sh',
      ['-c', `"${process.execPath}" "${bin}" predict --model big.hdg --member a=big.npy | head -1`],
      {
        cwd: dir,
        encoding: 'utf8',
      },
    );
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toBe('');
  });

  it('reports the backend with info and no model', () => {
    const r = run('info', '--json');
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.backend).toBe(
      process.env.HDGLUE_BACKEND === 'js' || process.env.HDGLUE_BACKEND === 'wasm'
        ? process.env.HDGLUE_BACKEND
        : 'native',
    );
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
      '--consensus tutorial without --recipe tutorial',
      ['fit', ...members('train'), '--labels', 'y_train.npy', '--out', 'x.hdg', '--consensus', 'tutorial'],
      /--consensus tutorial needs the tutorial's encoders and HILs: give --recipe tutorial/,
    ],
    [
      'an unknown recipe',
      ['fit', ...members('train'), '--labels', 'y_train.npy', '--out', 'x.hdg', '--recipe', 'paper'],
      /--recipe must be default or tutorial, got "paper"/,
    ],
    [
      '--recipe tutorial with --cv',
      ['fit', ...members('train'), '--labels', 'y_train.npy', '--out', 'x.hdg', '--recipe', 'tutorial', '--cv', '3'],
      /--recipe tutorial runs the tutorial as written .*: --cv does not apply$/,
    ],
    [
      "--recipe tutorial with the default recipe's knobs",
      [
        'fit',
        ...members('train'),
        '--labels',
        'y_train.npy',
        '--out',
        'x.hdg',
        '--recipe',
        'tutorial',
        '--readout',
        'nearest',
        '--epochs',
        '5',
        '--bins',
        '16',
      ],
      /--recipe tutorial runs the tutorial as written .*: --bins, --epochs, --readout do not apply$/,
    ],
    [
      '--recipe tutorial with another consensus',
      [
        'fit',
        ...members('train'),
        '--labels',
        'y_train.npy',
        '--out',
        'x.hdg',
        '--recipe',
        'tutorial',
        '--consensus',
        'vote',
      ],
      /--recipe tutorial glues with the tutorial's own consensus, not --consensus vote/,
    ],
    [
      '--recipe tutorial with quantile ranges',
      [
        'fit',
        ...members('train'),
        '--labels',
        'y_train.npy',
        '--out',
        'x.hdg',
        '--recipe',
        'tutorial',
        '--range',
        'fit',
      ],
      /--recipe tutorial bins between each feature's min and max .* not between quantiles/,
    ],
    [
      'an unknown --schedule',
      ['fit', ...members('train'), '--labels', 'y_train.npy', '--out', 'x.hdg', '--schedule', 'sometimes'],
      /--schedule must be online or batch, got "sometimes"/,
    ],
    [
      '--schedule with the nearest readout',
      [
        'fit',
        ...members('train'),
        '--labels',
        'y_train.npy',
        '--out',
        'x.hdg',
        '--schedule',
        'batch',
        '--readout',
        'nearest',
      ],
      /--schedule applies to the prototype readout/,
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

describe("hdglue fit --recipe tutorial on the digits, with the demo's networks", () => {
  // The demo's first seed: the tutorial's split, 5 MLPs 64-128-10 tanh seeded 0..4, 100 epochs,
  // trained by the compiled trainer (one worker thread per core; the TypeScript one would train
  // them one after the other on this thread). Their hidden-layer embeddings are the members.
  const digits = loadDigits();
  const split = loadSplit();
  const train = subset(digits, split.train);
  const test = subset(digits, split.test);
  const names = ['mlp0', 'mlp1', 'mlp2', 'mlp3', 'mlp4'];
  const trainEmb: Float64Array[] = [];
  const testEmb: Float64Array[] = [];
  const digitMembers = (part: string) => names.flatMap((n) => ['--member', `${n}=${n}_${part}.npy`]);

  beforeAll(async () => {
    const { trainNetworks } = (await import(
      join(root, 'dist', 'demo', 'train.js')
    )) as typeof import('../lib/demo/train.js');
    const nets = await trainNetworks(train.x, train.y, train.n, 10, [0, 1, 2, 3, 4], { epochs: 100 });
    nets.forEach((net, i) => {
      trainEmb.push(net.embed(train.x, train.n));
      testEmb.push(net.embed(test.x, test.n));
      writeNpy(f(`${names[i]}_train.npy`), { shape: [train.n, 128], data: trainEmb[i] as Float64Array });
      writeNpy(f(`${names[i]}_test.npy`), { shape: [test.n, 128], data: testEmb[i] as Float64Array });
    });
    writeNpy(f('digits_y_train.npy'), { shape: [train.n], data: train.y });
    writeNpy(f('digits_y_test.npy'), { shape: [test.n], data: test.y });
  }, 240_000);

  it("scores about a quarter of the test images, as the demo's tutorial row, and predict/info read the model", () => {
    const fit = run(
      'fit',
      ...digitMembers('train'),
      '--labels',
      'digits_y_train.npy',
      '--out',
      'tut.hdg',
      '--recipe',
      'tutorial',
      '--json',
    );
    expect(fit.stderr).toBe('');
    expect(fit.code).toBe(0);
    const fr = JSON.parse(fit.stdout);
    expect(fr).toMatchObject({
      consensus: 'tutorial',
      recipeName: 'tutorial',
      recipe: { dim: 10000, bins: 100, levels: 'random', tie: 'ones', range: 'minmax', seed: 42 },
      fitRows: 1257,
    });
    const ev = run('eval', '--model', 'tut.hdg', ...digitMembers('test'), '--labels', 'digits_y_test.npy', '--json');
    expect(ev.code).toBe(0);
    const er = JSON.parse(ev.stdout);
    expect(er.n).toBe(540);
    expect(er.accuracy).toBeGreaterThanOrEqual(0.2);
    expect(er.accuracy).toBeLessThanOrEqual(0.35);
    // Each member alone is its one bundled HIL vector, the tutorial's way (the demo's 'mlp0' row).
    for (const n of names) expect(er.members[n]).toBeLessThan(0.5);

    const pr = run('predict', '--model', 'tut.hdg', ...digitMembers('test'), '--json');
    expect(pr.code).toBe(0);
    const preds = JSON.parse(pr.stdout).predictions as number[];
    expect(preds.filter((p, i) => p === test.y[i]).length).toBe(Math.round(er.accuracy * 540));

    const info = run('info', 'tut.hdg');
    expect(info.code).toBe(0);
    expect(info.stdout).toMatch(/5 member\(s\), 10 classes, tutorial consensus/);
    expect(info.stdout).toMatch(/^recipe: tutorial \(the tutorial's algebra as written/m);
    expect(info.stdout).toMatch(/mlp0: weight 1, EmbeddingEncoder, 128 features, D = 10000, 100 bins, random levels/);
    const ij = JSON.parse(run('info', 'tut.hdg', '--json').stdout);
    expect(ij).toMatchObject({ consensus: 'tutorial', recipe: 'tutorial' });
    // The default recipe's models say so too.
    expect(run('fit', ...members('train'), '--labels', 'y_train.npy', '--out', 'dflt.hdg', '--dim', '500').code).toBe(
      0,
    );
    expect(JSON.parse(run('info', 'dflt.hdg', '--json').stdout).recipe).toBe('default');
  });

  it("with the tutorial's fixed range, the saved model predicts what the demo's construction does", () => {
    const fit = run(
      'fit',
      ...digitMembers('train'),
      '--labels',
      'digits_y_train.npy',
      '--out',
      'tut11.hdg',
      '--recipe',
      'tutorial',
      '--range=-1,1',
    );
    expect(fit.code).toBe(0);
    expect(fit.stdout).toMatch(/100 random-level bins over \[-1, 1\], codebook seed 42/);
    const er = JSON.parse(
      run('eval', '--model', 'tut11.hdg', ...digitMembers('test'), '--labels', 'digits_y_test.npy', '--json').stdout,
    );
    // In process, as lib/demo/experiment.ts builds its tutorial rows.
    const glue = tutorialGlue(
      names.map((name, i) => ({ name, x: trainEmb[i] as Float64Array, features: 128 })),
      train.y,
      { range: [-1, 1] },
    );
    const inputs = Object.fromEntries(names.map((n, i) => [n, testEmb[i] as Float64Array]));
    expect(er.accuracy).toBe(glue.accuracy(inputs, test.y));
    const m0 = glue.member('mlp0');
    expect(er.members.mlp0).toBe(
      m0.hil.accuracy(m0.encoder.encodeBatch(testEmb[0] as Float64Array), test.y, { mode: 'tutorial' }),
    );
    expect(er.accuracy).toBeGreaterThanOrEqual(0.2);
    expect(er.accuracy).toBeLessThanOrEqual(0.35);
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
