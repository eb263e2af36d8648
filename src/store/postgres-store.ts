/**
 * PostgreSQL store: how collectors scale out — many collector processes, one database.
 *
 *   putEvents(batch) ──BEGIN──▶ advisory-lock the batch's exchange keys (sorted: no deadlocks)
 *                    ──▶ read their rows ──▶ mergeHalf in memory
 *                    ──▶ ONE statement: upsert rows + insert bodies + add rollup deltas ──COMMIT──▶ resolve
 *
 * The per-id lock makes the read-merge-write safe when two collectors receive the two
 * halves of one exchange at the same moment (the row may not exist yet, so a row lock
 * is not enough). The lock and the read stay two statements: a statement reads the snapshot
 * taken when it starts, so a read in the locking statement could miss a half committed while
 * it waited for a lock. `seq` comes from a sequence; see docs/collector.md on `follow` across instances.
 *
 * The write is one statement whatever the batch size (the ingest rate is mostly round trips and
 * per-parameter work): each column travels as one array parameter (`unnest`), and the bodies as
 * one binary bytea parameter cut by offsets, so a body is neither hex-encoded nor escaped.
 */
import pg from 'pg';
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
  ROLLUP_COLUMNS,
  ROLLUP_KEY,
  rollupValues,
  upsertSql,
} from './rollup.js';
import type { DbExchangeRow } from './row-codec.js';
import { fromDb, KIND_CODE, WRITE_COLUMNS } from './row-codec.js';
import { pgBinaryArray, pgText, type PgElementType } from './pg-binary-array.js';
import { LIST_COLUMNS, postgresDialect, SqlBuilder } from './sql-filter.js';
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

const MIGRATION_LOCK = 7_270_001;
const LOCK_SQL =
  'SELECT pg_advisory_xact_lock(hashtextextended(x, 0)) FROM unnest($1::text[]) WITH ORDINALITY AS t(x, n) ORDER BY n';
const READ_SQL = `SELECT ${LIST_COLUMNS}, search_text FROM exchanges WHERE key = ANY($1::text[])`;
const ROWS_PER_STATEMENT = 1000;

