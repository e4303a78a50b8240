// The published type declarations (dist/*.d.ts, built by `pretest`) type-check for a strict
// consumer that does not skip library checks: a declaration that re-exports a name stripped as
// @internal, or points at a file that is not shipped, breaks every such user's build.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'hdglue-types-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function typeCheck(source: string): { status: number | null; output: string } {
  writeFileSync(join(dir, 'consumer.ts'), source);
  const r = spawnSync(
    process.execPath,
    [
      join(root, 'node_modules', 'typescript', 'bin', 'tsc'),
      '--noEmit',
      '--strict',
      '--skipLibCheck',
      'false',
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--target',
      'es2022',
      '--types',
      'node',
      '--typeRoots',
      join(root, 'node_modules', '@types'),
      'consumer.ts',
    ],
    { cwd: dir, encoding: 'utf8' },
  );
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('published declarations', () => {
  it('hdglue and hdglue/onnx type-check with skipLibCheck off', () => {
    const dist = join(root, 'dist').replaceAll('\\', '/');
    const r = typeCheck(
      `import * as hd from '${dist}/index.js';\n` +
        `import * as onnx from '${dist}/onnx/index.js';\n` +
        `const g: hd.HDGlue = new hd.HDGlue({ consensus: 'vote' });\n` +
        `const h: hd.HIL = new hd.HIL({ dim: 64 });\n` +
        `const o: typeof onnx.OnnxGlue = onnx.OnnxGlue;\n` +
        `export { g, h, o };\n`,
    );
    expect(r.output).toBe('');
    expect(r.status).toBe(0);
  });

  it('the same check fails on a declaration that re-exports a missing name', () => {
    writeFileSync(join(dir, 'broken.d.ts'), "export type { Nope } from './consumer.js';\n");
    const r = typeCheck("import type * as b from './broken.js';\nexport type X = b.Nope;\n");
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/TS2305|TS2694/);
  });
});
