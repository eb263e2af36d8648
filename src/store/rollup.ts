/**
 * Rollups of exchanges by day and by hour, so stats over long windows read a few rollup
 * rows per period instead of every exchange.
 *
 *   putEvents: row changes ──▶ −old contribution, +new contribution ──▶ exchange_daily, _hourly, _minutely
 *              (same transaction as the rows)
 *   stats(window): whole days ──▶ exchange_daily; whole hours at the ends ──▶ exchange_hourly;
 *                  whole minutes at the ends ──▶ exchange_minutely; the partial minutes ──▶ exchanges
 *
 * So answers are exact. Nullable dimensions use sentinels (status −1, bucket −9999) because
 * NULLs are never equal in a primary key.
 */
import type { ExchangeRow } from './exchange-record.js';
import type { Dialect } from './sql-filter.js';
import { SqlBuilder } from './sql-filter.js';
import type { ExchangeFilter, StatsGroup, TimeSeriesGroup } from './store.js';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
export const MINUTE_MS = 60_000;
export const NO_STATUS = -1;
export const NO_BUCKET = -9999;

export interface RollupLevel {
  table: 'exchange_daily' | 'exchange_hourly' | 'exchange_minutely';
  ms: number;
}
/** Coarsest first. */
export const LEVELS: readonly RollupLevel[] = [
  { table: 'exchange_daily', ms: DAY_MS },
  { table: 'exchange_hourly', ms: HOUR_MS },
  { table: 'exchange_minutely', ms: MINUTE_MS },
];

export interface RollupDelta {
  period: number;
  model: string;
  namespace: string;
  component: string;
  status: number;
  err: number;
  complete: number;
  bucket: number;
  n: number;
  w: number;
}

export const ROLLUP_KEY = [
  'period',
  'model',
  'namespace',
  'component',
  'status',
  'err',
  'complete',
  'bucket',
] as const;
export const ROLLUP_COLUMNS = [...ROLLUP_KEY, 'n', 'w'] as const;

export function rollupDelta(row: ExchangeRow, sign: 1 | -1, level: RollupLevel): RollupDelta {
  return {
    period: Math.floor(row.timeMs / level.ms),
    model: row.model,
    namespace: row.namespace,
    component: row.component,
    status: row.status ?? NO_STATUS,
    err: row.errorCode !== null ? 1 : 0,
    complete: row.complete ? 1 : 0,
    bucket: row.latencyBucket ?? NO_BUCKET,
    n: sign,
    w: sign * row.sampleWeight,
  };
}

/** Per level: the deltas of these row changes, summed by key, sorted by key (a stable lock order). */
export function levelDeltas(
  changes: readonly { row: ExchangeRow; sign: 1 | -1 }[],
): Map<RollupLevel, RollupDelta[]> {
  const out = new Map<RollupLevel, RollupDelta[]>();
  for (const level of LEVELS) {
    const byKey = new Map<string, RollupDelta>();
    for (const ch of changes) {
      const d = rollupDelta(ch.row, ch.sign, level);
      const k = JSON.stringify(ROLLUP_KEY.map((c) => d[c]));
      const cur = byKey.get(k);
      if (cur) {
        cur.n += d.n;
        cur.w += d.w;
      } else byKey.set(k, d);
    }
    out.set(
      level,
      [...byKey.entries()]
        .filter(([, d]) => d.n !== 0 || d.w !== 0)
        .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
        .map(([, d]) => d),
    );
  }
  return out;
}

/**
 * Deletes a rollup row whose count fell to zero (after an erasure), so no row is left that
 * still names an erased exchange's model and namespace. Parameters: the ROLLUP_KEY values.
 */
export function pruneSql(table: RollupLevel['table'], param: (n: number) => string): string {
  return `DELETE FROM ${table} WHERE ${ROLLUP_KEY.map((c, i) => `${c} = ${param(i + 1)}`).join(' AND ')} AND n = 0`;
}

export function rollupKeyValues(d: RollupDelta): unknown[] {
  return ROLLUP_KEY.map((c) => d[c]);
}

export function rollupValues(d: RollupDelta): unknown[] {
  return ROLLUP_COLUMNS.map((c) => d[c]);
}

export interface WindowPlan {
  /** Whole periods [from, to) answered by a rollup table. */
  rollups: { level: RollupLevel; from: number; to: number }[];
  /** Time ranges answered from the exchanges themselves. */
  raw: { sinceMs: number; untilMs: number }[];
}

/** Splits [since, until) into whole days, whole hours and minutes at the ends, and raw partial minutes. */
export function planWindow(sinceMs: number, untilMs: number): WindowPlan {
  const plan: WindowPlan = { rollups: [], raw: [] };
  const cover = (a: number, b: number, depth: number): void => {
    if (a >= b) return;
    const level = LEVELS[depth];
    if (!level) {
      plan.raw.push({ sinceMs: a, untilMs: b });
      return;
    }
    const p1 = Math.ceil(a / level.ms);
    const p2 = Math.floor(b / level.ms);
    if (p1 >= p2) {
      cover(a, b, depth + 1);
      return;
    }
    plan.rollups.push({ level, from: p1, to: p2 });
    cover(a, p1 * level.ms, depth + 1);
    cover(p2 * level.ms, b, depth + 1);
  };
  cover(sinceMs, untilMs, 0);
  return plan;
}

