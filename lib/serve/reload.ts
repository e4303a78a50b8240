/**
 * The model a server answers with, and its reload: {@link ModelHolder.reload} re-reads the model
 * file and, only if the whole new model loads, swaps it in with one assignment. Requests that
 * started before keep the old one (they pinned it with `acquire`), which closes once they are
 * done; a file that does not load leaves the old model serving and is reported in one line.
 */

import type { ServerMetrics } from './metrics.js';
import { loadServedModel, type ServedModel, type ServedModelOptions } from './model.js';
import { PREDICTOR_DEFAULTS } from './predictor.js';

/** What {@link ModelHolder.reload} did. */
export type ReloadResult = { ok: true; model: ServedModel } | { ok: false; error: unknown };

/** Holds the current model; swaps it on reload; closes every model on shutdown. */
export class ModelHolder {
  readonly #path: string;
  readonly #options: ServedModelOptions;
  readonly #metrics: ServerMetrics;
  readonly #log: (line: string) => void;
  #current: ServedModel;
  // Models still answering: the current one and retired ones with requests in flight.
  readonly #live = new Set<ServedModel>();
  #reloading: Promise<ReloadResult> | undefined;
  #closed = false;

  private constructor(
    path: string,
    options: ServedModelOptions,
    first: ServedModel,
    metrics: ServerMetrics,
    log: (line: string) => void,
  ) {
    this.#path = path;
    this.#options = options;
    this.#metrics = metrics;
    this.#log = log;
    this.#current = first;
    this.#adopt(first);
  }

  /**
   * Load the model at `path` and hold it. Rejects (naming the file) when it does not load: a
   * server must not start without a model.
   */
  static async open(
    path: string,
    options: ServedModelOptions,
    metrics: ServerMetrics,
    log: (line: string) => void,
  ): Promise<ModelHolder> {
    return new ModelHolder(path, options, await loadServedModel(path, options), metrics, log);
  }

  /** The model new requests get. */
  get current(): ServedModel {
    return this.#current;
  }

  /** The current model, pinned until its `release()`: a reload meanwhile does not close it. */
  acquire(): ServedModel {
    return this.#current.acquire();
  }

  /** Rows accepted and not yet answered, over every live model. */
  /** Rows the server accepts and has not answered before it refuses more (`--max-queue`). */
  get maxQueue(): number {
    return this.#options.maxQueue ?? PREDICTOR_DEFAULTS.maxQueue;
  }

  get queueDepth(): number {
    let n = 0;
    for (const m of this.#live) n += m.predictor.queueDepth;
    return n;
  }

  /**
   * Re-read the model file and swap it in. Reloads run one at a time: a second one asked for
   * while one runs waits for it and then reads the file again (it may have changed since).
   */
  reload(): Promise<ReloadResult> {
    const run = async (): Promise<ReloadResult> => {
      if (this.#closed) return { ok: false, error: new Error('the server is shutting down') };
      let next: ServedModel;
      try {
        next = await loadServedModel(this.#path, this.#options);
      } catch (error) {
        this.#metrics.reload(false);
        this.#log(`hdglue: reload failed, still serving the previous model: ${firstLine(error)}`);
        return { ok: false, error };
      }
      if (this.#closed) {
        await next.retire();
        return { ok: false, error: new Error('the server is shutting down') };
      }
      const old = this.#current;
      this.#adopt(next);
      this.#current = next;
      void old.retire().then(() => this.#live.delete(old));
      this.#metrics.reload(true);
      this.#log(`hdglue: reloaded ${this.#path} (members: ${[...next.members.keys()].join(', ')})`);
      return { ok: true, model: next };
    };
    const p = (this.#reloading ?? Promise.resolve()).then(run, run);
    this.#reloading = p;
    return p;
  }

  /** No more requests: close every model once its requests are done. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#reloading?.catch(() => {});
    await Promise.all([...this.#live].map((m) => m.retire()));
    this.#live.clear();
  }

  #adopt(m: ServedModel): void {
    this.#live.add(m);
    m.predictor.onBatch = (rows) => this.#metrics.batch(rows);
  }
}

function firstLine(e: unknown): string {
  const m = (e as { message?: unknown } | null)?.message;
  return (typeof m === 'string' ? m : String(e)).split('\n')[0] as string;
}
