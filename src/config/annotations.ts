/**
 * inferlog's opt-in extensions, as annotations under `inferlog.dev/` on the
 * InferenceService (so the same YAML still applies to a real cluster) or as agent flags.
 * Each entry: annotation key, flag name, and a parser that throws a human message.
 */
import {
  DEFAULT_BLOB_SETTINGS,
  type BlobLayout,
  type BlobSettings,
  type LoggerSettings,
  type SpoolDurability,
  type SpoolWhenFull,
} from './settings.js';
import { parseBytes, parseDuration } from '../core/units.js';
import { InferlogError } from '../core/errors.js';

export const ANNOTATION_PREFIX = 'inferlog.dev/';

function parseList(v: string): string[] {
  return v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function parseRate(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) {
    throw new InferlogError(
      'CONFIG_INVALID',
      `"${v}" is not a sample rate: use a number from 0 to 1, e.g. 0.1 to keep 10%`,
    );
  }
  return n;
}

function parsePath(v: string): string {
  if (v.trim() === '')
    throw new InferlogError('CONFIG_INVALID', 'must be a file path, e.g. /var/run/secrets/inferlog/token');
  return v;
}

function wholeNumberAtLeast(min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min)
      throw new InferlogError('CONFIG_INVALID', `"${v}" must be a whole number ≥ ${min}`);
    return n;
  };
}
const parseNonNegativeInt = wholeNumberAtLeast(0);
const parsePositiveInt = wholeNumberAtLeast(1);

/** `1048576`, `512KiB`, `1MiB`, `2GiB`, `10MB`. */
function parsePositiveBytes(v: string): number {
  const n = parseBytes(v);
  if (n < 1) throw new InferlogError('CONFIG_INVALID', `"${v}" must be a size above 0, e.g. 128MiB`);
  return n;
}

function parseBool(v: string): boolean {
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new InferlogError('CONFIG_INVALID', `"${v}" must be true or false`);
}

function oneOf<T extends string>(allowed: readonly T[]) {
  return (v: string): T => {
    if ((allowed as readonly string[]).includes(v)) return v as T;
    throw new InferlogError('CONFIG_INVALID', `"${v}" must be one of ${allowed.join(', ')}`);
  };
}

/** The blob settings to change, created with their defaults on first use. */
function blobOf(s: LoggerSettings): BlobSettings {
  s.blob ??= { ...DEFAULT_BLOB_SETTINGS };
  return s.blob;
}

export interface ExtensionOption {
  /** Annotation key without the prefix, and the agent flag without the dashes. */
  key: string;
  description: string;
  /** The value in effect when it is not set, as a person would type it (help text: `(default: 5s)`). */
  default?: string;
  apply(settings: LoggerSettings, raw: string): void;
}

