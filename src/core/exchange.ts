/**
 * The one data model every stage passes along.
 *
 *   client ──▶ capture ──Exchange──▶ pipeline (sample → redact → buffer → deliver) ──▶ sink (encode → send)
 *
 * An Exchange is one request and its response (or the failure that replaced it),
 * built by capture once the response has finished. KServe sends a request event
 * and a response event per exchange; the formats derive both from this record, so
 * they always share an id and agree with each other.
 */
import type { TraceContext } from './trace-context.js';

/** KServe's `logger.mode`: which halves of an exchange are logged. */
export type LogMode = 'all' | 'request' | 'response';
export const LOG_MODES: readonly LogMode[] = ['all', 'request', 'response'];

/** A body as captured for the log (never what is forwarded: the client and model always get every byte). */
export interface CapturedBody {
  /** The captured bytes: at most `maxCaptureBytes`, decoded from Content-Encoding when that was possible. */
  bytes: Uint8Array;
  /** The Content-Type header as sent, when there was one. */
  contentType?: string;
  /** The Content-Encoding header as sent (e.g. gzip), when there was one. `bytes` are already decoded. */
  contentEncoding?: string;
  /** Bytes that crossed the wire (before any decoding). */
  size: number;
  /** True when `bytes` holds only a prefix of the body. */
  truncated: boolean;
  /** sha256 (hex) of the whole body as it crossed the wire; set when truncated, so it can still be matched. */
  sha256?: string;
  /**
   * True when `bytes` are still Content-Encoded: decoding failed, or the decoded body would
   * exceed the capture cap (a compression bomb cannot exhaust memory).
   */
  stillEncoded?: boolean;
}

/** What a streamed (SSE / chunked) response looked like. */
export interface StreamInfo {
  chunks: number;
  /** Time to first byte of the response body, from request arrival. */
  ttfbMs: number;
  /** Time to last byte, from request arrival. */
  ttlbMs: number;
  /** True when the stream did not finish normally (client went away, upstream died). */
  partial: boolean;
  reason?: string;
  /** For OpenAI-style streams: the assembled message text. */
  assembledText?: string;
  usage?: { promptTokens?: number; completionTokens?: number; totalTokens?: number };
}

/** Why an exchange has no proper response: the upstream was unreachable, timed out, reset… */
export interface ExchangeError {
  /** A stable code from the error catalogue (src/core/errors.ts), e.g. `UPSTREAM_UNREACHABLE`. */
  code: string;
  message: string;
}

/**
 * `source.inferenceService` of an exchange `inferlog up` served for no model it serves (a
 * misspelt model name, a server-level route when several models are served). Not a DNS-1035
 * label, so no InferenceService can be called this, and a client cannot file its requests under
 * a real model by naming one that is not served.
 */
export const UNMATCHED_MODEL = '(unmatched)';

/**
 * The request batch an exchange went to the model in (`inferlog agent --enable-batcher`,
 * `spec.predictor.batcher`): KServe's batcher merges concurrent requests into one model call.
 */
export interface BatchInfo {
  /** The merged model call's id: the `batchId` KServe's batcher answers (set here even when it answers ""). */
  id: string;
  /** How many client exchanges the batch merged. */
  size: number;
  /**
   * This exchange's place in the batch, 0-based, in arrival order; -1 for the merged model call
   * itself (logged with `inferlog.dev/log-batches`).
   */
  position: number;
}

/** Where the exchange happened: KServe's agent flags / CloudEvent extension attributes. */
export interface ExchangeSource {
  inferenceService: string;
  namespace: string;
  component: string;
  endpoint: string;
  /** CloudEvents `source`: KServe's `--source-uri`, default `http://localhost:9081/`. */
  sourceUri: string;
  /** ISVC annotations selected by `metadataAnnotations`, frozen at start. */
  annotations: Record<string, string>;
}

export interface Exchange {
  /** CloudEvents id: the inbound `Ce-Id` header if there was one, else a new UUIDv4. */
  id: string;
  source: ExchangeSource;
  mode: LogMode;
  method: string;
  /** Path and query as received, e.g. `/v1/models/simple-model:predict`. */
  url: string;
  /** Allow-listed request headers (`metadataHeaders`), keyed by canonical name, KServe-style. */
  metadata: Record<string, string[]>;
  /** Request arrival, epoch milliseconds with sub-millisecond fraction. */
  requestTime: number;
  /** Response completion (or failure), epoch milliseconds with sub-millisecond fraction. */
  responseTime: number;
  /** Undefined when the mode does not log requests. */
  request?: CapturedBody;
  /** Status the client got. 0 when the client got no HTTP response at all. */
  status: number;
  /** Undefined when the mode does not log responses, or when there was no response. */
  response?: CapturedBody;
  error?: ExchangeError;
  stream?: StreamInfo;
  /** Set when the request was answered from a merged model call (see BatchInfo). */
  batch?: BatchInfo;
  /**
   * How many exchanges this record stands for: 1/sampleRate when kept by the sampler,
   * 1 when kept by an always-keep rule (errors, slow calls) or when sampling is off.
   */
  sampleWeight: number;
  /**
   * W3C trace context: the caller's `traceparent`/`tracestate` when valid, else a fresh trace id.
   * Absent only on exchanges recorded before inferlog kept trace context (old spools and files).
   */
  trace?: TraceContext;
}

export type { TraceContext } from './trace-context.js';

export function latencyMs(ex: Pick<Exchange, 'requestTime' | 'responseTime'>): number {
  return Math.round((ex.responseTime - ex.requestTime) * 1000) / 1000;
}

/** Whether this exchange's mode logs the request / response half. */
export const logsRequest = (mode: LogMode): boolean => mode !== 'response';
export const logsResponse = (mode: LogMode): boolean => mode !== 'request';
