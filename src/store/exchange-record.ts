/**
 * What the collector stores: one row per exchange, built from its request and response halves.
 *
 *   DecodedEvent ──halfFromEvent──▶ ExchangeHalf ──mergeHalf(existing row?)──▶ ExchangeRow ──▶ store
 *
 * The merge is pure and shared by every store, so SQLite and PostgreSQL agree on what an
 * exchange looks like. A half is identified by (key, kind), the key being the event id scoped by
 * sender (exchangeKey); a second copy is a duplicate.
 */
import * as crypto from 'node:crypto';
import { CE_TYPE_RESPONSE } from '../formats/cloudevents-attributes.js';
import type { DecodedEvent } from '../formats/cloudevents-decode.js';
import { EXT } from '../formats/cloudevents-decode.js';
import { parseTraceparent, parseTracestate } from '../core/trace-context.js';
import { parseRfc3339 } from '../core/units.js';

export type HalfKind = 'request' | 'response';

/** Per-half facts that are not filtered on. */
export interface HalfMeta {
  /** CloudEvents type, e.g. org.kubeflow.serving.inference.request. */
  type: string;
  contentType: string | null;
  size: number;
  truncated: boolean;
  originalSize: number | null;
  sha256: string | null;
  /** `time` attribute verbatim (RFC 3339), or null. */
  time: string | null;
  /** `recordedtime` extension verbatim, or null. */
  recordedTime: string | null;
  /** Response half of a streamed response: the `streaminfo` extension (chunks, ttfbMs, ttlbMs, partial…). */
  stream?: Record<string, unknown> | null;
}

