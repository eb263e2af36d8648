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
import { addRatios, evaluateTargets, targetsTable } from '../../bench/lib/report.js';
import { summariseProfile } from '../../bench/lib/cpu-profile.js';
import type {
  CollectorResults,
  IngestResult,
  PointResult,
  ScalingResults,
  ScenarioStatus,
  TargetResult,
} from '../../bench/lib/results.js';

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

const byName = (ts: TargetResult[], start: string): TargetResult | undefined =>
  ts.find((t) => t.name.startsWith(start));

function ingest(mode: 'single' | 'batch', cpuUs: number, eventsPerS: number, store = 'sqlite'): IngestResult {
  return {
    mode,
    store,
    events: eventsPerS * 5,
    seconds: 5,
    eventsPerS,
    collectorCpuUsPerEvent: cpuUs,
    coresUsed: (eventsPerS * cpuUs) / 1e6,
    errors: 0,
    stored: (eventsPerS * 5) / 2,
  };
}

describe("issue 10's targets", () => {
  it('lists every target of issue 10, each with a ratio and a line on what limits it once measured', () => {
    const points = [
      point('direct', 1, 10_000, 50),
      point('agent-off', 2, 9_000, 30),
      point('agent-file', 4, 8_000, 40),
      point('agent-http', 5, 7_000, 60),
      point('agent-http-batch', 6, 7_500, 45),
      point('nginx', 8, 9_500, 25),
    ];
    addRatios(points);
    const collector: CollectorResults = {
      ok: true,
      seed: { exchanges: 1_000_000, seconds: 60, rowsPerS: 1, dbMiB: 1 },
      ingest: [ingest('single', 20, 30_000), ingest('batch', 8, 60_000)],
    };
    const t = evaluateTargets(points, collector, [], {
      pg: { note: 'not measured: no PostgreSQL (--pg-url or INFERLOG_BENCH_PG)' },
    });
    const names = t.map((x) => x.name);
    for (const start of [
      'collector, single-event',
      'collector, batched',
      'PostgreSQL',
      'acknowledgements',
      'queries while ingest runs',
      "KServe's real agent",
      'agent CPU per logged request, mode all, to a file',
      'agent CPU per logged request, mode all, to the collector, batched',
      'agent CPU per logged request, mode all, to the collector, per event',
      'the agent uses every core',
      'the collector uses every core',
    ])
      expect(
        names.some((n) => n.startsWith(start)),
        start,
      ).toBe(true);

    // Per core = 1e6 / CPU µs per event: 20 µs → 50,000 events/s per core, 1.25× the 40k goal.
    const single = byName(t, 'collector, single-event');
    expect(single?.met).toBe(true);
    expect(single?.measured).toContain('50,000 events/s per core');
    expect(single?.ratio).toBe('1.25× goal');
    expect(single?.limitedBy).toContain('12.0 µs of its 20.0 µs');
    const batch = byName(t, 'collector, batched');
    expect(batch?.met).toBe(false);
    expect(batch?.ratio).toBe('0.50× goal');

    const pg = byName(t, 'PostgreSQL');
    expect(pg?.met).toBeNull();
    expect(pg?.measured).toContain('not measured: no PostgreSQL');

    const ack = byName(t, 'acknowledgements');
    expect(ack?.byTest).toBe(true);
    expect(ack?.measured).toContain('test/fault/delivery-faults.test.ts');

    // Half of 2026-11-25's 81.2 µs is 40.6; 1.6 × nginx's 25 µs is 40: 40 µs meets both.
    const file = byName(t, 'agent CPU per logged request, mode all, to a file');
    expect(file?.met).toBe(true);
    expect(file?.ratio).toBe('0.49× 2026-11-25, 1.60× nginx (25.0 µs)');
    expect(file?.limitedBy).toContain('scenario 2: 30.0 µs');
    // 45 µs: within half of 86.9 (43.45)? No.
    expect(byName(t, 'agent CPU per logged request, mode all, to the collector, batched')?.met).toBe(false);
  });

  it('with --baseline-bin, gives the collector CPU per event against the baseline build of the same run', () => {
    const base = { ...ingest('single', 80, 10_000), build: 'baseline' as const };
    const collector: CollectorResults = { ok: true, ingest: [base, ingest('single', 40, 20_000)] };
    const single = byName(evaluateTargets([], collector), 'collector, single-event');
    // The row's figure is this build's (40 µs), never the baseline's.
    expect(single?.measured).toContain('40.0 µs CPU/event');
    expect(single?.ratio).toBe("0.63× goal; CPU/event 0.50× the baseline build's (80.0 µs, this run)");
  });

  it("fills the batched target's limits from this run's collector profile, leaving idle out", () => {
    const collector: CollectorResults = { ok: true, ingest: [ingest('batch', 50, 20_000)] };
    const profile = {
      scenario: 'collector (batched ingest)',
      file: 'x',
      totalMs: 100,
      byArea: [
        { area: 'idle', ms: 40, pct: 40 },
        { area: 'inferlog store/sqlite-store.js', ms: 30, pct: 30 },
        { area: 'GC', ms: 20, pct: 20 },
        { area: 'fastify', ms: 6, pct: 6 },
        { area: 'native', ms: 4, pct: 4 },
      ],
      byInferlogFrame: [],
      topSelf: [],
    };
    const t = evaluateTargets([], collector, [], { profiles: [profile] });
    expect(byName(t, 'collector, batched')?.limitedBy).toContain(
      'profile of this run (self time): inferlog store/sqlite-store.js 30%, GC 20%, fastify 6%',
    );
  });

  it('compares queries under load with the idle run and with the 2026-11-25 quiet figures', () => {
    const q = (name: string, p99Ms: number) => ({
      name,
      path: '/',
      latency: { n: 200, p50Ms: 1, p99Ms, maxMs: p99Ms },
    });
    const collector = (exchanges: number): CollectorResults => ({
      ok: true,
      seed: { exchanges, seconds: 1, rowsPerS: 1, dbMiB: 1 },
      queries: [q('list newest', 2), q('stats, all (24h)', 30)],
      underLoad: {
        queries: [q('list newest', 4), q('stats, all (24h)', 45)],
        ingest: { events: 100_000, seconds: 10, eventsPerS: 10_000, errors: 0 },
      },
    });
    const full = byName(evaluateTargets([], collector(1_000_000)), 'queries while ingest runs');
    expect(full?.met).toBe(true);
    expect(full?.ratio).toContain('listing 2.00× idle p99 (2.00 ms)');
    expect(full?.ratio).toContain('stats 1.50× idle p99 (30.0 ms)');
    expect(full?.measured).toContain('ingest at 10,000 events/s');
    // 4.9 ms is over 2026-11-25's worst listing p99 (4.83 ms).
    const slow = collector(1_000_000);
    slow.underLoad?.queries.splice(0, 1, q('list newest', 4.9));
    expect(byName(evaluateTargets([], slow), 'queries while ingest runs')?.met).toBe(false);
    // A small seed is not the target's store: reported, not judged.
    const small = byName(evaluateTargets([], collector(2_000)), 'queries while ingest runs');
    expect(small?.met).toBeNull();
    expect(small?.detail).toContain('1,000,000');
  });

  it("KServe's agent meets its target only when every served request is stored with both halves", () => {
    const points = [point('kserve-agent-http', 11, 5_000, 30)];
    const status = (stored: number, incomplete: number): ScenarioStatus[] => [
      { id: 'kserve-agent-http', n: 11, title: '', status: 'ok', stored, completed: 1000, incomplete },
    ];
    const ok = byName(evaluateTargets(points, undefined, status(1004, 4)), "KServe's real agent");
    expect(ok?.met).toBe(true);
    expect(ok?.measured).toContain('1,000 complete exchanges stored for 1,000 served requests (0 missing)');
    const lost = byName(evaluateTargets(points, undefined, status(990, 0)), "KServe's real agent");
    expect(lost?.met).toBe(false);
    expect(lost?.measured).toContain('(10 missing)');
    // Stored, but 20 without their response half: left behind.
    const halves = byName(evaluateTargets(points, undefined, status(1000, 20)), "KServe's real agent");
    expect(halves?.met).toBe(false);
  });

  it('reports scaling as ratios to one process, and a build without --workers as not available', () => {
    const scaling: ScalingResults = {
      cores: 2,
      agent: {
        unit: 'req/s',
        points: [
          { count: '1', rate: 1000, cpuUsPerUnit: 50, coresUsed: 0.9, errors: 0 },
          { count: '2', rate: 1500, cpuUsPerUnit: 55, coresUsed: 1.4, errors: 0 },
          { count: 'auto', rate: 1500, cpuUsPerUnit: 55, coresUsed: 1.4, errors: 0 },
        ],
      },
      collector: {
        unit: 'events/s',
        points: [{ count: '1', rate: 20_000, cpuUsPerUnit: 40, coresUsed: 0.8, errors: 0 }],
        note: '--workers 2: not available in this build; --workers auto: not available in this build',
      },
    };
    const t = evaluateTargets([], undefined, [], { scaling });
    const agent = byName(t, 'the agent uses every core');
    expect(agent?.ratio).toBe('2: 1.50×, auto: 1.50×');
    expect(agent?.met).toBe(true);
    const collector = byName(t, 'the collector uses every core');
    expect(collector?.met).toBeNull();
    expect(collector?.measured).toContain('not available in this build');
  });

  it('does not call it scaling when more processes keep more cores busy for less throughput', () => {
    const points = (auto: number) => [
      { count: '1', rate: 10_000, cpuUsPerUnit: 95, coresUsed: 0.95, errors: 0 },
      { count: 'auto', rate: auto, cpuUsPerUnit: 150, coresUsed: 1.06, errors: 0 },
    ];
    const met = (auto: number) =>
      byName(
        evaluateTargets([], undefined, [], {
          scaling: { cores: 2, agent: { unit: 'req/s', points: points(auto) } },
        }),
        'the agent uses every core',
      )?.met;
    expect(met(7_000)).toBe(false);
    expect(met(10_500)).toBe(false);
    expect(met(11_000)).toBe(true);
  });

  it('does not let a scenario that had not delivered everything meet the (extra) throughput target', () => {
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
    const t = evaluateTargets(points, undefined, statuses);
    const throughput = byName(t, '(extra) logging to the collector keeps throughput');
    expect(throughput?.met).toBe(false);
    expect(throughput?.measured).toContain('scenario 6');
    expect(throughput?.detail).toContain(
      'scenario 5 not counted: 44% of its exchanges were stored when it stopped (the rest waits in its spool: the collector did not keep up)',
    );
    expect(byName(t, '(extra) every logged exchange reached the collector')?.met).toBe(false);
  });

  it('prints a pasteable table: a pipe inside a cell does not split it', () => {
    const table = targetsTable([
      { name: 'a | b', target: 'g', measured: 'm', ratio: 'r', met: true, limitedBy: 'x' },
    ]);
    expect(table.split('\n')[2]).toBe('| a \\| b | g | m | r | yes | x |');
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
