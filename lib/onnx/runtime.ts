/**
 * The main thread's side of the ONNX worker: it checks that onnxruntime-node is installed before
 * starting anything, starts the one worker on first use, matches replies to requests, and keeps
 * the worker from holding the process open while nothing is pending (it is stopped once every
 * session is released).
 * @internal
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { ErrorCode, HdglueError } from '../errors.js';
import type { Reply, Request } from './protocol.js';

/** How to get onnxruntime-node, for every message that needs it. @internal */
export const INSTALL_HINT =
  'npm install onnxruntime-node (its CPU binaries ship inside the npm package; the install script only downloads ' +
  'optional CUDA files on Linux x64, so `--onnxruntime-node-install=skip` or ONNXRUNTIME_NODE_INSTALL=skip avoids it)';

let worker: Worker | undefined;
let nextId = 1;
let nextSession = 1;
let open = 0;
const pending = new Map<number, { worker: Worker; resolve(r: Reply & { ok: true }): void; reject(e: unknown): void }>();

/** Throws ERR_HDGLUE_ONNX_RUNTIME_MISSING when onnxruntime-node cannot be found from here. @internal */
export function requireRuntime(): void {
  try {
    // Resolving finds the package without loading its binary on this thread.
    createRequire(import.meta.url).resolve('onnxruntime-node');
  } catch (e) {
    throw missing((e as Error).message, e);
  }
}

function missing(why: string, cause?: unknown): HdglueError {
  return new HdglueError(
    ErrorCode.ONNX_RUNTIME_MISSING,
    `ONNX members need the optional package onnxruntime-node, which ${why.includes('Cannot find') ? 'is not installed' : `does not load (${why.split('\n')[0]})`}: ${INSTALL_HINT}`,
    cause === undefined ? undefined : { cause },
  );
}

// The compiled worker sits next to this file in dist/. Under a TypeScript test runner this file
// is lib/onnx/runtime.ts and a worker cannot run TypeScript on Node 20, so the build's copy is
// used (npm test builds dist/ first).
function workerUrl(): URL {
  return import.meta.url.endsWith('.ts')
    ? new URL('../../dist/onnx/worker.js', import.meta.url)
    : new URL('./worker.js', import.meta.url);
}

function start(): Worker {
  if (worker) return worker;
  // A worker inherits the process's flags, and --input-type (as in `node --input-type=module -e`)
  // stops a worker from starting from a file.
  const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type'));
  const w = new Worker(workerUrl(), { execArgv });
  w.unref();
  w.on('message', (reply: Reply) => {
    const p = pending.get(reply.id);
    if (!p) return;
    pending.delete(reply.id);
    if (!busy(w)) w.unref();
    if (reply.ok) p.resolve(reply);
    else p.reject(reply.runtime ? missing(reply.message) : new Error(reply.message));
  });
  const fail = (cause: unknown) => {
    const e = new HdglueError(
      ErrorCode.ONNX_RUN,
      `the ONNX worker thread stopped: ${(cause as Error)?.message ?? String(cause)}`,
      { cause },
    );
    if (worker === w) {
      worker = undefined;
      open = 0;
    }
    for (const [id, p] of pending) {
      if (p.worker !== w) continue;
      pending.delete(id);
      p.reject(e);
    }
  };
  w.on('error', fail);
  w.on('exit', (code) => fail(new Error(`the ONNX worker thread exited with code ${code}`)));
  worker = w;
  return w;
}

/** A new session number (sessions are numbered on this side so a load can name its own). @internal */
export function newSession(): number {
  return nextSession++;
}

/**
 * Send one request to the worker; resolves with its successful reply, rejects with a plain
 * Error carrying onnxruntime's message (callers add the member and file), with
 * ERR_HDGLUE_ONNX_RUNTIME_MISSING when onnxruntime-node does not load in the worker, or with
 * ERR_HDGLUE_ONNX_RUN when the worker thread itself failed.
 * @internal
 */
export function call(
  req: DistributiveOmit<Request, 'id'>,
  transfer: ArrayBuffer[] = [],
): Promise<Reply & { ok: true }> {
  requireRuntime();
  const w = start();
  const id = nextId++;
  return new Promise((resolve, reject) => {
    if (!busy(w)) w.ref();
    pending.set(id, {
      worker: w,
      resolve: (r) => {
        if (req.op === 'load') open++;
        if (req.op === 'release' && --open === 0 && worker === w) {
          // The last session is gone: stop the thread instead of leaving it idle.
          worker = undefined;
          void w.terminate();
        }
        resolve(r);
      },
      reject,
    });
    w.postMessage({ ...req, id } as Request, transfer);
  });
}

function busy(w: Worker): boolean {
  for (const p of pending.values()) if (p.worker === w) return true;
  return false;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
