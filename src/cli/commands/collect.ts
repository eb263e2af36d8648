/**
 * `inferlog collect`: run the collector (receive CloudEvents, store, serve the query API).
 *
 *   flags ──validate──▶ store URL + options ──▶ startCollector ──▶ one ready line on stderr
 *     └─ auth: --auth-file (tokens, certificate identities) + --tls-client-ca ──▶ chainAuthenticators
 *        secure default: a non-loopback listener with no authentication does not start (exit 2)
 *   SIGTERM / SIGINT ──▶ close (in-flight commits finish) ──▶ "stopped cleanly" ──▶ exit 0
 *   --workers N > 1: this process checks the flags, migrates the store and forks N workers that
 *   each run the collector on the same ports (cli/collect-workers.ts, cli/cluster.ts).
 */
import type { Command } from 'commander';
import { createOpLogger } from '../../core/log.js';
import { DEFAULT_MAX_BATCH_EVENTS } from '../../collector/batch-limits.js';
import {
  DEFAULT_COLLECTOR_PORT,
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_CONNECTIONS,
  startCollector,
} from '../../collector/server.js';
import { chainAuthenticators } from '../../collector/auth/chain.js';
import type { Authenticator } from '../../collector/auth/hook.js';
import type { RateLimit } from '../../collector/auth/rate-limit.js';
import { parseRateLimit } from '../../collector/auth/rate-limit.js';
import type { ServerTls } from '../../collector/auth/tls.js';
import { certificateAuthenticator, loadServerTls } from '../../collector/auth/tls.js';
import type { AuthFileSource } from '../../collector/auth/token-file.js';
import { tokenAuthenticator, watchAuthFile } from '../../collector/auth/token-file.js';
import type { OpLogger } from '../../core/log.js';
import { exitWithConfigError } from '../util.js';
import { runPrimary, serveWorker, type WorkerHandle } from '../cluster.js';
import { COLLECTOR_WORKERS, collectorWorkerIndex, collectorWorkers } from '../collect-workers.js';
import { DEFAULT_STATS_TOP_MODELS } from '../../store/stats.js';
import { DEFAULT_STORE_URL, openStore } from '../../store/open-store.js';
import type { KafkaSource } from '../../sources/kafka/source.js';
import { parseKafkaSourceUrl } from '../../sources/kafka/config.js';
import { traceUrlProblem } from '../../collector/trace-link.js';
import { countInstances } from '../../collector/metrics.js';
import { formatBytes, formatDuration } from '../../core/terminal.js';
import { parseBytes, parseDuration } from '../../core/units.js';
import { InferlogError, isInferlogError } from '../../core/errors.js';
import { fail } from '../exit-codes.js';
import { addRequestLimitFlags, requestLimitsFrom, type RequestLimits } from '../request-limits.js';
import type { OidcClientConfig, OidcGroupGrant } from '../../collector/auth/oidc.js';
import {
  DEFAULT_OIDC_CLAIM,
  createOidcAuthenticator,
  oidcClientConfig,
  oidcUrlProblem,
  liveOidcGroups,
  parseGroupGrant,
} from '../../collector/auth/oidc.js';

interface CollectFlags {
  port: string;
  host: string;
  authFile?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsClientCa?: string;
  insecureNoAuth?: boolean;
  metricsPublic?: boolean;
  ingestPort?: string;
  ingestHost?: string;
  ingestOpen?: boolean;
  maxConnections: string;
  headersTimeout: string;
  rateLimit?: string;
  store: string;
  retention?: string;
  maxBodyBytes: string;
  maxBatchEvents: string;
  statsTopModels: string;
  from?: string;
  traceUrl?: string;
  oidcIssuer?: string;
  oidcAudience?: string;
  oidcClaim: string;
  oidcUsernameClaim: string;
  oidcGroup: string[];
  auditLog?: string;
  logInstances?: boolean;
  workers?: string;
}

