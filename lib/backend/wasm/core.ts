/**
 * One instance of the WebAssembly core and the traffic in and out of its linear memory. The
 * kernels (kernels-*.ts) never hold a view of that memory across a call that may grow it (a grow
 * detaches the old `ArrayBuffer`): every copy goes through {@link WasmCore.bytes}, which reads the
 * current buffer. One scratch block (the arena) is reused by every call and only grows, so a long
 * run allocates nothing per call once its largest call has been seen.
 * @internal
 */
import { ErrorCode, HdglueError } from '../../errors.js';
import { type WasmMemory, type WasmModule, wasmEngine } from './engine.js';

/** The exports of the module built by scripts/build-wasm.mjs (native/wasm/exports.cc). */
export interface WasmExports {
  readonly memory: WasmMemory;
  __wasm_call_ctors(): void;
  hdgw_alloc(bytes: number): number;
  hdgw_free(ptr: number): void;
  hdgw_isa(): number;
  hdgw_random_hv(seed: bigint, name: number, len: number, dim: number, out: number): void;
  hdgw_bind(a: number, b: number, stride: number, n: number, words: number, out: number): void;
  hdgw_hamming_1xn(q: number, batch: number, n: number, words: number, out: number): void;
  hdgw_hamming_mxn(a: number, m: number, b: number, n: number, words: number, out: number): void;
  hdgw_topk(q: number, m: number, batch: number, n: number, words: number, k: number, idx: number, dist: number): void;
  hdgw_bundle(batch: number, k: number, words: number, tie: number, out: number): void;
  hdgw_bundle_weighted(batch: number, k: number, dim: number, weights: number, tie: number, out: number): number;
  hdgw_acc_add(counters: number, dim: number, batch: number, n: number, weights: number): void;
  hdgw_threshold(counters: number, m: number, dim: number, tie: number, out: number): void;
  hdgw_dot_counters(hvs: number, n: number, counters: number, m: number, dim: number, out: number): void;
  hdgw_dots_one(hv: number, counters: number, m: number, dim: number, out: number): void;
  hdgw_row_add(counters: number, dim: number, hv: number, w: number): void;
  hdgw_refine_online(
    hvs: number,
    n: number,
    dim: number,
    truth: number,
    order: number,
    count: number,
    counters: number,
    m: number,
    norms2: number,
    margin: number,
    adapt: number,
    stats: number,
  ): number;
  hdgw_permute(input: number, n: number, dim: number, k: number, out: number): void;
  hdgw_bin(v: number, lo: number, hi: number, bins: number): number;
  hdgw_encode_f32(...a: number[]): number;
  hdgw_encode_f64(...a: number[]): number;
  hdgw_project_f32(...a: number[]): number;
  hdgw_project_f64(...a: number[]): number;
}

/** The export names a module must have; a module built from other sources is refused by name. */
export const EXPORT_NAMES = [
  'memory',
  '__wasm_call_ctors',
  'hdgw_alloc',
  'hdgw_free',
  'hdgw_isa',
  'hdgw_random_hv',
  'hdgw_bind',
  'hdgw_hamming_1xn',
  'hdgw_hamming_mxn',
  'hdgw_topk',
  'hdgw_bundle',
  'hdgw_bundle_weighted',
  'hdgw_acc_add',
  'hdgw_threshold',
  'hdgw_dot_counters',
  'hdgw_dots_one',
  'hdgw_row_add',
  'hdgw_refine_online',
  'hdgw_permute',
  'hdgw_bin',
  'hdgw_encode_f32',
  'hdgw_encode_f64',
  'hdgw_project_f32',
  'hdgw_project_f64',
] as const satisfies readonly (keyof WasmExports)[];

/** A typed array the kernels copy in or out. */
export type Typed = Uint8Array | Uint16Array | Uint32Array | Int32Array | Int16Array | Float32Array | Float64Array;

/** The module's `hdgw_isa()` values (hdg_isa_t). */
const ISA_OF: Record<number, string> = { 0: 'scalar', 4: 'simd128' };

/** The arena's rows are placed at 16-byte boundaries, so vector loads start on one. */
export const ALIGN = 16;

/** Rounds a byte count up to {@link ALIGN}. */
export function aligned(bytes: number): number {
  return Math.ceil(bytes / ALIGN) * ALIGN;
}

/**
 * An instance of the core with its arena. A trap (out of memory inside the module, or a bug)
 * leaves an instance whose allocator may be mid-update, so the instance is dropped and the next
 * call gets a fresh one from the same compiled module.
 */
export class WasmCore {
  readonly module: WasmModule;
  #x!: WasmExports;
  #arena = 0;
  #capacity = 0;
  /** Set by a trap: the instance is replaced at the next use of {@link WasmCore.x}. */
  #stale = false;

