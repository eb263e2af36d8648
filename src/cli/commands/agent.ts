/**
 * `inferlog agent`: the drop-in for KServe's agent sidecar. Same flag names as KServe's
 * `cmd/agent` (so the webhook's container args work unchanged), plus opt-in extensions.
 *
 *   :9081 (--port) ──capture proxy──▶ 127.0.0.1:8080 (--component-port)
 *                        └──▶ pipeline ──▶ --log-url (CloudEvents, Kafka, file, stdout)
 */
import { sinkUsesClientTls } from '../../sinks/schemes.js';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { BATCHER_DEFAULTS, observeAll, type BatcherOptions } from '../../capture/batcher/batcher.js';
import { batchLogger } from '../../capture/batcher/log-batches.js';
import { createBatcherMetrics } from '../../capture/batcher/metrics.js';
import { createCaptureProxy } from '../../capture/proxy.js';
import { requestObserver } from '../../capture/request-observer.js';
import { createPipelineMetrics } from '../../pipeline/metrics.js';
import { EXTENSION_OPTIONS } from '../../config/annotations.js';
import { configError, type ConfigProblem } from '../../config/config-error.js';
import {
  DEFAULT_MARSHALLER_PORT,
  isEmbeddedMarshaller,
  loggerSpecSchema,
  marshallerUrlProblem,
} from '../../config/logger-spec.js';
import { credentialProblems } from '../../config/credential-files.js';
import { loggerSettingsFrom } from '../../config/inferenceservice.js';
import {
  STORE_FORMATS,
  type LoggerSettings,
  type StoreFormat,
  type StoreSettings,
} from '../../config/settings.js';
import { DEFAULT_SOURCE_URI } from '../../formats/cloudevents-attributes.js';
import { createOpLogger } from '../../core/log.js';
import { adminRoutes, onShutdownSignal, startLogging, type LoggingRuntime } from '../logging-runtime.js';
import {
  agentSpoolName,
  memoryOnlyWarning,
  planBuffer,
  processSpoolName,
  processSpoolSettings,
  stateHome,
  strandedSpools,
} from '../default-spool.js';
import {
  processCount,
  processLogUrl,
  runPrimary,
  serveWorker,
  sharedLogUrlProblem,
  workerIndex,
} from '../agent-processes.js';
import { addRequestLimitFlags, requestLimitsFrom, type RequestLimits } from '../request-limits.js';
import { withDefault } from '../help.js';
import { exitWithConfigError, listen } from '../util.js';
import { storageConfigReader } from '../storage-config.js';
import type { StoreCredentials } from '../../transport/object-store/object-store.js';
import { InferlogError } from '../../core/errors.js';
import { parseDuration } from '../../core/units.js';
import { fail } from '../exit-codes.js';

export interface AgentFlags {
  port: string;
  componentPort: string;
  componentHost: string;
  logUrl?: string;
  logMode: string;
  sourceUri?: string;
  inferenceService: string;
  namespace: string;
  endpoint: string;
  component: string;
  metadataHeaders?: string;
  metadataAnnotations?: string;
  workers: string;
  processes?: string;
  logBatchSize?: string;
  logBatchInterval?: string;
  loggerCaCertFile?: string;
  loggerTlsSkipVerify?: boolean;
  logStorePath?: string;
  logStoreFormat: string;
  logMarshallerUrl: string;
  logMarshallerPort: string;
  storageConfig?: string;
  storageKey?: string;
  logStoreLayout?: string;
  host: string;
  adminPort?: string;
  upstreamTimeout?: string;
  enableBatcher?: boolean;
  maxBatchsize?: string;
  maxLatency?: string;
  [extension: string]: unknown;
}