/** WHERE over a rollup table for periods [from, to) with the filter's dimensions. */
function rollupWhere(d: Dialect, filter: ExchangeFilter, part: WindowPlan['rollups'][number]): SqlBuilder {
  const b = new SqlBuilder(d).allow(filter.allow);
  b.clauses.push(`period >= ${b.p(part.from)}`, `period < ${b.p(part.to)}`);
  if (filter.model !== undefined) b.clauses.push(`model = ${b.p(filter.model)}`);
  if (filter.namespace !== undefined) b.clauses.push(`namespace = ${b.p(filter.namespace)}`);
  if (filter.component !== undefined) b.clauses.push(`component = ${b.p(filter.component)}`);
  const s = filter.status;
  if (s?.kind === 'exact') b.clauses.push(`status = ${b.p(s.code)}`);
  else if (s?.kind === 'class')
    b.clauses.push(`status >= ${b.p(s.hundreds * 100)} AND status < ${b.p(s.hundreds * 100 + 100)}`);
  else if (s?.kind === 'error') b.clauses.push('(err = 1 OR status = 0)');
  else if (s?.kind === 'incomplete') b.clauses.push(`status = ${NO_STATUS} AND err = 0`);
  return b;
}

/** SELECT over a rollup table for periods [from, to) with the filter's dimensions. */
export function rollupQuery(
  d: Dialect,
  filter: ExchangeFilter,
  part: WindowPlan['rollups'][number],
): { sql: string; params: unknown[] } {
  const b = rollupWhere(d, filter, part);
  return {
    sql: `SELECT model, namespace, status, err, complete, bucket, sum(n) AS n, sum(w) AS w FROM ${part.level.table} ${b.where()}
          GROUP BY model, namespace, status, err, complete, bucket`,
    params: b.params,
  };
}

export function upsertSql(table: RollupLevel['table'], rows: number, param: (n: number) => string): string {
  const tuples = Array.from(
    { length: rows },
    (_, j) => `(${ROLLUP_COLUMNS.map((_, k) => param(j * ROLLUP_COLUMNS.length + k + 1)).join(', ')})`,
  );
  return `INSERT INTO ${table} (${ROLLUP_COLUMNS.join(', ')}) VALUES ${tuples.join(', ')}
          ON CONFLICT (${ROLLUP_KEY.join(', ')}) DO UPDATE SET n = ${table}.n + excluded.n, w = ${table}.w + excluded.w`;
}

export function groupFromRollup(r: {
  model: string;
  namespace: string;
  status: number;
  err: number | boolean;
  complete: number | boolean;
  bucket: number;
  n: number | string;
  w: number | string;
}): StatsGroup {
  return {
    model: r.model,
    namespace: r.namespace,
    status: r.status === NO_STATUS ? null : r.status,
    error: r.err === 1 || r.err === true,
    complete: r.complete === 1 || r.complete === true,
    latencyBucket: r.bucket === NO_BUCKET ? null : r.bucket,
    count: Number(r.n),
    weight: Number(r.w),
  };
}

/**
 * The time-series query of a window aligned to `stepMs`: from the coarsest rollup whose period
 * divides the step (exact, since every bucket is whole periods), or, for sub-minute steps, from
 * the rows. Both return rows of { b (bucket index), status, err, bucket, n, w }.
 */
export function timeSeriesQuery(
  d: Dialect,
  filter: ExchangeFilter,
  window: { sinceMs: number; untilMs: number },
  stepMs: number,
  intDiv: (expr: string, divisor: number) => string,
): { sql: string; params: unknown[] } {
  const level = LEVELS.find((l) => stepMs % l.ms === 0);
  if (!level) {
    const b = new SqlBuilder(d).filter({ ...filter, ...window, q: '' });
    return {
      sql: `SELECT ${intDiv('time_ms', stepMs)} AS b, coalesce(status, ${NO_STATUS}) AS status, (error_code IS NOT NULL) AS err,
                   coalesce(latency_bucket, ${NO_BUCKET}) AS bucket, count(*) AS n, sum(sample_weight) AS w
            FROM exchanges ${b.where()} GROUP BY 1, 2, 3, 4`,
      params: b.params,
    };
  }
  const b = rollupWhere(d, filter, {
    level,
    from: Math.floor(window.sinceMs / level.ms),
    to: Math.ceil(window.untilMs / level.ms),
  });
  return {
    sql: `SELECT ${intDiv('period', stepMs / level.ms)} AS b, status, err, bucket, sum(n) AS n, sum(w) AS w
          FROM ${level.table} ${b.where()} GROUP BY 1, 2, 3, 4`,
    params: b.params,
  };
}

/** A row of timeSeriesQuery → TimeSeriesGroup. */
export function timeSeriesGroup(
  r: {
    b: number | string;
    status: number;
    err: number | boolean;
    bucket: number;
    n: number | string;
    w: number | string;
  },
  stepMs: number,
): TimeSeriesGroup {
  return {
    startMs: Number(r.b) * stepMs,
    status: r.status === NO_STATUS ? null : r.status,
    error: r.err === 1 || r.err === true,
    latencyBucket: r.bucket === NO_BUCKET ? null : r.bucket,
    count: Number(r.n),
    weight: Number(r.w),
  };
}
