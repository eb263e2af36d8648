/**
 * The one interface every log destination implements.
 *
 *   pipeline buffer ──batch──▶ withRetry(withTimeout(sink)) ──▶ sink.send: encode → write ──▶ destination
 *
 * A sink only encodes and classifies: it resolves when the destination has accepted
 * the whole batch, or rejects with an InferlogError whose `kind` says whether a retry
 * can help. Retry, timeout and buffering are wrappers around it (src/pipeline/).
 */
import type { StoreCredentials } from '../transport/object-store/object-store.js';
import type { Exchange } from '../core/exchange.js';
import type { InstanceSkipReason } from '../formats/instances.js';

export interface Sink {
  /** For humans and metrics labels: `stdout`, `file:///var/log/x.jsonl`, `http://collector:8090/`. */
  readonly name: string;
  /** The most exchanges one `send` takes; 1 means per-event delivery. May change between sends. */
  readonly maxBatch: number;
  /**
   * Batches the pipeline may have in flight to this sink at once (default: the pipeline's, 4).
   * The exchanges lake takes 1: it names each object after its first record, which names the
   * same object after a crash only if no later batch was written before an earlier one was acked.
   */
  readonly maxInFlight?: number;
  /**
   * The most bytes (as the spool stores them) one batch may load into memory, whatever maxBatch
   * says: a sink whose batches are large (the exchanges lake) stays bounded when bodies grow.
   */
  readonly maxBatchBytes?: number;
  /** How long the pipeline waits to fill a batch (default: `--log-batch-interval`). */
  readonly batchIntervalMs?: number;
  /** Opens connections, files. Rejects when the sink cannot work at all (bad path, bad TLS config). */
  start(): Promise<void>;
  /**
   * Delivers a batch. Resolves only once the destination has accepted every exchange in it.
   * Rejects with an InferlogError (SINK_* codes). Must stop promptly when `signal` aborts.
   */
  send(batch: readonly Exchange[], signal: AbortSignal): Promise<void>;
  /** Flushes and closes. Idempotent. */
  shutdown(): Promise<void>;
}

/** What every sink factory gets besides its URL. */
export interface SinkOptions {
  /** `--log-batch-size` / `logger.batchSize`: 1 = one event per send (KServe's default). */
  batchSize: number;
  /** `--log-batch-interval` / `logger.batchInterval`, in ms: flush a partial batch after this long. */
  batchIntervalMs: number;
  /** Per-send timeout. */
  timeoutMs: number;
  /** TLS for https sinks, with KServe's option names. */
  tls: { caCertFile?: string; skipVerify: boolean; clientCertFile?: string; clientKeyFile?: string };
  /**
   * KServe's storage logger (`logger.storage`, `--log-store-path` / `--log-store-format`,
   * `--log-marshaller-url`): how the blob sink (s3://, gs://, abfs://) names and marshals objects.
   */
  store?: BlobStoreOptions;
  /** Blob storage (`s3://`, `gs://`, `abfs://`, a directory): which layout, and its file sizing. */
  blob?: BlobSinkOptions;
  /** A file holding the bearer token http(s) sinks send; re-read when it changes (transport/bearer-token.ts). */
  tokenFile?: string;
  /** Where a sink writes if it writes to a stream (tests pass their own). */
  stdout?: NodeJS.WritableStream;
  /**
   * `inferlog.dev/log-instances`: sinks that keep files (file, blob) also write one row per
   * prediction (formats/instances.ts `instanceRows`); the others ignore it.
   */
  logInstances?: boolean;
  /** Told, once a batch is written, how many instance rows it held and which exchanges had none (metrics). */
  instances?: InstanceCounts;
}

export interface InstanceCounts {
  written(rows: number): void;
  skipped(reason: InstanceSkipReason): void;
}

export interface BlobStoreOptions {
  /** `--log-store-path` / `storage.path`: the key segment after `<namespace>/<isvc>/<component>`. */
  path: string;
  /** `--log-store-format` / `storage.parameters.format`. */
  format: 'json' | 'csv' | 'parquet';
  /** `--log-marshaller-url` when it names a marshaller of the user's own (else marshalled in-process). */
  marshallerUrl?: string;
  /**
   * Credentials resolved from a storage-config file (`--storage-config`, resolveStoreCredentials);
   * absent: the store resolves them from the environment, as KServe's agent does.
   */
  credentials?: StoreCredentials;
}

export type SinkFactory = (url: URL, options: SinkOptions) => Sink;

/** `inferlog.dev/blob-layout` and its sizing (`inferlog.dev/blob-target-bytes`, `blob-max-age`). */
export interface BlobSinkOptions {
  /** `kserve`: KServe's objects per batch (the default); `exchanges`: one Parquet row per exchange. */
  layout: 'kserve' | 'exchanges';
  /** `exchanges`: a file is written once it would reach about this many bytes… */
  targetBytes: number;
  /** …or once its oldest exchange has waited this long. */
  maxAgeMs: number;
}
