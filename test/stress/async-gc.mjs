// Many concurrent predictAsync and encodeBatchAsync calls, with forced collections between
// launches (run with --expose-gc). Every result must equal the synchronous one of its own input:
// a mismatch would be cross-talk between calls or memory reused under a running call.
// Prints one JSON line; exits 1 on any mismatch.
import { batches, smallGlue } from './common.mjs';

const rounds = Number(process.argv[2] ?? 10);
const perRound = Number(process.argv[3] ?? 20);
if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc');
const glue = smallGlue();
const inputs = batches(8, 25, 100);
const expected = inputs.map((x) => JSON.stringify(glue.predict(x)));
const enc = glue.member('a').encoder;
const encoded = inputs.map((x) => enc.encodeBatch(x.a));
let calls = 0;
let mismatches = 0;
for (let round = 0; round < rounds; round++) {
  const pending = [];
  for (let i = 0; i < perRound; i++) {
    const k = (round * perRound + i) % inputs.length;
    // Fresh copies, dropped right away: only the running call keeps them alive.
    const x = { a: inputs[k].a.slice(), b: inputs[k].b.slice() };
    pending.push(glue.predictAsync(x).then((p) => JSON.stringify(p) === expected[k]));
    pending.push(enc.encodeBatchAsync(inputs[k].a.slice()).then((h) => h.equals(encoded[k])));
    calls += 2;
    if (i % 4 === 0) globalThis.gc();
  }
  globalThis.gc();
  for (const ok of await Promise.all(pending)) if (!ok) mismatches++;
}
console.log(JSON.stringify({ calls, mismatches }));
process.exit(mismatches ? 1 : 0);
