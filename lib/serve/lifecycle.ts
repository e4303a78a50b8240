/**
 * A running `hdglue serve`: load the model, listen, and live by signals. SIGHUP reloads the
 * model (lib/serve/reload.ts); SIGTERM and SIGINT drain: new requests are refused with 503
 * `ERR_HDGLUE_CLOSED` (so a load balancer moves on), the listening socket closes, every accepted
 * request is answered, the predictors finish, and the returned promise settles well within the
 * 10 s an orchestrator usually grants. Only the handlers installed here are removed on stop.
 */
import { createApp, DEFAULT_BODY_LIMIT } from './app.js';
import { createMetrics } from './metrics.js';
import type { ServedModelOptions } from './model.js';
import { ModelHolder } from './reload.js';

/** Options of {@link startServer}. */
export interface ServeOptions extends ServedModelOptions {
  /** The model file, read at start and on each SIGHUP. */
  model: string;
  /** Address to bind; default 127.0.0.1 (only this machine). */
  host?: string;
  /** Port; 0 (the default) picks a free one. */
  port?: number;
  /** Largest request body, in bytes; default 8 MiB. */
  bodyLimit?: number;
  /** Where one-line notices go (reloads, shutdown, internal errors); default stderr. */
  log?: (line: string) => void;
  /** Install the SIGHUP/SIGTERM/SIGINT handlers; default true. */
  signals?: boolean;
  /** Milliseconds the drain may take before open connections are cut; default 9000. */
  drainMs?: number;
}

/** What a shutdown did. */
export interface ShutdownReport {
  /** Requests that reached the server. */
  received: number;
  /** Requests answered (including the 503s of the drain). */
  answered: number;
  /** Requests whose client went away before its answer (or whose connection the deadline cut). */
  clientGone: number;
  /** Whether the drain ran out of time and cut connections. */
  forced: boolean;
}

/** A listening server. */
export interface RunningServer {
  /** `http://HOST:PORT` as bound (the port chosen when 0 was asked for). */
  url: string;
  /** Re-read the model file now (what SIGHUP does). */
  reload: ModelHolder['reload'];
  /** Drain and stop (what SIGTERM does); the same promise for every call. */
  shutdown(): Promise<ShutdownReport>;
  /** Settles when the server has stopped, whoever stopped it. */
  stopped: Promise<ShutdownReport>;
}

/** Load the model and start listening. Rejects, listening on nothing, if the model does not load. */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  let holder: ModelHolder | undefined;
  const metrics = createMetrics(() => holder?.queueDepth ?? 0);
  holder = await ModelHolder.open(options.model, options, metrics, log);
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const app = createApp({ holder, metrics, bodyLimit, log });
  try {
    await app.fastify.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  } catch (e) {
    await holder.close();
    throw e;
  }
  const url = urlOf(app.fastify.server.address());
  const h = holder;

  let stopping: Promise<ShutdownReport> | undefined;
  let resolveStopped: (r: ShutdownReport) => void = () => {};
  const stopped = new Promise<ShutdownReport>((resolve) => {
    resolveStopped = resolve;
  });
  // A rejection here would be unhandled and end the process: it is logged instead.
  const onHup = () =>
    void h.reload().catch((e: unknown) => log(`reload failed: ${(e as Error)?.message ?? String(e)}`));
  const onTerm = () =>
    void shutdown().catch((e: unknown) => log(`shutdown failed: ${(e as Error)?.message ?? String(e)}`));
  const drainMs = options.drainMs ?? 9_000;

  function shutdown(): Promise<ShutdownReport> {
    stopping ??= (async () => {
      app.startDraining();
      let forced = false;
      // Past the deadline, cut what is still open (a client trickling a body, a stuck
      // connection) so the process can exit in time.
      const deadline = setTimeout(() => {
        forced = true;
        app.fastify.server.closeAllConnections();
      }, drainMs);
      // server.close() closes the connections idle at that moment only; a keep-alive connection
      // whose request was running then turns idle later and would hold the close open until its
      // keep-alive timeout. Closing idle ones every few milliseconds lets each go as soon as its
      // answer is out (a request arriving on it meanwhile is answered 503 with Connection: close).
      const reaper = setInterval(() => app.fastify.server.closeIdleConnections(), 25);
      try {
        await app.fastify.close();
        await h.close();
      } finally {
        clearTimeout(deadline);
        clearInterval(reaper);
        if (options.signals !== false) {
          process.off('SIGHUP', onHup);
          process.off('SIGTERM', onTerm);
          process.off('SIGINT', onTerm);
        }
      }
      const report = { ...app.counts, clientGone: app.counts.received - app.counts.answered, forced };
      resolveStopped(report);
      return report;
    })();
    return stopping;
  }

  if (options.signals !== false) {
    process.on('SIGHUP', onHup);
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onTerm);
  }
  return { url, reload: () => h.reload(), shutdown, stopped };
}

function urlOf(a: ReturnType<import('node:net').Server['address']>): string {
  if (a === null || typeof a === 'string') return `http://${a ?? 'unknown'}`;
  const host = a.family === 'IPv6' || a.address.includes(':') ? `[${a.address}]` : a.address;
  return `http://${host}:${a.port}`;
}
