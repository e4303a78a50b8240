/**
 * The contract both backends implement: raw kernels over packed hypervectors.
 *
 * Layout (docs/ARCHITECTURE.md, invariant 1): a hypervector of dimension D is W = ceil(D / 64)
 * little-endian 64-bit words, stored here as 2W `Uint32Array` entries (low half first);
 * bit i is entry i >>> 5, bit i & 31. Bits at and above D are zero. A batch is rows of
 * 2W entries, contiguous. `words` below is always W (64-bit words per row).
 *
 * Callers (lib/core/ops.ts) validate every argument before calling; these functions assume
 * valid shapes. Semantics are those of native/include/hdglue.h, bit for bit.
 *
 * @internal Not exported from the package.
 */
export interface Kernels {
  /** Random HV as a pure function of (seed, UTF-8 name bytes). */
  randomHV(seed: bigint, name: Uint8Array, dim: number, out: Uint32Array): void;
  /** out[r] = a[r] ^ b[bStride ? r : 0] for r < n. */
  bind(a: Uint32Array, b: Uint32Array, bStride: 0 | 1, n: number, words: number, out: Uint32Array): void;
  /** out[r] = popcount(q ^ batch[r]). */
  hamming1xN(q: Uint32Array, batch: Uint32Array, n: number, words: number, out: Uint32Array): void;
  /** out[i * n + r] = popcount(a[i] ^ b[r]). */
  hammingMxN(a: Uint32Array, m: number, b: Uint32Array, n: number, words: number, out: Uint32Array): void;
  /** k nearest rows per query: ascending distance, ties by ascending index; k <= n; outputs m * k. */
  topK(
    queries: Uint32Array,
    m: number,
    batch: Uint32Array,
    n: number,
    words: number,
    k: number,
    outIdx: Uint32Array,
    outDist: Uint32Array,
  ): void;
  /** Majority of k rows; ties take `tie`'s bit, or 0 (+1) when `tie` is null. */
  bundle(batch: Uint32Array, k: number, words: number, tie: Uint32Array | null, out: Uint32Array): void;
  /** Sign of the weighted bipolar sum of k rows; ties as in bundle. */
  bundleWeighted(
    batch: Uint32Array,
    k: number,
    dim: number,
    weights: Int32Array,
    tie: Uint32Array | null,
    out: Uint32Array,
  ): void;
  /** counters[i] += w_r * (bit ? -1 : +1), wrapping int32; weights null = all 1. */
  accAdd(counters: Int32Array, dim: number, batch: Uint32Array, n: number, weights: Int32Array | null): void;
  /** m counter rows to HVs: c < 0 -> 1, c > 0 -> 0, c == 0 -> tie bit (or 0). */
  threshold(counters: Int32Array, m: number, dim: number, tie: Uint32Array | null, out: Uint32Array): void;
  /** out[r * m + c] = sum_i counters[c][i] * (bit i of hv r ? -1 : +1). */
  dotCounters(hvs: Uint32Array, n: number, counters: Int32Array, m: number, dim: number, out: Float64Array): void;
  /**
   * Integer dots of one HV against m counter rows: out[c] = sum_i counters[c * dim + i] * (bit i ? -1 : +1)
   * for c < m, exact (the native side sums in int64 and converts once).
   */
  dotsOne(hv: Uint32Array, counters: Int32Array, m: number, dim: number, out: Float64Array): void;
  /** One HV into one counter row (a subarray of dim entries): counters[i] += w * (bit i ? -1 : +1), wrapping int32. */
  rowAdd(counters: Int32Array, dim: number, hv: Uint32Array, w: 1 | -1): void;
  /**
   * One epoch of online margin refinement (hdg_refine_online in native/include/hdglue.h): rows of
   * `hvs` visited in `order` (count row indices < n, repeats allowed); for row i of class
   * t = truth[i] < m, with dot[k] its exact integer dot with counter row k and
   * s[k] = norms2[k] > 0 ? dot[k] / (sqrt(dim) * sqrt(norms2[k])) : 0: p is the first index of the
   * largest s (p !== t is an error); the rival is p when p !== t, else the first index of the largest
   * s over k !== t (none when m === 1); with lead = s[t] - s[rival] (+Infinity without a rival), a
   * correct row with !(lead < margin) changes nothing; otherwise row t gains bipolar(row i) with
   * norms2[t] = norms2[t] + (2 * dot[t] + dim), and with adapt = 1 the rival loses it with
   * norms2[rival] = norms2[rival] + (-2 * dot[rival] + dim). Counters and norms2 are updated in
   * place; stats[0] += errors, stats[1] += updates. Both backends agree bit for bit.
   *
   * Exactness contract: callers call this only when dim * (max |counter| + count) < 2^53, which
   * keeps every dot and partial sum of either backend an exact integer in a double (a counter
   * moves by at most 1 per visit). Counters wrap modulo 2^32 like accAdd, but the TypeScript twin
   * keeps each row's total incrementally, so both agree only while no counter wraps:
   * max |counter| + count < 2^31, which any dim >= 2^22 already implies. norms2 stays the exact
   * sum of squares while it is below 2^53.
   */
  refineOnline(
    hvs: Uint32Array,
    n: number,
    dim: number,
    truth: Int32Array,
    order: Uint32Array,
    count: number,
    counters: Int32Array,
    m: number,
    norms2: Float64Array,
    margin: number,
    adapt: 0 | 1,
    stats: Float64Array,
  ): void;
  /** Cyclic rotation of each of n rows by k bits within dim (bit i -> bit (i + k) mod dim). */
  permute(input: Uint32Array, n: number, dim: number, k: number, out: Uint32Array): void;
  /** Bin of a finite value: numpy's clip(digitize(v, linspace(lo, hi, bins + 1)) - 1, 0, bins - 1). */
  bin(v: number, lo: number, hi: number, bins: number): number;
  /**
   * Level encoder: bins each value with its feature's lo/hi, binds the level row of the bin to the
   * feature's position row, bundles over features. Returns -1, or the row-major index of the first
   * NaN/infinite value (then nothing is written).
   */
  encodeLevels(
    x: Float32Array | Float64Array,
    n: number,
    features: number,
    lo: Float64Array,
    hi: Float64Array,
    bins: number,
    levels: Uint32Array,
    levelCount: number,
    positions: Uint32Array,
    dim: number,
    tie: Uint32Array | null,
    out: Uint32Array,
  ): number;
  /** Projection encoder: sign of sum_f quantize(x_f, mult_f) * bipolar(proj row f). Returns as encodeLevels. */
  project(
    x: Float32Array | Float64Array,
    n: number,
    features: number,
    mult: Float64Array,
    proj: Uint32Array,
    dim: number,
    tie: Uint32Array | null,
    out: Uint32Array,
  ): number;
}