/** The `streaminfo` extension as an object; anything that is not a JSON object is ignored. */
function streamInfo(v: string | undefined): Record<string, unknown> | null {
  if (v === undefined || v === '') return null;
  try {
    const o: unknown = JSON.parse(v);
    return o !== null && typeof o === 'object' && !Array.isArray(o) ? (o as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** A batched exchange's batch (the `batch` extension): the merged model call it was answered from. */
export interface BatchView {
  id: string;
  size: number;
  position: number;
}

/** The `batch` extension, checked: anything but `{"id": short string, "size" ≥ 1, -1 ≤ "position" < size}` is ignored. */
export function batchInfo(v: string | undefined): BatchView | null {
  if (v === undefined || v === '' || v.length > 512) return null;
  try {
    const o = JSON.parse(v) as Partial<BatchView> | null;
    if (o === null || typeof o !== 'object' || Array.isArray(o)) return null;
    const { id, size, position } = o;
    if (typeof id !== 'string' || id.length === 0 || id.length > 128) return null;
    if (!Number.isSafeInteger(size) || !Number.isSafeInteger(position)) return null;
    if ((size as number) < 1 || (position as number) < 0 || (position as number) >= (size as number))
      return null;
    return { id, size: size as number, position: position as number };
  } catch {
    return null;
  }
}

/**
 * The store identity of an exchange: its event id *within* one sender scope (source, namespace,
 * inference service, component). Ids are chosen by senders, and with `trust-inbound-id` by clients,
 * so the same id from another namespace or service must be another exchange: never a duplicate of,
 * nor the missing half of, someone else's. Opaque, fixed length, safe in a URL.
 */
export function exchangeKey(h: {
  id: string;
  source: string;
  namespace: string;
  model: string;
  component: string;
}): string {
  return sha256(JSON.stringify([h.source, h.namespace, h.model, h.component, h.id])).slice(0, 32);
}

/**
 * SHA-256 as base64url. crypto.hash (Node ≥ 20.12) is one call instead of a Hash object's four:
 * a quarter of the time, paid for every received event. Node 20.11 has only createHash.
 */
const sha256: (text: string) => string =
  typeof crypto.hash === 'function'
    ? (text) => crypto.hash('sha256', text, 'base64url')
    : (text) => crypto.createHash('sha256').update(text).digest('base64url');

/** One received event, normalised. */
export interface ExchangeHalf {
  /** exchangeKey(): what deduplication and pairing go by. */
  key: string;
  id: string;
  kind: HalfKind;
  meta: HalfMeta;
  /** `time` as epoch ms (falls back to the receive time). */
  timeMs: number;
  body: Uint8Array;
  model: string;
  namespace: string;
  component: string;
  endpoint: string;
  source: string;
  method: string | null;
  url: string | null;
  metadata: Record<string, string[]>;
  annotations: Record<string, string>;
  statusCode: number | null;
  latencyMs: number | null;
  sampleWeight: number | null;
  errorCode: string | null;
  /** Only on response halves: the response's real content type (`responsecontenttype`). */
  responseContentType: string | null;
  /** The event's `traceparent` (CloudEvents distributed tracing), when it carried a valid one. */
  trace?: TraceRef | null;
  /** The `batch` extension, when the exchange was answered from a merged model call. */
  batch?: BatchView | null;
  /**
   * Store one row per instance when this half completes the exchange (`collect --log-instances`).
   * Set by the collector, never read from the event: what is derived is the operator's choice.
   */
  instances?: boolean;
}

/** Where an exchange sits in a distributed trace, as its events said (validated W3C values). */
export interface TraceRef {
  traceId: string;
  spanId: string;
  tracestate?: string;
}

/** Everything about an exchange except the bodies; stored as JSON next to the indexed columns. */
export interface ExchangeDetail {
  model: string;
  namespace: string;
  component: string;
  endpoint: string;
  source: string;
  method: string | null;
  url: string | null;
  metadata: Record<string, string[]>;
  annotations: Record<string, string>;
  request: HalfMeta | null;
  response: HalfMeta | null;
  /** Status / latency / weight as each half reported them (the row's values are derived). */
  reported: {
    status: number | null;
    latencyMs: number | null;
    sampleWeight: number | null;
    errorCode: string | null;
    requestTimeMs: number | null;
    responseTimeMs: number | null;
  };
  requestPreview: string | null;
  /** The response body's first characters, for the list's error message column (absent in older rows). */
  responsePreview?: string | null;
  /** W3C trace context of the exchange (absent in rows stored before trace context was kept). */
  trace?: TraceRef | null;
  /** The request batch it was answered from (absent when not batched, and in older rows). */
  batch?: BatchView;
}

/** A row: indexed columns + detail. Bodies travel separately. */
export interface ExchangeRow {
  /** The store key (exchangeKey): unique per exchange. */
  key: string;
  /** The CloudEvents id, as sent: unique only within a sender scope. */
  id: string;
  /** Sort/filter time: request time, else response time (epoch ms). */
  timeMs: number;
  model: string;
  namespace: string;
  component: string;
  status: number | null;
  errorCode: string | null;
  latencyMs: number | null;
  latencyBucket: number | null;
  sampleWeight: number;
  /** The W3C trace id (32 lower-case hex) when the events carried one: indexed for `traceId` filters. */
  traceId: string | null;
  complete: boolean;
  /** Lower-cased text of both bodies (first 64 KiB each), for `q`. */
  searchText: string;
  detail: ExchangeDetail;
}

const SEARCH_CAP = 64 * 1024;
const PREVIEW_CHARS = 200;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function num(v: string | undefined): number | null {
  if (v === undefined || v.trim() === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

function str(v: string | undefined): string | null {
  return v === undefined || v === '' ? null : v;
}

export function textOf(bytes: Uint8Array): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

export function halfFromEvent(ev: DecodedEvent, receivedMs: number): ExchangeHalf {
  const x = ev.extensions;
  const kind: HalfKind =
    ev.type === CE_TYPE_RESPONSE || ev.type.endsWith('.response') ? 'response' : 'request';
  const truncated = x[EXT.truncated] === 'true' || x[EXT.truncated] === '1';
  const timeMs = ev.time !== undefined ? (parseRfc3339(ev.time) ?? receivedMs) : receivedMs;
  const status = num(x[EXT.statuscode]);
  const model = x.inferenceservicename ?? '';
  const namespace = x.namespace ?? '';
  const component = x.component ?? '';
  return {
    key: exchangeKey({ id: ev.id, source: ev.source, namespace, model, component }),
    id: ev.id,
    kind,
    timeMs,
    body: ev.data,
    meta: {
      type: ev.type,
      // The client's own type wins over the event's (octet-stream when the client named a CloudEvents format).
      contentType:
        kind === 'response'
          ? (str(x[EXT.responsecontenttype]) ?? ev.datacontenttype ?? null)
          : (str(x[EXT.originalcontenttype]) ?? ev.datacontenttype ?? null),
      size: ev.data.byteLength,
      truncated,
      originalSize: num(x[EXT.originalsize]),
      sha256: str(x[EXT.sha256]),
      time: ev.time ?? null,
      recordedTime: str(x.recordedtime),
      ...(kind === 'response' && x[EXT.streaminfo] !== undefined
        ? { stream: streamInfo(x[EXT.streaminfo]) }
        : {}),
    },
    model,
    namespace,
    component,
    endpoint: x.endpoint ?? '',
    source: ev.source,
    method: str(x[EXT.method]),
    url: str(x[EXT.url]),
    metadata: ev.metadata,
    annotations: ev.annotations,
    // HTTP's three digits, or 0 (no response: see errorcode). Any other number is no status: a
    // client's 1e12 overflowed PostgreSQL's INTEGER column and failed the whole group commit.
    statusCode: status !== null && Number.isInteger(status) && status >= 0 && status <= 999 ? status : null,
    latencyMs: num(x[EXT.latencyms]),
    sampleWeight: num(x[EXT.sampleweight]),
    errorCode: str(x[EXT.errorcode]),
    responseContentType: str(x[EXT.responsecontenttype]),
    trace: traceRef(x[EXT.traceparent], x[EXT.tracestate]),
    batch: batchInfo(x[EXT.batch]),
  };
}

/**
 * The event's trace context, validated like an inbound request header (core/trace-context.ts): a
 * sender cannot store a malformed id that the UI would turn into a link, or bloat the index.
 */
function traceRef(traceparent: string | undefined, tracestate: string | undefined): TraceRef | null {
  const tp = parseTraceparent(traceparent);
  if (tp === undefined) return null;
  const ref: TraceRef = { traceId: tp.traceId, spanId: tp.parentId };
  const state = parseTracestate(tracestate);
  if (state !== undefined) ref.tracestate = state;
  return ref;
}

/** Log-scale latency bucket: width 2^(1/8) (≈9%), so a percentile read from it is within ~5%. */
export function latencyBucket(ms: number): number {
  return ms <= 0.001 ? -80 : Math.ceil(Math.log2(ms) * 8);
}

/** The representative value of a bucket: the geometric middle of its bounds. */
export function bucketValue(bucket: number): number {
  return Math.round(2 ** ((bucket - 0.5) / 8) * 1000) / 1000;
}

function preview(body: Uint8Array): string | null {
  const t =
    textOf(body.byteLength > 4 * PREVIEW_CHARS ? body.subarray(0, 4 * PREVIEW_CHARS) : body) ?? textOf(body);
  if (t === null) return null;
  return t.length > PREVIEW_CHARS ? t.slice(0, PREVIEW_CHARS) : t;
}

function searchPart(body: Uint8Array): string {
  const t = textOf(body.byteLength > SEARCH_CAP ? body.subarray(0, SEARCH_CAP) : body);
  return t === null ? '' : t.toLowerCase();
}

/**
 * Adds a half to an exchange (or starts one). Returns undefined when that half is
 * already stored: a retry or a duplicate delivery.
 */
export function mergeHalf(existing: ExchangeRow | undefined, half: ExchangeHalf): ExchangeRow | undefined {
  if (existing && existing.detail[half.kind] !== null) return undefined;
  const prev = existing?.detail;
  const pick = (a: string | undefined, b: string): string => (a !== undefined && a !== '' ? a : b);
  const rep = prev?.reported ?? {
    status: null,
    latencyMs: null,
    sampleWeight: null,
    errorCode: null,
    requestTimeMs: null,
    responseTimeMs: null,
  };
  const reported = {
    // The response half's status wins; a request half may carry one when no response event will come.
    status: half.kind === 'response' ? (half.statusCode ?? rep.status) : (rep.status ?? half.statusCode),
    latencyMs: rep.latencyMs ?? half.latencyMs,
    sampleWeight: rep.sampleWeight ?? half.sampleWeight,
    errorCode: rep.errorCode ?? half.errorCode,
    requestTimeMs: half.kind === 'request' ? half.timeMs : rep.requestTimeMs,
    responseTimeMs: half.kind === 'response' ? half.timeMs : rep.responseTimeMs,
  };
  const detail: ExchangeDetail = {
    model: pick(prev?.model, half.model),
    namespace: pick(prev?.namespace, half.namespace),
    component: pick(prev?.component, half.component),
    endpoint: pick(prev?.endpoint, half.endpoint),
    source: half.kind === 'request' ? half.source : pick(prev?.source, half.source),
    method: prev?.method ?? half.method,
    url: prev?.url ?? half.url,
    metadata: { ...half.metadata, ...(prev?.metadata ?? {}) },
    annotations: { ...half.annotations, ...(prev?.annotations ?? {}) },
    request: half.kind === 'request' ? half.meta : (prev?.request ?? null),
    response: half.kind === 'response' ? half.meta : (prev?.response ?? null),
    reported,
    requestPreview: half.kind === 'request' ? preview(half.body) : (prev?.requestPreview ?? null),
    responsePreview: half.kind === 'response' ? preview(half.body) : (prev?.responsePreview ?? null),
    trace: prev?.trace ?? half.trace ?? null,
  };
  // The first half that names a batch decides it (both carry the same one).
  const batch = prev?.batch ?? half.batch ?? undefined;
  if (batch) detail.batch = batch;
  const hasResponse = detail.response !== null;
  // KServe sends no status: its response event exists only for status 200.
  const status = reported.status ?? (hasResponse ? 200 : null);
  let latency = reported.latencyMs;
  if (latency === null && reported.requestTimeMs !== null && reported.responseTimeMs !== null) {
    latency = Math.round((reported.responseTimeMs - reported.requestTimeMs) * 1000) / 1000;
  }
  return {
    key: half.key,
    id: half.id,
    timeMs: reported.requestTimeMs ?? reported.responseTimeMs ?? half.timeMs,
    model: detail.model,
    namespace: detail.namespace,
    component: detail.component,
    status,
    errorCode: reported.errorCode,
    latencyMs: latency,
    latencyBucket: latency === null ? null : latencyBucket(latency),
    sampleWeight: reported.sampleWeight ?? 1,
    traceId: detail.trace?.traceId ?? null,
    complete: detail.request !== null && detail.response !== null,
    // Substring search does not care which half a text came from, so halves just append.
    searchText: existing ? `${existing.searchText}\n${searchPart(half.body)}` : searchPart(half.body),
    detail,
  };
}
