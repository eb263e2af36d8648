/**
 * Exchanges → one Parquet file of the `exchanges` layout, written by DuckDB (built-in parquet
 * writer: no extension download).
 *
 *   Exchange[] ──appender (one row each, typed)──▶ DuckDB table ──COPY … (FORMAT parquet, zstd)──▶ temp file ──▶ bytes
 *
 * DuckDB is loaded on first use only (a dynamic import), so an agent that logs elsewhere never
 * loads it. One DuckDB database per encoder, one thread: the encoder runs beside the proxy and
 * must not take the cores the model serves from. Files go through a private temporary directory
 * (0700) because DuckDB's COPY writes to a path; the bytes are read back and the file removed.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  DuckDBAppender,
  DuckDBConnection,
  DuckDBInstance,
  DuckDBMapType,
  DuckDBStructType,
} from '@duckdb/node-api';
import type { CapturedBody, Exchange } from '../../core/exchange.js';
import { InferlogError } from '../../core/errors.js';
import { modelInPath } from '../../core/model-in-path.js';
import { createTableSql, EXCHANGE_COLUMNS } from './schema.js';

export type DuckDB = typeof import('@duckdb/node-api');

export interface ParquetEncoder {
  /** One Parquet file holding `exchanges`, in order. */
  encode(exchanges: readonly Exchange[]): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** Row groups of this many rows: DuckDB's default, and what engines skip by min/max. */
const ROW_GROUP_ROWS = 122_880;

