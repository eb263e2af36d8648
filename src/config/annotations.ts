/**
 * inferlog's opt-in extensions, as annotations under `inferlog.dev/` on the
 * InferenceService (so the same YAML still applies to a real cluster) or as agent flags.
 * Each entry: annotation key, flag name, and a parser that throws a human message.
 */
import type { LoggerSettings, SpoolDurability, SpoolWhenFull } from './settings.js';
import { parseBytes, parseDuration } from '../core/units.js';

export const ANNOTATION_PREFIX = 'inferlog.dev/';

function parseList(v: string): string[] {
  return v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** `1048576`, `512KiB`, `1MiB`, `2GiB`, `10MB`. */
function parseRate(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) {
    throw new Error(`"${v}" is not a sample rate: use a number from 0 to 1, e.g. 0.1 to keep 10%`);
  }
  return n;
}

function parseNonNegativeInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`"${v}" must be a whole number ≥ 0`);
  return n;
}

function parsePositiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`"${v}" must be a whole number ≥ 1`);
  return n;
}

function parseBool(v: string): boolean {
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new Error(`"${v}" must be true or false`);
}

function oneOf<T extends string>(allowed: readonly T[]) {
  return (v: string): T => {
    if ((allowed as readonly string[]).includes(v)) return v as T;
    throw new Error(`"${v}" must be one of ${allowed.join(', ')}`);
  };
}

export interface ExtensionOption {
  /** Annotation key without the prefix, and the agent flag without the dashes. */
  key: string;
  description: string;
  apply(settings: LoggerSettings, raw: string): void;
}

export const EXTENSION_OPTIONS: readonly ExtensionOption[] = [
  {
    key: 'sample-rate',
    description: 'Fraction of exchanges to keep, 0..1 (errors and slow calls are always kept).',
    apply: (s, v) => (s.sampling.rate = parseRate(v)),
  },
  {
    key: 'keep-status-at-least',
    description: 'Always keep exchanges with a status at or above this (default 400; 0 disables).',
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
    description: 'The replacement for redacted values (default [REDACTED]).',
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
    description:
      'Per-body capture cap (default 1MiB); larger bodies are logged truncated with size and sha256.',
    apply: (s, v) => (s.maxCaptureBytes = parseBytes(v)),
  },
  {
    key: 'trust-inbound-id',
    description:
      "Use the client's Ce-Id as the exchange id, as KServe does (default false: the agent makes one and records the client's as metadata Ce-Id).",
    apply: (s, v) => (s.trustInboundId = parseBool(v)),
  },
  {
    key: 'log-batches',
    description:
      'with the request batcher: also log each merged model call as its own exchange (batch.position -1), true|false',
    apply: (s, v) => (s.logBatches = parseBool(v)),
  },
  {
    key: 'batch-v2',
    description:
      'with the request batcher: also merge V2 /infer requests along the first dimension (beyond KServe), true|false',
    apply: (s, v) => (s.batchV2 = parseBool(v)),
  },
  {
    key: 'spool-dir',
    description: 'Directory of the durable disk spool between capture and the sink.',
    apply: (s, v) => (s.spool.dir = v),
  },
  {
    key: 'spool-max-bytes',
    description: 'Spool size bound (default 256MiB).',
    apply: (s, v) => (s.spool.maxBytes = parseBytes(v)),
  },
  {
    key: 'spool-when-full',
    description: 'What a full spool drops: drop-oldest (default) or drop-newest. Inference is never blocked.',
    apply: (s, v) => (s.spool.whenFull = oneOf<SpoolWhenFull>(['drop-newest', 'drop-oldest'])(v)),
  },
  {
    key: 'durability',
    description: 'none (memory), process (survives a process crash; default) or machine (fsync per batch).',
    apply: (s, v) => (s.spool.durability = oneOf<SpoolDurability>(['none', 'process', 'machine'])(v)),
  },
  {
    key: 'drain-timeout',
    description: 'How long shutdown may spend delivering what is buffered (default 10s).',
    apply: (s, v) => (s.delivery.drainTimeoutMs = parseDuration(v)),
  },
  {
    key: 'send-timeout',
    description: 'Per-send timeout to the sink (default 5s).',
    apply: (s, v) => (s.delivery.timeoutMs = parseDuration(v)),
  },
  {
    key: 'memory-queue-size',
    description: 'Exchanges held in memory when there is no spool, before drops (default 10000).',
    apply: (s, v) => (s.delivery.memoryQueueSize = parsePositiveInt(v)),
  },
  {
    key: 'memory-queue-bytes',
    description: 'Body bytes held in memory when there is no spool, before drops (default 128MiB).',
    apply: (s, v) => (s.delivery.memoryQueueBytes = parseBytes(v)),
  },
  {
    key: 'max-retries',
    description: 'Attempts for a failing send before it waits in the buffer again (default 5).',
    apply: (s, v) => (s.delivery.maxRetries = parseNonNegativeInt(v)),
  },
];

export const EXTENSION_KEYS = EXTENSION_OPTIONS.map((o) => o.key);
