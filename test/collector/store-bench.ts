/**
 * Collector benchmark (not a test): ingest rate and query latency over a large store.
 *
 *   npx tsx test/collector/store-bench.ts [exchanges=1000000] [store=sqlite:/tmp/inferlog-bench.db]
 *
 * 1. store.putEvents in batches of 1000 halves (what the commit queue does under load)
 * 2. HTTP: binary-mode POSTs (64 concurrent) and cloudevents-batch POSTs into a real collector
 * 3. p50/p99 of filtered listings and stats over the filled store, through the HTTP API
 */
import { rmSync } from 'node:fs';
import { request } from 'undici';
import { CE_TYPE_REQUEST, CE_TYPE_RESPONSE } from '../../src/formats/cloudevents-attributes.js';
import type { DecodedEvent } from '../../src/formats/cloudevents-decode.js';
import { halfFromEvent } from '../../src/store/exchange-record.js';
import type { ExchangeHalf } from '../../src/store/exchange-record.js';
import type { Collector } from '../../src/collector/server.js';
import { startCollector } from '../../src/collector/server.js';
import { openStore } from '../../src/store/open-store.js';

const N = Number(process.argv[2] ?? 1_000_000);
const STORE = process.argv[3] ?? 'sqlite:/tmp/inferlog-bench.db';
if (STORE.startsWith('sqlite:'))
  for (const s of ['', '-wal', '-shm']) rmSync(STORE.slice(7) + s, { force: true });

const enc = new TextEncoder();
const now = Date.now();
const WEEK = 7 * 86_400_000;
let seed = 42;
const rnd = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;

function pair(i: number): ExchangeHalf[] {
  // Live traffic arrives roughly in time order: spread over the past week, with jitter.
  const t = now - WEEK + (i / N) * WEEK + rnd() * 5000;
  const latency = Math.exp(2 + rnd() * 2.5);
  const r = rnd();
  const status = r < 0.95 ? 200 : r < 0.98 ? 500 : 404;
  const base = {
    specversion: '1.0',
    id: `bench-${i}`,
    source: 'http://localhost:9081/',
    metadata: {},
    annotations: {},
    datacontenttype: 'application/json',
  };
  const ext = {
    inferenceservicename: `model-${i % 20}`,
    namespace: `ns-${i % 3}`,
    component: 'predictor',
    endpoint: '',
    statuscode: String(status),
  };
  const req: DecodedEvent = {
    ...base,
    type: CE_TYPE_REQUEST,
    time: new Date(t).toISOString(),
    extensions: ext,
    data: enc.encode(`{"instances":[[${i % 97}, 2.5, 3.5, 1.0]]}`),
  };
  const res: DecodedEvent = {
    ...base,
    type: CE_TYPE_RESPONSE,
    time: new Date(t + latency).toISOString(),
    extensions: ext,
    data: enc.encode(`{"predictions":[${i % 3}]}`),
  };
  return [halfFromEvent(req, now), halfFromEvent(res, now)];
}

function pct(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]! * 100) / 100;
}

const store = openStore(STORE);
await store.start();
let t0 = performance.now();
const BATCH = 500; // exchanges per batch = 1000 halves
for (let i = 0; i < N; i += BATCH) {
  const halves: ExchangeHalf[] = [];
  for (let j = i; j < Math.min(N, i + BATCH); j++) halves.push(...pair(j));
  await store.putEvents(halves);
}
let secs = (performance.now() - t0) / 1000;
console.log(
  `store.putEvents: ${N} exchanges (${2 * N} events) in ${secs.toFixed(1)} s = ${Math.round((2 * N) / secs)} events/s`,
);
await store.shutdown();

