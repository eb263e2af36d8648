/**
 * The lake's exactly-once argument (sink.ts) with the real spool: a batch is written but never
 * acked (the process died between the object store's answer and the ledger write), then the
 * restarted spool hands the same records out again in batches of other sizes.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { createOpLogger } from '../../core/log.js';
import { Spool } from '../../pipeline/spool/index.js';
import { contractExchange } from '../sink.contract.js';
import { createLakeSink } from './sink.js';

const quiet = createOpLogger('test', { write: () => true }, 'error');
const live = (): AbortSignal => new AbortController().signal;

const openSpool = (dir: string): Spool =>
  Spool.open({
    dir,
    maxBytes: 1 << 26,
    whenFull: 'drop-newest',
    durability: 'process',
    log: quiet,
    onDrop: () => {},
  });

async function rowsPerId(dir: string): Promise<Record<string, number>> {
  const files = (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.parquet'));
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const list = files.map((f) => `'${join(dir, f)}'`).join(', ');
    const r = await conn.runAndReadAll(
      `SELECT id, count(*)::INTEGER AS n FROM read_parquet([${list}]) GROUP BY id`,
    );
    return Object.fromEntries(r.getRowObjectsJS().map((row) => [row.id as string, row.n as number]));
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

describe('exchanges lake with the spool, across a crash after a write and before the ack', () => {
  it.each([
    ['shorter', [3, 3, 100]],
    ['longer', [100]],
    ['one by one', [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]],
  ])('re-sent in %s batches, every exchange is in exactly one row', async (_label, sizes) => {
    const dir = mkdtempSync(join(tmpdir(), 'inferlog-lake-spool-'));
    const lake = join(dir, 'lake');
    const sink = createLakeSink(lake, { blob: { layout: 'exchanges', targetBytes: 1 << 20, maxAgeMs: 10 } });
    try {
      await sink.start();
      // Ten records across an hour boundary and two services: one batch makes several objects.
      const t0 = Date.UTC(2026, 10, 30, 10, 59, 59, 0);
      const records = Array.from({ length: 10 }, (_, i) =>
        contractExchange(`r${i}`, {
          requestTime: t0 + i * 200,
          responseTime: t0 + i * 200 + 1,
          source: { ...contractExchange('x').source, inferenceService: i % 3 === 0 ? 'a' : 'b' },
        }),
      );
      let spool = openSpool(join(dir, 'spool'));
      for (const r of records) spool.append(r);
      const first = await spool.read(6); // 6 of them written, then the process dies before the ack
      await sink.send(first?.exchanges ?? [], live());
      await spool.close();

      spool = openSpool(join(dir, 'spool'));
      for (const n of sizes) {
        const b = await spool.read(n);
        if (!b) break;
        await sink.send(b.exchanges, live());
        spool.ack(b);
      }
      await spool.close();
      expect(await rowsPerId(lake)).toEqual(Object.fromEntries(records.map((r) => [r.id, 1])));
    } finally {
      await sink.shutdown();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
