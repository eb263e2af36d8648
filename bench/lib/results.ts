// The shape of a run's results: what bench/results/*.json holds and the table is printed from.
import type { LoadResult } from './load/generator.js';
import type { ProcessCost } from './measure.js';

export interface Ratios {
  rps: number | null;
  p50: number | null;
  p99: number | null;
  subjectCpu: number | null;
  totalCpu: number | null;
  subjectRss: number | null;
}

export interface PointResult {
  scenario: string;
  n: number;
  title: string;
  payload: string;
  payloadBytes: number;
  connections: number;
  ok: boolean;
  note?: string;
  load?: LoadResult;
  /** CPU of the proxy (or the model server in scenario 1 / in-process capture), µs per request = ms per 1,000 requests. */
  subjectCpuUsPerReq?: number;
  /** CPU of every process the scenario started (model, agent, collector, nginx), µs per request. */
  totalCpuUsPerReq?: number;
  subjectPeakRssMiB?: number;
  processes?: ProcessCost[];
  /** CPU used outside the measured processes (load generator + anything else on the machine), % of all cores. */
  outsideCpuPct?: number;
  /** 1-minute load average at the end of the point: high values mean other work shared the cores. */
  loadAverage1?: number;
  /** Each figure divided by scenario 1's at the same payload and concurrency. */
  ratios?: Ratios;
}

export interface ScenarioStatus {
  id: string;
  n: number;
  title: string;
  status: 'ok' | 'failed' | 'skipped';
  reason?: string;
  /** Bytes (file sinks, spool) or stored exchanges (collector) the scenario logged: proof logging happened. */
  logged?: string;
  /** Collector scenarios: exchanges stored vs requests that completed through the front door. */
  stored?: number;
  completed?: number;
}

export interface LatencySummary {
  n: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface CollectorResults {
  ok: boolean;
  note?: string;
  seed?: {
    exchanges: number;
    seconds: number;
    rowsPerS: number;
    dbMiB: number;
    cached?: boolean;
    /** The seeded exchanges' time range (epoch ms). */
    fromMs?: number;
    toMs?: number;
  };
  ingest?: {
    mode: string;
    events: number;
    seconds: number;
    eventsPerS: number;
    collectorCpuUsPerEvent: number;
    stored?: number;
  }[];
  queries?: { name: string; path: string; latency: LatencySummary }[];
  /** With --profile: the collector's .cpuprofile and the batched-ingest window in it. */
  profilePath?: string;
  profileWindow?: { fromEndUs: number; toEndUs: number };
}

export interface TargetResult {
  name: string;
  target: string;
  measured: string;
  met: boolean | null;
  detail?: string;
}

export interface ProfileSummary {
  scenario: string;
  file: string;
  totalMs: number;
  byArea: { area: string; ms: number; pct: number }[];
  /** Time attributed to the nearest inferlog function on the stack (inclusive of what it called). */
  byInferlogFrame: { frame: string; ms: number; pct: number }[];
  topSelf: { fn: string; where: string; ms: number; pct: number }[];
}

/** The exchanges layout: Parquet writing, size against JSON lines, DuckDB queries (lake-bench.ts). */
export interface LakeResults {
  exchanges: number;
  files: number;
  writeSeconds: number;
  exchangesPerS: number;
  /** Exchanges per CPU-second of the writing process (DuckDB runs one thread). */
  exchangesPerCoreS: number;
  parquetBytesPerExchange: number;
  jsonlBytesPerExchange: number;
  queries: { name: string; latency: LatencySummary }[];
  note?: string;
}

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  smoke: boolean;
  machine: Record<string, string | number>;
  settings: Record<string, unknown>;
  scenarios: ScenarioStatus[];
  points: PointResult[];
  collector?: CollectorResults;
  lake?: LakeResults;
  targets: TargetResult[];
  profiles: ProfileSummary[];
}
