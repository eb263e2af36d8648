/**
 * The collector process: receive CloudEvents, store them, serve the query API and UI.
 *
 *   KServe agent / inferlog ──POST /──▶ receive ──▶ commit queue ──▶ store
 *   CLI / UI ──GET /api/v1/…──▶ query ──▶ store
 *   Prometheus ──GET /metrics──▶ metrics        retention timer ──▶ store.deleteOlderThan
 *
 * Shutdown order: stop accepting, let in-flight requests finish their commits, drain
 * the commit queue, close the store.
 */
import Fastify from 'fastify';
import type { FastifyError, FastifyInstance } from 'fastify';
import type { OpLogger } from '../core/log.js';
import { createOpLogger } from '../core/log.js';
import { DEFAULT_MAX_BATCH_EVENTS } from './batch-limits.js';
import { createCommitQueue } from './commit-queue.js';
import type { CommitQueue } from './commit-queue.js';
import { sendError } from './http-errors.js';
import { createCollectorMetrics } from './metrics.js';
import type { CollectorMetrics } from './metrics.js';
import { registerQuery } from './query.js';
import { registerReceive } from './receive.js';
import type { Retention } from './retention.js';
import { startRetention } from './retention.js';
import { DEFAULT_STATS_TOP_MODELS } from '../store/stats.js';
import { registerSecurityHeaders } from './security-headers.js';
import type { ExchangeStore } from '../store/store.js';
import { traceLinkHealth } from './trace-link.js';
import { registerUi } from './ui-static.js';

export const DEFAULT_COLLECTOR_PORT = 8090;
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;
/**
 * Largest request head accepted. KServe's agent copies allow-listed client headers into Ce-Metadata
 * unbounded, and Go's JSON escaping grows `<` sixfold (`\u003c`): behind Istio/Envoy's default
 * 60 KiB request-header limit that is up to ~360 KiB. Node's default (16 KiB) answered 431 and the
 * exchange was lost. inferlog's own agent bounds Ce-Metadata to 8 KiB (formats/cloudevents.ts).
 */
export const MAX_HEADER_BYTES = 512 * 1024;

export interface CollectorOptions {
  /** A store not yet started; the collector starts and shuts it down. */
  store: ExchangeStore;
  host?: string;
  /** 0 = any free port. */
  port?: number;
  maxBodyBytes?: number;
  /** Events per batched request; more → 413 too_many_events. Default DEFAULT_MAX_BATCH_EVENTS. */
  maxBatchEvents?: number;
  /** Model rows in `/api/v1/stats` before the rest are summed into `(other)`. */
  statsTopModels?: number;
  /** Delete exchanges older than this (ms); undefined keeps everything. */
  retentionMs?: number;
  /** UI folder; default src/collector/ui/ in the package. */
  uiDir?: string;
  /** The UI's trace link: an http(s) URL template with `{traceId}` (`--trace-url`), served in /healthz. */
  traceUrl?: string;
  /** Node process metrics on /metrics (off in tests that start several collectors). */
  processMetrics?: boolean;
  log?: OpLogger;
}

export interface Collector {
  /** `http://host:port` it listens on. */
  readonly url: string;
  readonly port: number;
  readonly app: FastifyInstance;
  readonly metrics: CollectorMetrics;
  readonly retention: Retention | undefined;
  /** Idempotent; finishes in-flight commits before closing the store. */
  close(): Promise<void>;
}

export async function startCollector(options: CollectorOptions): Promise<Collector> {
  const log = options.log ?? createOpLogger('collect');
  const { store } = options;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  await store.start();
  const metrics = createCollectorMetrics(options.processMetrics ?? false);
  const queue: CommitQueue = createCommitQueue(store, metrics);
  const app = Fastify({
    bodyLimit: maxBodyBytes,
    http: { maxHeaderSize: MAX_HEADER_BYTES },
    logger: false,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });

  registerSecurityHeaders(app);

  // Every body is kept as raw bytes: binary payloads must be stored byte-exact, and
  // decoding is the decoder's job (it picks binary/structured/batch from the headers).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxBodyBytes }, (_req, body, done) =>
    done(null, body),
  );

  app.setErrorHandler((err: FastifyError, _req, reply) => {
    if (err.statusCode === 413 || err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      metrics.rejected.inc({ reason: 'too_large' });
      return sendError(
        reply,
        413,
        'PAYLOAD_TOO_LARGE',
        `body is over the collector's limit of ${maxBodyBytes} bytes (--max-body-bytes)`,
        { reason: 'too_large', maxBytes: maxBodyBytes },
      );
    }
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      metrics.rejected.inc({ reason: 'bad_request' });
      return sendError(reply, err.statusCode, 'EVENT_INVALID', err.message);
    }
    log.error('request failed', { error: err.message });
    return sendError(
      reply,
      503,
      'STORE_UNAVAILABLE',
      'the collector could not complete the request; retry later',
    );
  });
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, 404, 'NOT_FOUND', `no route ${req.method} ${req.url.split('?', 1)[0]}`),
  );

  registerReceive(app, queue, metrics, log, options.maxBatchEvents ?? DEFAULT_MAX_BATCH_EVENTS);
  registerQuery(app, store, options.statsTopModels ?? DEFAULT_STATS_TOP_MODELS);
  const traceLink = traceLinkHealth(options.traceUrl);
  app.get('/healthz', async () => ({ status: 'ok', store: store.name, ...traceLink }));
  app.get('/metrics', async (_req, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
  const ui = registerUi(app, options.uiDir);

  let retention: Retention | undefined;
  try {
    await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? DEFAULT_COLLECTOR_PORT });
    if (options.retentionMs !== undefined) {
      retention = startRetention(store, options.retentionMs, log);
      await retention.runOnce();
    }
  } catch (err) {
    await app.close().catch(() => undefined);
    await store.shutdown().catch(() => undefined);
    throw err;
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : (options.port ?? DEFAULT_COLLECTOR_PORT);
  const host = options.host ?? '127.0.0.1';
  const urlHost = host.includes(':') ? `[${host}]` : host;
  log.debug('collector routes ready', { ui });

  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    app,
    metrics,
    get retention() {
      return retention;
    },
    close() {
      closing ??= (async () => {
        retention?.stop();
        await app.close();
        await queue.drain();
        await store.shutdown();
      })();
      return closing;
    },
  };
}
