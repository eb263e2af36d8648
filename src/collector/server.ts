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
import type { FastifyInstance } from 'fastify';
import type { OpLogger } from '../core/log.js';
import type { Authenticator } from './auth/hook.js';
import { registerAuth } from './auth/hook.js';
import { createOpLogger } from '../core/log.js';
import { DEFAULT_MAX_BATCH_EVENTS } from './batch-limits.js';
import { createCommitQueue } from './commit-queue.js';
import type { CommitQueue } from './commit-queue.js';
import { collectorErrorHandler, notFound } from './http-errors.js';
import { createCollectorMetrics } from './metrics.js';
import type { CollectorMetrics } from './metrics.js';
import { registerQuery } from './query.js';
import { registerReceive } from './receive.js';
import type { Retention } from './retention.js';
import { startRetention } from './retention.js';
import { DEFAULT_STATS_TOP_MODELS } from '../store/stats.js';
import { connectOriginsOf, contentSecurityPolicy, registerSecurityHeaders } from './security-headers.js';
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
export const DEFAULT_REQUEST_BODY_TIMEOUT_MS = 60_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 300_000;

/**
 * A body that stops arriving for `ms` gets 408 and its connection closed, so a stalled sender
 * holds nothing for long. The socket timeout covers only the body: it is armed only for a request
 * that has one, and cleared once the body is parsed (preHandler), so neither our own commit nor a
 * slow query (a GET has no body, and its 'end' comes only after the answer) counts as the
 * sender's pause.
 */
function registerBodyTimeout(app: FastifyInstance, ms: number): void {
  app.addHook('onRequest', (req, _reply, done) => {
    const raw = req.raw;
    const length = raw.headers['content-length'];
    const hasBody = length !== undefined ? length !== '0' : raw.headers['transfer-encoding'] !== undefined;
    if (hasBody && !raw.complete) {
      raw.setTimeout(ms, () => {
        const socket = raw.socket;
        // No answer has started (the body is not in); close after the 408 so the rest of the
        // body on the wire is never read as a request.
        if (socket.writable)
          socket.end('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        socket.destroySoon();
      });
      raw.once('end', () => raw.socket?.setTimeout(0));
    }
    done();
  });
  app.addHook('preHandler', (req, _reply, done) => {
    req.raw.socket?.setTimeout(0);
    done();
  });
}

export interface CollectorOptions {
  /** A store not yet started; the collector starts and shuts it down. */
  store: ExchangeStore;
  host?: string;
  /** 0 = any free port. */
  port?: number;
  maxBodyBytes?: number;
  /** Events per batched request; more → 413 too_many_events. Default DEFAULT_MAX_BATCH_EVENTS. */
  maxBatchEvents?: number;
  /**
   * A request whose body stops arriving for this long is cut off with 408 (nginx's
   * client_body_timeout); default 60 s. 0 = none.
   */
  requestBodyTimeoutMs?: number;
  /** A request not wholly received after this long gets 408 (node's requestTimeout); default 300 s. */
  requestTimeoutMs?: number;
  /** Model rows in `/api/v1/stats` before the rest are summed into `(other)`. */
  statsTopModels?: number;
  /** Delete exchanges older than this (ms); undefined keeps everything. */
  retentionMs?: number;
  /** UI folder; default src/collector/ui/ in the package. */
  uiDir?: string;
  /**
   * What the operator calls each limit, for the 413 messages a sender logs: the CLI passes its
   * flag names (`--max-body-bytes`); by default the option names above.
   */
  settingNames?: { maxBodyBytes?: string; maxBatchEvents?: string };
  /** The UI's trace link: an http(s) URL template with `{traceId}` (`--trace-url`), served in /healthz. */
  traceUrl?: string;
  /** Node process metrics on /metrics (off in tests that start several collectors). */
  processMetrics?: boolean;
  /**
   * Who may do what (auth/hook.ts). Undefined: every request may do everything, which the CLI
   * allows only on loopback or with `--insecure-no-auth`.
   */
  authenticator?: Authenticator;
  /**
   * URLs the web UI must reach besides the collector: the OIDC issuer when SSO sign-in is on. Their
   * origins go into the CSP's connect-src (header and the page's meta policy); none by default.
   */
  uiConnectOrigins?: readonly string[];
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
  const bodyTimeoutMs = options.requestBodyTimeoutMs ?? DEFAULT_REQUEST_BODY_TIMEOUT_MS;
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const app = Fastify({
    bodyLimit: maxBodyBytes,
    // Fastify's default is no limit: a sender trickling one byte every few seconds held a
    // connection (and its buffers) forever. Node answers 408 when the whole request is late.
    requestTimeout: requestTimeoutMs,
    http: {
      maxHeaderSize: MAX_HEADER_BYTES,
      // Node reads requestTimeout when the server is made (fastify's later assignment does not
      // arm the check), and checks it every connectionsCheckingInterval (default 30 s).
      requestTimeout: requestTimeoutMs,
      connectionsCheckingInterval: Math.min(30_000, Math.max(100, requestTimeoutMs / 10)),
    },
    logger: false,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });

  const connectOrigins = connectOriginsOf(options.uiConnectOrigins ?? []);
  registerSecurityHeaders(app, connectOrigins);
  registerAuth(app, options.authenticator);
  if (bodyTimeoutMs > 0) registerBodyTimeout(app, bodyTimeoutMs);

  // Every body is kept as raw bytes: binary payloads must be stored byte-exact, and
  // decoding is the decoder's job (it picks binary/structured/batch from the headers).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxBodyBytes }, (_req, body, done) =>
    done(null, body),
  );

  app.setErrorHandler(
    collectorErrorHandler({
      metrics,
      log,
      maxBodyBytes,
      maxBodyBytesName: options.settingNames?.maxBodyBytes ?? 'maxBodyBytes',
    }),
  );
  app.setNotFoundHandler((req) => {
    throw notFound(`no route ${req.method} ${req.url.split('?', 1)[0]}`);
  });

  registerReceive(app, queue, metrics, log, {
    maxEvents: options.maxBatchEvents ?? DEFAULT_MAX_BATCH_EVENTS,
    name: options.settingNames?.maxBatchEvents ?? 'maxBatchEvents',
  });
  registerQuery(app, store, options.statsTopModels ?? DEFAULT_STATS_TOP_MODELS);
  const traceLink = traceLinkHealth(options.traceUrl);
  app.get('/healthz', { config: { public: true } }, async () => ({
    status: 'ok',
    store: store.name,
    ...traceLink,
  }));
  app.get('/metrics', { config: { scope: 'read' } }, async (_req, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
  const ui = registerUi(app, options.uiDir, contentSecurityPolicy(connectOrigins).meta);

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
        await options.authenticator?.close?.();
      })();
      return closing;
    },
  };
}
