/**
 * Where `inferlog query --from/--db` reads exchanges: a DuckDB connection with a view named
 * `exchanges` (the columns of sinks/parquet-lake/schema.ts) over
 *
 *   --from URL:  ObjectStore.list(prefix) ──partition pruning──▶ get (remote) or the path (local) ──▶ read_parquet
 *   --db FILE:   the collector's SQLite store ──better-sqlite3──▶ Exchange ──appender──▶ a DuckDB table
 *
 * Only objects under partitions the filters can match are listed (when namespace and model are
 * given) and fetched (always): `namespace=`, `inferenceservice=`, `date=` and `hour=` in the key
 * are compared with the filters before anything is downloaded. DuckDB's httpfs and sqlite
 * extensions are never used (they download at first use, and clusters are often offline).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { InferlogError } from '../../core/errors.js';
import type { ExchangeFilter } from '../../store/store.js';
import { openObjectStore, parseBlobUrl } from '../../transport/object-store/open.js';
import type { BlobLocation } from '../../transport/object-store/object-store.js';
import { createTableSql } from '../../sinks/parquet-lake/schema.js';
import { escapePartitionValue, unescapePartitionValue } from '../../sinks/parquet-lake/keys.js';
import { appendExchanges, type DuckDB } from '../../sinks/parquet-lake/encoder.js';
import { readSqliteExchanges } from './sqlite.js';
import { whereOf } from './filter.js';

export interface LakeSource {
  readonly conn: DuckDBConnection;
  readonly duck: DuckDB;
  /** Objects (or store rows) the view reads. */
  readonly objects: number;
  close(): Promise<void>;
}

async function openDuck(): Promise<{ duck: DuckDB; instance: DuckDBInstance; conn: DuckDBConnection }> {
  const duck: DuckDB = await import('@duckdb/node-api');
  const instance = await duck.DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const conn = await instance.connect();
  await conn.run(`SET TimeZone = 'UTC'`);
  return { duck, instance, conn };
}

const quote = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/**
 * After the view exists, `--sql` may read only the files behind it: no other path, no writing
 * (COPY TO), no ATTACH, no extension install, and no SQL can undo this (lock_configuration).
 */
async function lockDown(conn: DuckDBConnection, dirs: (string | undefined)[]): Promise<void> {
  const allowed = dirs
    .filter((d): d is string => d !== undefined)
    .map((d) => quote(d.endsWith('/') ? d : `${d}/`));
  await conn.run(`SET allowed_directories = [${allowed.join(', ')}]`);
  await conn.run('SET enable_external_access = false');
  await conn.run('SET lock_configuration = true');
}

/** Opens `--from URL` with the filters used for pruning. */
export async function openLakeFrom(
  from: string,
  filter: ExchangeFilter,
  signal?: AbortSignal,
): Promise<LakeSource> {
  const location = parseBlobUrl(from);
  const store = await openObjectStore(location);
  const { duck, instance, conn } = await openDuck();
  let tmp: string | undefined;
  try {
    const paths: string[] = [];
    for await (const obj of store.list(listPrefix(location, filter), signal)) {
      if (!obj.key.endsWith('.parquet') || !mayMatch(partitionIn(obj.key, location.prefix), filter)) continue;
      if (location.scheme === 'file') {
        paths.push(join(location.bucket, ...obj.key.split('/')));
      } else {
        tmp ??= await mkdtemp(join(tmpdir(), 'inferlog-query-'));
        const path = join(tmp, `${paths.length}.parquet`);
        await writeFile(path, await store.get(obj.key, signal), { mode: 0o600 });
        paths.push(path);
      }
    }
    if (paths.length === 0) await conn.run(createTableSql('exchanges_all'));
    else
      await conn.run(
        `CREATE VIEW exchanges_all AS SELECT * FROM read_parquet([${paths.map(quote).join(', ')}], union_by_name = true, hive_partitioning = false)`,
      );
    await conn.run(`CREATE VIEW exchanges AS SELECT * FROM exchanges_all ${inlineWhere(filter)}`);
    await lockDown(conn, [location.scheme === 'file' ? location.bucket : tmp]);
    return {
      conn,
      duck,
      objects: paths.length,
      async close() {
        conn.closeSync();
        instance.closeSync();
        await store.close();
        if (tmp) await rm(tmp, { recursive: true, force: true });
      },
    };
  } catch (err) {
    conn.closeSync();
    instance.closeSync();
    await store.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
    throw unreadable(from, err);
  }
}

