/**
 * The collector's list filters (collector/query-params.ts) as DuckDB SQL over the `exchanges`
 * view, with the collector's meanings: `model` is the InferenceService, `q` is body text (any
 * case), `status error` is a failure or no response, newest first with the same cursor shape.
 */
import type { DuckDBValue } from '@duckdb/node-api';
import type { ExchangeFilter, PagePosition } from '../../store/store.js';

export interface WhereClause {
  sql: string;
  params: DuckDBValue[];
}

/** Body text for `q`: undecodable bytes (binary) contribute nothing. */
const text = (col: string): string => `coalesce(try(decode(${col})), '')`;

export function whereOf(f: ExchangeFilter, after?: PagePosition): WhereClause {
  const c: string[] = [];
  const params: DuckDBValue[] = [];
  const p = (v: DuckDBValue): string => {
    params.push(v);
    return '?';
  };
  if (f.model !== undefined) c.push(`inferenceservice = ${p(f.model)}`);
  if (f.namespace !== undefined) c.push(`namespace = ${p(f.namespace)}`);
  if (f.component !== undefined) c.push(`component = ${p(f.component)}`);
  if (f.traceId !== undefined) c.push(`trace_id = ${p(f.traceId.toLowerCase())}`);
  if (f.sinceMs !== undefined) c.push(`epoch_us(time) >= ${p(BigInt(Math.round(f.sinceMs * 1000)))}`);
  if (f.untilMs !== undefined) c.push(`epoch_us(time) < ${p(BigInt(Math.round(f.untilMs * 1000)))}`);
  if (f.q !== undefined && f.q !== '') {
    const q = p(f.q.toLowerCase());
    c.push(
      `(contains(lower(${text('request_body')}), ${q}) OR contains(lower(${text('response_body')}), ${p(f.q.toLowerCase())}))`,
    );
  }
  const s = f.status;
  if (s) {
    if (s.kind === 'exact') c.push(`status = ${p(s.code)}`);
    else if (s.kind === 'class')
      c.push(`status >= ${p(s.hundreds * 100)} AND status < ${p(s.hundreds * 100 + 100)}`);
    else if (s.kind === 'error') c.push(`(error_code IS NOT NULL OR status = 0)`);
    // The lake holds whole exchanges only: none is incomplete.
    else c.push('FALSE');
  }
  if (after?.kind === 'time') {
    const t = BigInt(Math.round(after.timeMs * 1000));
    c.push(`(epoch_us(time) < ${p(t)} OR (epoch_us(time) = ${p(t)} AND id < ${p(after.id)}))`);
  }
  return { sql: c.length ? `WHERE ${c.join(' AND ')}` : '', params };
}
