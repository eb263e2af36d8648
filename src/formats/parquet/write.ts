/**
 * Rows → one Parquet file in memory, written by DuckDB (`@duckdb/node-api`, loaded on first use
 * so nothing that does not write Parquet pays for it).
 *
 *   writeParquet(columns, rows) ──appender──▶ temp table ──COPY … (FORMAT parquet)──▶ temp file ──▶ bytes
 *
 * Column types map to Parquet's physical and logical types the way every reader expects:
 * VARCHAR → BYTE_ARRAY (String/UTF8), BOOLEAN → BOOLEAN, BIGINT → INT64, INTEGER → INT32,
 * DOUBLE → DOUBLE, BLOB → BYTE_ARRAY, TIMESTAMP → INT64 (timestamp, microseconds, UTC).
 * A column marked `required` refuses nulls (NOT NULL). The file still says OPTIONAL: DuckDB 1.5
 * (the pinned @duckdb/node-api) writes every column OPTIONAL; DuckDB 2 writes NOT NULL columns
 * REQUIRED, as parquet-go writes a Go struct's plain fields, so the flag is kept for that day.
 *
 * One in-memory DuckDB instance and one connection serve the process; writes take turns on it
 * (a promise chain), since a connection runs one statement at a time. The temporary file lives
 * in a private directory (0700) removed when the write ends, so captured traffic never stays
 * on disk. Shared by the blob sink (KServe's logRecord) and the exchanges layout.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type ParquetColumnType =
  'VARCHAR' | 'BOOLEAN' | 'BIGINT' | 'INTEGER' | 'DOUBLE' | 'BLOB' | 'TIMESTAMP';

export interface ParquetColumn {
  /** Column name as written in the file (quoted for DuckDB, so any text works). */
  readonly name: string;
  readonly type: ParquetColumnType;
  /** Never null (DuckDB NOT NULL; REQUIRED in the file once DuckDB writes it so). */
  readonly required?: boolean;
}

/** A cell: string (VARCHAR), boolean, number (INTEGER, DOUBLE; epoch ms for TIMESTAMP), bigint (BIGINT), bytes (BLOB), or null. */
export type ParquetValue = string | boolean | number | bigint | Uint8Array | null;

export interface ParquetWriteOptions {
  /** DuckDB's COMPRESSION option: `snappy` (default), `zstd`, `uncompressed`, … */
  readonly compression?: 'snappy' | 'zstd' | 'gzip' | 'uncompressed';
  /** Rows per row group (DuckDB's ROW_GROUP_SIZE); DuckDB's default when unset. */
  readonly rowGroupSize?: number;
}

type Api = typeof import('@duckdb/node-api');
type Connection = import('@duckdb/node-api').DuckDBConnection;

let connecting: Promise<{ api: Api; conn: Connection }> | undefined;
let turn: Promise<unknown> = Promise.resolve();
let seq = 0;

function connection(): Promise<{ api: Api; conn: Connection }> {
  connecting ??= (async () => {
    const api = await import('@duckdb/node-api');
    // Bounded: Parquet encoding of one batch needs little, and the agent shares its pod.
    const instance = await api.DuckDBInstance.create(':memory:', { threads: '1', memory_limit: '256MB' });
    return { api, conn: await instance.connect() };
  })();
  connecting.catch(() => (connecting = undefined));
  return connecting;
}

const quoteIdent = (name: string): string => '"' + name.replace(/"/g, '""') + '"';
const quoteString = (s: string): string => "'" + s.replace(/'/g, "''") + "'";

function append(
  api: Api,
  appender: import('@duckdb/node-api').DuckDBAppender,
  type: ParquetColumnType,
  v: ParquetValue,
): void {
  if (v === null) return appender.appendNull();
  switch (type) {
    case 'VARCHAR':
      return appender.appendVarchar(String(v));
    case 'BOOLEAN':
      return appender.appendBoolean(v === true);
    case 'BIGINT':
      return appender.appendBigInt(typeof v === 'bigint' ? v : BigInt(Math.trunc(Number(v))));
    case 'INTEGER':
      return appender.appendInteger(Number(v));
    case 'DOUBLE':
      return appender.appendDouble(Number(v));
    case 'BLOB':
      return appender.appendBlob(v instanceof Uint8Array ? v : new TextEncoder().encode(String(v)));
    case 'TIMESTAMP':
      return appender.appendTimestamp(new api.DuckDBTimestampValue(BigInt(Math.round(Number(v) * 1000))));
  }
}

async function writeOnce(
  columns: readonly ParquetColumn[],
  rows: readonly (readonly ParquetValue[])[],
  options: ParquetWriteOptions,
): Promise<Uint8Array> {
  const { api, conn } = await connection();
  const table = `inferlog_parquet_${process.pid}_${++seq}`;
  const dir = await mkdtemp(join(tmpdir(), 'inferlog-parquet-'));
  const file = join(dir, 'out.parquet');
  try {
    await conn.run(
      `CREATE TEMP TABLE ${table} (${columns.map((c) => `${quoteIdent(c.name)} ${c.type}${c.required ? ' NOT NULL' : ''}`).join(', ')})`,
    );
    try {
      const appender = await conn.createAppender(table);
      try {
        for (const row of rows) {
          for (let i = 0; i < columns.length; i++)
            append(api, appender, (columns[i] as ParquetColumn).type, row[i] ?? null);
          appender.endRow();
        }
        appender.flushSync();
      } finally {
        appender.closeSync();
      }
      const opts = [`FORMAT parquet`, `COMPRESSION ${options.compression ?? 'snappy'}`];
      if (options.rowGroupSize !== undefined)
        opts.push(`ROW_GROUP_SIZE ${Math.max(1, options.rowGroupSize)}`);
      await conn.run(`COPY ${table} TO ${quoteString(file)} (${opts.join(', ')})`);
    } finally {
      await conn.run(`DROP TABLE IF EXISTS ${table}`);
    }
    return new Uint8Array(await readFile(file));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** One Parquet file holding `rows` (each in `columns` order). */
export function writeParquet(
  columns: readonly ParquetColumn[],
  rows: readonly (readonly ParquetValue[])[],
  options: ParquetWriteOptions = {},
): Promise<Uint8Array> {
  const result = turn.then(() => writeOnce(columns, rows, options));
  turn = result.catch(() => undefined);
  return result;
}
