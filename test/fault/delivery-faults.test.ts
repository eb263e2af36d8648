/**
 * Fault tests with real processes: whatever breaks, every request that got a response ends
 * up in the store exactly once (the store is keyed by exchange id; we send our own Ce-Id),
 * or is counted dropped with a reason. See harness.ts for the topology.
 */
import { mkdtempSync, readdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { metricValue, waitFor } from '../support/wait.js';
import {
  freePort,
  health,
  load,
  metrics,
  rssBytes,
  startAgent,
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

async function topology(o: { proxy?: boolean; agentExtra?: string[]; defaultSpool?: boolean } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'inferlog-fault-'));
  const db = join(dir, 'store.db');
  const stateHome = join(dir, 'state');
  // defaultSpool: no --spool-dir, the agent picks its own under XDG_STATE_HOME (what a user gets).
  const spoolDir = o.defaultSpool ? undefined : join(dir, 'spool');
  const model = await startModel();
  cleanups.push(() => model.close());
  const collectorPort = await freePort();
  const collector = { proc: await startCollector(collectorPort, db) };
  cleanups.push(() => collector.proc.kill('SIGTERM'));
  const proxy = o.proxy ? await startFaultyProxy(collectorPort) : undefined;
  if (proxy) cleanups.push(() => proxy.close());
  const agentPort = await freePort();
  const adminPort = await freePort();
  const agentOpts = {
    port: agentPort,
    modelPort: model.port,
    logUrl: `http://127.0.0.1:${proxy ? proxy.port : collectorPort}/`,
    spoolDir,
    stateHome,
    adminPort,
    extra: o.agentExtra,
  };
  const agent = { proc: await startAgent(agentOpts) };
  cleanups.push(() => agent.proc.kill('SIGTERM'));
  return {
    dir,
    db,
    spoolDir: spoolDir ?? '',
    collectorPort,
    agentPort,
    adminPort,
    collector,
    agent,
    proxy,
    restartCollector: async () => void (collector.proc = await startCollector(collectorPort, db)),
    restartAgent: async (): Promise<Proc> => (agent.proc = await startAgent(agentOpts)),
  };
}

/** Every id that got a response is stored (once: the store's key), and nothing else was invented. */
async function expectAllStored(db: string, responded: Set<string>, prefix: string): Promise<void> {
  let stored = new Set<string>();
  await waitFor(
    () => {
      stored = storedIds(db);
      return [...responded].every((id) => stored.has(id));
    },
    `all ${responded.size} responded exchanges stored`,
    45_000,
  ).catch((err: Error) => {
    const missing = [...responded].filter((id) => !stored.has(id));
    throw new Error(`${err.message}; missing ${missing.length}, e.g. ${missing.slice(0, 5).join(', ')}`);
  });
  for (const id of stored) expect(id.startsWith(prefix)).toBe(true);
}

