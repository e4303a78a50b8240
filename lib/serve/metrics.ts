/**
 * The server's Prometheus metrics (prom-client), in a registry of its own so that two servers
 * in one process (tests) or an embedder's own metrics never collide:
 *
 * - `hdglue_requests_total{route, status}`: answered requests;
 * - `hdglue_request_duration_seconds{route}`: time from the request's arrival to its answer;
 * - `hdglue_batch_size`: rows per call the glue makes (per request with batching off, per
 *   coalesced batch with it on);
 * - `hdglue_queue_depth`: rows accepted and not yet answered, read when scraped;
 * - `hdglue_rows_total`: rows predicted; `hdglue_reloads_total{result}`: SIGHUP reloads;
 * - the process's default metrics (`process_resident_memory_bytes`, event loop lag, ...).
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** The metrics of one server. */
export interface ServerMetrics {
  /** The registry `/metrics` renders. */
  registry: Registry;
  /** Count an answered request and its duration (seconds). */
  request(route: string, status: number, seconds: number): void;
  /** Record one call of the glue on `rows` rows. */
  batch(rows: number): void;
  /** Count a reload. */
  reload(ok: boolean): void;
}

// Request latencies from 0.25 ms (a single row on an idle server) to 10 s (a full 8 MiB body
// under load).
const LATENCY_BUCKETS = [0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
// Batch sizes: powers of two up to 65536, the batcher's largest maxBatch.
const BATCH_BUCKETS = Array.from({ length: 17 }, (_, i) => 2 ** i);

/**
 * Create the metrics; `queueDepth` is read at each scrape (the predictors know it, the server
 * need not track it per request).
 */
export function createMetrics(queueDepth: () => number): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'hdglue_requests_total',
    help: 'Requests answered, by route and HTTP status.',
    labelNames: ['route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'hdglue_request_duration_seconds',
    help: 'Time from a request arriving to its answer, by route.',
    labelNames: ['route'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const batchSize = new Histogram({
    name: 'hdglue_batch_size',
    help: 'Rows per call of the glue (one request with batching off, a coalesced batch with it on).',
    buckets: BATCH_BUCKETS,
    registers: [registry],
  });
  const rowsTotal = new Counter({ name: 'hdglue_rows_total', help: 'Rows predicted.', registers: [registry] });
  const reloads = new Counter({
    name: 'hdglue_reloads_total',
    help: 'Model reloads on SIGHUP, by result (ok: swapped in; failed: the previous model kept).',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'hdglue_queue_depth',
    help: 'Rows accepted and not yet answered (queued for a batch or being computed).',
    registers: [registry],
    collect() {
      this.set(queueDepth());
    },
  });
  // Children per label set, made once: prom-client hashes the labels on every call otherwise,
  // a cost paid by every request. Routes are the few patterns (or 'unmatched') and statuses the
  // few the server sends, so both maps stay small.
  const requestChildren = new Map<string, Counter.Internal>();
  const durationChildren = new Map<string, Histogram.Internal<'route'>>();
  return {
    registry,
    request(route, status, seconds) {
      const key = `${route} ${status}`;
      let c = requestChildren.get(key);
      if (!c) {
        c = requests.labels({ route, status: String(status) });
        requestChildren.set(key, c);
      }
      c.inc();
      let h = durationChildren.get(route);
      if (!h) {
        h = duration.labels({ route });
        durationChildren.set(route, h);
      }
      h.observe(seconds);
    },
    batch(rows) {
      batchSize.observe(rows);
      rowsTotal.inc(rows);
    },
    reload(ok) {
      reloads.inc({ result: ok ? 'ok' : 'failed' });
    },
  };
}