async function queryLatencies(c: Collector, label: string): Promise<void> {
  console.log(`-- query latency (${label}), 30 runs each, over HTTP`);
  const queries: [string, string][] = [
    ['newest 50', '/api/v1/exchanges'],
    ['model', '/api/v1/exchanges?model=model-7'],
    ['model+5xx', '/api/v1/exchanges?model=model-7&status=5xx'],
    ['namespace+404+since 1h', '/api/v1/exchanges?namespace=ns-1&status=404&since=1h'],
    ['since 24h limit 1000', '/api/v1/exchanges?since=24h&limit=1000'],
    ['page 2 via cursor', ''],
    ['stats 1h', '/api/v1/stats?since=1h'],
    ['stats 24h', '/api/v1/stats?since=24h'],
    ['stats 24h model', '/api/v1/stats?since=24h&model=model-3'],
    ['stats 7d', '/api/v1/stats?since=7d'],
    ['follow since 10m', '/api/v1/exchanges?follow=true&since=10m&limit=1000'],
    ['status 5xx', '/api/v1/exchanges?status=5xx'],
    ['q (common text)', '/api/v1/exchanges?q=predictions'],
  ];
  const first = (await (await fetch(c.url + '/api/v1/exchanges?model=model-7&limit=100')).json()) as {
    nextCursor: string;
  };
  queries[5]![1] = `/api/v1/exchanges?model=model-7&limit=100&cursor=${first.nextCursor}`;
  for (const [name, path] of queries) {
    const times: number[] = [];
    for (let k = 0; k < 30; k++) {
      const s = performance.now();
      const res = await fetch(c.url + path);
      await res.arrayBuffer();
      times.push(performance.now() - s);
    }
    console.log(`${name.padEnd(26)} p50 ${pct(times, 0.5)} ms  p99 ${pct(times, 0.99)} ms`);
  }
}

const c = await startCollector({
  store: openStore(STORE),
  port: 0,
  log: { debug() {}, info() {}, warn() {}, error() {} },
});

await queryLatencies(c, `${N} exchanges over 7 days`);

// HTTP binary mode, one event per request, 64 in flight.
const HTTP_N = 20_000;
t0 = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: 64 }, async () => {
    while (next < HTTP_N) {
      const i = next++;
      const res = await request(c.url + '/', {
        method: 'POST',
        headers: {
          'ce-specversion': '1.0',
          'ce-id': `http-${i}`,
          'ce-type': CE_TYPE_REQUEST,
          'ce-source': 'bench',
          'ce-time': new Date().toISOString(),
          'ce-inferenceservicename': 'http-model',
          'content-type': 'application/json',
        },
        body: `{"instances":[[${i}]]}`,
      });
      await res.body.arrayBuffer();
      if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`);
    }
  }),
);
secs = (performance.now() - t0) / 1000;
console.log(
  `HTTP binary mode, 64 concurrent: ${HTTP_N} events in ${secs.toFixed(1)} s = ${Math.round(HTTP_N / secs)} events/s`,
);

// HTTP batched mode: 100 events per request, 8 in flight.
const BATCHES = 400;
t0 = performance.now();
let nb = 0;
await Promise.all(
  Array.from({ length: 8 }, async () => {
    while (nb < BATCHES) {
      const b = nb++;
      const events = Array.from({ length: 100 }, (_, k) => ({
        specversion: '1.0',
        id: `batch-${b}-${k}`,
        type: CE_TYPE_REQUEST,
        source: 'bench',
        time: new Date().toISOString(),
        inferenceservicename: 'batch-model',
        datacontenttype: 'application/json',
        data: { instances: [[b, k]] },
      }));
      const res = await fetch(c.url + '/', {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents-batch+json' },
        body: JSON.stringify(events),
      });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
    }
  }),
);
secs = (performance.now() - t0) / 1000;
console.log(
  `HTTP batch mode (100/request, 8 concurrent): ${BATCHES * 100} events in ${secs.toFixed(1)} s = ${Math.round((BATCHES * 100) / secs)} events/s`,
);

await queryLatencies(c, 'after the HTTP phases: +60,000 in the last minute');
await c.close();
