/**
 * `inferlog up -f isvc.yaml`: serve the InferenceService's model locally, with its
 * logger on — no Kubernetes, no external service.
 *
 *   client ──▶ :8080 ──in-process capture──▶ built-in model server (V1, V2, OpenAI)
 *                          └──▶ pipeline ──▶ logger.url (stdout by default)
 *
 * Capture happens inside the model server's process (no proxy hop); what it logs is
 * exactly what `inferlog agent` would log in front of the same server.
 *
 * With several InferenceServices in the file, each exchange is logged by (and under) the one
 * it targeted: the path's model for V1/V2, the body's `model` for OpenAI routes. An exchange
 * that targets no served model (a typo, a server-level route when several are served) is
 * logged through the first logger as UNMATCHED_MODEL, a name no InferenceService can have.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import type { Command } from 'commander';
import { observeAll, V1Batcher, type BatchObserver } from '../../capture/batcher/batcher.js';
import { batchLogger } from '../../capture/batcher/log-batches.js';
import { batchInProcess } from '../../capture/batcher/in-process.js';
import { createBatcherMetrics } from '../../capture/batcher/metrics.js';
import { captureInProcess, type BodyHandler, type RecorderRouting } from '../../capture/in-process.js';
import { Recorder } from '../../capture/recorder.js';
import { requestObserver, type ServedAt } from '../../capture/request-observer.js';
import { UNMATCHED_MODEL } from '../../core/exchange.js';
import { loadInferenceServices, type ServiceConfig } from '../../config/inferenceservice.js';
import { createOpLogger } from '../../core/log.js';
import { answerClientError } from '../../core/lingering-close.js';
import { createModelServer, modelInBody, modelInBodyRoute } from '../../model-server/index.js';
import { modelInPath } from '../../core/model-in-path.js';
import { createPipelineMetrics } from '../../pipeline/metrics.js';
import { adminRoutes, onShutdownSignal, startLogging, type LoggingRuntime } from '../logging-runtime.js';
import { memoryOnlyWarning, planBuffer, stateHome, upSpoolName } from '../default-spool.js';
import { SERVE_CHECKS } from '../service-checks.js';
import { addRequestLimitFlags, requestLimitsFrom, type RequestLimits } from '../request-limits.js';
import { exitWithConfigError, listen } from '../util.js';
import { parseBytes } from '../../core/units.js';
import { InferlogError, isInferlogError } from '../../core/errors.js';
import { fail } from '../exit-codes.js';
import { storageConfigReader } from '../storage-config.js';
import type { StoreCredentials } from '../../transport/object-store/object-store.js';

function pickAnnotations(svc: ServiceConfig, keys: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of keys) {
    const v = svc.annotations[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/**
 * Which recorder logs a request: the targeted service's (none when that service has no
 * logger); UNMATCHED_MODEL's when no served model is targeted. With one service, requests
 * that name no model (health, lists) are that service's, as on its KServe host.
 */
export function attribution(
  services: readonly ServiceConfig[],
  runtimes: ReadonlyMap<string, LoggingRuntime>,
  /** Filled with the model a body-routed request was attributed to, for the per-model metrics. */
  bodyModels?: WeakMap<IncomingMessage, string>,
): RecorderRouting {
  const served = new Set(services.map((s) => s.name));
  const first = [...runtimes.values()][0]?.recorder;
  const unmatched =
    first &&
    new Recorder({
      ...first.options,
      // Annotations belong to an InferenceService; an unmatched exchange has none.
      source: { ...first.options.source, inferenceService: UNMATCHED_MODEL, annotations: {} },
    });
  const only = services.length === 1 ? runtimes.get(services[0]?.name ?? '')?.recorder : unmatched;
  const byName = (name: string | undefined): Recorder | undefined => {
    if (name === undefined) return only;
    return served.has(name) ? runtimes.get(name)?.recorder : unmatched;
  };
  return {
    atStart: (req) => {
      const url = req.url ?? '/';
      return modelInBodyRoute(url) ? 'body' : byName(modelInPath(url));
    },
    withBody: (req, body) => {
      const name = body === undefined ? undefined : modelInBody(body);
      // The metrics label follows the log: a served name, the only service, or UNMATCHED_MODEL.
      const label = name === undefined ? (services.length === 1 ? services[0]?.name : undefined) : name;
      bodyModels?.set(req, label !== undefined && served.has(label) ? label : UNMATCHED_MODEL);
      return byName(name);
    },
  };
}

