// The model file's record of ONNX members' sources (HDGlue.onnxSources): it round-trips through
// save and load, is written only when there is one (files without keep their bytes), is checked
// on load like the rest of the header (ERR_HDGLUE_MODEL_FILE) and on save (no file that would not
// load again), and follows member removal. No ONNX file is opened here.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddingEncoder, ErrorCode, HDGlue, type OnnxSourceSpec } from '../lib/index.js';
import { decodeModel, encodeModel } from '../lib/io/model-file.js';
import { expectCode } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'hdglue-model-sources-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const f = (name: string) => join(dir, name);

const SPEC: OnnxSourceSpec = {
  path: 'nets/cnn.onnx',
  sha256: 'ab'.repeat(32),
  output: '/fc1/Relu_output_0',
  input: { name: 'img', shape: ['batch', 1, 28, 28] },
};

function glue(): HDGlue {
  const g = new HDGlue();
  const x = Float32Array.from({ length: 40 }, (_, i) => Math.sin(i));
  for (const name of ['cnn', 'vit', 'mlp']) {
    const encoder = new EmbeddingEncoder({ dim: 256, features: 4, bins: 8, seed: 1 }).fit(x);
    g.addMember(name, { encoder });
  }
  g.fit(
    { cnn: x, vit: x, mlp: x },
    Array.from({ length: 10 }, (_, i) => i % 2),
  );
  return g;
}

// Rewrites a model file's JSON header (sections kept), with valid checksums.
function rewrite(path: string, edit: (header: Record<string, unknown>) => void): string {
  const m = decodeModel(new Uint8Array(readFileSync(path)));
  edit(m.header as Record<string, unknown>);
  const out = f(`edited-${Math.random().toString(36).slice(2)}.hdg`);
  writeFileSync(out, encodeModel(m.header, m.sections));
  return out;
}

