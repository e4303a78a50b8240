/**
 * `hdglue serve`: answer predictions over HTTP from one model file (lib/serve/). Prints
 * `listening on http://HOST:PORT` as its first line on stdout, then runs until SIGTERM or SIGINT
 * (drain, exit 0); SIGHUP re-reads the model file.
 */
import { type RunningServer, startServer } from '../serve/lifecycle.js';
import { PREDICTOR_DEFAULTS } from '../serve/predictor.js';
import { UsageError } from './errors.js';
import { intFlag, type Out } from './util.js';

/** Flags of `hdglue serve`. */
export interface ServeFlags {
  model?: string;
  host?: string;
  port?: string;
  batch?: string;
  'max-batch'?: string;
  'max-wait-ms'?: string;
  'max-queue'?: string;
  'body-limit'?: string;
}

const LISTEN_CODES = new Set(['EADDRINUSE', 'EADDRNOTAVAIL', 'EACCES', 'ENOTFOUND', 'EAI_AGAIN', 'EAFNOSUPPORT']);

// Past the drain's own deadline (9 s), the process leaves whatever still holds it: an orchestrator
// sends SIGKILL at 10 s.
const EXIT_DEADLINE_MS = 9_000;

/** Run `hdglue serve` until it is stopped by a signal. */
export async function serveCommand(f: ServeFlags, out: Out): Promise<void> {
  if (!f.model) throw new UsageError('serve needs --model MODEL.hdg');
  if (f.batch !== undefined && f.batch !== 'on' && f.batch !== 'off') {
    throw new UsageError(`--batch takes on or off, got ${JSON.stringify(f.batch)}`);
  }
  // A server's parallelism is across requests (libuv's pool encodes them), while the scoring
  // scans run on the event loop: splitting each of those over threads costs a fork and join per
  // call, which on a busy machine stalls every request (64-row calls measured 9x slower with two
  // threads than with one on a shared 2-core host). Read when the backend loads, which no command
  // has done yet; a value the user set is kept.
  process.env.HDGLUE_THREADS ??= '1';
  const host = f.host ?? '127.0.0.1';
  if (host.trim() === '') throw new UsageError('--host must name an address');
  const port = intFlag(f.port, '--port', 8080, 0, 65535);
  let server: RunningServer;
  try {
    server = await startServer({
      model: f.model,
      host,
      port,
      batch: f.batch !== 'off',
      maxBatch: intFlag(f['max-batch'], '--max-batch', PREDICTOR_DEFAULTS.maxBatch, 1, 65536),
      maxWaitMs: intFlag(f['max-wait-ms'], '--max-wait-ms', PREDICTOR_DEFAULTS.maxWaitMs, 0, 1000),
      maxQueue: intFlag(f['max-queue'], '--max-queue', PREDICTOR_DEFAULTS.maxQueue, 1, 2 ** 24),
      bodyLimit: intFlag(f['body-limit'], '--body-limit', 8 * 1024 * 1024, 1024, 2 ** 30),
      log: (line) => out.err(line),
    });
  } catch (e) {
    // Not being able to listen is the caller's to fix (a port in use, an address not here).
    const code = (e as { code?: unknown })?.code;
    if (typeof code === 'string' && LISTEN_CODES.has(code)) {
      throw new UsageError(`cannot listen on ${host}:${port}: ${(e as Error).message}`);
    }
    throw e;
  }
  out.log(`listening on ${server.url}`);
  process.once('SIGTERM', exitDeadline);
  process.once('SIGINT', exitDeadline);
  const report = await server.stopped;
  out.err(
    `hdglue: stopped: ${report.answered} of ${report.received} requests answered, ${report.clientGone} clients left first${
      report.forced ? '; the drain ran out of time and cut the connections still open' : ''
    }`,
  );
  // Anything still holding the event loop (a client's socket, a timer of a dependency) must not
  // keep a stopped server alive; unref'd, this fires only if something does.
  setTimeout(() => process.exit(process.exitCode ?? 0), 200).unref();
}

// Started on the first SIGTERM/SIGINT: the process exits by this time whatever happens.
function exitDeadline(): void {
  setTimeout(() => process.exit(0), EXIT_DEADLINE_MS).unref();
}
