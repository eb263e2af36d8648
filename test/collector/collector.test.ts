/**
 * The collector over real HTTP on 127.0.0.1 with a real SQLite file: what a KServe agent,
 * a curl user and the web UI see.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Collector } from '../../src/collector/server.js';
import { startCollector } from '../../src/collector/server.js';
import { createSqliteStore } from '../../src/store/sqlite-store.js';
import { testPair } from '../../src/store/store.contract.js';
import type { ExchangeView } from '../../src/api/view.js';

const dir = mkdtempSync(join(tmpdir(), 'inferlog-collector-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

async function collector(
  opts: { maxBodyBytes?: number; retentionMs?: number; uiDir?: string; db?: string } = {},
): Promise<Collector> {
  return startCollector({
    store: createSqliteStore(opts.db ?? join(dir, `c${n++}.db`)),
    port: 0,
    log: quiet,
    uiDir: opts.uiDir ?? join(dir, 'no-ui'),
    ...opts,
  });
}

/** The two events of one exchange, byte for byte as KServe's agent (v0.20) writes them. */
const WIRE_REQUEST = [
  'POST / HTTP/1.1',
  'Host: message-dumper.default.svc.cluster.local',
  'User-Agent: Go-http-client/1.1',
  'Content-Length: 59',
  'Ce-Annotations: {"team.example.com/owner":"ml-platform"}',
  'Ce-Component: predictor',
  'Ce-Endpoint: ',
  'Ce-Id: 0c1d9e6a-5f0b-4d57-8a0e-6b1f2e3c4d5a',
  'Ce-Inferenceservicename: sklearn-iris',
  'Ce-Metadata: {"X-Request-Id":["7f3c2a1e-0b6d-4a3e-9c1f-2d5e8b7a6c40"]}',
  'Ce-Namespace: default',
  'Ce-Recordedtime: 2026-08-21T10:15:30.004210877Z',
  'Ce-Source: http://localhost:9081/',
  'Ce-Specversion: 1.0',
  'Ce-Time: 2026-08-21T10:15:30.001873512Z',
  'Ce-Type: org.kubeflow.serving.inference.request',
  'Content-Type: application/json',
  'Accept-Encoding: gzip',
  '',
  '{"instances": [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]}',
].join('\r\n');
const WIRE_RESPONSE = [
  'POST / HTTP/1.1',
  'Host: message-dumper.default.svc.cluster.local',
  'User-Agent: Go-http-client/1.1',
  'Content-Length: 21',
  'Ce-Annotations: {"team.example.com/owner":"ml-platform"}',
  'Ce-Component: predictor',
  'Ce-Endpoint: ',
  'Ce-Id: 0c1d9e6a-5f0b-4d57-8a0e-6b1f2e3c4d5a',
  'Ce-Inferenceservicename: sklearn-iris',
  'Ce-Metadata: {"X-Request-Id":["7f3c2a1e-0b6d-4a3e-9c1f-2d5e8b7a6c40"]}',
  'Ce-Namespace: default',
  'Ce-Recordedtime: 2026-08-21T10:15:30.013377101Z',
  'Ce-Source: http://localhost:9081/',
  'Ce-Specversion: 1.0',
  'Ce-Time: 2026-08-21T10:15:30.012904330Z',
  'Ce-Type: org.kubeflow.serving.inference.response',
  'Content-Type: application/json',
  'Accept-Encoding: gzip',
  '',
  '{"predictions":[1,1]}',
].join('\r\n');

/** Sends raw HTTP/1.1 bytes (exact header casing and order) and returns the status code. */
function rawPost(port: number, raw: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(raw));
    let got = '';
    s.on('data', (d) => {
      got += d.toString();
      const m = /^HTTP\/1\.1 (\d{3})/.exec(got);
      if (m && got.includes('\r\n\r\n')) {
        s.destroy();
        resolve(Number(m[1]));
      }
    });
    s.on('error', reject);
  });
}

const ceHeaders = (
  id: string,
  kind: 'request' | 'response',
  extra: Record<string, string> = {},
): Record<string, string> => ({
  'ce-specversion': '1.0',
  'ce-id': id,
  'ce-type': `org.kubeflow.serving.inference.${kind}`,
  'ce-source': 'http://localhost:9081/',
  'ce-time': new Date().toISOString(),
  'ce-inferenceservicename': 'iris',
  'ce-namespace': 'default',
  'ce-component': 'predictor',
  ...extra,
});