export function register(program: Command): void {
  const cmd = program
    .command('up')
    .description('Serve an InferenceService YAML locally with request logging (no Kubernetes needed)')
    .requiredOption('-f, --file <file>', 'InferenceService YAML (the file you would kubectl apply)')
    .option('--port <port>', 'port to listen on (default: $PORT or 8080)')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--max-body-bytes <size>', 'largest request body the model server accepts (413 above)', '16MiB')
    .option(
      '--storage-config <path>',
      'KServe storage-config Secret (manifest, key→entry map or mounted directory): blob logger credentials, entry logger.storage.key',
    );
  addRequestLimitFlags(cmd, false);
  cmd.action(
    async (opts: {
      file: string;
      port?: string;
      host: string;
      maxBodyBytes: string;
      storageConfig?: string;
      [flag: string]: unknown;
    }) => {
      const log = createOpLogger('up');
      let services: ServiceConfig[];
      let limits: RequestLimits;
      const storeCredentials = new Map<string, StoreCredentials>();
      try {
        limits = requestLimitsFrom(opts, 'inferlog up');
        services = loadInferenceServices(opts.file, SERVE_CHECKS);
        const storageConfig = storageConfigReader(opts.storageConfig, 'logger.storage.key');
        for (const svc of services) {
          const logger = svc.predictor.logger;
          const credentials = storageConfig.credentialsFor(logger?.url, logger?.store?.key, svc.name);
          if (credentials) storeCredentials.set(svc.name, credentials);
        }
        if (opts.storageConfig !== undefined && storeCredentials.size === 0)
          log.warn(
            `--storage-config ${opts.storageConfig} is not used: no logger writes to s3://, gs:// or abfs://`,
          );
      } catch (e) {
        if (isInferlogError(e, 'USAGE_INVALID')) fail('up', e);
        exitWithConfigError(e);
      }
      const port = Number(opts.port ?? process.env.PORT ?? 8080);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        const given = opts.port ?? process.env.PORT;
        fail(
          'up',
          new InferlogError('USAGE_INVALID', `--port must be a port number (0-65535), not "${given}"`),
        );
      }
      for (const svc of services) {
        for (const other of svc.others) {
          log.warn(`${svc.name}: the ${other.component} is not served locally (only the predictor is)`);
        }
      }

      let maxBodyBytes: number;
      try {
        maxBodyBytes = parseBytes(opts.maxBodyBytes);
      } catch (e) {
        fail(
          'up',
          new InferlogError('USAGE_INVALID', `--max-body-bytes ${(e as Error).message}`, { cause: e }),
        );
      }
      let modelServer: Awaited<ReturnType<typeof createModelServer>>;
      try {
        modelServer = await createModelServer({
          models: services.map((svc) => ({
            name: svc.name,
            modelFormat: svc.predictor.model?.modelFormat ?? '',
            storageUri: svc.predictor.model?.storageUri ?? '',
            baseDir: svc.baseDir,
          })),
          maxBodyBytes,
          log,
        });
      } catch (e) {
        fail('up', e);
      }

      const metrics = createPipelineMetrics();
      const runtimes = new Map<string, LoggingRuntime>();
      for (const svc of services) {
        let settings = svc.predictor.logger;
        if (!settings) continue;
        // One spool per service: a spool directory belongs to one pipeline.
        if (settings.spool.dir && services.length > 1) {
          settings = {
            ...settings,
            spool: { ...settings.spool, dir: path.join(settings.spool.dir, `${svc.namespace}-${svc.name}`) },
          };
        }
        // Zero loss by default: without spool-dir, a spool per service under the state directory.
        const plan = planBuffer(settings, upSpoolName(port, svc.namespace, svc.name), stateHome());
        const warning = memoryOnlyWarning(plan);
        if (warning) log.warn(`${svc.name}: ${warning}`);
        settings = plan.settings;
        runtimes.set(
          svc.name,
          await startLogging(
            settings,
            {
              inferenceService: svc.name,
              namespace: svc.namespace,
              component: 'predictor',
              endpoint: '',
              sourceUri: `http://localhost:${port}/`,
              annotations: pickAnnotations(svc, settings.metadataAnnotations),
            },
            log,
            metrics,
            { storeCredentials: storeCredentials.get(svc.name) },
          ),
        );
      }
      const handle = (req: IncomingMessage, res: ServerResponse, body: Buffer | undefined): void =>
        body === undefined ? modelServer.rejectTooLarge(req, res) : modelServer.handle(req, res, body);
      // spec.predictor.batcher: KServe's request batcher between capture and the model, as in its agent.
      const batchers: V1Batcher[] = [];
      let batchObserver: BatchObserver | undefined;
      const handlers = new Map<string, BodyHandler>();
      for (const svc of services) {
        const options = svc.predictor.batcher;
        if (!options) continue;
        batchObserver ??= createBatcherMetrics(metrics.registry);
        const rt = runtimes.get(svc.name);
        // inferlog.dev/batch-v2 (validated with the other annotations when the file was read).
        const v2 = svc.annotations['inferlog.dev/batch-v2'] === 'true';
        const batcher = new V1Batcher(
          { ...options, v2 },
          (urlPath, body, headers) => modelServer.invoke('POST', urlPath, body, headers),
          observeAll(
            batchObserver,
            rt && svc.predictor.logger?.logBatches === true ? batchLogger(rt.recorder) : undefined,
          ),
        );
        batchers.push(batcher);
        handlers.set(svc.name, batchInProcess(batcher, handle));
      }
      // A batched service's requests go through its batcher (which passes through what it cannot
      // merge); the path names the model, as the batcher only merges path-routed protocols. A path
      // for no served model goes where KServe's agent in front of the first service sends it:
      // through that service's batcher, which answers the model's 404 in a batch answer.
      const servedNames = new Set(services.map((s) => s.name));
      const fallbackHandler = handlers.get(services[0]?.name ?? '') ?? handle;
      // Without a batcher (the usual case) nothing is looked up per request.
      const handler: BodyHandler =
        handlers.size === 0
          ? handle
          : (req, res, body) => {
              const name = modelInPath(req.url ?? '/');
              const chosen =
                name !== undefined && servedNames.has(name)
                  ? (handlers.get(name) ?? handle)
                  : fallbackHandler;
              chosen(req, res, body);
            };
      // OpenAI routes name their model in the body: the metrics take the model the log was filed under.
      const bodyModels = new WeakMap<IncomingMessage, string>();
      const capture = captureInProcess(
        attribution(services, runtimes, bodyModels),
        handler,
        modelServer.maxBodyBytes,
        limits.requestBodyTimeoutMs,
      );
      // Per-model request metrics: the model label is a configured service name or (unmatched),
      // and unmatched requests count under the service that answers them (the first).
      const served = new Map<string, ServedAt>(
        services.map((svc) => [
          svc.name,
          { inferenceService: svc.name, namespace: svc.namespace, component: 'predictor' },
        ]),
      );
      const first = services[0];
      const observe = requestObserver(
        metrics.requests,
        served,
        {
          inferenceService: first?.name ?? '',
          namespace: first?.namespace ?? '',
          component: 'predictor',
        },
        first?.name,
        (req) => bodyModels.get(req),
      );
      const admin = adminRoutes(
        () => [...runtimes.values()],
        () => metrics.metricsText(),
      );

      const server = http.createServer(
        {
          keepAliveTimeout: 65_000,
          requestTimeout: limits.requestTimeoutMs,
          headersTimeout: Math.min(60_000, limits.requestTimeoutMs),
          connectionsCheckingInterval: Math.min(30_000, Math.max(100, limits.requestTimeoutMs / 10)),
        },
        (req, res) => {
          if (admin(req, res)) return;
          observe(req, res);
          capture(req, res);
        },
      );
      // Node's own answer to a head over its limit (431) resets a client still writing its body.
      server.on('clientError', (err: Error & { code?: string }, socket: Duplex) =>
        answerClientError(err, socket),
      );
      let bound: number;
      try {
        bound = await listen(server, port, opts.host);
      } catch (e) {
        fail('up', e);
      }
      const names = services.map((s) => s.name).join(', ');
      const logging =
        [...runtimes.values()].map((r) => r.describe()).join('; ') || 'off (no logger in the YAML)';
      log.info(`ready — serving ${names} on http://${opts.host}:${bound} (logging: ${logging})`);
      onShutdownSignal(log, async () => {
        for (const b of batchers) b.flush();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
        await Promise.all([...runtimes.values()].map((r) => r.shutdown()));
        await modelServer.close();
      });
    },
  );
}