describe('HDGlue.onnxSources', () => {
  it('round-trips through save and load, in member order, as a header key written last', () => {
    const g = glue();
    const mlp: OnnxSourceSpec = {
      path: '../mlp.onnx',
      sha256: 'c'.repeat(64),
      output: 'h',
      input: { name: 'x', shape: [-1, 64] },
    };
    g.onnxSources = { mlp, cnn: SPEC };
    g.save(f('with.hdg'));
    const back = HDGlue.load(f('with.hdg'));
    expect(back.onnxSources).toEqual({ cnn: SPEC, mlp });
    expect(Object.keys(back.onnxSources ?? {})).toEqual(['cnn', 'mlp']);
    const header = decodeModel(new Uint8Array(readFileSync(f('with.hdg')))).header as Record<string, unknown>;
    expect(Object.keys(header).at(-1)).toBe('onnx');
    // Loaded and saved again: the same bytes.
    back.save(f('again.hdg'));
    expect(readFileSync(f('again.hdg')).equals(readFileSync(f('with.hdg')))).toBe(true);
    // The loaded record is a copy: changing it does not reach other glues.
    (back.onnxSources as Record<string, OnnxSourceSpec>).cnn = mlp;
    expect(HDGlue.load(f('with.hdg')).onnxSources?.cnn).toEqual(SPEC);
  });

  it('without a record (undefined or empty) the file is byte for byte the one written before', () => {
    const g = glue();
    g.save(f('plain.hdg'));
    expect(HDGlue.load(f('plain.hdg')).onnxSources).toBeUndefined();
    g.onnxSources = {};
    g.save(f('empty.hdg'));
    expect(readFileSync(f('empty.hdg')).equals(readFileSync(f('plain.hdg')))).toBe(true);
    g.onnxSources = { cnn: SPEC };
    g.save(f('one.hdg'));
    g.onnxSources = undefined;
    g.save(f('none.hdg'));
    expect(readFileSync(f('none.hdg')).equals(readFileSync(f('plain.hdg')))).toBe(true);
  });

  it('removing a member drops its entry (and the record when it was the last)', () => {
    const g = glue();
    g.onnxSources = { cnn: SPEC, vit: { ...SPEC, path: 'vit.onnx' } };
    g.removeMember('cnn');
    expect(g.onnxSources).toEqual({ vit: { ...SPEC, path: 'vit.onnx' } });
    g.removeMember('vit');
    expect(g.onnxSources).toBeUndefined();
    g.removeMember('mlp');
    expect(g.onnxSources).toBeUndefined();
  });

  it('save refuses a record the file could not be read back with, and writes nothing', () => {
    const g = glue();
    const bad: [Record<string, unknown>, string][] = [
      [{ nobody: SPEC }, ErrorCode.UNKNOWN_MEMBER],
      [{ cnn: { ...SPEC, sha256: 'AB'.repeat(32) } }, ErrorCode.INVALID_TYPE],
      [{ cnn: { ...SPEC, path: '/abs/cnn.onnx' } }, ErrorCode.INVALID_TYPE],
      [{ cnn: { ...SPEC, extra: 1 } }, ErrorCode.INVALID_TYPE],
      [{ cnn: null }, ErrorCode.INVALID_TYPE],
    ];
    for (const [sources, code] of bad) {
      g.onnxSources = sources as Record<string, OnnxSourceSpec>;
      expectCode(() => g.save(f('refused.hdg')), code);
    }
    expect(() => readFileSync(f('refused.hdg'))).toThrow();
  });

  it('a malformed record is ERR_HDGLUE_MODEL_FILE, naming what is wrong', () => {
    const g = glue();
    g.onnxSources = { cnn: SPEC };
    g.save(f('good.hdg'));
    const spec = (h: Record<string, unknown>) =>
      (h.onnx as Record<string, Record<string, unknown>>).cnn as Record<string, unknown>;
    const cases: [(h: Record<string, unknown>) => void, RegExp][] = [
      [
        (h) => {
          h.onnx = [];
        },
        /ONNX sources are not an object/,
      ],
      [
        (h) => {
          h.onnx = null;
        },
        /ONNX sources are not an object/,
      ],
      [
        (h) => {
          h.onnx = { ghost: SPEC };
        },
        /names "ghost", which is not a member/,
      ],
      [
        (h) => {
          h.onnx = { ['__proto__']: SPEC };
        },
        /which is not a member/,
      ],
      [
        (h) => {
          spec(h).path = '';
        },
        /has no path/,
      ],
      [
        (h) => {
          spec(h).path = 7;
        },
        /has no path/,
      ],
      [
        (h) => {
          spec(h).path = '/etc/cnn.onnx';
        },
        /is not relative/,
      ],
      [
        (h) => {
          spec(h).path = 'C:/nets/cnn.onnx';
        },
        /is not relative/,
      ],
      [
        (h) => {
          spec(h).path = 'nets\\cnn.onnx';
        },
        /'\/'-separated/,
      ],
      [
        (h) => {
          spec(h).sha256 = 'ab';
        },
        /sha256/,
      ],
      [
        (h) => {
          spec(h).output = '';
        },
        /no output name/,
      ],
      [
        (h) => {
          spec(h).input = 'img';
        },
        /input is not an object/,
      ],
      [
        (h) => {
          spec(h).input = { name: 'img' };
        },
        /input shape/,
      ],
      [
        (h) => {
          spec(h).input = { name: 'img', shape: [] };
        },
        /input shape/,
      ],
      [
        (h) => {
          spec(h).input = { name: 'img', shape: [1.5] };
        },
        /input shape/,
      ],
      [
        (h) => {
          spec(h).input = { name: 'img', shape: [-2] };
        },
        /input shape/,
      ],
      [
        (h) => {
          spec(h).input = { name: '', shape: [1] };
        },
        /input has no name/,
      ],
      [
        (h) => {
          spec(h).input = { name: 'img', shape: [1], type: 'float32' };
        },
        /fields other than/,
      ],
      [
        (h) => {
          spec(h).batchSize = 4;
        },
        /unknown field/,
      ],
    ];
    for (const [edit, message] of cases) {
      const path = rewrite(f('good.hdg'), edit);
      let caught: unknown;
      try {
        HDGlue.load(path);
      } catch (e) {
        caught = e;
      }
      expect((caught as { code?: string })?.code, String(edit)).toBe(ErrorCode.MODEL_FILE);
      expect((caught as Error).message).toMatch(message);
    }
    // An empty record is nothing to hold: it loads as none.
    expect(
      HDGlue.load(
        rewrite(f('good.hdg'), (h) => {
          h.onnx = {};
        }),
      ).onnxSources,
    ).toBeUndefined();
  });
});
