/**
 * The collector's side: how fast events land in the store, and how fast it answers over a big
 * store, idle and while ingest runs at full speed.
 *
 *   ingest (fresh SQLite per mode): wrk ──KServe's events──▶ inferlog collect   (lib/ingest.ts)
 *        single (one binary event per POST), then batch (100 per POST): events/s, CPU µs/event
 *   seed N exchanges ──store.putEvents──▶ bench.db ──▶ inferlog collect --store sqlite:bench.db
 *     ◀── queries: filtered listing and stats, one at a time, p50/p99 per query (idle)
 *     ◀── the same queries again while wrk POSTs batches into the same collector (under load)
 *   PostgreSQL (runPgIngest): batched wrk ingest into a fresh schema
 *
 * Ingest points get a fresh database each, like bench/collector-ingest.ts, so the figures compare
 * with it; the under-load ingest goes into the seeded store, so index maintenance there costs
 * what it costs in production.
 */
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { Pool } from 'undici';
import type { BenchEnv } from './scenarios.js';
import type { ManagedProcess } from './processes.js';
import type { CollectorResults, IngestResult, PgResults, QueryResult } from './results.js';
import { summarise } from './latency.js';
import { ingestPoint, runCeLoad, startCollect, type Collect, type IngestMode } from './ingest.js';
import { portAnswers } from './ports.js';
import { openSqliteStore, seedStore, SEED_MODELS, type SeedRange } from './seed-store.js';

export interface CollectorBenchOptions {
  seed: number;
  /** Seconds of warm-up and of measured wrk load per ingest point. */
  ingestWarmupS: number;
  ingestDurationS: number;
  /** wrk connections for ingest (bench/collector-ingest.ts uses 32 too). */
  ingestConnections: number;
  /** Another build's CLI (--baseline-bin): its ingest is measured in the same run, for ratios. */
  baselineCliPath?: string;
  /** Max requests and max seconds per query. */
  queryRequests: number;
  queryBudgetS: number;
  progress: (line: string) => void;
  /** Run the batched-ingest collector under --cpu-prof, writing here; its load window is returned. */
  profileDir?: string;
  /** Keep seeded stores here and reuse them (unless `reseed`) while the store code is unchanged. */
  seedCacheDir?: string;
  reseed?: boolean;
}

/** A hash of the compiled store code: a cached seed is reused only while it is the same. */
function storeCodeHash(repo: string): string {
  const h = createHash('sha256');
  const dir = join(repo, 'dist/store');
  for (const f of readdirSync(dir).sort()) if (f.endsWith('.js')) h.update(readFileSync(join(dir, f)));
  return h.digest('hex').slice(0, 12);
}

/**
 * The queries, over the seed's own time range (a reused seed may be hours old, so "last hour"
 * is spelled as explicit RFC 3339 bounds around it; ingested events fall inside `until` too).
 */
function queries(seed: SeedRange): { name: string; path: string }[] {
  const iso = (ms: number): string => new Date(ms).toISOString();
  const since = iso(seed.fromMs);
  const until = iso(Date.now() + 60_000);
  const last15 = iso(seed.toMs - 15 * 60_000);
  const win = `since=${since}&until=${until}`;
  return [
    { name: 'list newest', path: '/api/v1/exchanges?limit=50' },
    { name: 'list model + 5xx', path: `/api/v1/exchanges?model=${SEED_MODELS[3]}&status=5xx&limit=50` },
    {
      name: 'list model, last 15m',
      path: `/api/v1/exchanges?model=${SEED_MODELS[7]}&since=${last15}&limit=50`,
    },
    { name: 'list namespace + 4xx', path: '/api/v1/exchanges?namespace=team-a&status=4xx&limit=50' },
    { name: 'stats, all (24h)', path: `/api/v1/stats?${win}` },
    { name: 'stats, last hour', path: `/api/v1/stats?since=${iso(seed.toMs - 3_600_000)}&until=${until}` },
    { name: 'stats, one model (24h)', path: `/api/v1/stats?${win}&model=${SEED_MODELS[3]}` },
    { name: 'stats, 5xx only (24h)', path: `/api/v1/stats?${win}&status=5xx` },
  ];
}

