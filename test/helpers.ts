// Shared test fixtures: a seeded PRNG (tests never use Math.random) and packed random rows
// with zero padding, as every kernel requires.
import { spawnSync } from 'node:child_process';
import { expect } from 'vitest';

/** mulberry32: small, seeded, good enough for test data. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** 2 * ceil(dim / 64) Uint32 entries per row. */
export function stride(dim: number): number {
  return 2 * Math.ceil(dim / 64);
}

/** `n` random rows of `dim` bits; `density` biases bits towards 0 (< 0.5) or 1 (> 0.5). */
export function randomRows(dim: number, n: number, next: () => number, density = 0.5): Uint32Array {
  const s = stride(dim);
  const out = new Uint32Array(n * s);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < s; j++) {
      let w = next();
      if (density < 0.5) w &= next();
      else if (density > 0.5) w |= next();
      out[r * s + j] = w;
    }
    clearPadding(out.subarray(r * s, (r + 1) * s), dim);
  }
  return out;
}

/** Zero the bits at and above `dim` of one row. */
export function clearPadding(row: Uint32Array, dim: number): void {
  const full = dim >>> 5;
  const rem = dim & 31;
  if (rem) row[full] = (row[full] as number) & (((1 << rem) - 1) >>> 0);
  for (let j = full + (rem ? 1 : 0); j < row.length; j++) row[j] = 0;
}

/** Run a snippet in a fresh Node process (ESM), with extra environment variables. */
export function runNode(code: string, env: Record<string, string | undefined>, cwd?: string, nodeArgs: string[] = []) {
  const merged: Record<string, string | undefined> = { ...process.env, ...env };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete merged[k];
  const r = spawnSync(process.execPath, [...nodeArgs, '--input-type=module', '-e', code], {
    env: merged as NodeJS.ProcessEnv,
    cwd,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs fn and checks that it threw an error carrying this stable `code`. */
export function expectCode(fn: () => unknown, code: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect((caught as { code?: string })?.code).toBe(code);
}

/**
 * Sums of squares of each counter row, exact and rounded once (doubles while every square and
 * partial sum is exact, else BigInt): the norms refineOnline takes, as the model computes them
 * for counters in its range, and exact beyond it.
 */
export function exactSquaredNorms(counters: Int32Array, m: number, dim: number): Float64Array {
  const out = new Float64Array(m);
  for (let k = 0; k < m; k++) {
    let d = 0;
    let small = true;
    for (let i = 0; i < dim && small; i++) {
      const v = counters[k * dim + i]!;
      small = Math.abs(v) < 2 ** 26;
      d += v * v;
    }
    // Below 2^53 every partial sum was exact too; otherwise round once from the exact BigInt sum.
    if (small && d < 2 ** 53) {
      out[k] = d;
      continue;
    }
    let s = 0n;
    for (let i = 0; i < dim; i++) {
      const v = BigInt(counters[k * dim + i]!);
      s += v * v;
    }
    out[k] = Number(s);
  }
  return out;
}