/**
 * Where audit lines go: `--audit-log` (a file, or `-` for stdout); with authentication
 * configured and no flag, a file beside the SQLite database (`inferlog.db.audit.log`), or
 * `./inferlog-audit.log` with PostgreSQL; without authentication and no flag, none (the
 * loopback quick start has one anonymous user). The ready line says which.
 */
export function auditLogFor(
  flag: string | undefined,
  authConfigured: boolean,
  storeUrl: string,
): string | undefined {
  if (flag !== undefined) return flag;
  if (!authConfigured) return undefined;
  if (storeUrl.startsWith('sqlite:')) {
    const path = (storeUrl.slice('sqlite:'.length).split('?', 1)[0] ?? '').replace(/^\/\/(?=\/)/, '');
    if (path !== '' && path !== ':memory:') return `${path}.audit.log`;
  }
  return './inferlog-audit.log';
}

/** 127.0.0.0/8, ::1 and `localhost`: only this machine can connect. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(h);
}

function usage(message: string): never {
  fail('collect', new InferlogError('USAGE_INVALID', message));
}

/**
 * Why the collector did not start, as a catalogued error: a taken port or a database file that
 * cannot be opened is input to fix (exit 1); a database we cannot reach is a peer being
 * unavailable (69).
 */
function startFailure(err: unknown, flags: CollectFlags): InferlogError {
  if (isInferlogError(err)) return err;
  const e = err as NodeJS.ErrnoException & { port?: number };
  const message = `cannot start: ${e.message}`;
  // Which listener failed: the ingest one when its port is the one named.
  const ingest =
    flags.ingestPort !== undefined && e.port !== undefined && String(e.port) === flags.ingestPort;
  if (e.code === 'EADDRINUSE' || e.code === 'EACCES')
    return new InferlogError(
      'LISTEN_FAILED',
      e.code === 'EADDRINUSE'
        ? ingest
          ? `port ${flags.ingestPort} on ${flags.ingestHost ?? flags.host} is already in use: stop the other process or pick another with --ingest-port`
          : `port ${flags.port} on ${flags.host} is already in use: stop the other process or pick another with --port`
        : message,
      { cause: err },
    );
  if (e.code === 'SQLITE_CANTOPEN') return new InferlogError('CONFIG_INVALID', message, { cause: err });
  return new InferlogError('STORE_UNAVAILABLE', message, { cause: err });
}

/**
 * The OIDC authenticator the --oidc-* flags describe, or undefined without --oidc-issuer. The
 * issuer is not contacted here: a provider that is down at start-up is logged, not fatal.
 */
function oidcFrom(
  flags: CollectFlags,
  log: OpLogger,
  authFile: AuthFileSource | undefined,
): { authenticator: Authenticator; config: OidcClientConfig } | undefined {
  if (flags.oidcIssuer === undefined) {
    const stray =
      flags.oidcAudience !== undefined
        ? '--oidc-audience'
        : flags.oidcGroup.length > 0
          ? '--oidc-group'
          : undefined;
    if (stray !== undefined) usage(`${stray} needs --oidc-issuer`);
    return undefined;
  }
  const problem = oidcUrlProblem(flags.oidcIssuer);
  if (problem !== undefined) usage(`--oidc-issuer ${problem}`);
  if (flags.oidcAudience === undefined)
    usage('--oidc-issuer needs --oidc-audience: the aud its tokens carry for this collector (its client id)');
  if (flags.oidcGroup.length === 0 && authFile?.current().oidc === undefined)
    usage(
      "--oidc-issuer needs at least one --oidc-group, e.g. --oidc-group 'ml-readers=read:team-a', or an oidc.groups section in --auth-file",
    );
  const groups = new Map<string, OidcGroupGrant>();
  for (const text of flags.oidcGroup) {
    const eq = text.indexOf('=');
    if (eq < 1)
      usage(`--oidc-group "${text}": use GROUP=SCOPES[:NAMESPACES[:MODELS]], e.g. ml-readers=read:team-a`);
    const group = text.slice(0, eq);
    if (groups.has(group)) usage(`--oidc-group: group "${group}" is given twice`);
    try {
      groups.set(group, parseGroupGrant(text.slice(eq + 1)));
    } catch (err) {
      usage(`--oidc-group "${text}": ${(err as Error).message.replace(/^"[^"]*": /, '')}`);
    }
  }
  const settings = {
    issuer: flags.oidcIssuer,
    audience: flags.oidcAudience,
    claim: flags.oidcClaim,
    usernameClaim: flags.oidcUsernameClaim,
    // The auth file's oidc.groups (reloaded with it) wins over the flags, group by group.
    groups: authFile ? liveOidcGroups(groups, () => authFile.current().oidc, log) : groups,
  };
  return { authenticator: createOidcAuthenticator(settings, log), config: oidcClientConfig(settings) };
}

