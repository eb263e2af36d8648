/**
 * The bench's pure parts: payload sizes, the load plan, targets from figures, and the
 * profile summary — what a reader of BENCHMARKS.md relies on being computed right.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildBody, sizeLabel } from '../../bench/lib/payloads.js';
import { loadPoints, parseOptions } from '../../bench/lib/options.js';
import { addRatios, evaluateTargets } from '../../bench/lib/report.js';
import { summariseProfile } from '../../bench/lib/cpu-profile.js';
import type { PointResult } from '../../bench/lib/results.js';

const dir = mkdtempSync(join(tmpdir(), 'inferlog-bench-parts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('payloads', () => {
  it.each([100, 64 * 1024, 1024 * 1024])(
    'a %i-byte target is valid model input within 8 bytes of the target',
    (target) => {
      const body = buildBody(target);
      const bytes = Buffer.byteLength(body);
      expect(bytes).toBeLessThanOrEqual(target);
      expect(bytes).toBeGreaterThan(target - 8);
      const parsed = JSON.parse(body) as { instances: unknown[] };
      expect(parsed.instances.length).toBeGreaterThan(0);
      expect(parsed.instances.every((v) => typeof v === 'number')).toBe(true);
    },
  );

  it('labels sizes the way the tables show them', () => {
    expect([100, 65536, 1048576].map(sizeLabel)).toEqual(['100B', '64KiB', '1MiB']);
  });
});

describe('load plan', () => {
  it('sweeps concurrency at the smallest payload and payload at the fewest connections', () => {
    const o = parseOptions([]);
    expect(loadPoints(o)).toEqual([
      { size: 100, connections: 8 },
      { size: 100, connections: 64 },
      { size: 65536, connections: 8 },
      { size: 1048576, connections: 8 },
    ]);
  });

  it('--matrix full runs every payload at every concurrency', () => {
    expect(loadPoints(parseOptions(['--matrix', 'full']))).toHaveLength(6);
  });

  it('rejects a bad flag value with the flag name', () => {
    expect(() => parseOptions(['--duration', '0'])).toThrow(/--durationS/);
  });
});

function point(scenario: string, n: number, rps: number, cpu: number, rss = 50): PointResult {
  return {
    scenario,
    n,
    title: scenario,
    payload: '100B',
    payloadBytes: 100,
    connections: 64,
    ok: true,
    load: { requests: rps * 5, errors: 0, durationS: 5, rps, p50Ms: 1, p90Ms: 2, p99Ms: 4, maxMs: 9 },
    subjectCpuUsPerReq: cpu,
    totalCpuUsPerReq: cpu * 2,
    subjectPeakRssMiB: rss,
  };
}

describe('targets', () => {
  it('reports ratios to scenario 1 and says by how much a target is missed', () => {
    const points = [
      point('direct', 1, 10_000, 50),
      point('agent-http', 5, 3_000, 80),
      point('agent-http-batch', 6, 4_000, 45),
      point('agent-spool', 7, 3_800, 46, 120),
    ];
    addRatios(points);
    expect(points[2]?.ratios?.rps).toBeCloseTo(0.4);
    const t = evaluateTargets(points, undefined);
    const [throughput, cpu, spool, delivery, ingest] = t;
    expect(throughput?.met).toBe(false);
    expect(throughput?.measured).toContain('0.40×');
    expect(throughput?.detail).toContain('20%');
    expect(cpu?.met).toBe(false);
    expect(cpu?.detail).toContain('15.0 µs');
    expect(spool?.met).toBe(true);
    expect(delivery?.met).toBeNull();
    expect(ingest?.met).toBeNull();
  });

  it('does not let a scenario that dropped events meet the throughput target', () => {
    const points = [
      point('direct', 1, 10_000, 50),
      point('agent-http', 5, 9_000, 20),
      point('agent-http-batch', 6, 4_000, 45),
    ];
    addRatios(points);
    const statuses = [
      { id: 'agent-http', n: 5, title: '', status: 'ok' as const, stored: 4_000, completed: 9_000 },
      { id: 'agent-http-batch', n: 6, title: '', status: 'ok' as const, stored: 4_000, completed: 4_000 },
    ];
    const [throughput, , , delivery] = evaluateTargets(points, undefined, statuses);
    expect(throughput?.met).toBe(false);
    expect(throughput?.measured).toContain('scenario 6');
    expect(throughput?.detail).toContain(
      'scenario 5 not counted: it dropped events (44% of exchanges stored)',
    );
    expect(delivery?.met).toBe(false);
  });
});

describe('profile summary', () => {
  it('counts only samples inside the window and attributes them to the nearest inferlog frame', () => {
    const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 0 });
    const profile = {
      nodes: [
        { id: 1, callFrame: frame('(root)', ''), children: [2, 4] },
        { id: 2, callFrame: frame('handle', 'file:///app/dist/capture/proxy.js'), children: [3] },
        { id: 3, callFrame: frame('writev', ''), children: [] },
        { id: 4, callFrame: frame('compile', 'node:internal/modules/cjs/loader'), children: [] },
      ],
      startTime: 0,
      endTime: 10_000,
      // t = 1000 (startup: compile), then 3 samples in the window under proxy.js.
      samples: [4, 3, 3, 2],
      timeDeltas: [1000, 1000, 1000, 1000],
    };
    const path = join(dir, 'p.cpuprofile');
    writeFileSync(path, JSON.stringify(profile));
    const s = summariseProfile(path, 'x', { fromEndUs: 8500, toEndUs: 5000 });
    expect(s.totalMs).toBe(3);
    expect(s.byInferlogFrame[0]).toMatchObject({ frame: 'capture/proxy.js handle', ms: 3 });
    expect(s.topSelf[0]).toMatchObject({ fn: 'writev', ms: 2 });
  });
});
