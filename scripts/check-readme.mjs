#!/usr/bin/env node
// Keeps the README's demo table true: runs `hdglue demo` (default options, as the README shows
// it) and compares its table with the block between the demo-table markers in README.md.
//   node scripts/check-readme.mjs          exit 1 with a diff when they differ
//   node scripts/check-readme.mjs --write  replace the block with a fresh run's table
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const readmePath = join(root, 'README.md');
const START = '<!-- demo-table:start -->';
const END = '<!-- demo-table:end -->';

const run = spawnSync(process.execPath, [join(root, 'bin', 'hdglue.mjs'), 'demo'], { encoding: 'utf8' });
if (run.status !== 0) {
  console.error(run.stderr);
  process.exit(1);
}
// The first line names the machine, date and time taken; the table follows a blank line.
const lines = run.stdout.trimEnd().split('\n');
const machine = lines[0];
const table = lines.slice(2).join('\n');

const readme = readFileSync(readmePath, 'utf8');
const a = readme.indexOf(START);
const b = readme.indexOf(END);
if (a < 0 || b < a) {
  console.error(`README.md has no ${START} ... ${END} block`);
  process.exit(1);
}
const inner = readme.slice(a + START.length, b);
const quoted = inner.match(/```text\n([\s\S]*?)\n```/);
const current = quoted ? quoted[1] : '';

if (process.argv.includes('--write')) {
  const block = `${START}\n\`\`\`text\n${machine}\n\n${table}\n\`\`\`\n${END}`;
  writeFileSync(readmePath, readme.slice(0, a) + block + readme.slice(b + END.length));
  console.log(`README.md: demo table written (${machine})`);
  process.exit(0);
}
// The machine line (date, CPU, seconds) legitimately differs between runs; the table may not.
const currentTable = current.split('\n').slice(2).join('\n');
if (currentTable === table) {
  console.log('README.md demo table matches a fresh run of `hdglue demo`');
  process.exit(0);
}
console.error('README.md demo table differs from a fresh run of `hdglue demo`:');
const want = table.split('\n');
const have = currentTable.split('\n');
for (let i = 0; i < Math.max(want.length, have.length); i++) {
  if (want[i] !== have[i]) console.error(`  README: ${have[i] ?? '(missing)'}\n  demo:   ${want[i] ?? '(missing)'}`);
}
console.error('Update it with: node scripts/check-readme.mjs --write');
process.exit(1);
