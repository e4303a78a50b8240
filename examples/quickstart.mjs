#!/usr/bin/env node
// A first look at the hypervector core: which backend runs, then a small symbolic memory.
// Words are encoded as the bundle of their letters, each letter permuted by its position;
// noisy copies are then cleaned up by a nearest-neighbour search over the dictionary.
// (The full HD-Glue demo over trained networks arrives with the HIL and glue layers.)
import { backendInfo, bundle, HVBatch, Hypervector, hammingMany, permute, randomHV, topK } from 'hdglue';

const DIM = 10_000;
const info = backendInfo();
console.log(`hdglue backend: ${info.backend}, ISA: ${info.isa} (CPU supports ${info.detectedIsa}), ${info.platform}`);

const letters = new Map();
const letter = (c) => {
  if (!letters.has(c)) letters.set(c, randomHV(DIM, `letter/${c}`, { seed: 1 }));
  return letters.get(c);
};
const encodeWord = (w) =>
  bundle(
    [...w].map((c, i) => permute(letter(c), i)),
    { seed: 1 },
  );

const words = [
  'glue',
  'clue',
  'blue',
  'glow',
  'grow',
  'vector',
  'victor',
  'hyper',
  'paper',
  'neural',
  'symbol',
  'cymbal',
];
const dictionary = HVBatch.from(words.map(encodeWord));

// Flip a fraction of the bits, chosen by a small seeded generator.
function noisy(hv, fraction, seed) {
  const bits = hv.toBipolar();
  let s = seed >>> 0;
  for (let i = 0; i < bits.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    if (s / 2 ** 32 < fraction) bits[i] = -bits[i];
  }
  return Hypervector.fromBipolar(bits);
}

let correct = 0;
console.log('\nquery (30% of bits flipped) -> nearest word, Hamming distance, runner-up');
for (const [i, w] of words.entries()) {
  const q = noisy(dictionary.row(i), 0.3, i + 1);
  const { indices, distances } = topK(q, dictionary, 2);
  const hit = words[indices[0]];
  if (hit === w) correct++;
  console.log(
    `  ${w.padEnd(7)} -> ${hit.padEnd(7)} ${String(distances[0]).padStart(5)}   ${words[indices[1]]} ${distances[1]}`,
  );
}
console.log(`\nrecovered ${correct} of ${words.length} words`);
const d = hammingMany(encodeWord('glue'), dictionary);
console.log(`distance of 'glue' to 'clue' ${d[1]} vs to 'neural' ${d[9]} (of ${DIM} bits): shared letters stay close`);
