/**
 * `inferlog query --db FILE --sql …`: the same `exchanges` view over a collector's SQLite store
 * (read with better-sqlite3 and fed to DuckDB; DuckDB's sqlite extension would need a download).
 *
 *   client ──▶ inferlog agent ──▶ inferlog collect [process] ──▶ SQLite ──▶ inferlog query --db --sql
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { waitFor } from '../support/wait.js';
import {
  freePort,
  load,
  startAgent,
  startCollector,
  startModel,
  storedIds,
  type Proc,
} from '../fault/harness.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('inferlog query --db (a collector SQLite store) --sql', () => {
  it(
    'exposes the stored exchanges as the exchanges view, bodies included',
    { timeout: 120_000 },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'inferlog-query-db-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      const db = join(dir, 'store.db');
      const model = await startModel();
      cleanups.push(() => model.close());
      const [collectorPort, port, adminPort] = [await freePort(), await freePort(), await freePort()];
      const collector: Proc = await startCollector(collectorPort, db);
      cleanups.push(() => collector.kill('SIGTERM'));
      const agent: Proc = await startAgent({
        port,
        modelPort: model.port,
        logUrl: `http://127.0.0.1:${collectorPort}/`,
        spoolDir: join(dir, 'spool'),
        stateHome: join(dir, 'state'),
        adminPort,
      });
      cleanups.push(() => agent.kill('SIGTERM'));
      const ok = await load({ port: () => port, n: 20, prefix: 'db', concurrency: 4 });
      expect(ok.size).toBe(20);
      await waitFor(() => [...ok].every((id) => storedIds(db).has(id)), 'all stored');

      const p = runCli([
        'query',
        '--db',
        db,
        '--sql',
        `SELECT count(*)::INTEGER AS n, min(status) AS status, any_value(inferenceservice) AS isvc,
              bool_and(decode(response_body) = '{"predictions":[1]}') AS bodies,
              bool_and(latency_us >= 0) AS latency, count(DISTINCT id)::INTEGER AS ids
       FROM exchanges WHERE id LIKE 'db-%'`,
        '--format',
        'json',
      ]);
      expect(await p.exited, p.stderr()).toBe(0);
      expect(JSON.parse(p.stdout())).toEqual([
        { n: 20, status: 200, isvc: 'fault-model', bodies: true, latency: true, ids: 20 },
      ]);
    },
  );

  it('says clearly when the file is not a collector store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'inferlog-query-db-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const p = runCli(['query', '--db', join(dir, 'missing.db'), '--sql', 'SELECT 1']);
    expect(await p.exited).toBe(1);
    expect(p.stderr()).toContain('missing.db');
  });
});
