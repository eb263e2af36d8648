/**
 * The `instances` table, shared by both stores: which exchanges get rows, the rows of one
 * (formats/instances.ts splits the stored bodies: the same function the sinks call), and the SQL
 * of the listing.
 *
 *   putEvents: half completes an exchange that asked (ExchangeHalf.instances)
 *     ──▶ both stored bodies ──splitInstances──▶ rows ──▶ INSERT … (same transaction) ──▶ PutResult.instances
 *                                     └─ skip reason ──▶ PutResult.instances.skipped (collector metrics)
 */
import { splitInstances, type InstanceSplit } from '../formats/instances.js';
import type { ExchangeHalf, ExchangeRow } from './exchange-record.js';
import type { Dialect } from './sql-filter.js';
import { SqlBuilder } from './sql-filter.js';
import type { InstanceFilter, InstancePosition, PutResult, StoredInstance } from './store.js';

/** Whether this batch's halves of an exchange ask for instance rows and completed it just now. */
export function wantsInstances(
  before: ExchangeRow | undefined,
  after: ExchangeRow | undefined,
  halves: readonly ExchangeHalf[],
): boolean {
  // Rows are written once, when the exchange completes: a half alone may still be paired, and a
  // retried half after completion is a duplicate that changes nothing.
  return (
    after !== undefined && after.complete && before?.complete !== true && halves.some((h) => h.instances)
  );
}

/** The stored exchange's instances: its bodies as stored (the agent redacted them before sending). */
export function splitStored(
  row: ExchangeRow,
  request: Uint8Array | null,
  response: Uint8Array | null,
): InstanceSplit {
  const d = row.detail;
  return splitInstances({
    url: d.url,
    status: row.status,
    request: request && d.request ? { bytes: request, truncated: d.request.truncated } : undefined,
    response: response && d.response ? { bytes: response, truncated: d.response.truncated } : undefined,
  });
}

/** Counts one exchange's outcome into a PutResult's `instances`. */
export function countSplit(into: NonNullable<PutResult['instances']>, split: InstanceSplit): void {
  if ('skip' in split) into.skipped[split.skip] = (into.skipped[split.skip] ?? 0) + 1;
  else into.rows += split.instances.length;
}

export const INSTANCE_COLUMNS = [
  'key',
  'idx',
  'exchange_id',
  'time_ms',
  'model',
  'namespace',
  'component',
  'sample_weight',
  'input',
  'prediction',
] as const;

/** Column values of one exchange's rows, in INSTANCE_COLUMNS order. */
export function instanceValues(row: ExchangeRow, split: InstanceSplit): unknown[][] {
  if ('skip' in split) return [];
  return split.instances.map((i) => [
    row.key,
    i.index,
    row.id,
    row.timeMs,
    row.model,
    row.namespace,
    row.component,
    row.sampleWeight,
    JSON.stringify(i.input),
    'prediction' in i ? JSON.stringify(i.prediction) : null,
  ]);
}

export interface DbInstanceRow {
  key: string;
  idx: number;
  exchange_id: string;
  time_ms: number;
  model: string;
  namespace: string;
  component: string;
  sample_weight: number;
  input: string;
  prediction: string | null;
}

export function instanceFromDb(r: DbInstanceRow): StoredInstance {
  const s: StoredInstance = {
    key: r.key,
    exchangeId: r.exchange_id,
    index: Number(r.idx),
    timeMs: Number(r.time_ms),
    model: r.model,
    namespace: r.namespace,
    component: r.component,
    sampleWeight: Number(r.sample_weight),
    input: JSON.parse(r.input),
  };
  if (r.prediction !== null) s.prediction = JSON.parse(r.prediction);
  return s;
}

/** The listing's SELECT: newest exchange first, then index order; one row more than `limit` tells if there is a next page. */
export function listInstancesSql(
  dialect: Dialect,
  filter: InstanceFilter,
  page: { limit: number; after?: InstancePosition },
): { sql: string; params: unknown[] } {
  // filter() applies a restricted reader's allow-list too, as for every other read.
  const b = new SqlBuilder(dialect).filter(filter);
  const a = page.after;
  if (a) {
    const t = b.p(a.timeMs);
    const t2 = b.p(a.timeMs);
    const k = b.p(a.key);
    const t3 = b.p(a.timeMs);
    const k2 = b.p(a.key);
    b.clauses.push(
      `(time_ms < ${t} OR (time_ms = ${t2} AND key < ${k}) OR (time_ms = ${t3} AND key = ${k2} AND idx > ${b.p(a.index)}))`,
    );
  }
  return {
    sql: `SELECT ${INSTANCE_COLUMNS.join(', ')} FROM instances ${b.where()} ORDER BY time_ms DESC, key DESC, idx ASC LIMIT ${b.p(page.limit + 1)}`,
    params: b.params,
  };
}

/** A page from the listing's rows (limit + 1 of them at most). */
export function instancePage(
  rows: readonly DbInstanceRow[],
  limit: number,
): { items: StoredInstance[]; next: InstancePosition | null } {
  const items = rows.slice(0, limit).map(instanceFromDb);
  const last = items[items.length - 1];
  return {
    items,
    next: rows.length > limit && last ? { timeMs: last.timeMs, key: last.key, index: last.index } : null,
  };
}
