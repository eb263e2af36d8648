/**
 * A row of the `exchanges` view → the collector API's ExchangeView, so `query --from` prints
 * (table, json, jsonl) exactly what `query` against a collector prints.
 */
import { rfc3339Nano } from '../../core/time.js';
import type { ExchangeView, HalfView } from '../../api/view.js';
import { textOf } from '../../store/exchange-record.js';

/** The columns a listing reads (bodies only as far as previews and --id need them). */
export const VIEW_COLUMNS = [
  'id',
  'epoch_us(time) AS time_us',
  'epoch_us(response_time) AS response_us',
  'latency_us',
  'status',
  'method',
  'url',
  'namespace',
  'inferenceservice',
  'component',
  'endpoint',
  'source_uri',
  'metadata',
  'annotations',
  'error_code',
  'sample_weight',
  'trace_id',
  'span_id',
  'batch_id',
  'batch_size',
  'batch_position',
  'stream',
  ...['request', 'response'].flatMap((h) => [
    `${h}_body`,
    `${h}_content_type`,
    `${h}_size`,
    `${h}_truncated`,
    `${h}_sha256`,
  ]),
].join(', ');

type Row = Record<string, unknown>;

/** DuckDB's BIGINTs arrive as bigint, which JSON cannot carry: numbers (token counts fit). */
function plain(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array))
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

const PREVIEW_CHARS = 160;

function mapOf<T>(v: unknown): Record<string, T> {
  const out: Record<string, T> = {};
  if (Array.isArray(v)) for (const e of v as { key: string; value: T }[]) out[e.key] = e.value;
  return out;
}

function half(r: Row, h: 'request' | 'response', time: string, withBody: boolean): HalfView | null {
  const body = r[`${h}_body`] as Uint8Array | null;
  if (body === null || body === undefined) return null;
  const size = Number(r[`${h}_size`]);
  const truncated = r[`${h}_truncated`] === true;
  const v: HalfView = {
    type: `org.kubeflow.serving.inference.${h}`,
    contentType: (r[`${h}_content_type`] as string | null) ?? null,
    size: body.byteLength,
    truncated,
    originalSize: truncated ? size : null,
    sha256: (r[`${h}_sha256`] as string | null) ?? null,
    time,
    recordedTime: null,
  };
  if (h === 'response' && r.stream) v.stream = plain(r.stream) as Record<string, unknown>;
  if (withBody) {
    const text = textOf(body);
    if (text !== null) {
      v.body = text;
      v.bodyEncoding = 'utf8';
    } else {
      v.body = Buffer.from(body).toString('base64');
      v.bodyEncoding = 'base64';
    }
  }
  return v;
}

function preview(r: Row, h: 'request' | 'response'): string | null {
  const body = r[`${h}_body`] as Uint8Array | null;
  if (!body) return null;
  const text = textOf(body.subarray(0, PREVIEW_CHARS * 4));
  return text === null ? null : text.slice(0, PREVIEW_CHARS);
}

export function rowToView(r: Row, withBodies: boolean): ExchangeView {
  const timeMs = Number(r.time_us as bigint) / 1000;
  const responseMs = Number(r.response_us as bigint) / 1000;
  const requestTime = rfc3339Nano(timeMs);
  const responseTime = rfc3339Nano(responseMs);
  const v: ExchangeView = {
    id: r.id as string,
    key: r.id as string,
    complete: true,
    model: r.inferenceservice as string,
    namespace: r.namespace as string,
    component: r.component as string,
    endpoint: r.endpoint as string,
    source: r.source_uri as string,
    method: r.method as string,
    url: r.url as string,
    time: requestTime,
    requestTime,
    responseTime,
    latencyMs: Number(r.latency_us as bigint) / 1000,
    status: r.status as number,
    errorCode: (r.error_code as string | null) ?? null,
    sampleWeight: r.sample_weight as number,
    metadata: mapOf<string[]>(r.metadata),
    annotations: mapOf<string>(r.annotations),
    request: half(r, 'request', requestTime, withBodies),
    response: half(r, 'response', responseTime, withBodies),
  };
  if (!withBodies) {
    v.requestPreview = preview(r, 'request');
    v.responsePreview = preview(r, 'response');
  }
  if (typeof r.trace_id === 'string') v.traceId = r.trace_id;
  if (typeof r.span_id === 'string') v.spanId = r.span_id;
  if (typeof r.batch_id === 'string')
    v.batch = { id: r.batch_id, size: r.batch_size as number, position: r.batch_position as number };
  return v;
}