/** Go pflag booleans: `--flag`, `--flag=true`, `--flag=false`. */
function parseBool(v: string | undefined): boolean {
  if (v === undefined || v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw new InferlogError('USAGE_INVALID', `expected true or false, not "${v}"`);
}

const flagName = (key: string): string => key.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

function splitList(v: string | undefined): string[] {
  return (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** `key=value,key2=value2` (how KServe's webhook passes resolved annotations) → map. */
export function parseAnnotationPairs(v: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of splitList(v)) {
    const eq = item.indexOf('=');
    if (eq > 0) out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

/** Agent flags → LoggerSettings, through the same validation as the YAML `logger` block. */
export function agentLoggerSettings(flags: AgentFlags): LoggerSettings {
  const problems: ConfigProblem[] = [];
  const flag = (path: string, message: string): void => {
    problems.push({ file: 'inferlog agent', line: 0, col: 0, path, message });
  };
  const batchSize = flags.logBatchSize === undefined ? undefined : Number(flags.logBatchSize);
  const spec = loggerSpecSchema.safeParse({
    url: flags.logUrl,
    mode: flags.logMode,
    metadataHeaders: splitList(flags.metadataHeaders),
    batchSize,
    batchInterval: flags.logBatchInterval,
  });
  const flagOf: Record<string, string> = {
    url: '--log-url',
    mode: '--log-mode',
    metadataHeaders: '--metadata-headers',
    batchSize: '--log-batch-size',
    batchInterval: '--log-batch-interval',
  };
  if (!spec.success) {
    for (const issue of spec.error.issues)
      flag(flagOf[String(issue.path[0])] ?? String(issue.path[0]), issue.message);
    throw configError(problems);
  }
  const annotations: Record<string, string> = {};
  const settings = loggerSettingsFrom(spec.data, annotations);
  const store = agentStoreSettings(flags, flag);
  if (store) settings.store = store;
  // `--log-store-layout` is the blob-store flags' spelling of `--blob-layout`.
  if (flags.logStoreLayout !== undefined && flags.blobLayout === undefined)
    flags.blobLayout = flags.logStoreLayout;
  for (const opt of EXTENSION_OPTIONS) {
    const raw = flags[flagName(opt.key)];
    if (typeof raw !== 'string') continue;
    try {
      opt.apply(settings, raw);
    } catch (e) {
      flag(`--${opt.key}`, (e as Error).message);
    }
  }
  if (flags.loggerCaCertFile) settings.tls.caCertFile = flags.loggerCaCertFile;
  settings.tls.skipVerify = flags.loggerTlsSkipVerify === true;
  // The agent runs where the Secrets are mounted: read its credential files now. KServe's webhook
  // passes --logger-ca-cert-file whatever the URL; a sink that dials no TLS never reads it.
  const tlsFiles = sinkUsesClientTls(flags.logUrl ?? '')
    ? settings.tls
    : { ...settings.tls, caCertFile: undefined };
  for (const problem of credentialProblems({ tokenFile: settings.tokenFile, ...tlsFiles })) {
    const name =
      problem.field === 'log-ca-cert' && flags.loggerCaCertFile ? 'logger-ca-cert-file' : problem.field;
    flag(`--${name}`, problem.message);
  }
  if (problems.length > 0) throw configError(problems);
  return settings;
}

/**
 * KServe's storage logger flags → store settings (only for a blob --log-url; KServe ignores them
 * for http). `--log-store-format` json|csv|parquet (KServe's default json); `--log-marshaller-url`
 * names a marshaller of the user's own unless it is KServe's embedded one on
 * `--log-marshaller-port` (http://localhost:9083/marshal), which inferlog runs in-process.
 */
export function agentStoreSettings(
  flags: AgentFlags,
  flag: (path: string, message: string) => void,
): StoreSettings | undefined {
  const format = (flags.logStoreFormat ?? 'json').toLowerCase();
  if (!(STORE_FORMATS as readonly string[]).includes(format))
    flag('--log-store-format', `"${flags.logStoreFormat}" must be one of ${STORE_FORMATS.join(', ')}`);
  const port = Number(flags.logMarshallerPort ?? DEFAULT_MARSHALLER_PORT);
  if (!/^\d+$/.test(String(flags.logMarshallerPort ?? DEFAULT_MARSHALLER_PORT)) || port < 1 || port > 65535)
    flag('--log-marshaller-port', `"${flags.logMarshallerPort}" must be a port number (1-65535)`);
  const marshallerUrl = flags.logMarshallerUrl ?? `http://localhost:${port}/marshal`;
  const problem = marshallerUrl === '' ? undefined : marshallerUrlProblem(marshallerUrl);
  if (problem) flag('--log-marshaller-url', problem);
  if (!/^(s3|gs|abfs):/i.test(flags.logUrl ?? '')) return undefined;
  return {
    path: flags.logStorePath ?? '',
    format: format as StoreFormat,
    ...(marshallerUrl !== '' && !problem && !isEmbeddedMarshaller(marshallerUrl, port)
      ? { marshallerUrl }
      : {}),
  };
}

/**
 * `--enable-batcher --max-batchsize N --max-latency MS` → batcher options, or undefined when off.
 * KServe parses both with Atoi and refuses anything but an integer above 0.
 */
export function agentBatcherOptions(flags: AgentFlags): BatcherOptions | undefined {
  if (flags.enableBatcher !== true) return undefined;
  const problems: ConfigProblem[] = [];
  const int = (name: string, raw: string | undefined, fallback: number): number => {
    if (raw === undefined) return fallback;
    const n = /^[+-]?\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
    if (!Number.isSafeInteger(n) || n <= 0) {
      problems.push({
        file: 'inferlog agent',
        line: 0,
        col: 0,
        path: name,
        message: `must be an integer above 0, not "${raw}"`,
      });
    }
    return n;
  };
  const options: BatcherOptions = {
    maxBatchSize: int('--max-batchsize', flags.maxBatchsize, BATCHER_DEFAULTS.maxBatchSize),
    maxLatencyMs: int('--max-latency', flags.maxLatency, BATCHER_DEFAULTS.maxLatencyMs),
    v2: false,
  };
  // --batch-v2 comes from the extension table (inferlog.dev/batch-v2): true|false.
  const v2 = flags.batchV2;
  if (v2 !== undefined) {
    if (v2 === 'true') options.v2 = true;
    else if (v2 !== 'false')
      problems.push({
        file: 'inferlog agent',
        line: 0,
        col: 0,
        path: '--batch-v2',
        message: `"${String(v2)}" must be true or false`,
      });
  }
  if (problems.length > 0) throw configError(problems);
  return options;
}

export function register(program: Command): void {
  const cmd = program
    .command('agent')
    .description("Capture proxy in front of a model server: a drop-in for KServe's agent sidecar")
    .option('--port <port>', 'port the agent listens on', '9081')
    .option('--component-port <port>', 'port of the model server it fronts', '8080')
    .option('--component-host <host>', 'host of the model server', '127.0.0.1')
    .option('--host <host>', 'address to listen on', '0.0.0.0')
    .option(
      '--log-url <url>',
      'where events go: http(s)://, kafka://, file://, s3://, gs://, abfs://, stdout (unset: no logging)',
    )
    .option('--log-mode <mode>', 'all | request | response', 'all')
    .addOption(
      withDefault(
        new Option('--source-uri <uri>', 'CloudEvents source'),
        DEFAULT_SOURCE_URI.replace('9081', '<port>'),
      ),
    )
    .option('--inference-service <name>', 'InferenceService name for the events', '')
    .option('--namespace <ns>', 'namespace for the events', '')
    .option('--endpoint <name>', 'endpoint for the events', '')
    .option('--component <name>', 'component (predictor, transformer, explainer)', '')
    .option('--metadata-headers <list>', 'comma-separated request headers to record, e.g. X-Request-Id')
    .option('--metadata-annotations <pairs>', 'comma-separated key=value annotations to attach')
    .option(
      '--workers <n>',
      "KServe's log dispatcher workers: accepted for compatibility (delivery concurrency is automatic; processes: --processes)",
      '5',
    )
    .option(
      '--processes <n>',
      'agent processes sharing --port, each with its own spool worker-<i> (auto = one per core)',
      '1',
    )
    .option(
      '--log-batch-size <n>',
      'exchanges per batched delivery (each is a request and a response event; 1 = per event)',
    )
    .option('--log-batch-interval <duration>', 'flush a partial batch after this long, e.g. 50ms')
    .option('--logger-ca-cert-file <path>', 'CA certificate for an https log URL')
    .option(
      '--logger-tls-skip-verify [bool]',
      'do not verify the log URL certificate (true|false, as KServe)',
      parseBool,
    )
    .option(
      '--log-store-path <path>',
      'blob --log-url: key part after <namespace>/<isvc>/<component> (KServe storage.path)',
    )
    .option('--log-store-format <format>', 'blob --log-url: json | csv | parquet', 'json')
    .option(
      '--log-marshaller-url <url>',
      'a marshaller service of your own (KServe protocol); the default is marshalled in-process',
      `http://localhost:${DEFAULT_MARSHALLER_PORT}/marshal`,
    )
    .option(
      '--log-marshaller-port <port>',
      "port of KServe's embedded marshaller: accepted; inferlog marshals in-process and opens no port",
      String(DEFAULT_MARSHALLER_PORT),
    )
    .option(
      '--storage-config <path>',
      "blob --log-url: KServe storage-config Secret (mounted directory, manifest or key→entry map) for the store's credentials",
    )
    .option('--storage-key <key>', 'blob --log-url: the --storage-config entry to use (KServe storage.key)')
    .option('--log-store-layout <layout>', 'the same as --blob-layout: kserve or exchanges')
    .addOption(
      new Option('--admin-port <port>', 'serve GET /metrics and /healthz on this port, e.g. 9088').default(
        '0',
        'off',
      ),
    )
    .option(
      '--upstream-timeout <duration>',
      'give up on the model after this long (default: never, like KServe)',
    );
  addRequestLimitFlags(cmd, true);
  for (const opt of EXTENSION_OPTIONS) {
    const option = new Option(`--${opt.key} <value>`, opt.description);
    cmd.addOption(opt.default === undefined ? option : withDefault(option, opt.default));
  }
  // KServe's request batcher (spec.predictor.batcher makes the webhook pass these).
  cmd.option(
    '--enable-batcher [bool]',
    "merge concurrent :predict requests into one model call (KServe's batcher)",
    parseBool,
  );
  cmd.option('--max-batchsize <n>', 'instances that release a batch', String(BATCHER_DEFAULTS.maxBatchSize));
  cmd.option(
    '--max-latency <ms>',
    'milliseconds after which a batch is released',
    String(BATCHER_DEFAULTS.maxLatencyMs),
  );
  // KServe agent flags for features inferlog does not provide: accepted so the webhook's args work.
  cmd.option('--enable-puller [bool]', 'accepted for KServe compatibility; ignored', parseBool);
  for (const f of ['config-dir', 'model-dir', 'timeout', 'probe-period']) {
    cmd.option(`--${f} <value>`, 'accepted for KServe compatibility; ignored');
  }
  cmd.action(async (flags: AgentFlags) => {
    const index = workerIndex();
    const log = createOpLogger(index === undefined ? 'agent' : `agent[${index}]`);
    let processes = 1;
    try {
      processes = processCount(flags.processes);
      const shared = processes > 1 ? sharedLogUrlProblem(flags.logUrl) : undefined;
      if (shared) throw new InferlogError('USAGE_INVALID', shared);
    } catch (e) {
      fail('agent', e);
    }
    let limits: RequestLimits;
    let upstreamTimeoutMs = 0;
    let batcher: BatcherOptions | undefined;
    try {
      limits = requestLimitsFrom(flags, 'inferlog agent');
      if (flags.upstreamTimeout) upstreamTimeoutMs = parseDuration(flags.upstreamTimeout);
      batcher = agentBatcherOptions(flags);
    } catch (e) {
      if (e instanceof RangeError)
        fail('agent', new InferlogError('USAGE_INVALID', `--upstream-timeout ${e.message}`));
      fail('agent', e);
    }
    if (index === undefined && flags.logUrl) {
      const spoolFlag = flags.spoolDir;
      const name = agentSpoolName(Number(flags.port));
      const home = stateHome();
      const root =
        typeof spoolFlag === 'string' ? spoolFlag : name && home ? path.join(home, name) : undefined;
      const stranded = root === undefined ? [] : strandedSpools(root, processes);
      if (stranded.length > 0)
        log.warn(
          `spool directories no process of this run opens (--processes ${processes}) may hold undelivered exchanges: ${stranded.join(', ')}; start with the --processes that wrote them to deliver them`,
        );
    }
    if (processes > 1 && index === undefined) {
      // The primary: flags are checked above (and the logger settings here) before any fork, so a
      // bad flag is one clear error, not N.
      if (flags.logUrl !== undefined && flags.logUrl !== '') {
        try {
          agentLoggerSettings(flags);
        } catch (e) {
          exitWithConfigError(e);
        }
      }
      await runPrimary({
        count: processes,
        adminPort: Number(flags.adminPort ?? 0),
        host: flags.host,
        log,
        readyLine: (port, describe) =>
          `ready — ${processes} processes proxying :${port} → ${flags.componentHost}:${flags.componentPort}; logging ${describe.replace(/worker-\d+/g, 'worker-<i>')}` +
          (Number(flags.adminPort ?? 0) > 0 ? `; metrics on :${flags.adminPort}/metrics` : ''),
      });
      return;
    }
    // Request metrics are served with logging off too: one registry for both.
    const metrics = createPipelineMetrics();
    let runtime: LoggingRuntime | undefined;
    let settings: LoggerSettings | undefined;
    let storeCredentials: StoreCredentials | undefined;
    if (flags.logUrl !== undefined && flags.logUrl !== '') {
      try {
        settings = agentLoggerSettings(flags);
        if (flags.storageKey !== undefined && flags.storageConfig === undefined)
          // Without a file the key would be ignored and the store opened with other credentials.
          throw new InferlogError(
            'CONFIG_INVALID',
            'inferlog agent: --storage-key names an entry of --storage-config, which is not given',
            { details: { option: '--storage-key' } },
          );
        storeCredentials = storageConfigReader(flags.storageConfig, '--storage-key').credentialsFor(
          flags.logUrl,
          flags.storageKey,
          'inferlog agent',
        );
      } catch (e) {
        exitWithConfigError(e);
      }
      if (index !== undefined && settings.url !== undefined)
        settings = { ...settings, url: processLogUrl(settings.url, index) };
      // Zero loss by default: without --spool-dir, a spool under the state directory (default-spool.ts).
      // Under --processes N each process has its own spool (agent-processes.ts, rule 1).
      const plan =
        index === undefined
          ? planBuffer(settings, agentSpoolName(Number(flags.port)), stateHome())
          : planBuffer(
              processSpoolSettings(settings, index),
              processSpoolName(agentSpoolName(Number(flags.port)), index),
              stateHome(),
            );
      const warning = memoryOnlyWarning(plan);
      if (warning) log.warn(warning);
      runtime = await startLogging(
        plan.settings,
        {
          inferenceService: flags.inferenceService,
          namespace: flags.namespace,
          component: flags.component,
          endpoint: flags.endpoint,
          sourceUri: flags.sourceUri ?? `http://localhost:${flags.port}/`,
          annotations: parseAnnotationPairs(flags.metadataAnnotations),
        },
        log,
        metrics,
        { storeCredentials },
      );
    }
    const runtimes = runtime ? [runtime] : [];
    const admin = adminRoutes(
      () => runtimes,
      () => metrics.metricsText(),
    );
    const proxy = createCaptureProxy({
      upstream: `http://${flags.componentHost}:${flags.componentPort}`,
      recorder: runtime?.recorder,
      batcher,
      batchObserver: batcher
        ? observeAll(
            createBatcherMetrics(metrics.registry),
            runtime && settings?.logBatches === true ? batchLogger(runtime.recorder) : undefined,
          )
        : undefined,
      upstreamTimeoutMs,
      ...limits,
    });
    // The agent fronts one InferenceService: its name is the one model label a path can select
    // (KServe names the model after the service); any other name counts as (unmatched).
    const where = {
      inferenceService: flags.inferenceService,
      namespace: flags.namespace,
      component: flags.component,
    };
    const served = new Map(flags.inferenceService ? [[flags.inferenceService, where]] : []);
    proxy.server.prependListener(
      'request',
      requestObserver(metrics.requests, served, where, flags.inferenceService || undefined),
    );
    const port = await listen(proxy.server, Number(flags.port), flags.host);
    let adminServer: import('node:http').Server | undefined;
    const stop = async (): Promise<void> => {
      adminServer?.close();
      await proxy.close();
      await runtime?.shutdown();
    };
    if (index !== undefined) {
      // A process under --processes N: the primary serves the admin port and the ready line.
      const begin = onShutdownSignal(log, stop);
      serveWorker({
        registry: metrics.registry,
        health: () => {
          const sinks = runtimes.map((r) => r.pipeline.health());
          return { ok: sinks.every((h) => h.ok), sinks };
        },
        shutdown: begin,
      }).ready(port, runtime ? runtime.describe() : 'off (no --log-url)');
      return;
    }
    const adminPort = Number(flags.adminPort ?? 0);
    if (adminPort > 0) {
      const http = await import('node:http');
      adminServer = http.createServer((req, res) => {
        if (!admin(req, res)) {
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end('{"error":"not found: the admin port serves GET /metrics and GET /healthz"}');
        }
      });
      await listen(adminServer, adminPort, flags.host);
    }
    log.info(
      `ready — proxying :${port} → ${flags.componentHost}:${flags.componentPort}; logging ${runtime ? runtime.describe() : 'off (no --log-url)'}` +
        (batcher
          ? `; batching :predict requests (max ${batcher.maxBatchSize} instances, ${batcher.maxLatencyMs} ms)`
          : '') +
        (adminServer ? `; metrics on :${adminPort}/metrics` : ''),
    );
    onShutdownSignal(log, stop);
  });
}
