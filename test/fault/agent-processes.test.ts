/**
 * `inferlog agent --processes 2`: two agent processes share the port, each with its own spool;
 * /metrics sums them; a worker SIGKILLed while the sink fails is restarted and its successor
 * delivers what it left; SIGTERM to the primary drains every worker.
 *
 *   load (Ce-Id) ──▶ agent primary ── worker 0 ─spool worker-0─┐
 *                                   └ worker 1 ─spool worker-1─┴▶ faulty proxy ──▶ collector ──▶ SQLite
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { metricValue, waitFor } from '../support/wait.js';
import {
  freePort,
  load,
  metrics,
  spawnCli,
  startCollector,
  startFaultyProxy,
  startModel,
  storedIds,
  storedRowsPerId,
  type Proc,
} from './harness.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

async function topology() {
  const dir = mkdtempSync(join(tmpdir(), 'inferlog-processes-'));
  const db = join(dir, 'store.db');
  const collectorPort = await freePort();
  const collector = await startCollector(collectorPort, db);
  cleanups.push(() => collector.kill('SIGKILL'));
  const proxy = await startFaultyProxy(collectorPort);
  cleanups.push(() => proxy.close());
  const model = await startModel();
  cleanups.push(() => model.close());
  const [port, adminPort] = [await freePort(), await freePort()];
  const stateHome = join(dir, 'state');
  const agent: Proc = await spawnCli(
    [
      'agent',
      '--trust-inbound-id',
      'true',
      '--processes',
      '2',
      '--port',
      String(port),
      '--component-port',
      String(model.port),
      '--log-url',
      `http://127.0.0.1:${proxy.port}/`,
      '--admin-port',
      String(adminPort),
      '--inference-service',
      'fault-model',
      '--namespace',
      'test',
    ],
    /ready — 2 processes/,
    { XDG_STATE_HOME: stateHome },
  );
  cleanups.push(() => agent.kill('SIGKILL'));
  return { dir, db, proxy, port, adminPort, stateHome, agent };
}

/** Pids of the agent's worker processes, by index, from the primary's log. */
function workerPids(stderr: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const m of stderr.matchAll(/process (\d+) \(pid (\d+)\) listening/g))
    out.set(Number(m[1]), Number(m[2]));
  return out;
}

describe('inferlog agent --processes 2', () => {
  it('logs every request exactly once and /metrics sums both processes', { timeout: 90_000 }, async () => {
    const t = await topology();
    expect(workerPids(t.agent.stderr()).size).toBe(2);
    const ok = await load({ port: () => t.port, n: 300, prefix: 'p', concurrency: 16 });
    expect(ok.size).toBe(300);
    await waitFor(() => storedIds(t.db).size >= 300, 'all 300 stored', 30_000);
    const rows = storedRowsPerId(t.db);
    for (const id of ok) expect(rows.get(id), id).toBe(1);
    expect(rows.size).toBe(300);

    const m = await metrics(t.adminPort);
    expect(metricValue(m, 'inferlog_exchanges_captured_total')).toBe(300);
    expect(metricValue(m, 'inferlog_exchanges_delivered_total')).toBe(300);
    expect(
      metricValue(
        m,
        'inferlog_requests_total',
        '{inference_service="fault-model",namespace="test",component="",model="fault-model",status_class="2xx"}',
      ),
    ).toBe(300);
    expect(metricValue(m, 'inferlog_agent_processes')).toBe(2);
    expect(metricValue(m, 'inferlog_agent_processes_ready')).toBe(2);
    // Each process has its own spool directory under the default one.
    for (const i of [0, 1])
      expect(existsSync(join(t.stateHome, 'inferlog', `agent-${t.port}`, `worker-${i}`))).toBe(true);
  });

  it(
    'a worker SIGKILLed while the sink fails is restarted and its successor delivers its spool; SIGTERM drains',
    { timeout: 120_000 },
    async () => {
      const t = await topology();
      t.proxy.fault = '500';
      const ok = await load({ port: () => t.port, n: 200, prefix: 'k', concurrency: 16 });
      expect(ok.size).toBe(200);
      await waitFor(
        async () => metricValue(await metrics(t.adminPort), 'inferlog_spool_records') === 200,
        'both spools hold what was answered',
      );
      const before = workerPids(t.agent.stderr());
      const victim = before.get(1) as number;
      process.kill(victim, 'SIGKILL');
      await waitFor(
        () => (workerPids(t.agent.stderr()).get(1) ?? victim) !== victim,
        'process 1 restarted',
        30_000,
      );
      expect(t.agent.stderr()).toMatch(/process 1 \(pid \d+\) died \(signal SIGKILL\); restarting it/);
      const m = await metrics(t.adminPort);
      expect(metricValue(m, 'inferlog_agent_process_restarts_total')).toBe(1);
      // The successor recovered what the killed process had spooled.
      expect(metricValue(m, 'inferlog_spool_records')).toBe(200);

      t.proxy.fault = 'ok';
      await waitFor(() => storedIds(t.db).size >= 200, 'everything stored after recovery', 60_000);
      const more = await load({ port: () => t.port, n: 100, prefix: 'after', concurrency: 8 });
      expect(more.size).toBe(100);
      // SIGTERM to the primary right after the load: every worker drains before the exit.
      const exit = new Promise<number | null>((r) => t.agent.child.once('exit', (code) => r(code)));
      t.agent.child.kill('SIGTERM');
      expect(await exit).toBe(0);
      const rows = storedRowsPerId(t.db);
      for (const id of [...ok, ...more]) expect(rows.get(id), id).toBe(1);
      expect(rows.size).toBe(300);
    },
  );

  it(
    'file:// gets one file per process, together holding every request once',
    { timeout: 60_000 },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'inferlog-processes-file-'));
      const model = await startModel();
      cleanups.push(() => model.close());
      const port = await freePort();
      const agent = await spawnCli(
        [
          'agent',
          '--trust-inbound-id',
          'true',
          '--processes',
          '2',
          '--port',
          String(port),
          '--component-port',
          String(model.port),
          '--log-url',
          `file://${dir}/out.jsonl`,
          '--inference-service',
          'fault-model',
        ],
        /ready — 2 processes/,
        { XDG_STATE_HOME: join(dir, 'state') },
      );
      cleanups.push(() => agent.kill('SIGKILL'));
      const ok = await load({ port: () => port, n: 200, prefix: 'f', concurrency: 8 });
      expect(ok.size).toBe(200);
      await agent.kill('SIGTERM');
      const ids: string[] = [];
      for (const i of [0, 1]) {
        const text = readFileSync(join(dir, `out.worker-${i}.jsonl`), 'utf8');
        for (const line of text.split('\n').filter(Boolean))
          ids.push((JSON.parse(line) as { id: string }).id);
      }
      expect(ids.length).toBe(200);
      expect(new Set(ids)).toEqual(ok);
    },
  );

  it('refuses --log-url stdout with several processes, naming the reason', () => {
    const r = spawnSync(
      process.execPath,
      ['bin/inferlog.js', 'agent', '--processes', '2', '--log-url', 'stdout'],
      {
        encoding: 'utf8',
        timeout: 20_000,
      },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--log-url stdout cannot be shared by several --processes/);
  });
});
