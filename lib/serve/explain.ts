/**
 * The optional parts of a prediction's answer: each row's consensus scores (`"scores": true`)
 * and its explanation (`"explain": true`), both from `HDGlue.explain`, which shows the vote
 * consensus's per-member scores. Classes are listed once (`classes`) and every score array is
 * aligned with them, so labels that are numbers stay numbers in JSON.
 */
import { ErrorCode, rangeError } from '../errors.js';
import type { Label } from '../label.js';
import type { Explanation } from '../model/consensus.js';
import type { HDGlue } from '../model/glue.js';

/**
 * Rows a request asking for scores or explanations may have: explain() scores one row at a time
 * on the event loop, so an unbounded batch would stall every other request.
 */
export const MAX_EXPLAIN_ROWS = 64;

/** One member's part of a row's explanation. */
export interface MemberExplanation {
  name: string;
  weight: number;
  /** The member's own label for the row. */
  vote: Label;
  /** Its signed share of the winner's total. */
  share: number;
  /** Its scores, aligned with `classes` (null for a class it does not know). */
  scores: (number | null)[];
}

/** One row's explanation, as the answer carries it. */
export interface RowExplanation {
  label: Label;
  /** Members that voted on the row. */
  used: string[];
  /** Members with no input in the request. */
  missing: string[];
  members: MemberExplanation[];
}

/** The extra fields of an answer. */
export interface Extras {
  classes?: Label[];
  scores?: (number | null)[][];
  explain?: RowExplanation[];
}

/**
 * Scores and/or explanations of `rows` rows of embeddings (ONNX members already embedded).
 * A glue whose consensus is not `'vote'` has no per-member scores: `ERR_HDGLUE_OUT_OF_RANGE`.
 */
export function extras(
  glue: HDGlue,
  embeddings: Record<string, Float32Array | Float64Array>,
  rows: number,
  want: { scores: boolean; explain: boolean },
): Extras {
  if (!want.scores && !want.explain) return {};
  if (rows > MAX_EXPLAIN_ROWS) {
    throw rangeError(
      ErrorCode.LIMIT,
      `scores and explain take at most ${MAX_EXPLAIN_ROWS} rows per request, this one has ${rows}: split it`,
    );
  }
  if (glue.consensus !== 'vote') {
    throw rangeError(
      ErrorCode.OUT_OF_RANGE,
      `scores and explain show the vote consensus's per-member scores; this model predicts with '${glue.consensus}'`,
    );
  }
  const classes = glue.labels();
  const names = Object.keys(embeddings);
  const widths = names.map((n) => (embeddings[n] as Float32Array).length / rows);
  const out: Extras = { classes };
  if (want.scores) out.scores = [];
  if (want.explain) out.explain = [];
  for (let r = 0; r < rows; r++) {
    const row: Record<string, Float32Array | Float64Array> = Object.create(null);
    names.forEach((n, i) => {
      const w = widths[i] as number;
      row[n] = (embeddings[n] as Float32Array).subarray(r * w, (r + 1) * w);
    });
    const e: Explanation = glue.explain(row);
    out.scores?.push(classes.map((c) => e.totals.get(c) ?? null));
    out.explain?.push({
      label: e.label,
      used: e.used,
      missing: e.missing,
      members: e.members.map((m) => ({
        name: m.name,
        weight: m.weight,
        vote: m.vote,
        share: m.share,
        scores: classes.map((c) => m.scores.get(c) ?? null),
      })),
    });
  }
  return out;
}
