/**
 * Turns measurements into what people read: ratios to scenario 1, the table, the targets.
 *
 *   PointResult[] ──ratios vs scenario 1 (same payload, same connections)──▶ markdown table
 *                 └─targets at the reference point (100 B, 64 connections)──▶ met / missed by how much
 */
import type {
  BenchReport,
  CollectorResults,
  LakeResults,
  PointResult,
  Ratios,
  ScenarioStatus,
  TargetResult,
} from './results.js';

export const REFERENCE = { payload: '100B', connections: 64 };

const ratio = (a: number | undefined, b: number | undefined): number | null =>
  a === undefined || b === undefined || b === 0 ? null : a / b;

export function addRatios(points: PointResult[]): void {
  for (const p of points) {
    const base = points.find(
      (d) => d.scenario === 'direct' && d.payload === p.payload && d.connections === p.connections && d.ok,
    );
    if (!p.ok || !base) continue;
    const r: Ratios = {
      rps: ratio(p.load?.rps, base.load?.rps),
      p50: ratio(p.load?.p50Ms, base.load?.p50Ms),
      p99: ratio(p.load?.p99Ms, base.load?.p99Ms),
      subjectCpu: ratio(p.subjectCpuUsPerReq, base.subjectCpuUsPerReq),
      totalCpu: ratio(p.totalCpuUsPerReq, base.totalCpuUsPerReq),
      subjectRss: ratio(p.subjectPeakRssMiB, base.subjectPeakRssMiB),
    };
    p.ratios = r;
  }
}

function num(v: number | undefined | null, digits?: number): string {
  if (v === undefined || v === null || !Number.isFinite(v)) return '—';
  if (digits !== undefined) return v.toFixed(digits);
  if (v >= 1000) return Math.round(v).toString();
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}
const x = (v: number | null | undefined): string =>
  v === null || v === undefined ? '—' : `${v.toFixed(2)}×`;

export function pointsTable(points: PointResult[]): string {
  const head =
    '| # | scenario | payload | conn | req/s | ×1 | p50 ms | ×1 | p99 ms | ×1 | proxy CPU µs/req | ×1 | total CPU µs/req | ×1 | proxy peak RSS MiB | ×1 | errors | outside CPU % |';
  const sep = '|' + '---|'.repeat(18);
  const rows = points.map((p) => {
    if (!p.ok || !p.load)
      return `| ${p.n} | ${p.scenario} | ${p.payload} | ${p.connections} | failed: ${p.note ?? ''} ||||||||||||||`;
    const r = p.ratios;
    return `| ${p.n} | ${p.scenario} | ${p.payload} | ${p.connections} | ${num(p.load.rps)} | ${x(r?.rps)} | ${num(p.load.p50Ms)} | ${x(r?.p50)} | ${num(p.load.p99Ms)} | ${x(r?.p99)} | ${num(p.subjectCpuUsPerReq)} | ${x(r?.subjectCpu)} | ${num(p.totalCpuUsPerReq)} | ${x(r?.totalCpu)} | ${num(p.subjectPeakRssMiB, 0)} | ${x(r?.subjectRss)} | ${p.load.errors} | ${num(p.outsideCpuPct, 0)} |`;
  });
  return [head, sep, ...rows].join('\n');
}

export function lakeTable(l: LakeResults): string {
  if (l.note) return `Exchanges layout part failed: ${l.note}`;
  const lines = [
    `Wrote ${l.exchanges.toLocaleString('en')} exchanges as ${l.files} Parquet files in ${l.writeSeconds.toFixed(1)} s: ` +
      `${Math.round(l.exchangesPerS).toLocaleString('en')} exchanges/s, ${Math.round(l.exchangesPerCoreS).toLocaleString('en')} per CPU-second (one core). ` +
      `Stored ${l.parquetBytesPerExchange.toFixed(1)} bytes per exchange in Parquet (zstd) against ${l.jsonlBytesPerExchange.toFixed(1)} in JSON lines ` +
      `(${(l.jsonlBytesPerExchange / l.parquetBytesPerExchange).toFixed(1)}× smaller).`,
    '',
    `| DuckDB query over ${l.exchanges.toLocaleString('en')} exchanges (in process, every file) | runs | p50 ms | p99 ms | max ms |`,
    '|---|---|---|---|---|',
  ];
  for (const q of l.queries)
    lines.push(
      `| ${q.name} | ${q.latency.n} | ${num(q.latency.p50Ms)} | ${num(q.latency.p99Ms)} | ${num(q.latency.maxMs)} |`,
    );
  return lines.join('\n');
}

