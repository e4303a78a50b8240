/**
 * What `hdglue serve` predicts with: a {@link Predictor} takes one request's checked rows and
 * resolves to one label per row. Two implementations: {@link DirectPredictor} calls
 * `glue.predictAsync` once per request (batching off), {@link BatchedPredictor} hands requests to
 * a micro-batcher (lib/batch's `glueBatcher`) that coalesces them. The routes see only the
 * interface, so the server does not change when the batching does.
 */
import { availableParallelism } from 'node:os';
import { glueBatcher } from '../batch/glue-batcher.js';
import { ErrorCode, HdglueError } from '../errors.js';
import type { Label } from '../label.js';
import type { GlueInputs, HDGlue } from '../model/glue.js';

/** Options of one prediction. */
export interface PredictCallOptions {
  /** Fires when the client has gone: a request still queued is dropped instead of computed. */
  signal?: AbortSignal;
}

/**
 * One request's rows in, one label per row out. Inputs reach it already checked (known members,
 * right widths, finite values, equal row counts), so a rejection is about capacity or a bug,
 * never about the request's shape.
 */
export interface Predictor {
  /** Labels for the rows of `inputs` (every member's matrix has `rows` rows). */
  predict(inputs: GlueInputs, rows: number, options: PredictCallOptions): Promise<Label[]>;
  /** Rows accepted and not yet answered: waiting in a queue or, unbatched, being computed. */
  readonly queueDepth: number;
  /** Called with the row count of each call the glue actually makes (for the batch-size metric). */
  onBatch: ((rows: number) => void) | undefined;
  /** Refuse new requests (`ERR_HDGLUE_CLOSED`), finish the accepted ones, resolve when idle. */
  close(): Promise<void>;
}

/** Capacity settings shared by both predictors (the CLI's `--max-batch`, `--max-wait-ms`, `--max-queue`). */
export interface PredictorOptions {
  /** Coalesce requests through the micro-batcher (true) or call the glue per request (false). */
  batch: boolean;
  /** Rows per coalesced call; default 256. */
  maxBatch?: number;
  /** How long the first queued request waits for company, in ms; default 2. */
  maxWaitMs?: number;
  /** Rows accepted and not yet answered before new requests get `ERR_HDGLUE_QUEUE_FULL`; default 4096. */
  maxQueue?: number;
}

/** Defaults of {@link PredictorOptions}: the batcher's, except a 2 ms wait (the library's is 0; the server measured more throughput at 64 connections with 2, see bench/RESULTS.md). */
export const PREDICTOR_DEFAULTS = { maxBatch: 256, maxWaitMs: 2, maxQueue: 4096 } as const;

/**
 * The part of lib/batch's `MicroBatcher<Label>` the server needs, typed structurally so this
 * file does not depend on lib/batch (the server is a layer above it and only calls these).
 */
export interface BatcherLike {
  submit(inputs: GlueInputs, options?: { signal?: AbortSignal }): Promise<Label[]>;
  readonly queueDepth: number;
  onBatch?: ((rows: number) => void) | undefined;
  close(): Promise<void>;
}

/** Makes the batcher of a glue; lib/batch's `glueBatcher` has this shape. */
export type BatcherFactory = (
  glue: HDGlue,
  options: { maxBatch: number; maxWaitMs: number; maxQueue: number },
) => BatcherLike;

// lib/batch's glueBatcher behind the server's narrower interface: the batcher reports each
// batch as { rows, requests, waitMs, runMs }; the batch-size metric wants the rows.
const DEFAULT_BATCHER: BatcherFactory = (glue, o) => {
  const b = glueBatcher(glue, o);
  let report: ((rows: number) => void) | undefined;
  return {
    submit: (inputs, options) => b.submit(inputs, options),
    get queueDepth() {
      return b.queueDepth;
    },
    get onBatch() {
      return report;
    },
    set onBatch(fn: ((rows: number) => void) | undefined) {
      report = fn;
      b.onBatch = fn ? (info) => fn(info.rows) : undefined;
    },
    close: () => b.close(),
  };
};

/**
 * The predictor for `glue` under `options`. `batcher` replaces lib/batch's `glueBatcher` (tests
 * pass a fake one to drive the queue by hand).
 */
export function createPredictor(glue: HDGlue, options: PredictorOptions, batcher?: BatcherFactory): Predictor {
  const o = { ...PREDICTOR_DEFAULTS, ...definedOnly(options) };
  if (!o.batch) return new DirectPredictor(glue, o.maxQueue);
  const make = batcher ?? DEFAULT_BATCHER;
  return new BatchedPredictor(
    make(glue, { maxBatch: o.maxBatch, maxWaitMs: o.maxWaitMs, maxQueue: o.maxQueue }),
    o.maxBatch,
  );
}

/**
 * Batching off: each request is its own `glue.predictAsync` call. At most `concurrency` calls
 * run at once (default: one per core); later requests wait their turn in arrival order, and one
 * whose client goes away while waiting is dropped. Unbounded, hundreds of calls would finish
 * together and each one's scoring (synchronous, on the event loop) would run in the same loop
 * turn, so every other request, /healthz included, would wait behind all of them: on the 2-core
 * bench host, /healthz p99 under 256 connections went from 0.1-1.5 s unbounded to 3-7 ms with
 * 1-4 calls at once, with 2 the best single-row throughput. `maxQueue` caps the rows accepted
 * (running or waiting) so a flood is refused with `ERR_HDGLUE_QUEUE_FULL` instead of growing
 * memory without bound.
 */