async function timeQueries(
  port: number,
  seed: SeedRange,
  o: CollectorBenchOptions,
  label: string,
): Promise<QueryResult[]> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 1 });
  const out: QueryResult[] = [];
  try {
    for (const q of queries(seed)) {
      const samples: number[] = [];
      const deadline = performance.now() + o.queryBudgetS * 1000;
      // One warm-up request: the first call pays for statement preparation and cold pages.
      await (await pool.request({ method: 'GET', path: q.path })).body.dump();
      while (samples.length < o.queryRequests && (performance.now() < deadline || samples.length < 5)) {
        const t0 = performance.now();
        const res = await pool.request({ method: 'GET', path: q.path });
        await res.body.arrayBuffer();
        samples.push(performance.now() - t0);
        if (res.statusCode !== 200) throw new Error(`${q.path} answered ${res.statusCode}`);
      }
      const latency = summarise(samples);
      out.push({ ...q, latency });
      o.progress(
        `query${label} ${q.name}: p50 ${latency.p50Ms.toFixed(1)} ms, p99 ${latency.p99Ms.toFixed(1)} ms (${latency.n} requests)`,
      );
    }
  } finally {
    await pool.close();
  }
  return out;
}

export async function runCollectorBench(env: BenchEnv, o: CollectorBenchOptions): Promise<CollectorResults> {
  const result: CollectorResults = { ok: true };
  const notes: string[] = [];
  const fail = (what: string, err: unknown, proc?: ManagedProcess): void => {
    result.ok = false;
    const msg = err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
    const tail = proc ? proc.tail(3).replace(/\n/g, ' | ') : '';
    notes.push(`${what}: ${msg}${tail ? ` (collector log: ${tail})` : ''}`);
    o.progress(`${what} FAILED: ${msg}`);
  };
  const dbPath = join(env.tmp, 'collector-bench.db');
  let seedRange: SeedRange = { fromMs: 0, toMs: Date.now() };
  try {
    // 1. Seed through the store — or copy a seed made earlier by the same store code.
    const cached = o.seedCacheDir
      ? join(o.seedCacheDir, `seed-${o.seed}-${storeCodeHash(env.repo)}.db`)
      : undefined;
    if (cached && !o.reseed && existsSync(cached)) {
      o.progress(`seed: reusing ${cached} (same store code; --reseed to rebuild)`);
      copyFileSync(cached, dbPath);
      const meta = JSON.parse(readFileSync(`${cached}.json`, 'utf8')) as NonNullable<
        CollectorResults['seed']
      >;
      result.seed = { ...meta, cached: true };
      seedRange = { fromMs: meta.fromMs ?? 0, toMs: meta.toMs ?? Date.now() };
    } else {
      const store = await openSqliteStore(env.repo, dbPath);
      const t0 = performance.now();
      seedRange = await seedStore(store, o.seed, (done) =>
        o.progress(`seed ${done.toLocaleString('en')}/${o.seed.toLocaleString('en')} exchanges`),
      );
      const seconds = (performance.now() - t0) / 1000;
      await store.shutdown(); // checkpoints the WAL into the main file
      const dbBytes = ['', '-wal'].reduce((n, s) => n + statSizeOr0(dbPath + s), 0);
      result.seed = {
        exchanges: o.seed,
        seconds,
        rowsPerS: o.seed / seconds,
        dbMiB: dbBytes / 1048576,
        ...seedRange,
      };
      if (cached && o.seedCacheDir) {
        mkdirSync(o.seedCacheDir, { recursive: true });
        for (const f of readdirSync(o.seedCacheDir))
          if (f.startsWith(`seed-${o.seed}-`)) rmSync(join(o.seedCacheDir, f));
        copyFileSync(dbPath, cached);
        writeFileSync(`${cached}.json`, JSON.stringify(result.seed));
      }
    }
  } catch (err) {
    fail('seed', err);
    result.note = notes.join('; ');
    return result;
  }

  // 2. A collector on the seeded store: the queries idle, then again under a batched wrk ingest.
  try {
    const c = await startCollect(env.group, {
      name: 'collect-queries',
      cliPath: env.cliPath,
      cwd: env.repo,
      store: `sqlite:${dbPath}`,
    });
    try {
      result.queries = await timeQueries(c.port, seedRange, o, '');
      result.underLoad = await queriesUnderLoad(c, seedRange, o);
    } catch (err) {
      fail('queries', err, c.proc);
    } finally {
      await env.group.stop(c.proc);
    }
  } catch (err) {
    fail('collector on the seeded store', err);
  }
  rmSync(dbPath, { force: true });
  for (const s of ['-wal', '-shm']) rmSync(dbPath + s, { force: true });

  // 3. Ingest at line rate, each mode into a fresh database; one failing does not skip the other.
  // With a baseline build, both builds run each mode, in alternating order (a burst of other work
  // on a shared machine then does not land on one build only).
  result.ingest = [];
  if (o.profileDir) mkdirSync(o.profileDir, { recursive: true });
  const runs = (['single', 'batch'] as const).flatMap((mode, i) => {
    const builds: ('this' | 'baseline')[] = o.baselineCliPath ? ['this', 'baseline'] : ['this'];
    return (i % 2 === 0 ? builds.reverse() : builds).map((build) => ({ mode, build }));
  });
  for (const { mode, build } of runs) {
    const profile = mode === 'batch' && build === 'this' && o.profileDir !== undefined;
    const what = `ingest ${mode}${build === 'baseline' ? ' (baseline build)' : ''}`;
    try {
      const c = await startCollect(env.group, {
        name: `collect-ingest-${mode}-${build}`,
        cliPath: build === 'baseline' ? (o.baselineCliPath as string) : env.cliPath,
        cwd: env.repo,
        store: `sqlite:${join(env.tmp, `ingest-${mode}-${build}.db`)}`,
        nodeFlags: profile ? ['--cpu-prof', `--cpu-prof-dir=${o.profileDir}`] : [],
      });
      const exitedAt = c.proc.exited.then(() => Date.now());
      let window: { start: number; end: number } | undefined;
      try {
        const start = Date.now();
        const r = await measureIngest(c, mode, 'sqlite', o, build === 'baseline');
        window = { start, end: Date.now() };
        result.ingest.push(r);
      } catch (err) {
        fail(what, err, c.proc);
      } finally {
        await env.group.stop(c.proc);
      }
      if (profile && window && o.profileDir) {
        const exit = await exitedAt;
        const file = readdirSync(o.profileDir).find((f) => f.endsWith('.cpuprofile'));
        if (file) {
          result.profilePath = join(o.profileDir, file);
          result.profileWindow = {
            fromEndUs: (exit - window.start) * 1000,
            toEndUs: (exit - window.end) * 1000,
          };
        }
      }
    } catch (err) {
      fail(what, err);
    }
  }
  if (notes.length) result.note = notes.join('; ');
  return result;
}