/** A store or file problem, said as LAKE_UNREADABLE (a configuration error stays what it is). */
export function unreadable(from: string, err: unknown): InferlogError {
  if (err instanceof InferlogError && (err.code === 'CONFIG_INVALID' || err.code === 'LAKE_UNREADABLE'))
    return err;
  return new InferlogError('LAKE_UNREADABLE', `${from}: ${(err as Error).message}`, { cause: err });
}

/** Opens a collector's SQLite store (`--db FILE`) as the same `exchanges` table. */
export async function openLakeDb(file: string, filter: ExchangeFilter = {}): Promise<LakeSource> {
  const { duck, instance, conn } = await openDuck();
  try {
    await conn.run(createTableSql('exchanges_all'));
    let n = 0;
    for (const chunk of readSqliteExchanges(file, 2000)) {
      await appendExchanges(duck, conn, 'exchanges_all', chunk);
      n += chunk.length;
    }
    await conn.run(`CREATE VIEW exchanges AS SELECT * FROM exchanges_all ${inlineWhere(filter)}`);
    await lockDown(conn, []);
    return {
      conn,
      duck,
      objects: n,
      async close() {
        conn.closeSync();
        instance.closeSync();
      },
    };
  } catch (err) {
    conn.closeSync();
    instance.closeSync();
    throw unreadable(`--db ${file} (a collector's SQLite store)`, err);
  }
}

/**
 * The filters as a WHERE clause with the values written in (a view cannot take parameters), so
 * `--sql` sees only the exchanges the filters match, as a listing does. The SQL around the
 * placeholders is ours (column names, functions); only values come from flags, and each is a
 * quoted string literal or a number.
 */
export function inlineWhere(filter: ExchangeFilter): string {
  const { sql, params } = whereOf(filter);
  let i = 0;
  return sql.replace(/\?/g, () => {
    const v = params[i++];
    if (typeof v === 'bigint' || typeof v === 'number') return String(v);
    return quote(String(v));
  });
}

// ── partition pruning ─────────────────────────────────────────────────────────

interface KeyPartition {
  namespace?: string;
  inferenceservice?: string;
  date?: string;
  hour?: string;
}

/** The narrowest prefix the filters allow: partitions are nested namespace → inferenceservice. */
export function listPrefix(location: BlobLocation, f: ExchangeFilter): string {
  let p = location.prefix === '' ? '' : `${location.prefix}/`;
  if (f.namespace === undefined) return p;
  p += `namespace=${escapePartitionValue(f.namespace)}/`;
  if (f.model !== undefined) p += `inferenceservice=${escapePartitionValue(f.model)}/`;
  return p;
}

/** The Hive partition values in a key (below the URL's prefix). */
export function partitionIn(key: string, prefix: string): KeyPartition {
  const rest = prefix === '' ? key : key.slice(prefix.length + 1);
  const out: KeyPartition = {};
  for (const seg of rest.split('/').slice(0, -1)) {
    const eq = seg.indexOf('=');
    if (eq < 0) continue;
    const k = seg.slice(0, eq);
    if (k === 'namespace' || k === 'inferenceservice' || k === 'date' || k === 'hour')
      out[k] = unescapePartitionValue(seg.slice(eq + 1));
  }
  return out;
}

/** False only when the object's partition cannot hold a matching exchange. */
export function mayMatch(p: KeyPartition, f: ExchangeFilter): boolean {
  if (f.namespace !== undefined && p.namespace !== undefined && p.namespace !== f.namespace) return false;
  if (f.model !== undefined && p.inferenceservice !== undefined && p.inferenceservice !== f.model)
    return false;
  if (p.date === undefined || !/^\d{4}-\d\d-\d\d$/.test(p.date)) return true;
  const hour = p.hour !== undefined && /^\d\d$/.test(p.hour) ? Number(p.hour) : undefined;
  const start = Date.parse(`${p.date}T00:00:00Z`) + (hour ?? 0) * 3_600_000;
  const end = start + (hour === undefined ? 86_400_000 : 3_600_000);
  if (Number.isNaN(start)) return true;
  if (f.sinceMs !== undefined && end <= f.sinceMs) return false;
  if (f.untilMs !== undefined && start >= f.untilMs) return false;
  return true;
}
