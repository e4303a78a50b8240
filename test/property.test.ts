// Property-based tests (fast-check) of the public API. Two parts:
//
// 1. Native against TypeScript. The package is loaded twice in this process, once per backend,
//    and every generated scenario runs on both: arbitrary typed arrays (every element type, views
//    at an offset, on a SharedArrayBuffer, on a resizable buffer, zero-length, detached), arbitrary
//    dimensions, counts, options, labels, names and values (NaN, infinities, -0, subnormals).
//    Each call must either return a result or throw a TypeError / RangeError / HdglueError with an
//    ERR_HDGLUE_ code, and both backends must agree on which, on the code, and on every bit of the
//    result. It runs in the native pass of `npm test` (both backends are in it).
// 2. Laws on the backend the environment selects, against naive references that share no code
//    with the kernels: bind, permute, Hamming, top-k, bundle, accumulators, encoders, HIL, npy.
//
// The seed is fixed so a failure reproduces; HDGLUE_PROPERTY_SEED and HDGLUE_PROPERTY_RUNS (a
// multiplier) vary it for longer runs: HDGLUE_PROPERTY_RUNS=20 npx vitest run test/property.test.ts
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as current from '../lib/index.js';

type Api = typeof current;
const SEED = Number(process.env.HDGLUE_PROPERTY_SEED ?? 20261125);
const MULT = Number(process.env.HDGLUE_PROPERTY_RUNS ?? 1);
const runs = (n: number) => ({ seed: SEED, numRuns: Math.max(1, Math.round(n * MULT)) });

// ---- outcomes ----------------------------------------------------------------------------------

type Outcome = { ok: unknown } | { error: string };

/** "Kind:code" of an hdglue error; anything else (no code, a foreign code) fails the property. */
function codeOf(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('ERR_HDGLUE_')) {
    throw new Error(`an error without an hdglue code: ${(e as Error)?.stack ?? String(e)}`);
  }
  const kind =
    e instanceof TypeError
      ? 'TypeError'
      : e instanceof RangeError
        ? 'RangeError'
        : (e as Error).name === 'HdglueError'
          ? 'HdglueError'
          : 'Error';
  return `${kind}:${code}`;
}

/** A result as plain data, so the two module instances' objects compare by value. */
function plain(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return typeof v === 'bigint' ? `${v}n` : v;
  if (ArrayBuffer.isView(v)) {
    // Indexed, not iterated: iterating a view of a detached buffer throws, and an empty batch may
    // legitimately wrap one.
    const a = v as unknown as ArrayLike<unknown>;
    return { [v.constructor.name]: Array.from({ length: a.length }, (_, i) => plain(a[i])) };
  }
  if (Array.isArray(v)) return v.map(plain);
  if (v instanceof Map) return { Map: [...v].map(plain) };
  const o: Record<string, unknown> = { class: v.constructor?.name };
  for (const k of Object.keys(v)) o[k] = plain((v as Record<string, unknown>)[k]);
  for (const k of ['dim', 'count', 'data']) if (k in v) o[k] = plain((v as Record<string, unknown>)[k]);
  return o;
}

function outcome(fn: () => unknown): Outcome {
  try {
    return { ok: plain(fn()) };
  } catch (e) {
    return { error: codeOf(e) };
  }
}

async function outcomeAsync(fn: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: plain(await fn()) };
  } catch (e) {
    return { error: codeOf(e) };
  }
}

// ---- arbitraries -------------------------------------------------------------------------------

const KINDS = [
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
] as const;
type Kind = (typeof KINDS)[number];
type Storage = 'plain' | 'shared' | 'resizable' | 'detached';

/** How to build one typed array: its kind, values, offset into a larger buffer and storage. */
interface ArrayDesc {
  kind: Kind;
  values: number[];
  offset: number;
  slack: number;
  storage: Storage;
}

const SPECIAL = [
  0,
  -0,
  1,
  -1,
  Number.NaN,
  Infinity,
  -Infinity,
  Number.MIN_VALUE,
  2.2250738585072014e-308,
  1e308,
  -1e308,
];
const value = fc.oneof(
  { weight: 4, arbitrary: fc.double({ min: -3, max: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom(...SPECIAL) },
  { weight: 1, arbitrary: fc.double() },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 0xffffffff }) },
);
const storage = fc.oneof(
  { weight: 6, arbitrary: fc.constant<Storage>('plain') },
  { weight: 1, arbitrary: fc.constantFrom<Storage>('shared', 'resizable', 'detached') },
);

function arrayDesc(kinds: readonly Kind[], values: fc.Arbitrary<number[]>): fc.Arbitrary<ArrayDesc> {
  return fc.record({
    kind: fc.constantFrom(...kinds),
    values,
    offset: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3 })),
    slack: fc.integer({ min: 0, max: 2 }),
    storage,
  });
}

