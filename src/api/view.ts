/** Stored exchange → the JSON the API answers (see docs/collector.md, "Query API"). */
import { rfc3339Nano } from '../core/time.js';
import type { BatchView, HalfMeta } from '../store/exchange-record.js';
import { textOf } from '../store/exchange-record.js';
import type { ExchangeWithBodies, StoredExchange, StoredInstance } from '../store/store.js';

export interface HalfView extends HalfMeta {
  body?: string;
  bodyEncoding?: 'utf8' | 'base64';
}

export interface ExchangeView {
  /** The CloudEvents id as sent (unique only per sender scope). */
  id: string;
  /**
   * The store's unique key for this exchange; `GET /api/v1/exchanges/{key}` finds exactly it.
   * Always set by this collector (optional for clients reading an older one).
   */
  key?: string;
  complete: boolean;
  model: string;
  namespace: string;
  component: string;
  endpoint: string;
  source: string;
  method: string | null;
  url: string | null;
  time: string;
  requestTime: string | null;
  responseTime: string | null;
  latencyMs: number | null;
  status: number | null;
  errorCode: string | null;
  sampleWeight: number;
  /** W3C trace id of the exchange (32 lower-case hex), when its events carried one. */
  traceId?: string;
  /** The span the exchange was logged under (16 lower-case hex), with traceId. */
  spanId?: string;
  metadata: Record<string, string[]>;
  annotations: Record<string, string>;
  request: HalfView | null;
  response: HalfView | null;
  requestPreview?: string | null;
  responsePreview?: string | null;
  /** Set when the exchange was answered from a merged model call (the agent's request batcher). */
  batch?: BatchView;
}

function halfTime(meta: HalfMeta | null, ms: number | null): string | null {
  if (!meta) return null;
  return meta.time ?? (ms === null ? null : rfc3339Nano(ms));
}

function base(s: StoredExchange): ExchangeView {
  const { row } = s;
  const d = row.detail;
  const requestTime = halfTime(d.request, d.reported.requestTimeMs);
  const responseTime = halfTime(d.response, d.reported.responseTimeMs);
  const v: ExchangeView = {
    id: row.id,
    key: row.key,
    complete: row.complete,
    model: d.model,
    namespace: d.namespace,
    component: d.component,
    endpoint: d.endpoint,
    source: d.source,
    method: d.method,
    url: d.url,
    time: requestTime ?? responseTime ?? rfc3339Nano(row.timeMs),
    requestTime,
    responseTime,
    latencyMs: row.latencyMs,
    status: row.status,
    errorCode: row.errorCode,
    sampleWeight: row.sampleWeight,
    metadata: d.metadata,
    annotations: d.annotations,
    request: d.request ? { ...d.request } : null,
    response: d.response ? { ...d.response } : null,
    ...(d.batch ? { batch: d.batch } : {}),
  };
  if (d.trace) {
    v.traceId = d.trace.traceId;
    v.spanId = d.trace.spanId;
  }
  return v;
}

export function toListItem(s: StoredExchange): ExchangeView {
  return {
    ...base(s),
    requestPreview: s.row.detail.requestPreview,
    responsePreview: s.row.detail.responsePreview ?? null,
  };
}

function withBody(half: HalfView | null, body: Uint8Array | null): HalfView | null {
  if (!half) return null;
  const bytes = body ?? new Uint8Array(0);
  const text = textOf(bytes);
  return text !== null
    ? { ...half, body: text, bodyEncoding: 'utf8' }
    : {
        ...half,
        body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'),
        bodyEncoding: 'base64',
      };
}

export function toFullExchange(s: ExchangeWithBodies): ExchangeView {
  const v = base(s);
  v.request = withBody(v.request, s.requestBody);
  v.response = withBody(v.response, s.responseBody);
  return v;
}

/** One prediction of a stored exchange (`GET /api/v1/instances`, `/api/v1/exchanges/{id}/instances`). */
export interface InstanceView {
  /** The exchange's CloudEvents id, as sent. */
  exchangeId: string;
  /** The exchange's store key: `GET /api/v1/exchanges/{exchange}` opens exactly it. */
  exchange: string;
  model: string;
  namespace: string;
  component: string;
  /** The exchange's time (RFC 3339). */
  time: string;
  /** Its place in the request, 0-based. */
  index: number;
  /** The exchange's sample weight (1/rate when sampled): weigh rows by it in aggregates. */
  sampleWeight: number;
  input: unknown;
  prediction?: unknown;
}

export function toInstanceView(s: StoredInstance): InstanceView {
  const v: InstanceView = {
    exchangeId: s.exchangeId,
    exchange: s.key,
    model: s.model,
    namespace: s.namespace,
    component: s.component,
    time: rfc3339Nano(s.timeMs),
    index: s.index,
    sampleWeight: s.sampleWeight,
    input: s.input,
  };
  if ('prediction' in s) v.prediction = s.prediction;
  return v;
}
