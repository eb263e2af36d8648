/**
 * The collector process: receive CloudEvents, store them, serve the query API and UI.
 *
 *   KServe agent / inferlog ──POST /──▶ receive ──▶ commit queue ──▶ store
 *   CLI / UI ──GET /api/v1/…──▶ query ──▶ store (confined to the principal; body reads audited)
 *   admin ──DELETE /api/v1/exchanges…──▶ erase ──▶ store.erase (audited)
 *   Prometheus ──GET /metrics──▶ metrics        retention timer ──▶ store.deleteOlderThan
 *
 * Every request passes, in order: connection cap ──▶ TLS (optional) ──▶ failed-auth limit per
 * address ──▶ auth (auth/hook.ts) ──▶ rate limit ──▶ body limits ──▶ route. An optional second listener (`ingest`) serves only
 * receive, with the same hooks and the same commit queue, store and metrics.
 *
 * Shutdown order: stop accepting, let in-flight requests finish their commits, drain
 * the commit queue, close the store, close the audit log.
 */
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import type { OpLogger } from '../core/log.js';
import type { Authenticator } from './auth/hook.js';
import type { OidcClientConfig } from './auth/oidc.js';
import { registerAuthConfig } from './auth/oidc.js';
import { forbidden, registerAuth } from './auth/hook.js';
import { isRestricted } from './auth/principal.js';
import type { AuditLog } from './audit.js';
import { openAuditLog } from './audit.js';
import { INSTANCE_SKIP_REASONS } from '../formats/instances.js';
import { registerErase } from './erase.js';
import { OPEN_INGEST } from './auth/principal.js';
import type { RateLimit } from './auth/rate-limit.js';
import { createRateLimiter, registerFailedAuthLimit, registerRateLimit } from './auth/rate-limit.js';
import type { ServerTls } from './auth/tls.js';
import type { Server as TlsServer } from 'node:tls';
import { createOpLogger } from '../core/log.js';
import { answerClientError, lingerAfterAnswer } from '../core/lingering-close.js';
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
/** A request head must be in within this (nginx's client_header_timeout is 60 s; heads are small). */
export const DEFAULT_HEADERS_TIMEOUT_MS = 20_000;
/**
 * Requests per second that may fail authentication from one address when --rate-limit is not set;
 * an honest client fails a few times (a revoked token, an expired sign-in), never dozens a second.
 */
export const DEFAULT_FAILED_AUTH_PER_SECOND = 50;
/** Open connections per listener; each costs a socket and buffers, so a flood cannot take them all. */
export const DEFAULT_MAX_CONNECTIONS = 1024;

/**
 * A body that stops arriving for `ms` gets 408 and its connection closed, so a stalled sender
 * holds nothing for long. The socket timeout covers only the body: it is armed only for a request
 * that has one, and cleared once the body is parsed (preHandler), so neither our own commit nor a
 * slow query (a GET has no body, and its 'end' comes only after the answer) counts as the
 * sender's pause.
 */
/**
 * An answer sent before the request's body was read (413 over --max-body-bytes, 401 before an
 * upload) closes the connection (the unread body must not be parsed as a next request), but
 * lingers first, discarding what the sender still writes: closing at once resets the connection
 * and the sender sees a reset instead of the status (core/lingering-close.ts).
 */
