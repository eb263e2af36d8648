/**
 * `inferlog up -f isvc.yaml`: serve the InferenceService's model locally, with its
 * logger on — no Kubernetes, no external service.
 *
 *   client ──▶ :8080 ──in-process capture──▶ built-in model server (V1, V2, OpenAI)
 *                          └──▶ pipeline ──▶ logger.url (stdout by default)
 *
 * Capture happens inside the model server's process (no proxy hop); what it logs is
 * exactly what `inferlog agent` would log in front of the same server.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import path from 'node:path';
import type { Command } from 'commander';
import { observeAll, V1Batcher, type BatchObserver } from '../../capture/batcher/batcher.js';
import { batchLogger } from '../../capture/batcher/log-batches.js';
import { batchInProcess } from '../../capture/batcher/in-process.js';
import { createBatcherMetrics } from '../../capture/batcher/metrics.js';
import { captureInProcess, type BodyHandler } from '../../capture/in-process.js';
import { loadInferenceServices, type ServiceConfig } from '../../config/inferenceservice.js';
import { createOpLogger } from '../../core/log.js';
import { createModelServer } from '../../model-server/index.js';
import { createPipelineMetrics } from '../../pipeline/metrics.js';
import { adminRoutes, onShutdownSignal, startLogging, type LoggingRuntime } from '../logging-runtime.js';
import { redactionCheck, servableCheck } from '../service-checks.js';
import { addRequestLimitFlags, requestLimitsFrom, type RequestLimits } from '../request-limits.js';
import { exitWithConfigError, listen } from '../util.js';
import { parseBytes } from '../../core/units.js';

/** The model a request is for, from the V1/V2 path (`/v1/models/NAME:predict`, `/v2/models/NAME/infer`). */
export function modelNameOf(url: string): string | undefined {
  const m = /^\/v[12]\/models\/([^/:?]+)/.exec(url);
  return m ? decodeURIComponent(m[1] as string) : undefined;
}

function pickAnnotations(svc: ServiceConfig, keys: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of keys) {
    const v = svc.annotations[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

export function register(program: Command): void {
  const cmd = program
    .command('up')
    .description('Serve an InferenceService YAML locally with request logging (no Kubernetes needed)')
    .requiredOption('-f, --file <file>', 'InferenceService YAML (the file you would kubectl apply)')
    .option('--port <port>', 'port to listen on (default: $PORT or 8080)')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--max-body-bytes <size>', 'largest request body the model server accepts (413 above)', '16MiB');
  addRequestLimitFlags(cmd, false);
  cmd.action(
    async (opts: {
      file: string;
      port?: string;
      host: string;
      maxBodyBytes: string;
      [flag: string]: unknown;
    }) => {
      const log = createOpLogger('up');
      let services: ServiceConfig[];
      let limits: RequestLimits;
      try {
        limits = requestLimitsFrom(opts, 'inferlog up');
        services = loadInferenceServices(opts.file, [redactionCheck, servableCheck]);
      } catch (e) {
        exitWithConfigError(e);
      }
      const port = Number(opts.port ?? process.env.PORT ?? 8080);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        process.stderr.write(
          `inferlog up: --port must be a port number (0-65535), not "${opts.port ?? process.env.PORT}"\n`,
        );
        process.exit(2);
      }
      for (const svc of services) {
        for (const other of svc.others) {
          log.warn(`${svc.name}: the ${other.component} is not served locally (only the predictor is)`);
        }
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
          maxBodyBytes: parseBytes(opts.maxBodyBytes),
          log,
        });
      } catch (e) {
        process.stderr.write(`inferlog up: ${(e as Error).message}\n`);
        process.exit(1);
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
          ),
        );
      }
      const fallback = runtimes.get(services[0]?.name ?? '');
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
      const handlerOf = (name: string | undefined): BodyHandler =>
        (name === undefined ? undefined : handlers.get(name)) ?? handle;
      const limit = modelServer.maxBodyBytes;
      const bodyTimeout = limits.requestBodyTimeoutMs;
      // One capture wrapper per service: a request is logged with the settings of the model it is for.
      const captured = new Map<string, ReturnType<typeof captureInProcess>>();
      for (const svc of services) {
        // A service without a logger of its own is logged under the first service's, as before.
        const rt = runtimes.get(svc.name) ?? fallback;
        captured.set(svc.name, captureInProcess(rt?.recorder, handlerOf(svc.name), limit, bodyTimeout));
      }
      // Requests for other paths and unknown models: the first service's logger and batcher (as its agent would).
      const first = services[0]?.name;
      const capturedFallback = captureInProcess(fallback?.recorder, handlerOf(first), limit, bodyTimeout);
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
          const name = modelNameOf(req.url ?? '/');
          // Requests for unknown models are logged too (with their 404), under the first service.
          const route = (name === undefined ? undefined : captured.get(name)) ?? capturedFallback;
          route(req, res);
        },
      );
      let bound: number;
      try {
        bound = await listen(server, port, opts.host);
      } catch (e) {
        process.stderr.write(`inferlog up: ${(e as Error).message}\n`);
        process.exit(69);
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
