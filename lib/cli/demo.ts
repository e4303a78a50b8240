/**
 * `hdglue demo`: the tutorial end to end on the shipped digits set (see lib/demo/experiment.ts),
 * printed as one table, or as JSON with `--json`; `--plot FILE.svg|.png` draws accuracy vs
 * number of networks; `--onnx` runs the networks from exported ONNX files with onnxruntime-node
 * (`--onnx-dir DIR` keeps the files). Progress bars go to stderr, and only when it is a terminal.
 */
import cliProgress from 'cli-progress';
import { LEVEL_KINDS, type LevelKind } from '../core/levels.js';
import { type DemoProgress, runDemo } from '../demo/experiment.js';
import { writePlot } from '../demo/plot.js';
import { formatMachine, formatTable } from '../demo/report.js';
import { UsageError } from './errors.js';
import { intFlag, type Out } from './util.js';

/** Flags of `hdglue demo`. */
export interface DemoFlags {
  networks?: string;
  dim?: string;
  seed?: string;
  levels?: string;
  epochs?: string;
  seeds?: string;
  'no-cv'?: boolean;
  json?: boolean;
  plot?: string;
  onnx?: boolean;
  'onnx-dir'?: string;
}

/** Run `hdglue demo`. */
export async function demoCommand(f: DemoFlags, out: Out): Promise<void> {
  const levels = (f.levels ?? 'level') as LevelKind;
  if (!LEVEL_KINDS.includes(levels)) {
    throw new UsageError(`--levels must be one of ${LEVEL_KINDS.join(', ')}, got ${JSON.stringify(f.levels)}`);
  }
  if (f.plot !== undefined && !/\.(svg|png)$/i.test(f.plot))
    throw new UsageError(`--plot takes a file ending in .svg or .png, got ${JSON.stringify(f.plot)}`);
  const options = {
    networks: intFlag(f.networks, '--networks', 5, 1, 20),
    dim: intFlag(f.dim, '--dim', 10000, 64, 1 << 20),
    seed: intFlag(f.seed, '--seed', 0, 0, 2 ** 31 - 1),
    epochs: intFlag(f.epochs, '--epochs', 100, 1, 1000),
    seeds: intFlag(f.seeds, '--seeds', 3, 1, 20),
    cv: !f['no-cv'],
    levels,
    // --onnx-dir implies --onnx and keeps the exported files there.
    onnx: f['onnx-dir'] ?? f.onnx === true,
  };
  const bars = !f.json && out.tty ? progressBars() : undefined;
  let result: Awaited<ReturnType<typeof runDemo>>;
  try {
    result = await runDemo(options, bars?.progress);
  } finally {
    bars?.stop();
  }
  if (f.plot) await writePlot(result, f.plot);
  if (f.json) {
    out.log(JSON.stringify(result, null, 2));
    return;
  }
  out.log(formatMachine(result));
  out.log('');
  out.log(formatTable(result));
  if (f.plot) out.log(`\nplot: ${f.plot}`);
}

function progressBars(): { progress: DemoProgress; stop(): void } {
  const bar = new cliProgress.SingleBar(
    { format: '{phase} [{bar}] {value}/{total}', clearOnComplete: true, hideCursor: true, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    progress: {
      phase(name, total) {
        if (started) bar.stop();
        bar.start(total, 0, { phase: name.padEnd(34) });
        started = true;
      },
      tick() {
        bar.increment();
      },
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
