import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensurePostgres } from '../../test/helpers/peers.js';
import { createPostgresStore, redactUrl } from './postgres-store.js';
import { storeContract, testHalf, testPair } from './store.contract.js';

// Each store gets a schema of its own in the shared test database, so runs and other suites never collide.
let baseUrl = '';
const schemas: string[] = [];
const run = `c${process.pid}_${Date.now().toString(36)}`;

async function freshSchemaUrl(): Promise<string> {
  const schema = `${run}_${schemas.length}`;
  schemas.push(schema);
  const c = new pg.Client({ connectionString: baseUrl });
  await c.connect();
  await c.query(`CREATE SCHEMA ${schema}`);
  await c.end();
  const u = new URL(baseUrl);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

beforeAll(async () => {
  baseUrl = (await ensurePostgres()).url;
}, 180_000);

afterAll(async () => {
  if (!baseUrl) return;
  const c = new pg.Client({ connectionString: baseUrl });
  await c.connect();
  for (const s of schemas) await c.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await c.end();
});

storeContract('postgres', async () => createPostgresStore(await freshSchemaUrl(), { poolSize: 4 }));

describe('postgres store', () => {
  it('lets several collectors share one database: concurrent halves join, retries dedupe', async () => {
    const url = await freshSchemaUrl();
    const a = createPostgresStore(url);
    const b = createPostgresStore(url);
    await Promise.all([a.start(), b.start()]); // both migrate at once: one waits for the other
    const work = [];
    for (let i = 0; i < 50; i++) {
      const [req, res] = testPair(`x${i}`, i);
      work.push(a.putEvents([req!]), b.putEvents([res!]), b.putEvents([req!]));
    }
    await Promise.all(work);
    const page = await a.listExchanges({}, { limit: 100, order: 'newest' });
    expect(page.items).toHaveLength(50);
    expect(page.items.every((i) => i.row.complete)).toBe(true);
    await Promise.all([a.shutdown(), b.shutdown()]);
  });

  it("stores the NUL characters a client sends as U+FFFD instead of failing the batch (and every other client's halves in it)", async () => {
    const store = createPostgresStore(await freshSchemaUrl());
    await store.start();
    // PostgreSQL text cannot hold U+0000: one such name refused the whole transaction.
    const r = await store.putEvents([
      ...testPair('nul-name', 0, { model: 'iris\u0000x', ext: { errorcode: 'E\u0000' } }).map((h) => ({
        ...h,
        instances: true, // instance rows carry the model name too
      })),
      testHalf({ id: 'nul-body', kind: 'request', body: '{"instances":["a\u0000b"]}' }),
      ...testPair('other-client', 1),
    ]);
    expect(r.stored).toBe(5);
    expect((await store.getExchange('nul-name'))?.row).toMatchObject({
      model: 'iris\ufffdx',
      errorCode: 'E\ufffd',
      complete: true,
    });
    const body = await store.getExchange('nul-body');
    expect(Buffer.from(body!.requestBody!).toString()).toBe('{"instances":["a\u0000b"]}'); // bytes as sent
    expect((await store.getExchange('other-client'))?.row.complete).toBe(true);
    expect(await store.getInstances((await store.getExchange('nul-name'))!.row.key)).toMatchObject([
      { model: 'iris\ufffdx' },
    ]);
    await store.shutdown();
  });

  it('leaves nothing of a transaction PostgreSQL refuses, and the next one commits (pipelined statements)', async () => {
    const store = createPostgresStore(await freshSchemaUrl(), { poolSize: 1 });
    await store.start();
    // A model name too long for a btree index entry: the write statement fails on the server,
    // after the pipelined COMMIT behind it was sent.
    const long = randomBytes(3000).toString('hex');
    await expect(
      store.putEvents([...testPair('refused', 0, { model: long }), ...testPair('beside', 0)]),
    ).rejects.toThrow(/index row size/);
    expect(await store.getExchange('beside')).toBeUndefined();
    expect(await store.stats({ sinceMs: 0, untilMs: Date.now() * 2 }, {})).toEqual([]);
    // The same (only) connection, clean: no transaction left open or aborted.
    expect((await store.putEvents(testPair('beside', 0))).stored).toBe(2);
    expect((await store.getExchange('beside'))?.row.complete).toBe(true);
    await store.shutdown();
  });

  it('fails a put whose connection the server killed, and the next put commits (pipelined statements)', async () => {
    const u = new URL(await freshSchemaUrl());
    const app = `victim_${run}`;
    u.searchParams.set('application_name', app);
    const store = createPostgresStore(u.toString(), { poolSize: 1 });
    await store.start();
    expect((await store.putEvents(testPair('before', 0))).stored).toBe(2);
    // The pool's one connection dies while idle (a server restart, an administrator, a proxy):
    // the pipelined BEGIN, locks and read all go out on a dead socket.
    const admin = new pg.Client({ connectionString: baseUrl });
    await admin.connect();
    const killed = await admin.query(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
      [app],
    );
    expect(killed.rowCount).toBe(1);
    await admin.end();
    await new Promise((r) => setTimeout(r, 200)); // the client learns of the close
    const first = await store.putEvents(testPair('after', 1)).then(
      (r) => r.stored,
      () => 'failed' as const,
    );
    if (first === 'failed') expect((await store.putEvents(testPair('after', 1))).stored).toBe(2);
    else expect(first).toBe(2);
    expect((await store.getExchange('after'))?.row.complete).toBe(true);
    expect((await store.getExchange('before'))?.row.complete).toBe(true);
    await store.shutdown();
  });

  it('hides the password in its name', () => {
    expect(redactUrl('postgres://u:secret@db:5432/x')).toBe('postgres://u:***@db:5432/x');
  });
});

describe('postgres erasure', () => {
  it('runs beside concurrent ingest from other collectors without deadlock, and rollups still agree with the rows', async () => {
    const url = await freshSchemaUrl();
    const a = createPostgresStore(url);
    const b = createPostgresStore(url);
    await Promise.all([a.start(), b.start()]);
    const requests = [];
    const responses = [];
    for (let i = 0; i < 60; i++) {
      const [req, res] = testPair(`c${i}`, i, { namespace: i % 2 === 0 ? 'even' : 'odd' });
      requests.push(req!);
      responses.push(res!);
    }
    await a.putEvents(requests);
    // Completions arrive on another collector, in both key orders, while the erasure runs.
    const work: Promise<unknown>[] = [b.erase({ namespace: 'even' })];
    for (let i = 0; i < 60; i += 10) work.push(b.putEvents(responses.slice(i, i + 10)));
    work.push(a.putEvents([...responses].reverse().slice(0, 30)));
    await Promise.all(work);
    const page = await a.listExchanges({}, { limit: 1000, order: 'newest' });
    const w = { sinceMs: Date.UTC(2026, 7, 20), untilMs: Date.UTC(2026, 7, 23) };
    const groups = await a.stats(w, {});
    expect(groups.reduce((n, g) => n + g.count, 0)).toBe(page.items.length);
    await Promise.all([a.shutdown(), b.shutdown()]);
  });

  it('removes the rows and the bodies from their tables, not only from answers', async () => {
    const url = await freshSchemaUrl();
    const store = createPostgresStore(url);
    await store.start();
    await store.putEvents([
      ...testPair('pg-keep', 0),
      ...testPair('pg-gone', 1, { body: 'pg-marker-93be', metadata: { 'X-Request-Id': ['user-5'] } }),
    ]);
    expect(await store.erase({ header: { name: 'X-Request-Id', value: 'user-5' } })).toBe(1);
    await store.shutdown();
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const rows = await c.query<{ n: string }>("SELECT count(*) AS n FROM exchanges WHERE id = 'pg-gone'");
      const bodies = await c.query<{ n: string }>(
        "SELECT count(*) AS n FROM exchange_bodies WHERE position('pg-marker-93be'::bytea IN body) > 0",
      );
      const kept = await c.query<{ n: string }>('SELECT count(*) AS n FROM exchange_bodies');
      expect([rows.rows[0]!.n, bodies.rows[0]!.n, kept.rows[0]!.n]).toEqual(['0', '0', '2']);
    } finally {
      await c.end();
    }
  });
});