/** The URL without its password, for logs and /healthz. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable url)';
  }
}

const buf = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

export function createPostgresStore(url: string, options: { poolSize?: number } = {}): ExchangeStore {
  let pool: pg.Pool | undefined;
  const open = (): pg.Pool => {
    // Cannot happen: the collector starts the store before serving (a bug if it does).
    if (!pool) throw new Error('postgres store is not started');
    return pool;
  };

  async function migrate(p: pg.Pool): Promise<void> {
    const c = await p.connect();
    try {
      // Several collectors may start at once: one migrates, the others wait.
      await c.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      await c.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())',
      );
      const done = new Set(
        (await c.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map(
          (r) => r.version,
        ),
      );
      for (const m of MIGRATIONS) {
        if (done.has(m.version)) continue;
        await c.query('BEGIN');
        try {
          await c.query(m.postgres);
          await c.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
          await c.query('COMMIT');
        } catch (err) {
          await c.query('ROLLBACK');
          throw err;
        }
      }
    } finally {
      await c.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
      c.release();
    }
  }

  /** Instance rows of the exchanges this batch completed that asked for them (bodies are stored by now). */
  async function insertInstances(
    c: pg.PoolClient,
    rows: readonly ExchangeRow[],
    into: NonNullable<PutResult['instances']>,
  ): Promise<void> {
    if (rows.length === 0) return;
    const bodies = await c.query<{ key: string; kind: number; body: Buffer }>(
      'SELECT key, kind, body FROM exchange_bodies WHERE key = ANY($1::text[])',
      [rows.map((r) => r.key)],
    );
    const values: unknown[][] = [];
    for (const row of rows) {
      const body = (k: number): Uint8Array | null =>
        bodies.rows.find((b) => b.key === row.key && b.kind === k)?.body ?? null;
      const split = splitStored(row, body(KIND_CODE.request), body(KIND_CODE.response));
      countSplit(into, split);
      values.push(...instanceValues(row, split));
    }
    const n = INSTANCE_COLUMNS.length;
    for (let i = 0; i < values.length; i += ROWS_PER_STATEMENT) {
      const chunk = values.slice(i, i + ROWS_PER_STATEMENT);
      const tuples = chunk.map(
        (_, j) => `(${INSTANCE_COLUMNS.map((_c, k) => `$${j * n + k + 1}`).join(', ')})`,
      );
      await c.query(
        `INSERT INTO instances (${INSTANCE_COLUMNS.join(', ')}) VALUES ${tuples.join(', ')} ON CONFLICT DO NOTHING`,
        chunk.flat().map((v) => (typeof v === 'string' ? pgText(v) : v)),
      );
    }
  }

  return {
    name: redactUrl(url),
    async start() {
      if (pool) return;
      // Pipeline mode: a query queued while another is on the wire is sent at once (putEvents
      // queues a transaction's statements together). Awaited one by one, queries run as before.
      const p = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10, pipeline: true });
      // An idle client that loses its connection must not crash the collector.
      p.on('error', () => undefined);
      try {
        await migrate(p);
      } catch (err) {
        await p.end().catch(() => undefined);
        throw err;
      }
      pool = p;
    },
    async shutdown() {
      if (!pool) return;
      const p = pool;
      pool = undefined;
      await p.end();
    },
    async putEvents(batch): Promise<PutResult> {
      if (batch.length === 0) return { stored: 0, duplicates: 0, fresh: [] };
      const c = await open().connect();
      try {
        const keys = pgBinaryArray('text', [...new Set(batch.map((h) => h.key))].sort());
        // Pipelined: the three leave in one write and cost one round trip. The read is still a
        // statement of its own, run after the locks are held, so its snapshot sees what the holder
        // of a lock committed.
        const [, , res] = await Promise.all([
          c.query('BEGIN'),
          c.query({ name: 'inferlog_put_lock', text: LOCK_SQL, values: [keys] }),
          c.query<DbExchangeRow>({ name: 'inferlog_put_read', text: READ_SQL, values: [keys] }),
        ]);
        const current = new Map<string, ExchangeRow>();
        for (const r of res.rows) current.set(r.key, fromDb(r).row);
        const changed = new Set<string>();
        const newHalves: ExchangeHalf[] = [];
        let duplicates = 0;
        const fresh: boolean[] = [];
        const changes: { row: ExchangeRow; sign: 1 | -1 }[] = [];
        const instances: NonNullable<PutResult['instances']> = { rows: 0, skipped: {} };
        const complete = new Map<string, ExchangeRow>();
        for (const half of batch) {
          const before = current.get(half.key);
          const merged = mergeHalf(before, half);
          fresh.push(merged !== undefined);
          if (!merged) {
            duplicates++;
            continue;
          }
          if (before) changes.push({ row: before, sign: -1 });
          changes.push({ row: merged, sign: 1 });
          current.set(half.key, merged);
          changed.add(half.key);
          newHalves.push(half);
          if (wantsInstances(before, merged, [half])) complete.set(half.key, merged);
        }
        if (changed.size > 0) {
          const w = writeStatement(
            [...changed].map((key) => current.get(key)!),
            newHalves,
            levelDeltas(changes),
          );
          if (complete.size > 0) {
            await c.query(w);
            await insertInstances(c, [...complete.values()], instances);
            await c.query('COMMIT');
          } else {
            // Pipelined too: when the write fails, PostgreSQL answers the COMMIT behind it by
            // rolling back, and the write's error rejects the whole.
            await Promise.all([c.query(w), c.query('COMMIT')]);
          }
        } else {
          await c.query('COMMIT');
        }
        return {
          stored: newHalves.length,
          duplicates,
          fresh,
          ...(batch.some((h) => h.instances) ? { instances } : {}),
        };
      } catch (err) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        c.release();
      }
    },
    async listExchanges(filter: ExchangeFilter, page: PageRequest): Promise<ExchangePage> {
      const p = open();
      if (page.order === 'follow' && !page.after && filter.sinceMs === undefined) {
        // A restricted reader starts after its own newest row: the store's sequence would tell it
        // how much other namespaces wrote.
        const a = new SqlBuilder(postgresDialect).allow(filter.allow);
        const r = await p.query<{ s: string | null }>(
          `SELECT max(seq) AS s FROM exchanges ${a.where()}`,
          a.params,
        );
        return { items: [], next: { kind: 'seq', seq: Number(r.rows[0]?.s ?? 0) } };
      }
      const b = new SqlBuilder(postgresDialect).filter(filter).after(page.after);
      const order = page.order === 'follow' ? 'seq ASC' : 'time_ms DESC, id DESC';
      const res = await p.query<DbExchangeRow>(
        `SELECT ${LIST_COLUMNS} FROM exchanges ${b.where()} ORDER BY ${order} LIMIT ${b.p(page.limit + 1)}`,
        b.params,
      );
      const items = res.rows.slice(0, page.limit).map(fromDb);
      const more = res.rows.length > page.limit;
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
      const p = open();
      // By store key, else the newest exchange with that event id (links that carry a Ce-Id),
      // among the rows the reader may see (in SQL: the newest with that id may be another namespace's).
      const b = new SqlBuilder(postgresDialect);
      const idParam = b.p(id);
      const allowed = b
        .allow(allow)
        .clauses.map((c) => ` AND ${c}`)
        .join('');
      const r = await p.query<DbExchangeRow>(
        `SELECT ${LIST_COLUMNS}, search_text FROM exchanges WHERE key = ${idParam}${allowed}
         UNION ALL
         (SELECT ${LIST_COLUMNS}, search_text FROM exchanges WHERE id = ${idParam}${allowed} ORDER BY time_ms DESC, key DESC LIMIT 1)
         LIMIT 1`,
        b.params,
      );
      const row = r.rows[0];
      if (!row) return undefined;
      const bodies = (
        await p.query<{ kind: number; body: Buffer }>(
          'SELECT kind, body FROM exchange_bodies WHERE key = $1',
          [row.key],
        )
      ).rows;
      const body = (k: number): Uint8Array | null => {
        const b = bodies.find((x) => x.kind === k)?.body;
        return b ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : null;
      };
      return { ...fromDb(row), requestBody: body(KIND_CODE.request), responseBody: body(KIND_CODE.response) };
    },
    async getInstances(key) {
      const r = await open().query<DbInstanceRow>(
        `SELECT ${INSTANCE_COLUMNS.join(', ')} FROM instances WHERE key = $1 ORDER BY idx`,
        [key],
      );
      return r.rows.map(instanceFromDb);
    },
    async listInstances(filter, page) {
      const q = listInstancesSql(postgresDialect, filter, page);
      return instancePage((await open().query<DbInstanceRow>(q.sql, q.params)).rows, page.limit);
    },
    async stats(window, filter): Promise<StatsGroup[]> {
      const p = open();
      const plan = planWindow(window.sinceMs, window.untilMs);
      const groups: StatsGroup[] = [];
      for (const part of plan.rollups) {
        const q = rollupQuery(postgresDialect, filter, part);
        const res = await p.query<Parameters<typeof groupFromRollup>[0]>(q.sql, q.params);
        for (const r of res.rows) if (Number(r.n) !== 0) groups.push(groupFromRollup(r));
      }
      for (const part of plan.raw) {
        const b = new SqlBuilder(postgresDialect).filter({ ...filter, ...part });
        const res = await p.query<{
          model: string;
          namespace: string;
          status: number | null;
          err: boolean;
          complete: boolean;
          latency_bucket: number | null;
          n: string;
          w: number;
        }>(
          `SELECT model, namespace, status, (error_code IS NOT NULL) AS err, complete, latency_bucket, count(*) AS n, sum(sample_weight) AS w
           FROM exchanges ${b.where()} GROUP BY model, namespace, status, err, complete, latency_bucket`,
          b.params,
        );
        for (const r of res.rows) {
          groups.push({
            model: r.model,
            namespace: r.namespace,
            status: r.status,
            error: r.err,
            complete: r.complete,
            latencyBucket: r.latency_bucket,
            count: Number(r.n),
            weight: Number(r.w),
          });
        }
      }
      return groups;
    },
    async timeSeries(window, filter, stepMs): Promise<TimeSeriesGroup[]> {
      const p = open();
      const q = timeSeriesQuery(
        postgresDialect,
        filter,
        window,
        stepMs,
        (e, n) => `floor(${e} / ${n})::bigint`,
      );
      return (await p.query<Parameters<typeof timeSeriesGroup>[0]>(q.sql, q.params)).rows
        .filter((r) => Number(r.n) !== 0)
        .map((r) => timeSeriesGroup(r, stepMs));
    },
    async deleteOlderThan(t: number): Promise<number> {
      const c = await open().connect();
      try {
        await c.query('BEGIN');
        for (const level of LEVELS) {
          const cut = Math.floor(t / level.ms);
          const deltas = await c.query<RollupDelta>(
            `SELECT floor(time_ms / ${level.ms})::bigint AS period, model, namespace, component,
                    coalesce(status, ${NO_STATUS}) AS status, (error_code IS NOT NULL)::int AS err, complete::int AS complete,
                    coalesce(latency_bucket, ${NO_BUCKET}) AS bucket, -count(*) AS n, -sum(sample_weight) AS w
             FROM exchanges WHERE time_ms >= $1 AND time_ms < $2 GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
             ORDER BY 1, 2, 3, 4, 5, 6, 7, 8`,
            [cut * level.ms, t],
          );
          await upsertDeltas(c, level, deltas.rows);
          await c.query(`DELETE FROM ${level.table} WHERE period < $1`, [cut]);
        }
        await c.query(
          'DELETE FROM exchange_bodies WHERE key IN (SELECT key FROM exchanges WHERE time_ms < $1)',
          [t],
        );
        // Instance rows carry their exchange's time: the same cut takes them.
        await c.query('DELETE FROM instances WHERE time_ms < $1', [t]);
        const r = await c.query('DELETE FROM exchanges WHERE time_ms < $1', [t]);
        await c.query('COMMIT');
        return r.rowCount ?? 0;
      } catch (err) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        c.release();
      }
    },
    async erase(filter: ExchangeFilter): Promise<number> {
      const c = await open().connect();
      try {
        await c.query('BEGIN');
        let erased = 0;
        let last: string | undefined;
        for (;;) {
          // Keys in ascending order, chunk after chunk: the same lock order as putEvents, so an
          // erasure and a concurrent ingest cannot deadlock.
          const b = new SqlBuilder(postgresDialect).filter(filter);
          if (last !== undefined) b.clauses.push(`key > ${b.p(last)}`);
          const keys = (
            await c.query<{ key: string }>(
              `SELECT key FROM exchanges ${b.where()} ORDER BY key LIMIT ${ERASE_CHUNK}`,
              b.params,
            )
          ).rows.map((r) => r.key);
          if (keys.length === 0) break;
          last = keys[keys.length - 1];
          await c.query(
            'SELECT pg_advisory_xact_lock(hashtextextended(x, 0)) FROM unnest($1::text[]) WITH ORDINALITY AS t(x, n) ORDER BY n',
            [keys],
          );
          // Read under the locks: a half committed meanwhile changed what the rollups hold.
          const rows = (
            await c.query<DbExchangeRow>(
              `SELECT ${LIST_COLUMNS} FROM exchanges WHERE key = ANY($1::text[])`,
              [keys],
            )
          ).rows.map((r) => fromDb(r).row);
          for (const [level, deltas] of levelDeltas(rows.map((row) => ({ row, sign: -1 as const })))) {
            await upsertDeltas(c, level, deltas);
            for (const x of deltas)
              await c.query(
                pruneSql(level.table, (n) => `$${n}`),
                rollupKeyValues(x),
              );
          }
          await c.query('DELETE FROM exchange_bodies WHERE key = ANY($1::text[])', [keys]);
          // Instance rows hold the inputs and predictions: personal data as much as the bodies.
          await c.query('DELETE FROM instances WHERE key = ANY($1::text[])', [keys]);
          const r = await c.query('DELETE FROM exchanges WHERE key = ANY($1::text[])', [keys]);
          erased += r.rowCount ?? 0;
        }
        await c.query('COMMIT');
        return erased;
      } catch (err) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        c.release();
      }
    },
  };
}