/**
 * Every kernel of {@link Kernels}, once: the native backend is built by taking exactly these
 * from the raw addon (a binary without one fails to load). The compiler checks the list against
 * the interface both ways: a name not in {@link Kernels} does not type-check here, and one left
 * out makes the loader's `Pick<Kernels, KernelName>` short of a {@link Kernels} (lib/backend/native.ts).
 */
export const KERNEL_NAMES = [
  'randomHV',
  'bind',
  'hamming1xN',
  'hammingMxN',
  'topK',
  'bundle',
  'bundleWeighted',
  'accAdd',
  'threshold',
  'dotCounters',
  'dotsOne',
  'rowAdd',
  'refineOnline',
  'permute',
  'bin',
  'encodeLevels',
  'project',
] as const satisfies readonly (keyof Kernels)[];

/** The name of a kernel. */
export type KernelName = (typeof KERNEL_NAMES)[number];

/**
 * The kernels that also have an async twin, `<name>Async`: the batch kernels, which can run long
 * enough to be worth moving off the main thread.
 */
export const ASYNC_KERNEL_NAMES = [
  'hamming1xN',
  'hammingMxN',
  'topK',
  'bundle',
  'accAdd',
  'dotCounters',
  'encodeLevels',
  'project',
] as const satisfies readonly KernelName[];

/** The name of a kernel with an async twin. */
export type AsyncKernelName = (typeof ASYNC_KERNEL_NAMES)[number];

/** The key of a kernel's async twin. */
export function asyncName<K extends AsyncKernelName>(name: K): `${K}Async` {
  return `${name}Async`;
}

/**
 * Async twins of the batch kernels: `<name>Async` takes the same arguments as `<name>` and
 * resolves to its result once every output is written.
 */
export type AsyncKernels = {
  [K in AsyncKernelName as `${K}Async`]: (...args: Parameters<Kernels[K]>) => Promise<ReturnType<Kernels[K]>>;
};

/** A loaded backend: kernels plus what it reports about itself. */
export interface Backend extends Kernels, AsyncKernels {
  readonly name: 'native' | 'wasm' | 'js';
  /**
   * Instruction-set level in use: 'scalar' | 'avx2' | 'avx512' | 'neon' for native, 'simd128' |
   * 'scalar' for wasm, 'js' for TypeScript.
   */
  readonly isa: string;
  /** Best level this CPU (native) or engine (wasm) supports, or 'js'. */
  readonly detectedIsa: string;
  /**
   * Threads one large scan (Hamming, top-k) may use: HDGLUE_THREADS or the core count (native);
   * 1 for wasm (its async calls run in parallel workers instead) and js.
   */
  readonly threads: number;
  /** Levels this CPU and binary (native) or engine (wasm) can run, lowest first, or ['js']. */
  readonly availableIsas: readonly string[];
  /** Absolute path of the .node (native) or .wasm (wasm) file that loaded. */
  readonly binary?: string;
  /** N-API version the binary was built against (native only). */
  readonly napiVersion?: number;
}
