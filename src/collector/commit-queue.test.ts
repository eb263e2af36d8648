import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { ensurePostgres } from '../../test/helpers/peers.js';
import { createPostgresStore } from '../store/postgres-store.js';
import { createSqliteStore } from '../store/sqlite-store.js';
import { testHalf, testPair } from '../store/store.contract.js';
import type { ExchangeHalf } from '../store/exchange-record.js';
import { createCollectorMetrics } from './metrics.js';
import { createCommitQueue, MAX_TX_BYTES } from './commit-queue.js';

const dir = mkdtempSync(join(tmpdir(), 'inferlog-commit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** 40 exchanges whose requests carry ~5,000 one-byte instances each (10 KB): as many rows as bytes allow. */
function dense(instances: boolean): ExchangeHalf[] {
  const body = `{"instances":[${Array.from({ length: 5000 }, () => '0').join(',')}]}`;
  const predictions = `{"predictions":[${Array.from({ length: 5000 }, () => '1').join(',')}]}`;
  const out: ExchangeHalf[] = [];
  for (let i = 0; i < 40; i++)
    out.push(
      testHalf({ id: `d${i}`, kind: 'request', at: i, body }),
      testHalf({ id: `d${i}`, kind: 'response', at: i + 0.01, body: predictions }),
    );
  return instances ? out.map((h) => ({ ...h, instances: true })) : out;
}

/** The commit queue over a real SQLite store, recording the body bytes of each transaction. */
async function transactions(halves: ExchangeHalf[]): Promise<{ bytes: number[]; rows: number }> {
  const store = createSqliteStore(join(dir, `${Math.random().toString(36).slice(2)}.db`));
  await store.start();
  const bytes: number[] = [];
  let rows = 0;
  const observed = {
    ...store,
    async putEvents(batch: readonly ExchangeHalf[]) {
      bytes.push(batch.reduce((n, h) => n + h.body.byteLength, 0));
      const r = await store.putEvents(batch);
      rows += r.instances?.rows ?? 0;
      return r;
    },
  };
  await createCommitQueue(observed, createCollectorMetrics(false)).submit(halves);
  await store.shutdown();
  return { bytes, rows };
}

describe('commit queue', () => {
  it('gives halves that ask for instance rows a smaller share of a transaction: rows cost more than bytes', async () => {
    const plain = await transactions(dense(false));
    const rows = await transactions(dense(true));
    expect(rows.rows).toBe(40 * 5000);
    expect(Math.max(...plain.bytes)).toBeGreaterThan(MAX_TX_BYTES / 2);
    // One 10 KB request makes 5,000 rows: a transaction holds a few such exchanges, not fifty.
    expect(Math.max(...rows.bytes)).toBeLessThanOrEqual(MAX_TX_BYTES / 8);
  });
});

describe('commit queue, a sender whose halves the database refuses', () => {
  it('fails only that sender: the others in its transaction are committed on their own', async () => {
    const base = (await ensurePostgres()).url;
    const schema = `cq${process.pid}_${Date.now().toString(36)}`;
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
    const u = new URL(base);
    u.searchParams.set('options', `-c search_path=${schema}`);
    const store = createPostgresStore(u.toString(), { poolSize: 2 });
    await store.start();
    try {
      const queue = createCommitQueue(store, createCollectorMetrics(false));
      // A model name longer than a btree index entry may be: PostgreSQL refuses the whole
      // transaction, which also held the other senders' halves.
      const hostile = testPair('hostile', 0, { model: randomBytes(3000).toString('hex') });
      const [a, b, c] = await Promise.allSettled([
        queue.submit(testPair('first', 0)),
        queue.submit(hostile),
        queue.submit(testPair('third', 0)),
      ]);
      expect(b.status).toBe('rejected');
      expect(a).toMatchObject({ status: 'fulfilled', value: { stored: 2 } });
      expect(c).toMatchObject({ status: 'fulfilled', value: { stored: 2 } });
      expect((await store.getExchange('first'))?.row.complete).toBe(true);
      expect(await store.getExchange('hostile')).toBeUndefined();
    } finally {
      await store.shutdown();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    }
  }, 60_000);
});
