/**
 * MicroBatcher: many small concurrent requests, one call. A server answering one row per HTTP
 * request pays a native call, a thread hop and the per-call setup of every kernel for each row;
 * coalescing the rows that arrive within a few milliseconds into one call pays them once per
 * batch, and the kernels' wide scans run over many rows at a time.
 *
 * How a request travels: `submit` checks it alone (see rows.ts; a bad one is rejected without
 * touching the queue), copies its rows and queues it in the group of requests with the same
 * inputs (member names and widths: only those can share a call). A group's batch closes when it
 * holds `maxBatch` rows, or when its oldest request has waited `maxWaitMs`; closed batches run,
 * oldest first, at most `concurrency` at a time, and while one runs new rows pile up for the
 * next. A batch is the first `maxBatch` rows of its group in arrival order: a request may be
 * cut at a batch boundary and finish in the next call. Each caller gets its own rows' results.
 */
import type { EmbeddingMatrix } from '../encode/embeddings.js';
import { ErrorCode, HdglueError, rangeError, typeError } from '../errors.js';
import { describe } from '../validate.js';
import { abortedError, SignalWatch } from './abort.js';
import {
  type BatcherSettings,
  type BatchInfo,
  type BatchRequestOptions,
  type BatchStats,
  checkBatcherOptions,
  checkSignal,
  type MicroBatcherOptions,
} from './options.js';
import {
  type BatchDtype,
  checkWidths,
  gatherRows,
  ownRows,
  type RowMatrix,
  requestShape,
  type Widths,
} from './rows.js';

/**
 * What a {@link MicroBatcher} calls with each batch: `inputs` maps each input name to `rows`
 * rows of `features[name]` values, row-major, the requests' rows concatenated in arrival order;
 * it returns (or resolves to) one result per row, in the same order. The arrays are the
 * batcher's own, made for this call, so `run` may keep, change or transfer them. If it throws or
 * rejects, every request with rows in the call is rejected with that error.
 */
export type BatchRun<R> = (
  inputs: Readonly<Record<string, RowMatrix>>,
  rows: number,
  features: Readonly<Record<string, number>>,
) => PromiseLike<ArrayLike<R>> | ArrayLike<R>;

/** What a {@link MicroBatcher} accepts: the inputs' names and widths, and the arrays `run` gets. */
export interface RowFormat {
  /** Values per row of each input; a request naming anything else is refused with `ERR_HDGLUE_UNKNOWN_MEMBER`. */
  widths: Widths;
  /** Element type of the arrays passed to `run`; default `'auto'` (see {@link BatchDtype}). */
  dtype?: BatchDtype;
}

interface Request<R> {
  /** The request's own copy of its rows, one array per name of its group. */
  data: RowMatrix[];
  rows: number;
  /** Rows already handed to `run`; the rest wait in `group`. */
  offset: number;
  /** Rows whose results have arrived. */
  delivered: number;
  results: R[];
  /** Arrival order, across groups. */
  seq: number;
  /** Arrival time (performance.now()). */
  at: number;
  /** The group whose queue holds its remaining rows, while any remain. */
  group: Group<R> | null;
  settled: boolean;
  resolve: (results: R[]) => void;
  reject: (error: unknown) => void;
  signal: AbortSignal | undefined;
}

interface Group<R> {
  key: string;
  names: string[];
  widths: number[];
  /** Requests with rows waiting, in arrival order; the first may be partly sent. */
  queue: Request<R>[];
  rows: number;
  /** The head is due (has waited maxWaitMs) when its seq is at most this. */
  dueSeq: number;
  /** Cancels the pending wake-up for the head's deadline, if one is set. */
  cancel: (() => void) | null;
}

interface Slice<R> {
  req: Request<R>;
  start: number;
  count: number;
}

const now = (): number => performance.now();

// One result per row, or the call fails (every request in it rejects) rather than leave callers waiting.
function checkResults<R>(results: ArrayLike<R>, rows: number): ArrayLike<R> {
  const length = (results as { length?: unknown } | null)?.length;
  if (typeof length === 'number' && length === rows) return results;
  throw rangeError(
    ErrorCode.SHAPE,
    `run returned ${typeof length === 'number' ? `${length} results` : describe(results)} for a batch of ${rows} rows: it must return one result per row`,
  );
}