async function post(
  c: Collector,
  headers: Record<string, string>,
  body?: string | Uint8Array,
): Promise<{
  status: number;
  json: { error?: { code: string; message: string; reason?: string } } & Record<string, unknown>;
}> {
  const res = await fetch(c.url + '/', { method: 'POST', headers, ...(body !== undefined ? { body } : {}) });
  return { status: res.status, json: (await res.json()) as never };
}

async function get<T>(c: Collector, path: string): Promise<{ status: number; body: T }> {
  const res = await fetch(c.url + path);
  return { status: res.status, body: (await res.json()) as T };
}

describe('collector: receiving KServe events', () => {
  let c: Collector;
  beforeAll(async () => {
    c = await collector();
  });
  afterAll(() => c.close());

  it('turns the two wire-example events into one exchange with every field right', async () => {
    expect(await rawPost(c.port, WIRE_REQUEST)).toBe(200);
    expect(await rawPost(c.port, WIRE_RESPONSE)).toBe(200);
    const { status, body } = await get<ExchangeView>(
      c,
      '/api/v1/exchanges/0c1d9e6a-5f0b-4d57-8a0e-6b1f2e3c4d5a',
    );
    expect(status).toBe(200);
    expect(body).toEqual({
      id: '0c1d9e6a-5f0b-4d57-8a0e-6b1f2e3c4d5a',
      key: expect.stringMatching(/^[A-Za-z0-9_-]{32}$/),
      complete: true,
      model: 'sklearn-iris',
      namespace: 'default',
      component: 'predictor',
      endpoint: '',
      source: 'http://localhost:9081/',
      method: null,
      url: null,
      time: '2026-08-21T10:15:30.001873512Z',
      requestTime: '2026-08-21T10:15:30.001873512Z',
      responseTime: '2026-08-21T10:15:30.012904330Z',
      latencyMs: 11.031,
      status: 200,
      errorCode: null,
      sampleWeight: 1,
      metadata: { 'X-Request-Id': ['7f3c2a1e-0b6d-4a3e-9c1f-2d5e8b7a6c40'] },
      annotations: { 'team.example.com/owner': 'ml-platform' },
      request: {
        type: 'org.kubeflow.serving.inference.request',
        contentType: 'application/json',
        size: 59,
        truncated: false,
        originalSize: null,
        sha256: null,
        time: '2026-08-21T10:15:30.001873512Z',
        recordedTime: '2026-08-21T10:15:30.004210877Z',
        body: '{"instances": [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]}',
        bodyEncoding: 'utf8',
      },
      response: {
        type: 'org.kubeflow.serving.inference.response',
        contentType: 'application/json',
        size: 21,
        truncated: false,
        originalSize: null,
        sha256: null,
        time: '2026-08-21T10:15:30.012904330Z',
        recordedTime: '2026-08-21T10:15:30.013377101Z',
        body: '{"predictions":[1,1]}',
        bodyEncoding: 'utf8',
      },
    });
    // A KServe retry (same events again) does not duplicate.
    expect(await rawPost(c.port, WIRE_REQUEST)).toBe(200);
    const list = await get<{ items: ExchangeView[] }>(
      c,
      '/api/v1/exchanges?model=sklearn-iris&since=2026-08-21T00:00:00Z',
    );
    expect(list.body.items.map((i) => i.id)).toEqual(['0c1d9e6a-5f0b-4d57-8a0e-6b1f2e3c4d5a']);
    expect(list.body.items[0]!.requestPreview).toBe(
      '{"instances": [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]}',
    );
  });

  it('stores binary payloads byte-exact and takes inferlog extensions', async () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x01, 0xff]);
    expect(
      (
        await post(
          c,
          ceHeaders('img', 'request', {
            'content-type': 'application/octet-stream',
            'ce-truncated': 'true',
            'ce-originalsize': '70000',
            'ce-sha256': 'ab'.repeat(32),
            'ce-method': 'POST',
            'ce-url': '/v1/models/mnist:predict',
          }),
          png,
        )
      ).status,
    ).toBe(200);
    const res = await post(
      c,
      ceHeaders('img', 'response', {
        'content-type': 'application/octet-stream',
        'ce-responsecontenttype': 'application/json',
        'ce-statuscode': '200',
        'ce-latencyms': '42.5',
        'ce-sampleweight': '4',
      }),
      '{"predictions":[7]}',
    );
    expect(res).toEqual({ status: 200, json: { stored: 1, duplicates: 0 } });
    const { body } = await get<ExchangeView>(c, '/api/v1/exchanges/img');
    expect(body.request).toMatchObject({
      contentType: 'application/octet-stream',
      bodyEncoding: 'base64',
      body: Buffer.from(png).toString('base64'),
      truncated: true,
      originalSize: 70000,
      sha256: 'ab'.repeat(32),
    });
    expect(body.response).toMatchObject({
      contentType: 'application/json',
      body: '{"predictions":[7]}',
      bodyEncoding: 'utf8',
    });
    expect(body).toMatchObject({
      latencyMs: 42.5,
      sampleWeight: 4,
      method: 'POST',
      url: '/v1/models/mnist:predict',
      status: 200,
      complete: true,
    });
  });

  it('takes structured and batched events', async () => {
    const ev = (id: string, kind: string, data: unknown): Record<string, unknown> => ({
      specversion: '1.0',
      id,
      type: `org.kubeflow.serving.inference.${kind}`,
      source: 'pod-a',
      time: new Date().toISOString(),
      datacontenttype: 'application/json',
      inferenceservicename: 'structured-model',
      namespace: 'ns1',
      statuscode: kind === 'response' ? 422 : undefined,
      data,
    });
    expect(
      (
        await post(
          c,
          { 'content-type': 'application/cloudevents+json' },
          JSON.stringify(ev('st1', 'request', { instances: [1] })),
        )
      ).status,
    ).toBe(200);
    const batch = await post(
      c,
      { 'content-type': 'application/cloudevents-batch+json' },
      JSON.stringify([
        ev('st1', 'response', { error: 'bad' }),
        ev('st2', 'request', { instances: [2] }),
        ev('st1', 'request', {}),
      ]),
    );
    expect(batch).toEqual({ status: 200, json: { stored: 2, duplicates: 1 } });
    const st1 = (await get<ExchangeView>(c, '/api/v1/exchanges/st1')).body;
    expect(st1).toMatchObject({
      complete: true,
      status: 422,
      source: 'pod-a',
      model: 'structured-model',
      namespace: 'ns1',
    });
    expect(st1.request!.body).toBe('{"instances":[1]}');
    const st2 = (await get<ExchangeView>(c, '/api/v1/exchanges/st2')).body;
    expect(st2).toMatchObject({ complete: false, status: null, response: null });
    const incomplete = await get<{ items: ExchangeView[] }>(
      c,
      '/api/v1/exchanges?status=incomplete&namespace=ns1',
    );
    expect(incomplete.body.items.map((i) => i.id)).toEqual(['st2']);
  });

  it('answers junk with a 4xx and a reason, and stays up', async () => {
    const cases: [Record<string, string>, string | Uint8Array, number, string][] = [
      [{}, 'hello', 400, 'missing_attribute'],
      [{ 'content-type': 'application/cloudevents+json' }, '{"id": "x",', 400, 'bad_json'],
      [
        { 'content-type': 'application/cloudevents+json' },
        '{"specversion":"1.0","type":"t","source":"s"}',
        400,
        'missing_attribute',
      ],
      [
        ceHeaders('bad-meta', 'request', { 'ce-metadata': '{"X-Request-Id":"not-a-list"}' }),
        '{}',
        400,
        'bad_metadata',
      ],
      [
        { 'content-type': 'application/cloudevents+protobuf' },
        new Uint8Array([1, 2, 3]),
        415,
        'unsupported_format',
      ],
      [
        { 'content-type': 'application/cloudevents-batch+json' },
        new Uint8Array([0xff, 0x00, 0xfe]),
        400,
        'bad_json',
      ],
    ];
    for (const [headers, body, status, reason] of cases) {
      const r = await post(c, headers, body);
      expect(r.status, JSON.stringify(r.json)).toBe(status);
      expect(r.json.error).toMatchObject({ code: 'EVENT_INVALID', reason });
      expect(r.json.error!.message.length).toBeGreaterThan(10);
    }
    expect((await get<{ status: string }>(c, '/healthz')).body.status).toBe('ok');
    const metrics = await (await fetch(c.url + '/metrics')).text();
    expect(metrics).toMatch(/inferlog_collector_events_rejected_total\{reason="bad_json"\} 2/);
    expect(metrics).toMatch(/inferlog_collector_events_duplicate_total [1-9]/);
    expect(metrics).toMatch(/inferlog_collector_store_commit_seconds_count [1-9]/);
  });

  it('takes an event without Content-Type (client sent none) and a chunked body', async () => {
    const head =
      'POST / HTTP/1.1\r\nHost: x\r\nCe-Type: org.kubeflow.serving.inference.request\r\nCe-Source: s\r\nCe-Specversion: 1.0\r\n';
    expect(await rawPost(c.port, `${head}Ce-Id: no-ct\r\nContent-Length: 5\r\n\r\nhello`)).toBe(200);
    expect(
      await rawPost(
        c.port,
        `${head}Ce-Id: chunked\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n`,
      ),
    ).toBe(200);
    const noCt = (await get<ExchangeView>(c, '/api/v1/exchanges/no-ct')).body;
    expect(noCt.request).toMatchObject({ contentType: null, body: 'hello', size: 5 });
    expect((await get<ExchangeView>(c, '/api/v1/exchanges/chunked')).body.request).toMatchObject({
      body: 'abcde',
    });
  });

  it('accepts a logger.url with a path', async () => {
    const res = await fetch(c.url + '/kserve/events', {
      method: 'POST',
      headers: ceHeaders('pathy', 'request'),
      body: '{}',
    });
    expect(res.status).toBe(200);
    expect((await get(c, '/api/v1/exchanges/pathy')).status).toBe(200);
  });
});

