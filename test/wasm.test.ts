// The WebAssembly tier's own machinery, beyond the parity files (which run on it too): the module
// it ships, row chunking across the arena, memory that stays bounded over a soak, traps turned
// into coded errors with a fresh instance, and async calls that run in workers, off the event loop.
import { beforeAll, describe, expect, it } from 'vitest';
import { jsBackend } from '../lib/backend/index.js';
import type { Backend, Kernels } from '../lib/backend/types.js';
import { loadWasm } from '../lib/backend/wasm/backend.js';
import { WasmCore } from '../lib/backend/wasm/core.js';
import { wasmEngine } from '../lib/backend/wasm/engine.js';
import { wasmKernels } from '../lib/backend/wasm/kernels.js';
import { CHUNK_BYTES } from '../lib/backend/wasm/marshal.js';
import { compileWasm } from '../lib/backend/wasm/module.js';
import { WasmPool } from '../lib/backend/wasm/pool.js';
import { prng, randomRows, runNode, stride } from './helpers.js';
import { wasmModulesBuilt } from './tier.js';

const built = wasmModulesBuilt();

/** Random floats in [-1.2, 1.2). */
function floats(n: number, next: () => number): Float32Array {
  return Float32Array.from({ length: n }, () => (next() / 2 ** 32) * 2.4 - 1.2);
}

