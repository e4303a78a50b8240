/**
 * The demo's printed table: plain text, fixed-width, the same characters for the same options
 * (the machine line and the timing are printed apart from it, so the README can quote the table
 * and a check can compare it with a fresh run).
 */
import type { DemoResult, Stat } from './experiment.js';

const pct = (v: number): string => `${(100 * v).toFixed(2)} %`;
const pm = (s: Stat): string => `${(100 * s.mean).toFixed(2)} ± ${(100 * s.std).toFixed(2)} %`;
const row = (label: string, value: string): string => `  ${label.padEnd(56)}${value.padStart(22)}`.trimEnd();

/** The table of a demo run (deterministic for given options). */
export function formatTable(r: DemoResult): string {
  const N = r.config.networks;
  const S = r.runs.length;
  const sm = r.summary;
  const a = r.advanced;
  const rc = r.config.recipe;
  const lines: string[] = [];
  const first = r.config.seed;
  const last = first + S * (N + 1) - 1;
  lines.push(
    `digits, tutorial split: ${r.data.train} training / ${r.data.test} test images; ${S} seed(s) x ${N} MLPs 64-128-10 tanh (+1 added online), network seeds ${first}..${last}`,
  );
  lines.push(
    `glue: D = ${rc.dim}, ${rc.bins} ${rc.range} bins, '${rc.levels}' levels, ${rc.readout} readout, ${rc.epochs} correction epochs at margin ${rc.margin}, z-scored vote`,
  );
  if (r.config.onnx !== false) {
    lines.push('networks: exported to ONNX and run by onnxruntime-node (float32), embeddings read at output "hidden"');
  }
  lines.push('');
  lines.push(`  test accuracy, mean ± std over ${S} seed(s)`);
  lines.push(row(`one MLP (mean of the ${N})`, pm(sm.meanNetwork)));
  lines.push(row(`the best of the ${N} MLPs`, pm(sm.bestNetwork)));
  lines.push(row(`majority vote of the ${N} MLPs`, pm(sm.majority)));
  lines.push(row(`mean probability of the ${N} MLPs`, pm(sm.meanProbability)));
  lines.push(row('1-NN on the raw pixels (no network)', pct(r.rawPixels1NN)));
  lines.push(row("tutorial algebra, one network's HIL vector (mlp0)", pm(sm.tutorialHil)));
  lines.push(row(`tutorial algebra, HD-Glue of ${N}`, pm(sm.tutorialGlue)));
  lines.push(row(`one network's HIL alone (mean of the ${N})`, pm(sm.meanHil)));
  lines.push(row(`default glue of ${N}`, pm(sm.glue)));
  if (sm.glueCV !== undefined)
    lines.push(row(`  5-fold CV on the training rows (networks ${first}..${first + N - 1} fixed)`, pct(sm.glueCV)));
  lines.push('');
  const cols = (label: string, x: string, y: string, z: string): string =>
    `  ${label.padEnd(38)}${x.padStart(16)}${y.padStart(16)}${z.padStart(16)}`;
  lines.push(cols(`accuracy vs number of networks`, 'glue', 'majority', 'mean prob'));
  for (const c of sm.curve) {
    const added = c.networks === N + 1 ? ' (+1 online)' : '';
    lines.push(
      cols(
        `  ${c.networks} network${c.networks === 1 ? '' : 's'}${added}`,
        pm(c.glue),
        pm(c.majority),
        pm(c.meanProbability),
      ),
    );
  }
  lines.push('');
  lines.push(`  each seed: default glue / best MLP / mean probability`);
  for (const run of r.runs) {
    lines.push(
      row(
        `  networks ${run.seed}..${run.seed + N - 1}`,
        `${pct(run.glue)} / ${pct(run.baselines.bestNetwork)} / ${pct(run.baselines.meanProbability)}`,
      ),
    );
  }
  lines.push('');
  lines.push(`  advanced features, run for real (networks ${first}..${first + N})`);
  lines.push(
    row(
      `add ${a.addMember.name} online: glue of ${N} -> ${N + 1}`,
      `${pct(a.addMember.before)} -> ${pct(a.addMember.after)}`,
    ),
  );
  lines.push(
    row(
      `new class online: digit ${a.newClass.digit} held out, then partialFit`,
      `${pct(a.newClass.before.all)} -> ${pct(a.newClass.after.all)}`,
    ),
  );
  lines.push(
    row(
      `  test images of digit ${a.newClass.digit} recognized`,
      `${pct(a.newClass.before.digit)} -> ${pct(a.newClass.after.digit)}`,
    ),
  );
  lines.push(
    row(
      `  glue.learn, ${a.newClass.replayed} old rows replayed (all / digit ${a.newClass.digit})`,
      `${pct(a.newClass.afterReplay.all)} / ${pct(a.newClass.afterReplay.digit)}`,
    ),
  );
  lines.push(
    row(
      `weighted, HILs fit on ${r.data.fit} rows: equal -> fitWeights`,
      `${pct(a.weighted.equal)} -> ${pct(a.weighted.weighted)}`,
    ),
  );
  lines.push(
    `    weights (validation accuracy): ${Object.entries(a.weighted.weights)
      .map(([n, v]) => `${n} ${v.toFixed(3)}`)
      .join(', ')}`,
  );
  lines.push(
    row(
      `remove ${a.removeMember.name} at run time: glue of ${N} -> ${N - 1}`,
      `${pct(a.removeMember.before)} -> ${pct(a.removeMember.after)}`,
    ),
  );
  const ec = a.errorCorrection;
  lines.push(
    row(`error correction (${ec.epochs} epochs): test accuracy`, `${pct(ec.before.test)} -> ${pct(ec.after.test)}`),
  );
  lines.push(
    row(`  training errors, summed over the ${N} HILs`, `${ec.before.trainErrors} -> ${ec.after.trainErrors}`),
  );
  return lines.join('\n');
}

/** The line printed above the table: where and when it ran. */
export function formatMachine(r: DemoResult): string {
  const m = r.machine;
  return `hdglue demo, ${m.date}, ${m.cpu} (${m.cores} cores), backend ${m.backend}/${m.isa}, Node ${m.node}, ${r.seconds.toFixed(1)} s`;
}
