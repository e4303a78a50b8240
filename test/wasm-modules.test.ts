// Both WebAssembly modules (simd128 and scalar) against the TypeScript kernels, in one process, bit
// for bit: a seeded randomized differential test of every sync kernel over a few hundred shapes
// each (dims off the 32/64/128/512-bit boundaries, tails, empty and single-row batches, 1 to 80
// words, inputs past the marshalling chunk, counters at the edges of their documented ranges).
// Every array goes in at a random offset inside a guarded buffer, so a write outside a kernel's
// view is caught too. A failure names the base seed (HDGLUE_DIFF_SEED reruns it), the kernel, the
// case and its own seed; HDGLUE_DIFF_SCALE multiplies the case counts for a longer soak.
import { beforeAll, describe, expect, it } from 'vitest';
import { jsBackend } from '../lib/backend/js/backend.js';
import { KERNEL_NAMES, type KernelName, type Kernels } from '../lib/backend/types.js';
import { WasmCore } from '../lib/backend/wasm/core.js';
import { wasmEngine } from '../lib/backend/wasm/engine.js';
import { wasmKernels } from '../lib/backend/wasm/kernels.js';
import { CHUNK_BYTES } from '../lib/backend/wasm/marshal.js';
import { compileWasm } from '../lib/backend/wasm/module.js';
import { clearPadding, exactSquaredNorms, prng, randomRows, stride } from './helpers.js';
import { wasmModulesBuilt } from './tier.js';

const built = wasmModulesBuilt();

const SEED = process.env.HDGLUE_DIFF_SEED ? Number(process.env.HDGLUE_DIFF_SEED) >>> 0 : 0x4d0d15ee;
const SCALE = Math.max(1, Number(process.env.HDGLUE_DIFF_SCALE ?? 1) || 1);

type Next = () => number;
type Arr = Uint8Array | Uint32Array | Int32Array | Float32Array | Float64Array;

/** Uniform integer in [lo, hi] (hi - lo < 2^32). */
const int = (next: Next, lo: number, hi: number): number => lo + (next() % (hi - lo + 1));
const pick = <T>(next: Next, a: readonly T[]): T => a[next() % a.length] as T;
const coin = (next: Next, p: number): boolean => next() < p * 2 ** 32;

const EDGE_DIMS = [
  1, 2, 3, 7, 31, 32, 33, 63, 64, 65, 95, 96, 97, 127, 128, 129, 255, 256, 257, 511, 512, 513, 1023, 1024, 1025, 4095,
  4096, 4097, 5119, 5120,
];

/** A dimension: an edge one, a short one or any up to `maxWords` 64-bit words. */
function randDim(next: Next, maxWords = 80): number {
  const r = next() % 10;
  if (r < 3)
    return pick(
      next,
      EDGE_DIMS.filter((d) => d <= maxWords * 64),
    );
  if (r < 5) return int(next, 1, 200);
  return int(next, 1, maxWords * 64);
}

/** A word count (1..80, often 1..4) and a dim whose last word it ends in, for the kernels taking `words`. */
function randWords(next: Next): { words: number; dim: number } {
  const words = coin(next, 0.3) ? int(next, 1, 4) : int(next, 1, 80);
  return { words, dim: words * 64 - (next() % 64) };
}

/** n rows of dim bits, sometimes biased, with repeats and complements (equal distances, exact ties). */
function rows(next: Next, dim: number, n: number): Uint32Array {
  const out = randomRows(dim, n, next, pick(next, [0.5, 0.5, 0.5, 0.2, 0.8]));
  const s = stride(dim);
  if (n > 1 && coin(next, 0.4)) {
    for (let r = 1; r < n; r++) {
      const src = next() % r;
      if (coin(next, 0.3)) out.copyWithin(r * s, src * s, src * s + s);
      else if (coin(next, 0.2)) {
        for (let j = 0; j < s; j++) out[r * s + j] = ~out[src * s + j]!;
        clearPadding(out.subarray(r * s, r * s + s), dim);
      }
    }
  }
  return out;
}

/** An output prefilled with garbage (a kernel must overwrite every entry it owns). */
function junk(next: Next, n: number): Uint32Array {
  return Uint32Array.from({ length: n }, () => next());
}

function junkF64(next: Next, n: number): Float64Array {
  return Float64Array.from({ length: n }, () => (next() | 0) * 1.5);
}