export async function createParquetEncoder(): Promise<ParquetEncoder> {
  const duck: DuckDB = await import('@duckdb/node-api');
  const dir = await mkdtemp(join(tmpdir(), 'inferlog-parquet-'));
  const instance: DuckDBInstance = await duck.DuckDBInstance.create(':memory:', {
    threads: '1',
    // A sidecar's budget, not DuckDB's default of 80% of the machine: past it, DuckDB spills to
    // the private temporary directory instead of growing.
    memory_limit: '512MB',
    temp_directory: join(dir, 'spill'),
    // Nothing from the network: the parquet writer is built in, and nothing else may load.
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const conn: DuckDBConnection = await instance.connect();
  let busy: Promise<unknown> = Promise.resolve();
  let closed = false;

  const encodeNow = async (exchanges: readonly Exchange[]): Promise<Uint8Array> => {
    const table = `batch_${randomBytes(4).toString('hex')}`;
    const file = join(dir, `${table}.parquet`);
    await conn.run(createTableSql(table));
    try {
      await appendExchanges(duck, conn, table, exchanges);
      await conn.run(
        `COPY ${table} TO '${file.replace(/'/g, "''")}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${ROW_GROUP_ROWS})`,
      );
      return new Uint8Array(await readFile(file));
    } finally {
      await conn.run(`DROP TABLE IF EXISTS ${table}`).catch(() => {});
      await rm(file, { force: true }).catch(() => {});
    }
  };

  return {
    encode(exchanges) {
      if (closed) return Promise.reject(new InferlogError('SINK_IO', 'the Parquet encoder is closed'));
      // One file at a time through the one connection.
      const p = busy.then(() => encodeNow(exchanges));
      busy = p.catch(() => {});
      return p;
    },
    async close() {
      if (closed) return;
      closed = true;
      await busy;
      conn.closeSync();
      instance.closeSync();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Appends `exchanges` as rows of EXCHANGE_COLUMNS to `table` (created with createTableSql).
 * Also how `inferlog query --db` feeds a collector's SQLite store to DuckDB.
 */
export async function appendExchanges(
  duck: DuckDB,
  conn: DuckDBConnection,
  table: string,
  exchanges: Iterable<Exchange>,
): Promise<void> {
  const app = await conn.createAppender(table);
  try {
    const types = columnTypes(app);
    for (const ex of exchanges) appendRow(duck, app, types, ex);
    app.flushSync();
  } finally {
    app.closeSync();
  }
}

const micros = (ms: number): bigint => BigInt(Math.round(ms * 1000));

// Token counts and chunk numbers come from the model's answer: a fraction or a huge number is
// stored as null (or truncated), never allowed to fail the whole file.
const int64 = (v: number | undefined): bigint | null => {
  const t = v === undefined ? NaN : Math.trunc(v);
  return Number.isSafeInteger(t) ? BigInt(t) : null;
};
const int32 = (v: number): number | null => {
  const t = Math.trunc(v);
  return Number.isInteger(t) && Math.abs(t) <= 0x7fffffff ? t : null;
};

interface ColumnTypes {
  metadata: DuckDBMapType;
  annotations: DuckDBMapType;
  stream: DuckDBStructType;
}

/** The nested columns' types, as the appender knows them (a map or struct value needs its type). */
function columnTypes(a: DuckDBAppender): ColumnTypes {
  const at = (name: string): unknown => a.columnType(EXCHANGE_COLUMNS.findIndex((c) => c.name === name));
  return {
    metadata: at('metadata') as DuckDBMapType,
    annotations: at('annotations') as DuckDBMapType,
    stream: at('stream') as DuckDBStructType,
  };
}

function appendRow(duck: DuckDB, a: DuckDBAppender, types: ColumnTypes, ex: Exchange): void {
  const str = (v: string | undefined): void => (v === undefined ? a.appendNull() : a.appendVarchar(v));
  const int = (v: number | undefined): void => (v === undefined ? a.appendNull() : a.appendInteger(v));
  const bool = (v: boolean | undefined): void => (v === undefined ? a.appendNull() : a.appendBoolean(v));
  a.appendVarchar(ex.id);
  const timeUs = micros(ex.requestTime);
  const responseUs = micros(ex.responseTime);
  a.appendTimestampTZ(duck.timestampTZValue(timeUs));
  a.appendTimestampTZ(duck.timestampTZValue(responseUs));
  // The difference of the stored instants, so `latency_us = epoch_us(response_time) - epoch_us(time)` always holds.
  a.appendBigInt(responseUs - timeUs);
  a.appendInteger(ex.status);
  a.appendVarchar(ex.method);
  a.appendVarchar(ex.url);
  a.appendVarchar(ex.mode);
  a.appendVarchar(modelInPath(ex.url) ?? ex.source.inferenceService);
  a.appendVarchar(ex.source.namespace);
  a.appendVarchar(ex.source.inferenceService);
  a.appendVarchar(ex.source.component);
  a.appendVarchar(ex.source.endpoint);
  a.appendVarchar(ex.source.sourceUri);
  a.appendMap(
    duck.mapValue(
      Object.entries(ex.metadata).map(([key, values]) => ({ key, value: duck.listValue(values) })),
    ),
    types.metadata,
  );
  a.appendMap(
    duck.mapValue(Object.entries(ex.source.annotations).map(([key, value]) => ({ key, value }))),
    types.annotations,
  );
  for (const body of [ex.request, ex.response]) appendBody(a, body, str);
  str(ex.error?.code);
  str(ex.error?.message);
  a.appendDouble(ex.sampleWeight);
  const s = ex.stream;
  if (s === undefined) a.appendNull();
  else
    a.appendStruct(
      duck.structValue({
        chunks: int32(s.chunks),
        ttfb_ms: s.ttfbMs,
        ttlb_ms: s.ttlbMs,
        partial: s.partial,
        reason: s.reason ?? null,
        assembled_text: s.assembledText ?? null,
        prompt_tokens: int64(s.usage?.promptTokens),
        completion_tokens: int64(s.usage?.completionTokens),
        total_tokens: int64(s.usage?.totalTokens),
      }),
      types.stream,
    );
  const t = ex.trace;
  str(t?.traceId);
  str(t?.spanId);
  str(t?.parentSpanId);
  int(t?.flags);
  str(t?.tracestate);
  bool(t === undefined ? undefined : t.generated === true);
  str(ex.batch?.id);
  int(ex.batch?.size);
  int(ex.batch?.position);
  a.endRow();
}

function appendBody(
  a: DuckDBAppender,
  b: CapturedBody | undefined,
  str: (v: string | undefined) => void,
): void {
  if (b === undefined) {
    for (let i = 0; i < 7; i++) a.appendNull();
    return;
  }
  a.appendBlob(b.bytes);
  str(b.contentType);
  str(b.contentEncoding);
  a.appendBoolean(b.stillEncoded === true);
  a.appendBigInt(int64(b.size) ?? 0n);
  a.appendBoolean(b.truncated);
  str(b.sha256);
}