export function collectorTable(c: CollectorResults): string {
  const lines: string[] = [];
  if (c.seed?.cached)
    lines.push(
      '(The seeded store was reused from an earlier run with the same store code; seed figures are from that run.)',
      '',
    );
  if (c.seed)
    lines.push(
      `Seeded ${c.seed.exchanges.toLocaleString('en')} exchanges through the store in ${c.seed.seconds.toFixed(1)} s (${Math.round(c.seed.rowsPerS).toLocaleString('en')} rows/s, DB ${c.seed.dbMiB.toFixed(0)} MiB).`,
      '',
    );
  if (c.ingest?.length) {
    lines.push(
      '| ingest over HTTP | events | seconds | events/s | collector CPU µs/event | stored |',
      '|---|---|---|---|---|---|',
    );
    for (const i of c.ingest)
      lines.push(
        `| ${i.mode} | ${i.events} | ${i.seconds.toFixed(2)} | ${Math.round(i.eventsPerS)} | ${num(i.collectorCpuUsPerEvent)} | ${i.stored ?? '—'} |`,
      );
    lines.push('');
  }
  if (c.queries?.length) {
    lines.push('| query | requests | p50 ms | p99 ms | max ms |', '|---|---|---|---|---|');
    for (const q of c.queries)
      lines.push(
        `| ${q.name} \`${q.path}\` | ${q.latency.n} | ${num(q.latency.p50Ms)} | ${num(q.latency.p99Ms)} | ${num(q.latency.maxMs)} |`,
      );
  }
  if (!c.ok) lines.push('', `Collector part failed: ${c.note ?? ''}`);
  return lines.join('\n');
}

const at = (points: PointResult[], scenario: string): PointResult | undefined =>
  points.find(
    (p) =>
      p.ok &&
      p.scenario === scenario &&
      p.payload === REFERENCE.payload &&
      p.connections === REFERENCE.connections,
  ) ?? points.find((p) => p.ok && p.scenario === scenario && p.payload === REFERENCE.payload);

/** Fraction of completed requests whose exchange reached the collector (undefined: not a collector scenario). */
function deliveredFraction(statuses: ScenarioStatus[], id: string): number | undefined {
  const s = statuses.find((x) => x.id === id);
  return s?.stored !== undefined && s.completed ? s.stored / s.completed : undefined;
}