describe('delivery under faults (real agent and collector processes)', () => {
  it(
    'collector killed and restarted during load: every answered request is stored exactly once',
    { timeout: 90_000 },
    async () => {
      const t = await topology({ agentExtra: ['--log-batch-size', '16', '--log-batch-interval', '20ms'] });
      let killed = false;
      const responded = await load({
        port: () => t.agentPort,
        n: 2000,
        prefix: 'c',
        onProgress: async (done) => {
          if (done === 700 && !killed) {
            killed = true;
            await t.collector.proc.kill('SIGKILL');
            setTimeout(() => void t.restartCollector(), 1500);
          }
        },
      });
      expect(responded.size).toBe(2000); // the collector being down never fails inference
      await expectAllStored(t.db, responded, 'c');
      const m = await metrics(t.adminPort);
      expect(metricValue(m, 'inferlog_exchanges_dropped_total', '{reason="spool_full"}')).toBe(0);
      expect(metricValue(m, 'inferlog_delivery_retries_total')).toBeGreaterThan(0);
    },
  );

  it(
    'agent SIGKILLed mid-load and restarted: every answered request is stored exactly once',
    { timeout: 90_000 },
    async () => {
      const t = await topology();
      let killed = false;
      const responded = await load({
        port: () => t.agentPort,
        n: 2000,
        prefix: 'a',
        onProgress: async (done) => {
          if (done === 800 && !killed) {
            killed = true;
            await t.agent.proc.kill('SIGKILL');
            await t.restartAgent();
          }
        },
      });
      // Requests sent while the agent was down got no response: they are not owed to the store.
      expect(responded.size).toBeGreaterThan(1000);
      await expectAllStored(t.db, responded, 'a');
    },
  );

  it(
    'default flags: collector SIGKILLed, then the agent SIGKILLed, mid-load: every answered request is stored once',
    { timeout: 120_000 },
    async () => {
      // No --spool-dir, no --durability, no batching: what `inferlog agent --log-url …` gives a user.
      const t = await topology({ defaultSpool: true });
      const concurrency = 16;
      const steps: [number, () => Promise<void>][] = [
        [500, () => t.collector.proc.kill('SIGKILL')],
        [900, async () => void (await t.agent.proc.kill('SIGKILL'), await t.restartAgent())],
        [1300, () => t.restartCollector()],
      ];
      const responded = await load({
        port: () => t.agentPort,
        n: 2000,
        prefix: 'z',
        concurrency,
        onProgress: async (done) => {
          for (const [at, step] of steps) if (done === at) await step();
        },
      });
      expect(responded.size).toBeGreaterThan(1000);
      await expectAllStored(t.db, responded, 'z');
      // None twice, and only the requests in flight when the agent died may be stored unanswered.
      const rows = storedRowsPerId(t.db);
      for (const [id, n] of rows) expect(n, id).toBe(1);
      const unanswered = [...rows.keys()].filter((id) => !responded.has(id));
      expect(unanswered.length).toBeLessThanOrEqual(concurrency);
    },
  );

  it(
    'sink answers 500, then slowly, then never, then recovers: nothing is missing',
    { timeout: 90_000 },
    async () => {
      const t = await topology({
        proxy: true,
        agentExtra: ['--send-timeout', '1s', '--log-batch-size', '8', '--log-batch-interval', '20ms'],
      });
      const proxy = t.proxy!;
      const phases: [number, 'ok' | '500' | 'slow' | 'hang'][] = [
        [150, '500'],
        [350, 'slow'],
        [550, 'hang'],
        [750, 'ok'],
      ];
      const responded = await load({
        port: () => t.agentPort,
        n: 1000,
        prefix: 's',
        concurrency: 8,
        onProgress: (done) => {
          for (const [at, fault] of phases) if (done === at) proxy.fault = fault;
        },
      });
      expect(responded.size).toBe(1000);
      await expectAllStored(t.db, responded, 's');
      expect((await health(t.adminPort)).sinks[0]?.sinkUp).toBe(true);
    },
  );

  it(
    'spool fills while the sink hangs: drops are counted, inference goes on, memory stays bounded',
    { timeout: 90_000 },
    async () => {
      const t = await topology({
        proxy: true,
        agentExtra: [
          '--spool-max-bytes',
          '262144',
          '--spool-when-full',
          'drop-newest',
          '--send-timeout',
          '1s',
        ],
      });
      const proxy = t.proxy!;
      proxy.fault = 'hang';
      const rssBefore = rssBytes(t.agent.proc.child.pid!);
      const responded = await load({ port: () => t.agentPort, n: 1200, prefix: 'f', bodyBytes: 4096 });
      expect(responded.size).toBe(1200);
      const m = await metrics(t.adminPort);
      const dropped = metricValue(m, 'inferlog_exchanges_dropped_total', '{reason="spool_full"}');
      const kept = metricValue(m, 'inferlog_spool_records');
      expect(dropped).toBeGreaterThan(0);
      expect(dropped + kept).toBe(1200);
      expect(metricValue(m, 'inferlog_spool_bytes')).toBeLessThanOrEqual(262144);
      // ~5 MiB of bodies went through; the agent holds none of it beyond the bounded spool cache.
      expect(rssBytes(t.agent.proc.child.pid!) - rssBefore).toBeLessThan(64 * 1024 * 1024);
      // The first send times out after --send-timeout (1 s); on a fast machine the load ends sooner.
      await waitFor(async () => !(await health(t.adminPort)).ok, 'health to report the hung sink', 15_000);
      const h = await health(t.adminPort);
      expect(h.ok).toBe(false);
      expect(h.sinks[0]?.lastError).toMatch(/SINK_TIMEOUT/);

      proxy.fault = 'ok';
      await waitFor(async () => storedIds(t.db).size === kept, `the ${kept} kept exchanges stored`, 45_000);
    },
  );

  it(
    'a corrupt spool segment and a torn record are skipped and counted; the rest is delivered',
    { timeout: 90_000 },
    async () => {
      const t = await topology({ proxy: true });
      t.proxy!.fault = 'hang';
      const responded = await load({ port: () => t.agentPort, n: 200, prefix: 'k' });
      expect(responded.size).toBe(200);
      await t.agent.proc.kill('SIGKILL');

      const seg = readdirSync(t.spoolDir)
        .filter((f) => f.startsWith('segment-'))
        .sort()[0]!;
      const file = join(t.spoolDir, seg);
      const bytes = readFileSync(file);
      const at = Math.floor(bytes.length / 2);
      bytes[at] = (bytes[at] as number) ^ 0xff; // one record in the middle
      writeFileSync(file, bytes);
      truncateSync(file, bytes.length - 5); // and the last one torn, as by a crash mid-write

      t.proxy!.fault = 'ok';
      await t.restartAgent();
      await waitFor(
        async () => metricValue(await metrics(t.adminPort), 'inferlog_spool_records') === 0,
        'spool drained',
        45_000,
      );
      const m = await metrics(t.adminPort);
      expect(metricValue(m, 'inferlog_exchanges_dropped_total', '{reason="corrupt"}')).toBe(2);
      await waitFor(() => storedIds(t.db).size === 198, '198 stored', 20_000);
      const stored = storedIds(t.db);
      for (const id of stored) expect(responded.has(id)).toBe(true);
      expect(t.agent.proc.child.exitCode).toBeNull(); // still running
    },
  );
});
