/**
 * The SQLite put transaction, built from one connection: the store's own (`?writer=inline`) and
 * the writer thread's (sqlite-writer-worker.ts) run this same code.
 *
 *   put(batch) ──BEGIN IMMEDIATE──▶ max(seq) ──▶ per exchange: read row → mergeHalf its halves
 *              → one upsert + bodies (+ instance rows) ──▶ rollup deltas ──COMMIT──▶ PutResult
 */
import type Database from 'better-sqlite3';
import type { ExchangeHalf, ExchangeRow } from './exchange-record.js';
import { mergeHalf } from './exchange-record.js';
import {
  countSplit,
  INSTANCE_COLUMNS,
  instanceValues,
  splitStored,
  wantsInstances,
} from './instance-rows.js';
import type { RollupLevel } from './rollup.js';
import { LEVELS, levelDeltas, rollupValues, upsertSql } from './rollup.js';
import type { DbExchangeRow, WriteColumn } from './row-codec.js';
import { fromDb, KIND_CODE, toDbValues, WRITE_COLUMNS } from './row-codec.js';
import { LIST_COLUMNS } from './sql-filter.js';
import type { PutResult } from './store.js';

/** A row as this store reads it: with `rid`, the integer its bodies are keyed by (migration 6). */
export type RidRow = DbExchangeRow & { rid: number };

export const READ_ROW_SQL = `SELECT rid, ${LIST_COLUMNS}, search_text FROM exchanges WHERE key = ?`;
export const READ_BODIES_SQL = 'SELECT kind, body FROM exchange_bodies WHERE rid = ?';
export const MAX_SEQ_SQL = 'SELECT max(seq) AS s FROM exchanges';

/**
 * What completing an exchange (its second half, in another transaction) can change. SQLite
 * rewrites an index's entry only when the UPDATE names one of the index's columns, so naming
 * fewer columns spares exchanges_id (random ids: a random page) and exchanges_time. id, model,
 * namespace and component are part of the key's hash and cannot change; time_ms (a request
 * arriving after its response) and trace_id (set by whichever half carried one) are added to
 * the statement only when they did.
 */
const COMPLETION_COLUMNS: readonly WriteColumn[] = [
  'seq',
  'status',
  'error_code',
  'latency_ms',
  'latency_bucket',
  'sample_weight',
  'complete',
  'search_text',
  'detail',
];

/**
 * The connection settings every connection to a store file uses, the writer thread's too.
 * normal: WAL without fsync per commit; full: every commit is fsynced.
 */
export function configureConnection(d: Database.Database, sync: 'full' | 'normal'): void {
  d.pragma('journal_mode = WAL');
  d.pragma(sync === 'normal' ? 'synchronous = NORMAL' : 'synchronous = FULL');
  // 64 MiB page cache: index pages stay in memory across batches.
  d.pragma('cache_size = -65536');
  // The other connection (writer thread, `collect --workers` processes) holds the write lock
  // for one transaction at a time: tens of milliseconds.
  d.pragma('busy_timeout = 5000');
  // Bytes a row update or delete frees are overwritten with zeros, not left in the page's free
  // space or on the freelist: completing an exchange rewrites its row (the request's text in
  // search_text and the preview), and an erasure must not leave that first version readable
  // in the file. On ingest with halves committed apart (every completion rewrites a row) the
  // cost was within the noise of a shared 2-core machine (1,500–1,700 exchanges/s either way).
  d.pragma('secure_delete = ON');
  // Checkpoint every ~40 MiB of WAL instead of SQLite's 4 MiB: the hot pages (rollup rows, the
  // right edge of each index) change in every commit, and a checkpoint copies each page once
  // however often it changed; fewer checkpoints, fewer copies and fsyncs (−14% CPU per event).
  d.pragma('wal_autocheckpoint = 10000');
}

