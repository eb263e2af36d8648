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
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('npm run bench -- --smoke', () => {
  it(
    'runs every scenario, the collector and the exchanges-layout parts, prints the table and writes JSON',
    { timeout: 240_000 },
    () => {
      const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--smoke', '--out', out], {
        encoding: 'utf8',
        timeout: 230_000,
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
          'collector',
          'lake',
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

      expect(report.collector?.ok, report.collector?.note).toBe(true);
      expect(report.collector?.seed?.exchanges).toBe(2000);
      for (const i of report.collector?.ingest ?? []) expect(i.stored, i.mode).toBe(i.events / 2);
      expect(report.collector?.queries?.length).toBeGreaterThan(0);
      expect(report.targets).toHaveLength(6);
      // The exchanges layout: every exchange written, both sizes measured, every query timed.
      expect(report.lake?.note).toBeUndefined();
      expect(report.lake?.exchanges).toBe(2000);
      expect(report.lake?.parquetBytesPerExchange).toBeGreaterThan(0);
      expect(report.lake?.jsonlBytesPerExchange).toBeGreaterThan(0);
      expect(report.lake?.queries.map((q) => q.latency.n > 0)).toEqual(Array(8).fill(true));
      expect(run.stdout).toContain('### Exchanges layout (Parquet, DuckDB)');
    },
  );
});