export const EXTENSION_OPTIONS: readonly ExtensionOption[] = [
  {
    key: 'sample-rate',
    description: 'Fraction of exchanges to keep, 0..1 (errors and slow calls are always kept).',
    default: '1',
    apply: (s, v) => (s.sampling.rate = parseRate(v)),
  },
  {
    key: 'keep-status-at-least',
    description: 'Always keep exchanges with a status at or above this; 0 disables.',
    default: '400',
    apply: (s, v) => (s.sampling.keepStatusAtLeast = parseNonNegativeInt(v)),
  },
  {
    key: 'keep-slower-than',
    description: 'Always keep exchanges slower than this duration, e.g. 500ms.',
    apply: (s, v) => (s.sampling.keepSlowerThanMs = parseDuration(v)),
  },
  {
    key: 'redact-json-paths',
    description: 'Comma-separated JSON paths whose values are replaced, e.g. ssn,instances[*].ssn.',
    apply: (s, v) => (s.redaction.jsonPaths = parseList(v)),
  },
  {
    key: 'redact-patterns',
    description: 'Comma-separated text scrubbers: built-ins (email, card) or name=regex.',
    apply: (s, v) => (s.redaction.patterns = parseList(v)),
  },
  {
    key: 'redact-marker',
    description: 'The replacement for redacted values.',
    default: '[REDACTED]',
    apply: (s, v) => (s.redaction.marker = v),
  },
  {
    key: 'capture-headers',
    description: 'Secret headers (Authorization, Cookie…) to capture anyway, when also in metadataHeaders.',
    apply: (s, v) => (s.redaction.forceHeaders = parseList(v)),
  },
  {
    key: 'redact-query-params',
    description:
      'Query parameters whose values are withheld from the logged url, besides the built-in list (api_key, token, sig…).',
    apply: (s, v) => (s.redaction.redactQueryParams = parseList(v)),
  },
  {
    key: 'capture-query-params',
    description: 'Built-in secret query parameters (e.g. code) to log anyway.',
    apply: (s, v) => (s.redaction.captureQueryParams = parseList(v)),
  },
  {
    key: 'max-capture-bytes',
    description: 'Per-body capture cap; larger bodies are logged truncated with size and sha256.',
    default: '1MiB',
    apply: (s, v) => (s.maxCaptureBytes = parseBytes(v)),
  },
  {
    key: 'trust-inbound-id',
    description:
      "Use the client's Ce-Id as the exchange id, as KServe does (when false, the agent makes one and records the client's as metadata Ce-Id).",
    default: 'false',
    apply: (s, v) => (s.trustInboundId = parseBool(v)),
  },
  {
    key: 'spans',
    description:
      "One OpenTelemetry span per exchange, child of the caller's span and parent of the model's (OTLP; OTEL_* variables).",
    default: 'false',
    apply: (s, v) => (s.spans = parseBool(v)),
  },
  {
    key: 'sample-by-trace-id',
    description:
      'Sample by the W3C trace id when the request has one, as an OpenTelemetry traceidratio sampler of the same rate would (otherwise by exchange id).',
    default: 'false',
    apply: (s, v) => (s.sampling.byTraceId = parseBool(v)),
  },
  {
    key: 'log-batches',
    description:
      'With the request batcher: also log each merged model call as its own exchange (batch.position -1).',
    default: 'false',
    apply: (s, v) => (s.logBatches = parseBool(v)),
  },
  {
    key: 'batch-v2',
    description:
      'With the request batcher: also merge V2 /infer requests along the first dimension (beyond KServe).',
    default: 'false',
    apply: (s, v) => (s.batchV2 = parseBool(v)),
  },
  {
    key: 'log-instances',
    description:
      'The file sink also writes one row per prediction (input, prediction, index) to <name>.instances.jsonl, from the redacted bodies.',
    default: 'false',
    apply: (s, v) => (s.logInstances = parseBool(v)),
  },
  {
    key: 'spool-dir',
    description:
      'Directory of the durable disk spool between capture and the sink (default: one of its own under $XDG_STATE_HOME/inferlog, else ~/.local/state/inferlog).',
    apply: (s, v) => (s.spool.dir = v),
  },
  {
    key: 'spool-max-bytes',
    description: 'Spool size bound.',
    default: '256MiB',
    apply: (s, v) => (s.spool.maxBytes = parseBytes(v)),
  },
  {
    key: 'spool-when-full',
    description: 'What a full spool drops: drop-oldest or drop-newest. Inference is never blocked.',
    default: 'drop-oldest',
    apply: (s, v) => (s.spool.whenFull = oneOf<SpoolWhenFull>(['drop-newest', 'drop-oldest'])(v)),
  },
  {
    key: 'durability',
    description:
      'none (memory only; a crash loses it, counted at the next start), process (survives a process crash) or machine (fsync per batch).',
    default: 'process',
    apply: (s, v) => (s.spool.durability = oneOf<SpoolDurability>(['none', 'process', 'machine'])(v)),
  },
  {
    key: 'drain-timeout',
    description: 'How long shutdown may spend delivering what is buffered.',
    default: '10s',
    apply: (s, v) => (s.delivery.drainTimeoutMs = parseDuration(v)),
  },
  {
    key: 'send-timeout',
    description: 'Per-send timeout to the sink.',
    default: '5s',
    apply: (s, v) => (s.delivery.timeoutMs = parseDuration(v)),
  },
  {
    key: 'memory-queue-size',
    description: 'Exchanges held in memory when there is no spool, before drops.',
    default: '10000',
    apply: (s, v) => (s.delivery.memoryQueueSize = parsePositiveInt(v)),
  },
  {
    key: 'memory-queue-bytes',
    description: 'Body bytes held in memory when there is no spool, before drops.',
    default: '128MiB',
    apply: (s, v) => (s.delivery.memoryQueueBytes = parseBytes(v)),
  },
  {
    key: 'max-retries',
    description: 'Attempts for a failing send before it waits in the buffer again.',
    default: '5',
    apply: (s, v) => (s.delivery.maxRetries = parseNonNegativeInt(v)),
  },
  {
    key: 'blob-layout',
    description:
      "Blob storage layout: kserve (KServe's objects per batch) or exchanges (one Parquet row per exchange, Hive-partitioned by namespace, InferenceService, date and hour).",
    default: 'kserve',
    apply: (s, v) => (blobOf(s).layout = oneOf<BlobLayout>(['kserve', 'exchanges'])(v)),
  },
  {
    key: 'blob-target-bytes',
    description: 'Layout exchanges: write a Parquet file once it would reach about this size.',
    default: '128MiB',
    apply: (s, v) => (blobOf(s).targetBytes = parsePositiveBytes(v)),
  },
  {
    key: 'blob-max-age',
    description: 'Layout exchanges: write a Parquet file once its oldest exchange has waited this long.',
    default: '5m',
    apply: (s, v) => (blobOf(s).maxAgeMs = parseDuration(v)),
  },
  // Credentials for an http(s) sink: paths of files mounted from Secrets. Read and checked where
  // they are (agent, `up`, `validate --serve`: config/credential-files.ts), not by a plain validate.
  {
    key: 'log-token-file',
    description:
      'File holding a bearer token sent to an http(s) sink as Authorization: Bearer; re-read when it changes.',
    apply: (s, v) => (s.tokenFile = parsePath(v)),
  },
  {
    key: 'log-client-cert',
    description: 'PEM client certificate presented to an https sink (mutual TLS); needs log-client-key.',
    apply: (s, v) => (s.tls.clientCertFile = parsePath(v)),
  },
  {
    key: 'log-client-key',
    description: 'PEM private key of log-client-cert.',
    apply: (s, v) => (s.tls.clientKeyFile = parsePath(v)),
  },
  {
    key: 'log-ca-cert',
    description:
      "CA certificate an https sink's certificate must chain to (the agent's --logger-ca-cert-file).",
    apply: (s, v) => (s.tls.caCertFile = parsePath(v)),
  },
];

export const EXTENSION_KEYS = EXTENSION_OPTIONS.map((o) => o.key);
