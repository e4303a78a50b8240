// Models and requests for the `hdglue serve` tests: small glues (D = 1,000, a few hundred rows of
// data/digits.csv split into two 32-feature members) built with the library API, saved to a
// temporary directory, and JSON bodies of their rows.
import { readFileSync } from 'node:fs';
import { buildMember, DEFAULT_RECIPE, HDGlue, HIL, type Recipe } from '../lib/index.js';
import { type App, createApp } from '../lib/serve/app.js';
import { createMetrics } from '../lib/serve/metrics.js';
import type { ServedModelOptions } from '../lib/serve/model.js';
import { ModelHolder } from '../lib/serve/reload.js';

/** `n` digits rows (64 pixels / 16) as two 32-feature float32 members, and their labels. */
export function digitsMembers(n: number, from = 0): { top: Float32Array; bottom: Float32Array; y: number[] } {
  const lines = readFileSync(new URL('../data/digits.csv', import.meta.url), 'utf8')
    .trim()
    .split('\n')
    .slice(1 + from, 1 + from + n);
  const top = new Float32Array(n * 32);
  const bottom = new Float32Array(n * 32);
  const y: number[] = [];
  lines.forEach((line, r) => {
    const v = line.split(',').map(Number);
    for (let f = 0; f < 32; f++) {
      top[r * 32 + f] = (v[f] as number) / 16;
      bottom[r * 32 + f] = (v[32 + f] as number) / 16;
    }
    y.push(v[64] as number);
  });
  return { top, bottom, y };
}

const RECIPE: Recipe = { ...DEFAULT_RECIPE, dim: 1000, epochs: 4 };

/**
 * A vote glue of members `top` and `bottom` (or `concat` consensus), trained on 300 rows;
 * `seed` changes the members' codebooks, so two seeds give two different models.
 */
export function servedGlue(
  options: { seed?: number; consensus?: 'vote' | 'concat'; names?: [string, string] } = {},
): HDGlue {
  const { top, bottom, y } = digitsMembers(300);
  const seed = options.seed ?? 1;
  const [a, b] = options.names ?? ['top', 'bottom'];
  if (options.consensus === 'concat') {
    const mt = buildMember(top, 32, y, RECIPE, seed);
    const mb = buildMember(bottom, 32, y, RECIPE, seed + 1);
    const g = new HDGlue({ consensus: 'concat' })
      .addMember(a, { encoder: mt.encoder, hil: new HIL({ dim: 1000, seed }) })
      .addMember(b, { encoder: mb.encoder, hil: new HIL({ dim: 1000, seed: seed + 1 }) });
    g.fit({ [a]: top, [b]: bottom }, y, { refine: { epochs: 2 } });
    return g;
  }
  return new HDGlue()
    .addMember(a, buildMember(top, 32, y, RECIPE, seed))
    .addMember(b, buildMember(bottom, 32, y, RECIPE, seed + 1));
}

/** Rows [from, from + n) of a member as JSON rows (arrays of numbers). */
export function jsonRows(x: Float32Array, from: number, n: number, width = 32): number[][] {
  return Array.from({ length: n }, (_, r) => Array.from(x.subarray((from + r) * width, (from + r + 1) * width)));
}

const apps: { app: App; holder: ModelHolder }[] = [];

/** An application over `path`, not listening. */
export async function appFor(
  path: string,
  options: Partial<ServedModelOptions> & { bodyLimit?: number } = {},
): Promise<{ app: App; holder: ModelHolder; logs: string[] }> {
  const logs: string[] = [];
  let holder: ModelHolder | undefined;
  const metrics = createMetrics(() => holder?.queueDepth ?? 0);
  holder = await ModelHolder.open(path, { batch: false, ...options }, metrics, (l) => logs.push(l));
  const app = createApp({
    holder,
    metrics,
    log: (l) => logs.push(l),
    ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}),
  });
  apps.push({ app, holder });
  return { app, holder, logs };
}

/** Close every application {@link appFor} made. */
export async function closeApps(): Promise<void> {
  for (const a of apps.splice(0)) {
    await a.app.fastify.close();
    await a.holder.close();
  }
}
