/**
 * `inferlog collect --workers 2`: two collector processes share the port, each writing the same
 * store. Every acknowledged event is stored once; /metrics sums both; a worker SIGKILLed mid-load
 * is restarted and loses nothing it acknowledged; SIGTERM drains every worker and exits 0.
 *
 *   sender (16 keep-alive connections, single events and batches of 20)
 *     ──POST──▶ collect primary ── worker 0 ─┐
 *                                └ worker 1 ─┴▶ one SQLite file (or one PostgreSQL schema)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { metricValue, waitFor } from '../support/wait.js';
import { ensurePostgres } from '../helpers/peers.js';
import { freePort, spawnCli, type Proc } from './harness.js';

const CLI = join(process.cwd(), 'bin/inferlog.js');
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

async function collectWorkers(store: string, extra: string[] = []): Promise<{ port: number; proc: Proc }> {
  const port = await freePort();
  const proc = await spawnCli(
    ['collect', '--workers', '2', '--port', String(port), '--store', store, ...extra],
    /ready on .*workers=2/,
  );
  cleanups.push(() => proc.kill('SIGKILL'));
  return { port, proc };
}

/** Pids of the collector's workers, by index, from the primary's log (the latest per index). */
function workerPids(stderr: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const m of stderr.matchAll(/worker (\d+) \(pid (\d+)\) listening/g))
    out.set(Number(m[1]), Number(m[2]));
  return out;
}

const dispatcher = new Agent({ connections: 16, keepAliveTimeout: 1000 });

const event = (id: string, half: 'request' | 'response'): Record<string, unknown> => ({
  specversion: '1.0',
  id,
  type: `org.kubeflow.serving.inference.${half}`,
  source: 'http://localhost:9081/',
  time: '2026-11-30T10:00:00Z',
  datacontenttype: 'application/json',
  inferenceservicename: 'workers',
  namespace: 'ns',
  data: half === 'request' ? { instances: [[1, 2]] } : { predictions: [1] },
});

/** One POST: a binary-mode single event (KServe's agent) or a batch; true when answered 200. */
async function post(port: number, events: Record<string, unknown>[], batch: boolean): Promise<boolean> {
  try {
    const e = events[0]!;
    const res = batch
      ? await undiciFetch(`http://127.0.0.1:${port}/`, {
          method: 'POST',
          headers: { 'content-type': 'application/cloudevents-batch+json' },
          body: JSON.stringify(events),
          dispatcher,
          signal: AbortSignal.timeout(15_000),
        })
      : await undiciFetch(`http://127.0.0.1:${port}/`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'ce-specversion': '1.0',
            'ce-id': String(e.id),
            'ce-type': String(e.type),
            'ce-source': String(e.source),
            'ce-time': String(e.time),
            'ce-inferenceservicename': 'workers',
            'ce-namespace': 'ns',
          },
          body: JSON.stringify(e.data),
          dispatcher,
          signal: AbortSignal.timeout(15_000),
        });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    await new Promise((r) => setTimeout(r, 20)); // the worker died under this connection
    return false;
  }
}

/**
 * Sends `n` exchanges from 16 concurrent senders: even units as two single POSTs (request, then
 * response), odd units as one batch of 10 exchanges (20 events). Returns the halves answered 200
 * (`id/request`, `id/response`). `onProgress(units done)` lets a test strike mid-load.
 */
async function ingest(o: {
  port: number;
  units: number;
  prefix: string;
  onProgress?: (done: number) => void | Promise<void>;
}): Promise<{ acked: Set<string>; sent: number }> {
  const acked = new Set<string>();
  let next = 0;
  let done = 0;
  let sent = 0;
  const sender = async (): Promise<void> => {
    while (next < o.units) {
      const u = next++;
      if (u % 2 === 0) {
        const id = `${o.prefix}-${u}`;
        for (const half of ['request', 'response'] as const) {
          sent++;
          if (await post(o.port, [event(id, half)], false)) acked.add(`${id}/${half}`);
        }
      } else {
        const ids = Array.from({ length: 10 }, (_, i) => `${o.prefix}-${u}-${i}`);
        const events = ids.flatMap((id) => [event(id, 'request'), event(id, 'response')]);
        sent += events.length;
        if (await post(o.port, events, true))
          for (const id of ids) for (const half of ['request', 'response']) acked.add(`${id}/${half}`);
      }
      done++;
      await o.onProgress?.(done);
    }
  };
  await Promise.all(Array.from({ length: 16 }, sender));
  return { acked, sent };
}

interface Row {
  id: string;
  seq: number;
  complete: number;
  has_request: number;
  has_response: number;
}

