import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import type { Exchange } from '../../core/exchange.js';
import { setOrigin } from '../../core/record-origin.js';
import { contractExchange, sinkContract } from '../sink.contract.js';
import { createLakeSink } from './sink.js';

const live = (): AbortSignal => new AbortController().signal;

function filesUnder(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.parquet'))
    .map((f) => relative(dir, join(dir, f)))
    .sort();
}

async function rowsIn(
  dir: string,
  sql = 'SELECT * FROM t ORDER BY time, id',
): Promise<Record<string, unknown>[]> {
  const files = filesUnder(dir).map((f) => join(dir, f));
  if (files.length === 0) return [];
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const list = files.map((f) => `'${f.replace(/'/g, "''")}'`).join(', ');
    await conn.run(`SET TimeZone = 'UTC'`);
    await conn.run(`CREATE VIEW t AS SELECT * FROM read_parquet([${list}])`);
    const reader = await conn.runAndReadAll(sql);
    return reader.getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

const lakeOptions = { blob: { layout: 'exchanges' as const, targetBytes: 1 << 20, maxAgeMs: 50 } };

sinkContract('parquet-lake', {
  async create() {
    const dir = mkdtempSync(join(tmpdir(), 'inferlog-lake-'));
    return {
      sink: createLakeSink(dir, lakeOptions),
      delivered: async () => (await rowsIn(dir)).map((r) => r.id as string),
      close: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
});

describe('exchanges lake layout', () => {
  it('writes Hive partitions by namespace, InferenceService, UTC date and hour, one row per exchange', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'inferlog-lake-'));
    const sink = createLakeSink(`file://${dir}/lake`, lakeOptions);
    try {
      await sink.start();
      const t0 = Date.UTC(2026, 10, 30, 9, 59, 59, 500);
      const a = contractExchange('a', { requestTime: t0, responseTime: t0 + 2.5 });
      const b = contractExchange('b', { requestTime: t0 + 1000, responseTime: t0 + 1004 });
      const c = contractExchange('c', {
        requestTime: t0 + 2000,
        responseTime: t0 + 2001,
        source: { ...a.source, namespace: 'team/../x', inferenceService: '(unmatched)' },
      });
      await sink.send([a, b, c], live());
      const files = filesUnder(dir);
      expect(files).toHaveLength(3);
      expect(files[0]).toMatch(
        /^lake\/namespace=ns\/inferenceservice=iris\/date=2026-11-30\/hour=09\/part-mem[0-9a-f]{12}-\d{10}\.parquet$/,
      );
      expect(files[1]).toMatch(/^lake\/namespace=ns\/inferenceservice=iris\/date=2026-11-30\/hour=10\//);
      // Client- or config-chosen names cannot add path segments or climb out of the prefix.
      expect(files[2]).toMatch(
        /^lake\/namespace=team%2F\.\.%2Fx\/inferenceservice=%28unmatched%29\/date=2026-11-30\/hour=10\//,
      );
      const rows = await rowsIn(dir);
      expect(rows.map((r) => r.id)).toEqual(['a', 'b', 'c']);
      expect(rows[2]?.namespace).toBe('team/../x');
    } finally {
      await sink.shutdown();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names each object after its first record, so re-sending after a crash overwrites instead of duplicating', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'inferlog-lake-'));
    const sink = createLakeSink(dir, lakeOptions);
    try {
      await sink.start();
      const t0 = Date.UTC(2026, 10, 30, 10, 59, 59, 0);
      // Spool order: r0, r1 in hour 10, r2, r3 in hour 11.
      const records = [0, 1, 2, 3].map((i) =>
        contractExchange(`r${i}`, { requestTime: t0 + i * 400, responseTime: t0 + i * 400 + 1 }),
      );
      records.forEach((r, i) => setOrigin(r, `spool0000001-00000001-${String(i * 100).padStart(10, '0')}`));
      // Before the crash: one batch of all four was written (two objects), never acked.
      await sink.send(records, live());
      // After: the same records come back in batches of other sizes.
      const again = (): Exchange[] => records.map((r) => ({ ...r }));
      const retry = again();
      retry.forEach((r, i) => setOrigin(r, `spool0000001-00000001-${String(i * 100).padStart(10, '0')}`));
      await sink.send(retry.slice(0, 1), live());
      await sink.send(retry.slice(1, 3), live());
      await sink.send(retry.slice(3), live());
      const ids = (await rowsIn(dir)).map((r) => r.id);
      expect(ids.sort()).toEqual(['r0', 'r1', 'r2', 'r3']);
    } finally {
      await sink.shutdown();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stores typed columns: timestamps, integers, bodies as bytes, metadata as a map, stream, trace and batch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'inferlog-lake-'));
    const sink = createLakeSink(dir, lakeOptions);
    try {
      await sink.start();
      // Sub-microsecond times where rounding the difference and differencing the rounded instants disagree.
      const rq = Date.UTC(2026, 10, 30, 12, 0, 0, 0) + 0.0004;
      const rs = Date.UTC(2026, 10, 30, 12, 0, 0, 7) + 0.500148;
      expect(Math.round(rs * 1000) - Math.round(rq * 1000)).not.toBe(Math.round((rs - rq) * 1000));
      const ex = contractExchange('typed', {
        requestTime: rq,
        responseTime: rs,
        metadata: { 'X-Request-Id': ['r-1'], 'X-Tags': ['a', 'b'] },
        request: {
          bytes: new Uint8Array([0, 0xff, 0x89, 0x50]),
          contentType: 'application/octet-stream',
          contentEncoding: 'gzip',
          size: 9000,
          truncated: true,
          sha256: 'ab'.repeat(32),
        },
        stream: {
          chunks: 3,
          ttfbMs: 1.5,
          ttlbMs: 6,
          partial: false,
          assembledText: 'hi',
          usage: { totalTokens: 7 },
        },
        trace: { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), flags: 1 },
        batch: { id: 'batch-1', size: 2, position: 0 },
        sampleWeight: 10,
      });
      await sink.send([ex], live());
      const [row] = await rowsIn(
        dir,
        `SELECT typeof(time) AS time_type, epoch_us(time) AS time_us, latency_us, status,
                latency_us = epoch_us(response_time) - epoch_us(time) AS latency_consistent, typeof(status) AS status_type,
                request_body, request_size, request_truncated, request_sha256, request_content_encoding,
                metadata['X-Tags'] AS tags, typeof(metadata) AS metadata_type, stream.total_tokens AS tokens,
                stream.assembled_text AS text, trace_id, trace_flags, batch_id, batch_position, sample_weight,
                response_body, error_code
         FROM t`,
      );
      expect(row).toMatchObject({
        time_type: 'TIMESTAMP WITH TIME ZONE',
        time_us: BigInt(Math.round(rq * 1000)),
        latency_us: BigInt(Math.round(rs * 1000) - Math.round(rq * 1000)),
        latency_consistent: true,
        status: 200,
        status_type: 'INTEGER',
        request_size: 9000n,
        request_truncated: true,
        request_sha256: 'ab'.repeat(32),
        request_content_encoding: 'gzip',
        tags: ['a', 'b'],
        metadata_type: 'MAP(VARCHAR, VARCHAR[])',
        tokens: 7n,
        text: 'hi',
        trace_id: 'a'.repeat(32),
        trace_flags: 1,
        batch_id: 'batch-1',
        batch_position: 0,
        sample_weight: 10,
        error_code: null,
      });
      expect(Buffer.from(row?.request_body as Uint8Array)).toEqual(Buffer.from([0, 0xff, 0x89, 0x50]));
      expect(Buffer.from(row?.response_body as Uint8Array).toString()).toBe('{"predictions":[1]}');
    } finally {
      await sink.shutdown();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects a batch it cannot encode for good, before writing any part of it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'inferlog-lake-'));
    const sink = createLakeSink(dir, lakeOptions);
    try {
      await sink.start();
      const good = contractExchange('good', {
        requestTime: Date.UTC(2026, 10, 30, 1),
        responseTime: Date.UTC(2026, 10, 30, 1) + 1,
      });
      const bad = contractExchange('bad', { requestTime: NaN, responseTime: NaN }); // a damaged record
      const err = await sink.send([good, bad], live()).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'SINK_REJECTED' });
      expect(filesUnder(dir)).toEqual([]);
    } finally {
      await sink.shutdown();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
