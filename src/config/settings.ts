/**
 * Resolved, validated settings: what the rest of the program reads. Built once from
 * an InferenceService YAML (config/inferenceservice.ts) or agent flags (cli/commands/agent.ts),
 * then frozen. Nothing downstream parses strings again.
 */
import type { LogMode } from '../core/exchange.js';

export interface SamplingOptions {
  /** Fraction of exchanges kept, 0..1, decided from a hash of the exchange id. 1 = keep all. */
  rate: number;
  /**
   * Decide by the W3C trace id when the request carried one (`inferlog.dev/sample-by-trace-id`), with
   * the OpenTelemetry JS SDK's TraceIdRatioBased arithmetic, so inferlog keeps the exchanges of the
   * traces an OTel `traceidratio` sampler of the same rate keeps. Off: by the exchange id.
   */
  byTraceId?: boolean;
  /** Always keep exchanges with a status at or above this (default 400); 0 disables. */
  keepStatusAtLeast: number;
  /** Always keep exchanges slower than this many ms; undefined disables. */
  keepSlowerThanMs?: number;
}

export interface RedactionOptions {
  /** JSON paths whose values are replaced by a marker, e.g. `instances[*].ssn`. */
  jsonPaths: string[];
  /** Text scrubbers: built-in names (`email`, `card`) or `name=regex`. */
  patterns: string[];
  /** Headers captured even though they are secret by default (Authorization, Cookie…). Explicit opt-in. */
  forceHeaders: string[];
  /** The replacement marker. */
  marker: string;
  /** Query parameter names whose values are withheld, besides the built-in list (api_key, token…). */
  redactQueryParams?: string[];
  /** Built-in secret query parameters logged anyway. Explicit opt-in. */
  captureQueryParams?: string[];
}

export type SpoolWhenFull = 'drop-newest' | 'drop-oldest';
/** process: survives a process crash (write before ack); machine: fsync per batch; none: memory only. */
export type SpoolDurability = 'none' | 'process' | 'machine';

export interface SpoolOptions {
  /** Directory of the disk spool; undefined = memory buffer only. */
  dir?: string;
  maxBytes: number;
  whenFull: SpoolWhenFull;
  durability: SpoolDurability;
}

export interface DeliveryOptions {
  /** Per-send timeout. */
  timeoutMs: number;
  /** Max delivery attempts for a retryable failure before the batch waits in the buffer again. */
  maxRetries: number;
  /** How long shutdown may spend draining. */
  drainTimeoutMs: number;
  /** Max exchanges held in memory (memory buffer) before drops. */
  memoryQueueSize: number;
  /** Max body bytes held in memory (memory buffer) before drops. */
  memoryQueueBytes: number;
}

/** TLS to the sink: KServe's CA file and skip-verify, and a client certificate for mutual TLS. */
export interface ClientTlsOptions {
  caCertFile?: string;
  skipVerify: boolean;
  clientCertFile?: string;
  clientKeyFile?: string;
}

export interface LoggerSettings {
  /** The sink URL; undefined or `stdout` = the JSON lines on stdout. */
  url: string | undefined;
  mode: LogMode;
  metadataHeaders: string[];
  metadataAnnotations: string[];
  batchSize: number;
  batchIntervalMs: number;
  tls: ClientTlsOptions;
  /**
   * KServe's storage logger (`logger.storage`, `marshallerUrl`; agent `--log-store-*`,
   * `--log-marshaller-url`): object naming and format for a blob `url` (s3://, gs://, abfs://).
   */
  store?: StoreSettings;
  /**
   * A file holding the bearer token an http(s) sink sends (`inferlog.dev/log-token-file`). The sink
   * re-reads it when it changes, so a rotated Secret needs no restart; the token is never logged.
   */
  tokenFile?: string;
  /** Per-body capture cap; larger bodies are logged truncated with size and sha256. */
  maxCaptureBytes: number;
  /**
   * Use a client's `Ce-Id` header as the exchange id (KServe's agent always does). Off by default:
   * a client-chosen id could collide with other exchanges and pick its own sampling outcome, so the
   * agent generates the id and keeps the inbound value as metadata (`Ce-Id`), as Envoy treats
   * `x-request-id` from the edge. Turn on only behind a trusted caller that sends unique ids.
   */
  trustInboundId: boolean;
  /**
   * One OpenTelemetry span per exchange (`inferlog.dev/spans`), exported over OTLP as the standard
   * OTEL_* variables say; child of the caller's span, and the model's parent. Off by default.
   */
  spans: boolean;
  /**
   * With the request batcher: also log each merged model call as an exchange of its own (its id is
   * the batch id, `batch.position` -1), so the model's real latency and input size are visible.
   */
  logBatches?: boolean;
  /** With the request batcher: also merge V2 `/infer` requests (capture/batcher/v2.ts). Opt-in. */
  batchV2?: boolean;
  /**
   * `inferlog.dev/log-instances`: the file (and blob) sinks also write one row per prediction
   * (formats/instances.ts), from the bodies as redacted. Off by default.
   */
  logInstances?: boolean;
  /**
   * Blob storage layout (`inferlog.dev/blob-layout`, agent `--blob-layout` / `--log-store-layout`):
   * unset or `kserve` = KServe's objects per batch; `exchanges` = one Parquet row per exchange in
   * Hive partitions (sinks/parquet-lake/).
   */
  blob?: BlobSettings;
  sampling: SamplingOptions;
  redaction: RedactionOptions;
  spool: SpoolOptions;
  delivery: DeliveryOptions;
}