function sqliteRows(db: string): Row[] {
  const d = new Database(db, { readonly: true, fileMustExist: true });
  try {
    return d
      .prepare(
        `SELECT e.id, e.seq, e.complete,
           EXISTS (SELECT 1 FROM exchange_bodies b WHERE b.rid = e.rid AND b.kind = 0) AS has_request,
           EXISTS (SELECT 1 FROM exchange_bodies b WHERE b.rid = e.rid AND b.kind = 1) AS has_response
         FROM exchanges e ORDER BY e.seq`,
      )
      .all() as Row[];
  } finally {
    d.close();
  }
}

/** Every acknowledged half is stored, each exchange once, and seq is unique. */
function expectStored(rows: Row[], acked: Set<string>): void {
  const byId = new Map<string, Row[]>();
  for (const r of rows) byId.set(r.id, [...(byId.get(r.id) ?? []), r]);
  for (const [id, rs] of byId) expect(rs.length, id).toBe(1);
  for (const half of acked) {
    const [id, kind] = half.split('/') as [string, string];
    const row = byId.get(id)?.[0];
    expect(row, half).toBeDefined();
    expect(kind === 'request' ? row!.has_request : row!.has_response, half).toBe(1);
  }
  const seqs = rows.map((r) => r.seq);
  expect(new Set(seqs).size).toBe(seqs.length);
}

const scrape = async (port: number): Promise<string> =>
  (await undiciFetch(`http://127.0.0.1:${port}/metrics`, { dispatcher })).text();