export class DirectPredictor implements Predictor {
  onBatch: ((rows: number) => void) | undefined;
  readonly #glue: HDGlue;
  readonly #maxQueue: number;
  readonly #concurrency: number;
  #rows = 0;
  #running = 0;
  #closed = false;
  readonly #waiting: (() => void)[] = [];
  readonly #pending = new Set<Promise<unknown>>();

  /**
   * @param glue - the model
   * @param maxQueue - rows accepted and not answered before new requests are refused
   * @param concurrency - calls of the glue running at once
   */
  constructor(glue: HDGlue, maxQueue: number = PREDICTOR_DEFAULTS.maxQueue, concurrency = defaultConcurrency()) {
    this.#glue = glue;
    this.#maxQueue = maxQueue;
    this.#concurrency = Math.max(1, concurrency);
  }

  get queueDepth(): number {
    return this.#rows;
  }

  predict(inputs: GlueInputs, rows: number, options: PredictCallOptions): Promise<Label[]> {
    if (this.#closed) return Promise.reject(closedError());
    // One request larger than the whole cap is still let in when nothing else is queued, so a
    // big batch is slow rather than refused forever.
    if (this.#rows > 0 && this.#rows + rows > this.#maxQueue) return Promise.reject(queueFullError(this.#maxQueue));
    this.#rows += rows;
    const p = new Promise<Label[]>((resolve, reject) => {
      // The signal is read only by a request that has to wait (see the route's goneSignal).
      let signal: AbortSignal | undefined;
      const start = () => {
        signal?.removeEventListener('abort', drop);
        this.#running++;
        this.onBatch?.(rows);
        // Once started, predictAsync cannot be cancelled: the slot comes back when it settles,
        // before the caller hears of it, so a caller that then looks sees the slot free.
        const done = () => {
          this.#running--;
          this.#rows -= rows;
          this.#waiting.shift()?.();
        };
        this.#glue.predictAsync(inputs).then(
          (labels) => {
            done();
            resolve(labels);
          },
          (e: unknown) => {
            done();
            reject(e);
          },
        );
      };
      const drop = () => {
        const i = this.#waiting.indexOf(start);
        if (i < 0) return;
        this.#waiting.splice(i, 1);
        this.#rows -= rows;
        reject(abortedError());
      };
      if (this.#running < this.#concurrency) start();
      else {
        signal = options.signal;
        if (signal?.aborted) {
          this.#rows -= rows;
          reject(abortedError());
          return;
        }
        this.#waiting.push(start);
        signal?.addEventListener('abort', drop, { once: true });
      }
    });
    const tracked = p.catch(() => {}).finally(() => this.#pending.delete(tracked));
    this.#pending.add(tracked);
    return p;
  }

  async close(): Promise<void> {
    this.#closed = true;
    // Waiting requests still run: they were accepted. Their results are their callers'.
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }
}

/** Glue calls at once with batching off: one per core. */
function defaultConcurrency(): number {
  return availableParallelism();
}

/**
 * Batching on: requests go to a micro-batcher that coalesces rows into calls of up to `maxBatch`.
 * A request joining a queue shorter than one batch is given no AbortSignal: it runs within about
 * `maxWaitMs` whatever its client does, and making a signal (an AbortController and a listener on
 * the response) costs more per request than everything else the server adds to fastify's own
 * work (measured at 20-30 us of about 80). Behind a deeper queue, where a client that leaves
 * would otherwise have its rows computed much later for nobody, it is given one.
 */
export class BatchedPredictor implements Predictor {
  readonly #batcher: BatcherLike;
  readonly #abortableFrom: number;

  /**
   * @param batcher - lib/batch's `glueBatcher(glue, options)` (or anything of that shape)
   * @param abortableFrom - queue depth (rows) from which requests get their client's signal; default 256 (the default maxBatch)
   */
  constructor(batcher: BatcherLike, abortableFrom: number = PREDICTOR_DEFAULTS.maxBatch) {
    this.#batcher = batcher;
    this.#abortableFrom = abortableFrom;
  }

  get queueDepth(): number {
    return this.#batcher.queueDepth;
  }

  get onBatch(): ((rows: number) => void) | undefined {
    return this.#batcher.onBatch;
  }

  set onBatch(f: ((rows: number) => void) | undefined) {
    this.#batcher.onBatch = f;
  }

  predict(inputs: GlueInputs, _rows: number, options: PredictCallOptions): Promise<Label[]> {
    const signal = this.#batcher.queueDepth >= this.#abortableFrom ? options.signal : undefined;
    return this.#batcher.submit(inputs, signal ? { signal } : {});
  }

  close(): Promise<void> {
    return this.#batcher.close();
  }
}

/** `ERR_HDGLUE_QUEUE_FULL`, as the batcher raises it. @internal */
export function queueFullError(maxQueue: number): HdglueError {
  return new HdglueError(
    ErrorCode.QUEUE_FULL,
    `the queue is full (${maxQueue} rows waiting): try again shortly, or run more replicas`,
  );
}

/** `ERR_HDGLUE_CLOSED`. @internal */
export function closedError(): HdglueError {
  return new HdglueError(ErrorCode.CLOSED, 'the server is shutting down and takes no new requests');
}

/** `ERR_HDGLUE_ABORTED`, named like DOM's AbortError. @internal */
export function abortedError(): HdglueError {
  const e = new HdglueError(ErrorCode.ABORTED, 'the client went away before its request ran');
  e.name = 'AbortError';
  return e;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