async function upsertDeltas(
  c: pg.PoolClient,
  level: RollupLevel,
  deltas: readonly RollupDelta[],
): Promise<void> {
  for (let i = 0; i < deltas.length; i += ROWS_PER_STATEMENT) {
    const chunk = deltas.slice(i, i + ROWS_PER_STATEMENT);
    await c.query(
      upsertSql(level.table, chunk.length, (n) => `$${n}`),
      chunk.flatMap(rollupValues),
    );
  }
}

/** Each written column's PostgreSQL type, for its `unnest` array parameter (`seq` is drawn in SQL). */
const COLUMN_TYPES: Record<Exclude<(typeof WRITE_COLUMNS)[number], 'seq'>, PgElementType> = {
  key: 'text',
  id: 'text',
  time_ms: 'float8',
  model: 'text',
  namespace: 'text',
  component: 'text',
  status: 'int4',
  error_code: 'text',
  latency_ms: 'float8',
  latency_bucket: 'int4',
  sample_weight: 'float8',
  trace_id: 'text',
  complete: 'bool',
  search_text: 'text',
  detail: 'text',
};
const ROW_COLUMNS = WRITE_COLUMNS.filter((c) => c !== 'seq');

function rowValue(row: ExchangeRow, col: (typeof ROW_COLUMNS)[number]): unknown {
  switch (col) {
    case 'key':
      return row.key;
    case 'id':
      return row.id;
    case 'time_ms':
      return row.timeMs;
    case 'model':
      return row.model;
    case 'namespace':
      return row.namespace;
    case 'component':
      return row.component;
    case 'status':
      return row.status;
    case 'error_code':
      return row.errorCode;
    case 'latency_ms':
      return row.latencyMs;
    case 'latency_bucket':
      return row.latencyBucket;
    case 'sample_weight':
      return row.sampleWeight;
    case 'trace_id':
      return row.traceId;
    case 'complete':
      return row.complete;
    case 'search_text':
      return row.searchText;
    case 'detail':
      return JSON.stringify(row.detail);
  }
}