/** One ingest point with the bench's settings, as the report's row. */
async function measureIngest(
  c: Collect,
  mode: IngestMode,
  store: string,
  o: Pick<CollectorBenchOptions, 'ingestDurationS' | 'ingestWarmupS' | 'ingestConnections' | 'progress'>,
  baseline = false,
): Promise<IngestResult> {
  const label = `${store}${baseline ? ' (baseline build)' : ''} ${mode}`;
  o.progress(`ingest ${label}: wrk ${o.ingestConnections} connections, ${o.ingestDurationS}s`);
  const p = await ingestPoint(c, {
    mode,
    durationS: o.ingestDurationS,
    warmupS: o.ingestWarmupS,
    connections: o.ingestConnections,
    tag: `ingest-${store}`,
  });
  o.progress(
    `ingest ${label}: ${Math.round(p.eventsPerS)} events/s, ${p.cpuUsPerEvent.toFixed(1)} µs CPU/event on ${p.coresUsed.toFixed(2)} cores, ${p.stored} exchanges stored, ${p.errors} errors`,
  );
  return {
    mode,
    store,
    ...(baseline ? { build: 'baseline' as const } : {}),
    events: p.events,
    seconds: p.seconds,
    eventsPerS: p.eventsPerS,
    collectorCpuUsPerEvent: p.cpuUsPerEvent,
    coresUsed: p.coresUsed,
    errors: p.errors,
    stored: p.stored,
  };
}