describe('collector: limits', () => {
  it('answers 413 over --max-body-bytes and still takes smaller events', async () => {
    const c = await collector({ maxBodyBytes: 1024 });
    try {
      const big = await post(c, ceHeaders('big', 'request'), 'x'.repeat(2048));
      expect(big.status).toBe(413);
      expect(big.json.error?.code).toBe('PAYLOAD_TOO_LARGE');
      expect((await post(c, ceHeaders('small', 'request'), 'x'.repeat(100))).status).toBe(200);
    } finally {
      await c.close();
    }
  });
  it('decodes a big batch in slices, still all or nothing, naming the bad event by its place in the batch', async () => {
    const c = await collector();
    try {
      const event = (i: number): Record<string, unknown> => ({
        specversion: '1.0',
        id: `slice-${i}`,
        type: 'org.kubeflow.serving.inference.request',
        source: 'x',
        inferenceservicename: 'iris',
        data: { i },
      });
      const batch = Array.from({ length: 1800 }, (_, i) => event(i));
      delete batch[1234]!.source;
      const headers = { 'content-type': 'application/cloudevents-batch+json' };
      const bad = await post(c, headers, JSON.stringify(batch));
      expect(bad.status).toBe(400);
      expect(bad.json.error).toMatchObject({ code: 'EVENT_INVALID', reason: 'missing_attribute' });
      expect(bad.json.error!.message).toBe('batch[1234]: missing required attribute "source"');
      expect((await get(c, '/api/v1/exchanges/slice-0')).status).toBe(404);
      batch[1234] = event(1234);
      expect((await post(c, headers, JSON.stringify(batch))).json).toEqual({ stored: 1800, duplicates: 0 });
      const last = await get<ExchangeView>(c, '/api/v1/exchanges/slice-1799');
      expect(last.status).toBe(200);
      expect((await post(c, headers, JSON.stringify(batch))).json).toEqual({ stored: 0, duplicates: 1800 });
    } finally {
      await c.close();
    }
  });
});

