/** Database row ↔ StoredExchange, shared by both stores (same column names). */
import type { ExchangeDetail, ExchangeRow } from './exchange-record.js';
import type { StoredExchange } from './store.js';

export interface DbExchangeRow {
  key: string;
  id: string;
  seq: number | string;
  time_ms: number;
  model: string;
  namespace: string;
  component: string;
  status: number | null;
  error_code: string | null;
  latency_ms: number | null;
  latency_bucket: number | null;
  sample_weight: number;
  trace_id?: string | null;
  complete: number | boolean;
  detail: string;
  search_text?: string;
}

export function fromDb(r: DbExchangeRow): StoredExchange {
  const row: ExchangeRow = {
    key: r.key,
    id: r.id,
    timeMs: Number(r.time_ms),
    model: r.model,
    namespace: r.namespace,
    component: r.component,
    status: r.status,
    errorCode: r.error_code,
    latencyMs: r.latency_ms === null ? null : Number(r.latency_ms),
    latencyBucket: r.latency_bucket,
    sampleWeight: Number(r.sample_weight),
    traceId: r.trace_id ?? null,
    complete: r.complete === true || r.complete === 1,
    searchText: r.search_text ?? '',
    detail: JSON.parse(r.detail) as ExchangeDetail,
  };
  return { row, seq: Number(r.seq) };
}

/** Column values in the order of WRITE_COLUMNS. */
export const WRITE_COLUMNS = [
  'key',
  'id',
  'seq',
  'time_ms',
  'model',
  'namespace',
  'component',
  'status',
  'error_code',
  'latency_ms',
  'latency_bucket',
  'sample_weight',
  'trace_id',
  'complete',
  'search_text',
  'detail',
] as const;
export type WriteColumn = (typeof WRITE_COLUMNS)[number];

export function toDbValues(
  row: ExchangeRow,
  seq: number,
  completeAs: (b: boolean) => number | boolean,
): unknown[] {
  return [
    row.key,
    row.id,
    seq,
    row.timeMs,
    row.model,
    row.namespace,
    row.component,
    row.status,
    row.errorCode,
    row.latencyMs,
    row.latencyBucket,
    row.sampleWeight,
    row.traceId,
    completeAs(row.complete),
    row.searchText,
    JSON.stringify(row.detail),
  ];
}

export const KIND_CODE = { request: 0, response: 1 } as const;