/**
 * The query set again while wrk POSTs batches into the same collector: wrk runs until the
 * queries are done (at most the query budget × queries + 10 s), then is stopped (SIGINT).
 */
async function queriesUnderLoad(
  c: Collect,
  seed: SeedRange,
  o: CollectorBenchOptions,
): Promise<NonNullable<CollectorResults['underLoad']>> {
  const stop = new AbortController();
  const load = runCeLoad({
    port: c.port,
    mode: 'batch',
    model: `under-load-${Date.now().toString(36)}`,
    prefix: 'under-load',
    durationS: queries(seed).length * o.queryBudgetS + 10,
    connections: o.ingestConnections,
    signal: stop.signal,
  });
  // A failed start of wrk must not leave the queries waiting for nothing.
  load.catch(() => {});
  // Let wrk's connections fill the collector before the first query is timed.
  await new Promise((r) => setTimeout(r, 500));
  let qs: QueryResult[];
  try {
    qs = await timeQueries(c.port, seed, o, ' under load');
  } finally {
    stop.abort();
  }
  const r = await load;
  const ingest = {
    events: r.events,
    seconds: r.durationS,
    eventsPerS: r.durationS > 0 ? r.events / r.durationS : 0,
    errors: r.errors,
  };
  o.progress(`queries under load: ingest ran at ${Math.round(ingest.eventsPerS)} events/s meanwhile`);
  return { queries: qs, ingest };
}

/**
 * Where the PostgreSQL target runs: `--pg-url`, else INFERLOG_BENCH_PG, else the tests' peer
 * (INFERLOG_TEST_PG_URL, or scripts/peers/postgres.sh's cluster on INFERLOG_PG_PORT / 54329 when
 * it answers). Undefined: no PostgreSQL here.
 */
export async function findPostgres(pgUrl: string | undefined): Promise<string | undefined> {
  const given = pgUrl ?? process.env.INFERLOG_BENCH_PG ?? process.env.INFERLOG_TEST_PG_URL;
  if (given) return given;
  const port = Number(process.env.INFERLOG_PG_PORT ?? 54329);
  return (await portAnswers(port)) ? `postgres://postgres@127.0.0.1:${port}/inferlog_test` : undefined;
}

/**
 * Target 3: batched wrk ingest into PostgreSQL, in a fresh schema of the given database
 * (created here, dropped afterwards), so no earlier run's rows or indexes weigh on it.
 */
export async function runPgIngest(
  env: BenchEnv,
  url: string,
  o: Pick<CollectorBenchOptions, 'ingestDurationS' | 'ingestWarmupS' | 'ingestConnections' | 'progress'>,
): Promise<PgResults> {
  const schema = `bench_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: url });
  try {
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
  } catch (err) {
    await admin.end().catch(() => {});
    return {
      note: `PostgreSQL at ${redact(url)} unusable: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  try {
    const u = new URL(url);
    u.searchParams.set('options', `-c search_path=${schema}`);
    const c = await startCollect(env.group, {
      name: 'collect-pg',
      cliPath: env.cliPath,
      cwd: env.repo,
      store: u.toString(),
    });
    try {
      return { ingest: await measureIngest(c, 'batch', 'postgres', o) };
    } finally {
      await env.group.stop(c.proc);
    }
  } catch (err) {
    return { note: err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err) };
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
    await admin.end().catch(() => {});
  }
}

/** A connection URL without its password, for the report. */
function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:…@');
}

function statSizeOr0(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
