/**
 * The exchanges layout (`inferlog.dev/blob-layout: exchanges`): how fast exchanges become Parquet,
 * how many bytes each costs against JSON lines, and how fast DuckDB answers the collector
 * benchmark's queries over N of them.
 *
 *   N synthetic exchanges (the collector seed's shape) ──lake sink (dist/)──▶ DIR/namespace=…/…/hour=HH/*.parquet
 *       CPU of this process during the writes ──▶ exchanges/s per core (DuckDB runs one thread)
 *   the same exchanges ──encodeRecord──▶ JSON lines bytes (counted, not written)
 *   DuckDB: view over the files ──▶ the collector benchmark's list and stats queries, p50/p99
 *
 * One file per namespace × InferenceService × hour, as a day of traffic at this rate gives with
 * the default 5-minute bound merged hourly; query timings read every file (no partition pruning),
 * which is the worst case for `query --from` without filters.
 */
import { rmSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Exchange } from '../../src/core/exchange.js';
import type { Sink } from '../../src/sinks/sink.js';
import type { LakeResults } from './results.js';
import { summarise } from './latency.js';
import { rng, SEED_MODELS, SEED_SPAN_MS } from './seed-store.js';

export interface LakeBenchOptions {
  /** Exchanges written and queried (`npm run bench -- --lake-n`). */
  n: number;
  queryRequests: number;
  queryBudgetS: number;
  progress: (line: string) => void;
}

