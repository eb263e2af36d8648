/**
 * ExchangeFilter → SQL WHERE clause, shared by both stores. Only the placeholder
 * style and the substring function differ between SQLite and PostgreSQL.
 */
import type { ExchangeFilter, PagePosition } from './store.js';

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
}

export const sqliteDialect: Dialect = {
  param: () => '?',
  contains: (c, p) => `instr(${c}, ${p}) > 0`,
  noIndex: (c) => `+${c}`,
};
export const postgresDialect: Dialect = {
  param: (n) => `$${n}`,
  contains: (c, p) => `strpos(${c}, ${p}) > 0`,
  noIndex: (c) => c,
};

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
  filter(f: ExchangeFilter): this {
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
