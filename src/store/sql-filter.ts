/**
 * ExchangeFilter → SQL WHERE clause, shared by both stores. Only the placeholder
 * style and the substring function differ between SQLite and PostgreSQL.
 */
import type { AccessScope, ExchangeFilter, PagePosition } from './store.js';

export interface Dialect {
  /** Placeholder for the n-th parameter (1-based). */
  param(n: number): string;
  /** SQL that is true when `col` contains the parameter. */
  contains(col: string, param: string): string;
  /**
   * `col` in a form the planner will not use an index for. SQLite would otherwise pick the
   * status index for a status range and sort every match by time; walking the time index
   * and filtering is far cheaper for a newest-first page.
   */
  noIndex(col: string): string;
  /**
   * True when the exchange's request metadata (headers, in `detail`) has a header named
   * `nameParam` (lower case; compared lower-cased) with exactly the value `valueParam`.
   */
  headerEquals(nameParam: string, valueParam: string): string;
}

export const sqliteDialect: Dialect = {
  param: () => '?',
  contains: (c, p) => `instr(${c}, ${p}) > 0`,
  noIndex: (c) => `+${c}`,
  headerEquals: (n, v) =>
    `EXISTS (SELECT 1 FROM json_each(detail, '$.metadata') AS h, json_each(h.value) AS hv WHERE lower(h.key) = ${n} AND hv.value = ${v})`,
};
export const postgresDialect: Dialect = {
  param: (n) => `$${n}`,
  contains: (c, p) => `strpos(${c}, ${p}) > 0`,
  noIndex: (c) => c,
  headerEquals: (n, v) =>
    `EXISTS (SELECT 1 FROM jsonb_each(detail::jsonb -> 'metadata') AS h, jsonb_array_elements_text(h.value) AS hv(x) WHERE lower(h.key) = ${n} AND hv.x = ${v})`,
};

/** True when JSON.stringify writes the string's characters as they are (nothing to escape). */
function storedVerbatimInJson(value: string): boolean {
  if (value === '') return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return false;
  }
  return true;
}

export class SqlBuilder {
  readonly params: unknown[] = [];
  readonly clauses: string[] = [];
  constructor(private readonly d: Dialect) {}
  p(v: unknown): string {
    this.params.push(v);
    return this.d.param(this.params.length);
  }
  where(): string {
    return this.clauses.length ? `WHERE ${this.clauses.join(' AND ')}` : '';
  }
  /**
   * The principal's allow-list as `IN (…)` clauses (an empty list matches nothing). Applied to
   * rows and rollups alike (both have `namespace` and `model` columns).
   */
  allow(a: AccessScope | undefined): this {
    if (!a) return this;
    const inList = (col: string, values: readonly string[]): string =>
      values.length === 0 ? '1 = 0' : `${col} IN (${values.map((v) => this.p(v)).join(', ')})`;
    if (a.namespaces !== undefined) this.clauses.push(inList('namespace', a.namespaces));
    if (a.models !== undefined) this.clauses.push(inList('model', a.models));
    return this;
  }
  filter(f: ExchangeFilter): this {
    this.allow(f.allow);
    if (f.exchangeId !== undefined) {
      const k = this.p(f.exchangeId);
      this.clauses.push(`(key = ${k} OR id = ${this.p(f.exchangeId)})`);
    }
    if (f.header !== undefined) {
      // A plain substring test on the stored JSON first rules out almost every row cheaply; only
      // the few that contain the value are parsed. Valid only when JSON stores the value as is
      // (no quote, backslash or control character to escape).
      if (storedVerbatimInJson(f.header.value))
        this.clauses.push(this.d.contains('detail', this.p(f.header.value)));
      this.clauses.push(this.d.headerEquals(this.p(f.header.name.toLowerCase()), this.p(f.header.value)));
    }
    if (f.model !== undefined) this.clauses.push(`model = ${this.p(f.model)}`);
    if (f.namespace !== undefined) this.clauses.push(`namespace = ${this.p(f.namespace)}`);
    if (f.component !== undefined) this.clauses.push(`component = ${this.p(f.component)}`);
    if (f.traceId !== undefined) this.clauses.push(`trace_id = ${this.p(f.traceId.toLowerCase())}`);
    if (f.sinceMs !== undefined) this.clauses.push(`time_ms >= ${this.p(f.sinceMs)}`);
    if (f.untilMs !== undefined) this.clauses.push(`time_ms < ${this.p(f.untilMs)}`);
    if (f.q !== undefined && f.q !== '')
      this.clauses.push(this.d.contains('search_text', this.p(f.q.toLowerCase())));
    const s = f.status;
    if (s) {
      if (s.kind === 'exact') this.clauses.push(`status = ${this.p(s.code)}`);
      else if (s.kind === 'class')
        this.clauses.push(
          `${this.d.noIndex('status')} >= ${this.p(s.hundreds * 100)} AND ${this.d.noIndex('status')} < ${this.p(s.hundreds * 100 + 100)}`,
        );
      else if (s.kind === 'error')
        this.clauses.push(`(error_code IS NOT NULL OR ${this.d.noIndex('status')} = 0)`);
      else this.clauses.push(`${this.d.noIndex('status')} IS NULL AND error_code IS NULL`);
    }
    return this;
  }
  after(pos: PagePosition | undefined): this {
    if (!pos) return this;
    if (pos.kind === 'seq') this.clauses.push(`seq > ${this.p(pos.seq)}`);
    else {
      const t = this.p(pos.timeMs);
      const t2 = this.p(pos.timeMs);
      this.clauses.push(`(time_ms < ${t} OR (time_ms = ${t2} AND id < ${this.p(pos.id)}))`);
    }
    return this;
  }
}

export const LIST_COLUMNS =
  'key, id, seq, time_ms, model, namespace, component, status, error_code, latency_ms, latency_bucket, sample_weight, trace_id, complete, detail';
