/**
 * Versioned schema migrations, one numbered entry per change, for both stores.
 * Applied in order at start; `schema_migrations` records which ran. Never edit a
 * released migration: add the next number.
 */
export interface Migration {
  version: number;
  name: string;
  sqlite: string;
  postgres: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'exchanges',
    sqlite: `
      CREATE TABLE exchanges (
        id TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        time_ms REAL NOT NULL,
        model TEXT NOT NULL,
        namespace TEXT NOT NULL,
        component TEXT NOT NULL,
        status INTEGER,
        error_code TEXT,
        latency_ms REAL,
        latency_bucket INTEGER,
        sample_weight REAL NOT NULL,
        complete INTEGER NOT NULL,
        search_text TEXT NOT NULL,
        detail TEXT NOT NULL
      );
      CREATE UNIQUE INDEX exchanges_seq ON exchanges (seq);
      CREATE INDEX exchanges_time ON exchanges (time_ms, id);
      -- status and error_code ride along so a status filter is checked in the index, not the table.
      CREATE INDEX exchanges_model_time ON exchanges (model, time_ms, id, status, error_code);
      CREATE INDEX exchanges_namespace_time ON exchanges (namespace, time_ms, id, status, error_code);
      CREATE INDEX exchanges_component_time ON exchanges (component, time_ms, id, status, error_code);
      CREATE INDEX exchanges_status_time ON exchanges (status, time_ms, id);
      -- Covering index: stats over a window read only this index.
      CREATE INDEX exchanges_stats ON exchanges (time_ms, model, namespace, status, error_code, complete, latency_bucket, sample_weight);
      CREATE TABLE exchange_bodies (
        id TEXT NOT NULL,
        kind INTEGER NOT NULL,
        body BLOB NOT NULL,
        PRIMARY KEY (id, kind)
      ) WITHOUT ROWID;
    `,
    postgres: `
      CREATE SEQUENCE exchanges_seq_gen;
      CREATE TABLE exchanges (
        id TEXT PRIMARY KEY,
        seq BIGINT NOT NULL,
        time_ms DOUBLE PRECISION NOT NULL,
        model TEXT NOT NULL,
        namespace TEXT NOT NULL,
        component TEXT NOT NULL,
        status INTEGER,
        error_code TEXT,
        latency_ms DOUBLE PRECISION,
        latency_bucket INTEGER,
        sample_weight DOUBLE PRECISION NOT NULL,
        complete BOOLEAN NOT NULL,
        search_text TEXT NOT NULL,
        detail TEXT NOT NULL
      );
      CREATE UNIQUE INDEX exchanges_seq ON exchanges (seq);
      CREATE INDEX exchanges_time ON exchanges (time_ms, id);
      CREATE INDEX exchanges_model_time ON exchanges (model, time_ms, id, status, error_code);
      CREATE INDEX exchanges_namespace_time ON exchanges (namespace, time_ms, id, status, error_code);
      CREATE INDEX exchanges_component_time ON exchanges (component, time_ms, id, status, error_code);
      CREATE INDEX exchanges_status_time ON exchanges (status, time_ms, id);
      CREATE INDEX exchanges_stats ON exchanges (time_ms) INCLUDE (model, namespace, status, error_code, complete, latency_bucket, sample_weight);
      CREATE TABLE exchange_bodies (
        id TEXT NOT NULL,
        kind SMALLINT NOT NULL,
        body BYTEA NOT NULL,
        PRIMARY KEY (id, kind)
      );
    `,
  },
  {
    version: 2,
    name: 'rollups',
    // Daily, hourly and per-minute counts for stats; built from what is already stored.
    sqlite: `
      CREATE TABLE exchange_hourly (
        period INTEGER NOT NULL,
        model TEXT NOT NULL,
        namespace TEXT NOT NULL,
        component TEXT NOT NULL,
        status INTEGER NOT NULL,
        err INTEGER NOT NULL,
        complete INTEGER NOT NULL,
        bucket INTEGER NOT NULL,
        n INTEGER NOT NULL,
        w REAL NOT NULL,
        PRIMARY KEY (period, model, namespace, component, status, err, complete, bucket)
      ) WITHOUT ROWID;
      INSERT INTO exchange_hourly
        SELECT CAST(time_ms / 3600000 AS INTEGER), model, namespace, component, coalesce(status, -1),
               error_code IS NOT NULL, complete, coalesce(latency_bucket, -9999), count(*), sum(sample_weight)
        FROM exchanges WHERE true GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
      CREATE TABLE exchange_minutely (
        period INTEGER NOT NULL,
        model TEXT NOT NULL,
        namespace TEXT NOT NULL,
        component TEXT NOT NULL,
        status INTEGER NOT NULL,
        err INTEGER NOT NULL,
        complete INTEGER NOT NULL,
        bucket INTEGER NOT NULL,
        n INTEGER NOT NULL,
        w REAL NOT NULL,
        PRIMARY KEY (period, model, namespace, component, status, err, complete, bucket)
      ) WITHOUT ROWID;
      INSERT INTO exchange_minutely
        SELECT CAST(time_ms / 60000 AS INTEGER), model, namespace, component, coalesce(status, -1),
               error_code IS NOT NULL, complete, coalesce(latency_bucket, -9999), count(*), sum(sample_weight)
        FROM exchanges WHERE true GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
      CREATE TABLE exchange_daily (
        period INTEGER NOT NULL,
        model TEXT NOT NULL,
        namespace TEXT NOT NULL,
        component TEXT NOT NULL,
        status INTEGER NOT NULL,
        err INTEGER NOT NULL,
        complete INTEGER NOT NULL,
        bucket INTEGER NOT NULL,
        n INTEGER NOT NULL,
        w REAL NOT NULL,
        PRIMARY KEY (period, model, namespace, component, status, err, complete, bucket)
      ) WITHOUT ROWID;
      INSERT INTO exchange_daily
        SELECT CAST(time_ms / 86400000 AS INTEGER), model, namespace, component, coalesce(status, -1),
               error_code IS NOT NULL, complete, coalesce(latency_bucket, -9999), count(*), sum(sample_weight)
        FROM exchanges WHERE true GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
    `,
    postgres: `
      CREATE TABLE exchange_hourly (
        period BIGINT NOT NULL,
        model TEXT NOT NULL,
        namespace TEXT NOT NULL,
        component TEXT NOT NULL,
        status INTEGER NOT NULL,
        err SMALLINT NOT NULL,
        complete SMALLINT NOT NULL,
        bucket INTEGER NOT NULL,
        n BIGINT NOT NULL,
        w DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (period, model, namespace, component, status, err, complete, bucket)
      );
      INSERT INTO exchange_hourly
        SELECT floor(time_ms / 3600000)::bigint, model, namespace, component, coalesce(status, -1),
               (error_code IS NOT NULL)::int, complete::int, coalesce(latency_bucket, -9999), count(*), sum(sample_weight)
        FROM exchanges GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
      CREATE TABLE exchange_minutely (
        period BIGINT NOT NULL,
        model TEXT NOT NULL,
        namespace TEXT NOT NULL,
        component TEXT NOT NULL,
        status INTEGER NOT NULL,
        err SMALLINT NOT NULL,
        complete SMALLINT NOT NULL,
        bucket INTEGER NOT NULL,
        n BIGINT NOT NULL,
        w DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (period, model, namespace, component, status, err, complete, bucket)
      );
      INSERT INTO exchange_minutely
        SELECT floor(time_ms / 60000)::bigint, model, namespace, component, coalesce(status, -1),
               (error_code IS NOT NULL)::int, complete::int, coalesce(latency_bucket, -9999), count(*), sum(sample_weight)
        FROM exchanges GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
      CREATE TABLE exchange_daily (
        period BIGINT NOT NULL,
        model TEXT NOT NULL,
        namespace TEXT NOT NULL,
        component TEXT NOT NULL,
        status INTEGER NOT NULL,
        err SMALLINT NOT NULL,
        complete SMALLINT NOT NULL,
        bucket INTEGER NOT NULL,
        n BIGINT NOT NULL,
        w DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (period, model, namespace, component, status, err, complete, bucket)
      );
      INSERT INTO exchange_daily
        SELECT floor(time_ms / 86400000)::bigint, model, namespace, component, coalesce(status, -1),
               (error_code IS NOT NULL)::int, complete::int, coalesce(latency_bucket, -9999), count(*), sum(sample_weight)
        FROM exchanges GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
    `,
  },
  {
    version: 3,
    name: 'scoped exchange key',
    // Exchanges were keyed by the event id alone, so the same id from two namespaces merged into one
    // exchange. Now `key` (exchangeKey in exchange-record.ts: the id scoped by source, namespace,
    // service and component) is the identity, and `id` is an indexed attribute. Rows stored before
    // keep their id as key: a late half of an exchange begun before the upgrade starts a new row.
    sqlite: `
      CREATE TABLE exchanges_v3 (
        key TEXT PRIMARY KEY,
        id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        time_ms REAL NOT NULL,
        model TEXT NOT NULL,
        namespace TEXT NOT NULL,
        component TEXT NOT NULL,
        status INTEGER,
        error_code TEXT,
        latency_ms REAL,
        latency_bucket INTEGER,
        sample_weight REAL NOT NULL,
        complete INTEGER NOT NULL,
        search_text TEXT NOT NULL,
        detail TEXT NOT NULL
      );
      INSERT INTO exchanges_v3
        SELECT id, id, seq, time_ms, model, namespace, component, status, error_code, latency_ms,
               latency_bucket, sample_weight, complete, search_text, detail
        FROM exchanges;
      DROP TABLE exchanges;
      ALTER TABLE exchanges_v3 RENAME TO exchanges;
      CREATE UNIQUE INDEX exchanges_seq ON exchanges (seq);
      CREATE INDEX exchanges_id ON exchanges (id);
      CREATE INDEX exchanges_time ON exchanges (time_ms, id);
      CREATE INDEX exchanges_model_time ON exchanges (model, time_ms, id, status, error_code);
      CREATE INDEX exchanges_namespace_time ON exchanges (namespace, time_ms, id, status, error_code);
      CREATE INDEX exchanges_component_time ON exchanges (component, time_ms, id, status, error_code);
      CREATE INDEX exchanges_status_time ON exchanges (status, time_ms, id);
      CREATE INDEX exchanges_stats ON exchanges (time_ms, model, namespace, status, error_code, complete, latency_bucket, sample_weight);
      ALTER TABLE exchange_bodies RENAME COLUMN id TO key;
    `,
    postgres: `
      ALTER TABLE exchanges ADD COLUMN key TEXT;
      UPDATE exchanges SET key = id;
      ALTER TABLE exchanges ALTER COLUMN key SET NOT NULL;
      ALTER TABLE exchanges DROP CONSTRAINT exchanges_pkey;
      ALTER TABLE exchanges ADD PRIMARY KEY (key);
      CREATE INDEX exchanges_id ON exchanges (id);
      ALTER TABLE exchange_bodies RENAME COLUMN id TO key;
    `,
  },
  {
    version: 4,
    name: 'trace id',
    // The W3C trace id of each exchange (CloudEvents `traceparent`), for `traceId` filters and the
    // UI's trace link. Rows stored before have none (NULL): they were never linked to a trace.
    sqlite: `
      ALTER TABLE exchanges ADD COLUMN trace_id TEXT;
      CREATE INDEX exchanges_trace ON exchanges (trace_id) WHERE trace_id IS NOT NULL;
    `,
    postgres: `
      ALTER TABLE exchanges ADD COLUMN trace_id TEXT;
      CREATE INDEX exchanges_trace ON exchanges (trace_id) WHERE trace_id IS NOT NULL;
    `,
  },
  {
    version: 5,
    name: 'instances',
    // One row per prediction (`collect --log-instances`), written in the transaction that completes
    // its exchange and deleted with it. input and prediction are JSON text in both databases: a
    // JSONB column would refuse a client's "\u0000" and fail the whole batch's transaction.
    sqlite: `
      CREATE TABLE instances (
        key TEXT NOT NULL,
        idx INTEGER NOT NULL,
        exchange_id TEXT NOT NULL,
        time_ms REAL NOT NULL,
        model TEXT NOT NULL,
        namespace TEXT NOT NULL,
        component TEXT NOT NULL,
        sample_weight REAL NOT NULL,
        input TEXT NOT NULL,
        prediction TEXT,
        PRIMARY KEY (key, idx)
      ) WITHOUT ROWID;
      CREATE INDEX instances_time ON instances (time_ms, key, idx);
      CREATE INDEX instances_model_time ON instances (model, time_ms, key, idx);
    `,
    postgres: `
      CREATE TABLE instances (
        key TEXT NOT NULL,
        idx INTEGER NOT NULL,
        exchange_id TEXT NOT NULL,
        time_ms DOUBLE PRECISION NOT NULL,
        model TEXT NOT NULL,
        namespace TEXT NOT NULL,
        component TEXT NOT NULL,
        sample_weight DOUBLE PRECISION NOT NULL,
        input TEXT NOT NULL,
        prediction TEXT,
        PRIMARY KEY (key, idx)
      );
      CREATE INDEX instances_time ON instances (time_ms, key, idx);
      CREATE INDEX instances_model_time ON instances (model, time_ms, key, idx);
    `,
  },
  {
    version: 6,
    name: 'bodies by row',
    // Exchange keys are hashes, so bodies keyed by (key, kind) went to a random page of a table as
    // large as all bodies: one more page written per stored exchange, on top of the key index's
    // (issue 10: 1.9 WAL pages per exchange → 1.0). Bodies are keyed by their exchange's row id
    // now, which grows with each new exchange, so a batch's bodies fill the table's last pages.
    // `rid` is an INTEGER PRIMARY KEY, not the implicit rowid: VACUUM may renumber an implicit
    // one, never an explicit one. Without AUTOINCREMENT the rid of an erased newest row can be
    // given again; that is safe because a row's bodies are always deleted in its transaction.
    // The rebuild copies every row once.
    sqlite: `
      CREATE TABLE exchanges_v6 (
        rid INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        time_ms REAL NOT NULL,
        model TEXT NOT NULL,
        namespace TEXT NOT NULL,
        component TEXT NOT NULL,
        status INTEGER,
        error_code TEXT,
        latency_ms REAL,
        latency_bucket INTEGER,
        sample_weight REAL NOT NULL,
        complete INTEGER NOT NULL,
        search_text TEXT NOT NULL,
        detail TEXT NOT NULL,
        trace_id TEXT
      );
      INSERT INTO exchanges_v6 (key, id, seq, time_ms, model, namespace, component, status, error_code,
                                latency_ms, latency_bucket, sample_weight, complete, search_text, detail, trace_id)
        SELECT key, id, seq, time_ms, model, namespace, component, status, error_code, latency_ms,
               latency_bucket, sample_weight, complete, search_text, detail, trace_id
        FROM exchanges ORDER BY seq;
      CREATE TABLE exchange_bodies_v6 (
        rid INTEGER NOT NULL,
        kind INTEGER NOT NULL,
        body BLOB NOT NULL,
        PRIMARY KEY (rid, kind)
      ) WITHOUT ROWID;
      INSERT INTO exchange_bodies_v6 (rid, kind, body)
        SELECT e.rid, b.kind, b.body FROM exchange_bodies b JOIN exchanges_v6 e ON e.key = b.key ORDER BY e.rid, b.kind;
      DROP TABLE exchange_bodies;
      ALTER TABLE exchange_bodies_v6 RENAME TO exchange_bodies;
      DROP TABLE exchanges;
      ALTER TABLE exchanges_v6 RENAME TO exchanges;
      CREATE UNIQUE INDEX exchanges_seq ON exchanges (seq);
      CREATE INDEX exchanges_id ON exchanges (id);
      CREATE INDEX exchanges_time ON exchanges (time_ms, id);
      CREATE INDEX exchanges_model_time ON exchanges (model, time_ms, id, status, error_code);
      CREATE INDEX exchanges_namespace_time ON exchanges (namespace, time_ms, id, status, error_code);
      CREATE INDEX exchanges_component_time ON exchanges (component, time_ms, id, status, error_code);
      CREATE INDEX exchanges_status_time ON exchanges (status, time_ms, id);
      CREATE INDEX exchanges_stats ON exchanges (time_ms, model, namespace, status, error_code, complete, latency_bucket, sample_weight);
      CREATE INDEX exchanges_trace ON exchanges (trace_id) WHERE trace_id IS NOT NULL;
    `,
    // PostgreSQL keeps its layout (its put path is postgres-store.ts's; a heap appends rows whatever
    // their key). The version is recorded so both stores number their migrations alike.
    postgres: `SELECT 1`,
  },
];