describe('inferlog collect --workers 2', () => {
  it(
    'stores every event once, complete, with unique seq, and /metrics sums both workers',
    { timeout: 90_000 },
    async () => {
      const db = join(mkdtempSync(join(tmpdir(), 'inferlog-workers-')), 'store.db');
      const c = await collectWorkers(`sqlite:${db}`);
      expect(workerPids(c.proc.stderr()).size).toBe(2);
      const { acked, sent } = await ingest({ port: c.port, units: 400, prefix: 'w' });
      // 200 exchanges by single POSTs, 200 batches of 10: 2,200 exchanges, 4,400 events.
      expect(sent).toBe(4400);
      expect(acked.size).toBe(4400);
      const rows = sqliteRows(db);
      expect(rows.length).toBe(2200);
      expect(rows.every((r) => r.complete === 1)).toBe(true);
      expectStored(rows, acked);

      const m = await scrape(c.port);
      expect(metricValue(m, 'inferlog_collector_events_received_total')).toBe(4400);
      expect(metricValue(m, 'inferlog_collector_events_stored_total')).toBe(4400);
      expect(metricValue(m, 'inferlog_collector_store_commit_seconds_count')).toBeGreaterThan(0);
      expect(metricValue(m, 'inferlog_collector_workers')).toBe(2);
      expect(metricValue(m, 'inferlog_collector_workers_ready')).toBe(2);
      const h = await undiciFetch(`http://127.0.0.1:${c.port}/healthz`, { dispatcher });
      expect(h.status).toBe(200);
      expect(await h.json()).toMatchObject({ status: 'ok', workers: { configured: 2, listening: 2 } });
    },
  );

  it(
    'restarts a worker SIGKILLed mid-load, losing nothing it acknowledged; SIGTERM drains and exits 0',
    { timeout: 120_000 },
    async () => {
      const db = join(mkdtempSync(join(tmpdir(), 'inferlog-workers-')), 'store.db');
      const c = await collectWorkers(`sqlite:${db}`);
      const victim = workerPids(c.proc.stderr()).get(1)!;
      const first = await ingest({
        port: c.port,
        units: 400,
        prefix: 'k',
        onProgress: (done) => {
          if (done === 100) process.kill(victim, 'SIGKILL');
        },
      });
      await waitFor(
        () => (workerPids(c.proc.stderr()).get(1) ?? victim) !== victim,
        'worker 1 restarted (a new pid listening)',
        30_000,
      );
      expect(c.proc.stderr()).toMatch(/worker 1 \(pid \d+\) died \(signal SIGKILL\); restarting it/);
      await waitFor(
        async () => (await undiciFetch(`http://127.0.0.1:${c.port}/healthz`, { dispatcher })).status === 200,
        'healthy again with both workers',
      );
      expect(metricValue(await scrape(c.port), 'inferlog_collector_worker_restarts_total')).toBe(1);
      // Most got through (only the victim's in-flight POSTs failed), and every one that did is stored.
      expect(first.acked.size).toBeGreaterThan(first.sent / 2);
      expectStored(sqliteRows(db), first.acked);

      // SIGTERM while a second load runs: every POST answered 200 is stored, and the exit is clean.
      let exited: Promise<number | null> | undefined;
      const second = await ingest({
        port: c.port,
        units: 300,
        prefix: 't',
        onProgress: (done) => {
          if (done === 100) {
            exited = new Promise((r) => c.proc.child.once('exit', (code) => r(code)));
            c.proc.child.kill('SIGTERM');
          }
        },
      });
      expect(await exited).toBe(0);
      expect(c.proc.stderr()).toMatch(/collect\[0\]: stopped cleanly/);
      expect(c.proc.stderr()).toMatch(/collect\[1\]: stopped cleanly/);
      expect(second.acked.size).toBeGreaterThan(0);
      expectStored(sqliteRows(db), new Set([...first.acked, ...second.acked]));
    },
  );

  it(
    '/healthz is 503 while a worker does not answer; workers exit when the primary is SIGKILLed',
    { timeout: 90_000 },
    async () => {
      const db = join(mkdtempSync(join(tmpdir(), 'inferlog-workers-')), 'store.db');
      const c = await collectWorkers(`sqlite:${db}`);
      const pids = [...workerPids(c.proc.stderr()).values()];
      expect(pids.length).toBe(2);
      process.kill(pids[1]!, 'SIGSTOP');
      cleanups.push(async () => void process.kill(pids[1]!, 'SIGCONT'));
      // A new connection per probe: round-robin hands some to the stopped worker (they time out);
      // the live worker answers for the cluster, which is not whole.
      let seen: { status: number; body: unknown } | undefined;
      await waitFor(
        async () => {
          try {
            const res = await fetch(`http://127.0.0.1:${c.port}/healthz`, {
              headers: { connection: 'close' },
              signal: AbortSignal.timeout(5_000),
            });
            seen = { status: res.status, body: await res.json() };
            return res.status === 503;
          } catch {
            return false;
          }
        },
        '/healthz 503 from the live worker',
        60_000,
      );
      expect(seen!.body).toMatchObject({ status: 'degraded', workers: { configured: 2, listening: 2 } });
      process.kill(pids[1]!, 'SIGCONT');

      // No orphans: a worker whose primary is gone drains and exits (it would hold the port).
      c.proc.child.kill('SIGKILL');
      const alive = (pid: number): boolean => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      };
      await waitFor(() => !pids.some(alive), 'both workers gone', 30_000);
    },
  );

  it('refuses a bad --workers value with exit 2, naming the flag', () => {
    for (const bad of ['0', 'two', '-1', '1.5', '257']) {
      const r = spawnSync(process.execPath, [CLI, 'collect', '--workers', bad, '--port', '0'], {
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(r.status, bad).toBe(2);
      expect(r.stderr, bad).toMatch(/--workers must be an integer from 1 to 256 or auto/);
    }
    // Audit lines from two processes into one pipe could interleave (a long filter is the client's).
    const r = spawnSync(
      process.execPath,
      [CLI, 'collect', '--workers', '2', '--port', '0', '--audit-log', '-', '--store', 'sqlite::memory:'],
      { encoding: 'utf8', timeout: 20_000 },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--audit-log - \(stdout\) cannot be shared by several --workers/);
  });

  it(
    'shares one PostgreSQL database: a pool per worker, every event stored once',
    { timeout: 180_000 },
    async () => {
      const base = (await ensurePostgres()).url;
      const schema = `workers_${process.pid}_${Date.now().toString(36)}`;
      const admin = new pg.Client({ connectionString: base });
      await admin.connect();
      await admin.query(`CREATE SCHEMA ${schema}`);
      cleanups.push(async () => {
        await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await admin.end();
      });
      const u = new URL(base);
      u.searchParams.set('options', `-c search_path=${schema}`);
      const c = await collectWorkers(u.toString());
      const { acked } = await ingest({ port: c.port, units: 200, prefix: 'p' });
      expect(acked.size).toBe(2200);
      const r = await admin.query<{ n: string; distinct_ids: string; complete: string; seqs: string }>(
        `SELECT count(*) AS n, count(DISTINCT id) AS distinct_ids, count(*) FILTER (WHERE complete) AS complete,
              count(DISTINCT seq) AS seqs FROM ${schema}.exchanges`,
      );
      expect(r.rows[0]).toEqual({ n: '1100', distinct_ids: '1100', complete: '1100', seqs: '1100' });
      const m = await scrape(c.port);
      expect(metricValue(m, 'inferlog_collector_events_stored_total')).toBe(2200);
    },
  );
});