function registerEarlyAnswerClose(app: FastifyInstance): void {
  app.addHook('onSend', (req, reply, payload, done) => {
    const raw = req.raw;
    const length = raw.headers['content-length'];
    const hasBody = length !== undefined ? length !== '0' : raw.headers['transfer-encoding'] !== undefined;
    if (hasBody && !raw.complete) {
      reply.header('connection', 'close');
      lingerAfterAnswer(raw);
    }
    done(null, payload);
  });
}

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
   * How the UI and `inferlog login` sign in with SSO, served publicly at `GET /api/v1/auth/config`
   * (auth/oidc.ts). Undefined: that route answers 404 (no SSO).
   */
  authConfig?: OidcClientConfig;
  /**
   * URLs the web UI must reach besides the collector: their origins join the CSP's connect-src
   * (header and the page's meta policy), as authConfig's issuer does. None by default.
   */
  uiConnectOrigins?: readonly string[];
  /**
   * The audit log (collector/audit.ts): a file (created 0600, appended to) or `-` for stdout.
   * Every body read, listing with previews and erasure writes one JSON line; a read whose line
   * cannot be written is answered 503. Undefined: no audit (the CLI always sets one when
   * authentication is configured).
   */
  auditLog?: string;
  /**
   * One row per prediction for every exchange stored (`--log-instances`), split from its stored
   * (already redacted) bodies in the transaction that completes it (formats/instances.ts).
   */
  logInstances?: boolean;
  /** TLS on every listener, rotated on change (auth/tls.ts); undefined = plain http. Closed with the collector. */
  tls?: ServerTls;
  /**
   * A second listener that serves only ingest (`POST /`, and /healthz): KServe's own agent cannot
   * send credentials, so ingest can be left `open` there while the main port keeps the read API
   * private. Not open: it needs ingest credentials (token, client certificate) like the main port.
   */
  ingest?: { host?: string; port: number; open: boolean };
  /** /metrics needs no credentials (`--metrics-public`); by default it needs the read scope. */
  metricsPublic?: boolean;
  /** Open connections per listener; more are closed as they arrive. Default DEFAULT_MAX_CONNECTIONS. */
  maxConnections?: number;
  /** A request head not complete after this long gets 408 (slowloris); default 20 s. */
  headersTimeoutMs?: number;
  /**
   * Requests per second per principal (auth/rate-limit.ts); more get 429 with Retry-After. Requests
   * failing authentication are limited per address at this rate, or DEFAULT_FAILED_AUTH_PER_SECOND.
   */
  rateLimit?: RateLimit;
  /**
   * This collector is one worker of several (`inferlog collect --workers N`, cli/collect-workers.ts):
   * /metrics serves every worker's counters summed, and /healthz answers 200 only when every worker
   * listens. Both are asked of the cluster's primary over its private IPC channel.
   */
  cluster?: CollectorCluster;
  log?: OpLogger;
}

/** What a worker of `collect --workers N` learns from its primary (see CollectorOptions.cluster). */
export interface CollectorCluster {
  /** Every worker's metrics summed, in Prometheus text format. */
  metrics(): Promise<string>;
  health(): Promise<{ ok: boolean; configured: number; listening: number }>;
}

export interface Collector {
  /** `http(s)://host:port` it listens on. */
  readonly url: string;
  readonly port: number;
  /** The ingest listener's URL and port, when there is one. */
  readonly ingestUrl?: string;
  readonly ingestPort?: number;
  readonly app: FastifyInstance;
  readonly metrics: CollectorMetrics;
  readonly retention: Retention | undefined;
  /** Where audit lines go, when audited. */
  readonly auditLog: string | undefined;
  /** Idempotent; finishes in-flight commits before closing the store. */
  close(): Promise<void>;
}

/** A listener's URL. */
function listenerUrl(app: FastifyInstance, host: string, secure: boolean): { url: string; port: number } {
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return { url: `${secure ? 'https' : 'http'}://${urlHost}:${port}`, port };
}

/**
 * The open ingest listener's authenticator: credentials, when sent, still count (a team-a token
 * stays limited to team-a); without any, the sender is the listener itself, allowed to ingest only.
 */
function openIngest(inner: Authenticator | undefined): Authenticator {
  return {
    async authenticate(req) {
      return (await inner?.authenticate(req)) ?? OPEN_INGEST;
    },
  };
}

