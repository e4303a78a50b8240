/**
 * The async twins of the WebAssembly backend: each call runs in a worker thread with its own
 * instance of the compiled module, so the event loop stays free, as the addon's libuv workers
 * keep it. A call's arrays are copied (only their views' bytes) and sent; the worker runs the
 * sync kernel and sends its copies back; the outputs are then copied into the caller's arrays.
 * Workers start on first use, at most {@link poolSize}, hold the process open only while they
 * have calls in flight, and stop after {@link IDLE_MS} without one, giving back their instance's
 * memory (which never shrinks while it lives).
 * @internal
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ErrorCode, HdglueError, typeError } from '../../errors.js';
import { detachedError, RESIZABLE_MESSAGE } from '../async-errors.js';
import { packageRoot } from '../native.js';
import type { AsyncKernelName } from '../types.js';
import type { WasmModule } from './engine.js';

/** The arguments a kernel writes (its outputs, and accAdd's counters, which it updates). */
export const OUTPUTS: Record<AsyncKernelName, readonly number[]> = {
  hamming1xN: [4],
  hammingMxN: [5],
  topK: [6, 7],
  bundle: [4],
  accAdd: [0],
  dotCounters: [5],
  encodeLevels: [11],
  project: [7],
};

/** A worker idle this long is stopped; the next call starts one again (a few milliseconds). */
export const IDLE_MS = 10_000;

/** A request to a worker. */
export interface Job {
  id: number;
  name: AsyncKernelName;
  args: unknown[];
}

/** A worker's answer: the kernel's result and the call's arrays, or the error it threw. */
export type Reply =
  | { id: number; ok: true; result: unknown; args: unknown[] }
  | { id: number; ok: false; error: { kind: string; message: string; code?: string } };

/** Workers at most: HDGLUE_THREADS when set, else the cores, at most 4 (libuv's default pool for the addon). */
export function poolSize(): number {
  const env = Number(process.env.HDGLUE_THREADS ?? '');
  if (Number.isInteger(env) && env >= 1 && env <= 64) return env;
  return Math.max(1, Math.min(4, availableParallelism()));
}

/**
 * The worker's script: next to this file once compiled (dist/backend/wasm/worker.js). Run from
 * TypeScript sources (the tests), the compiled twin in dist/ is used: a worker thread cannot load
 * .ts files.
 */
function workerScript(): string {
  const here = fileURLToPath(new URL('./worker.js', import.meta.url));
  return existsSync(here) ? here : join(packageRoot, 'dist', 'backend', 'wasm', 'worker.js');
}

/** The error a worker reported, rebuilt with its class and code. */
function rebuild(e: { kind: string; message: string; code?: string }): Error {
  const err =
    e.kind === 'RangeError'
      ? new RangeError(e.message)
      : e.kind === 'TypeError'
        ? new TypeError(e.message)
        : e.kind === 'HdglueError' && e.code
          ? new HdglueError(e.code as ErrorCode, e.message)
          : new Error(e.message);
  if (e.code && !(err instanceof HdglueError)) Object.assign(err, { code: e.code });
  return err;
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: unknown): void;
  /** The caller's arrays by argument index, and their byte lengths when called. */
  views: Map<number, ArrayBufferView>;
  sizes: Map<number, number>;
  name: AsyncKernelName;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
  /** The timer that stops the worker once idle (unref'd: it never holds the process open). */
  idle?: ReturnType<typeof setTimeout>;
}

/** A pool of workers, each with its own instance of `module`. */
export class WasmPool {
  readonly #module: WasmModule;
  readonly #size: number;
  readonly #idleMs: number;
  readonly #slots: Slot[] = [];
  #next = 1;

  constructor(module: WasmModule, size = poolSize(), idleMs = IDLE_MS) {
    this.#module = module;
    this.#size = size;
    this.#idleMs = idleMs;
  }

