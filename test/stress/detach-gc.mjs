// Inputs given away under running async calls (run with --expose-gc). Before the fixes these
// crashed the process: an encoder input transferred to a new owner that was then collected
// (use-after-free in the worker), and a view of a resizable ArrayBuffer shrunk under a running
// call (V8 decommits the pages). Now the first rejects with ERR_HDGLUE_DETACHED (the encoders
// work on their own copy) and the second is refused up front with ERR_HDGLUE_INVALID_TYPE.
// Prints one JSON line of outcome counts; exits 1 on an unexpected outcome.
import { EmbeddingEncoder, HVBatch, hammingManyAsync, randomHV } from 'hdglue';
import { batches, smallGlue } from './common.mjs';

const reps = Number(process.argv[2] ?? 10);
if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc');
const counts = {};
const note = (what, e) => {
  const key = `${what}:${e === undefined ? 'ok' : (e.code ?? String(e))}`;
  counts[key] = (counts[key] ?? 0) + 1;
};
const settle = (what, p) =>
  p.then(
    () => note(what),
    (e) => note(what, e),
  );

// Large enough that the backing store is its own mapping, freed back to the OS when collected.
const enc = new EmbeddingEncoder({ features: 256, dim: 4096, bins: 16 });
const glue = smallGlue();
const [input] = batches(1, 400, 3);
for (let i = 0; i < reps; i++) {
  const x = new Float32Array(2000 * 256).map((_, j) => Math.sin(j + i));
  const p = settle('encodeBatchAsync transferred', enc.encodeBatchAsync(x));
  structuredClone(x.buffer, { transfer: [x.buffer] });
  globalThis.gc();
  new Float32Array(2000 * 256).fill(Number.NaN); // reuse the freed memory if anything reads it
  await p;

  const a = input.a.slice();
  const q = settle('predictAsync transferred', glue.predictAsync({ a, b: input.b }));
  structuredClone(a.buffer, { transfer: [a.buffer] });
  globalThis.gc();
  await q;

  const dim = 8192;
  const rows = 4000;
  const bytes = rows * 2 * (dim / 64) * 4;
  const buf = new ArrayBuffer(bytes, { maxByteLength: bytes });
  const batch = new HVBatch(dim, rows, new Uint32Array(buf));
  const r = settle('hammingManyAsync resizable', hammingManyAsync(randomHV(dim, 'q'), batch));
  buf.resize(0);
  await r;
}
console.log(JSON.stringify(counts));
const expected = new Set([
  'encodeBatchAsync transferred:ERR_HDGLUE_DETACHED',
  'predictAsync transferred:ERR_HDGLUE_DETACHED',
  'hammingManyAsync resizable:ERR_HDGLUE_INVALID_TYPE',
]);
process.exit(Object.keys(counts).every((k) => expected.has(k)) ? 0 : 1);
