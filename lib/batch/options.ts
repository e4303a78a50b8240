/**
 * The settings of a {@link MicroBatcher} and what it reports: scheduling options (rows per
 * batch, how long a first request waits for company, how many rows may wait, how many batches
 * run at once), the per-request options (an AbortSignal), the metrics hook's record and the
 * running totals. Checked once, at construction, so a bad setting fails where it is made and
 * never inside a batch.
 */
import { ErrorCode, rangeError, typeError } from '../errors.js';
import { describe, LIMITS } from '../validate.js';

/** Scheduling options of a {@link MicroBatcher} (and of `glueBatcher`). */
export interface MicroBatcherOptions {
  /**
   * Most rows passed to one call of `run`; default 256, in [1, 65536]. A request with more rows
   * is cut into chunks of at most this many (each chunk may share a call with other requests),
   * and its promise resolves when every chunk is done.
   */
  maxBatch?: number;
  /**
   * How long the oldest waiting request waits for company before its batch runs even if it is
   * not full, in milliseconds; default 0, in [0, 1000]. 0 means the next turn of the event loop
   * (`setImmediate`): requests submitted in the same turn (one poll of a server's sockets) share
   * a call, and while a call runs the next requests pile up for the one after it, so batches
   * grow with load on their own. A positive wait trades latency for fewer, larger calls (less
   * CPU per row at moderate load); it cannot raise throughput when clients wait for their
   * answers before sending more (bench/batcher.mjs: at 16 clients, 2 ms cut the rows/s of 0 to about a fifth).
   */
  maxWaitMs?: number;
  /**
   * Most rows waiting (submitted, not yet handed to `run`); default 4096, in [1, 2^24]. A
   * request that would pass it is refused with `ERR_HDGLUE_QUEUE_FULL`, one larger than it on its
   * own with `ERR_HDGLUE_LIMIT`: a full queue sheds load at once instead of growing latency
   * without bound.
   */
  maxQueue?: number;
  /**
   * Most calls of `run` in progress at once; default 1, in [1, 64]. One keeps the event loop
   * free and lets rows pile up into the next, larger batch while a call runs, which is what makes
   * batching pay; more helps only when `run` is itself mostly waiting (a remote service, a
   * worker pool larger than one call uses).
   */
  concurrency?: number;
  /** Called after each call of `run` settles, for metrics; see {@link BatchInfo}. */
  onBatch?: (info: BatchInfo) => void;
}

/** Options of one request ({@link MicroBatcher.submit}). */
export interface BatchRequestOptions {
  /**
   * Cancels the request: before its rows are handed to `run` they are taken out of the queue
   * (never sent); after, the caller is rejected at once and its rows' results are discarded.
   * Either way the promise rejects with `ERR_HDGLUE_ABORTED`.
   */
  signal?: AbortSignal;
}

/** What the metrics hook ({@link MicroBatcherOptions.onBatch}) hears after each call of `run`. */
export interface BatchInfo {
  /** Rows passed to `run`. */
  rows: number;
  /** Requests that had rows in the call (a request cut into chunks counts in each of its calls). */
  requests: number;
  /** Milliseconds the oldest of those rows waited in the queue before the call began. */
  waitMs: number;
  /** Milliseconds `run` took, until its promise settled. */
  runMs: number;
  /** The error `run` failed with (every request in the call was rejected with it), if it failed. */
  error?: unknown;
}

/** Running totals of a {@link MicroBatcher}, since it was made. */
export interface BatchStats {
  /** Calls of `run` that settled. */
  batches: number;
  /** Of those, calls that failed. */
  failedBatches: number;
  /** Rows passed to `run` in calls that settled. */
  rows: number;
  /** Rows of the last call that settled (0 before the first). */
  lastBatchRows: number;
  /** Requests accepted into the queue. */
  requests: number;
  /** Requests refused because the queue was full (`ERR_HDGLUE_QUEUE_FULL`). */
  queueFull: number;
  /** Requests rejected because their signal fired (`ERR_HDGLUE_ABORTED`). */
  aborted: number;
}

/** {@link MicroBatcherOptions} checked, defaults filled in. @internal */
export interface BatcherSettings {
  maxBatch: number;
  maxWaitMs: number;
  maxQueue: number;
  concurrency: number;
  onBatch: ((info: BatchInfo) => void) | undefined;
}

/**
 * Defaults of {@link MicroBatcherOptions}: no added wait (batches grow with load; see
 * `maxWaitMs`), calls of up to 256 rows, 4096 rows waiting at most, one call at a time.
 */
export const BATCHER_DEFAULTS = Object.freeze({ maxBatch: 256, maxWaitMs: 0, maxQueue: 4096, concurrency: 1 });

/** The scheduling options, checked: integers in range (maxWaitMs may be fractional). @internal */
export function checkBatcherOptions(o: MicroBatcherOptions): BatcherSettings {
  const int = (v: unknown, what: string, lo: number, hi: number, fallback: number): number => {
    if (v === undefined) return fallback;
    if (typeof v !== 'number') throw typeError(`${what} must be a number, got ${describe(v)}`);
    if (!Number.isInteger(v) || v < lo || v > hi)
      throw rangeError(ErrorCode.OUT_OF_RANGE, `${what} must be an integer in [${lo}, ${hi}], got ${v}`);
    return v;
  };
  const wait = o.maxWaitMs ?? BATCHER_DEFAULTS.maxWaitMs;
  if (typeof wait !== 'number') throw typeError(`maxWaitMs must be a number, got ${describe(wait)}`);
  if (!(wait >= 0 && wait <= 1000))
    throw rangeError(ErrorCode.OUT_OF_RANGE, `maxWaitMs must be a number in [0, 1000], got ${wait}`);
  if (o.onBatch !== undefined && typeof o.onBatch !== 'function')
    throw typeError(`onBatch must be a function, got ${describe(o.onBatch)}`);
  return {
    maxBatch: int(o.maxBatch, 'maxBatch', 1, 65536, BATCHER_DEFAULTS.maxBatch),
    maxWaitMs: wait,
    maxQueue: int(o.maxQueue, 'maxQueue', 1, LIMITS.rows, BATCHER_DEFAULTS.maxQueue),
    concurrency: int(o.concurrency, 'concurrency', 1, 64, BATCHER_DEFAULTS.concurrency),
    onBatch: o.onBatch,
  };
}

/** A request's options, checked: the signal must be an AbortSignal. @internal */
export function checkSignal(options: BatchRequestOptions | undefined): AbortSignal | undefined {
  if (options === undefined) return undefined;
  if (options === null || typeof options !== 'object')
    throw typeError(`options must be an object, got ${describe(options)}`);
  const s = options.signal;
  if (s === undefined) return undefined;
  if (!(s instanceof AbortSignal)) throw typeError(`signal must be an AbortSignal, got ${describe(s)}`);
  return s;
}
