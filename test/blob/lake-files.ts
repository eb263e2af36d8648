// Reading a lake directory in tests, with DuckDB's Node package.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

/** The Parquet files under `dir` (none when it does not exist yet). */
export function parquetFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.parquet'))
    .map((f) => join(dir, f))
    .sort();
}

/** Rows per id across every Parquet file under `dir`. */
export async function rowsPerId(dir: string): Promise<Map<string, number>> {
  const files = parquetFiles(dir);
  if (files.length === 0) return new Map();
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const list = files.map((f) => `'${f.replace(/'/g, "''")}'`).join(', ');
    const r = await conn.runAndReadAll(
      `SELECT id, count(*)::INTEGER AS n FROM read_parquet([${list}]) GROUP BY id`,
    );
    return new Map(r.getRowObjectsJS().map((row) => [row.id as string, row.n as number]));
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}
