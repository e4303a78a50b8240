/**
 * The `hdglue` command line: `demo`, `fit`, `predict`, `eval`, `info`, `serve`. Flags are parsed strictly
 * (an unknown or misspelt flag is an error, not ignored). A user's mistake prints one line and
 * exits with 2; `--verbose` adds the stack. See lib/cli/errors.ts.
 */

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULTS } from '../defaults.js';
import { demoCommand } from './demo.js';
import { describeError, EXIT_BUG, EXIT_USER, isUserError, UsageError } from './errors.js';
import { evalCommand } from './eval.js';
import { fitCommand } from './fit.js';
import { infoCommand } from './info.js';
import { predictCommand } from './predict.js';
import { serveCommand } from './serve.js';
import type { Out } from './util.js';

const USAGE = `usage: hdglue <command> [options]

commands:
  demo     the HD-Glue tutorial on the shipped digits set, with real numbers
           [--networks 5] [--dim 10000] [--seed 0] [--levels level|random|circular]
           [--seeds 3] [--no-cv] [--epochs 100 (MLP training)] [--json] [--plot FILE.svg|FILE.png]
           [--onnx (run the networks from exported ONNX files) [--onnx-dir DIR (keep them)]]
  fit      --member NAME=EMB.npy [--member ...] --labels LABELS.npy --out MODEL.hdg
           [--dim ${DEFAULTS.dim}] [--bins ${DEFAULTS.bins}] [--levels level|random|circular] [--range fit|minmax|--range=lo,hi]
           [--consensus vote|concat] [--epochs ${DEFAULTS.epochs}] [--margin ${DEFAULTS.margin}] [--schedule online|batch] [--readout prototype|nearest]
           [--seed 0]
           [--validation FRACTION] [--cv K (choose D, bins, readout, epochs, margin by K-fold CV)] [--json]
           --recipe tutorial: the tutorial's algebra as written (100 random-level bins, one bundled
           HIL vector per member, network-bound consensus); takes only [--dim] [--range minmax|--range=lo,hi]
           [--seed 42 (codebooks)] [--validation] [--json]
  predict  --model MODEL.hdg --member NAME=EMB.npy [--member ...] [--out preds.csv | --json]
  eval     --model MODEL.hdg --member NAME=EMB.npy [--member ...] --labels LABELS.npy [--json]
  info     [MODEL.hdg] [--json]   backend in use; a model's members, classes and sizes
  serve    --model MODEL.hdg [--host 127.0.0.1] [--port 8080 (0: a free one)] [--batch on|off]
           [--max-batch 256] [--max-wait-ms 2] [--max-queue 4096 (rows)] [--body-limit 8388608 (bytes)]
           HTTP: POST /v1/predict, GET /healthz, GET /metrics; SIGHUP reloads the model, SIGTERM drains

embeddings: 2-D float32/float64 .npy (C order, rows aligned across members);
labels: 1-D integer or string .npy. Every command takes --verbose (stack traces) and --help.
networks as members (fit, predict, eval): --member NAME=MODEL.onnx:OUTPUT --input NAME=INPUTS.npy
runs the ONNX model on the inputs (rows first, any shape the model takes) with onnxruntime-node
(npm install onnxruntime-node) and reads OUTPUT as the embedding; mix freely with .npy members.
fit records each network in the model (its path relative to the model, its sha256): predict and
eval then run it from --input NAME=INPUTS.npy alone (a changed or missing file is refused; a
--member flag for that name overrides the record).
`;

const COMMON = { verbose: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;
const str = { type: 'string' } as const;
const many = { type: 'string', multiple: true } as const;
const flag = { type: 'boolean' } as const;
const SPECS = {
  demo: {
    networks: str,
    dim: str,
    seed: str,
    seeds: str,
    'no-cv': flag,
    levels: str,
    epochs: str,
    json: flag,
    plot: str,
    onnx: flag,
    'onnx-dir': str,
  },
  fit: {
    member: many,
    input: many,
    labels: str,
    out: str,
    recipe: str,
    dim: str,
    bins: str,
    levels: str,
    range: str,
    consensus: str,
    epochs: str,
    margin: str,
    schedule: str,
    readout: str,
    cv: str,
    seed: str,
    validation: str,
    json: flag,
  },
  predict: { model: str, member: many, input: many, out: str, json: flag },
  eval: { model: str, member: many, input: many, labels: str, json: flag },
  info: { json: flag },
  serve: {
    model: str,
    host: str,
    port: str,
    batch: str,
    'max-batch': str,
    'max-wait-ms': str,
    'max-queue': str,
    'body-limit': str,
  },
} as const;

/** Run the CLI with `argv` (without node and the script); resolves to the exit code. */
export async function main(argv: readonly string[], out: Out = processOut()): Promise<number> {
  const verbose = argv.includes('--verbose');
  try {
    const [command, ...rest] = argv;
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      out.log(USAGE);
      return command === undefined ? EXIT_USER : 0;
    }
    if (command === '--version' || command === '-v') {
      out.log(version());
      return 0;
    }
    if (!(command in SPECS)) throw new UsageError(`unknown command ${JSON.stringify(command)}; try hdglue --help`);
    const name = command as keyof typeof SPECS;
    let parsed: { values: Record<string, unknown>; positionals: string[] };
    try {
      parsed = parseArgs({
        args: [...rest],
        options: { ...SPECS[name], ...COMMON },
        allowPositionals: name === 'info',
        strict: true,
      }) as typeof parsed;
    } catch (e) {
      throw new UsageError(`${name}: ${(e as Error).message}`);
    }
    const v = parsed.values;
    if (v.help) {
      out.log(USAGE);
      return 0;
    }
    if (name === 'demo') await demoCommand(v, out);
    else if (name === 'fit') await fitCommand(v, out);
    else if (name === 'predict') await predictCommand(v, out);
    else if (name === 'eval') await evalCommand(v, out);
    else if (name === 'serve') await serveCommand(v, out);
    else {
      if (parsed.positionals.length > 1) throw new UsageError('info takes at most one model file');
      infoCommand(parsed.positionals[0], v, out);
    }
    return 0;
  } catch (e) {
    const user = isUserError(e);
    out.err(`hdglue: ${describeError(e)}`);
    if (verbose || !user) out.err((e as Error)?.stack ?? String(e));
    return user ? EXIT_USER : EXIT_BUG;
  }
}

function processOut(): Out {
  // A reader that stops early (`hdglue predict ... | head`) closes the pipe: like other Unix
  // tools, stop quietly instead of dying on the unhandled EPIPE.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  return {
    log: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    tty: process.stderr.isTTY === true,
  };
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
