/**
 * The exchanges lake survives SIGKILL: every answered request ends in exactly one Parquet row.
 *
 *   load ──▶ inferlog agent [process] ──▶ toy model
 *              └─spool─▶ lake sink ──▶ local directory store: namespace=…/…/part-<origin>.parquet
 *   SIGKILL the agent three times mid-load (files are written every 100 ms, so kills land mid-write),
 *   restart it on the same spool, then count rows per id across every file with DuckDB.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait.js';
import { freePort, health, load, startAgent, startModel, type Proc } from '../fault/harness.js';
import { rowsPerId } from './lake-files.js';

const procs: Proc[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const p of procs.splice(0).reverse()) await p.kill('SIGKILL').catch(() => {});
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('exchanges lake under SIGKILL', () => {
  it(
    'loses nothing and duplicates nothing: each answered request is in exactly one row across all files',
    { timeout: 180_000 },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'inferlog-lake-crash-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      const lake = join(dir, 'lake');
      const spoolDir = join(dir, 'spool');
      const model = await startModel();
      cleanups.push(() => model.close());
      const [port, adminPort] = [await freePort(), await freePort()];
      const start = async (): Promise<Proc> => {
        const p = await startAgent({
          port,
          modelPort: model.port,
          logUrl: `file://${lake}`,
          spoolDir,
          stateHome: join(dir, 'state'),
          adminPort,
          extra: ['--log-store-layout', 'exchanges', '--blob-max-age', '100ms'],
        });
        procs.push(p);
        return p;
      };
      let agent = await start();
      const answered = new Set<string>();
      for (let round = 0; round < 3; round++) {
        let killed = false;
        const got = await load({
          port: () => port,
          n: 600,
          prefix: `k${round}`,
          concurrency: 8,
          onProgress: async (done) => {
            if (done === 250 + round * 50 && !killed) {
              killed = true;
              await agent.kill('SIGKILL');
              agent = await start();
            }
          },
        });
        for (const id of got) answered.add(id);
      }
      expect(answered.size).toBeGreaterThan(750); // each round answers its first 250 at least
      await waitFor(
        async () => {
          const h = await health(adminPort);
          if (h.sinks[0]?.buffered !== 0) return false;
          const rows = await rowsPerId(lake);
          return [...answered].every((id) => rows.has(id));
        },
        'every answered exchange in the lake',
        60_000,
      );
      const rows = await rowsPerId(lake);
      const missing = [...answered].filter((id) => !rows.has(id));
      const twice = [...rows].filter(([, n]) => n !== 1);
      expect(missing).toEqual([]);
      expect(twice).toEqual([]);
    },
  );
});