/** Prepares the put transaction on a migrated connection. */
export function preparePut(d: Database.Database): (batch: readonly ExchangeHalf[]) => PutResult {
  const update = (columns: readonly WriteColumn[]): ((values: unknown[]) => void) => {
    const stmt = d.prepare(`UPDATE exchanges SET ${columns.map((c) => `${c} = ?`).join(', ')} WHERE key = ?`);
    const at = [...columns, 'key' as const].map((c) => WRITE_COLUMNS.indexOf(c));
    return (values) => stmt.run(...at.map((i) => values[i]));
  };
  const updates = {
    full: update(WRITE_COLUMNS.slice(1)),
    completion: update(COMPLETION_COLUMNS),
    time: update([...COMPLETION_COLUMNS, 'time_ms']),
    trace: update([...COMPLETION_COLUMNS, 'trace_id']),
    timeTrace: update([...COMPLETION_COLUMNS, 'time_ms', 'trace_id']),
  };
  /** The UPDATE that rewrites `before` as `row`, given row's values in WRITE_COLUMNS order. */
  const updateRow = (before: ExchangeRow, row: ExchangeRow): ((values: unknown[]) => void) => {
    if (
      before.id !== row.id ||
      before.model !== row.model ||
      before.namespace !== row.namespace ||
      before.component !== row.component
    )
      return updates.full;
    const time = before.timeMs !== row.timeMs;
    const trace = before.traceId !== row.traceId;
    return time ? (trace ? updates.timeTrace : updates.time) : trace ? updates.trace : updates.completion;
  };
  const readRow = d.prepare<[string], RidRow>(READ_ROW_SQL);
  const insertRow = d.prepare<unknown[]>(
    `INSERT INTO exchanges (${WRITE_COLUMNS.join(', ')}) VALUES (${WRITE_COLUMNS.map(() => '?').join(', ')})`,
  );
  const insertBody = d.prepare<[number, number, Uint8Array]>(
    'INSERT OR IGNORE INTO exchange_bodies (rid, kind, body) VALUES (?, ?, ?)',
  );
  const bodies = d.prepare<[number], { kind: number; body: Buffer }>(READ_BODIES_SQL);
  const maxSeq = d.prepare<[], { s: number | null }>(MAX_SEQ_SQL);
  const rollup = new Map(LEVELS.map((l) => [l, d.prepare<unknown[]>(upsertSql(l.table, 1, () => '?'))]));
  const insertInstance = d.prepare<unknown[]>(
    `INSERT OR IGNORE INTO instances (${INSTANCE_COLUMNS.join(', ')}) VALUES (${INSTANCE_COLUMNS.map(() => '?').join(', ')})`,
  );

  const putTx = d.transaction((batch: readonly ExchangeHalf[]): PutResult => {
    // Read under the write lock: another connection (the writer thread of another process,
    // `collect --workers`) may have written since this one last did, and seq must grow in
    // commit order for `follow` readers.
    let seq = maxSeq.get()?.s ?? 0;
    let stored = 0;
    let duplicates = 0;
    const fresh = new Array<boolean>(batch.length);
    const changes: { row: ExchangeRow; sign: 1 | -1 }[] = [];
    const instances: NonNullable<PutResult['instances']> = { rows: 0, skipped: {} };
    // Both halves of an exchange in one transaction (a batch from the agent; KServe's two
    // POSTs when a group commit catches both) are merged in memory first: one read and one
    // row write per exchange instead of per half. mergeHalf is pure, so the row is the same.
    const byKey = new Map<string, number[]>();
    for (let i = 0; i < batch.length; i++) {
      const key = batch[i]!.key;
      const at = byKey.get(key);
      if (at) at.push(i);
      else byKey.set(key, [i]);
    }
    for (const [key, at] of byKey) {
      const existing = readRow.get(key);
      const before = existing ? fromDb(existing).row : undefined;
      let row = before;
      const added: ExchangeHalf[] = [];
      for (const i of at) {
        const half = batch[i]!;
        const merged = mergeHalf(row, half);
        fresh[i] = merged !== undefined;
        if (!merged) {
          duplicates++;
          continue;
        }
        added.push(half);
        row = merged;
        stored++;
      }
      if (row === undefined || row === before) continue;
      const values = toDbValues(row, ++seq, (b) => (b ? 1 : 0));
      let rid: number;
      if (existing) {
        updateRow(before!, row)(values);
        rid = existing.rid;
      } else rid = Number(insertRow.run(...values).lastInsertRowid);
      // After the row: a new exchange's bodies need its rid (see migration 6).
      for (const half of added) insertBody.run(rid, KIND_CODE[half.kind], half.body);
      if (before) changes.push({ row: before, sign: -1 });
      changes.push({ row, sign: 1 });
      if (
        wantsInstances(
          before,
          row,
          at.map((i) => batch[i]!),
        )
      ) {
        // Both bodies are in the table now (this transaction inserted the new one).
        const stored = bodies.all(rid);
        const body = (k: number): Uint8Array | null => stored.find((b) => b.kind === k)?.body ?? null;
        const split = splitStored(row, body(KIND_CODE.request), body(KIND_CODE.response));
        countSplit(instances, split);
        for (const values of instanceValues(row, split)) insertInstance.run(...values);
      }
    }
    applyChanges(rollup, changes);
    // Only callers that asked for instance rows hear about them.
    return { stored, duplicates, fresh, ...(batch.some((h) => h.instances) ? { instances } : {}) };
  });
  // BEGIN IMMEDIATE takes the write lock before the first read. A deferred transaction that
  // read first could not upgrade once another process committed (SQLITE_BUSY_SNAPSHOT, which
  // busy_timeout does not wait out).
  return (batch) => putTx.immediate(batch);
}

function applyChanges(
  stmts: Map<RollupLevel, Database.Statement<unknown[]>>,
  changes: readonly { row: ExchangeRow; sign: 1 | -1 }[],
): void {
  for (const [level, deltas] of levelDeltas(changes)) {
    const stmt = stmts.get(level)!;
    for (const x of deltas) stmt.run(...rollupValues(x));
  }
}
