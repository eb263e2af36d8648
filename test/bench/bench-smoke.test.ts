/**
 * The bench harness works end to end: `bench/run.ts --smoke` starts every scenario against
 * the built CLI, drives it with the real load generator, writes JSON and prints the table.
 * Figures are not checked (no timing assertions): only that each part ran and logged.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchReport } from '../../bench/lib/results.js';

const out = mkdtempSync(join(tmpdir(), 'inferlog-bench-smoke-'));
const wrk = (spawnSync('wrk', ['-v']).error as NodeJS.ErrnoException | undefined)?.code !== 'ENOENT';
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('npm run bench -- --smoke', () => {
  it(
    'runs every scenario, the collector, PostgreSQL, scaling and exchanges-layout parts, prints the table and writes JSON',
    { timeout: 360_000 },
    () => {
      const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--smoke', '--out', out], {
        encoding: 'utf8',
        timeout: 350_000,
      });
      const diag = `exit ${run.status}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
      expect(run.status, diag).toBe(0);
      expect(run.stdout).toContain('| # | scenario | payload | conn | req/s |');
      expect(run.stdout).toContain('### Targets');

      const report = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as BenchReport;
      const ran = report.scenarios.filter((s) => s.status !== 'skipped');
      // Every scenario but nginx must run here; nginx runs where it is installed.
      expect(ran.map((s) => s.id)).toEqual(
        expect.arrayContaining([
          'direct',
          'agent-off',
          'agent-stdout',
          'agent-file',
          'agent-http',
          'agent-http-batch',
          'agent-spool',
          'inproc-file',
          'inproc-http-batch',
          'agent-batcher',
          'lake',
          // The collector parts need wrk (KServe's events from its Lua script); CI installs it.
          ...(wrk || process.env.CI ? ['collector', 'scaling'] : []),
        ]),
      );
      for (const s of ran) expect(s.status, `${s.id}: ${s.reason ?? ''}`).toBe('ok');

      for (const p of report.points) {
        expect(p.ok, `${p.scenario}: ${p.note ?? ''}`).toBe(true);
        expect(p.load?.requests, p.scenario).toBeGreaterThan(0);
        expect(p.load?.errors, p.scenario).toBe(0);
      }
      // Logging scenarios really logged: bytes in the file/stdout/spool, exchanges in the collector.
      const logged = (id: string): string => report.scenarios.find((s) => s.id === id)?.logged ?? '';
      for (const id of ['agent-stdout', 'agent-file', 'agent-spool', 'inproc-file'])
        expect(logged(id), id).toMatch(/^[1-9]\d* bytes logged/);
      for (const id of ['agent-http', 'agent-http-batch', 'inproc-http-batch'])
        expect(logged(id), id).toMatch(/^[1-9]\d* exchanges stored/);
      // KServe's real agent runs where scripts/peers/kserve-agent.sh built it, and always in CI.
      if (process.env.CI || ran.some((s) => s.id === 'kserve-agent-http'))
        expect(logged('kserve-agent-http')).toMatch(/^[1-9]\d* exchanges stored/);
      expect(logged('agent-off')).toBe('0 bytes logged');
      expect(logged('agent-batcher')).toBe('0 bytes logged');

      // The exchanges layout: every exchange written, both sizes measured, every query timed.
      expect(report.lake?.note).toBeUndefined();
      expect(report.lake?.exchanges).toBe(2000);
      expect(report.lake?.parquetBytesPerExchange).toBeGreaterThan(0);
      expect(report.lake?.jsonlBytesPerExchange).toBeGreaterThan(0);
      expect(report.lake?.queries.map((q) => q.latency.n > 0)).toEqual(Array(8).fill(true));
      expect(run.stdout).toContain('### Exchanges layout (Parquet, DuckDB)');

      if (!wrk && !process.env.CI) return; // the rest is the wrk-driven parts
      expect(report.collector?.ok, report.collector?.note).toBe(true);
      expect(report.collector?.seed?.exchanges).toBe(2000);
      // wrk with KServe's events: one binary event per POST, then batches of 100. Every acknowledged
      // event is stored (an exchange is two events); wrk's unanswered last requests may add a few.
      expect(report.collector?.ingest?.map((i) => i.mode)).toEqual(['single', 'batch']);
      for (const i of report.collector?.ingest ?? []) {
        expect(i.events, i.mode).toBeGreaterThan(0);
        expect(i.errors, i.mode).toBe(0);
        expect(i.stored, i.mode).toBeGreaterThanOrEqual(Math.floor(i.events / 2));
      }
      expect(report.collector?.queries?.length).toBeGreaterThan(0);
      // The same queries again while ingest ran.
      expect(report.collector?.underLoad?.queries.map((q) => q.name)).toEqual(
        report.collector?.queries?.map((q) => q.name),
      );
      expect(report.collector?.underLoad?.ingest.events).toBeGreaterThan(0);
      // PostgreSQL: measured where the test peer (or INFERLOG_BENCH_PG) is up, else said so.
      if (report.pg?.ingest)
        expect(report.pg.ingest.stored).toBeGreaterThanOrEqual(report.pg.ingest.events / 2);
      else expect(report.pg?.note).toMatch(/^not measured: no PostgreSQL/);
      // Scaling: the agent at 1, 2 and auto processes; the collector at least at 1 worker (the
      // others where this build has collect --workers, otherwise said so).
      expect(report.scaling?.agent?.points.map((p) => p.count)).toEqual(['1', '2', 'auto']);
      for (const p of report.scaling?.agent?.points ?? []) expect(p.rate, p.count).toBeGreaterThan(0);
      expect(report.scaling?.collector?.points[0]?.count).toBe('1');
      if ((report.scaling?.collector?.points.length ?? 0) < 3)
        expect(report.scaling?.collector?.note).toContain('not available in this build');
      // Every target of issue 10 has its row (figures are not judged here).
      expect(report.targets.map((t) => t.name)).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^collector, single-event POSTs/),
          expect.stringMatching(/^collector, batched POSTs/),
          expect.stringMatching(/^PostgreSQL store/),
          expect.stringMatching(/^acknowledgements after the commit/),
          expect.stringMatching(/^queries while ingest runs/),
          expect.stringMatching(/^KServe's real agent/),
          expect.stringMatching(/^agent CPU per logged request/),
          expect.stringMatching(/^the agent uses every core/),
          expect.stringMatching(/^the collector uses every core/),
        ]),
      );
      expect(run.stdout).toContain('| target | goal | measured | ratio | met | limited by |');
    },
  );
});
