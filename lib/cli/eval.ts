/**
 * `hdglue eval`: accuracy of a saved model on labelled embeddings, each member's own accuracy,
 * and the confusion matrix (rows: true label, columns: predicted).
 */
import { ErrorCode, HdglueError } from '../errors.js';
import type { Label } from '../label.js';
import { UsageError } from './errors.js';
import { checkRows, readLabels } from './inputs.js';
import { readAllMembers } from './members.js';
import { inputsFor, loadModel } from './model.js';
import type { Out } from './util.js';

/** Flags of `hdglue eval`. */
export interface EvalFlags {
  model?: string;
  member?: string[];
  input?: string[];
  labels?: string;
  json?: boolean;
}

/** Run `hdglue eval`. */
export async function evalCommand(f: EvalFlags, out: Out): Promise<void> {
  if (!f.model) throw new UsageError('eval needs --model MODEL.hdg');
  if (!f.labels) throw new UsageError('eval needs --labels LABELS.npy');
  const glue = loadModel(f.model);
  const members = await readAllMembers(f.member ?? [], f.input ?? [], { glue, path: f.model });
  const truth = readLabels(f.labels);
  const n = checkRows(members, { path: f.labels, values: truth });
  const classes = glue.labels();
  // A label of another type than the model's classes (strings vs numbers) can never match: that
  // is a mismatched file, not a low score.
  const kinds = new Set(classes.map((l) => typeof l));
  const foreign = truth.find((l) => !kinds.has(typeof l));
  if (foreign !== undefined) {
    throw new HdglueError(
      ErrorCode.UNKNOWN_LABEL,
      `${f.labels}: label ${JSON.stringify(foreign)} is a ${typeof foreign}, but the classes of ${f.model} are ${[...kinds].join(' and ')}s`,
    );
  }
  const inputs = inputsFor(glue, members, f.model);
  // One encoding and one scoring pass give both the consensus and each member alone.
  const { labels: pred, members: own } = await glue.predictEachAsync(inputs);
  const accuracy = hits(pred, truth) / n;
  const perMember: Record<string, number> = {};
  for (const m of members) perMember[m.name] = hits(own[m.name] as Label[], truth) / n;
  const labels: Label[] = [...classes];
  for (const l of truth) if (!labels.includes(l)) labels.push(l);
  const index = new Map(labels.map((l, i) => [l, i]));
  const matrix = labels.map(() => new Array<number>(labels.length).fill(0));
  truth.forEach((t, i) => {
    (matrix[index.get(t) as number] as number[])[index.get(pred[i] as Label) as number]++;
  });
  const unknown = truth.filter((t) => !classes.includes(t)).length;
  if (f.json) {
    out.log(
      JSON.stringify(
        { accuracy, n, members: perMember, unknownLabels: unknown, confusion: { labels, matrix } },
        null,
        2,
      ),
    );
    return;
  }
  out.log(`accuracy: ${(100 * accuracy).toFixed(2)} % (${hits(pred, truth)} of ${n})`);
  for (const [name, a] of Object.entries(perMember)) out.log(`  ${name} alone: ${(100 * a).toFixed(2)} %`);
  if (unknown) out.log(`${unknown} row(s) have labels the model has no class for (always counted wrong)`);
  const w = Math.max(5, ...labels.map((l) => String(l).length), ...matrix.flat().map((v) => String(v).length)) + 1;
  out.log('confusion matrix (rows: true label, columns: predicted)');
  out.log(`${''.padStart(w)}${labels.map((l) => String(l).padStart(w)).join('')}`);
  labels.forEach((l, i) => {
    out.log(`${String(l).padStart(w)}${(matrix[i] as number[]).map((v) => String(v).padStart(w)).join('')}`);
  });
}

function hits(pred: readonly Label[], truth: readonly Label[]): number {
  let k = 0;
  for (let i = 0; i < truth.length; i++) if (pred[i] === truth[i]) k++;
  return k;
}