describe('collector: store failures', () => {
  it('answers 503 STORE_UNAVAILABLE when the store cannot commit, so the sender retries', async () => {
    const store = createSqliteStore(join(dir, 'failing.db'));
    const c = await startCollector({ store, port: 0, log: quiet, uiDir: join(dir, 'no-ui') });
    try {
      await store.shutdown(); // the database goes away under the collector
      const r = await post(c, ceHeaders('lost', 'request'), '{}');
      expect(r.status).toBe(503);
      expect(r.json.error?.code).toBe('STORE_UNAVAILABLE');
      expect((await fetch(c.url + '/healthz')).status).toBe(200);
    } finally {
      await c.close();
    }
  });
});

describe('collector: query API', () => {
  let c: Collector;
  const now = Date.now();
  beforeAll(async () => {
    c = await collector();
    // 30 exchanges over the last 30 minutes, then assorted statuses.
    for (let i = 0; i < 30; i++) {
      const t = new Date(now - (30 - i) * 60_000).toISOString();
      await post(
        c,
        ceHeaders(`q${i}`, 'request', { 'ce-time': t, 'content-type': 'application/json' }),
        JSON.stringify({ instances: [i], tag: i === 7 ? 'needle' : 'hay' }),
      );
      await post(
        c,
        ceHeaders(`q${i}`, 'response', {
          'ce-time': new Date(now - (30 - i) * 60_000 + 5 + i).toISOString(),
          'ce-statuscode': i % 10 === 0 ? '500' : '200',
          'ce-sampleweight': '2',
        }),
        '{"predictions":[1]}',
      );
    }
  });
  afterAll(() => c.close());

  it('filters and pages with a cursor', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { body: { items: ExchangeView[]; nextCursor: string | null } } = await get(
        c,
        `/api/v1/exchanges?since=1h&limit=7${cursor ? `&cursor=${cursor}` : ''}`,
      );
      seen.push(...res.body.items.map((i) => i.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => `q${29 - i}`));
    expect(
      (await get<{ items: ExchangeView[] }>(c, '/api/v1/exchanges?status=5xx')).body.items.map((i) => i.id),
    ).toEqual(['q20', 'q10', 'q0']);
    expect(
      (await get<{ items: ExchangeView[] }>(c, '/api/v1/exchanges?q=NEEDLE')).body.items.map((i) => i.id),
    ).toEqual(['q7']);
    expect(
      (await get<{ items: ExchangeView[] }>(c, '/api/v1/exchanges?since=10m&status=200')).body.items.map(
        (i) => i.id,
      ),
    ).toEqual(['q29', 'q28', 'q27', 'q26', 'q25', 'q24', 'q23', 'q22', 'q21']);
    const until = new Date(now - 25 * 60_000 + 1).toISOString();
    expect(
      (await get<{ items: ExchangeView[] }>(c, `/api/v1/exchanges?until=${until}&limit=2`)).body.items.map(
        (i) => i.id,
      ),
    ).toEqual(['q5', 'q4']);
  });

  it('rejects bad parameters with the parameter and a reason', async () => {
    const bad: [string, string][] = [
      ['limit=0', 'limit'],
      ['limit=5000', 'limit'],
      ['since=yesterday', 'since'],
      ['status=teapot', 'status'],
      ['cursor=garbage', 'cursor'],
      ['frobnicate=1', 'frobnicate'],
      ['model=a&model=b', 'model'],
    ];
    for (const [qs, parameter] of bad) {
      const r = await get<{ error: { code: string; parameter: string; message: string } }>(
        c,
        `/api/v1/exchanges?${qs}`,
      );
      expect(r.status, qs).toBe(400);
      expect(r.body.error).toMatchObject({ code: 'QUERY_INVALID', parameter });
    }
    expect((await get<{ error: { code: string } }>(c, '/api/v1/exchanges/does-not-exist')).status).toBe(404);
    expect(
      (await get<{ error: { parameter: string } }>(c, '/api/v1/stats?since=5m&until=10m')).body.error
        .parameter,
    ).toBe('until');
  });

  it('reports stats with weighted estimates and latency percentiles', async () => {
    const { body } = await get<{
      total: { count: number; weightedCount: number; latencyMs: { p50: number; p99: number } };
      byModel: { model: string; byStatus: { status: string; count: number; weightedCount: number }[] }[];
    }>(c, '/api/v1/stats?since=1h&model=iris');
    expect(body.total).toMatchObject({ count: 30, weightedCount: 60 });
    expect(body.byModel[0]!.byStatus).toEqual([
      { status: '200', count: 27, weightedCount: 54 },
      { status: '5xx', count: 3, weightedCount: 6 },
    ]);
    // Latencies 5..34 ms.
    expect(body.total.latencyMs.p50).toBeGreaterThan(19 * 0.95);
    expect(body.total.latencyMs.p50).toBeLessThan(20 * 1.05);
    expect(body.total.latencyMs.p99).toBeLessThan(34 * 1.05);
    const recent = await get<{ total: { count: number } }>(c, '/api/v1/stats?since=5m');
    expect(recent.body.total.count).toBe(4);
  });

  it('follows new exchanges from the current end', async () => {
    const start = await get<{ items: ExchangeView[]; nextCursor: string }>(
      c,
      '/api/v1/exchanges?follow=true',
    );
    expect(start.body.items).toEqual([]);
    await post(c, ceHeaders('fresh', 'request'), '{"instances":[9]}');
    const next = await get<{ items: ExchangeView[]; nextCursor: string }>(
      c,
      `/api/v1/exchanges?follow=true&cursor=${start.body.nextCursor}`,
    );
    expect(next.body.items.map((i) => i.id)).toEqual(['fresh']);
    const bad = await get<{ error: { parameter: string } }>(
      c,
      `/api/v1/exchanges?cursor=${start.body.nextCursor}`,
    );
    expect(bad.body.error.parameter).toBe('cursor');
  });
});

