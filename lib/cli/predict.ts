/**
 * `hdglue predict`: labels from a saved model for members' embeddings, or for raw inputs of the
 * networks it records or `--member` names, as CSV or JSON.
 */
import { writeFileSync } from 'node:fs';
import { UsageError } from './errors.js';
import { checkRows } from './inputs.js';
import { readAllMembers } from './members.js';
import { inputsFor, loadModel } from './model.js';
import { csvField, type Out } from './util.js';

/** Flags of `hdglue predict`. */
export interface PredictFlags {
  model?: string;
  member?: string[];
  input?: string[];
  out?: string;
  json?: boolean;
}

/** Run `hdglue predict`. */
export async function predictCommand(f: PredictFlags, out: Out): Promise<void> {
  if (!f.model) throw new UsageError('predict needs --model MODEL.hdg');
  if (f.out && f.json) throw new UsageError('give --out FILE.csv or --json, not both');
  const glue = loadModel(f.model);
  const members = await readAllMembers(f.member ?? [], f.input ?? [], { glue, path: f.model });
  checkRows(members);
  const labels = await glue.predictAsync(inputsFor(glue, members, f.model));
  if (f.json) {
    out.log(JSON.stringify({ members: members.map((m) => m.name), predictions: labels }));
    return;
  }
  const csv = `row,label\n${labels.map((l, i) => `${i},${csvField(l)}`).join('\n')}\n`;
  if (f.out) {
    writeFileSync(f.out, csv);
    out.err(`wrote ${labels.length} predictions to ${f.out}`);
  } else {
    process.stdout.write(csv);
  }
}
