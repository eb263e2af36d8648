/**
 * SQLite store: one file, one collector process (better-sqlite3, synchronous).
 *
 *   putEvents(batch) ──BEGIN──▶ per exchange: read row → mergeHalf its halves → one upsert + bodies
 *                    ──▶ rollup deltas (daily, hourly) ──COMMIT (fsync)──▶ resolve
 *
 * WAL mode. Default synchronous=NORMAL: a resolved putEvents survives a collector crash (the
 * same level as the agent's default `process` durability); `sync=full` fsyncs every commit so it
 * also survives power loss. Batches are one transaction, so any fsync is paid once per batch.
 */
import { closeSync, constants } from 'node:fs';
import Database from 'better-sqlite3';
import { openPrivateSync } from '../core/private-files.js';
import type { ExchangeHalf, ExchangeRow } from './exchange-record.js';
import { mergeHalf } from './exchange-record.js';
import {
  countSplit,
  INSTANCE_COLUMNS,
  instanceFromDb,
  instancePage,
  instanceValues,
  listInstancesSql,
  splitStored,
  wantsInstances,
  type DbInstanceRow,
} from './instance-rows.js';
import { MIGRATIONS } from './migrations.js';
import type { RollupDelta, RollupLevel } from './rollup.js';
import {
  groupFromRollup,
  LEVELS,
  levelDeltas,
  NO_BUCKET,
  NO_STATUS,
  planWindow,
  pruneSql,
  rollupKeyValues,
  rollupQuery,
  timeSeriesGroup,
  timeSeriesQuery,
  rollupValues,
  upsertSql,
} from './rollup.js';
import type { DbExchangeRow } from './row-codec.js';

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

/** A row as this store reads it: with `rid`, the integer its bodies are keyed by (migration 6). */
type RidRow = DbExchangeRow & { rid: number };
import { fromDb, KIND_CODE, toDbValues, WRITE_COLUMNS } from './row-codec.js';
import type { WriteColumn } from './row-codec.js';
import { LIST_COLUMNS, SqlBuilder, sqliteDialect } from './sql-filter.js';
import { ERASE_CHUNK } from './store.js';
import type {
  AccessScope,
  ExchangeFilter,
  ExchangePage,
  ExchangeStore,
  ExchangeWithBodies,
  PageRequest,
  PutResult,
  StatsGroup,
  TimeSeriesGroup,
} from './store.js';

export interface SqliteStoreOptions {
  /**
   * normal (default): WAL without fsync per commit — a 2xx survives a collector crash, not an OS
   * crash; several times the single-event ingest rate on slow disks. full: every commit is
   * fsynced — a 2xx survives power loss; costs one fsync per batch.
   */
  sync?: 'full' | 'normal';
}

/**
 * SQLite creates a database 0644; it holds captured traffic, so create it 0600 first. SQLite
 * gives the -wal and -shm files the database file's mode. An existing file is left as it is.
 */