function build(d: ArrayDesc): ArrayBufferView {
  type Ctor = { new (b: ArrayBufferLike, o: number, l: number): ArrayBufferView; BYTES_PER_ELEMENT: number };
  const C = globalThis[d.kind] as unknown as Ctor;
  const bytes = (d.offset + d.values.length + d.slack) * C.BYTES_PER_ELEMENT;
  const buf =
    d.storage === 'shared'
      ? new SharedArrayBuffer(bytes)
      : d.storage === 'resizable'
        ? new ArrayBuffer(bytes, { maxByteLength: bytes * 2 } as never)
        : new ArrayBuffer(bytes);
  const view = new C(buf, d.offset * C.BYTES_PER_ELEMENT, d.values.length);
  const big = d.kind.startsWith('Big');
  d.values.forEach((v, i) => {
    (view as unknown as Record<number, unknown>)[i] = big ? BigInt(Math.trunc(Number.isFinite(v) ? v : 0)) : v;
  });
  if (d.storage === 'detached') structuredClone(buf, { transfer: [buf as ArrayBuffer] });
  return view;
}

const stride = (dim: number) => 2 * Math.ceil(dim / 64);
const GOOD_DIMS = [1, 2, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 200, 257];
const dim = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...GOOD_DIMS) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 300 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<unknown>(0, -1, 1.5, Number.NaN, Infinity, 2 ** 24 + 1, '64', null, undefined, 64n),
  },
);
const seedArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 1000 }) },
  { weight: 1, arbitrary: fc.bigInt({ min: -1n, max: 2n ** 64n }) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(-1, 0.5, Number.NaN, 2 ** 53, '1', null) },
);
const label = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom<unknown>(0, 1, 2, 'a', 'b', '1') },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(-0, 1.5, -7, '', '__proto__', 'ü𝄞') },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(Number.NaN, Infinity, null, undefined, {}, [], true, 1n) },
);

/** Packed rows of `dim` bits from a seed: valid data (zero padding) unless `dirty`. */
function rows(dim: number, n: number, seed: number, dirty = false): Uint32Array {
  const s = stride(dim);
  const out = new Uint32Array(n * s);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < out.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x >>> 0;
  }
  if (!dirty) {
    for (let r = 0; r < n; r++) {
      const full = dim >>> 5;
      const rem = dim & 31;
      if (rem) out[r * s + full] = (out[r * s + full] as number) & ((1 << rem) - 1);
      for (let j = full + (rem ? 1 : 0); j < s; j++) out[r * s + j] = 0;
    }
  }
  return out;
}

// ---- part 1: native against TypeScript ---------------------------------------------------------

async function load(name: 'native' | 'wasm' | 'js'): Promise<Api> {
  const saved = process.env.HDGLUE_BACKEND;
  process.env.HDGLUE_BACKEND = name;
  vi.resetModules();
  const api = (await import('../lib/index.js')) as Api;
  api.backendInfo(); // the backend is chosen now, while the variable says which
  if (saved === undefined) delete process.env.HDGLUE_BACKEND;
  else process.env.HDGLUE_BACKEND = saved;
  return api;
}

let native: Api;
let js: Api;

// Outcomes seen per scenario, so a run can show that both results and errors were common
// (HDGLUE_PROPERTY_STATS=1 prints them).
const tally = new Map<string, Record<string, number>>();
function count(name: string, o: Outcome): void {
  const isOutcome = (x: unknown): x is Outcome => x !== null && typeof x === 'object' && ('ok' in x || 'error' in x);
  // A scenario of several calls returns their outcomes as a list: count each call.
  if ('ok' in o && Array.isArray(o.ok) && o.ok.length > 0 && o.ok.every(isOutcome)) {
    for (const x of o.ok) count(name, x);
    return;
  }
  const t = tally.get(name) ?? {};
  const key = 'error' in o ? o.error : 'result';
  t[key] = (t[key] ?? 0) + 1;
  tally.set(name, t);
}

/** Run a scenario on both backends and require the same outcome. */
function agree<T>(name: string, make: (api: Api, d: T) => Outcome) {
  return (d: T) => {
    const a = make(native, d);
    const b = make(js, d);
    count(name, a);
    expect(a).toEqual(b);
  };
}
function agreeAsync<T>(name: string, make: (api: Api, d: T) => Promise<Outcome>) {
  return async (d: T) => {
    const a = await make(native, d);
    const b = await make(js, d);
    count(name, a);
    expect(a).toEqual(b);
  };
}

