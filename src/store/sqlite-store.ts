/**
 * SQLite store: one file (better-sqlite3, synchronous). Two connections: the writer thread's
 * commits every put (sqlite-put.ts), this one reads, erases and applies retention.
 *
 *   putEvents(batch) ──▶ writer thread: BEGIN IMMEDIATE ▶ per exchange: read row → mergeHalf its
 *                        halves → one upsert + bodies ▶ rollup deltas ▶ COMMIT ──▶ resolve
 *   list/get/stats   ──▶ this thread's connection (WAL: reads never wait for the writer)
 *
 * `writer: 'inline'` (`?writer=inline`) runs the same put transaction on this thread's connection.
 *
 * WAL mode. Default synchronous=NORMAL: a resolved putEvents survives a collector crash (the
 * same level as the agent's default `process` durability); `sync=full` fsyncs every commit so it
 * also survives power loss. Batches are one transaction, so any fsync is paid once per batch.
 */
import { closeSync, constants } from 'node:fs';
import type { ResourceLimits } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { openPrivateSync } from '../core/private-files.js';
import type { ExchangeHalf } from './exchange-record.js';
import {
  INSTANCE_COLUMNS,
  instanceFromDb,
  instancePage,
  listInstancesSql,
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
import { fromDb, KIND_CODE } from './row-codec.js';
import {
  configureConnection,
  MAX_SEQ_SQL,
  preparePut,
  READ_BODIES_SQL,
  READ_ROW_SQL,
  type RidRow,
} from './sqlite-put.js';
import { createWorkerWriter, type SqliteWriter } from './sqlite-writer.js';
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
  /**
   * worker (default): puts commit on a writer thread with its own connection, so a commit never
   * holds the event loop that parses requests and answers queries. inline: on this thread (the
   * behaviour before the writer thread; an in-memory database is always inline).
   */
  writer?: 'worker' | 'inline';
  /** The writer thread's heap limits (tests make it run out of memory). */
  writerResourceLimits?: ResourceLimits;
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
  const sync = options.sync ?? 'full';
  // A second connection to an in-memory database would open another, empty database.
  const inline = options.writer === 'inline' || path === '' || path === ':memory:';
  let db: Database.Database | undefined;
  let stmts:
    | {
        readRow: Database.Statement<[string], RidRow>;
        readById: Database.Statement<[string], RidRow>;
        bodies: Database.Statement<[number], { kind: number; body: Buffer }>;
        maxSeq: Database.Statement<[], { s: number | null }>;
        rollup: Map<RollupLevel, Database.Statement<unknown[]>>;
        prune: Map<RollupLevel, Database.Statement<unknown[]>>;
        instancesOf: Database.Statement<[string], DbInstanceRow>;
      }
    | undefined;
  let put: ((batch: readonly ExchangeHalf[]) => Promise<PutResult>) | undefined;
  let writer: SqliteWriter | undefined;

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
      configureConnection(d, sync);
      // Before the writer thread opens the file: it finds the schema complete.
      migrate(d);
      stmts = {
        readRow: d.prepare(READ_ROW_SQL),
        readById: d.prepare(
          `SELECT rid, ${LIST_COLUMNS}, search_text FROM exchanges WHERE id = ? ORDER BY time_ms DESC, key DESC LIMIT 1`,
        ),
        bodies: d.prepare(READ_BODIES_SQL),
        maxSeq: d.prepare(MAX_SEQ_SQL),
        rollup: new Map(LEVELS.map((l) => [l, d.prepare(upsertSql(l.table, 1, () => '?'))])),
        prune: new Map(LEVELS.map((l) => [l, d.prepare(pruneSql(l.table, () => '?'))])),
        instancesOf: d.prepare(
          `SELECT ${INSTANCE_COLUMNS.join(', ')} FROM instances WHERE key = ? ORDER BY idx`,
        ),
      };
      if (inline) {
        const putInline = preparePut(d);
        put = async (batch) => putInline(batch);
      } else {
        const w = createWorkerWriter(path, sync, { resourceLimits: options.writerResourceLimits });
        writer = w;
        put = (batch) => w.put(batch);
      }
      db = d;
    },
    async shutdown() {
      if (!db) return;
      // Acknowledged puts are committed; those in flight finish before the connections close.
      await writer?.close();
      writer = undefined;
      db.close();
      db = undefined;
    },
    async putEvents(batch) {
      open();
      return put!(batch);
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
      return d
        .transaction(() => {
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
          // IMMEDIATE: it reads, then writes; from a snapshot older than a commit of the writer
          // thread, the write would fail (SQLITE_BUSY_SNAPSHOT, which busy_timeout does not wait out).
        })
        .immediate();
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
      const erased = d
        .transaction(() => {
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
        })
        .immediate(); // as in deleteOlderThan: the write lock before the first read
      // The WAL still holds the pages as they were before the erasure (and when they were
      // written): copy the zeroed pages into the database and empty the WAL. Another connection
      // reading the file (a backup, sqlite3 open) can keep it busy; then a later erasure or
      // checkpoint finishes it, and the erasure still answered its count.
      if (erased > 0) d.pragma('wal_checkpoint(TRUNCATE)');
      return erased;
    },
  };
}
