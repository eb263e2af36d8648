/**
 * Fills a SQLite store with synthetic exchanges for the query benchmark, through the
 * store's own putEvents (the same merge and indexes the collector uses), in large batches.
 *
 *   synthetic request+response halves ──putEvents(10,000 halves = one transaction)──▶ sqlite file
 *
 * Shape: 10 models × 2 namespaces, ~95% 200 / 3% 5xx / 2% 4xx, log-normal-ish latencies,
 * times spread evenly over the 24 hours before seeding (1M exchanges a day ≈ 12 req/s): a stats
 * query over the whole range covers all of them, the default last-hour window ~1/24 of them.
 */
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { exchangeKey, type ExchangeHalf } from '../../src/store/exchange-record.js';
import type { ExchangeStore } from '../../src/store/store.js';

export const SEED_MODELS = Array.from({ length: 10 }, (_, i) => `model-${i}`);
const REQ_TYPE = 'org.kubeflow.serving.inference.request';
const RES_TYPE = 'org.kubeflow.serving.inference.response';

export async function openSqliteStore(repo: string, dbPath: string): Promise<ExchangeStore> {
  const mod = (await import(pathToFileURL(join(repo, 'dist/store/sqlite-store.js')).href)) as {
    createSqliteStore: (path: string) => ExchangeStore;
  };
  const store = mod.createSqliteStore(dbPath);
  await store.start();
  return store;
}

/** Deterministic pseudo-random numbers (mulberry32), so every run seeds the same data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const SEED_SPAN_MS = 24 * 3_600_000;

function halves(i: number, count: number, now: number, rand: () => number): [ExchangeHalf, ExchangeHalf] {
  const id = `seed-${i.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`;
  const model = SEED_MODELS[i % SEED_MODELS.length] as string;
  const namespace = i % 2 ? 'team-a' : 'team-b';
  const r = rand();
  const status = r < 0.03 ? 500 : r < 0.05 ? 400 : 200;
  const latencyMs = Math.round(Math.exp(1 + rand() * 3) * 1000) / 1000;
  const t = now - SEED_SPAN_MS + (i / count) * (SEED_SPAN_MS - 60_000) + rand() * 1000;
  const reqBody = Buffer.from(
    `{"instances":[${(rand() * 10).toFixed(3)},${(rand() * 10).toFixed(3)},${i % 97}]}`,
  );
  const resBody = Buffer.from(
    status === 200 ? `{"predictions":[${(rand() * 100).toFixed(2)}]}` : '{"error":"model failed"}',
  );
  const common = {
    key: exchangeKey({ id, source: 'http://localhost:9081/', namespace, model, component: 'predictor' }),
    id,
    model,
    namespace,
    component: 'predictor',
    endpoint: '',
    source: 'http://localhost:9081/',
    method: 'POST',
    url: `/v1/models/${model}:predict`,
    metadata: {},
    annotations: {},
    statusCode: status,
    latencyMs,
    sampleWeight: 1,
    errorCode: null,
    responseContentType: null,
  };
  const meta = (type: string, body: Buffer, time: number) => ({
    type,
    contentType: 'application/json',
    size: body.byteLength,
    truncated: false,
    originalSize: null,
    sha256: null,
    time: new Date(time).toISOString(),
    recordedTime: null,
  });
  return [
    { ...common, kind: 'request', timeMs: t, body: reqBody, meta: meta(REQ_TYPE, reqBody, t) },
    {
      ...common,
      kind: 'response',
      timeMs: t + latencyMs,
      body: resBody,
      meta: meta(RES_TYPE, resBody, t + latencyMs),
      responseContentType: 'application/json',
    },
  ];
}

export interface SeedRange {
  fromMs: number;
  toMs: number;
}

export async function seedStore(
  store: ExchangeStore,
  count: number,
  onProgress: (done: number) => void,
): Promise<SeedRange> {
  const rand = rng(42);
  const now = Date.now();
  const perBatch = 5000;
  for (let start = 0; start < count; start += perBatch) {
    const batch: ExchangeHalf[] = [];
    for (let i = start; i < Math.min(count, start + perBatch); i++)
      batch.push(...halves(i, count, now, rand));
    await store.putEvents(batch);
    const done = Math.min(count, start + perBatch);
    if ((start / perBatch) % 20 === 19 || done === count) onProgress(done);
  }
  return { fromMs: now - SEED_SPAN_MS, toMs: now };
}
