/**
 * The ONNX worker thread: it holds every onnxruntime session of the process and runs them, so
 * network inference never blocks the main thread (onnxruntime-node's `run` computes on the
 * calling thread). One worker serves all members: onnxruntime already spreads one run over the
 * cores, and several threads loading onnxruntime-node at once have crashed some of its releases.
 * @internal
 */
import { parentPort } from 'node:worker_threads';
import type * as Ort from 'onnxruntime-node';
import type { Reply, Request, ValueInfo } from './protocol.js';
import type { TypedData } from './tensor.js';

const port = parentPort;
if (!port) throw new Error('lib/onnx/worker.js runs only as a worker thread');

let ort: typeof Ort | undefined;
let loadError: string | undefined;
try {
  ort = (await import('onnxruntime-node')) as typeof Ort;
} catch (e) {
  loadError = (e as Error)?.message ?? String(e);
}

const sessions = new Map<number, Ort.InferenceSession>();

port.on('message', (req: Request) => {
  handle(req).then(
    ({ reply, transfer }) => port.postMessage(reply, transfer),
    (e: unknown) => port.postMessage({ id: req.id, ok: false, runtime: false, message: messageOf(e) } satisfies Reply),
  );
});

async function handle(req: Request): Promise<{ reply: Reply; transfer: ArrayBuffer[] }> {
  if (!ort)
    return { reply: { id: req.id, ok: false, runtime: true, message: loadError ?? 'not loaded' }, transfer: [] };
  if (req.op === 'load') {
    // onnxruntime's pool threads spin after each run by default. Here the sessions take turns
    // with each other and with hdglue's encoding on the main thread, and spinning threads keep
    // the cores from them: with spinning, three members ran about 5x slower on two cores
    // (bench/onnx.mjs).
    const options: Ort.InferenceSession.SessionOptions = {
      ...(req.threads ? { intraOpNumThreads: req.threads } : {}),
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    };
    const s = await ort.InferenceSession.create(req.bytes, options);
    sessions.set(req.session, s);
    return {
      reply: { id: req.id, ok: true, inputs: s.inputMetadata.map(info), outputs: s.outputMetadata.map(info) },
      transfer: [],
    };
  }
  const s = sessions.get(req.session);
  if (!s) throw new Error(`session ${req.session} was released`);
  if (req.op === 'release') {
    sessions.delete(req.session);
    await s.release();
    return { reply: { id: req.id, ok: true }, transfer: [] };
  }
  const feeds = { [req.input]: new ort.Tensor(req.type, req.data, req.dims) };
  const result = await s.run(feeds, [req.output]);
  const out = result[req.output];
  if (!out) throw new Error(`onnxruntime returned no value for output ${req.output}`);
  // Copy only when the tensor shares its buffer with others: the reply transfers the buffer.
  const data = out.data as TypedData;
  const own =
    data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer
      ? data
      : data.slice();
  return {
    reply: { id: req.id, ok: true, data: own, dims: [...out.dims] },
    transfer: [own.buffer as ArrayBuffer],
  };
}

function info(m: Ort.InferenceSession.ValueMetadata): ValueInfo {
  return m.isTensor
    ? { name: m.name, isTensor: true, type: m.type, shape: [...m.shape] }
    : { name: m.name, isTensor: false };
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
