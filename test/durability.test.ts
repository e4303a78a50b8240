// Durability of saving: a process killed with SIGKILL at random moments while it saves a model
// (HDGlue.save) and an array (writeNpy) over and over must leave, at each destination, one of the
// two complete files it alternates between: never a missing, empty, truncated or mixed file. The
// writes go to a temporary file, are fsynced and renamed over the destination (lib/io/atomic.ts,
// writeFileAtomic), and this checks that chain under kills at 40 random points of it.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../lib/backend/native.js';
import { EmbeddingEncoder, encodeNpy, HDGlue, ProjectionEncoder } from '../lib/index.js';
import { prng } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'hdglue-durability-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// Two glues that differ in every section; large enough (about 1.5 MB) that a save takes a few
// milliseconds, so kills land inside writes, fsyncs and renames, not only between them.
function model(seed: number): HDGlue {
  const next = prng(seed);
  const rnd = (n: number) => Float32Array.from({ length: n }, () => (next() / 2 ** 32) * 2 - 1);
  const a = rnd(200 * 16);
  const b = rnd(200 * 24);
  const labels = Array.from({ length: 200 }, (_, i) => `class-${i % 20}`);
  const glue = new HDGlue({ seed });
  glue.addMember('level', { encoder: new EmbeddingEncoder({ features: 16, dim: 10000, bins: 8, seed }).fit(a) });
  glue.addMember('projection', { encoder: new ProjectionEncoder({ features: 24, dim: 8000, seed }).fit(b) });
  glue.fit({ level: a, projection: b }, labels);
  return glue;
}

function waitReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready')) resolve();
    });
    child.once('exit', (code, signal) => reject(new Error(`saver exited early (${code ?? signal}): ${out}`)));
  });
}

function exited(child: ChildProcess): Promise<NodeJS.Signals | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.signalCode);
    else child.once('exit', (_code, signal) => resolve(signal));
  });
}

// The file code is TypeScript whichever backend computes, so the TypeScript-backend pass of
// `npm test` skips this (it would only repeat the same writes more slowly).
describe.skipIf(process.env.HDGLUE_BACKEND === 'js')('saving under SIGKILL', () => {
  it('40 kills at random moments never leave a missing, partial or corrupt model or array', async () => {
    const a = model(1);
    const b = model(2);
    const kills = 40;
    const lanes = 2; // two savers at once, one per core, each in its own directory
    const next = prng(42);
    const outcomes = { a: 0, b: 0 };
    const temps: string[] = [];
    async function lane(id: number, rounds: number) {
      const dir = join(root, `lane-${id}`);
      mkdirSync(dir, { recursive: true });
      a.save(join(dir, 'a.hdg'));
      b.save(join(dir, 'b.hdg'));
      const npyA = encodeNpy({ shape: [300, 100], data: Float32Array.from({ length: 30000 }, (_, i) => i) });
      const npyB = encodeNpy({ shape: [100, 300], data: Float32Array.from({ length: 30000 }, (_, i) => -i) });
      writeFileSync(join(dir, 'a.npy'), npyA);
      writeFileSync(join(dir, 'b.npy'), npyB);
      const bytesA = readFileSync(join(dir, 'a.hdg'));
      const bytesB = readFileSync(join(dir, 'b.hdg'));
      // The first complete files, as any earlier save would have left them.
      writeFileSync(join(dir, 'model.hdg'), bytesA);
      writeFileSync(join(dir, 'array.npy'), npyA);
      for (let k = 0; k < rounds; k++) {
        const child = spawn(process.execPath, ['test/stress/save-child.mjs', dir], {
          cwd: packageRoot,
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        await waitReady(child);
        await new Promise((r) => setTimeout(r, (next() % 60) + 1));
        child.kill('SIGKILL');
        expect(await exited(child)).toBe('SIGKILL');
        const saved = readFileSync(join(dir, 'model.hdg'));
        const isA = saved.equals(bytesA);
        expect(isA || saved.equals(bytesB), `round ${k}: model.hdg is neither complete file`).toBe(true);
        outcomes[isA ? 'a' : 'b']++;
        // And it loads: the reader agrees the file is whole.
        HDGlue.load(join(dir, 'model.hdg'));
        const arr = readFileSync(join(dir, 'array.npy'));
        expect(arr.equals(npyA) || arr.equals(npyB), `round ${k}: array.npy is neither complete file`).toBe(true);
      }
      // A kill between creating the temporary file and renaming it leaves that temporary file
      // behind (hidden, named after the destination); it never replaces the destination.
      temps.push(...readdirSync(dir).filter((f) => f.endsWith('.tmp')));
    }
    await Promise.all(Array.from({ length: lanes }, (_, id) => lane(id, kills / lanes)));
    // Both files were seen at the destination: the kills landed at different points of the cycle.
    expect(outcomes.a).toBeGreaterThan(0);
    expect(outcomes.b).toBeGreaterThan(0);
    expect(outcomes.a + outcomes.b).toBe(kills);
    if (process.env.HDGLUE_DURABILITY_REPORT) console.log(JSON.stringify({ kills, outcomes, temps: temps.length }));
    for (const t of temps) expect(t).toMatch(/^\.(model\.hdg|array\.npy)\.\d+\.[0-9a-f]{12}\.tmp$/);
  });
});