const EDGE_C = [
  0,
  0,
  1,
  -1,
  2,
  -2,
  32767,
  -32767,
  32768,
  -32768,
  2 ** 24 - 1,
  -(2 ** 24 - 1),
  2 ** 24,
  -(2 ** 24),
  2 ** 31 - 1,
  -(2 ** 31),
  2 ** 31 - 2,
  -(2 ** 31) + 1,
];

/** int32 counters with |v| < lim (lim 2^31: any int32): small ones (zeros for ties), random, at the edges. */
function counterValues(next: Next, len: number, lim = 2 ** 31): Int32Array {
  const a = new Int32Array(len);
  const flavor = next() % 4;
  const edges = EDGE_C.filter((v) => Math.abs(v) < lim || (lim === 2 ** 31 && v === -(2 ** 31)));
  for (let i = 0; i < len; i++) {
    const r = flavor === 0 ? 0 : next() % 4;
    if (r === 0) a[i] = int(next, -3, 3);
    else if (r === 1) a[i] = (next() | 0) % lim;
    else if (r === 2) a[i] = (next() & 1 ? 1 : -1) * (lim - 1 - int(next, 0, 3));
    else a[i] = pick(next, edges);
  }
  return a;
}

/** Neighbouring doubles (toward +/- infinity). */
const f64 = new Float64Array(1);
const i64 = new BigInt64Array(f64.buffer);
function nextDouble(x: number, dir: 1 | -1): number {
  if (x === 0) return dir * Number.MIN_VALUE;
  f64[0] = x;
  i64[0] = i64[0]! + (x > 0 === dir > 0 ? 1n : -1n);
  return f64[0];
}

/** Values for the binning of one feature: edges, their neighbours, lo, hi, outside and inside. */
function binValue(next: Next, lo: number, hi: number, bins: number): number {
  const step = (hi - lo) / bins;
  const edge = (next() % (bins + 1)) * step + lo;
  switch (next() % 7) {
    case 0:
      return edge;
    case 1:
      return nextDouble(edge, next() & 1 ? 1 : -1);
    case 2:
      return pick(next, [lo, hi, nextDouble(lo, -1), nextDouble(hi, 1), nextDouble(hi, -1)]);
    case 3:
      return next() & 1 ? hi + (next() % 100) + 0.5 : lo - (next() % 100) - 0.5;
    default:
      return lo + ((hi - lo) * next()) / 2 ** 32;
  }
}

/** A feature range: its width 0 now and then (lo == hi, documented as exact), else a normal step. */
function range(next: Next): [number, number] {
  const lo = pick(next, [-1, -2, 0, -1000.25, 1e-3, -1e6, 3.5]) + (next() % 3);
  const width = coin(next, 0.05) ? 0 : pick(next, [0.5, 1, 3.7, 1e-3, 1e4, 2]);
  return [lo, lo + width];
}

/** A case: the shape (for the message), its arrays (cloned per backend) and the call. */
interface Case {
  shape: Record<string, unknown>;
  args: Record<string, Arr>;
  call(k: Kernels, a: Record<string, Arr>): unknown;
}
/** `big` is the index of a big case (past a chunk: the first `big` cases of a plan), else -1. */
type Gen = (next: Next, big: number) => Case;

function kase<A extends Record<string, Arr>>(
  shape: Record<string, unknown>,
  args: A,
  call: (k: Kernels, a: A) => unknown,
): Case {
  return { shape, args, call: call as Case['call'] };
}

/** Rows so that `rowBytes`-byte rows fill `chunks` marshalling chunks, plus a ragged tail. */
function pastChunks(next: Next, rowBytes: number, chunks: number): number {
  return Math.ceil((chunks * CHUNK_BYTES) / rowBytes) + int(next, 1, 97);
}

const BUNDLE_K = [0, 1, 2, 3, 4, 5, 6, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257];

/** Rows of n HVs near m prototypes (each bit kept with probability keep), for the online refinement. */
function classRows(next: Next, dim: number, n: number, m: number) {
  const s = stride(dim);
  const protos = randomRows(dim, m, next);
  const out = randomRows(dim, n, next);
  const truth = new Int32Array(n);
  const keepBits = pick(next, [0, 1, 2, 3, 4]);
  for (let r = 0; r < n; r++) {
    const t = next() % m;
    truth[r] = t;
    for (let j = 0; j < s; j++) {
      let keep = 0;
      for (let b = 0; b < keepBits; b++) keep |= next();
      out[r * s + j] = ((protos[t * s + j]! & keep) | (out[r * s + j]! & ~keep)) >>> 0;
    }
  }
  return { hvs: out, truth };
}