describe('collector: retention and UI', () => {
  it('deletes exchanges older than the retention at start', async () => {
    const db = join(dir, 'retention.db');
    const store = createSqliteStore(db);
    await store.start();
    await store.putEvents(testPair('ancient', 0)); // 2026-08-21
    await store.shutdown();
    const c = await collector({ db, retentionMs: 24 * 3_600_000 });
    try {
      expect((await post(c, ceHeaders('today', 'request'), '{}')).status).toBe(200);
      expect((await get(c, '/api/v1/exchanges/ancient')).status).toBe(404);
      expect((await get(c, '/api/v1/exchanges/today')).status).toBe(200);
    } finally {
      await c.close();
    }
  });

  it('serves the UI folder with content types, and the API next to it', async () => {
    const ui = join(dir, 'ui');
    rmSync(ui, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(ui));
    writeFileSync(join(ui, 'index.html'), '<!doctype html><title>inferlog</title>');
    writeFileSync(join(ui, 'app.js'), 'console.log(1)');
    const c = await collector({ uiDir: ui });
    try {
      const index = await fetch(c.url + '/');
      expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await index.text()).toContain('<title>inferlog</title>');
      expect((await fetch(c.url + '/app.js')).headers.get('content-type')).toBe(
        'text/javascript; charset=utf-8',
      );
      expect((await fetch(c.url + '/exchanges/abc')).headers.get('content-type')).toBe(
        'text/html; charset=utf-8',
      );
      expect((await fetch(c.url + '/missing.css')).status).toBe(404);
      expect((await fetch(c.url + '/..%2f..%2fpackage.json')).status).toBe(404);
      expect((await fetch(c.url + '/api/v1/nope')).status).toBe(404);
      expect((await fetch(c.url + '/healthz')).status).toBe(200);
    } finally {
      await c.close();
    }
  });
});