const ROLLUP_TYPES: Record<(typeof ROLLUP_COLUMNS)[number], PgElementType> = {
  period: 'int8',
  model: 'text',
  namespace: 'text',
  component: 'text',
  status: 'int4',
  err: 'int2',
  complete: 'int2',
  bucket: 'int4',
  n: 'int8',
  w: 'float8',
};

/**
 * The whole write of one putEvents as one statement of data-modifying CTEs: rows (each changed
 * row once, a fresh seq), new bodies, and the rollup deltas of each level in key order (the order
 * every collector locks rollup rows in, so concurrent collectors cannot deadlock).
 */
function writeStatement(
  rows: readonly ExchangeRow[],
  halves: readonly ExchangeHalf[],
  deltas: ReadonlyMap<RollupLevel, readonly RollupDelta[]>,
): { name: string; text: string; values: unknown[] } {
  const params: unknown[] = [];
  let shape = '';
  const p = (v: unknown, type: string): string => `$${params.push(v)}::${type}`;
  const array = (type: PgElementType, values: readonly unknown[]): string =>
    p(pgBinaryArray(type, values), `${type}[]`);
  const ctes: string[] = [];

  const arrays = ROW_COLUMNS.map((col) =>
    array(
      COLUMN_TYPES[col],
      rows.map((r) => rowValue(r, col)),
    ),
  );
  const updates = WRITE_COLUMNS.slice(1)
    .map((col) => `${col} = EXCLUDED.${col}`)
    .join(', ');
  ctes.push(`rows_ AS (
    INSERT INTO exchanges (${WRITE_COLUMNS.join(', ')})
    SELECT ${WRITE_COLUMNS.map((c) => (c === 'seq' ? "nextval('exchanges_seq_gen')" : c)).join(', ')}
    FROM unnest(${arrays.join(', ')}) WITH ORDINALITY AS v(${ROW_COLUMNS.join(', ')}, ord) ORDER BY ord
    ON CONFLICT (key) DO UPDATE SET ${updates})`);

  shape += halves.length > 0 ? 'b' : 'x';
  if (halves.length > 0) {
    const bodies = Buffer.concat(halves.map((h) => buf(h.body)));
    const offsets: number[] = [];
    let at = 1; // substring counts from 1
    for (const h of halves) {
      offsets.push(at);
      at += h.body.byteLength;
    }
    ctes.push(`bodies_ AS (
    INSERT INTO exchange_bodies (key, kind, body)
    SELECT key, kind, substring(${p(bodies, 'bytea')} FROM off FOR len)
    FROM unnest(${array(
      'text',
      halves.map((h) => h.key),
    )}, ${array(
      'int2',
      halves.map((h) => KIND_CODE[h.kind]),
    )}, ${array('int4', offsets)}, ${array(
      'int4',
      halves.map((h) => h.body.byteLength),
    )}) AS b(key, kind, off, len)
    ON CONFLICT DO NOTHING)`);
  }

  for (const level of LEVELS) {
    const ds = deltas.get(level) ?? [];
    shape += ds.length > 0 ? level.table[9] : '_'; // d(aily), h(ourly), m(inutely)
    if (ds.length === 0) continue;
    const cols = ROLLUP_COLUMNS.map((col) =>
      array(
        ROLLUP_TYPES[col],
        ds.map((d) => d[col]),
      ),
    );
    ctes.push(`${level.table}_ AS (
    INSERT INTO ${level.table} (${ROLLUP_COLUMNS.join(', ')})
    SELECT ${ROLLUP_COLUMNS.join(', ')}
    FROM unnest(${cols.join(', ')}) WITH ORDINALITY AS d(${ROLLUP_COLUMNS.join(', ')}, ord) ORDER BY ord
    ON CONFLICT (${ROLLUP_KEY.join(', ')}) DO UPDATE SET n = ${level.table}.n + EXCLUDED.n, w = ${level.table}.w + EXCLUDED.w)`);
  }
  // Named by its shape (bodies or not, which rollup levels): a connection parses and plans each
  // shape once, and a transaction of a few halves no longer pays for planning five CTEs.
  return { name: `inferlog_put_${shape}`, text: `WITH ${ctes.join(',\n')}\nSELECT 1`, values: params };
}
