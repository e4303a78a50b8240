/**
 * `hdglue fit`: build a glue from members' training embeddings and labels and save it.
 * Each member gets the {@link DEFAULT_RECIPE} unless flags say otherwise; `--validation F` holds
 * out a stratified, seeded fraction of the rows to stop error correction early and report an
 * accuracy the model did not train on.
 */
import { statSync } from 'node:fs';
import { ErrorCode, HdglueError } from '../errors.js';
import { HDGlue, type Strategy } from '../glue.js';
import type { Label } from '../hil.js';
import { LEVEL_KINDS, type LevelKind } from '../levels.js';
import { buildMember, DEFAULT_RECIPE, type Recipe } from '../recipe.js';
import { UsageError } from './errors.js';
import { checkRows, type MemberInput, readLabels } from './inputs.js';
import { readAllMembers } from './members.js';
import { intFlag, numberFlag, type Out } from './util.js';

/** Flags of `hdglue fit` (strings as parsed). */
export interface FitFlags {
  member?: string[];
  input?: string[];
  labels?: string;
  out?: string;
  dim?: string;
  bins?: string;
  levels?: string;
  range?: string;
  consensus?: string;
  epochs?: string;
  margin?: string;
  seed?: string;
  validation?: string;
  json?: boolean;
}

/** Run `hdglue fit`. */
export async function fitCommand(f: FitFlags, out: Out): Promise<void> {
  if (!f.labels) throw new UsageError('fit needs --labels LABELS.npy');
  if (!f.out) throw new UsageError('fit needs --out MODEL.hdg');
  const recipe = recipeOf(f);
  const consensus = (f.consensus ?? 'vote') as Strategy;
  if (consensus !== 'vote' && consensus !== 'tutorial') {
    throw new UsageError(`--consensus must be vote or tutorial, got ${JSON.stringify(f.consensus)}`);
  }
  const seed = intFlag(f.seed, '--seed', 0, 0, 2 ** 31 - 1);
  const fraction = f.validation === undefined ? 0 : numberFlag(f.validation, '--validation', 0, 0, 0.9);
  const members = await readAllMembers(f.member ?? [], f.input ?? []);
  const labels = readLabels(f.labels);
  const n = checkRows(members, { path: f.labels, values: labels });
  const { fitRows, valRows } = stratifiedSplit(labels, fraction, seed);
  if (fitRows.length === 0) throw new HdglueError(ErrorCode.SHAPE, `${f.labels}: no rows left to fit on`);

  const t0 = performance.now();
  const glue = new HDGlue({ strategy: consensus, seed });
  const report: Record<string, { features: number; trainAccuracy: number; epochs: number }> = {};
  members.forEach((m, i) => {
    const x = rowsOf(m, fitRows);
    const y = fitRows.map((r) => labels[r] as Label);
    const validation = valRows.length
      ? { x: rowsOf(m, valRows), labels: valRows.map((r) => labels[r] as Label) }
      : undefined;
    // The tutorial's consensus binds every member against one class-vector memory, so its
    // members share a seed; the vote wants independent codebooks per member.
    const built = buildMember(x, m.features, y, recipe, consensus === 'tutorial' ? seed : seed + i, validation);
    glue.addNetwork(m.name, { encoder: built.encoder, hil: built.hil });
    report[m.name] = {
      features: m.features,
      trainAccuracy: built.hil.accuracy(built.hvs, y),
      epochs: built.epochs.length,
    };
  });
  const valInputs = Object.fromEntries(members.map((m) => [m.name, rowsOf(m, valRows)]));
  const validationAccuracy = valRows.length
    ? glue.accuracy(
        valInputs,
        valRows.map((r) => labels[r] as Label),
      )
    : undefined;
  glue.save(f.out);
  const result = {
    model: f.out,
    bytes: statSync(f.out).size,
    rows: n,
    fitRows: fitRows.length,
    validationRows: valRows.length,
    classes: glue.labels().length,
    consensus,
    recipe,
    members: report,
    ...(validationAccuracy === undefined ? {} : { validationAccuracy }),
    seconds: (performance.now() - t0) / 1000,
  };
  if (f.json) {
    out.log(JSON.stringify(result, null, 2));
    return;
  }
  out.log(
    `fitted ${members.length} member(s) on ${fitRows.length} of ${n} rows, ${result.classes} classes, ${consensus} consensus, in ${result.seconds.toFixed(1)} s`,
  );
  for (const [name, r] of Object.entries(report)) {
    out.log(
      `  ${name}: ${r.features} features, training accuracy ${(100 * r.trainAccuracy).toFixed(2)} %, ${r.epochs} correction epochs`,
    );
  }
  if (validationAccuracy !== undefined) {
    out.log(`validation accuracy (${valRows.length} held-out rows): ${(100 * validationAccuracy).toFixed(2)} %`);
  }
  out.log(`wrote ${f.out} (${result.bytes} bytes)`);
}

