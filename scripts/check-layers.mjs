#!/usr/bin/env node
// The shape of lib/ (docs/ARCHITECTURE.md), checked: every import, type imports included, points
// down the layers or within a folder; no import cycle; no module imports the public entry
// (index.ts only re-exports); no file over 500 lines. `node scripts/check-layers.mjs [libDir]`
// prints each breach and exits 1; test/layers.test.ts runs the same check and shows it can fail.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Layer of each folder of lib/, lowest first; files directly in lib/ are the leaves. */
export const LAYERS = [
  ['.'], // leaves: errors, validate, rng, label, defaults
  ['io'],
  ['backend'],
  ['core'],
  ['encode'],
  ['model'],
  ['train'],
  ['onnx'], // the published `hdglue/onnx` entry: it must not need the CLI or the demo
  ['cli', 'demo', 'serve'], // applications of the library; may use each other, acyclically
];

/** The published entry points (package.json `exports`): only re-exports, and imported by no module. */
export const ENTRIES = ['index.ts', 'onnx/index.ts'];

/** Lines a file under lib/ may have. */
export const MAX_LINES = 500;

// Static imports and re-exports (`import x from`, `import type`, `export * from`, side-effect
// `import '...'`), dynamic `import('...')` and `require('...')`, relative specifiers only.
const SPEC = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)(['"])(\.{1,2}\/[^'"]+)\1/gm;

function walk(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** The layer index of a module path relative to lib/ (`model/hil.ts` -> 5). */
export function layerOf(rel) {
  const top = rel.includes('/') ? rel.split('/')[0] : '.';
  const i = LAYERS.findIndex((l) => l.includes(top));
  return i < 0 ? -1 : i;
}

/** Every relative import of every module under `lib`: Map of module -> modules it imports (paths relative to lib/, with '/'). */
export function importGraph(lib) {
  const graph = new Map();
  for (const file of walk(lib)) {
    const rel = relative(lib, file).split(sep).join('/');
    const text = readFileSync(file, 'utf8');
    const deps = new Set();
    for (const m of text.matchAll(SPEC)) {
      const target = normalize(join(dirname(file), m[2])).replace(/\.js$/, '.ts');
      deps.add(relative(lib, target).split(sep).join('/'));
    }
    graph.set(rel, { deps: [...deps], lines: text.split('\n').length - (text.endsWith('\n') ? 1 : 0) });
  }
  return graph;
}

/** Strongly connected components with more than one module (or a module importing itself): the cycles. */
export function cycles(graph) {
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const stack = [];
  const on = new Set();
  const out = [];
  const visit = (v) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v)?.deps ?? []) {
      if (!graph.has(w)) continue;
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
    }
    if (low.get(v) === idx.get(v)) {
      const scc = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || graph.get(v).deps.includes(v)) out.push(scc.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) visit(v);
  return out;
}

/** Every breach of the rules in `lib` (a directory), as lines of text; empty when the house is in order. */
export function checkLayers(lib) {
  const graph = importGraph(lib);
  const problems = [];
  for (const [mod, { deps, lines }] of graph) {
    if (lines > MAX_LINES) problems.push(`${mod}: ${lines} lines (at most ${MAX_LINES})`);
    const from = mod === 'index.ts' ? LAYERS.length : layerOf(mod);
    if (from < 0) problems.push(`${mod}: folder is in no layer (add it to LAYERS in scripts/check-layers.mjs)`);
    for (const d of deps) {
      if (!graph.has(d)) {
        problems.push(`${mod}: imports ${d}, which does not exist`);
        continue;
      }
      if (ENTRIES.includes(d)) {
        problems.push(`${mod}: imports the public entry ${d} (import the module that holds the name)`);
        continue;
      }
      const to = layerOf(d);
      const sameFolder = dirname(mod) === dirname(d);
      if (!sameFolder && to > from)
        problems.push(
          `${mod}: imports ${d}, a higher layer (${LAYERS[to].join('/')} above ${LAYERS[from]?.join('/') ?? 'index'})`,
        );
    }
  }
  for (const c of cycles(graph)) problems.push(`import cycle: ${c.join(' <-> ')}`);
  return problems.sort();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === normalize(process.argv[1])) {
  const lib = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'lib');
  const problems = checkLayers(lib);
  for (const p of problems) console.error(p);
  if (problems.length) process.exit(1);
  console.log(
    `lib/ in layers: ${importGraph(lib).size} modules, imports point down, no cycle, none over ${MAX_LINES} lines`,
  );
}
