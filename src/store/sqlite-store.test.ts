import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { mergeHalf } from './exchange-record.js';
import { MIGRATIONS } from './migrations.js';
import { KIND_CODE, toDbValues, WRITE_COLUMNS } from './row-codec.js';
import { openStore } from './open-store.js';
import { createSqliteStore } from './sqlite-store.js';
import { shapeStats } from './stats.js';
import { storeContract, testPair } from './store.contract.js';

const dir = mkdtempSync(join(tmpdir(), 'inferlog-sqlite-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

storeContract('sqlite', async () => createSqliteStore(join(dir, `contract-${n++}.db`)));
storeContract('sqlite (writer=inline)', async () =>
  createSqliteStore(join(dir, `contract-${n++}.db`), { writer: 'inline' }),
);

describe('sqlite store: writer thread', () => {
  it('answers reads while a large put commits (the commit does not hold the event loop)', async () => {
    for (const writer of ['worker', 'inline'] as const) {
      const store = createSqliteStore(join(dir, `overlap-${writer}.db`), { writer });
      await store.start();
      await store.putEvents(testPair('first', 0));
      const order: string[] = [];
      const batch = Array.from({ length: 3000 }, (_, i) => testPair(`big-${i}`, 1 + i / 1e4)).flat();
      const put = store.putEvents(batch).then(() => order.push('put'));
      const read = store.listExchanges({}, { limit: 10, order: 'newest' }).then((p) => {
        order.push('read');
        return p.items.map((x) => x.row.id);
      });
      // The read sees the last committed state (WAL), not half of the running transaction.
      const ids = await read;
      await put;
      if (writer === 'worker') {
        expect(order).toEqual(['read', 'put']);
        expect(ids).toEqual(['first']);
      } else expect(ids).toHaveLength(10); // inline: the read could only run after the whole commit
      expect((await store.listExchanges({}, { limit: 5000, order: 'newest' })).items).toHaveLength(3001);
      await store.shutdown();
    }
  });

  it('a writer thread that dies (out of memory) fails the puts in flight, and the next put starts a new one', async () => {
    const store = createSqliteStore(join(dir, 'writer-oom.db'), {
      writerResourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
    });
    await store.start();
    await store.putEvents(testPair('before', 0));
    // Deserialising this batch on the thread needs more than its heap: the thread is killed.
    const huge = testPair('huge', 1, {
      metadata: { 'X-Big': Array.from({ length: 64 }, (_, i) => `${i}`.repeat(1 << 20)) },
    });
    const inFlight = [store.putEvents(huge), store.putEvents(testPair('beside', 2))];
    const results = await Promise.allSettled(inFlight);
    expect(results[0]!.status).toBe('rejected');
    expect(String((results[0] as PromiseRejectedResult).reason)).toMatch(/writer thread/);
    // A new thread takes the next put; what was committed before is still there.
    expect((await store.putEvents(testPair('after', 3))).stored).toBe(2);
    const ids = (await store.listExchanges({}, { limit: 10, order: 'newest' })).items.map((x) => x.row.id);
    expect(ids).toContain('before');
    expect(ids).toContain('after');
    expect(ids).not.toContain('huge');
    await store.shutdown();
  });

  it('erasure and retention while the writer thread commits wait for it instead of failing', async () => {
    const store = createSqliteStore(join(dir, 'writer-erase.db'));
    await store.start();
    for (let round = 0; round < 5; round++) {
      await store.putEvents(
        testPair(`old-${round}`, round, { metadata: { 'X-Request-Id': [`u-${round}`] } }),
      );
      const batch = Array.from({ length: 1500 }, (_, i) => testPair(`r${round}-${i}`, 1e6 + i)).flat();
      const put = store.putEvents(batch);
      // Each reads, then writes: from a snapshot older than the thread's commit, unless it
      // takes the write lock first (BEGIN IMMEDIATE).
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(await store.erase({ header: { name: 'x-request-id', value: `u-${round}` } })).toBe(1);
      expect((await put).stored).toBe(3000);
      const next = store.putEvents(
        testPair(`n-${round}`, 2e6).concat(batch.map((h) => ({ ...h, key: `${h.key}x` }))),
      );
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(await store.deleteOlderThan(1)).toBe(0);
      expect((await next).stored).toBeGreaterThan(0);
    }
    await store.shutdown();
  });

  it('sqlite URLs take writer=worker|inline; anything else is a config error naming both options', () => {
    expect(() => openStore(`sqlite:${join(dir, 'u.db')}?writer=inline&sync=full`)).not.toThrow();
    expect(() => openStore(`sqlite:${join(dir, 'u.db')}?writer=worker`)).not.toThrow();
    expect(() => openStore(`sqlite:${join(dir, 'u.db')}?writer=thread`)).toThrow(
      /sync=full\|normal and writer=worker\|inline/,
    );
  });

  it('shutdown waits for the puts in flight, then ends the thread', async () => {
    const path = join(dir, 'writer-shutdown.db');
    const store = createSqliteStore(path);
    await store.start();
    const put = store.putEvents(Array.from({ length: 500 }, (_, i) => testPair(`s-${i}`, i / 1e3)).flat());
    await store.shutdown();
    expect((await put).stored).toBe(1000);
    const again = createSqliteStore(path, { writer: 'inline' });
    await again.start();
    expect((await again.listExchanges({}, { limit: 1000, order: 'newest' })).items).toHaveLength(500);
    await again.shutdown();
  });
});

describe('sqlite store', () => {
  it('erasure removes the bytes from the database file and its WAL, not only the rows', async () => {
    const path = join(dir, 'erase.db');
    const store = createSqliteStore(path);
    await store.start();
    const fileBytes = (): Buffer =>
      Buffer.concat([path, `${path}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f)));
    // A small body (in the row's page) and one larger than a page (overflow pages), both with
    // a marker that also lands in search_text (lower case) and the list preview.
    const small = 'personal-marker-7c1e9';
    const large = 'x'.repeat(9000) + 'personal-marker-big-4d2a' + 'y'.repeat(9000);
    await store.putEvents([
      ...testPair('kept', 0, { body: '{"keep":"me"}' }),
      ...testPair('gone-1', 1, { body: small, metadata: { 'X-Request-Id': ['user-42'] } }),
      ...testPair('gone-2', 2, { body: large, metadata: { 'X-Request-Id': ['user-42'] } }),
    ]);
    expect(fileBytes().includes(small)).toBe(true);
    expect(fileBytes().includes('personal-marker-big-4d2a')).toBe(true);
    expect(await store.erase({ header: { name: 'x-request-id', value: 'user-42' } })).toBe(2);
    const after = fileBytes();
    expect(after.includes(small)).toBe(false);
    expect(after.includes('personal-marker-big-4d2a')).toBe(false);
    expect(after.includes('user-42')).toBe(false);
    expect((await store.getExchange('kept'))?.row.complete).toBe(true);
    await store.shutdown();
  });

  it('erasure also leaves no copy from before the exchange was completed (halves stored apart)', async () => {
    const path = join(dir, 'erase-halves.db');
    const store = createSqliteStore(path);
    await store.start();
    const fileBytes = (): Buffer =>
      Buffer.concat([path, `${path}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f)));
    // The request alone makes a row (with the body's text in search_text and the preview); the
    // response, committed apart, rewrites that row: the first version's bytes are freed then,
    // long before any erasure.
    const small = 'half-marker-small-0b7e';
    const large = 'z'.repeat(9000) + 'half-marker-large-7d1c' + 'w'.repeat(9000);
    const meta = { metadata: { 'X-Request-Id': ['user-77'] } };
    for (const [id, body, at] of [
      ['h-small', small, 1],
      ['h-large', large, 2],
    ] as const) {
      const [req, res] = testPair(id, at, { ...meta, body });
      await store.putEvents([req!]);
      for (let i = 0; i < 20; i++) await store.putEvents(testPair(`filler-${id}-${i}`, at + i / 100));
      await store.putEvents([res!]);
    }
    expect(await store.erase({ header: { name: 'x-request-id', value: 'user-77' } })).toBe(2);
    const after = fileBytes();
    expect(after.includes(small)).toBe(false);
    expect(after.includes('half-marker-large-7d1c')).toBe(false);
    await store.shutdown();
  });

  it('two processes writing one database (collect --workers) give every row its own seq, in commit order', async () => {
    const path = join(dir, 'two-writers.db');
    const a = createSqliteStore(path);
    const b = createSqliteStore(path);
    await a.start();
    await b.start();
    // Each store opened when the database was empty; each write must see the other's rows.
    await a.putEvents(testPair('w-1', 1));
    await b.putEvents(testPair('w-2', 2));
    await a.putEvents(testPair('w-3', 3));
    const page = await b.listExchanges({}, { order: 'follow', limit: 10 });
    const follow = await b.listExchanges({}, { order: 'follow', limit: 10, after: { kind: 'seq', seq: 0 } });
    expect(follow.items.map((x) => [x.row.id, x.seq])).toEqual([
      ['w-1', 1],
      ['w-2', 2],
      ['w-3', 3],
    ]);
    // A follow listing without a cursor starts after the newest row of either process.
    expect(page.next).toEqual({ kind: 'seq', seq: 3 });
    await a.shutdown();
    await b.shutdown();
  });

  it('creates the database and its WAL files 0600, whatever the umask', async () => {
    const path = join(dir, 'private.db');
    const old = process.umask(0);
    let store;
    try {
      store = createSqliteStore(path);
      await store.start();
      await store.putEvents(testPair('private', 0));
    } finally {
      process.umask(old);
    }
    for (const f of [path, `${path}-wal`, `${path}-shm`])
      expect([f, statSync(f).mode & 0o777]).toEqual([f, 0o600]);
    await store.shutdown();
  });

  it('keeps what it committed across a restart, and migrates once', async () => {
    const path = join(dir, 'restart.db');
    const a = createSqliteStore(path);
    await a.start();
    await a.putEvents(testPair('kept', 0));
    await a.shutdown();
    const b = createSqliteStore(path);
    await b.start();
    expect((await b.getExchange('kept'))?.row.complete).toBe(true);
    // The sequence continues after a restart, so follow cursors stay valid.
    const before = await b.listExchanges({}, { limit: 10, order: 'follow' });
    await b.putEvents(testPair('after', 1));
    const page = await b.listExchanges({}, { limit: 10, order: 'follow', after: before.next! });
    expect(page.items.map((i) => i.row.id)).toEqual(['after']);
    await b.shutdown();
    const db = new Database(path, { readonly: true });
    expect(db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all()).toEqual([
      { version: 1, name: 'exchanges' },
      { version: 2, name: 'rollups' },
      { version: 3, name: 'scoped exchange key' },
      { version: 4, name: 'trace id' },
      { version: 5, name: 'instances' },
      { version: 6, name: 'bodies by row' },
    ]);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('writes about one page per stored exchange, not one per index and body (bodies beside the previous exchange)', async () => {
    // Ingest capacity is bounded by the pages a commit writes to the WAL. Exchange keys are
    // hashes, so anything ordered by key takes each new exchange to a random page of a large
    // table: bodies keyed by (key, kind) cost a page per exchange on top of the key index's.
    const path = join(dir, 'pages.db');
    const store = createSqliteStore(path, { sync: 'normal' });
    await store.start();
    const body = (i: number): string => `{"instances":[[${i % 97},${(i * 7) % 13}.5,4.8,1.4]]}`;
    const pairs = (from: number, to: number): ReturnType<typeof testPair> =>
      Array.from({ length: to - from }, (_, k) =>
        testPair(`seed-${from + k}`, (from + k) / 1000, { body: body(k) }),
      ).flat();
    for (let i = 0; i < 20_000; i += 2_000) await store.putEvents(pairs(i, i + 2_000));
    const other = new Database(path);
    other.pragma('wal_checkpoint(TRUNCATE)');
    const walPages = (): number => Math.max(0, (statSync(`${path}-wal`).size - 32) / (4096 + 24));
    expect(walPages()).toBe(0);
    const batch = 250;
    await store.putEvents(pairs(20_000, 20_000 + batch));
    const perExchange = walPages() / batch;
    other.close();
    await store.shutdown();
    // Measured here: 2.46 pages per exchange with bodies keyed by key, 1.24 with bodies by row.
    expect(perExchange).toBeLessThan(1.6);
  });

  it('completing an exchange rewrites only what completion changes (about half a page, not the id and trace indexes)', async () => {
    // KServe's two POSTs land in different transactions: the response half rewrites the row. Its
    // id (a UUID) and trace id are random values: rewriting their index entries was two random pages.
    const path = join(dir, 'completion-pages.db');
    const store = createSqliteStore(path, { sync: 'normal' });
    await store.start();
    const uuid = (n: number): string =>
      createHash('md5')
        .update(String(n))
        .digest('hex')
        .replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');
    const trace = (n: number): Record<string, string> => ({
      traceparent: `00-${createHash('md5').update(`t${n}`).digest('hex')}-00f067aa0ba902b7-01`,
    });
    const pair = (n: number): ReturnType<typeof testPair> =>
      testPair(uuid(n), n / 100, { ext: trace(n), body: `{"instances":[[${n % 97},2.8]]}` });
    for (let i = 0; i < 20_000; i += 2_000)
      await store.putEvents(Array.from({ length: 2_000 }, (_, k) => pair(i + k)).flat());
    const fresh = Array.from({ length: 250 }, (_, k) => pair(20_000 + k));
    await store.putEvents(fresh.map(([req]) => req!));
    const other = new Database(path);
    other.pragma('wal_checkpoint(TRUNCATE)');
    await store.putEvents(fresh.map(([, res]) => res!));
    const perCompletion = Math.max(0, (statSync(`${path}-wal`).size - 32) / (4096 + 24)) / fresh.length;
    other.close();
    expect((await store.getExchange(uuid(20_000)))?.row.complete).toBe(true);
    await store.shutdown();
    // Measured here: 1.75 pages per completion with every column in the UPDATE, 0.55 without.
    expect(perCompletion).toBeLessThan(1);
  });

  it('migration 6 keeps every body of the exchanges stored before it, and their erasure', async () => {
    const path = join(dir, 'upgrade-6.db');
    // A version-5 database, written the way version 5 wrote it: bodies keyed by exchange key.
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.exec(
      'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
    );
    for (const m of MIGRATIONS.filter((x) => x.version <= 5)) {
      db.exec(m.sqlite);
      db.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(m.version, m.name, 'then');
    }
    const insert = db.prepare(
      `INSERT INTO exchanges (${WRITE_COLUMNS.join(', ')}) VALUES (${WRITE_COLUMNS.map(() => '?').join(', ')})`,
    );
    const insertBody = db.prepare('INSERT INTO exchange_bodies (key, kind, body) VALUES (?, ?, ?)');
    let seq = 0;
    for (const [id, at] of [
      ['old-1', 1],
      ['old-2', 2],
      ['old-half', 3],
    ] as const) {
      const halves = testPair(id, at, { body: `{"in":"${id}"}`, metadata: { 'X-User': [id] } });
      const kept = id === 'old-half' ? halves.slice(0, 1) : halves;
      const row = kept.reduce<ReturnType<typeof mergeHalf>>((r, h) => mergeHalf(r, h), undefined)!;
      insert.run(...toDbValues(row, ++seq, (b) => (b ? 1 : 0)));
      for (const h of kept) insertBody.run(h.key, KIND_CODE[h.kind], h.body);
    }
    db.close();
    const store = createSqliteStore(path);
    await store.start();
    const one = await store.getExchange('old-1');
    expect(Buffer.from(one!.requestBody!).toString()).toBe('{"in":"old-1"}');
    expect(one!.responseBody).not.toBeNull();
    // The response of an exchange begun before the upgrade completes it, beside its old body.
    await store.putEvents(testPair('old-half', 3, { body: '{"in":"old-half"}' }).slice(1));
    const half = await store.getExchange('old-half');
    expect(half?.row.complete).toBe(true);
    expect(Buffer.from(half!.requestBody!).toString()).toBe('{"in":"old-half"}');
    expect(half!.responseBody).not.toBeNull();
    expect(await store.erase({ header: { name: 'x-user', value: 'old-2' } })).toBe(1);
    expect(await store.getExchange('old-2')).toBeUndefined();
    expect((await store.getExchange('old-1'))?.row.complete).toBe(true);
    await store.shutdown();
    const after = new Database(path, { readonly: true });
    expect(after.prepare('SELECT count(*) AS n FROM exchange_bodies').get()).toEqual({ n: 4 });
    after.close();
  });

  it('a process that starts while another is migrating the same file does not migrate it again (collect --workers)', async () => {
    const path = join(dir, 'two-migrators.db');
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.exec(
      'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
    );
    for (const m of MIGRATIONS.filter((x) => x.version <= 5)) {
      db.exec(m.sqlite);
      db.prepare('INSERT INTO schema_migrations VALUES (?, ?, ?)').run(m.version, m.name, 'then');
    }
    db.close();
    // The other process: holds the write lock, applies migration 6 (slowly, as on a large file)
    // and commits while this one is already starting.
    const m6 = MIGRATIONS.find((m) => m.version === 6)!;
    const other = spawn(
      process.execPath,
      [
        '-e',
        `const D = require('better-sqlite3'); const d = new D(process.argv[1]);
         d.exec('BEGIN IMMEDIATE'); process.stdout.write('locked\\n');
         Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 700);
         d.exec(process.argv[2]);
         d.prepare('INSERT INTO schema_migrations VALUES (6, ?, ?)').run(process.argv[3], 'now');
         d.exec('COMMIT'); d.close();`,
        path,
        m6.sqlite,
        m6.name,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((ok) => other.stdout.once('data', () => ok()));
    const store = createSqliteStore(path);
    await store.start();
    await new Promise((ok) => other.once('exit', ok));
    await store.putEvents(testPair('after-upgrade', 0, { body: '{"in":1}' }));
    expect(Buffer.from((await store.getExchange('after-upgrade'))!.requestBody!).toString()).toBe('{"in":1}');
    await store.shutdown();
  });

  it('migration 2 builds the hourly rollup from exchanges stored before it', async () => {
    const path = join(dir, 'upgrade.db');
    const a = createSqliteStore(path);
    await a.start();
    await a.putEvents([...testPair('u1', 0), ...testPair('u2', 3600 * 2, { status: 500 })]);
    const window = { sinceMs: Date.UTC(2026, 7, 21), untilMs: Date.UTC(2026, 7, 22) };
    const before = shapeStats(await a.stats(window, {}), window);
    await a.shutdown();
    // Back to a version-1 database.
    const db = new Database(path);
    db.exec(
      'DROP TABLE exchange_hourly; DROP TABLE exchange_daily; DROP TABLE exchange_minutely; DELETE FROM schema_migrations WHERE version = 2',
    );
    db.close();
    const b = createSqliteStore(path);
    await b.start();
    expect(shapeStats(await b.stats(window, {}), window)).toEqual(before);
    expect(before.total.count).toBe(2);
    await b.shutdown();
  });
});