export function evaluateTargets(
  points: PointResult[],
  collector: CollectorResults | undefined,
  statuses: ScenarioStatus[] = [],
): TargetResult[] {
  const out: TargetResult[] = [];
  // A logger that drops events can look fast: a scenario that lost more than 1% does not count.
  const lossless = (p: PointResult | undefined): boolean =>
    (deliveredFraction(statuses, p?.scenario ?? '') ?? 1) >= 0.99;
  const http = at(points, 'agent-http');
  const batch = at(points, 'agent-http-batch');
  const spool = at(points, 'agent-spool');
  const where = (p: PointResult | undefined): string => (p ? ` (${p.payload}, ${p.connections} conn)` : '');

  const dropped = [http, batch].filter((p): p is PointResult => p !== undefined && !lossless(p));
  const best = [http, batch]
    .filter((p): p is PointResult => p?.ratios?.rps != null && lossless(p))
    .sort((a, b) => (b.ratios?.rps ?? 0) - (a.ratios?.rps ?? 0))[0];
  const bestRatio = best?.ratios?.rps ?? null;
  out.push({
    name: 'logging to the collector keeps throughput',
    target: 'scenario 5 or 6 ≥ 0.5× direct req/s',
    measured:
      bestRatio === null ? 'not measured' : `${bestRatio.toFixed(2)}× (scenario ${best?.n}${where(best)})`,
    met: bestRatio === null ? null : bestRatio >= 0.5,
    detail:
      [
        bestRatio !== null && bestRatio < 0.5
          ? `missed by ${(((0.5 - bestRatio) / 0.5) * 100).toFixed(0)}% of the target`
          : '',
        ...dropped.map(
          (p) =>
            `scenario ${p.n} not counted: it dropped events (${((deliveredFraction(statuses, p.scenario) ?? 0) * 100).toFixed(0)}% of exchanges stored)`,
        ),
      ]
        .filter(Boolean)
        .join('; ') || undefined,
  });

  const cpu = batch?.subjectCpuUsPerReq;
  out.push({
    name: 'agent CPU per logged request',
    target: 'scenario 6 ≤ 30 µs',
    measured: cpu === undefined ? 'not measured' : `${cpu.toFixed(1)} µs${where(batch)}`,
    met: cpu === undefined ? null : cpu <= 30,
    detail:
      cpu !== undefined && cpu > 30
        ? `missed by ${(cpu - 30).toFixed(1)} µs (${((cpu / 30 - 1) * 100).toFixed(0)}% over)`
        : undefined,
  });

  const sr = spool?.load && batch?.load ? spool.load.rps / batch.load.rps : undefined;
  const spoolRss = Math.max(
    0,
    ...points
      .filter((p) => p.ok && p.scenario === 'agent-spool' && p.payload === REFERENCE.payload)
      .map((p) => p.subjectPeakRssMiB ?? 0),
  );
  out.push({
    name: 'a dead sink does not hurt traffic',
    target: 'scenario 7 req/s within 10% of scenario 6, agent RSS < 200 MB',
    measured:
      sr === undefined
        ? 'not measured'
        : `${sr.toFixed(2)}× scenario 6, peak RSS ${spoolRss.toFixed(0)} MiB (${(spoolRss * 1.048576).toFixed(0)} MB)${where(spool)}`,
    met: sr === undefined ? null : sr >= 0.9 && spoolRss * 1.048576 < 200,
    detail:
      sr !== undefined && sr < 0.9
        ? `throughput ${((1 - sr) * 100).toFixed(0)}% below scenario 6`
        : undefined,
  });

  const delivery = ['agent-http', 'agent-http-batch', 'inproc-http-batch', 'kserve-agent-http']
    .map((id) => ({ id, f: deliveredFraction(statuses, id) }))
    .filter((d): d is { id: string; f: number } => d.f !== undefined);
  out.push({
    name: '(extra) every logged exchange reached the collector',
    target: '≥ 99% of completed requests stored (scenarios 5, 6, 10, 11)',
    measured: delivery.length
      ? delivery.map((d) => `${d.id} ${(d.f * 100).toFixed(1)}%`).join(', ')
      : 'not measured',
    met: delivery.length ? delivery.every((d) => d.f >= 0.99) : null,
  });

  const batchIngest = collector?.ingest?.find((i) => i.mode.startsWith('batch'));
  out.push({
    name: 'collector ingest into SQLite',
    target: '≥ 20,000 events/s',
    measured: batchIngest
      ? `${Math.round(batchIngest.eventsPerS).toLocaleString('en')} events/s (${batchIngest.mode})`
      : 'not measured',
    met: batchIngest ? batchIngest.eventsPerS >= 20_000 : null,
    detail:
      batchIngest && batchIngest.eventsPerS < 20_000
        ? `missed by ${Math.round(20_000 - batchIngest.eventsPerS).toLocaleString('en')} events/s`
        : undefined,
  });

  const qs = collector?.queries ?? [];
  const worst = [...qs].sort((a, b) => b.latency.p99Ms - a.latency.p99Ms)[0];
  const stored = collector?.seed?.exchanges;
  out.push({
    name: `query latency over ${stored ? stored.toLocaleString('en') : '?'} exchanges`,
    target: 'p99 < 50 ms (listing and stats)',
    measured: worst ? `worst p99 ${worst.latency.p99Ms.toFixed(1)} ms (${worst.name})` : 'not measured',
    met: worst ? worst.latency.p99Ms < 50 : null,
    detail:
      worst && worst.latency.p99Ms >= 50
        ? `missed by ${(worst.latency.p99Ms - 50).toFixed(1)} ms`
        : undefined,
  });
  return out;
}