function createPrivateFile(path: string): void {
  if (path === '' || path === ':memory:' || path.startsWith('file:')) return;
  try {
    closeSync(openPrivateSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

export function createSqliteStore(path: string, options: SqliteStoreOptions = {}): ExchangeStore {
  let db: Database.Database | undefined;
  let seq = 0;
  let stmts:
    | {
        readRow: Database.Statement<[string], RidRow>;
        readById: Database.Statement<[string], RidRow>;
        insertRow: Database.Statement<unknown[]>;
        /** The UPDATE that rewrites `before` as `row`, given row's values in WRITE_COLUMNS order. */
        updateRow: (before: ExchangeRow, row: ExchangeRow) => (values: unknown[]) => void;
        insertBody: Database.Statement<[number, number, Uint8Array]>;
        bodies: Database.Statement<[number], { kind: number; body: Buffer }>;
        maxSeq: Database.Statement<[], { s: number | null }>;
        rollup: Map<RollupLevel, Database.Statement<unknown[]>>;
        prune: Map<RollupLevel, Database.Statement<unknown[]>>;
        insertInstance: Database.Statement<unknown[]>;
        instancesOf: Database.Statement<[string], DbInstanceRow>;
      }
    | undefined;
  let put: ((batch: readonly ExchangeHalf[]) => PutResult) | undefined;

  const open = (): Database.Database => {
    // Cannot happen: the collector starts the store before serving (a bug if it does).
    if (!db) throw new Error('sqlite store is not started');
    return db;
  };

  function migrate(d: Database.Database): void {
    d.exec(
      `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`,
    );
    const done = new Set(
      d
        .prepare<[], { version: number }>('SELECT version FROM schema_migrations')
        .all()
        .map((r) => r.version),
    );
    const applied = d.prepare<[number], { version: number }>(
      'SELECT version FROM schema_migrations WHERE version = ?',
    );
    for (const m of MIGRATIONS) {
      if (done.has(m.version)) continue;
      // Under the write lock, asked again: another process on this file (`collect --workers`)
      // may have applied it since `done` was read, and a migration must not run twice.
      d.transaction(() => {
        if (applied.get(m.version)) return;
        d.exec(m.sqlite);
        d.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
          m.version,
          m.name,
          new Date().toISOString(),
        );
      }).immediate();
    }
  }

  return {
    name: `sqlite:${path}${options.sync === 'normal' ? '?sync=normal' : ''}`,
    async start() {
      if (db) return;
      createPrivateFile(path);
      const d = new Database(path);
      d.pragma('journal_mode = WAL');
      d.pragma(options.sync === 'normal' ? 'synchronous = NORMAL' : 'synchronous = FULL');
      // 64 MiB page cache: index pages stay in memory across batches.
      d.pragma('cache_size = -65536');
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
      migrate(d);
      const update = (columns: readonly WriteColumn[]): ((values: unknown[]) => void) => {
        const stmt = d.prepare(
          `UPDATE exchanges SET ${columns.map((c) => `${c} = ?`).join(', ')} WHERE key = ?`,
        );
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
      stmts = {
        readRow: d.prepare(`SELECT rid, ${LIST_COLUMNS}, search_text FROM exchanges WHERE key = ?`),
        readById: d.prepare(
          `SELECT rid, ${LIST_COLUMNS}, search_text FROM exchanges WHERE id = ? ORDER BY time_ms DESC, key DESC LIMIT 1`,
        ),
        insertRow: d.prepare(
          `INSERT INTO exchanges (${WRITE_COLUMNS.join(', ')}) VALUES (${WRITE_COLUMNS.map(() => '?').join(', ')})`,
        ),
        updateRow: (before, row) => {
          if (
            before.id !== row.id ||
            before.model !== row.model ||
            before.namespace !== row.namespace ||
            before.component !== row.component
          )
            return updates.full;
          const time = before.timeMs !== row.timeMs;
          const trace = before.traceId !== row.traceId;
          return time
            ? trace
              ? updates.timeTrace
              : updates.time
            : trace
              ? updates.trace
              : updates.completion;
        },
        insertBody: d.prepare('INSERT OR IGNORE INTO exchange_bodies (rid, kind, body) VALUES (?, ?, ?)'),
        bodies: d.prepare('SELECT kind, body FROM exchange_bodies WHERE rid = ?'),
        maxSeq: d.prepare('SELECT max(seq) AS s FROM exchanges'),
        rollup: new Map(LEVELS.map((l) => [l, d.prepare(upsertSql(l.table, 1, () => '?'))])),
        prune: new Map(LEVELS.map((l) => [l, d.prepare(pruneSql(l.table, () => '?'))])),
        insertInstance: d.prepare(
          `INSERT OR IGNORE INTO instances (${INSTANCE_COLUMNS.join(', ')}) VALUES (${INSTANCE_COLUMNS.map(() => '?').join(', ')})`,
        ),
        instancesOf: d.prepare(
          `SELECT ${INSTANCE_COLUMNS.join(', ')} FROM instances WHERE key = ? ORDER BY idx`,
        ),
      };
      seq = stmts.maxSeq.get()?.s ?? 0;
      const s = stmts;
      const putTx = d.transaction((batch: readonly ExchangeHalf[]): PutResult => {
        // Read under the write lock: another process (`collect --workers`) may have written since
        // this one last did, and seq must grow in commit order for `follow` readers.
        seq = s.maxSeq.get()?.s ?? 0;
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
          const existing = s.readRow.get(key);
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
            s.updateRow(before!, row)(values);
            rid = existing.rid;
          } else rid = Number(s.insertRow.run(...values).lastInsertRowid);
          // After the row: a new exchange's bodies need its rid (see migration 6).
          for (const half of added) s.insertBody.run(rid, KIND_CODE[half.kind], half.body);
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
            const bodies = s.bodies.all(rid);
            const body = (k: number): Uint8Array | null => bodies.find((b) => b.kind === k)?.body ?? null;
            const split = splitStored(row, body(KIND_CODE.request), body(KIND_CODE.response));
            countSplit(instances, split);
            for (const values of instanceValues(row, split)) s.insertInstance.run(...values);
          }
        }
        applyChanges(s.rollup, changes);
        // Only callers that asked for instance rows hear about them.
        return { stored, duplicates, fresh, ...(batch.some((h) => h.instances) ? { instances } : {}) };
      });
      // BEGIN IMMEDIATE takes the write lock before the first read. A deferred transaction that
      // read first could not upgrade once another process committed (SQLITE_BUSY_SNAPSHOT, which
      // busy_timeout does not wait out).
      put = (batch) => putTx.immediate(batch);
      db = d;
    },
    async shutdown() {
      if (!db) return;
      db.close();
      db = undefined;
    },
    async putEvents(batch) {
      open();
      const before = seq;
      try {
        return put!(batch);
      } catch (err) {
        seq = before; // the transaction rolled back; so did its sequence numbers
        throw err;
      }
    },
    async listExchanges(filter: ExchangeFilter, page: PageRequest): Promise<ExchangePage> {
      const d = open();
      if (page.order === 'follow' && !page.after && filter.sinceMs === undefined) {
        // A restricted reader starts after its own newest row, not the store's: the store's
        // sequence would tell it how much other namespaces wrote.
        if (!filter.allow) return { items: [], next: { kind: 'seq', seq: stmts!.maxSeq.get()?.s ?? 0 } };
        const a = new SqlBuilder(sqliteDialect).allow(filter.allow);
        const r = d.prepare<unknown[], { s: number | null }>(
          `SELECT max(seq) AS s FROM exchanges ${a.where()}`,
        );
        return { items: [], next: { kind: 'seq', seq: r.get(...a.params)?.s ?? 0 } };
      }
      const b = new SqlBuilder(sqliteDialect).filter(filter).after(page.after);
      // A follow listing without a cursor starts from `since`: find those rows by time (+seq keeps
      // SQLite from walking the whole seq index to find them).
      const order = page.order === 'follow' ? (page.after ? 'seq ASC' : '+seq ASC') : 'time_ms DESC, id DESC';
      const rows = d
        .prepare<unknown[], DbExchangeRow>(
          `SELECT ${LIST_COLUMNS} FROM exchanges ${b.where()} ORDER BY ${order} LIMIT ${b.p(page.limit + 1)}`,
        )
        .all(...b.params);
      const items = rows.slice(0, page.limit).map(fromDb);
      const more = rows.length > page.limit;
      const last = items[items.length - 1];
      if (page.order === 'follow') {
        return {
          items,
          next: { kind: 'seq', seq: last ? last.seq : page.after?.kind === 'seq' ? page.after.seq : 0 },
        };
      }
      return {
        items,
        next: more && last ? { kind: 'time', timeMs: last.row.timeMs, id: last.row.id } : null,
      };
    },
    async getExchange(id: string, allow?: AccessScope): Promise<ExchangeWithBodies | undefined> {
      const s = stmts;
      const d = open();
      let r: RidRow | undefined;
      if (!allow) r = s!.readRow.get(id) ?? s!.readById.get(id);
      else {
        // In SQL, not after the fact: the newest row with this event id may be another namespace's.
        const byKey = new SqlBuilder(sqliteDialect).allow(allow);
        byKey.clauses.push(`key = ${byKey.p(id)}`);
        const byId = new SqlBuilder(sqliteDialect).allow(allow);
        byId.clauses.push(`id = ${byId.p(id)}`);
        r =
          d
            .prepare<unknown[], RidRow>(
              `SELECT rid, ${LIST_COLUMNS}, search_text FROM exchanges ${byKey.where()}`,
            )
            .get(...byKey.params) ??
          d
            .prepare<unknown[], RidRow>(
              `SELECT rid, ${LIST_COLUMNS}, search_text FROM exchanges ${byId.where()} ORDER BY time_ms DESC, key DESC LIMIT 1`,
            )
            .get(...byId.params);
      }
      if (!r) return undefined;
      const bodies = s!.bodies.all(r.rid);
      const body = (k: number): Uint8Array | null => {
        const b = bodies.find((x) => x.kind === k)?.body;
        return b ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : null;
      };
      return { ...fromDb(r), requestBody: body(KIND_CODE.request), responseBody: body(KIND_CODE.response) };
    },
    async getInstances(key) {
      open();
      return stmts!.instancesOf.all(key).map(instanceFromDb);
    },
    async listInstances(filter, page) {
      const d = open();
      const q = listInstancesSql(sqliteDialect, filter, page);
      return instancePage(d.prepare<unknown[], DbInstanceRow>(q.sql).all(...q.params), page.limit);
    },
    async stats(window, filter): Promise<StatsGroup[]> {
      const d = open();
      const plan = planWindow(window.sinceMs, window.untilMs);
      const groups: StatsGroup[] = [];
      for (const part of plan.rollups) {
        const q = rollupQuery(sqliteDialect, filter, part);
        for (const r of d.prepare<unknown[], Parameters<typeof groupFromRollup>[0]>(q.sql).all(...q.params)) {
          if (r.n !== 0) groups.push(groupFromRollup(r));
        }
      }
      for (const part of plan.raw) {
        const b = new SqlBuilder(sqliteDialect).filter({ ...filter, ...part });
        const rows = d
          .prepare<
            unknown[],
            {
              model: string;
              namespace: string;
              status: number | null;
              err: number;
              complete: number;
              latency_bucket: number | null;
              n: number;
              w: number;
            }
          >(
            `SELECT model, namespace, status, (error_code IS NOT NULL) AS err, complete, latency_bucket, count(*) AS n, sum(sample_weight) AS w
             FROM exchanges ${b.where()} GROUP BY model, namespace, status, err, complete, latency_bucket`,
          )
          .all(...b.params);
        for (const r of rows) {
          groups.push({
            model: r.model,
            namespace: r.namespace,
            status: r.status,
            error: r.err === 1,
            complete: r.complete === 1,
            latencyBucket: r.latency_bucket,
            count: r.n,
            weight: r.w,
          });
        }
      }
      return groups;
    },
    async timeSeries(window, filter, stepMs): Promise<TimeSeriesGroup[]> {
      const d = open();
      const q = timeSeriesQuery(
        sqliteDialect,
        filter,
        window,
        stepMs,
        (e, n) => `CAST(${e} / ${n} AS INTEGER)`,
      );
      return d
        .prepare<unknown[], Parameters<typeof timeSeriesGroup>[0]>(q.sql)
        .all(...q.params)
        .filter((r) => Number(r.n) !== 0)
        .map((r) => timeSeriesGroup(r, stepMs));
    },
    async deleteOlderThan(t: number): Promise<number> {
      const d = open();
      const s = stmts!;
      return d.transaction(() => {
        // Whole periods leave a rollup at once; the rows of a partial period are subtracted.
        for (const level of LEVELS) {
          const cut = Math.floor(t / level.ms);
          const deltas = d
            .prepare<[number, number], RollupDelta>(
              `SELECT CAST(time_ms / ${level.ms} AS INTEGER) AS period, model, namespace, component,
                      coalesce(status, ${NO_STATUS}) AS status, (error_code IS NOT NULL) AS err, complete,
                      coalesce(latency_bucket, ${NO_BUCKET}) AS bucket, -count(*) AS n, -sum(sample_weight) AS w
               FROM exchanges WHERE time_ms >= ? AND time_ms < ? GROUP BY 1, 2, 3, 4, 5, 6, 7, 8`,
            )
            .all(cut * level.ms, t);
          const stmt = s.rollup.get(level)!;
          for (const x of deltas) stmt.run(...rollupValues(x));
          d.prepare(`DELETE FROM ${level.table} WHERE period < ?`).run(cut);
        }
        d.prepare(
          'DELETE FROM exchange_bodies WHERE rid IN (SELECT rid FROM exchanges WHERE time_ms < ?)',
        ).run(t);
        // Instance rows carry their exchange's time: the same cut takes them.
        d.prepare('DELETE FROM instances WHERE time_ms < ?').run(t);
        return d.prepare('DELETE FROM exchanges WHERE time_ms < ?').run(t).changes;
      })();
    },
    async erase(filter: ExchangeFilter): Promise<number> {
      const d = open();
      const s = stmts!;
      const b = new SqlBuilder(sqliteDialect).filter(filter);
      const select = d.prepare<unknown[], RidRow>(
        `SELECT rid, ${LIST_COLUMNS} FROM exchanges ${b.where()} LIMIT ${ERASE_CHUNK}`,
      );
      const delBodies = d.prepare<[number]>('DELETE FROM exchange_bodies WHERE rid = ?');
      // Instance rows hold the inputs and predictions: personal data as much as the bodies.
      const delInstances = d.prepare<[string]>('DELETE FROM instances WHERE key = ?');
      const delRow = d.prepare<[string]>('DELETE FROM exchanges WHERE key = ?');
      // secure_delete (on since start) overwrites what these DELETEs free, cells and whole pages,
      // with zeros, so the bodies do not stay readable in free space.
      const erased = d.transaction(() => {
        let n = 0;
        for (;;) {
          const found = select.all(...b.params);
          if (found.length === 0) return n;
          const rows = found.map((r) => fromDb(r).row);
          const changes = rows.map((row) => ({ row, sign: -1 as const }));
          for (const [level, deltas] of levelDeltas(changes)) {
            const up = s.rollup.get(level)!;
            const prune = s.prune.get(level)!;
            for (const x of deltas) {
              up.run(...rollupValues(x));
              prune.run(...rollupKeyValues(x));
            }
          }
          for (const r of found) {
            delBodies.run(r.rid);
            delInstances.run(r.key);
            delRow.run(r.key);
          }
          n += rows.length;
        }
      })();
      // The WAL still holds the pages as they were before the erasure (and when they were
      // written): copy the zeroed pages into the database and empty the WAL. Another connection
      // reading the file (a backup, sqlite3 open) can keep it busy; then a later erasure or
      // checkpoint finishes it, and the erasure still answered its count.
      if (erased > 0) d.pragma('wal_checkpoint(TRUNCATE)');
      return erased;
    },
  };
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
