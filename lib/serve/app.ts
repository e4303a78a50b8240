/**
 * The HTTP application of `hdglue serve` (fastify): the body parsers, the hooks that count,
 * time and (while draining) refuse requests, the error and not-found handlers, and the routes of
 * lib/serve/routes.ts. It knows nothing of files, signals or ports (lib/serve/lifecycle.ts), so
 * tests drive it in process with `inject`.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { ErrorCode } from '../errors.js';
import { BINARY_TYPES } from './body.js';
import { CLIENT_GONE, errorBody, type HttpError, httpError } from './http-errors.js';
import type { ServerMetrics } from './metrics.js';
import type { ModelHolder } from './reload.js';
import { registerRoutes } from './routes.js';

/** Largest body accepted by default: 8 MiB. */
export const DEFAULT_BODY_LIMIT = 8 * 1024 * 1024;

/** What the application is built from. */
export interface AppOptions {
  /** The current model, swapped by reloads. */
  holder: ModelHolder;
  metrics: ServerMetrics;
  /** Largest body, in bytes; default {@link DEFAULT_BODY_LIMIT}. */
  bodyLimit?: number;
  /** Where one-line notices go (a request that failed inside the server, with its stack). */
  log: (line: string) => void;
}

/**
 * Counts of the requests an application has seen, for the shutdown summary: once the server has
 * drained, `received - answered` is the requests whose client went away before its answer.
 */
export interface RequestCounts {
  /** Requests that reached the server (headers parsed). */
  received: number;
  /** Requests answered (the answer handed to the socket). */
  answered: number;
}

/** The application, its request counts, and the switch that makes it refuse new requests while draining. */
export interface App {
  fastify: FastifyInstance;
  counts: RequestCounts;
  /** From now on every new request is answered 503 `ERR_HDGLUE_CLOSED` with `Connection: close`. */
  startDraining(): void;
}

/** Build the application (not listening; see lifecycle.ts). */
export function createApp(options: AppOptions): App {
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const { metrics, log } = options;
  const app = Fastify({
    bodyLimit,
    logger: false,
    // Our own 503 while draining, with a code and Retry-After, like every other error.
    return503OnClosing: false,
    // No requestTimeout (fastify's default): Node's per-request timeout bookkeeping measured
    // 20-30 us per request on the bench host, as much again as everything else the server adds.
    // Node's headersTimeout (60 s) still bounds a client that never finishes its headers; the
    // load balancer or proxy in front should bound slow bodies, and a shutdown cuts whatever is
    // left at its deadline.
  });
  const counts: RequestCounts = { received: 0, answered: 0 };
  let draining = false;

  // Only JSON and the documented binary formats; text/plain (fastify's default) would reach the
  // handler as a string.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser(Object.keys(BINARY_TYPES), { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  // Per-request work is kept to what must run for every request: each hook and listener here
  // costs a few microseconds of a budget of about fifty (the bare HTTP + JSON cost on the bench
  // host), so connection closing while draining is done from lifecycle.ts, not per response.
  app.addHook('onRequest', (_req, reply, done) => {
    counts.received++;
    if (draining) {
      reply.header('connection', 'close');
      sendError(reply, {
        status: 503,
        code: ErrorCode.CLOSED,
        message: 'the server is shutting down and takes no new requests',
        retryAfter: 1,
        internal: false,
      });
      return;
    }
    done();
  });
  app.addHook('onResponse', (req, reply, done) => {
    counts.answered++;
    metrics.request(routeOf(req.routeOptions.url), reply.statusCode, reply.elapsedTime / 1000);
    done();
  });

  app.setErrorHandler((e, req, reply) => {
    const h = httpError(e, bodyLimit);
    if (h.status === CLIENT_GONE) {
      // Nobody will read the answer, and onResponse does not run for a closed socket.
      metrics.request(routeOf(req.routeOptions.url), CLIENT_GONE, reply.elapsedTime / 1000);
    }
    if (h.internal) log(`hdglue: request failed inside the server (${h.code}): ${(e as Error)?.stack ?? String(e)}`);
    sendError(reply, h);
  });
  app.setNotFoundHandler((req, reply) => {
    sendError(reply, {
      status: 404,
      code: ErrorCode.BAD_REQUEST,
      message: `no route ${req.method} ${req.url.split('?')[0]}: the routes are POST /v1/predict, GET /healthz, GET /metrics`,
      internal: false,
    });
  });

  registerRoutes(app, options.holder, metrics);
  return {
    fastify: app,
    counts,
    startDraining() {
      draining = true;
    },
  };
}

function sendError(reply: import('fastify').FastifyReply, h: HttpError): void {
  reply.code(h.status);
  if (h.retryAfter !== undefined) reply.header('retry-after', String(h.retryAfter));
  void reply.send(errorBody(h));
}

// The metric label of a route: its pattern, or 'unmatched' (a 404), so a scanner's random paths
// cannot grow the label set.
function routeOf(url: string | undefined): string {
  return url ?? 'unmatched';
}
