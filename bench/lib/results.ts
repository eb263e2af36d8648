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
  /** Collector scenarios: stored exchanges still missing a half (`status=incomplete`): left behind. */
  incomplete?: number;
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
  /** wrk with KServe's events into a fresh SQLite store (lib/ingest.ts): single, then batch. */
  ingest?: IngestResult[];
  /** The query set over the seeded store, nothing else running. */
  queries?: QueryResult[];
  /** The same query set again while wrk ingests batches into the same collector at full speed. */
  underLoad?: {
    queries: QueryResult[];
    /** What the concurrent ingest achieved while the queries ran. */
    ingest: { events: number; seconds: number; eventsPerS: number; errors: number };
  };
  /** With --profile: the collector's .cpuprofile and the batched-ingest window in it. */
  profilePath?: string;
  profileWindow?: { fromEndUs: number; toEndUs: number };
}

export interface QueryResult {
  name: string;
  path: string;
  latency: LatencySummary;
}

export interface IngestResult {
  /** `single` (one binary event per POST) or `batch` (100 per POST). */
  mode: string;
  /** `sqlite` or `postgres`. */
  store: string;
  /** Set for the build given with --baseline-bin; absent for the build under test. */
  build?: 'baseline';
  events: number;
  seconds: number;
  eventsPerS: number;
  collectorCpuUsPerEvent: number;
  /** Collector CPU ÷ wall time during the run. */
  coresUsed: number;
  errors: number;
  /** Exchanges of the measured run found stored afterwards. */
  stored: number;
}

/** PostgreSQL batched ingest (target 3), or why it was not measured. */
export interface PgResults {
  ingest?: IngestResult;
  note?: string;
}

/** Throughput at 1, 2 and `auto` processes: the agent (`--processes`) and the collector (`--workers`). */
export interface ScalingPoint {
  /** As passed: `1`, `2` or `auto`. */
  count: string;
  /** Requests (agent) or events (collector) per second. */
  rate: number;
  /** CPU of the whole process tree (primary + workers) per request or event, µs. */
  cpuUsPerUnit: number;
  /** CPU time of the tree ÷ wall time: cores kept busy. */
  coresUsed: number;
  errors: number;
}

export interface ScalingPart {
  unit: 'req/s' | 'events/s';
  points: ScalingPoint[];
  /** Why a count (or the whole part) did not run, e.g. "not available in this build". */
  note?: string;
}

export interface ScalingResults {
  /** `os.availableParallelism()`: what `auto` means here. */
  cores: number;
  agent?: ScalingPart;
  collector?: ScalingPart;
}

export interface TargetResult {
  name: string;
  target: string;
  measured: string;
  /** The figure against its baseline, e.g. `0.48× today's (81.2 µs), 1.30× nginx (this run)`. */
  ratio?: string;
  met: boolean | null;
  /** Not a figure: guaranteed by design and proven by the tests the row names. */
  byTest?: boolean;
  detail?: string;
  /** What limits the figure: a fixed explanation per target, filled with this run's figures. */
  limitedBy?: string;
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
  pg?: PgResults;
  scaling?: ScalingResults;
  lake?: LakeResults;
  targets: TargetResult[];
  profiles: ProfileSummary[];
}