/** The collector seed's shape (seed-store.ts): 10 models × 2 namespaces, ~3% 5xx, ~2% 4xx, 24 h. */
function synthetic(i: number, n: number, now: number, rand: () => number): Exchange {
  const model = SEED_MODELS[i % SEED_MODELS.length] as string;
  const namespace = i % 2 ? 'team-a' : 'team-b';
  const r = rand();
  const status = r < 0.03 ? 500 : r < 0.05 ? 400 : 200;
  const latencyMs = Math.exp(1 + rand() * 3);
  const t = now - SEED_SPAN_MS + (i / n) * (SEED_SPAN_MS - 60_000) + rand() * 1000;
  const req = Buffer.from(
    `{"instances":[${(rand() * 10).toFixed(3)},${(rand() * 10).toFixed(3)},${i % 97}]}`,
  );
  const res = Buffer.from(
    status === 200 ? `{"predictions":[${(rand() * 100).toFixed(2)}]}` : '{"error":"model failed"}',
  );
  return {
    id: `seed-${i.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`,
    source: {
      inferenceService: model,
      namespace,
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
    responseTime: t + latencyMs,
    request: { bytes: req, contentType: 'application/json', size: req.byteLength, truncated: false },
    status,
    response: { bytes: res, contentType: 'application/json', size: res.byteLength, truncated: false },
    sampleWeight: 1,
  };
}

function dirBytes(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  for (const f of readdirSync(dir, { recursive: true }) as string[]) {
    if (!f.endsWith('.parquet')) continue;
    bytes += statSync(join(dir, f)).size;
    files++;
  }
  return { bytes, files };
}

export async function runLakeBench(repo: string, tmp: string, o: LakeBenchOptions): Promise<LakeResults> {
  const dist = (p: string): string => pathToFileURL(join(repo, 'dist', p)).href;
  const { createLakeSink } = (await import(dist('sinks/parquet-lake/sink.js'))) as {
    createLakeSink: (url: string, opts: object) => Sink;
  };
  const { encodeRecord } = (await import(dist('formats/jsonl-record.js'))) as {
    encodeRecord: (ex: Exchange) => string;
  };
  const { whereOf } = (await import(
    dist('cli/lake/filter.js')
  )) as typeof import('../../src/cli/lake/filter.js');
  const { VIEW_COLUMNS } = (await import(
    dist('cli/lake/view.js')
  )) as typeof import('../../src/cli/lake/view.js');
  const duck = await import('@duckdb/node-api');

  const dir = join(tmp, 'lake');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const now = Date.now();
  const rand = rng(42);
  const all = Array.from({ length: o.n }, (_, i) => synthetic(i, o.n, now, rand));
  let jsonBytes = 0;
  for (const ex of all) jsonBytes += Buffer.byteLength(encodeRecord(ex)) + 1;

  // One file per partition: group by namespace × model × hour, in time order within each.
  const groups = new Map<string, Exchange[]>();
  for (const ex of all) {
    const k = `${ex.source.namespace}/${ex.source.inferenceService}/${Math.floor(ex.requestTime / 3_600_000)}`;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(ex);
  }
  const sink = createLakeSink(dir, { blob: { layout: 'exchanges', targetBytes: 1 << 30, maxAgeMs: 1000 } });
  await sink.start();
  const signal = new AbortController().signal;
  o.progress(`lake: writing ${o.n.toLocaleString('en')} exchanges as Parquet (${groups.size} files)`);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (const g of groups.values()) await sink.send(g, signal);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await sink.shutdown();
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const stored = dirBytes(dir);

  // Queries: the collector benchmark's, as `query --from` runs them (filter.ts, view.ts).
  const instance = await duck.DuckDBInstance.create(':memory:', { autoload_known_extensions: 'false' });
  const conn = await instance.connect();
  await conn.run(`CREATE VIEW exchanges AS SELECT * FROM read_parquet('${dir}/**/*.parquet')`);
  const last15 = now - 15 * 60_000 - 60_000;
  const lastHour = now - 3_600_000 - 60_000;
  const list = (f: Parameters<typeof whereOf>[0]) => {
    const w = whereOf(f);
    return {
      sql: `SELECT ${VIEW_COLUMNS} FROM exchanges ${w.sql} ORDER BY time DESC, id DESC LIMIT 51`,
      params: w.params,
    };
  };
  const stats = (f: Parameters<typeof whereOf>[0]) => {
    const w = whereOf(f);
    return {
      sql: `SELECT inferenceservice, namespace, count(*) AS n, sum(sample_weight) AS weighted,
                   count(*) FILTER (WHERE status >= 500 OR error_code IS NOT NULL) AS errors,
                   quantile_cont(latency_us, [0.5, 0.95, 0.99]) AS latency
            FROM exchanges ${w.sql} GROUP BY ALL`,
      params: w.params,
    };
  };
  const qs = [
    { name: 'list newest', ...list({}) },
    { name: 'list model + 5xx', ...list({ model: SEED_MODELS[3], status: { kind: 'class', hundreds: 5 } }) },
    { name: 'list model, last 15m', ...list({ model: SEED_MODELS[7], sinceMs: last15 }) },
    {
      name: 'list namespace + 4xx',
      ...list({ namespace: 'team-a', status: { kind: 'class', hundreds: 4 } }),
    },
    { name: 'stats, all (24h)', ...stats({}) },
    { name: 'stats, last hour', ...stats({ sinceMs: lastHour }) },
    { name: 'stats, one model (24h)', ...stats({ model: SEED_MODELS[3] }) },
    { name: 'stats, 5xx only (24h)', ...stats({ status: { kind: 'class', hundreds: 5 } }) },
  ];
  const queries: LakeResults['queries'] = [];
  for (const q of qs) {
    const samples: number[] = [];
    const until = performance.now() + o.queryBudgetS * 1000;
    while (samples.length < o.queryRequests && performance.now() < until) {
      const s = performance.now();
      await conn.runAndReadAll(q.sql, q.params);
      samples.push(performance.now() - s);
    }
    queries.push({ name: q.name, latency: summarise(samples) });
    o.progress(`lake: ${q.name}: p50 ${summarise(samples).p50Ms.toFixed(1)} ms`);
  }
  conn.closeSync();
  instance.closeSync();
  rmSync(dir, { recursive: true, force: true });
  return {
    exchanges: o.n,
    files: stored.files,
    writeSeconds: seconds,
    exchangesPerS: o.n / seconds,
    exchangesPerCoreS: o.n / cpuS,
    parquetBytesPerExchange: stored.bytes / o.n,
    jsonlBytesPerExchange: jsonBytes / o.n,
    queries,
  };
}