export async function startCollector(options: CollectorOptions): Promise<Collector> {
  const log = options.log ?? createOpLogger('collect');
  const { store } = options;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  await store.start();
  const metrics = createCollectorMetrics(options.processMetrics ?? false);
  let audit: AuditLog | undefined;
  if (options.auditLog !== undefined) {
    try {
      audit = await openAuditLog(options.auditLog, metrics, log);
    } catch (err) {
      await store.shutdown().catch(() => undefined);
      throw err;
    }
  }
  if (options.logInstances === true) {
    // Exported from the start (as 0), so alerts can use rate() without absent().
    metrics.instanceRows.inc(0);
    for (const reason of INSTANCE_SKIP_REASONS) metrics.instancesSkipped.inc({ reason }, 0);
  }
  const queue: CommitQueue = createCommitQueue(store, metrics);
  const bodyTimeoutMs = options.requestBodyTimeoutMs ?? DEFAULT_REQUEST_BODY_TIMEOUT_MS;
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const headersTimeoutMs = Math.min(options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS, requestTimeoutMs);
  const limiter = options.rateLimit ? createRateLimiter(options.rateLimit) : undefined;
  // Failed authentication is limited per address even without --rate-limit: each forged JWT
  // costs a signature check, so an unlimited loop of them is a CPU lever (secure by default).
  const failedAuthLimiter =
    options.authenticator === undefined
      ? undefined
      : (limiter ?? createRateLimiter({ perSecond: DEFAULT_FAILED_AUTH_PER_SECOND }));
  const traceLink = traceLinkHealth(options.traceUrl);
  const errorHandler = collectorErrorHandler({
    metrics,
    log,
    maxBodyBytes,
    maxBodyBytesName: options.settingNames?.maxBodyBytes ?? 'maxBodyBytes',
  });

  /**
   * One fastify instance per listener, with the same limits, hooks and error shape; the commit
   * queue, store and metrics are shared. `ingest` serves only POST (and /healthz): the read API
   * is never reachable on the ingest port.
   */
  // The UI's sign-in fetches the OpenID provider's discovery and token endpoint: its origin, and
  // only it, joins connect-src.
  const connectOrigins = connectOriginsOf([
    ...(options.uiConnectOrigins ?? []),
    ...(options.authConfig ? [options.authConfig.issuer] : []),
  ]);
  const createApp = (role: 'main' | 'ingest', authenticator: Authenticator | undefined): FastifyInstance => {
    const http = {
      maxHeaderSize: MAX_HEADER_BYTES,
      // Node reads requestTimeout when the server is made (fastify's later assignment does not
      // arm the check), and checks it and headersTimeout every connectionsCheckingInterval
      // (default 30 s, too coarse for a short headers timeout).
      requestTimeout: requestTimeoutMs,
      // A head trickled a byte at a time (slowloris) is cut off with 408 after this.
      headersTimeout: headersTimeoutMs,
      connectionsCheckingInterval: Math.min(30_000, Math.max(100, headersTimeoutMs / 10)),
    };
    const app = Fastify({
      bodyLimit: maxBodyBytes,
      // Fastify's default is no limit: a sender trickling one byte every few seconds held a
      // connection (and its buffers) forever. Node answers 408 when the whole request is late.
      requestTimeout: requestTimeoutMs,
      // A TLS handshake that does not finish is a slow client too: same bound as a head (node: 120 s).
      ...(options.tls
        ? { https: { ...options.tls.options(), ...http, handshakeTimeout: headersTimeoutMs } }
        : { http }),
      logger: false,
      return503OnClosing: true,
      forceCloseConnections: 'idle',
      // A head over MAX_HEADER_BYTES or unparsable: answered in the API's error shape, then lingering.
      clientErrorHandler: (err, socket) =>
        answerClientError(err, socket, (status) =>
          status.startsWith('408')
            ? undefined
            : {
                error: {
                  code: status.startsWith('431') ? 'PAYLOAD_TOO_LARGE' : 'EVENT_INVALID',
                  message: status.startsWith('431')
                    ? `request head is over the collector's limit of ${MAX_HEADER_BYTES} bytes`
                    : `the request cannot be parsed as HTTP/1.1 (${err.code ?? err.message})`,
                  reason: status.startsWith('431') ? 'headers_too_large' : 'bad_request',
                },
              },
        ),
    });
    // Connections over the cap are closed as they arrive, before any byte is read.
    app.server.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    if (options.tls) options.tls.attach(app.server as unknown as TlsServer);

    registerSecurityHeaders(app, connectOrigins);
    registerEarlyAnswerClose(app);
    if (failedAuthLimiter) registerFailedAuthLimit(app, failedAuthLimiter);
    registerAuth(app, authenticator);
    if (limiter) registerRateLimit(app, limiter);
    if (bodyTimeoutMs > 0) registerBodyTimeout(app, bodyTimeoutMs);

    // Every body is kept as raw bytes: binary payloads must be stored byte-exact, and
    // decoding is the decoder's job (it picks binary/structured/batch from the headers).
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxBodyBytes }, (_req, body, done) =>
      done(null, body),
    );
    app.setErrorHandler(errorHandler);
    app.setNotFoundHandler((req) => {
      throw notFound(`no route ${req.method} ${req.url.split('?', 1)[0]}`);
    });

    registerReceive(
      app,
      queue,
      metrics,
      log,
      {
        maxEvents: options.maxBatchEvents ?? DEFAULT_MAX_BATCH_EVENTS,
        name: options.settingNames?.maxBatchEvents ?? 'maxBatchEvents',
      },
      options.logInstances ?? false,
    );
    const cluster = options.cluster;
    app.get('/healthz', { config: { public: true } }, async (_req, reply) => {
      if (!cluster) return { status: 'ok', store: store.name, ...traceLink };
      // A scrape that lands on this worker speaks for all: a load balancer must not send traffic
      // while a worker restarts (its share of connections would be refused).
      const h = await cluster.health().catch(() => ({ ok: false, configured: 0, listening: 0 }));
      return reply.code(h.ok ? 200 : 503).send({
        status: h.ok ? 'ok' : 'degraded',
        store: store.name,
        workers: { configured: h.configured, listening: h.listening },
        ...traceLink,
      });
    });
    if (role === 'ingest') return app;
    registerAuthConfig(app, options.authConfig);
    registerQuery(app, store, options.statsTopModels ?? DEFAULT_STATS_TOP_MODELS, audit);
    registerErase(app, store, audit, log);
    app.get(
      '/metrics',
      { config: options.metricsPublic === true ? { public: true } : { scope: 'read' } },
      async (req, reply) => {
        // The counters are collector-wide (every namespace's events): a reader limited to some
        // namespaces or models would learn the others' volumes from them.
        if (options.metricsPublic !== true && isRestricted(req.principal))
          throw forbidden(
            `"${req.principal.id}" is limited to some namespaces or models; /metrics covers all of them`,
          );
        // Under --workers N, every worker's counters summed (this one's included), not this one's share.
        const text = cluster ? await cluster.metrics() : await metrics.registry.metrics();
        return reply.type(metrics.registry.contentType).send(text);
      },
    );
    log.debug('collector routes ready', {
      ui: registerUi(app, options.uiDir, contentSecurityPolicy(connectOrigins).meta),
    });
    return app;
  };

  const app = createApp('main', options.authenticator);
  const ingestApp = options.ingest
    ? createApp('ingest', options.ingest.open ? openIngest(options.authenticator) : options.authenticator)
    : undefined;
  const host = options.host ?? '127.0.0.1';
  const ingestHost = options.ingest?.host ?? host;

  let retention: Retention | undefined;
  try {
    await app.listen({ host, port: options.port ?? DEFAULT_COLLECTOR_PORT });
    if (ingestApp) await ingestApp.listen({ host: ingestHost, port: options.ingest!.port });
    if (options.retentionMs !== undefined) {
      retention = startRetention(store, options.retentionMs, log);
      await retention.runOnce();
    }
  } catch (err) {
    await app.close().catch(() => undefined);
    await ingestApp?.close().catch(() => undefined);
    await store.shutdown().catch(() => undefined);
    await audit?.close().catch(() => undefined);
    throw err;
  }
  const secure = options.tls !== undefined;
  const main = listenerUrl(app, host, secure);
  const ingest = ingestApp ? listenerUrl(ingestApp, ingestHost, secure) : undefined;

  let closing: Promise<void> | undefined;
  return {
    url: main.url,
    port: main.port,
    ...(ingest ? { ingestUrl: ingest.url, ingestPort: ingest.port } : {}),
    app,
    metrics,
    auditLog: audit?.target,
    get retention() {
      return retention;
    },
    close() {
      closing ??= (async () => {
        retention?.stop();
        await Promise.all([app.close(), ingestApp?.close()]);
        await queue.drain();
        await store.shutdown();
        await audit?.close();
        await options.authenticator?.close?.();
        options.tls?.close();
      })();
      return closing;
    },
  };
}