export function targetsTable(targets: TargetResult[]): string {
  const lines = ['| target | goal | measured | met |', '|---|---|---|---|'];
  for (const t of targets)
    lines.push(
      `| ${t.name} | ${t.target} | ${t.measured}${t.detail ? ` — ${t.detail}` : ''} | ${t.met === null ? 'n/a' : t.met ? 'yes' : '**no**'} |`,
    );
  return lines.join('\n');
}

export function inProcessSummary(points: PointResult[]): string {
  const lines = [
    '| payload | conn | up, logging off: req/s | in-process → file: req/s (×) | in-process → collect batched: req/s (×) | capture CPU µs/req (file) | capture CPU µs/req (collect) |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const d of points.filter((p) => p.ok && p.scenario === 'direct')) {
    const f = points.find(
      (p) =>
        p.ok && p.scenario === 'inproc-file' && p.payload === d.payload && p.connections === d.connections,
    );
    const h = points.find(
      (p) =>
        p.ok &&
        p.scenario === 'inproc-http-batch' &&
        p.payload === d.payload &&
        p.connections === d.connections,
    );
    const delta = (p: PointResult | undefined): string =>
      p?.subjectCpuUsPerReq !== undefined && d.subjectCpuUsPerReq !== undefined
        ? num(p.subjectCpuUsPerReq - d.subjectCpuUsPerReq)
        : '—';
    lines.push(
      `| ${d.payload} | ${d.connections} | ${num(d.load?.rps)} | ${num(f?.load?.rps)} (${x(f?.ratios?.rps)}) | ${num(h?.load?.rps)} (${x(h?.ratios?.rps)}) | ${delta(f)} | ${delta(h)} |`,
    );
  }
  return lines.join('\n');
}

export function renderMarkdown(r: BenchReport): string {
  const m = r.machine;
  const parts = [
    `Run ${r.startedAt} → ${r.finishedAt}${r.smoke ? ' (smoke: tiny sizes, not figures to quote)' : ''}`,
    `Machine: ${m.cpu} × ${m.cores} cores, ${m.memGiB} GiB, ${m.os}; Node ${m.node}; load generator ${m.generator}; nginx ${m.nginx}; commit ${m.commit}`,
    `Settings: ${JSON.stringify(r.settings)}`,
    '',
    '### Scenarios',
    '',
    pointsTable(r.points),
    '',
    '### In-process capture (`inferlog up`) vs `inferlog up` with logging off',
    '',
    inProcessSummary(r.points),
  ];
  if (r.collector) parts.push('', '### Collector', '', collectorTable(r.collector));
  if (r.lake) parts.push('', '### Exchanges layout (Parquet, DuckDB)', '', lakeTable(r.lake));
  parts.push('', '### Targets', '', targetsTable(r.targets));
  for (const p of r.profiles) {
    parts.push(
      '',
      `### CPU profile: ${p.scenario} (${p.totalMs.toFixed(0)} ms sampled)`,
      '',
      '| area | ms | % |',
      '|---|---|---|',
    );
    for (const a of p.byArea) parts.push(`| ${a.area} | ${a.ms.toFixed(0)} | ${a.pct.toFixed(1)} |`);
    parts.push('', '| nearest inferlog frame on the stack | ms | % |', '|---|---|---|');
    for (const f of p.byInferlogFrame)
      parts.push(`| ${f.frame} | ${f.ms.toFixed(0)} | ${f.pct.toFixed(1)} |`);
    parts.push('', '| function (self time) | where | ms | % |', '|---|---|---|---|');
    for (const f of p.topSelf)
      parts.push(`| ${f.fn} | ${f.where} | ${f.ms.toFixed(0)} | ${f.pct.toFixed(1)} |`);
  }
  const failed = r.scenarios.filter((s) => s.status !== 'ok');
  if (failed.length)
    parts.push(
      '',
      '### Not run / failed',
      '',
      ...failed.map((s) => `- ${s.n} ${s.id}: ${s.status} — ${s.reason ?? ''}`),
    );
  return parts.join('\n') + '\n';
}