describe.skipIf(process.env.HDGLUE_BACKEND === 'js')('native and TypeScript agree on every outcome', () => {
  afterAll(() => {
    if (process.env.HDGLUE_PROPERTY_STATS) console.log(JSON.stringify(Object.fromEntries(tally), null, 1));
  });
  beforeAll(async () => {
    // The compiled tier under test: native, or the WebAssembly core under HDGLUE_BACKEND=wasm.
    const compiled = process.env.HDGLUE_BACKEND === 'wasm' ? 'wasm' : 'native';
    native = await load(compiled);
    js = await load('js');
    expect(native.backendInfo().backend).toBe(compiled);
    expect(js.backendInfo().backend).toBe('js');
  });

  const OPS = ['construct', 'hammingMany', 'hammingMatrix', 'topK', 'bind', 'permute', 'bundle', 'bipolar'] as const;
  it('packed storage of any typed array, then every operation on it', () => {
    const scenario = fc.record({
      dim,
      count: fc.oneof(
        { weight: 6, arbitrary: fc.integer({ min: 0, max: 5 }) },
        { weight: 1, arbitrary: fc.constantFrom<unknown>(-1, 1.5, Number.NaN, '2') },
      ),
      // Mostly the right length of Uint32Array words; sometimes any type, length or padding.
      exact: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      clean: fc.oneof({ weight: 6, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      arr: arrayDesc(
        [...Array<Kind>(30).fill('Uint32Array'), ...KINDS],
        fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 40 }),
      ),
      op: fc.constantFrom(...OPS),
      k: fc.oneof(
        { weight: 6, arbitrary: fc.integer({ min: -3, max: 6 }) },
        { weight: 1, arbitrary: fc.constantFrom<unknown>(2 ** 53, 1.5, Number.NaN, '1') },
      ),
      tie: fc.constantFrom<unknown>(undefined, 'tiebreak', 'ones', 'x'),
      seed: seedArb,
    });
    fc.assert(
      fc.property(
        scenario,
        agree('packed', (api, s) => {
          const d = { ...s.arr };
          if (s.exact && typeof s.dim === 'number' && Number.isInteger(s.dim) && s.dim > 0 && s.dim <= 300) {
            const n = typeof s.count === 'number' && Number.isInteger(s.count) && s.count >= 0 ? s.count : 1;
            d.values = Array.from(rows(s.dim, n, d.values.length + 7, !s.clean));
          }
          return outcome(() => {
            const batch = new api.HVBatch(s.dim as number, s.count as number, build(d) as Uint32Array);
            switch (s.op) {
              case 'construct':
                return batch;
              case 'hammingMany':
                return api.hammingMany(batch.row(0), batch);
              case 'hammingMatrix':
                return api.hammingMatrix(batch, batch.slice(1));
              case 'topK':
                return api.topK(batch, batch, s.k as number);
              case 'bind':
                return api.bind(batch, batch.row(batch.count - 1));
              case 'permute':
                return api.permute(batch, s.k as number);
              case 'bundle':
                return api.bundle(batch, { tie: s.tie as 'ones', seed: s.seed as number });
              default:
                return batch.toBipolar();
            }
          });
        }),
      ),
      runs(600),
    );
  });

  it('random vectors from any dimension, name and seed', () => {
    const scenario = fc.record({
      dim,
      name: fc.oneof(
        fc.string({ maxLength: 8 }),
        fc.string({ unit: 'grapheme', maxLength: 4 }),
        fc.constantFrom<unknown>(1, null, undefined, ['a']),
      ),
      names: fc.array(fc.oneof(fc.constantFrom('a', 'a', 'b'), fc.string({ maxLength: 3 })), { maxLength: 4 }),
      seed: seedArb,
    });
    fc.assert(
      fc.property(
        scenario,
        agree('random', (api, s) =>
          outcome(() => [
            api.randomHV(s.dim as number, s.name as string, { seed: s.seed as number }),
            api.randomBatch(s.dim as number, s.names, { seed: s.seed as number }),
            api.tieBreaker(s.dim as number, { seed: s.seed as number }),
          ]),
        ),
      ),
      runs(300),
    );
  });

  it('bundles with any weights, tie rule and seed', () => {
    const scenario = fc.record({
      dim: fc.constantFrom(...GOOD_DIMS),
      n: fc.integer({ min: 0, max: 7 }),
      seed: seedArb,
      tie: fc.constantFrom<unknown>(undefined, 'tiebreak', 'ones', 'majority'),
      weights: fc.option(
        fc.oneof(
          fc.array(fc.integer({ min: -5, max: 5 }), { maxLength: 8 }),
          fc.array(fc.oneof(fc.integer(), fc.constantFrom<unknown>(2 ** 31, -(2 ** 31), 0.5, Number.NaN, '1')), {
            maxLength: 8,
          }),
        ),
        { nil: undefined },
      ),
      typed: fc.boolean(),
      // Most weight lists get one weight per row, so the weighted kernel runs.
      fit: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    });
    fc.assert(
      fc.property(
        scenario,
        agree('bundle', (api, s) =>
          outcome(() => {
            const batch = new api.HVBatch(s.dim, s.n, rows(s.dim, s.n, s.n + 1));
            const w = s.weights && s.fit ? Array.from({ length: s.n }, (_, i) => s.weights?.[i] ?? 1) : s.weights;
            const weights = w && s.typed && w.every((x) => typeof x === 'number') ? Int32Array.from(w as number[]) : w;
            return api.bundle(batch, { seed: s.seed as number, tie: s.tie as 'ones', weights: weights as number[] });
          }),
        ),
      ),
      runs(400),
    );
  });

  it('accumulators: any sequence of adds, subtracts, thresholds and dots', () => {
    const step = fc.record({
      op: fc.constantFrom('add', 'subtract', 'threshold', 'thresholdRow', 'dot'),
      row: fc.oneof(fc.integer({ min: 0, max: 2 }), fc.constantFrom<unknown>(-1, 3, 0.5)),
      n: fc.integer({ min: 0, max: 4 }),
      otherDim: fc.boolean(),
      weights: fc.option(
        fc.array(fc.oneof(fc.integer({ min: -3, max: 3 }), fc.constantFrom(2 ** 31 - 1, -(2 ** 31))), { maxLength: 5 }),
        { nil: undefined },
      ),
      tie: fc.constantFrom<unknown>(undefined, 'ones', 'x'),
    });
    const scenario = fc.record({ dim: fc.constantFrom(...GOOD_DIMS), steps: fc.array(step, { maxLength: 6 }) });
    fc.assert(
      fc.property(
        scenario,
        agree('accumulators', (api, s) => {
          const acc = new api.Accumulators(s.dim, 3);
          const log = s.steps.map((t, i) =>
            outcome(() => {
              const d = t.otherDim ? s.dim + 1 : s.dim;
              const batch = new api.HVBatch(d, t.n, rows(d, t.n, i + 3));
              const opts = t.weights === undefined ? undefined : { weights: t.weights };
              if (t.op === 'add') return acc.add(t.row as number, batch, opts).counters.slice();
              if (t.op === 'subtract') return acc.subtract(t.row as number, batch, opts).counters.slice();
              if (t.op === 'threshold') return acc.threshold({ tie: t.tie as 'ones' });
              if (t.op === 'thresholdRow') return acc.thresholdRow(t.row as number, { tie: t.tie as 'ones' });
              return acc.dot(batch);
            }),
          );
          return { ok: log };
        }),
      ),
      runs(300),
    );
  });

  it('codebooks with duplicate, empty and non-string names, and any k', () => {
    const scenario = fc.record({
      dim: fc.constantFrom(...GOOD_DIMS),
      names: fc.array(
        fc.oneof(
          fc.constantFrom<unknown>('a', 'a', 'b', '', 'ü'),
          fc.string({ maxLength: 3 }),
          fc.constantFrom<unknown>(1, null),
        ),
        {
          maxLength: 6,
        },
      ),
      k: fc.oneof(fc.integer({ min: 0, max: 7 }), fc.constantFrom<unknown>(-1, 1.5)),
      get: fc.constantFrom<unknown>('a', 'missing', 3),
    });
    fc.assert(
      fc.property(
        scenario,
        agree('codebook', (api, s) => {
          const cb = new api.Codebook(s.dim, { seed: 5 });
          const added = s.names.map((n) => outcome(() => cb.add(n as string)));
          return {
            ok: [
              { ok: added },
              outcome(() => cb.get(s.get as string)),
              outcome(() => cb.nearest(api.randomHV(s.dim, 'q', { seed: 5 }), s.k as number)),
              outcome(() => cb.nearest(cb.vectors(), s.k as number)),
              outcome(() => api.Codebook.fromJSON(JSON.stringify(cb)).vectors()),
            ],
          };
        }),
      ),
      runs(300),
    );
  });

  const encoderScenario = fc.record({
    projection: fc.boolean(),
    features: fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: 1, max: 6 }) },
      { weight: 1, arbitrary: fc.constantFrom<unknown>(0, -1, 1.5, 65537, '3') },
    ),
    dim: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(1, 63, 64, 65, 200) }, { weight: 1, arbitrary: dim }),
    bins: fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: 1, max: 12 }) },
      { weight: 1, arbitrary: fc.constantFrom<unknown>(0, 65537, 2.5) },
    ),
    levels: fc.constantFrom<unknown>(undefined, 'level', 'random', 'circular', 'thermometer'),
    range: fc.option(fc.tuple(value, value), { nil: undefined }),
    scale: fc.option(fc.oneof(value, fc.array(value, { maxLength: 6 })), { nil: undefined }),
    tie: fc.constantFrom<unknown>(undefined, 'ones'),
    x: arrayDesc(
      ['Float32Array', 'Float32Array', 'Float64Array', 'Float64Array', 'Int32Array', 'Uint8Array'],
      fc.array(value, { maxLength: 30 }),
    ),
    rowsInstead: fc.boolean(),
    n: fc.option(fc.oneof(fc.integer({ min: 0, max: 8 }), fc.constantFrom<unknown>(-1, 1.5)), { nil: undefined }),
    fit: fc.constantFrom<unknown>(undefined, 'minmax', 'quantile', 'median'),
    call: fc.constantFrom('encode', 'encodeBatch', 'encodeBatchAsync'),
  });

  function encoderOf(api: Api, s: typeof encoderScenario extends fc.Arbitrary<infer T> ? T : never) {
    if (s.projection) {
      return new api.ProjectionEncoder({
        features: s.features as number,
        dim: s.dim as number,
        scale: s.scale as number,
        tie: s.tie as 'ones',
        seed: 3,
      });
    }
    return new api.EmbeddingEncoder({
      features: s.features as number,
      dim: s.dim as number,
      bins: s.bins as number,
      levels: s.levels as 'level',
      range: s.range as [number, number],
      tie: s.tie as 'ones',
      seed: 3,
    });
  }

  it('encoders: any options, typed array, values, row count and call', async () => {
    await fc.assert(
      fc.asyncProperty(
        encoderScenario,
        agreeAsync('encoders', async (api, s) => {
          let enc: ReturnType<typeof encoderOf>;
          try {
            enc = encoderOf(api, s);
          } catch (e) {
            return { error: codeOf(e) };
          }
          const x = build(s.x) as Float32Array;
          const f = enc.features;
          const input = s.rowsInstead
            ? Array.from({ length: Math.floor(x.length / f) }, (_, r) => Array.from(x.subarray(r * f, (r + 1) * f)))
            : x;
          const fitted = outcome(() => {
            if (s.fit === undefined) return null;
            if (enc instanceof api.ProjectionEncoder) return enc.fit(input).scale;
            return enc.fit(input, { method: s.fit as 'minmax' }).lo;
          });
          const encoded = await outcomeAsync(async () => {
            if (s.call === 'encode') return enc.encode(s.rowsInstead ? ((input as number[][])[0] as number[]) : x);
            if (s.call === 'encodeBatch') return enc.encodeBatch(input, s.n as number);
            return enc.encodeBatchAsync(input, s.n as number);
          });
          return { ok: [fitted, encoded, { ok: plain(enc.toJSON()) }] };
        }),
      ),
      runs(600),
    );
  });

  const hilScenario = fc.record({
    dim: fc.constantFrom(1, 33, 64, 130),
    n: fc.integer({ min: 0, max: 8 }),
    labels: fc.array(label, { maxLength: 9 }),
    // Most label lists get one label per example, so fitting goes ahead.
    fit: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    forget: fc.array(label, { maxLength: 4 }),
    metric: fc.constantFrom<unknown>(undefined, 'cosine', 'hamming', 'euclid'),
    mode: fc.constantFrom<unknown>(undefined, 'default', 'tutorial'),
    k: fc.oneof(fc.integer({ min: 0, max: 4 }), fc.constant<unknown>(-1)),
    refine: fc.option(
      fc.record({
        epochs: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constant<unknown>(-1)),
        margin: fc.oneof(fc.double({ min: 0, max: 0.3, noNaN: true }), fc.constantFrom<unknown>(-1, Number.NaN, 3)),
        rule: fc.constantFrom<unknown>(undefined, 'adapt', 'tutorial', 'perceptron'),
      }),
      { nil: undefined },
    ),
  });

  it('HIL: fit, refine, predict, top-k, forget with any labels (duplicates, unknown, -0, NaN, objects)', () => {
    fc.assert(
      fc.property(
        hilScenario,
        agree('hil', (api, s) => {
          const hil = new api.HIL({ dim: s.dim, seed: 9 });
          const labels = s.fit ? Array.from({ length: s.n }, (_, i) => s.labels[i] ?? i % 3) : s.labels;
          const hvs = new api.HVBatch(s.dim, s.n, rows(s.dim, s.n, s.n + 11));
          const queries = new api.HVBatch(s.dim, 3, rows(s.dim, 3, 99));
          const opts = { metric: s.metric as 'cosine', mode: s.mode as 'default' };
          return {
            ok: [
              outcome(() => hil.fit(hvs, labels as string[]).counts),
              outcome(() => (s.refine ? hil.refine(hvs, labels as string[], s.refine as never) : null)),
              outcome(() => hil.predict(queries, opts)),
              outcome(() => hil.scores(queries, opts)),
              outcome(() => hil.predictTopK(queries, s.k as number, opts)),
              outcome(
                () =>
                  hil.forget(hvs.slice(0, Math.min(s.forget.length, s.n)), s.forget.slice(0, s.n) as string[]).counts,
              ),
              outcome(() => hil.labels),
              outcome(() => hil.prototypes()),
            ],
          };
        }),
      ),
      runs(500),
    );
  });

  const glueScenario = fc.record({
    present: fc.subarray(['a', 'b', 'ghost', '__proto__', ''], { minLength: 0 }),
    rowsA: fc.integer({ min: 0, max: 4 }),
    rowsB: fc.integer({ min: 0, max: 4 }),
    labels: fc.array(label, { minLength: 0, maxLength: 5 }),
    weightB: fc.constantFrom<unknown>(1, 0, 0.5, -1, Number.NaN, '1'),
    consensus: fc.constantFrom<unknown>(undefined, 'vote', 'tutorial', 'max'),
    async: fc.boolean(),
  });

  it('HDGlue: members present or missing, unknown names, row counts, labels, weights, consensus rules', async () => {
    const features = { a: 3, b: 5 };
    const train = (r: number, f: number, seed: number) =>
      Float32Array.from({ length: r * f }, (_, i) => Math.sin(i * 1.7 + seed) * 1.5);
    await fc.assert(
      fc.asyncProperty(
        glueScenario,
        agreeAsync('glue', async (api, s) => {
          const glue = new api.HDGlue({ seed: 2 });
          glue.addMember('a', { encoder: new api.EmbeddingEncoder({ features: 3, dim: 96, bins: 6, seed: 1 }) });
          glue.addMember('b', { encoder: new api.ProjectionEncoder({ features: 5, dim: 96, seed: 1 }) });
          const fit = outcome(() => {
            const n = s.labels.length;
            glue.fit({ a: train(n, 3, 1), b: train(n, 5, 2) }, s.labels as string[]);
            return glue.labels();
          });
          const weight = outcome(() => glue.setWeight('b', s.weightB as number).member('b').weight);
          const inputs: Record<string, Float32Array> = {};
          for (const name of s.present) {
            const f = features[name as 'a' | 'b'] ?? 3;
            inputs[name] = train(name === 'b' ? s.rowsB : s.rowsA, f, 7);
          }
          const opts = s.consensus === undefined ? undefined : { consensus: s.consensus as 'vote' };
          const predicted = s.async
            ? await outcomeAsync(() => glue.predictAsync(inputs, opts))
            : outcome(() => glue.predict(inputs, opts));
          return { ok: [fit, weight, predicted] };
        }),
      ),
      runs(300),
    );
  });
});