/** Per kernel: the number of cases, how many of the first are big (past a chunk), the generator. */
const PLANS: Record<KernelName, { cases: number; big: number; gen: Gen }> = {
  randomHV: {
    cases: 300,
    big: 2,
    gen: (next, big) => {
      const dim = big >= 0 ? 8 * CHUNK_BYTES + int(next, 1, 63) : randDim(next, 120);
      const seed = pick(next, [0n, 2n ** 64n - 1n, 1n, (BigInt(next()) << 32n) | BigInt(next())]);
      const name = Uint8Array.from({ length: pick(next, [0, 1, 7, 8, 9, int(next, 0, 48)]) }, () => next() & 255);
      return kase({ dim, seed, nameLength: name.length }, { name, out: junk(next, stride(dim)) }, (k, a) =>
        k.randomHV(seed, a.name, dim, a.out),
      );
    },
  },

  bind: {
    cases: 300,
    big: 4,
    gen: (next, big) => {
      const { words, dim } = big >= 0 ? { words: [1, 37, 80, 5][big % 4]!, dim: 0 } : randWords(next);
      const s = 2 * words;
      const bStride = (big >= 0 ? big & 1 : next() & 1) as 0 | 1;
      const n = big >= 0 ? pastChunks(next, s * 4, 2) : pick(next, [0, 1, 2, int(next, 0, 40)]);
      const d = dim || words * 64;
      return kase(
        { words, n, bStride },
        { a: rows(next, d, n), b: rows(next, d, bStride ? n : 1), out: junk(next, n * s) },
        (k, x) => k.bind(x.a, x.b, bStride, n, words, x.out),
      );
    },
  },

  hamming1xN: {
    cases: 300,
    big: 4,
    gen: (next, big) => {
      const { words, dim } = big >= 0 ? { words: [1, 3, 80, 17][big % 4]!, dim: 0 } : randWords(next);
      const d = dim || words * 64 - 5;
      const s = 2 * words;
      const n = big >= 0 ? pastChunks(next, s * 4, 2) : pick(next, [0, 1, 2, int(next, 0, 60)]);
      const batch = rows(next, d, n);
      const q = n > 0 && coin(next, 0.3) ? batch.slice(0, s) : rows(next, d, 1);
      return kase({ words, n }, { q, batch, out: junk(next, n) }, (k, a) =>
        k.hamming1xN(a.q, a.batch, n, words, a.out),
      );
    },
  },

  hammingMxN: {
    cases: 250,
    big: 4,
    gen: (next, big) => {
      let words: number;
      let dim: number;
      let m: number;
      let n: number;
      if (big >= 0) {
        // Short rows chunk the query side too (by the distances block), long rows the batch side.
        words = big & 1 ? 64 : 1;
        dim = words * 64 - 3;
        m = words === 1 ? int(next, 3, 9) : int(next, 130, 200);
        n = words === 1 ? pastChunks(next, 8, 1) : pastChunks(next, 512, 1);
      } else {
        ({ words, dim } = randWords(next));
        m = pick(next, [0, 1, 2, int(next, 0, 12)]);
        n = pick(next, [0, 1, 2, int(next, 0, 60)]);
      }
      return kase({ words, m, n }, { a: rows(next, dim, m), b: rows(next, dim, n), out: junk(next, m * n) }, (k, x) =>
        k.hammingMxN(x.a, m, x.b, n, words, x.out),
      );
    },
  },

  topK: {
    cases: 300,
    big: 2,
    gen: (next, big) => {
      // Short dims (few distinct distances) make many ties, which must go by ascending index.
      const tiny = coin(next, 0.4);
      const { words, dim } =
        big >= 0 ? { words: 8, dim: 500 } : tiny ? { words: 1, dim: int(next, 1, 12) } : randWords(next);
      const n = big >= 0 ? pastChunks(next, words * 8, 2) : pick(next, [0, 1, 2, 5, int(next, 0, 80)]);
      const m = big >= 0 ? 3 : pick(next, [0, 1, 2, int(next, 0, 6)]);
      const kk = n === 0 ? 0 : pick(next, [0, 1, n, n - 1, int(next, 0, Math.min(n, 20)), int(next, 0, n)]);
      return kase(
        { words, dim, m, n, k: kk },
        { q: rows(next, dim, m), batch: rows(next, dim, n), idx: junk(next, m * kk), dist: junk(next, m * kk) },
        (k, a) => k.topK(a.q, m, a.batch, n, words, kk, a.idx, a.dist),
      );
    },
  },

  bundle: {
    cases: 300,
    big: 2,
    gen: (next, big) => {
      const { words, dim } = big >= 0 ? { words: 80, dim: 80 * 64 - 9 } : randWords(next);
      const kk = big >= 0 ? pastChunks(next, 640, 2) : coin(next, 0.5) ? pick(next, BUNDLE_K) : int(next, 0, 300);
      const tie = coin(next, 0.5);
      return kase(
        { words, k: kk, tie },
        { batch: rows(next, dim, kk), tieRow: rows(next, dim, tie ? 1 : 0), out: junk(next, 2 * words) },
        (k, a) => k.bundle(a.batch, kk, words, tie ? a.tieRow : null, a.out),
      );
    },
  },

  bundleWeighted: {
    cases: 300,
    big: 1,
    gen: (next, big) => {
      const dim = big >= 0 ? 4097 : randDim(next);
      const kk = big >= 0 ? pastChunks(next, stride(dim) * 4, 1) : pick(next, [0, 1, 2, 3, int(next, 0, 60)]);
      // ops.ts admits sum |w| <= 2^31 - 1: small weights (ties), weights filling that to the brim.
      const cap = Math.floor((2 ** 31 - 1) / Math.max(1, kk));
      const mode = next() % 3;
      const weights = Int32Array.from({ length: kk }, () =>
        mode === 0 ? int(next, -3, 3) : (next() & 1 ? 1 : -1) * (mode === 1 ? cap : int(next, 0, cap)),
      );
      const tie = coin(next, 0.5);
      return kase(
        { dim, k: kk, mode, tie },
        { batch: rows(next, dim, kk), weights, tieRow: rows(next, dim, tie ? 1 : 0), out: junk(next, stride(dim)) },
        (k, a) => k.bundleWeighted(a.batch, kk, dim, a.weights, tie ? a.tieRow : null, a.out),
      );
    },
  },

  accAdd: {
    cases: 300,
    big: 3,
    gen: (next, big) => {
      // Counters wrap modulo 2^32 in every backend: start them at the int32 edges.
      const huge = big === 0;
      const dim = huge ? 8 * CHUNK_BYTES + int(next, 1, 200) : big >= 0 ? 5000 : randDim(next);
      const n = huge
        ? 3
        : big >= 0
          ? pastChunks(next, stride(dim) * 4 + 4, 2)
          : pick(next, [0, 1, 2, int(next, 0, 40)]);
      const weighted = coin(next, 0.6);
      const weights = Int32Array.from({ length: weighted ? n : 0 }, () =>
        coin(next, 0.5) ? int(next, -5, 5) : pick(next, [next() | 0, -(2 ** 31), 2 ** 31 - 1]),
      );
      return kase(
        { dim, n, weighted },
        { counters: counterValues(next, dim), batch: rows(next, dim, n), weights },
        (k, a) => k.accAdd(a.counters, dim, a.batch, n, weighted ? a.weights : null),
      );
    },
  },

  threshold: {
    cases: 300,
    big: 2,
    gen: (next, big) => {
      const dim = big >= 0 ? 5000 - int(next, 0, 63) : randDim(next);
      const m = big >= 0 ? pastChunks(next, dim * 4 + stride(dim) * 4, 2) : pick(next, [0, 1, 2, int(next, 0, 12)]);
      const tie = coin(next, 0.5);
      return kase(
        { dim, m, tie },
        {
          counters: counterValues(next, m * dim),
          tieRow: rows(next, dim, tie ? 1 : 0),
          out: junk(next, m * stride(dim)),
        },
        (k, a) => k.threshold(a.counters, m, dim, tie ? a.tieRow : null, a.out),
      );
    },
  },

  dotCounters: {
    cases: 250,
    big: 3,
    gen: (next, big) => {
      // Any int32 counters: the dots are exact integers (|dot| < dim * 2^31 < 2^53).
      const huge = big === 0;
      const dim = huge ? 8 * CHUNK_BYTES + int(next, 1, 200) : big >= 0 ? 3001 : randDim(next);
      const m = huge ? 2 : big >= 0 ? 8 : pick(next, [0, 1, 2, int(next, 0, 10)]);
      const n = huge
        ? 2
        : big >= 0
          ? pastChunks(next, stride(dim) * 4 + m * 8, 1)
          : pick(next, [0, 1, 2, int(next, 0, 20)]);
      return kase(
        { dim, n, m },
        { hvs: rows(next, dim, n), counters: counterValues(next, m * dim), out: junkF64(next, n * m) },
        (k, a) => k.dotCounters(a.hvs, n, a.counters, m, dim, a.out),
      );
    },
  },

  dotsOne: {
    cases: 300,
    big: 1,
    gen: (next, big) => {
      // Inside (-2^24, 2^24) the module takes its fast kernel; past it, the general one.
      const dim = big >= 0 ? 5000 : randDim(next);
      const m = big >= 0 ? Math.ceil(CHUNK_BYTES / (dim * 4)) + 3 : pick(next, [0, 1, 2, int(next, 0, 30)]);
      const inside = coin(next, 0.75);
      return kase(
        { dim, m, inside },
        {
          hv: rows(next, dim, 1),
          counters: counterValues(next, m * dim, inside ? 2 ** 24 : 2 ** 31),
          out: junkF64(next, m),
        },
        (k, a) => k.dotsOne(a.hv, a.counters, m, dim, a.out),
      );
    },
  },

  rowAdd: {
    cases: 300,
    big: 1,
    gen: (next, big) => {
      const dim = big >= 0 ? 8 * CHUNK_BYTES + 77 : randDim(next);
      const w = (next() & 1 ? 1 : -1) as 1 | -1;
      return kase({ dim, w }, { counters: counterValues(next, dim), hv: rows(next, dim, 1) }, (k, a) =>
        k.rowAdd(a.counters, dim, a.hv, w),
      );
    },
  },

  refineOnline: {
    cases: 200,
    big: 0,
    gen: (next) => {
      const dim = coin(next, 0.3) ? pick(next, [1, 2, 63, 64, 65, 129, 1000]) : randDim(next, 40);
      const m = pick(next, [1, 2, 3, int(next, 1, 12)]);
      const n = int(next, 1, 60);
      const count = pick(next, [0, 1, 3, 4, 5, int(next, 0, 200)]);
      const { hvs, truth } = classRows(next, dim, n, m);
      // A plain fit, shifted to just inside the limits of the fast paths: native int16 counters,
      // native dots_one (2^24), the TypeScript packed pairs (2^25 / dim), and the int32 range.
      // Within the contract: max |counter| + count < 2^31, dim * (max |counter| + count) < 2^53.
      const offset = pick(next, [
        0,
        0,
        32767 - 60,
        -(32767 - 60),
        2 ** 24 - 60,
        -(2 ** 24 - 60),
        Math.floor((2 ** 25 - 1) / dim) - 60,
        -(2 ** 31 - 1000),
        2 ** 31 - 1000,
      ]);
      const counters = new Int32Array(m * dim);
      const s = stride(dim);
      for (let r = 0; r < n; r++) {
        const t = truth[r]!;
        jsBackend.rowAdd(counters.subarray(t * dim, (t + 1) * dim), dim, hvs.subarray(r * s, (r + 1) * s), 1);
      }
      if (offset !== 0) for (let q = 0; q < counters.length; q++) counters[q] = counters[q]! + offset;
      const norms2 = exactSquaredNorms(counters, m, dim);
      if (coin(next, 0.1)) norms2[next() % m] = 0;
      const order = Uint32Array.from({ length: count }, () => next() % n);
      const margin = pick(next, [
        0,
        0.05,
        0.3,
        Number.POSITIVE_INFINITY,
        Number.NEGATIVE_INFINITY,
        -0.1,
        next() / 2 ** 33,
      ]);
      const adapt = (next() & 1) as 0 | 1;
      const stats = Float64Array.of(next() % 1000, next() % 1000);
      return kase(
        { dim, m, n, count, offset, margin: String(margin), adapt },
        { hvs, truth, order, counters, norms2, stats },
        (k, a) =>
          k.refineOnline(a.hvs, n, dim, a.truth, a.order, count, a.counters, m, a.norms2, margin, adapt, a.stats),
      );
    },
  },

  permute: {
    cases: 300,
    big: 2,
    gen: (next, big) => {
      const dim = big >= 0 ? 3000 - int(next, 0, 63) : randDim(next);
      const n = big >= 0 ? pastChunks(next, stride(dim) * 8, 2) : pick(next, [0, 1, 2, int(next, 0, 20)]);
      const k = pick(next, [
        0,
        1,
        -1,
        dim,
        -dim,
        dim - 1,
        1 - dim,
        int(next, 0, 6 * dim) - 3 * dim,
        Number.MAX_SAFE_INTEGER,
        Number.MIN_SAFE_INTEGER,
        (next() - 2 ** 31) * 2 ** 20 + next(),
        dim * int(next, 2, 1000),
      ]);
      return kase({ dim, n, k }, { input: rows(next, dim, n), out: junk(next, n * stride(dim)) }, (be, a) =>
        be.permute(a.input, n, dim, k, a.out),
      );
    },
  },

  bin: {
    cases: 300,
    big: 0,
    gen: (next) => {
      const bins = pick(next, [1, 2, 3, 4, 7, 10, 64, 100, 255, 256, 1000, 65535, 65536, int(next, 1, 65536)]);
      const wide = coin(next, 0.05);
      const [lo, hi] = wide ? [-1e307, 1e307] : range(next);
      const v = Float64Array.from({ length: 24 }, () => binValue(next, lo, hi, bins));
      return kase({ lo, hi, bins }, { v, out: junk(next, v.length) }, (k, a) => {
        for (let i = 0; i < a.v.length; i++) a.out[i] = k.bin(a.v[i]!, lo, hi, bins);
      });
    },
  },

  encodeLevels: {
    cases: 250,
    big: 2,
    gen: (next, big) => {
      const dim = big >= 0 ? [1000, 777][big % 2]! : randDim(next, 40);
      const s = stride(dim);
      const features =
        big >= 0
          ? 64
          : pick(next, [
              1,
              2,
              3,
              4,
              5,
              7,
              8,
              9,
              15,
              16,
              17,
              31,
              32,
              33,
              63,
              64,
              65,
              int(next, 1, 70),
              int(next, 1, 70),
            ]);
      const bins = coin(next, 0.05) && dim <= 256 ? pick(next, [255, 256, 4096, 65535, 65536]) : int(next, 1, 40);
      const levelCount = bins + (coin(next, 0.3) ? int(next, 1, 3) : 0);
      const f32 = big >= 0 ? big === 1 : coin(next, 0.5);
      const n =
        big >= 0 ? pastChunks(next, features * (f32 ? 4 : 8) + s * 4, 1.5) : pick(next, [0, 1, 2, int(next, 0, 12)]);
      const lo = new Float64Array(features);
      const hi = new Float64Array(features);
      for (let f = 0; f < features; f++) [lo[f], hi[f]] = range(next);
      const x64 = Float64Array.from({ length: n * features }, (_, i) =>
        binValue(next, lo[i % features]!, hi[i % features]!, bins),
      );
      // Now and then a NaN or infinity: its index comes back and nothing is written.
      const bad = n > 0 && coin(next, 0.08) ? int(next, 0, n * features - 1) : -1;
      if (bad >= 0) x64[bad] = pick(next, [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
      const x = f32 ? Float32Array.from(x64) : x64;
      const tie = coin(next, 0.5);
      return kase(
        { dim, n, features, bins, levelCount, f32, tie, bad },
        {
          x,
          lo,
          hi,
          levels: rows(next, dim, levelCount),
          positions: rows(next, dim, features),
          tieRow: rows(next, dim, tie ? 1 : 0),
          out: junk(next, n * s),
        },
        (k, a) =>
          k.encodeLevels(
            a.x,
            n,
            features,
            a.lo,
            a.hi,
            bins,
            a.levels,
            levelCount,
            a.positions,
            dim,
            tie ? a.tieRow : null,
            a.out,
          ),
      );
    },
  },

  project: {
    cases: 250,
    big: 2,
    gen: (next, big) => {
      const dim = big >= 0 ? 2000 : randDim(next, 40);
      const s = stride(dim);
      const features = big >= 0 ? 32 : pick(next, [1, 2, 3, 4, 7, 8, 16, 17, 33, 64, int(next, 1, 100)]);
      const f32 = big >= 0 ? big === 1 : coin(next, 0.5);
      const n =
        big >= 0 ? pastChunks(next, features * (f32 ? 4 : 8) + s * 4, 1.5) : pick(next, [0, 1, 2, int(next, 0, 12)]);
      const mult = Float64Array.from({ length: features }, () =>
        pick(next, [0, 1, 1, 0.5, 3, 1000, 32767, 1e6, 1e-3, 12.25]),
      );
      // Integers in [-1, 1] with multiplier 1 give zero sums (ties); rounding edges; clamped values.
      const flavor = next() % 4;
      const x64 = Float64Array.from({ length: n * features }, (_, i) => {
        if (flavor === 0) return int(next, -1, 1);
        if (flavor === 1) return ((next() % 9) - 4.5) / (mult[i % features] || 1);
        if (flavor === 2) return ((next() | 0) / 2 ** 31) * 1e4;
        return ((next() / 2 ** 32) * 2.4 - 1.2) * pick(next, [1, 1e-3, 40]);
      });
      const bad = n > 0 && coin(next, 0.08) ? int(next, 0, n * features - 1) : -1;
      if (bad >= 0) x64[bad] = pick(next, [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
      const x = f32 ? Float32Array.from(x64) : x64;
      const tie = coin(next, 0.5);
      return kase(
        { dim, n, features, f32, flavor, tie, bad },
        { x, mult, proj: rows(next, dim, features), tieRow: rows(next, dim, tie ? 1 : 0), out: junk(next, n * s) },
        (k, a) => k.project(a.x, n, features, a.mult, a.proj, dim, tie ? a.tieRow : null, a.out),
      );
    },
  },
};

// ---- running a case on the three kernels and comparing ----

const GUARD = 3;
const SENTINEL = 0xa5a5a5a5;

/** A copy of `a` at element offset `pre` inside a larger buffer whose other entries hold a sentinel. */
function guarded(a: Arr, pre: number): { view: Arr; whole: Arr; empty: Arr } {
  const C = a.constructor as new (n: number) => Arr;
  const whole = new C(pre + a.length + GUARD);
  whole.fill(SENTINEL);
  (whole as Uint32Array).set(a as Uint32Array, pre);
  const empty = new C(1);
  empty.fill(SENTINEL);
  return { view: whole.subarray(pre, pre + a.length), whole, empty };
}

function bytes(a: Arr): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

function firstDiff(a: Arr, b: Arr): number {
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

function show(shape: Record<string, unknown>): string {
  return JSON.stringify(shape, (_, v) => (typeof v === 'bigint' ? `${v}n` : v));
}

let sides: [string, Kernels][] = [];

/** Runs case `i` of `kernel` (its own seed `caseSeed`) on every side; throws naming it on any difference. */
function runCase(kernel: string, i: number, caseSeed: number, big: number, gen: Gen): number {
  const c = gen(prng(caseSeed), big);
  const names = Object.keys(c.args);
  const pads = prng(caseSeed ^ 0x5bd1e995);
  const pres = names.map(() => pads() % 4);
  const where = `${kernel} case ${i}${big >= 0 ? ' (big)' : ''}, HDGLUE_DIFF_SEED=0x${SEED.toString(16)}, case seed 0x${caseSeed.toString(16)}, ${show(c.shape)}`;
  const runs = sides.map(([label, k]) => {
    const g = names.map((nm, j) => guarded(c.args[nm] as Arr, pres[j] as number));
    const views = Object.fromEntries(names.map((nm, j) => [nm, g[j]!.view]));
    let ret: unknown;
    try {
      ret = c.call(k, views);
    } catch (e) {
      throw new Error(`${where}: ${label} threw ${String(e)}`, { cause: e });
    }
    g.forEach(({ whole, empty }, j) => {
      const len = (c.args[names[j] as string] as Arr).length;
      const pre = pres[j] as number;
      for (let q = 0; q < whole.length; q++) {
        if ((q < pre || q >= pre + len) && !Object.is(whole[q], empty[0])) {
          throw new Error(`${where}: ${label} wrote outside ${names[j]} (entry ${q - pre} of ${len})`);
        }
      }
    });
    return { label, views, ret };
  });
  const ref = runs[runs.length - 1]!;
  const problems: string[] = [];
  for (const r of runs.slice(0, -1)) {
    if (!Object.is(r.ret, ref.ret))
      problems.push(`${r.label} returned ${String(r.ret)}, ${ref.label} ${String(ref.ret)}`);
    for (const nm of names) {
      const a = r.views[nm] as Arr;
      const b = ref.views[nm] as Arr;
      if (bytes(a).equals(bytes(b))) continue;
      const d = firstDiff(a, b);
      problems.push(`${r.label} differs from ${ref.label} in ${nm} at entry ${d} of ${a.length}: ${a[d]} vs ${b[d]}`);
    }
  }
  if (problems.length) throw new Error(`${where}:\n  ${problems.join('\n  ')}`);
  return Math.max(0, ...Object.values(c.args).map((a) => a.byteLength));
}

/** A 32-bit hash of a kernel's name, so each kernel draws its own cases from the base seed. */
function nameHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

// Off under node --jitless: nothing to compare there.
const engineOn = wasmEngine() !== undefined;
// npm test's TypeScript pass (HDGLUE_BACKEND=js) would only repeat what its native pass checked:
// this file loads the modules itself whatever the backend.
const jsPass = process.env.HDGLUE_BACKEND === 'js';

describe.skipIf(!built || !engineOn || jsPass)(
  `WebAssembly modules (simd128, scalar) vs TypeScript, seed 0x${SEED.toString(16)}`,
  () => {
    // Loaded in beforeAll: vitest runs the body of a skipped describe too, and without wasm/ built
    // compiling here would throw instead of skipping.
    let cores: { simd: WasmCore; scalar: WasmCore };
    beforeAll(() => {
      const simd = compileWasm('');
      const scalar = compileWasm('scalar');
      expect(simd.isa).toBe('simd128');
      expect(scalar.isa).toBe('scalar');
      cores = { simd: new WasmCore(simd.module), scalar: new WasmCore(scalar.module) };
      expect([cores.simd.isa, cores.scalar.isa]).toEqual(['simd128', 'scalar']);
      sides = [
        ['simd128', wasmKernels(cores.simd)],
        ['scalar', wasmKernels(cores.scalar)],
        ['js', jsBackend],
      ];
    });

    it('has a case generator for every kernel of the Kernels interface', () => {
      expect(Object.keys(PLANS).sort()).toEqual([...KERNEL_NAMES].sort());
    });

    it('a trap in either module is a coded error, the instance is replaced, and later calls agree', () => {
      const engine = wasmEngine() as NonNullable<ReturnType<typeof wasmEngine>>;
      const next = prng(SEED ^ 0x7a7);
      for (const [label, core] of [
        ['simd128', cores.simd],
        ['scalar', cores.scalar],
      ] as const) {
        // Warm the arena past a chunk, so the fresh instance must grow its own again.
        const k = wasmKernels(core);
        const dim = 4000;
        const w = stride(dim) / 2;
        const n = pastChunks(next, w * 8, 1);
        const batch = rows(next, dim, n);
        const q = rows(next, dim, 1);
        const want = new Uint32Array(n);
        jsBackend.hamming1xN(q, batch, n, w, want);
        const got = new Uint32Array(n);
        k.hamming1xN(q, batch, n, w, got);
        expect(got, label).toEqual(want);
        // Addresses past the end of linear memory: a real out-of-bounds trap.
        const past = core.memoryBytes + 4096;
        const before = core.x;
        let err: unknown;
        try {
          core.call((x) => x.hdgw_hamming_1xn(past, past + 4096, 1, 4, past + 8192));
        } catch (e) {
          err = e;
        }
        expect(err, label).toBeInstanceOf(Error);
        expect((err as { code?: unknown }).code, label).toMatch(/^ERR_HDGLUE_[A-Z_]+$/);
        expect((err as Error).cause, label).toBeInstanceOf(engine.RuntimeError);
        expect(core.x, label).not.toBe(before);
        got.fill(0);
        k.hamming1xN(q, batch, n, w, got);
        expect(got, label).toEqual(want);
        const out = new Uint32Array(2 * w);
        const ref = new Uint32Array(2 * w);
        k.bundle(batch, 101, w, null, out);
        jsBackend.bundle(batch, 101, w, null, ref);
        expect(out, label).toEqual(ref);
      }
    });

    for (const [name, plan] of Object.entries(PLANS)) {
      const cases = plan.cases * SCALE;
      it(`${name}: ${cases} random shapes${plan.big ? `, ${plan.big} of them past a ${CHUNK_BYTES >> 10} KiB chunk` : ''}`, () => {
        const seeds = prng((SEED ^ nameHash(name)) >>> 0);
        let most = 0;
        for (let i = 0; i < cases; i++)
          most = Math.max(most, runCase(name, i, seeds(), i < plan.big ? i : -1, plan.gen));
        if (plan.big) expect(most, `${name}: the largest input`).toBeGreaterThan(CHUNK_BYTES);
      });
    }
  },
);