describe('collector: security response headers', () => {
  /** Issue 16 item 10: without these, another origin could frame the UI or sniff an API answer. */
  const EXPECTED = {
    'content-security-policy':
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
  };

  it('sends them on every response: UI, static files, API, metrics, health, errors and 404s', async () => {
    const ui = join(dir, 'ui-headers');
    rmSync(ui, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(ui));
    writeFileSync(join(ui, 'index.html'), '<!doctype html><title>inferlog</title>');
    writeFileSync(join(ui, 'app.js'), 'console.log(1)');
    const c = await collector({ uiDir: ui, maxBodyBytes: 4096 });
    try {
      const cases: [string, RequestInit, number][] = [
        ['/', {}, 200],
        ['/app.js', {}, 200],
        ['/exchanges/abc', {}, 200],
        ['/missing.css', {}, 404],
        ['/api/v1/exchanges', {}, 200],
        ['/api/v1/exchanges?limit=0', {}, 400],
        ['/api/v1/exchanges/nope', {}, 404],
        ['/api/v1/stats', {}, 200],
        ['/api/v1/nope', {}, 404],
        ['/metrics', {}, 200],
        ['/healthz', {}, 200],
        ['/', { method: 'POST', headers: ceHeaders('sec-1', 'request'), body: '{}' }, 200],
        ['/', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }, 400],
        ['/', { method: 'POST', headers: ceHeaders('sec-2', 'request'), body: 'x'.repeat(5000) }, 413],
        ['/', { method: 'DELETE' }, 404],
      ];
      for (const [path, init, status] of cases) {
        const res = await fetch(c.url + path, init);
        await res.arrayBuffer();
        const what = `${init.method ?? 'GET'} ${path}`;
        expect(res.status, what).toBe(status);
        for (const [name, value] of Object.entries(EXPECTED))
          expect(res.headers.get(name), `${what} ${name}`).toBe(value);
      }
    } finally {
      await c.close();
    }
  });

  it('sends them without a UI folder too', async () => {
    const c = await collector();
    try {
      for (const path of ['/', '/healthz', '/nope']) {
        const res = await fetch(c.url + path);
        await res.arrayBuffer();
        for (const [name, value] of Object.entries(EXPECTED))
          expect(res.headers.get(name), `${path} ${name}`).toBe(value);
      }
    } finally {
      await c.close();
    }
  });
});