interface AuthSetup {
  authenticator?: Authenticator;
  tls?: ServerTls;
  /** For the ready line: what authenticates requests. */
  describe: string;
  close(): void;
}

/**
 * Checks the auth and TLS flags together, refuses an open non-loopback listener, and builds the
 * authenticator chain (client certificate, then API token, then `oidc`'s, which gets the auth file
 * in force so it can read its live `oidc:` section) and the TLS listener options. Exits on a bad
 * flag (2) or file (1).
 */
function setUpAuth(
  flags: CollectFlags,
  log: OpLogger,
  oidc?: (authFile: AuthFileSource | undefined) => Authenticator | undefined,
): AuthSetup {
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined))
    usage('--tls-cert and --tls-key go together: give both (the certificate chain and its private key)');
  if (flags.tlsClientCa !== undefined && flags.tlsCert === undefined)
    usage(
      '--tls-client-ca needs --tls-cert and --tls-key: client certificates are checked in the TLS handshake',
    );
  if (flags.tlsClientCa !== undefined && flags.authFile === undefined)
    usage(
      '--tls-client-ca needs --auth-file with a certificates: list that maps each client identity to scopes, e.g. ' +
        '`certificates: [{subject: "CN=agent-team-a", scopes: [ingest], namespaces: [team-a]}]`',
    );
  const authenticated =
    flags.authFile !== undefined || flags.tlsClientCa !== undefined || flags.oidcIssuer !== undefined;
  const exposed = [
    flags.host,
    ...(flags.ingestPort !== undefined && !flags.ingestOpen ? [flags.ingestHost ?? flags.host] : []),
  ].filter((h) => !isLoopback(h));
  if (!authenticated && flags.insecureNoAuth !== true && exposed.length > 0)
    usage(
      `--host ${exposed[0]} can be reached from other machines, and no authentication is configured: ` +
        'anyone who can connect could read every captured request and response. Secure it with ' +
        '--auth-file FILE (API tokens: inferlog token create --auth-file FILE --name NAME --scope read), ' +
        '--tls-client-ca FILE (client certificates) or --oidc-issuer URL (single sign-on), with --tls-cert and ' +
        '--tls-key for TLS; or pass --insecure-no-auth to run it open on purpose',
    );
  if (authenticated && flags.tlsCert === undefined && !isLoopback(flags.host))
    log.warn(
      'credentials will travel in clear text: serve TLS with --tls-cert and --tls-key (unless a proxy or mesh terminates TLS in front of the collector)',
    );

  let source: AuthFileSource | undefined;
  let tls: ServerTls | undefined;
  try {
    if (flags.authFile !== undefined) source = watchAuthFile(flags.authFile, log);
    if (flags.tlsCert !== undefined && flags.tlsKey !== undefined)
      tls = loadServerTls(
        {
          certFile: flags.tlsCert,
          keyFile: flags.tlsKey,
          ...(flags.tlsClientCa !== undefined ? { clientCaFile: flags.tlsClientCa } : {}),
        },
        log,
      );
  } catch (err) {
    source?.close();
    if (isInferlogError(err, 'CONFIG_INVALID')) exitWithConfigError(err);
    fail('collect', err);
  }
  const chain: Authenticator[] = [];
  const kinds: string[] = [];
  if (source && flags.tlsClientCa !== undefined) {
    chain.push(certificateAuthenticator(source));
    kinds.push('client-certificates');
  }
  if (source) {
    chain.push(tokenAuthenticator(source));
    kinds.push('tokens');
  }
  // The OIDC authenticator (auth/oidc.ts) takes JWT-shaped bearer tokens, which the token
  // authenticator leaves alone; it joins the chain last.
  const jwt = oidc?.(source);
  if (jwt) {
    chain.push(jwt);
    kinds.push('oidc');
  }
  return {
    ...(chain.length > 0 ? { authenticator: chainAuthenticators(chain) } : {}),
    ...(tls ? { tls } : {}),
    describe: kinds.length > 0 ? kinds.join('+') : 'none',
    close() {
      source?.close();
      tls?.close();
    },
  };
}

