// What a CloudEvents consumer receives from the http sink: KServe's agent's wire format, byte for byte.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Exchange } from '../../src/core/exchange.js';
import { createHttpSink } from '../../src/sinks/http/sink.js';
import type { Sink } from '../../src/sinks/sink.js';
import {
  KSERVE_REQUEST_HEADERS,
  KSERVE_RESPONSE_HEADERS,
  REQUEST_BODY,
  REQUEST_TIME_PREFIX,
  RESPONSE_BODY,
  RESPONSE_TIME_PREFIX,
  RFC3339_NANO,
  scenarioExchange,
} from './kserve-scenario.js';
import { sinkOptions, startRecorder, type Received, type Recorder } from './recorder.js';

const PNG = Buffer.from([
  0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0xff, 0xfe,
  0x00, 0x80,
]);

let rec: Recorder;
let sink: Sink;
const signal = new AbortController().signal;

beforeAll(async () => {
  rec = await startRecorder();
  sink = createHttpSink(new URL(rec.url), sinkOptions());
  await sink.start();
});
afterAll(async () => {
  await sink.shutdown();
  await rec.close();
});
afterEach(() => {
  rec.received.length = 0;
});

const type = (r: Received): string | undefined => rec.header(r, 'Ce-Type')?.split('.').pop();
/** Events arrive concurrently: put them back in request, response order. */
const ordered = (): Received[] =>
  [...rec.received].sort((a, b) => (type(a) ?? '').localeCompare(type(b) ?? ''));

describe('http sink, per-event binary mode', () => {
  it('sends the wire-examples.txt scenario as KServe does: same header names, casing, values and body bytes', async () => {
    await sink.send([scenarioExchange()], signal);
    const [req, res] = ordered();
    for (const [ev, expected, body, time] of [
      [req, KSERVE_REQUEST_HEADERS, REQUEST_BODY, REQUEST_TIME_PREFIX],
      [res, KSERVE_RESPONSE_HEADERS, RESPONSE_BODY, RESPONSE_TIME_PREFIX],
    ] as const) {
      expect(ev?.method).toBe('POST');
      expect(ev?.url).toBe('/');
      const wire = new Map(ev?.rawHeaders);
      // Exact names as on the wire (case-sensitive lookup) and exact values.
      for (const [name, value] of expected) expect([name, wire.get(name)]).toEqual([name, value]);
      expect(wire.get('Ce-Time')?.startsWith(time)).toBe(true);
      expect(wire.get('Ce-Recordedtime')).toMatch(RFC3339_NANO);
      expect(rec.header(ev as Received, 'content-length')).toBe(String(Buffer.byteLength(body)));
      expect(ev?.body.toString('utf8')).toBe(body);
    }
  });

  it('sends a binary body raw, with the request Content-Type on both events', async () => {
    const ex = scenarioExchange({
      request: { bytes: PNG, contentType: 'application/octet-stream', size: PNG.length, truncated: false },
    });
    await sink.send([ex], signal);
    const [req, res] = ordered();
    expect(req?.body.equals(PNG)).toBe(true);
    expect(rec.header(req as Received, 'Content-Type')).toBe('application/octet-stream');
    expect(rec.header(res as Received, 'Content-Type')).toBe('application/octet-stream');
    expect(rec.header(res as Received, 'Ce-Responsecontenttype')).toBe('application/json');
  });

  it.each([
    ['request', ['request']],
    ['response', ['response']],
    ['all', ['request', 'response']],
  ] as const)('mode %s sends the %j events, sharing one Ce-Id', async (mode, types) => {
    await sink.send([scenarioExchange({ mode, id: `id-${mode}` })], signal);
    expect(ordered().map(type)).toEqual(types);
    expect(new Set(rec.received.map((r) => rec.header(r, 'Ce-Id')))).toEqual(new Set([`id-${mode}`]));
  });

  it('keeps every KServe header when empty, and sends no body and no Content-Type when there are none', async () => {
    const ex = scenarioExchange({
      method: 'GET',
      metadata: {},
      source: {
        inferenceService: '',
        namespace: '',
        component: '',
        endpoint: '',
        sourceUri: 'http://localhost:9081/',
        annotations: {},
      },
      request: { bytes: new Uint8Array(0), size: 0, truncated: false },
    });
    await sink.send([ex], signal);
    const [req] = ordered();
    const wire = new Map(req?.rawHeaders);
    for (const k of ['Ce-Inferenceservicename', 'Ce-Namespace', 'Ce-Component', 'Ce-Endpoint'])
      expect([k, wire.get(k)]).toEqual([k, '']);
    expect(wire.get('Ce-Metadata')).toBe('{}');
    expect(wire.has('Ce-Annotations')).toBe(false);
    expect(wire.has('Content-Type')).toBe(false);
    expect(rec.header(req as Received, 'content-length')).toBe('0');
    expect(req?.body.length).toBe(0);
  });

  it('puts non-ASCII metadata on the wire as the bytes the client sent, like Go', async () => {
    // What Node's parser makes of a client's UTF-8 header "zoë": one latin1 char per byte.
    const fromNode = Buffer.from('zoë', 'utf8').toString('latin1');
    await sink.send([scenarioExchange({ mode: 'request', metadata: { 'X-User': [fromNode] } })], signal);
    const raw = rec.header(rec.received[0] as Received, 'Ce-Metadata') as string;
    expect(Buffer.from(raw, 'latin1').toString('utf8')).toBe('{"X-User":["zoë"]}');
  });

  it('delivers a batch of exchanges, every event once', async () => {
    const batch: Exchange[] = Array.from({ length: 20 }, (_, i) => scenarioExchange({ id: `ex-${i}` }));
    await sink.send(batch, signal);
    expect(rec.received.length).toBe(40);
    expect(
      new Set(rec.received.map((r) => `${rec.header(r, 'Ce-Id') as string}/${type(r) as string}`)).size,
    ).toBe(40);
  });

  it('on a retry of the same batch resends only the events that failed', async () => {
    let failNextResponse = true;
    rec.reply((r, res) => {
      if (type(r) === 'response' && failNextResponse) {
        failNextResponse = false;
        res.writeHead(500).end('boom');
        return;
      }
      res.writeHead(200).end();
    });
    const batch = [scenarioExchange({ id: 'retry-me' })];
    await expect(sink.send(batch, signal)).rejects.toMatchObject({ code: 'SINK_SERVER_ERROR' });
    await sink.send(batch, signal);
    expect(rec.received.map(type).sort()).toEqual(['request', 'response', 'response']);
    rec.reply((_r, res) => res.writeHead(202).end());
  });
});