// npm test's TypeScript pass (HDGLUE_BACKEND=js) would only repeat the native pass here: this file
// builds its WebAssembly instances itself whatever the backend.
describe.skipIf(!built || process.env.HDGLUE_BACKEND === 'js')('the WebAssembly tier', () => {
  // Made in beforeAll: vitest runs the body of a skipped describe too, and without wasm/ built
  // compiling here would throw instead of skipping.
  let core: WasmCore;
  let wasm: Kernels;
  let be: Backend;
  beforeAll(() => {
    core = new WasmCore(compileWasm(process.env.HDGLUE_MAX_ISA ?? '').module);
    wasm = wasmKernels(core);
    const load = loadWasm(process.env.HDGLUE_MAX_ISA ?? '');
    if (!load.ok) throw load.error;
    be = load.backend;
  });

  it('ships two modules that import nothing from the host', () => {
    const engine = wasmEngine();
    expect(engine).toBeDefined();
    for (const isa of ['simd128', 'scalar'] as const) {
      const c = compileWasm(isa === 'scalar' ? 'scalar' : '');
      expect(c.isa).toBe(isa);
      expect(engine?.Module.imports(c.module)).toEqual([]);
      expect(new WasmCore(c.module).isa).toBe(isa);
    }
  });

  it('streams batches larger than a chunk through the arena with the TypeScript results', () => {
    const next = prng(31);
    const dim = 10000;
    const w = stride(dim) / 2;
    const s = 2 * w;
    // Sizes chosen to cross chunk boundaries in every streamed kernel, with a ragged last chunk.
    const n = Math.ceil((3.5 * CHUNK_BYTES) / (s * 4));
    const batch = randomRows(dim, n, next);
    const q = randomRows(dim, 300, next);
    const same = <T extends ArrayLike<number>>(make: () => T, run: (k: Kernels, out: T) => unknown) => {
      const a = make();
      const b = make();
      const ra = run(wasm, a);
      const rb = run(jsBackend, b);
      expect(ra).toEqual(rb);
      expect(a).toEqual(b);
    };
    same(
      () => new Uint32Array(n),
      (k, out) => k.hamming1xN(q, batch, n, w, out),
    );
    // More rows on each side than fit one chunk (256 KiB / 1,256 bytes = 208 rows): both sides of
    // hammingMxN are chunked, with a ragged last chunk on each.
    const nb = 450;
    same(
      () => new Uint32Array(300 * nb),
      (k, out) => k.hammingMxN(q, 300, batch, nb, w, out),
    );
    same(
      () => new Uint32Array(n * s),
      (k, out) => k.bind(batch, q, 0, n, w, out),
    );
    same(
      () => new Uint32Array(n * s),
      (k, out) => k.bind(batch, batch.subarray(s), 1, n - 1, w, out),
    );
    const weights = Int32Array.from({ length: n }, (_, i) => (i % 7) - 3);
    same(
      () => new Int32Array(dim).fill(5),
      (k, out) => k.accAdd(out, dim, batch, n, weights),
    );
    const m = 12;
    const counters = Int32Array.from({ length: m * dim }, () => (next() % 201) - 100);
    same(
      () => new Float64Array(n * m),
      (k, out) => k.dotCounters(batch, n, counters, m, dim, out),
    );
    same(
      () => new Uint32Array(m * s),
      (k, out) => k.threshold(counters, m, dim, q, out),
    );
    const features = 128;
    const rows = 700;
    const x = floats(rows * features, next);
    const lo = new Float64Array(features).fill(-1);
    const hi = new Float64Array(features).fill(1);
    const levels = randomRows(dim, 64, next);
    const positions = randomRows(dim, features, next);
    same(
      () => new Uint32Array(rows * s),
      (k, out) => k.encodeLevels(x, rows, features, lo, hi, 64, levels, 64, positions, dim, q, out),
    );
    const mult = new Float64Array(features).fill(1000);
    same(
      () => new Uint32Array(rows * s),
      (k, out) => k.project(x, rows, features, mult, positions, dim, null, out),
    );
  });

  it('a NaN anywhere, even in the last chunk, is reported before any row is written', () => {
    const next = prng(32);
    const dim = 4096;
    const s = stride(dim);
    const features = 64;
    const rows = Math.ceil((3 * CHUNK_BYTES) / (s * 4));
    const x = floats(rows * features, next);
    x[(rows - 1) * features + 5] = Number.NaN;
    const out = new Uint32Array(rows * s).fill(7);
    const levels = randomRows(dim, 16, next);
    const positions = randomRows(dim, features, next);
    const lo = new Float64Array(features).fill(-1);
    const hi = new Float64Array(features).fill(1);
    expect(wasm.encodeLevels(x, rows, features, lo, hi, 16, levels, 16, positions, dim, null, out)).toBe(
      (rows - 1) * features + 5,
    );
    expect(out.every((v) => v === 7)).toBe(true);
  });

  it('a soak of calls of varying sizes leaves linear memory at the high-water mark of the largest', () => {
    const next = prng(33);
    const dim = 2048;
    const w = stride(dim) / 2;
    const s = 2 * w;
    const big = randomRows(dim, 5000, next);
    const q = randomRows(dim, 8, next);
    const out = new Uint32Array(8 * 5000);
    const topIdx = new Uint32Array(8 * 5);
    const topDist = new Uint32Array(8 * 5);
    const round = (r: number) => {
      const n = 1 + (r % 5000);
      wasm.hammingMxN(q, 8, big, n, w, out);
      wasm.topK(q, 8, big, Math.max(5, n), w, 5, topIdx, topDist);
      wasm.bundle(big, 1 + (r % 300), w, q, out.subarray(0, s));
    };
    round(4999);
    const high = core.memoryBytes;
    for (let r = 0; r < 2000; r++) round(next() % 5000);
    expect(core.memoryBytes).toBe(high);
  });

  it('short rows keep hammingMxN within a chunk of memory however many distances it returns', () => {
    const fresh = new WasmCore(compileWasm(process.env.HDGLUE_MAX_ISA ?? '').module);
    const k = wasmKernels(fresh);
    const next = prng(39);
    const m = 3000;
    const a = randomRows(64, m, next);
    const out = new Uint32Array(m * m);
    k.hammingMxN(a, m, a, m, 1, out);
    // 36 MB of distances; the instance holds a few chunks, not the whole block.
    expect(fresh.memoryBytes).toBeLessThan(8 * 2 ** 20);
    const row = new Uint32Array(m);
    for (const i of [0, 1234, m - 1]) {
      jsBackend.hamming1xN(a.subarray(i * 2), a, m, 1, row);
      expect(out.subarray(i * m, (i + 1) * m)).toEqual(row);
    }
  });

  it('an allocation beyond 4 GiB and a trap are coded errors, and the next call works', () => {
    expect(() => core.arena(5 * 2 ** 30)).toThrow(expect.objectContaining({ code: 'ERR_HDGLUE_OUT_OF_MEMORY' }));
    // A real trap: addresses past the end of linear memory. The trapped instance is replaced.
    const before = core.x;
    expect(() => core.call((x) => x.hdgw_hamming_1xn(0x7fff0000, 0x7ff00000, 1, 4, 16))).toThrow(
      expect.objectContaining({ code: 'ERR_HDGLUE_INTERNAL' }),
    );
    expect(core.x).not.toBe(before);
    // `unreachable` is where a failed allocation inside the module ends (operator new aborts).
    const engine = wasmEngine() as NonNullable<ReturnType<typeof wasmEngine>>;
    expect(() =>
      core.call(() => {
        throw new engine.RuntimeError('unreachable');
      }),
    ).toThrow(expect.objectContaining({ code: 'ERR_HDGLUE_OUT_OF_MEMORY' }));
    const next = prng(34);
    const a = randomRows(1000, 50, next);
    const got = new Uint32Array(50);
    const want = new Uint32Array(50);
    wasm.hamming1xN(a, a, 50, stride(1000) / 2, got);
    jsBackend.hamming1xN(a, a, 50, stride(1000) / 2, want);
    expect(got).toEqual(want);
  });

  it('async calls run in workers: the event loop keeps turning while a long one runs', async () => {
    const next = prng(35);
    const dim = 10000;
    const w = stride(dim) / 2;
    const features = 128;
    const rows = 1500;
    const x = floats(rows * features, next);
    const lo = new Float64Array(features).fill(-1);
    const hi = new Float64Array(features).fill(1);
    const levels = randomRows(dim, 64, next);
    const positions = randomRows(dim, features, next);
    const out = new Uint32Array(rows * 2 * w);
    // Warm the pool, so its start-up is not what the loop turns overlap with.
    await be.hamming1xNAsync(levels, levels, 1, w, new Uint32Array(1));
    let turns = 0;
    let done = false;
    const spin = () => {
      turns++;
      if (!done) setImmediate(spin);
    };
    setImmediate(spin);
    const t0 = performance.now();
    await be.encodeLevelsAsync(x, rows, features, lo, hi, 64, levels, 64, positions, dim, null, out);
    const ms = performance.now() - t0;
    done = true;
    const want = new Uint32Array(rows * 2 * w);
    wasm.encodeLevels(x, rows, features, lo, hi, 64, levels, 64, positions, dim, null, want);
    expect(out).toEqual(want);
    // A call run on this thread would let no turn through; a worker leaves the loop free.
    expect(turns, `${turns} turns in ${ms.toFixed(0)} ms`).toBeGreaterThan(10);
  });

  it('many concurrent async calls of every kind give the sync results', async () => {
    const next = prng(36);
    const dim = 1000;
    const w = stride(dim) / 2;
    const s = 2 * w;
    const n = 300;
    const batch = randomRows(dim, n, next);
    const q = randomRows(dim, 3, next);
    const calls: Promise<void>[] = [];
    for (let i = 0; i < 40; i++) {
      const k = 1 + (i % n);
      const a = new Uint32Array(k);
      const b = new Uint32Array(k);
      calls.push(
        be.hamming1xNAsync(q, batch, k, w, a).then(() => {
          wasm.hamming1xN(q, batch, k, w, b);
          expect(a).toEqual(b);
        }),
      );
      const c1 = new Int32Array(dim).fill(i);
      const c2 = c1.slice();
      calls.push(
        be.accAddAsync(c1, dim, batch, k, null).then(() => {
          wasm.accAdd(c2, dim, batch, k, null);
          expect(c1).toEqual(c2);
        }),
      );
      const i1 = new Uint32Array(6);
      const d1 = new Uint32Array(6);
      const i2 = new Uint32Array(6);
      const d2 = new Uint32Array(6);
      calls.push(
        be.topKAsync(q, 2, batch, Math.max(3, k), w, 3, i1, d1).then(() => {
          wasm.topK(q, 2, batch, Math.max(3, k), w, 3, i2, d2);
          expect([i1, d1]).toEqual([i2, d2]);
        }),
      );
      const o1 = new Uint32Array(s);
      calls.push(
        be.bundleAsync(batch, k, w, null, o1).then(() => {
          const o2 = new Uint32Array(s);
          wasm.bundle(batch, k, w, null, o2);
          expect(o1).toEqual(o2);
        }),
      );
    }
    await Promise.all(calls);
  });

  it('an async call writes only its outputs, and a bad one rejects with the sync error', async () => {
    const next = prng(37);
    const dim = 500;
    const w = stride(dim) / 2;
    const batch = randomRows(dim, 20, next);
    const q = randomRows(dim, 1, next);
    // An output longer than the call needs keeps its tail.
    const out = new Uint32Array(25).fill(99);
    await be.hamming1xNAsync(q, batch, 20, w, out);
    expect(Array.from(out.subarray(20))).toEqual([99, 99, 99, 99, 99]);
    await expect(be.hamming1xNAsync(q, batch, 21, w, out)).rejects.toMatchObject({
      name: 'RangeError',
      code: 'ERR_HDGLUE_SHAPE',
    });
  });

  it('an idle worker stops after the idle time (its memory with it), and the next call starts one', async () => {
    const pool = new WasmPool(compileWasm('').module, 2, 100);
    const q = randomRows(500, 3, prng(38));
    const w = stride(500) / 2;
    const want = new Uint32Array(3);
    jsBackend.hamming1xN(q, q, 3, w, want);
    const out = new Uint32Array(3);
    await pool.run('hamming1xN', [q, q, 3, w, out]);
    expect(out).toEqual(want);
    expect(pool.workers).toBe(1);
    await new Promise((r) => setTimeout(r, 400));
    expect(pool.workers).toBe(0);
    out.fill(0);
    await pool.run('hamming1xN', [q, q, 3, w, out]);
    expect(out).toEqual(want);
    expect(pool.workers).toBe(1);
  });

  it('a process with idle workers exits on its own once its calls are done', () => {
    const url = new URL('../dist/backend/wasm/backend.js', import.meta.url).href;
    const r = runNode(
      `const { loadWasm } = await import(${JSON.stringify(url)});
       const be = loadWasm('').backend;
       const q = new Uint32Array(32);
       const out = new Uint32Array(1);
       await be.hamming1xNAsync(q, q, 1, 16, out);
       console.log('done', out[0]);`,
      {},
    );
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('done 0');
    expect(r.status).toBe(0);
  });
});
