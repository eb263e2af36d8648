/**
 * The one interface every log destination implements.
 *
 *   pipeline buffer ──batch──▶ withRetry(withTimeout(sink)) ──▶ sink.send: encode → write ──▶ destination
 *
 * A sink only encodes and classifies: it resolves when the destination has accepted
 * the whole batch, or rejects with an InferlogError whose `kind` says whether a retry
 * can help. Retry, timeout and buffering are wrappers around it (src/pipeline/).
 */
import type { Exchange } from '../core/exchange.js';

export interface Sink {
  /** For humans and metrics labels: `stdout`, `file:///var/log/x.jsonl`, `http://collector:8090/`. */
  readonly name: string;
  /** The most exchanges one `send` takes; 1 means per-event delivery. */
  readonly maxBatch: number;
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
  /** A file holding the bearer token http(s) sinks send; re-read when it changes (transport/bearer-token.ts). */
  tokenFile?: string;
  /** Where a sink writes if it writes to a stream (tests pass their own). */
  stdout?: NodeJS.WritableStream;
}

export type SinkFactory = (url: URL, options: SinkOptions) => Sink;