describe('http sink, batched mode (batchSize > 1)', () => {
  it('POSTs one application/cloudevents-batch+json array holding every event of the batch', async () => {
    const batched = createHttpSink(
      new URL(rec.url + 'batch?x=1'),
      sinkOptions({ batchSize: 10, batchIntervalMs: 50 }),
    );
    expect(batched.maxBatch).toBe(10);
    await batched.start();
    const png = scenarioExchange({
      id: 'png',
      mode: 'request',
      request: { bytes: PNG, contentType: 'image/png', size: PNG.length, truncated: false },
    });
    await batched.send([scenarioExchange({ id: 'a' }), png], signal);
    await batched.shutdown();
    expect(rec.received.length).toBe(1);
    const post = rec.received[0] as Received;
    expect(post.url).toBe('/batch?x=1');
    expect(rec.header(post, 'Content-Type')).toBe('application/cloudevents-batch+json');
    const events = JSON.parse(post.body.toString('utf8')) as Array<Record<string, unknown>>;
    expect(events.map((e) => [e.id, e.type])).toEqual([
      ['a', 'org.kubeflow.serving.inference.request'],
      ['a', 'org.kubeflow.serving.inference.response'],
      ['png', 'org.kubeflow.serving.inference.request'],
    ]);
    expect(events[1]).toMatchObject({ specversion: '1.0', statuscode: 200, data: { predictions: [1, 1] } });
    expect(Buffer.from(events[2]?.data_base64 as string, 'base64').equals(PNG)).toBe(true);
  });
});