  /** Runs kernel `name` on `args` in a worker; settles once every output is written back. */
  run(name: AsyncKernelName, args: readonly unknown[]): Promise<unknown> {
    const views = new Map<number, ArrayBufferView>();
    args.forEach((a, i) => {
      if (ArrayBuffer.isView(a)) views.set(i, a);
    });
    // Refused as the addon refuses them (a shrink would pull memory from under the call).
    for (const v of views.values()) {
      if ((v.buffer as { resizable?: boolean }).resizable === true) throw typeError(RESIZABLE_MESSAGE);
    }
    const sizes = new Map<number, number>();
    const sent = args.slice();
    const transfer: ArrayBuffer[] = [];
    for (const [i, v] of views) {
      sizes.set(i, v.byteLength);
      // A copy of the view alone (not its whole buffer), handed over without a second copy.
      const copy = (v as unknown as { slice(): ArrayBufferView }).slice();
      sent[i] = copy;
      transfer.push(copy.buffer as ArrayBuffer);
    }
    const id = this.#next++;
    let slot: Slot;
    try {
      slot = this.#pick();
    } catch (e) {
      return Promise.reject(
        new HdglueError(ErrorCode.INTERNAL, `could not start an hdglue WebAssembly worker: ${String(e)}`, { cause: e }),
      );
    }
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject, views, sizes, name });
      clearTimeout(slot.idle);
      if (slot.pending.size === 1) slot.worker.ref();
      slot.worker.postMessage({ id, name, args: sent } satisfies Job, transfer);
    });
  }

  /** Workers running now (started and not yet stopped). */
  get workers(): number {
    return this.#slots.length;
  }

  /** An idle worker, a new one while below the size, else the least busy. */
  #pick(): Slot {
    const idle = this.#slots.find((s) => s.pending.size === 0);
    if (idle) return idle;
    if (this.#slots.length < this.#size) return this.#spawn();
    return this.#slots.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
  }

  #spawn(): Slot {
    // No flags of the process: the worker runs only this package's own script, and inherited
    // flags can stop it from starting (`--input-type` of `node -e`, per-process ones such as
    // `--expose-gc`), while V8's flags apply to every thread anyway.
    const worker = new Worker(workerScript(), { workerData: { module: this.#module }, execArgv: [] });
    const slot: Slot = { worker, pending: new Map() };
    worker.unref();
    worker.on('message', (reply: Reply) => this.#settle(slot, reply));
    // A worker that stopped, for whatever reason, leaves the pool at once (a message to it
    // would never be answered) and takes its calls in flight with it as coded rejections.
    const fail = (why: unknown) => {
      const i = this.#slots.indexOf(slot);
      if (i >= 0) this.#slots.splice(i, 1);
      clearTimeout(slot.idle);
      if (slot.pending.size === 0) return;
      const err = new HdglueError(ErrorCode.INTERNAL, `an hdglue WebAssembly worker stopped: ${String(why)}`, {
        cause: why,
      });
      for (const p of slot.pending.values()) p.reject(err);
      slot.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(`exit code ${code}`));
    this.#slots.push(slot);
    return slot;
  }

  /**
   * Stops a worker that stayed idle (a call to it clears the timer): out of the pool first, so no
   * call is sent to it meanwhile.
   */
  #retire(slot: Slot): void {
    const i = this.#slots.indexOf(slot);
    if (i >= 0) this.#slots.splice(i, 1);
    void slot.worker.terminate();
  }

  #settle(slot: Slot, reply: Reply): void {
    const p = slot.pending.get(reply.id);
    if (!p) return;
    slot.pending.delete(reply.id);
    if (slot.pending.size === 0) {
      slot.worker.unref();
      slot.idle = setTimeout(() => this.#retire(slot), this.#idleMs);
      slot.idle.unref();
    }
    if (!reply.ok) {
      p.reject(rebuild(reply.error));
      return;
    }
    // An array detached, transferred or resized meanwhile: the results are discarded, as the
    // other backends discard them.
    for (const [i, v] of p.views) {
      if (v.byteLength !== p.sizes.get(i)) {
        p.reject(detachedError());
        return;
      }
    }
    for (const i of OUTPUTS[p.name]) {
      const v = p.views.get(i) as unknown as { set(a: ArrayLike<number>): void } | undefined;
      if (v) v.set(reply.args[i] as ArrayLike<number>);
    }
    p.resolve(reply.result);
  }
}
