/**
 * Assembles the logging side of `inferlog up` and `inferlog agent` from frozen settings:
 *
 *   Recorder (capture) ──submit──▶ Pipeline [sampler → redactor → buffer/spool] ──▶ Sink
 *
 * and the admin routes both commands serve: GET /metrics (Prometheus) and GET /healthz.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExchangeSource } from '../core/exchange.js';
import type { OpLogger } from '../core/log.js';
import { sentInClear } from '../core/bearer-token.js';
import type { LoggerSettings } from '../config/settings.js';
import { Recorder } from '../capture/recorder.js';
import { createPipeline } from '../pipeline/pipeline.js';
import { createPipelineMetrics, type PipelineMetrics } from '../pipeline/metrics.js';
import { createSampler } from '../pipeline/sampling.js';
import { createRedactor } from '../pipeline/redaction/index.js';
import type { Pipeline } from '../pipeline/types.js';
import { createSinkFor } from '../sinks/registry.js';
import { INSTANCE_SKIP_REASONS } from '../formats/instances.js';
import type { StoreCredentials } from '../transport/object-store/object-store.js';
import { startSpans, type SpanRuntime } from './tracing.js';

export interface LoggingRuntime {
  recorder: Recorder;
  pipeline: Pipeline;
  metrics: PipelineMetrics;
  /** Describes the destination for the ready line, e.g. `stdout (mode request)`. */
  describe(): string;
  /** Drains and closes. Idempotent. */
  shutdown(): Promise<void>;
}

export interface LoggingExtras {
  /** Blob store credentials from `--storage-config` (resolveStoreCredentials); else the environment's. */
  storeCredentials?: StoreCredentials;
}

export async function startLogging(
  settings: LoggerSettings,
  source: ExchangeSource,
  log: OpLogger,
  metrics: PipelineMetrics = createPipelineMetrics(),
  extras: LoggingExtras = {},
): Promise<LoggingRuntime> {
  // A blob URL without logger.storage still writes (json, no path): credentials need a store too.
  const store =
    extras.storeCredentials !== undefined
      ? { ...(settings.store ?? { path: '', format: 'json' as const }), credentials: extras.storeCredentials }
      : settings.store;
  if (settings.tokenFile !== undefined && settings.url !== undefined && sentInClear(settings.url))
    log.warn(
      `sending a bearer token over plain http to ${new URL(settings.url).host}: anyone on the path can read and reuse it; use https://`,
    );
  const sink = createSinkFor(settings.url, {
    batchSize: settings.batchSize,
    batchIntervalMs: settings.batchIntervalMs,
    timeoutMs: settings.delivery.timeoutMs,
    tls: settings.tls,
    ...(store ? { store } : {}),
    logInstances: settings.logInstances === true,
    instances: { written: (n) => metrics.instanceRows(n), skipped: (r) => metrics.instanceSkipped(r) },
    ...(settings.blob ? { blob: settings.blob } : {}),
    ...(settings.tokenFile !== undefined ? { tokenFile: settings.tokenFile } : {}),
  });
  if (settings.logInstances === true) {
    // Exported from the start (as 0), so alerts can use rate() without absent().
    metrics.instanceRows(0);
    for (const reason of INSTANCE_SKIP_REASONS) metrics.instanceSkipped(reason, 0);
  }
  const stages = [
    createSampler(settings.sampling, { sampledOut: () => metrics.sampledOut() }),
    createRedactor(settings.redaction),
  ];
  const pipeline = createPipeline({ sink, stages, settings, log, metrics });
  await pipeline.start();
  const tracing: SpanRuntime | undefined = settings.spans ? startSpans(source) : undefined;
  const recorder = new Recorder({
    source,
    mode: settings.mode,
    maxCaptureBytes: settings.maxCaptureBytes,
    trustInboundId: settings.trustInboundId,
    metadataHeaders: settings.metadataHeaders,
    forceHeaders: settings.redaction.forceHeaders,
    queryPolicy: {
      marker: settings.redaction.marker,
      redactQueryParams: settings.redaction.redactQueryParams ?? [],
      captureQueryParams: settings.redaction.captureQueryParams ?? [],
    },
    submitter: pipeline,
    ...(tracing ? { spans: tracing.spans } : {}),
  });
  let closing: Promise<void> | undefined;
  return {
    recorder,
    pipeline,
    metrics,
    describe() {
      const extras: string[] = [`mode ${settings.mode}`];
      if (settings.sampling.rate < 1) extras.push(`sample-rate ${settings.sampling.rate}`);
      if (!pipeline.persistent) extras.push('buffer in memory only');
      else if (settings.spool.dir) extras.push(`spool ${settings.spool.dir}`);
      if (settings.batchSize > 1) extras.push(`batch ${settings.batchSize}`);
      if (settings.spans) extras.push('spans');
      if (settings.logInstances === true) extras.push('instances');
      return `${sink.name} (${extras.join(', ')})`;
    },
    shutdown(): Promise<void> {
      if (closing === undefined)
        closing = Promise.all([
          pipeline.shutdown({ drainTimeoutMs: settings.delivery.drainTimeoutMs }),
          tracing?.shutdown(),
        ]).then(() => undefined);
      return closing;
    },
  };
}

/** Sends Prometheus text, or a 500 with the reason when it could not be gathered. */
export function answerMetrics(res: ServerResponse, metricsText: () => Promise<string>): void {
  void metricsText().then(
    (text) => {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(text);
    },
    (err: Error) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(err.message);
    },
  );
}

/** Answers GET /metrics and GET /healthz; returns false for any other request. */
export function adminRoutes(
  runtimes: () => readonly LoggingRuntime[],
  metricsText: () => Promise<string>,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    if (req.method !== 'GET') return false;
    const url = req.url ?? '';
    if (url === '/metrics') {
      answerMetrics(res, metricsText);
      return true;
    }
    if (url === '/healthz') {
      const sinks = runtimes().map((r) => r.pipeline.health());
      const ok = sinks.every((h) => h.ok);
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok, sinks }));
      return true;
    }
    return false;
  };
}

/**
 * Runs `stop` on the first SIGINT/SIGTERM; a second signal exits at once (code 130).
 * Exit code 0 after a clean stop. Returns a trigger that starts the same stop for another
 * reason (an agent process told by its primary): idempotent, and never counted as a second
 * signal, so a terminal's Ctrl-C reaching both primary and worker still drains.
 */
export function onShutdownSignal(
  log: OpLogger,
  stop: () => Promise<void>,
  draining = 'draining the log buffer',
): (why: string) => void {
  let stopping = false;
  const begin = (why: string): void => {
    if (stopping) return;
    stopping = true;
    log.info(`${why}: stopping — no new requests, ${draining}`);
    stop().then(
      () => {
        log.info('stopped cleanly');
        process.exit(0);
      },
      (err: Error) => {
        log.error(`shutdown failed: ${err.message}`);
        process.exit(70);
      },
    );
  };
  const handler = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn(`second ${signal}: exiting without draining`);
      process.exit(130);
    }
    begin(`${signal} received`);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return begin;
}
