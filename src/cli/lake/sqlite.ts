/**
 * A collector's SQLite store read as Exchanges, for `inferlog query --db FILE --sql …`.
 *
 *   exchanges (+ detail JSON) ⋈ exchange_bodies ──better-sqlite3, read-only──▶ Exchange[] in chunks
 *
 * The store keeps per-half metadata and bodies, not the agent's Exchange: what it does not keep
 * (stream summary beyond the response's `streaminfo`, trace flags) is left empty.
 */
import Database from 'better-sqlite3';
import type { CapturedBody, Exchange, StreamInfo } from '../../core/exchange.js';
import type { ExchangeDetail, HalfMeta } from '../../store/exchange-record.js';
import type { DbExchangeRow } from '../../store/row-codec.js';

/** The store's columns this reader selects (store/row-codec.ts names them), plus both bodies. */
type Row = Pick<
  DbExchangeRow,
  | 'key'
  | 'id'
  | 'time_ms'
  | 'model'
  | 'namespace'
  | 'component'
  | 'status'
  | 'error_code'
  | 'latency_ms'
  | 'sample_weight'
  | 'detail'
> & { request_body: Buffer | null; response_body: Buffer | null };

export function* readSqliteExchanges(file: string, chunk: number): Generator<Exchange[]> {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    // Bodies are keyed by the row's rid since migration 6; a file from before it (read-only here,
    // so never migrated) keys them by the exchange key.
    const by = (db.pragma('table_info(exchange_bodies)') as { name: string }[]).some((c) => c.name === 'rid')
      ? 'rid'
      : 'key';
    const stmt = db.prepare(
      `SELECT e.key, e.id, e.time_ms, e.model, e.namespace, e.component, e.status, e.error_code,
              e.latency_ms, e.sample_weight, e.detail,
              (SELECT body FROM exchange_bodies b WHERE b.${by} = e.${by} AND b.kind = 0) AS request_body,
              (SELECT body FROM exchange_bodies b WHERE b.${by} = e.${by} AND b.kind = 1) AS response_body
       FROM exchanges e ORDER BY e.seq`,
    );
    let out: Exchange[] = [];
    for (const r of stmt.iterate() as Iterable<Row>) {
      out.push(toExchange(r));
      if (out.length >= chunk) {
        yield out;
        out = [];
      }
    }
    if (out.length > 0) yield out;
  } finally {
    db.close();
  }
}

function body(meta: HalfMeta | null, bytes: Buffer | null): CapturedBody | undefined {
  if (!meta) return undefined;
  const b: CapturedBody = {
    bytes: bytes ?? new Uint8Array(0),
    size: meta.originalSize ?? meta.size,
    truncated: meta.truncated,
  };
  if (meta.contentType !== null) b.contentType = meta.contentType;
  if (meta.sha256 !== null) b.sha256 = meta.sha256;
  return b;
}

function toExchange(r: Row): Exchange {
  const d = JSON.parse(r.detail) as ExchangeDetail;
  const requestTime = d.reported.requestTimeMs ?? r.time_ms;
  const ex: Exchange = {
    id: r.id,
    source: {
      inferenceService: r.model,
      namespace: r.namespace,
      component: r.component,
      endpoint: d.endpoint,
      sourceUri: d.source,
      annotations: d.annotations,
    },
    mode: d.request && d.response ? 'all' : d.request ? 'request' : 'response',
    method: d.method ?? '',
    url: d.url ?? '',
    metadata: d.metadata,
    requestTime,
    responseTime: d.reported.responseTimeMs ?? requestTime + (r.latency_ms ?? 0),
    status: r.status ?? 0,
    sampleWeight: r.sample_weight,
  };
  const req = body(d.request, r.request_body);
  const res = body(d.response, r.response_body);
  if (req) ex.request = req;
  if (res) ex.response = res;
  if (r.error_code !== null) ex.error = { code: r.error_code, message: '' };
  const s = d.response?.stream;
  if (s && typeof s.chunks === 'number')
    ex.stream = {
      chunks: s.chunks,
      ttfbMs: Number(s.ttfbMs ?? 0),
      ttlbMs: Number(s.ttlbMs ?? 0),
      partial: s.partial === true,
    } satisfies StreamInfo;
  if (d.trace) ex.trace = { traceId: d.trace.traceId, spanId: d.trace.spanId, flags: 0 };
  if (d.batch) ex.batch = d.batch;
  return ex;
}
