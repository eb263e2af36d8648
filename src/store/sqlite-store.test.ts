import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteStore } from './sqlite-store.js';
import { shapeStats } from './stats.js';
import { storeContract, testPair } from './store.contract.js';

const dir = mkdtempSync(join(tmpdir(), 'inferlog-sqlite-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

storeContract('sqlite', async () => createSqliteStore(join(dir, `contract-${n++}.db`)));

describe('sqlite store', () => {
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
    ]);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
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