export type StoreFormat = 'json' | 'csv' | 'parquet';
export const STORE_FORMATS: readonly StoreFormat[] = ['json', 'csv', 'parquet'];

export interface StoreSettings {
  /** `storage.path` / `--log-store-path`: the key segment after `<namespace>/<isvc>/<component>`. */
  path: string;
  /** `storage.parameters.format` / `--log-store-format` (KServe's default json). */
  format: StoreFormat;
  /** A marshaller service of the user's own; undefined = KServe's embedded marshallers, in-process. */
  marshallerUrl?: string;
  /**
   * `storage.key`: the storage-config Secret entry holding the store's credentials. Used by
   * `inferlog up --storage-config FILE`; KServe's agent itself never reads it (its webhook injects
   * the service account's secrets as environment variables).
   */
  key?: string;
}

export type BlobLayout = 'kserve' | 'exchanges';

export interface BlobSettings {
  layout: BlobLayout;
  /** `exchanges`: write a file once it would reach about this many bytes (default 128 MiB)… */
  targetBytes: number;
  /** …or once its oldest exchange has waited this long (default 5 min). */
  maxAgeMs: number;
}

export const DEFAULT_BLOB_SETTINGS: Readonly<BlobSettings> = {
  layout: 'kserve',
  targetBytes: 128 * 1024 * 1024,
  maxAgeMs: 5 * 60_000,
};

export const DEFAULT_MAX_CAPTURE_BYTES = 1024 * 1024;

export function defaultLoggerSettings(): LoggerSettings {
  return {
    url: undefined,
    mode: 'all',
    metadataHeaders: [],
    metadataAnnotations: [],
    batchSize: 1,
    batchIntervalMs: 0,
    tls: { skipVerify: false },
    maxCaptureBytes: DEFAULT_MAX_CAPTURE_BYTES,
    trustInboundId: false,
    spans: false,
    logBatches: false,
    batchV2: false,
    logInstances: false,
    blob: { ...DEFAULT_BLOB_SETTINGS },
    sampling: { rate: 1, keepStatusAtLeast: 400, byTraceId: false },
    redaction: { jsonPaths: [], patterns: [], forceHeaders: [], marker: '[REDACTED]' },
    spool: { maxBytes: 256 * 1024 * 1024, whenFull: 'drop-oldest', durability: 'process' },
    delivery: {
      timeoutMs: 5000,
      maxRetries: 5,
      drainTimeoutMs: 10_000,
      memoryQueueSize: 10_000,
      memoryQueueBytes: 128 * 1024 * 1024,
    },
  };
}

/** `spec.<component>.batcher`: KServe's request batcher (the webhook's --max-batchsize / --max-latency). */
export interface BatcherSettings {
  /** Instances that release a batch (default 32). */
  maxBatchSize: number;
  /** Milliseconds after a batch's first request that release it (default 5000). */
  maxLatencyMs: number;
}

export const BATCHER_SETTING_DEFAULTS: Readonly<BatcherSettings> = { maxBatchSize: 32, maxLatencyMs: 5000 };