function recipeOf(f: FitFlags): Recipe {
  const levels = (f.levels ?? DEFAULT_RECIPE.levels) as LevelKind;
  if (!LEVEL_KINDS.includes(levels)) {
    throw new UsageError(`--levels must be one of ${LEVEL_KINDS.join(', ')}, got ${JSON.stringify(f.levels)}`);
  }
  return {
    dim: intFlag(f.dim, '--dim', DEFAULT_RECIPE.dim, 1, 1 << 24),
    bins: intFlag(f.bins, '--bins', DEFAULT_RECIPE.bins, 1, 65536),
    levels,
    range: rangeOf(f.range),
    epochs: intFlag(f.epochs, '--epochs', DEFAULT_RECIPE.epochs, 0, 10000),
    margin: numberFlag(f.margin, '--margin', DEFAULT_RECIPE.margin, 0, 2),
  };
}

function rangeOf(v: string | undefined): Recipe['range'] {
  if (v === undefined || v === 'fit' || v === 'quantile') return 'quantile';
  if (v === 'minmax') return 'minmax';
  const parts = v.split(',');
  const lo = Number(parts[0]);
  const hi = Number(parts[1]);
  if (
    parts.length !== 2 ||
    parts.some((p) => p.trim() === '') ||
    !Number.isFinite(lo) ||
    !Number.isFinite(hi) ||
    !(hi > lo)
  ) {
    throw new UsageError(`--range must be fit, minmax or lo,hi with lo < hi, got ${JSON.stringify(v)}`);
  }
  return [lo, hi];
}

/** Rows of a member's embeddings, in the given order. */
function rowsOf(m: MemberInput, rows: readonly number[]): Float32Array | Float64Array {
  const out =
    m.x instanceof Float32Array
      ? new Float32Array(rows.length * m.features)
      : new Float64Array(rows.length * m.features);
  rows.forEach((r, i) => {
    out.set(m.x.subarray(r * m.features, (r + 1) * m.features), i * m.features);
  });
  return out;
}

/**
 * A fraction of each class's rows for validation, chosen by a seeded shuffle (at least one row
 * of a class is always kept for fitting); the rest, in their original order, for fitting.
 */
export function stratifiedSplit(
  labels: readonly Label[],
  fraction: number,
  seed: number,
): { fitRows: number[]; valRows: number[] } {
  if (fraction === 0) return { fitRows: labels.map((_, i) => i), valRows: [] };
  const byClass = new Map<Label, number[]>();
  labels.forEach((l, i) => {
    const rows = byClass.get(l);
    if (rows) rows.push(i);
    else byClass.set(l, [i]);
  });
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const val = new Set<number>();
  for (const rows of byClass.values()) {
    const shuffled = rows.slice();
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [shuffled[i], shuffled[j]] = [shuffled[j] as number, shuffled[i] as number];
    }
    const k = Math.min(rows.length - 1, Math.round(fraction * rows.length));
    for (const r of shuffled.slice(0, k)) val.add(r);
  }
  const fitRows: number[] = [];
  const valRows: number[] = [];
  labels.forEach((_, i) => {
    (val.has(i) ? valRows : fitRows).push(i);
  });
  return { fitRows, valRows };
}
