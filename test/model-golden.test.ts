// Saved model files are a promise: a file written by an earlier build loads and saves back byte
// for byte, and the same data and seeds build the same bytes. The golden set in
// test/fixtures/models/ was written by test/model-fixtures.ts; regenerate it (only for a change
// meant to alter what is written, and say so in the commit) with
//   HDGLUE_WRITE_GOLDEN=1 npx vitest run test/model-golden.test.ts
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { HDGlue, HIL } from '../lib/index.js';
import { buildModelFixtures } from './model-fixtures.js';

const golden = fileURLToPath(new URL('./fixtures/models/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'hdglue-golden-rt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const built = buildModelFixtures();
if (process.env.HDGLUE_WRITE_GOLDEN === '1') {
  mkdirSync(golden, { recursive: true });
  for (const [name, bytes] of built) writeFileSync(join(golden, name), bytes);
}

describe('golden model files', () => {
  const files = readdirSync(golden).sort();

  it('are all there, one per kind the builder makes', () => {
    expect(files).toEqual([...built.keys()].sort());
    expect(files.length).toBeGreaterThanOrEqual(7);
  });

  for (const name of [...built.keys()].sort()) {
    it(`${name}: the same data and seeds build the same bytes`, () => {
      const want = new Uint8Array(readFileSync(join(golden, name)));
      const got = built.get(name) as Uint8Array;
      expect(got.length).toBe(want.length);
      expect(Buffer.compare(Buffer.from(got), Buffer.from(want))).toBe(0);
    });

    it(`${name}: loads and saves back byte for byte`, () => {
      const src = join(golden, name);
      const out = join(dir, name);
      if (name.endsWith('.hil')) HIL.load(src).save(out);
      else HDGlue.load(src).save(out);
      expect(Buffer.compare(readFileSync(out), readFileSync(src))).toBe(0);
    });
  }
});
