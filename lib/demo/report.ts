/**
 * The demo's printed table: plain text, fixed-width, the same characters for the same seed (the
 * machine line and the timing are printed apart from it, so the README can quote the table and a
 * check can compare it with a fresh run).
 */
import type { DemoResult } from './experiment.js';

const pct = (v: number): string => `${(100 * v).toFixed(2)} %`;
const row = (label: string, value: string): string => `  ${label.padEnd(58)}${value.padStart(20)}`.trimEnd();

/** The table of a demo run (deterministic for a seed). */
export function formatTable(r: DemoResult): string {
  const N = r.config.networks;
  const a = r.advanced;
  const lines: string[] = [];
  lines.push(
    `digits, tutorial split: ${r.data.train} training / ${r.data.test} test images; ${N} MLPs 64-128-10 tanh, seeds ${r.config.seed}..${r.config.seed + N}`,
  );
  const rc = r.config.recipe;
  lines.push(
    `glue: D = ${rc.dim}, ${rc.bins} ${rc.range} bins, '${rc.levels}' levels, ${rc.epochs} correction epochs at margin ${rc.margin}, z-scored vote`,
  );
  if (r.config.onnx !== false) {
    lines.push('networks: exported to ONNX and run by onnxruntime-node (float32), embeddings read at output "hidden"');
  }
  lines.push('');
  lines.push('  test accuracy');
  for (const n of r.networks) lines.push(row(`${n.name}: the MLP / its HIL alone`, `${pct(n.mlp)} / ${pct(n.hil)}`));
  lines.push(row(`majority vote of the ${N} MLPs`, pct(r.baselines.majority)));
  lines.push(row(`mean probability of the ${N} MLPs`, pct(r.baselines.meanProbability)));
  lines.push(row("tutorial algebra, one network's HIL vector (mlp0)", pct(r.tutorial.hil)));
  lines.push(row(`tutorial algebra, HD-Glue of ${N}`, pct(r.tutorial.glue)));
  lines.push(row(`default glue of ${N}`, pct(r.glue)));
  lines.push('');
  const cols = (label: string, a: string, b: string, c: string): string =>
    `  ${label.padEnd(48)}${a.padStart(10)}${b.padStart(10)}${c.padStart(10)}`;
  lines.push(cols('accuracy vs number of networks', 'glue', 'majority', 'mean prob'));
  for (const c of r.curve) {
    const added = c.networks === N + 1 ? ` (+ ${r.advanced.addNetwork.name})` : '';
    lines.push(
      cols(
        `  ${c.networks} network${c.networks === 1 ? '' : 's'}${added}`,
        pct(c.glue),
        pct(c.majority),
        pct(c.meanProbability),
      ),
    );
  }
  lines.push('');
  lines.push('  advanced features, run for real');
  lines.push(
    row(
      `add ${a.addNetwork.name} online: glue of ${N} -> ${N + 1}`,
      `${pct(a.addNetwork.before)} -> ${pct(a.addNetwork.after)}`,
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
      `remove ${a.removeNetwork.name} at run time: glue of ${N} -> ${N - 1}`,
      `${pct(a.removeNetwork.before)} -> ${pct(a.removeNetwork.after)}`,
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