/**
 * Coalesces concurrent requests of row-keyed inputs (`{ [name]: rows }`) into few calls of an
 * async `run` function, and gives each caller its own rows' results. It needs no glue: `run`
 * can be any function of a batch of rows, for example an ONNX session, a remote model or a
 * database lookup.
 *
 * ```ts
 * const b = new MicroBatcher(async (inputs, rows) => model.embed(inputs.x, rows), { widths: { x: 64 } });
 * const [y] = await b.submit({ x: [row] }, { signal: AbortSignal.timeout(100) });
 * ```
 *
 * Guarantees: rows reach `run` in arrival order within a group (requests with the same names
 * and widths), never more than `maxBatch` at once; a request larger than `maxBatch` is cut into
 * chunks that run in order (so a large request is served whole, without stalling behind the
 * cap, and other requests queue behind its chunks). Requests are checked and their rows
 * copied at `submit`: a bad request is rejected alone, and the caller may reuse its arrays at
 * once. `submit` never throws: every failure is a rejected promise with a stable `code`.
 */
export class MicroBatcher<R> {
  /** Called after each call of `run` settles, for metrics (may be set or replaced at any time); see {@link BatchInfo}. */
  onBatch: ((info: BatchInfo) => void) | undefined;
  readonly #run: BatchRun<R>;
  readonly #s: BatcherSettings;
  readonly #widths: Widths;
  readonly #dtype: BatchDtype;
  readonly #groups = new Map<string, Group<R>>();
  readonly #signals = new SignalWatch<Request<R>>((r) => this.#abort(r));
  #depth = 0;
  #inFlight = 0;
  #seq = 0;
  #closing = false;
  #idle: Promise<void> | null = null;
  #onIdle: (() => void) | null = null;
  readonly #stats: BatchStats = {
    batches: 0,
    failedBatches: 0,
    rows: 0,
    lastBatchRows: 0,
    requests: 0,
    queueFull: 0,
    aborted: 0,
  };

  /**
   * @param run - called with each batch; see {@link BatchRun}
   * @param options - the inputs' widths and the element type `run` gets ({@link RowFormat}), and
   *   the scheduling ({@link MicroBatcherOptions}: `maxBatch`, `maxWaitMs`, `maxQueue`,
   *   `concurrency`, `onBatch`)
   */
  constructor(run: BatchRun<R>, options: MicroBatcherOptions & RowFormat) {
    if (typeof run !== 'function') throw typeError(`run must be a function, got ${describe(run)}`);
    if (options === null || typeof options !== 'object')
      throw typeError(`options must be an object with widths, got ${describe(options)}`);
    this.#run = run;
    this.#s = checkBatcherOptions(options);
    this.#widths = checkWidths(options.widths);
    const dtype = options.dtype ?? 'auto';
    if (dtype !== 'auto' && dtype !== 'float32' && dtype !== 'float64')
      throw rangeError(ErrorCode.OUT_OF_RANGE, `dtype must be 'auto', 'float32' or 'float64', got ${String(dtype)}`);
    this.#dtype = dtype;
    this.onBatch = this.#s.onBatch;
  }

  /** Rows waiting: submitted, not yet handed to `run` (what `maxQueue` bounds). */
  get queueDepth(): number {
    return this.#depth;
  }

  /** Calls of `run` in progress (at most `concurrency`). */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Whether {@link close} was called: new requests are refused. */
  get closed(): boolean {
    return this.#closing;
  }

  /** Running totals since construction (a copy). */
  stats(): BatchStats {
    return { ...this.#stats };
  }

  /**
   * Queue a request and resolve with one result per row, in row order. `inputs` maps input
   * (member) names to rows, as a glue takes them: a row-major Float32Array or Float64Array, or an
   * array of rows; every name must have the same row count. Rejects, with the request never
   * queued: `ERR_HDGLUE_CLOSED` after {@link close}; `ERR_HDGLUE_ABORTED` if the signal already
   * fired; the input checks' codes (`ERR_HDGLUE_UNKNOWN_MEMBER`, `ERR_HDGLUE_NO_INPUT`,
   * `ERR_HDGLUE_SHAPE`, `ERR_HDGLUE_INVALID_TYPE`, `ERR_HDGLUE_NOT_FINITE`, `ERR_HDGLUE_LIMIT`);
   * `ERR_HDGLUE_LIMIT` for more rows than `maxQueue`; `ERR_HDGLUE_QUEUE_FULL` when the rows
   * waiting plus these would pass `maxQueue`. Later: `ERR_HDGLUE_ABORTED` when the signal fires
   * before the last result arrives, or the error of a `run` call that had its rows.
   */
  submit(inputs: Readonly<Record<string, EmbeddingMatrix>>, options?: BatchRequestOptions): Promise<R[]> {
    let signal: AbortSignal | undefined;
    let data: RowMatrix[];
    let shape: ReturnType<typeof requestShape>;
    try {
      if (this.#closing) throw new HdglueError(ErrorCode.CLOSED, 'the batcher is closed: it takes no new requests');
      signal = checkSignal(options);
      if (signal?.aborted) {
        this.#stats.aborted++;
        throw abortedError(signal.reason);
      }
      shape = requestShape(inputs, this.#widths);
      const max = this.#s.maxQueue;
      if (shape.rows > max) {
        throw rangeError(
          ErrorCode.LIMIT,
          `a request of ${shape.rows} rows is larger than the queue (maxQueue ${max}): split it, or raise maxQueue`,
        );
      }
      if (this.#depth + shape.rows > max) {
        this.#stats.queueFull++;
        throw new HdglueError(
          ErrorCode.QUEUE_FULL,
          `the batcher's queue is full (${this.#depth} of ${max} rows waiting; this request has ${shape.rows}): retry later`,
        );
      }
      // Copied (and checked finite) last: the cheap refusals above cost no copy under overload.
      data = ownRows(shape, this.#dtype);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise<R[]>((resolve, reject) => {
      let g = this.#groups.get(shape.key);
      if (!g) {
        g = { key: shape.key, names: shape.names, widths: shape.widths, queue: [], rows: 0, dueSeq: -1, cancel: null };
        this.#groups.set(shape.key, g);
      }
      const r: Request<R> = {
        data,
        rows: shape.rows,
        offset: 0,
        delivered: 0,
        results: new Array<R>(shape.rows),
        seq: this.#seq++,
        at: now(),
        group: g,
        settled: false,
        resolve,
        reject,
        signal,
      };
      g.queue.push(r);
      g.rows += r.rows;
      this.#depth += r.rows;
      this.#stats.requests++;
      if (signal) this.#signals.add(r, signal);
      this.#arm(g);
      this.#pump();
    });
  }

  /**
   * Stop taking requests (later ones reject with `ERR_HDGLUE_CLOSED`), run what is queued at
   * once without waiting out `maxWaitMs`, and resolve when no row waits and no call runs.
   * Requests already queued still resolve (or reject) as usual. Calling it again returns the
   * same promise.
   */
  close(): Promise<void> {
    if (this.#idle) return this.#idle;
    this.#closing = true;
    this.#idle = new Promise<void>((resolve) => {
      this.#onIdle = resolve;
    });
    for (const g of this.#groups.values()) this.#disarm(g);
    this.#pump();
    this.#checkIdle();
    return this.#idle;
  }

  // A group's batch may run: full, closing, or its oldest request has waited long enough.
  #ready(g: Group<R>): boolean {
    return g.rows >= this.#s.maxBatch || this.#closing || (g.queue[0] as Request<R>).seq <= g.dueSeq;
  }

  #disarm(g: Group<R>): void {
    g.cancel?.();
    g.cancel = null;
  }

  // Keep the group's wake-up in step with its head: drop an empty group, and when the head is
  // neither full nor due, wake up at its deadline (maxWaitMs after it arrived; with 0, the next
  // turn of the event loop, so that requests submitted together still share a call).
  #arm(g: Group<R>): void {
    const head = g.queue[0];
    if (!head) {
      this.#disarm(g);
      this.#groups.delete(g.key);
      return;
    }
    if (g.cancel || this.#ready(g)) return;
    const wake = () => {
      g.cancel = null;
      // The head this wake-up was set for (an abort or a batch that moves the head re-arms).
      g.dueSeq = Math.max(g.dueSeq, head.seq);
      this.#pump();
    };
    if (this.#s.maxWaitMs === 0) {
      const t = setImmediate(wake);
      g.cancel = () => clearImmediate(t);
      return;
    }
    const wait = head.at + this.#s.maxWaitMs - now();
    if (wait <= 0) {
      // It has waited already (it was queued behind a running batch): due now.
      g.dueSeq = Math.max(g.dueSeq, head.seq);
      return;
    }
    const t = setTimeout(wake, wait);
    g.cancel = () => clearTimeout(t);
  }

  // Start due batches, oldest head first, while fewer than `concurrency` run.
  #pump(): void {
    while (this.#inFlight < this.#s.concurrency) {
      let best: Group<R> | undefined;
      for (const g of this.#groups.values()) {
        if (!this.#ready(g)) continue;
        if (!best || (g.queue[0] as Request<R>).seq < (best.queue[0] as Request<R>).seq) best = g;
      }
      if (!best) return;
      this.#start(best);
    }
  }

  // Take the first maxBatch rows of the group and call run with them.
  #start(g: Group<R>): void {
    const slices: Slice<R>[] = [];
    let room = this.#s.maxBatch;
    while (room > 0 && g.queue.length > 0) {
      const r = g.queue[0] as Request<R>;
      const count = Math.min(room, r.rows - r.offset);
      slices.push({ req: r, start: r.offset, count });
      r.offset += count;
      room -= count;
      if (r.offset === r.rows) {
        g.queue.shift();
        r.group = null;
      }
    }
    const rows = this.#s.maxBatch - room;
    g.rows -= rows;
    this.#depth -= rows;
    const started = now();
    const waitMs = started - (slices[0] as Slice<R>).req.at;
    // The head moved: its wake-up was for the old head.
    this.#disarm(g);
    this.#arm(g);
    this.#inFlight++;
    const { names, widths } = g;
    // Called in a microtask: run never executes inside submit's stack, and a synchronous throw
    // becomes a rejection like any other.
    Promise.resolve()
      .then(() => {
        const parts = slices.map((s) => ({ data: s.req.data, start: s.start, count: s.count, rows: s.req.rows }));
        const arrays = gatherRows(parts, widths, rows, this.#dtype);
        const inputs = Object.fromEntries(names.map((n, i) => [n, arrays[i] as RowMatrix]));
        const features = Object.fromEntries(names.map((n, i) => [n, widths[i] as number]));
        // Called unbound, as a plain function: `this` is not the batcher's to give.
        const run = this.#run;
        return run(inputs, rows, features);
      })
      .then((results) => checkResults(results, rows))
      .then(
        (results) => {
          this.#deliver(slices, results);
          this.#finish(rows, slices.length, waitMs, started, undefined, false);
        },
        (error: unknown) => {
          for (const s of slices) this.#fail(s.req, error);
          this.#finish(rows, slices.length, waitMs, started, error, true);
        },
      );
  }

  // Each caller's rows' results, in place; a request resolves when its last rows arrive.
  #deliver(slices: readonly Slice<R>[], results: ArrayLike<R>): void {
    let at = 0;
    for (const { req, start, count } of slices) {
      if (!req.settled) {
        for (let k = 0; k < count; k++) req.results[start + k] = results[at + k] as R;
        req.delivered += count;
        if (req.delivered === req.rows) this.#resolve(req);
      }
      at += count;
    }
  }

  #finish(rows: number, requests: number, waitMs: number, started: number, error: unknown, failed: boolean): void {
    this.#inFlight--;
    const st = this.#stats;
    st.batches++;
    st.rows += rows;
    st.lastBatchRows = rows;
    if (failed) st.failedBatches++;
    const hook = this.onBatch;
    if (hook) {
      const info: BatchInfo = { rows, requests, waitMs, runMs: now() - started };
      if (failed) info.error = error;
      try {
        hook(info);
      } catch (e) {
        // A metrics hook's bug must not wedge the queue or fail callers; it is not hidden either.
        process.emitWarning(`hdglue: a MicroBatcher onBatch hook threw: ${(e as Error)?.message ?? String(e)}`, {
          code: 'HDGLUE_ONBATCH_THREW',
        });
      }
    }
    this.#pump();
    this.#checkIdle();
  }

  #abort(r: Request<R>): void {
    if (r.settled) return;
    this.#stats.aborted++;
    this.#fail(r, abortedError(r.signal?.reason));
    // Its rows leaving may have made the next request of its group the due head.
    this.#pump();
    this.#checkIdle();
  }

  // Take the request's waiting rows out of its group (they are never sent).
  #dequeue(r: Request<R>): void {
    const g = r.group;
    if (!g) return;
    const i = g.queue.indexOf(r);
    g.queue.splice(i, 1);
    const left = r.rows - r.offset;
    g.rows -= left;
    this.#depth -= left;
    r.group = null;
    if (i === 0) this.#disarm(g);
    this.#arm(g);
  }

  #resolve(r: Request<R>): void {
    if (r.settled) return;
    r.settled = true;
    if (r.signal) this.#signals.remove(r, r.signal);
    r.resolve(r.results);
  }

  // Reject a request once; its rows still queued are dropped.
  #fail(r: Request<R>, error: unknown): void {
    if (r.settled) return;
    r.settled = true;
    if (r.signal) this.#signals.remove(r, r.signal);
    this.#dequeue(r);
    r.reject(error);
  }

  #checkIdle(): void {
    if (this.#onIdle && this.#depth === 0 && this.#inFlight === 0) {
      const done = this.#onIdle;
      this.#onIdle = null;
      done();
    }
  }
}
