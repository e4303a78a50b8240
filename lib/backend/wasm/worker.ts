/**
 * A worker thread of the WebAssembly backend's pool (pool.ts): its own instance of the module
 * it is given, running one sync kernel per message and sending the call's arrays back.
 * @internal
 */
import { parentPort, workerData } from 'node:worker_threads';
import { WasmCore } from './core.js';
import type { WasmModule } from './engine.js';
import { wasmKernels } from './kernels.js';
import type { Job, Reply } from './pool.js';

const kernels = wasmKernels(new WasmCore((workerData as { module: WasmModule }).module));

parentPort?.on('message', ({ id, name, args }: Job) => {
  let reply: Reply;
  try {
    const result = (kernels[name] as (...a: unknown[]) => unknown)(...args);
    reply = { id, ok: true, result, args };
  } catch (e) {
    const err = e as { name?: string; message?: string; code?: string };
    const kind = e instanceof RangeError ? 'RangeError' : e instanceof TypeError ? 'TypeError' : (err.name ?? 'Error');
    reply = {
      id,
      ok: false,
      error: { kind, message: String(err.message ?? e), ...(err.code ? { code: err.code } : {}) },
    };
  }
  const transfer = reply.ok ? args.filter(ArrayBuffer.isView).map((v) => v.buffer as ArrayBuffer) : [];
  parentPort?.postMessage(reply, transfer);
});
