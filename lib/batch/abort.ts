/**
 * Cancellation of queued requests: the error an aborted request rejects with, and the shared
 * abort listeners. One listener per signal, however many requests share it: a server passing
 * one shutdown signal to every request would otherwise pile listeners on it (Node warns past 10
 * on one AbortSignal) and keep each until its request settled.
 */
import { ErrorCode, HdglueError } from '../errors.js';

/** The error of an aborted request: an HdglueError named like the platform's AbortError, the signal's reason as cause. @internal */
export function abortedError(reason: unknown): HdglueError {
  const e = new HdglueError(ErrorCode.ABORTED, 'the request was aborted before its result was delivered', {
    cause: reason,
  });
  e.name = 'AbortError';
  return e;
}

/** Items waiting on AbortSignals, with one listener per signal that calls `onAbort` for each. @internal */
export class SignalWatch<T> {
  readonly #watched = new Map<AbortSignal, { items: Set<T>; listener: () => void }>();
  readonly #onAbort: (item: T) => void;

  constructor(onAbort: (item: T) => void) {
    this.#onAbort = onAbort;
  }

  /** Call `onAbort(item)` when `signal` fires, unless {@link remove} is called first. */
  add(item: T, signal: AbortSignal): void {
    let w = this.#watched.get(signal);
    if (!w) {
      const items = new Set<T>();
      const listener = () => {
        this.#watched.delete(signal);
        for (const i of items) this.#onAbort(i);
      };
      w = { items, listener };
      this.#watched.set(signal, w);
      signal.addEventListener('abort', listener, { once: true });
    }
    w.items.add(item);
  }

  /** Stop watching `item`; the signal's listener goes with its last item. */
  remove(item: T, signal: AbortSignal): void {
    const w = this.#watched.get(signal);
    if (!w) return;
    w.items.delete(item);
    if (w.items.size === 0) {
      signal.removeEventListener('abort', w.listener);
      this.#watched.delete(signal);
    }
  }
}