// ---- part 2: laws on the selected backend ------------------------------------------------------

const api = current;
const validDim = fc.constantFrom(...GOOD_DIMS, 1000, 1025);
const bitsOf = (data: Uint32Array, at: number, d: number) =>
  Array.from({ length: d }, (_, i) => ((data[at + (i >>> 5)] as number) >>> (i & 31)) & 1);

describe(`laws on the ${process.env.HDGLUE_BACKEND ?? 'default'} backend`, () => {
  it('bind is XOR, its own inverse; Hamming is the count of differing bits, symmetric, with the triangle inequality', () => {
    fc.assert(
      fc.property(validDim, fc.integer({ min: 1, max: 6 }), fc.integer(), (d, n, seed) => {
        const b = new api.HVBatch(d, n, rows(d, n, seed));
        const q = b.row(0);
        const bound = api.bind(b, q);
        expect(api.bind(bound, q).equals(b)).toBe(true);
        const many = api.hammingMany(q, b);
        const matrix = api.hammingMatrix(b, b);
        for (let r = 0; r < n; r++) {
          const want = bitsOf(b.data, r * stride(d), d).filter((x, i) => x !== bitsOf(q.data, 0, d)[i]).length;
          expect(many[r]).toBe(want);
          expect(api.hamming(b.row(r), q)).toBe(want);
          for (let c = 0; c < n; c++) {
            expect(matrix[r * n + c]).toBe(matrix[c * n + r]);
            expect(matrix[r * n + c]).toBeLessThanOrEqual((matrix[r * n] as number) + (matrix[c] as number));
          }
        }
      }),
      runs(100),
    );
  });

  it('permute moves bit i to (i + k) mod dim, for any safe k, and -k undoes it', () => {
    fc.assert(
      fc.property(
        validDim,
        fc.oneof(
          fc.integer({ min: -3000, max: 3000 }),
          fc.constantFrom(Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER),
        ),
        fc.integer(),
        (d, k, seed) => {
          const x = new api.Hypervector(d, rows(d, 1, seed));
          const p = api.permute(x, k);
          const s = ((k % d) + d) % d;
          const xb = bitsOf(x.data, 0, d);
          const pb = bitsOf(p.data, 0, d);
          for (let i = 0; i < d; i++) expect(pb[(i + s) % d]).toBe(xb[i]);
          expect(api.permute(p, -k).equals(x)).toBe(true);
        },
      ),
      runs(100),
    );
  });

  it('top-k is the k smallest distances, ties by index, consistent with hammingMany', () => {
    fc.assert(
      fc.property(
        validDim,
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer(),
        (d, n, distinct, seed) => {
          // Few distinct rows: many equal distances, where only the index orders them.
          const pool = rows(d, distinct, seed);
          const s = stride(d);
          const data = new Uint32Array(n * s);
          for (let r = 0; r < n; r++) data.set(pool.subarray((r % distinct) * s, ((r % distinct) + 1) * s), r * s);
          const b = new api.HVBatch(d, n, data);
          const q = new api.Hypervector(d, rows(d, 1, seed + 1));
          const k = (seed >>> 0) % (n + 1);
          const t = api.topK(q, b, k);
          const dist = api.hammingMany(q, b);
          const order = Array.from({ length: n }, (_, i) => i).sort(
            (x, y) => (dist[x] as number) - (dist[y] as number) || x - y,
          );
          expect(Array.from(t.indices)).toEqual(order.slice(0, k));
          expect(Array.from(t.distances)).toEqual(order.slice(0, k).map((i) => dist[i]));
        },
      ),
      runs(100),
    );
  });

  it('bundle is the per-bit majority, ties by the rule; weighted, the sign of the weighted sum', () => {
    fc.assert(
      fc.property(
        validDim,
        fc.integer({ min: 0, max: 9 }),
        fc.integer(),
        fc.constantFrom<'tiebreak' | 'ones'>('tiebreak', 'ones'),
        fc.array(fc.integer({ min: -4, max: 4 }), { minLength: 9, maxLength: 9 }),
        (d, n, seed, tie, w) => {
          const b = new api.HVBatch(d, n, rows(d, n, seed));
          const tb = bitsOf(api.tieBreaker(d, { seed: 4 }).data, 0, d);
          const plainB = bitsOf(api.bundle(b, { tie, seed: 4 }).data, 0, d);
          const weights = w.slice(0, n);
          const weighted = bitsOf(api.bundle(b, { tie, seed: 4, weights }).data, 0, d);
          const all = Array.from({ length: n }, (_, r) => bitsOf(b.data, r * stride(d), d));
          for (let i = 0; i < d; i++) {
            const sum = all.reduce((acc, row) => acc + (row[i] ? -1 : 1), 0);
            const wsum = all.reduce((acc, row, r) => acc + (weights[r] as number) * (row[i] ? -1 : 1), 0);
            const rule = (v: number) => (v < 0 ? 1 : v > 0 ? 0 : tie === 'ones' ? 0 : tb[i]);
            expect(plainB[i]).toBe(rule(sum));
            expect(weighted[i]).toBe(rule(wsum));
          }
        },
      ),
      runs(80),
    );
  });

  it('accumulators: subtract undoes add exactly, whatever the weights (wrapping included)', () => {
    fc.assert(
      fc.property(
        validDim,
        fc.array(
          fc.tuple(
            fc.integer({ min: 0, max: 4 }),
            fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 4 }),
          ),
          {
            maxLength: 5,
          },
        ),
        (d, adds) => {
          const acc = new api.Accumulators(d, 2);
          acc.add(1, new api.HVBatch(d, 3, rows(d, 3, 5)));
          const before = acc.counters.slice();
          const batches = adds.map(([n, w], i) => {
            const b = new api.HVBatch(d, w.length, rows(d, w.length, i + n));
            acc.add(0, b, { weights: w });
            return [b, w] as const;
          });
          for (const [b, w] of batches.reverse()) acc.subtract(0, b, { weights: w });
          expect(acc.counters).toEqual(before);
        },
      ),
      runs(80),
    );
  });

  it('encoders: one row, a batch, its async twin, float32 or float64 of the same values, -0 or 0: same bits', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.integer({ min: 1, max: 6 }),
        fc.constantFrom(64, 65, 300),
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.oneof(fc.float({ min: -3, max: 3, noNaN: true }), fc.constantFrom(0, -0, 1e-40, -1e-45)), {
          minLength: 30,
          maxLength: 30,
        }),
        async (projection, features, d, n, vals) => {
          const enc = projection
            ? new api.ProjectionEncoder({ features, dim: d, seed: 2 })
            : new api.EmbeddingEncoder({ features, dim: d, bins: 7, seed: 2 });
          const x32 = Float32Array.from(vals.slice(0, n * features));
          const x64 = Float64Array.from(x32);
          const batch = enc.encodeBatch(x32);
          expect(enc.encodeBatch(x64).equals(batch)).toBe(true);
          expect((await enc.encodeBatchAsync(x32)).equals(batch)).toBe(true);
          expect(
            enc
              .encodeBatch(
                Array.from({ length: n }, (_, r) => Array.from(x32.subarray(r * features, (r + 1) * features))),
              )
              .equals(batch),
          ).toBe(true);
          for (let r = 0; r < n; r++)
            expect(enc.encode(x32.subarray(r * features, (r + 1) * features)).equals(batch.row(r))).toBe(true);
          const flipped = x64.map((v) => (v === 0 ? -v : v));
          expect(enc.encodeBatch(flipped).equals(batch)).toBe(true);
          // A NaN or infinity anywhere is reported with its row and feature, and nothing is returned.
          const at = (n * features - 1) >>> 1;
          for (const bad of [Number.NaN, Infinity, -Infinity]) {
            const y = x64.slice();
            y[at] = bad;
            expect(() => enc.encodeBatch(y)).toThrow(
              expect.objectContaining({
                code: 'ERR_HDGLUE_NOT_FINITE',
                message: expect.stringContaining(`row ${Math.floor(at / features)}, feature ${at % features}`),
              }),
            );
          }
        },
      ),
      runs(60),
    );
  });

  it('HIL: forget undoes partialFit bit for bit, with any mix of number and string labels', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(33, 64, 200),
        fc.array(fc.constantFrom<string | number>(0, 1, 2, 'a', 'b', '0', -0), { minLength: 1, maxLength: 8 }),
        fc.array(fc.constantFrom<string | number>(0, 1, 'a', 'c', 7), { minLength: 1, maxLength: 6 }),
        (d, first, more) => {
          const hil = new api.HIL({ dim: d });
          const a = new api.HVBatch(d, first.length, rows(d, first.length, 1));
          hil.fit(a, first);
          const before = hil.labels.map((l) => [l, hil.counters(l)] as const);
          const b = new api.HVBatch(d, more.length, rows(d, more.length, 2));
          hil.partialFit(b, more);
          hil.forget(b, more);
          expect(hil.labels).toEqual(before.map(([l]) => l));
          for (const [l, c] of before) expect(hil.counters(l)).toEqual(c);
        },
      ),
      runs(100),
    );
  });

  it('npy: every dtype and shape round-trips, read from views at odd offsets and shared memory', () => {
    const typed = fc.oneof(
      fc.array(fc.float(), { maxLength: 12 }).map((v) => Float32Array.from(v)),
      fc.array(fc.double(), { maxLength: 12 }).map((v) => Float64Array.from(v)),
      fc.array(fc.integer({ min: -128, max: 127 }), { maxLength: 12 }).map((v) => Int8Array.from(v)),
      fc.array(fc.integer({ min: 0, max: 65535 }), { maxLength: 12 }).map((v) => Uint16Array.from(v)),
      fc.array(fc.integer(), { maxLength: 12 }).map((v) => Int32Array.from(v)),
      fc
        .array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { maxLength: 12 })
        .map((v) => BigInt64Array.from(v)),
      fc.array(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { maxLength: 12 }).map((v) => BigUint64Array.from(v)),
      fc
        .array(fc.string({ unit: 'grapheme', maxLength: 4 }), { maxLength: 12 })
        .map((v) => v.map((s) => s.replace(/\0+$/, ''))),
    );
    fc.assert(
      fc.property(typed, fc.integer({ min: 1, max: 7 }), fc.boolean(), (data, pad, shared) => {
        const shape = [data.length];
        const bytes = api.encodeNpy({ shape, data });
        const host = new Uint8Array(
          shared ? new SharedArrayBuffer(bytes.length + pad) : new ArrayBuffer(bytes.length + pad),
        );
        host.set(bytes, pad);
        const back = api.parseNpy(host.subarray(pad));
        expect(back.shape).toEqual(shape);
        expect(back.data).toEqual(data);
      }),
      runs(150),
    );
  });

  it('npy: arbitrary bytes parse to an array or fail with ERR_HDGLUE_NPY', () => {
    const npyish = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc.tuple(fc.uint8Array({ maxLength: 150 }), fc.integer({ min: 0, max: 255 })).map(([tail, v]) => {
        const head = new TextEncoder().encode(
          `\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (${v},), }`,
        );
        const out = new Uint8Array(head.length + tail.length);
        out.set(head);
        out.set(tail, head.length);
        out[8] = head.length - 10 + Math.min(tail.length, 5);
        return out;
      }),
    );
    fc.assert(
      fc.property(npyish, (bytes) => {
        const o = outcome(() => api.parseNpy(bytes));
        if ('error' in o) expect(o.error).toBe('HdglueError:ERR_HDGLUE_NPY');
      }),
      runs(300),
    );
  });
});