export function register(program: Command): void {
  const command = program
    .command('collect')
    .description(
      'Receive KServe/inferlog CloudEvents, store them, and serve the query API (point logger.url here).',
    )
    .option('--port <port>', 'port to listen on', String(DEFAULT_COLLECTOR_PORT))
    .option('--host <host>', 'address to listen on (0.0.0.0 for all)', '127.0.0.1')
    .option('--store <url>', 'sqlite:<file> or postgres://user:pw@host:5432/db', DEFAULT_STORE_URL)
    .option('--retention <duration>', 'delete exchanges older than this, e.g. 7d (default: keep all)')
    .option(
      '--max-body-bytes <size>',
      'largest request accepted (413 above)',
      formatBytes(DEFAULT_MAX_BODY_BYTES),
    )
    .option(
      '--max-batch-events <n>',
      'most events in one batched request (413 above)',
      String(DEFAULT_MAX_BATCH_EVENTS),
    )
    .option(
      '--stats-top-models <n>',
      'model rows in /api/v1/stats; the rest are summed into one "(other)" row',
      String(DEFAULT_STATS_TOP_MODELS),
    )
    .option(
      '--from <url>',
      'also consume CloudEvents from Kafka: kafka://broker:9092/topic?group=inferlog-collector (docs/kafka.md)',
    )
    .option(
      '--audit-log <file>',
      'append one JSON line per body read and erasure to this file (0600), or - for stdout; with auth on, default <db>.audit.log',
    )
    .option(
      '--trace-url <template>',
      "link each exchange to its trace in the UI: an http(s) URL with {traceId}, e.g. 'https://grafana.example/explore?…{traceId}'",
    )
    .option(
      '--workers <n|auto>',
      'collector processes sharing the ports, each with its own store connection; auto = one per core',
      '1',
    )
    .option(
      '--log-instances',
      'also store one row per prediction (input, prediction, index) of every exchange: GET /api/v1/instances',
    );
  command
    .option(
      '--oidc-issuer <url>',
      'accept OIDC bearer tokens (JWT) from this issuer, checked against its published keys (https; http only on loopback)',
    )
    .option(
      '--oidc-audience <aud>',
      'the audience (aud) tokens must carry: the public client id the UI and `inferlog login` sign in with',
    )
    .option(
      '--oidc-claim <claim>',
      'the token claim whose values --oidc-group maps (a dotted path reaches nested claims)',
      DEFAULT_OIDC_CLAIM,
    )
    .option(
      '--oidc-username-claim <claim>',
      'the claim that names the user in audit lines: sub, or email (must be verified)',
      'sub',
    )
    .option(
      '--oidc-group <group=grant>',
      "what members of a group may do: GROUP=SCOPES[:NAMESPACES[:MODELS]], e.g. 'ml-readers=read:team-a' or 'ml-admins=admin' (repeatable)",
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    );
  command
    .option(
      '--auth-file <file>',
      'API tokens (stored as hashes), client-certificate identities and the OIDC mapping, YAML or JSON; reloaded on change (inferlog token create)',
    )
    .option('--tls-cert <file>', 'serve HTTPS (TLS 1.2+) with this PEM certificate chain; reloaded on change')
    .option('--tls-key <file>', 'the PEM private key of --tls-cert; reloaded on change')
    .option(
      '--tls-client-ca <file>',
      'accept client certificates signed by this CA (mTLS); --auth-file certificates: maps them to scopes',
    )
    .option(
      '--insecure-no-auth',
      'allow a non-loopback --host with no authentication: anyone who can reach it reads every exchange',
    )
    .option('--metrics-public', '/metrics needs no credentials (by default it needs the read scope)')
    .option(
      '--ingest-port <port>',
      'a second listener for ingest only (POST /); the read API is never served on it',
    )
    .option('--ingest-host <host>', 'address of the ingest listener (default: --host)')
    .option(
      '--ingest-open',
      "the ingest listener accepts events without credentials (KServe's agent cannot send any)",
    )
    .option(
      '--max-connections <n>',
      'open connections per listener; more are closed at once',
      String(DEFAULT_MAX_CONNECTIONS),
    )
    .option(
      '--headers-timeout <duration>',
      'answer 408 when a request head has not arrived after this long (slowloris)',
      formatDuration(DEFAULT_HEADERS_TIMEOUT_MS),
    )
    .option(
      '--rate-limit <rate>',
      'requests per principal, e.g. 50/s or 600/m; more get 429 with Retry-After (default: no limit)',
    );
  addRequestLimitFlags(command, false);
  command.action(async (flags: CollectFlags) => {
    // Under --workers N this is worker `index` (each checks the flags again: cheap, and the same).
    const index = collectorWorkerIndex();
    const log = createOpLogger(index === undefined ? 'collect' : `collect[${index}]`);
    let limits: RequestLimits;
    let workers = 1;
    try {
      workers = collectorWorkers(flags.workers);
      limits = requestLimitsFrom(flags as unknown as Record<string, unknown>, 'inferlog collect');
    } catch (e) {
      fail('collect', e);
    }
    const port = Number(flags.port);
    if (!/^\d+$/.test(flags.port) || port > 65535)
      usage(`--port "${flags.port}": use a number from 0 to 65535`);
    let maxBodyBytes = 0;
    try {
      maxBodyBytes = parseBytes(flags.maxBodyBytes);
    } catch {
      // The message below says what a valid size looks like.
    }
    if (maxBodyBytes < 1)
      usage(`--max-body-bytes "${flags.maxBodyBytes}": use a positive size, e.g. 16MiB or 1048576`);
    const maxBatchEvents = Number(flags.maxBatchEvents);
    if (!/^\d+$/.test(flags.maxBatchEvents) || maxBatchEvents < 1)
      usage(`--max-batch-events "${flags.maxBatchEvents}": use a positive number of events`);
    const statsTopModels = Number(flags.statsTopModels);
    if (!/^\d+$/.test(flags.statsTopModels) || statsTopModels < 1)
      usage(`--stats-top-models "${flags.statsTopModels}": use a positive number of models`);
    let retentionMs: number | undefined;
    if (flags.retention !== undefined) {
      try {
        retentionMs = parseDuration(flags.retention);
      } catch (err) {
        usage(`--retention: ${(err as Error).message}`);
      }
      if (retentionMs <= 0) usage('--retention must be more than 0');
    }
    if (flags.traceUrl !== undefined) {
      const problem = traceUrlProblem(flags.traceUrl);
      if (problem !== undefined) usage(`--trace-url: ${problem}`);
    }
    let fromUrl: URL | undefined;
    if (flags.from !== undefined) {
      try {
        fromUrl = new URL(flags.from);
        parseKafkaSourceUrl(fromUrl);
      } catch (err) {
        usage(`--from ${isInferlogError(err) ? err.message : `"${flags.from}" is not a kafka:// URL`}`);
      }
    }
    const maxConnections = Number(flags.maxConnections);
    if (!/^\d+$/.test(flags.maxConnections) || maxConnections < 1)
      usage(`--max-connections "${flags.maxConnections}": use a positive number of connections`);
    let headersTimeoutMs = 0;
    try {
      headersTimeoutMs = parseDuration(flags.headersTimeout);
    } catch {
      // The message below says what a valid duration looks like.
    }
    if (!(headersTimeoutMs > 0))
      usage(`--headers-timeout "${flags.headersTimeout}": use a duration above zero, e.g. 20s`);
    let rateLimit: RateLimit | undefined;
    if (flags.rateLimit !== undefined) {
      try {
        rateLimit = parseRateLimit(flags.rateLimit);
      } catch (err) {
        usage(`--rate-limit ${(err as Error).message}`);
      }
    }
    let ingest: { host?: string; port: number; open: boolean } | undefined;
    if (flags.ingestPort !== undefined) {
      const ingestPort = Number(flags.ingestPort);
      if (!/^\d+$/.test(flags.ingestPort) || ingestPort > 65535)
        usage(`--ingest-port "${flags.ingestPort}": use a number from 0 to 65535`);
      if (ingestPort !== 0 && ingestPort === port && (flags.ingestHost ?? flags.host) === flags.host)
        usage(`--ingest-port ${ingestPort} is also --port: the ingest listener needs a port of its own`);
      ingest = { port: ingestPort, open: flags.ingestOpen === true, host: flags.ingestHost ?? flags.host };
    } else if (flags.ingestOpen || flags.ingestHost !== undefined) {
      usage(
        `${flags.ingestOpen ? '--ingest-open' : '--ingest-host'} needs --ingest-port: ingest is opened only on its own listener`,
      );
    }
    const sso: { oidc?: { authenticator: Authenticator; config: OidcClientConfig } } = {};
    const auth = setUpAuth(flags, log, (authFile) => {
      const oidc = oidcFrom(flags, log, authFile);
      if (oidc) sso.oidc = oidc;
      return oidc?.authenticator;
    });
    const oidc = sso.oidc;
    let store;
    try {
      store = openStore(flags.store);
    } catch (err) {
      usage(`--store ${(err as Error).message}`);
    }
    if (flags.auditLog === '') usage('--audit-log: give a file, or - for stdout');
    const auditLog = auditLogFor(flags.auditLog, auth.authenticator !== undefined, flags.store);
    // A file is shared safely (each worker appends whole lines with O_APPEND); one pipe is not.
    if (workers > 1 && auditLog === '-')
      usage(
        "--audit-log - (stdout) cannot be shared by several --workers: lines longer than the pipe's atomic write size (4 KiB) from two processes could interleave; give a file (each worker appends whole lines) or --workers 1",
      );
    if (workers > 1 && index === undefined) {
      // The primary: migrations run here, once, before any worker opens the store.
      try {
        await store.start();
        await store.shutdown();
      } catch (err) {
        fail('collect', startFailure(err, flags));
      } finally {
        auth.close();
        await auth.authenticator?.close?.();
      }
      await runPrimary({
        kind: COLLECTOR_WORKERS,
        count: workers,
        host: flags.host,
        log,
        readyLine: (_port, describe) => {
          const d = JSON.parse(describe) as { url: string; fields: Record<string, unknown> };
          return { message: `ready on ${d.url}`, fields: { ...d.fields, workers } };
        },
      });
      return;
    }
    // Under --workers N: this worker's line to the primary (set once the collector is up).
    let worker: WorkerHandle | undefined;
    const toPrimary = (): WorkerHandle => {
      // Not catalogued: a request can reach /metrics only after the worker listens, which is after `worker` is set.
      if (!worker) throw new Error('this worker is still starting');
      return worker;
    };
    // Jobs that must run once per collector run in worker 0: retention, the Kafka consumer.
    const once = index === undefined || index === 0;
    let collector: Awaited<ReturnType<typeof startCollector>> | undefined;
    try {
      collector = await startCollector({
        auditLog,
        store,
        host: flags.host,
        port,
        maxBodyBytes,
        maxBatchEvents,
        statsTopModels,
        requestBodyTimeoutMs: limits.requestBodyTimeoutMs,
        requestTimeoutMs: limits.requestTimeoutMs,
        retentionMs: once ? retentionMs : undefined,
        traceUrl: flags.traceUrl,
        authConfig: oidc?.config,
        logInstances: flags.logInstances === true,
        processMetrics: true,
        authenticator: auth.authenticator,
        tls: auth.tls,
        ingest,
        metricsPublic: flags.metricsPublic === true,
        maxConnections,
        headersTimeoutMs,
        rateLimit,
        settingNames: { maxBodyBytes: '--max-body-bytes', maxBatchEvents: '--max-batch-events' },
        ...(index !== undefined
          ? {
              cluster: {
                metrics: async () => toPrimary().askPrimary('metrics'),
                health: async () => toPrimary().askPrimary('health'),
              },
            }
          : {}),
        log,
      });
    } catch (err) {
      auth.close();
      fail('collect', startFailure(err, flags));
    }
    let source: KafkaSource | undefined;
    if (fromUrl && once) {
      const s = store;
      const c = collector;
      try {
        // kafkajs loads only when --from is given.
        const { startKafkaSource } = await import('../../sources/kafka/source.js');
        source = await startKafkaSource(
          fromUrl,
          async (halves) => {
            if (flags.logInstances === true) for (const h of halves) h.instances = true;
            const result = await s.putEvents(halves);
            countInstances(c.metrics, result);
            return result;
          },
          log,
        );
      } catch (err) {
        await collector.close().catch(() => {});
        fail(
          'collect',
          new InferlogError(
            'SOURCE_UNAVAILABLE',
            `cannot consume ${fromUrl.href}: ${(err as Error).message}`,
            {
              cause: err,
            },
          ),
        );
      }
    }
    const started = collector;
    const readyFields = {
      ...(collector.ingestUrl ? { ingest: collector.ingestUrl } : {}),
      ...(ingest?.open ? { ingestAuth: 'open' } : {}),
      auth: auth.describe,
      ...(source ? { from: source.name } : {}),
      store: store.name,
      ...(flags.retention ? { retention: flags.retention } : {}),
      ...(collector.auditLog !== undefined
        ? { audit: collector.auditLog === '-' ? 'stdout' : collector.auditLog }
        : {}),
    };
    let stopped = false;
    const stop = (signal: string): void => {
      // Once: a worker hears SIGINT from the terminal and the primary's `shutdown` message too.
      if (stopped) return;
      stopped = true;
      log.info(`${signal}: finishing in-flight commits`);
      // Leave the consumer group first: its partitions move to the other collectors.
      (source?.shutdown() ?? Promise.resolve())
        .then(() => started.close())
        .then(() => auth.close())
        .then(
          () => {
            log.info('stopped cleanly');
            process.exit(0);
          },
          (err: unknown) => {
            log.error('shutdown failed', { error: err instanceof Error ? err.message : String(err) });
            process.exit(70);
          },
        );
    };
    if (index !== undefined) {
      const s = store;
      worker = serveWorker({
        registry: collector.metrics.registry,
        // The store answers (a PostgreSQL pool can lose its server): /healthz needs every worker's.
        health: async () => ({
          ok: await s.getExchange('inferlog-healthz').then(
            () => true,
            () => false,
          ),
        }),
        shutdown: stop,
      });
      worker.ready(collector.port, JSON.stringify({ url: collector.url, fields: readyFields }));
    } else log.info(`ready on ${collector.url}`, readyFields);
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
