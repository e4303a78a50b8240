/**
 * The routes: `POST /v1/predict` (JSON or binary rows -> labels, optionally scores and
 * explanations), `GET /healthz` (200 while a model is loaded and the server is not draining) and
 * `GET /metrics` (Prometheus text). No route takes a file name: the model is the one the server
 * was started with, re-read only on SIGHUP.
 */

import type { ServerResponse } from 'node:http';
import { basename } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { ErrorCode, HdglueError } from '../errors.js';
import type { Label } from '../label.js';
import type { GlueInputs } from '../model/glue.js';
import { BINARY_TYPES, badRequest, type PredictRequest, parseBinaryRequest, parseJsonRequest } from './body.js';
import { type Extras, extras } from './explain.js';
import { CLIENT_GONE } from './http-errors.js';
import type { ServerMetrics } from './metrics.js';
import type { ServedModel } from './model.js';
import type { PredictCallOptions } from './predictor.js';
import type { ModelHolder } from './reload.js';

/** The answer of `POST /v1/predict`. */
export interface PredictAnswer extends Extras {
  /** One label per row. */
  labels: Label[];
}

/** Add the routes to `app`. */
export function registerRoutes(app: FastifyInstance, holder: ModelHolder, metrics: ServerMetrics): void {
  // Every JSON number takes at least two bytes: a request claiming more values than the body
  // limit can hold is refused before anything is allocated for it.
  const maxValues = Math.floor((app.initialConfig.bodyLimit ?? 2 ** 30) / 2);
  // The networks of ONNX-backed members run before the predictor's queue: their rows are counted
  // against the same limit, so a flood is refused with 503 there too instead of piling up.
  let embedding = 0;
  const embedAdmitted = async (onnx: NonNullable<ServedModel['onnx']>, req: PredictRequest): Promise<GlueInputs> => {
    if (embedding > 0 && embedding + holder.queueDepth + req.rows > holder.maxQueue)
      throw new HdglueError(
        ErrorCode.QUEUE_FULL,
        `${embedding} rows are being run through the networks: the queue is full (--max-queue ${holder.maxQueue}); try again later`,
      );
    embedding += req.rows;
    try {
      return await onnx.embed(req.inputs, req.rows);
    } finally {
      embedding -= req.rows;
    }
  };
  app.post('/v1/predict', async (request, reply): Promise<PredictAnswer> => {
    // The model is pinned for the whole request: a reload meanwhile swaps it for the next
    // requests, and this one finishes on the model it started with.
    const model = holder.acquire();
    try {
      const req = parse(request.body, request.headers['content-type'], request.query, model, maxValues);
      const embeddings: GlueInputs = model.onnx ? await embedAdmitted(model.onnx, req) : req.inputs;
      const labels = await model.predictor.predict(embeddings, req.rows, goneSignal(reply.raw));
      // Computed for a client that left meanwhile: nobody reads the answer and onResponse will
      // not run, so it is counted here.
      if (request.raw.socket?.destroyed) metrics.request('/v1/predict', CLIENT_GONE, reply.elapsedTime / 1000);
      const extra = extras(model.glue, embeddings as Record<string, Float32Array>, req.rows, req);
      return { labels, ...extra };
    } finally {
      model.release();
    }
  });

  app.get('/healthz', async () => {
    const m = holder.current;
    return {
      status: 'ok',
      // The file name only: an absolute path tells a client on another machine about this one's disk.
      model: basename(m.path),
      members: [...m.members.keys()],
      loadedAt: new Date(m.loadedAt).toISOString(),
    };
  });

  app.get('/metrics', async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}

/**
 * Options whose `signal` fires when the client goes away (its rows, if still queued, are then
 * dropped rather than computed). Made on first read: an AbortController costs a few
 * microseconds, and a predictor that starts the call at once never reads it.
 */
function goneSignal(res: ServerResponse): PredictCallOptions {
  let gone: AbortController | undefined;
  return {
    get signal() {
      if (!gone) {
        const c = new AbortController();
        gone = c;
        if (res.closed && !res.writableEnded) c.abort();
        else {
          res.once('close', () => {
            if (!res.writableEnded) c.abort();
          });
        }
      }
      return gone.signal;
    },
  };
}

function parse(
  body: unknown,
  contentType: string | undefined,
  query: unknown,
  model: ServedModel,
  maxValues: number,
): PredictRequest {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const binary = BINARY_TYPES[type as keyof typeof BINARY_TYPES];
  if (binary) return parseBinaryRequest(body as Uint8Array, binary, query, model.members);
  // JSON takes everything in the body; a query would be silently ignored, so it is refused.
  if (query !== null && typeof query === 'object' && Object.keys(query).length > 0) {
    throw badRequest('a JSON body takes no query parameters: put scores and explain in the body');
  }
  return parseJsonRequest(body, model.members, maxValues);
}