  constructor(module: WasmModule) {
    this.module = module;
    this.#instantiate();
  }

  #instantiate(): void {
    const engine = wasmEngine();
    if (!engine) throw new Error('WebAssembly is not available in this process (it is off under node --jitless)');
    const instance = new engine.Instance(this.module, {});
    const x = instance.exports as unknown as WasmExports;
    for (const name of EXPORT_NAMES) {
      if (!(name in x))
        throw new Error(
          `the WebAssembly module lacks the export ${name}, so it was built from other sources than this hdglue`,
        );
    }
    x.__wasm_call_ctors();
    this.#x = x;
    this.#arena = 0;
    this.#capacity = 0;
  }

  /**
   * The module's exports. After a trap, a fresh instance first: every use of the instance goes
   * through here, so nothing is copied into or read from the trapped one.
   */
  get x(): WasmExports {
    if (this.#stale) this.#renew();
    return this.#x;
  }

  /** The level the module runs: 'simd128' or 'scalar'. */
  get isa(): string {
    return ISA_OF[this.x.hdgw_isa()] ?? 'unknown';
  }

  /** Bytes of linear memory the instance holds now (it never shrinks). */
  get memoryBytes(): number {
    return this.x.memory.buffer.byteLength;
  }

  /**
   * The address of an arena of at least `bytes` bytes, 16-byte aligned. Grows it (and so perhaps
   * the memory) when needed; the old contents are not kept.
   */
  arena(bytes: number): number {
    const x = this.x;
    if (this.#arena !== 0 && bytes <= this.#capacity) return this.#arena;
    if (this.#arena) x.hdgw_free(this.#arena);
    this.#arena = 0;
    this.#capacity = 0;
    // Room to spare (a quarter, at least 64 KiB) so a run of slowly growing calls reallocates rarely.
    const want = aligned(Math.max(bytes + (bytes >>> 2), 1 << 16));
    const ptr = want <= 0xffff_0000 ? x.hdgw_alloc(want) >>> 0 : 0;
    if (ptr === 0) {
      throw new HdglueError(
        ErrorCode.OUT_OF_MEMORY,
        `the WebAssembly backend could not allocate ${bytes} bytes in its 4 GiB address space; split the call into smaller batches`,
      );
    }
    this.#arena = ptr;
    this.#capacity = want;
    return ptr;
  }

  /** A byte view of the current memory (a grow detaches earlier views: take a fresh one per copy). */
  bytes(): Uint8Array {
    return new Uint8Array(this.x.memory.buffer);
  }

  /** Copies the first `count` elements of `a` to `addr`. */
  put(addr: number, a: Typed, count: number): void {
    this.bytes().set(new Uint8Array(a.buffer, a.byteOffset, count * a.BYTES_PER_ELEMENT), addr);
  }

  /** Copies `count` elements from `addr` into `a` (from its element `at`). */
  get(addr: number, a: Typed, count: number, at = 0): void {
    const n = count * a.BYTES_PER_ELEMENT;
    new Uint8Array(a.buffer, a.byteOffset + at * a.BYTES_PER_ELEMENT, n).set(this.bytes().subarray(addr, addr + n));
  }

  /**
   * Runs `fn` (a call into the module), turning a trap into a coded error and marking the
   * instance, whose allocator a trap may have left mid-update, for replacement. `unreachable` is what a failed
   * allocation inside the module ends in (operator new aborts: the build has no exceptions), so
   * it is reported as out of memory; any other trap (an access out of bounds) is a bug of hdglue.
   */
  call<T>(fn: (x: WasmExports) => T): T {
    const x = this.x;
    try {
      return fn(x);
    } catch (e) {
      const engine = wasmEngine();
      if (!engine || !(e instanceof engine.RuntimeError)) throw e;
      this.#stale = true;
      const why = (e as Error).message;
      if (/unreachable/i.test(why)) {
        throw new HdglueError(
          ErrorCode.OUT_OF_MEMORY,
          `the WebAssembly backend stopped (${why}): most likely it ran out of memory; split the call into smaller batches`,
          { cause: e },
        );
      }
      throw new HdglueError(
        ErrorCode.INTERNAL,
        `the WebAssembly backend stopped (${why}); this is a bug in hdglue, please report it`,
        { cause: e },
      );
    }
  }

  /** A fresh instance after a trap; if even that fails, a coded error, and the next use retries. */
  #renew(): void {
    try {
      this.#instantiate();
    } catch (e) {
      throw new HdglueError(
        ErrorCode.OUT_OF_MEMORY,
        `the WebAssembly backend could not start a fresh instance after a trap: ${String(e)}`,
        { cause: e },
      );
    }
    this.#stale = false;
  }
}
