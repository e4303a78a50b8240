// The layering of lib/ (docs/ARCHITECTURE.md) as a test: the real tree passes, and a small tree
// with each kind of breach is caught, so the check is known to fail when the house is broken.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module script without types
import { checkLayers } from '../scripts/check-layers.mjs';

const check = checkLayers as (lib: string) => string[];
const dir = mkdtempSync(join(tmpdir(), 'hdglue-layers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tree(files: Record<string, string>): string {
  const lib = mkdtempSync(join(dir, 'lib-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(lib, name)), { recursive: true });
    writeFileSync(join(lib, name), text);
  }
  return lib;
}

describe('layers of lib/', () => {
  it('the real tree: imports point down, no cycle, no file over 500 lines', () => {
    expect(check(fileURLToPath(new URL('../lib/', import.meta.url)))).toEqual([]);
  });

  it('a clean small tree passes', () => {
    const lib = tree({
      'errors.ts': 'export const E = 1;\n',
      'core/hv.ts': "import { E } from '../errors.js';\nexport const H = E;\n",
      'model/hil.ts': "import type { H } from '../core/hv.js';\nexport type L = typeof H;\n",
      'index.ts': "export * from './model/hil.js';\n",
    });
    expect(check(lib)).toEqual([]);
  });

  it('catches an upward import, a type-only cycle, an import of index.ts and a long file', () => {
    const lib = tree({
      'core/hv.ts': "import { G } from '../model/glue.js';\nexport const H = G;\n",
      'model/glue.ts': "export const G = 1;\nimport type { X } from './hil.js';\nexport type Y = X;\n",
      'model/hil.ts': "import type {\n  Y,\n} from './glue.js';\nexport type X = Y;\n",
      'train/recipe.ts': "import { H } from '../index.js';\nexport const R = H;\n",
      'index.ts': "export * from './core/hv.js';\n",
      'io/npy.ts': 'export const N = 0;\n'.repeat(501),
    });
    const problems = check(lib);
    expect(problems).toContain('core/hv.ts: imports model/glue.ts, a higher layer (model above core)');
    expect(problems).toContain('import cycle: model/glue.ts <-> model/hil.ts');
    expect(problems).toContain(
      'train/recipe.ts: imports the public entry index.ts (import the module that holds the name)',
    );
    expect(problems).toContain('io/npy.ts: 501 lines (at most 500)');
    expect(problems).toHaveLength(4);
  });

  it('sees dynamic import() and require(), the onnx entry, and onnx/ reaching into demo/', () => {
    const lib = tree({
      'core/ops.ts': "export async function f() {\n  return import('../model/hil.js');\n}\n",
      'io/npy.ts': "const m = require('../train/tune.js');\nexport const N = m;\n",
      'model/hil.ts': 'export const H = 1;\n',
      'train/tune.ts': 'export const T = 1;\n',
      'onnx/index.ts': "export * from './glue.js';\n",
      'onnx/glue.ts': "import { D } from '../demo/report.js';\nexport const G = D;\n",
      'demo/report.ts': 'export const D = 1;\n',
      'cli/fit.ts': "import { G } from '../onnx/index.js';\nexport const F = G;\n",
    });
    expect(check(lib)).toEqual([
      'cli/fit.ts: imports the public entry onnx/index.ts (import the module that holds the name)',
      'core/ops.ts: imports model/hil.ts, a higher layer (model above core)',
      'io/npy.ts: imports train/tune.ts, a higher layer (train above io)',
      'onnx/glue.ts: imports demo/report.ts, a higher layer (cli/demo/serve above onnx)',
    ]);
  });
});
