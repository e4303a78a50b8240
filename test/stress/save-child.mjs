// Saves two different models to the same paths over and over, alternating, until it is killed
// (test/durability.test.ts sends SIGKILL at random moments). HDGlue.save and writeNpy write a
// temporary file, fsync it and rename it over the destination, so whenever the process dies the
// destination must hold one of the two complete files.
//   node test/stress/save-child.mjs <dir>
// Reads <dir>/a.hdg and <dir>/b.hdg, writes <dir>/model.hdg and <dir>/array.npy; prints "ready"
// once it is saving.
import { join } from 'node:path';
import { HDGlue, readNpy, writeNpy } from 'hdglue';

const dir = process.argv[2];
const models = [HDGlue.load(join(dir, 'a.hdg')), HDGlue.load(join(dir, 'b.hdg'))];
const arrays = [readNpy(join(dir, 'a.npy')), readNpy(join(dir, 'b.npy'))];
let i = 0;
for (;;) {
  models[i % 2].save(join(dir, 'model.hdg'));
  writeNpy(join(dir, 'array.npy'), arrays[i % 2]);
  if (i++ === 0) process.stdout.write('ready\n');
}
