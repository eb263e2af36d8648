/**
 * The collector's side: how fast events land in SQLite, and how fast it answers over a big store.
 *
 *   seed N exchanges ──store.putEvents──▶ bench.db
 *   inferlog collect --store sqlite:bench.db
 *     ◀── queries: filtered listing and stats, one at a time, p50/p99 per query
 *     ◀── ingest: the project's own http sink (batched, then per event), as the agent sends
 *
 * Ingest goes into the seeded store (a collector that already holds N exchanges), so index
 * maintenance costs what it costs in production.
 */
import { createHash, randomUUID } from 'node:crypto';
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
import { pathToFileURL } from 'node:url';
import { Pool } from 'undici';
import { z } from 'zod';
import type { Exchange } from '../../src/core/exchange.js';
import type { SinkFactory } from '../../src/sinks/sink.js';
import type { BenchEnv } from './scenarios.js';
import type { CollectorResults, LatencySummary } from './results.js';
import { freePort } from './ports.js';
import { waitForPort, type ManagedProcess } from './processes.js';
import { cpuMs } from './proc-stats.js';
import { openSqliteStore, seedStore, SEED_MODELS, type SeedRange } from './seed-store.js';

export interface CollectorBenchOptions {
  seed: number;
  /** Exchanges sent per ingest mode (each is two events). */
  ingestBatched: number;
  ingestPerEvent: number;
  /** Max requests and max seconds per query. */
  queryRequests: number;
  queryBudgetS: number;
  progress: (line: string) => void;
  /** Run the collector under --cpu-prof, writing here; the batched-ingest window is returned. */
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

const StatsAnswer = z.object({ total: z.object({ count: z.number() }) });

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

function summarise(samples: number[]): LatencySummary {
  const s = [...samples].sort((a, b) => a - b);
  return { n: s.length, p50Ms: percentile(s, 50), p99Ms: percentile(s, 99), maxMs: s[s.length - 1] ?? NaN };
}

function syntheticExchange(model: string, body: Uint8Array, out: Uint8Array): Exchange {
  const t = Date.now();
  return {
    id: randomUUID(),
    source: {
      inferenceService: model,
      namespace: 'bench',
      component: 'predictor',
      endpoint: '',
      sourceUri: 'http://localhost:9081/',
      annotations: {},
    },
    mode: 'all',
    method: 'POST',
    url: `/v1/models/${model}:predict`,
    metadata: {},
    requestTime: t,
    responseTime: t + 2.5,
    request: { bytes: body, contentType: 'application/json', size: body.byteLength, truncated: false },
    status: 200,
    response: { bytes: out, contentType: 'application/json', size: out.byteLength, truncated: false },
    sampleWeight: 1,
  };
}

async function ingest(
  env: BenchEnv,
  port: number,
  collectorPid: number,
  mode: 'batch' | 'per-event',
  exchanges: number,
) {
  const mod = (await import(pathToFileURL(join(env.repo, 'dist/sinks/http/sink.js')).href)) as {
    createHttpSink: SinkFactory;
  };
  const batchSize = mode === 'batch' ? 100 : 1;
  const sink = mod.createHttpSink(new URL(`http://127.0.0.1:${port}/`), {
    batchSize,
    batchIntervalMs: 0,
    timeoutMs: 30_000,
    tls: { skipVerify: false },
  });
  await sink.start();
  const model = `ingest-${mode}`;
  const body = Buffer.from('{"instances":[1.5,2.25,3.125,4.0,5.5,6.75,7.0,8.5]}');
  const out = Buffer.from('{"predictions":[38.625]}');
  const all = Array.from({ length: exchanges }, () => syntheticExchange(model, body, out));
  const per = sink.maxBatch;
  const inFlight = 4;
  const signal = new AbortController().signal;
  const cpu0 = cpuMs(collectorPid);
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < all.length) {
        const batch = all.slice(next, next + per);
        next += per;
        await sink.send(batch, signal);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuMs(collectorPid) - cpu0;
  await sink.shutdown();
  const events = exchanges * 2;
  return {
    mode: mode === 'batch' ? `batched (${batchSize}/POST)` : 'per event (1 POST each)',
    events,
    seconds,
    eventsPerS: events / seconds,
    collectorCpuUsPerEvent: (cpu * 1000) / events,
    model,
  };
}

async function timeQueries(
  port: number,
  seed: SeedRange,
  o: CollectorBenchOptions,
): Promise<{ name: string; path: string; latency: LatencySummary }[]> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 1 });
  const out: { name: string; path: string; latency: LatencySummary }[] = [];
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
        `query ${q.name}: p50 ${latency.p50Ms.toFixed(1)} ms, p99 ${latency.p99Ms.toFixed(1)} ms (${latency.n} requests)`,
      );
    }
  } finally {
    await pool.close();
  }
  return out;
}

async function storedCount(port: number, model: string): Promise<number> {
  const res = await fetch(
    `http://127.0.0.1:${port}/api/v1/stats?since=1h&model=${encodeURIComponent(model)}`,
  );
  return StatsAnswer.parse(await res.json()).total.count;
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

  // 2. A collector on the seeded store (under --cpu-prof when profiling).
  const port = await freePort();
  if (o.profileDir) mkdirSync(o.profileDir, { recursive: true });
  const proc = env.group.spawn(
    'collect-bench',
    process.execPath,
    [
      ...(o.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${o.profileDir}`] : []),
      env.cliPath,
      'collect',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--store',
      `sqlite:${dbPath}`,
    ],
    { cwd: env.repo },
  );
  const exitedAt = proc.exited.then(() => Date.now());
  let batchWindow: { start: number; end: number } | undefined;
  try {
    await waitForPort(port, proc, 120_000);

    // 3. Queries over the seeded store, before ingest adds a burst of fresh exchanges.
    try {
      result.queries = await timeQueries(port, seedRange, o);
    } catch (err) {
      fail('queries', err, proc);
    }

    // 4. Ingest, batched then per event; one failing does not skip the other or the queries.
    result.ingest = [];
    for (const [mode, n] of [
      ['batch', o.ingestBatched],
      ['per-event', o.ingestPerEvent],
    ] as const) {
      o.progress(`ingest ${mode}: ${n * 2} events`);
      try {
        const start = Date.now();
        const r = await ingest(env, port, proc.pid, mode, n);
        if (mode === 'batch') batchWindow = { start, end: Date.now() };
        const stored = await storedCount(port, r.model);
        result.ingest.push({
          mode: r.mode,
          events: r.events,
          seconds: r.seconds,
          eventsPerS: r.eventsPerS,
          collectorCpuUsPerEvent: r.collectorCpuUsPerEvent,
          stored,
        });
        o.progress(
          `ingest ${mode}: ${Math.round(r.eventsPerS)} events/s, ${stored} of ${n} exchanges stored`,
        );
      } catch (err) {
        fail(`ingest ${mode}`, err, proc);
        if (proc.hasExited()) throw new Error('collector exited');
      }
    }
  } catch (err) {
    fail('collector', err, proc);
  } finally {
    await env.group.stop(proc);
  }
  if (o.profileDir && batchWindow) {
    const exit = await exitedAt;
    const file = readdirSync(o.profileDir).find((f) => f.endsWith('.cpuprofile'));
    if (file) {
      result.profilePath = join(o.profileDir, file);
      result.profileWindow = {
        fromEndUs: (exit - batchWindow.start) * 1000,
        toEndUs: (exit - batchWindow.end) * 1000,
      };
    }
  }
  if (notes.length) result.note = notes.join('; ');
  return result;
}

function statSizeOr0(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
