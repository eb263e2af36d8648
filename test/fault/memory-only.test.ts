/**
 * A memory-only buffer (chosen with --durability none, or forced because no state directory is
 * writable) says so at start and in /metrics; what a SIGKILL loses is reported by the next start.
 *
 *   load ──▶ agent [--durability none] ──▶ dead log URL: exchanges wait in memory
 *              └─ <state>/inferlog/agent-<port>/memory-counter: how many it holds
 *   SIGKILL, restart ──▶ "killed while its memory buffer held exchanges" + dropped{reason="crash"}
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { metricValue, waitFor } from '../support/wait.js';
import { freePort, load, metrics, startAgent, startModel } from './harness.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

async function agentWithDeadSink(stateHome: string, extra: string[]) {
  const model = await startModel();
  cleanups.push(() => model.close());
  const opts = {
    port: await freePort(),
    modelPort: model.port,
    logUrl: `http://127.0.0.1:${await freePort()}/`, // nothing listens: every send fails
    stateHome,
    adminPort: await freePort(),
    extra,
  };
  const agent = { proc: await startAgent(opts) };
  cleanups.push(() => agent.proc.kill('SIGKILL'));
  return { opts, agent, model, restart: async () => (agent.proc = await startAgent(opts)) };
}

describe('memory-only buffer', () => {
  it('counts what a SIGKILL loses and reports the gap at the next start', { timeout: 60_000 }, async () => {
    const stateHome = mkdtempSync(join(tmpdir(), 'inferlog-memonly-'));
    const t = await agentWithDeadSink(stateHome, ['--durability', 'none']);
    expect(t.agent.proc.stderr()).toMatch(/memory only \(--durability none\)/);
    let m = await metrics(t.opts.adminPort);
    expect(metricValue(m, 'inferlog_buffer_memory_only')).toBe(1);

    const responded = await load({ port: () => t.opts.port, n: 40, prefix: 'm', concurrency: 4 });
    expect(responded.size).toBe(40);
    m = await metrics(t.opts.adminPort);
    expect(metricValue(m, 'inferlog_spool_records')).toBe(40);

    await t.agent.proc.kill('SIGKILL');
    await t.restart();
    expect(t.agent.proc.stderr()).toMatch(/killed while its memory buffer held exchanges/);
    expect(t.agent.proc.stderr()).toMatch(/\blost=40\b/);
    m = await metrics(t.opts.adminPort);
    expect(metricValue(m, 'inferlog_exchanges_dropped_total', '{reason="crash"}')).toBe(40);

    // A clean stop counts its leftovers as `shutdown` and leaves no gap for the next start.
    await t.agent.proc.kill('SIGTERM');
    await t.restart();
    await waitFor(() => /ready/.test(t.agent.proc.stderr()), 'ready');
    m = await metrics(t.opts.adminPort);
    expect(metricValue(m, 'inferlog_exchanges_dropped_total', '{reason="crash"}')).toBe(0);
  });

  it(
    'with no usable state directory, says at start that the buffer is memory only',
    { timeout: 30_000 },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'inferlog-memonly-'));
      const notADir = join(dir, 'file');
      writeFileSync(notADir, 'x');
      const t = await agentWithDeadSink(notADir, []);
      expect(t.agent.proc.stderr()).toMatch(/the log buffer is in memory only \(cannot use /);
      expect(t.agent.proc.stderr()).toMatch(/nothing can count that loss across restarts/);
      const m = await metrics(t.opts.adminPort);
      expect(metricValue(m, 'inferlog_buffer_memory_only')).toBe(1);
    },
  );

  it(
    'by default the agent spools under XDG_STATE_HOME and prints where in its ready line',
    { timeout: 30_000 },
    async () => {
      const stateHome = mkdtempSync(join(tmpdir(), 'inferlog-memonly-'));
      const t = await agentWithDeadSink(stateHome, []);
      const spool = join(stateHome, 'inferlog', `agent-${t.opts.port}`);
      expect(t.agent.proc.stderr()).toContain(`spool ${spool}`);
      const m = await metrics(t.opts.adminPort);
      expect(metricValue(m, 'inferlog_buffer_memory_only')).toBe(0);
    },
  );
});
