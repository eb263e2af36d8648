import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Exchange } from '../core/exchange.js';
import {
  KSERVE_REQUEST_HEADERS,
  KSERVE_RESPONSE_HEADERS,
  REQUEST_TIME_PREFIX,
  RESPONSE_TIME_PREFIX,
  RFC3339_NANO,
  scenarioExchange,
} from '../../test/sinks-http/kserve-scenario.js';
import { arbExchange } from '../../test/support/arb-exchange.js';
import { rfc3339Nano } from '../core/time.js';
import {
  encodeBatch,
  encodeBinary,
  encodeStructured,
  eventTime,
  goJson,
  MAX_METADATA_HEADER_BYTES,
  STREAMINFO_TEXT_MAX,
  type BinaryEvent,
} from './cloudevents.js';

const enc = new TextEncoder();

function headerMap(ev: BinaryEvent): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i < ev.headers.length; i += 2) m.set(ev.headers[i] as string, ev.headers[i + 1] as string);
  return m;
}

describe('binary encoding: the wire-examples.txt scenario', () => {
  const [req, res] = encodeBinary(scenarioExchange());

  it('yields a request event then a response event with KServe headers, names and values exact', () => {
    expect(req?.half).toBe('request');
    expect(res?.half).toBe('response');
    const rh = headerMap(req as BinaryEvent);
    for (const [k, v] of KSERVE_REQUEST_HEADERS) expect([k, rh.get(k)]).toEqual([k, v]);
    const sh = headerMap(res as BinaryEvent);
    for (const [k, v] of KSERVE_RESPONSE_HEADERS) expect([k, sh.get(k)]).toEqual([k, v]);
    expect(rh.get('Ce-Time')?.startsWith(REQUEST_TIME_PREFIX)).toBe(true);
    expect(sh.get('Ce-Time')?.startsWith(RESPONSE_TIME_PREFIX)).toBe(true);
    expect(rh.get('Ce-Recordedtime')).toMatch(RFC3339_NANO);
  });

  it('carries the raw body bytes', () => {
    expect(Buffer.from(req?.body as Uint8Array).toString()).toBe(
      '{"instances": [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]}',
    );
    expect(Buffer.from(res?.body as Uint8Array).toString()).toBe('{"predictions":[1,1]}');
  });

  it('adds only documented extensions, and writes headers sorted by name like Go', () => {
    const kserve = new Set([...KSERVE_REQUEST_HEADERS.map(([k]) => k), 'Ce-Time', 'Ce-Recordedtime']);
    const extra = (ev: BinaryEvent): string[] => [...headerMap(ev).keys()].filter((k) => !kserve.has(k));
    expect(extra(req as BinaryEvent)).toEqual(['Ce-Method', 'Ce-Url']);
    expect(extra(res as BinaryEvent)).toEqual([
      'Ce-Latencyms',
      'Ce-Method',
      'Ce-Responsecontenttype',
      'Ce-Statuscode',
      'Ce-Url',
    ]);
    for (const ev of [req, res] as BinaryEvent[]) {
      const names = [...headerMap(ev).keys()];
      expect(names).toEqual([...names].sort());
    }
    const sh = headerMap(res as BinaryEvent);
    expect(sh.get('Ce-Statuscode')).toBe('200');
    expect(sh.get('Ce-Latencyms')).toBe('11.031');
    expect(headerMap(req as BinaryEvent).get('Ce-Url')).toBe('/v1/models/sklearn-iris:predict');
  });
});

describe('binary encoding: KServe quirks and inferlog decisions', () => {
  it('follows the mode: request only, response only, both with one shared Ce-Id', () => {
    const types = (mode: Exchange['mode']): string[] =>
      encodeBinary(scenarioExchange({ mode })).map((e) => headerMap(e).get('Ce-Type') as string);
    expect(types('request')).toEqual(['org.kubeflow.serving.inference.request']);
    expect(types('response')).toEqual(['org.kubeflow.serving.inference.response']);
    const both = encodeBinary(scenarioExchange({ id: 'abc' }));
    expect(both.map((e) => headerMap(e).get('Ce-Id'))).toEqual(['abc', 'abc']);
  });

  it('puts the request Content-Type on the response event and the real one in Ce-Responsecontenttype', () => {
    const ex = scenarioExchange({
      request: {
        bytes: new Uint8Array([0x89, 0x50, 0x4e, 0x47]),
        contentType: 'application/octet-stream',
        size: 4,
        truncated: false,
      },
    });
    const res = headerMap(encodeBinary(ex)[1] as BinaryEvent);
    expect(res.get('Content-Type')).toBe('application/octet-stream');
    expect(res.get('Ce-Responsecontenttype')).toBe('application/json');
  });

  it.each(['application/cloudevents-batch+json', ' Application/CloudEvents+xml; charset=utf-8'])(
    'never sends the client type %j as the event Content-Type; keeps it in Ce-Originalcontenttype',
    (ct) => {
      // Receivers pick structured/batch mode from Content-Type: a client must not choose that.
      const ex = scenarioExchange({
        request: { bytes: enc.encode('[{"id":"forged"}]'), contentType: ct, size: 17, truncated: false },
      });
      for (const ev of encodeBinary(ex)) {
        const h = headerMap(ev);
        expect(h.get('Content-Type')).toBe('application/octet-stream');
        expect(h.get('Ce-Originalcontenttype')).toBe(ct);
      }
      for (const ev of encodeStructured(ex)) {
        const o = JSON.parse(ev.json) as Record<string, unknown>;
        expect(o.datacontenttype).toBe('application/octet-stream');
        expect(o.originalcontenttype).toBe(ct);
        expect(o.data).toBeUndefined();
      }
    },
  );

  it('sends no Content-Type at all when the client sent none', () => {
    const ex = scenarioExchange({ request: { bytes: enc.encode('x=1'), size: 3, truncated: false } });
    for (const ev of encodeBinary(ex)) expect(headerMap(ev).has('Content-Type')).toBe(false);
  });

  it('in mode response, where the request is not kept, uses the response Content-Type', () => {
    const ex = scenarioExchange({ mode: 'response', request: undefined });
    expect(headerMap(encodeBinary(ex)[0] as BinaryEvent).get('Content-Type')).toBe('application/json');
  });

  it('keeps every KServe header when its value is empty; Ce-Metadata {} and no Ce-Annotations', () => {
    const ex = scenarioExchange({
      metadata: {},
      source: {
        inferenceService: '',
        namespace: '',
        component: '',
        endpoint: '',
        sourceUri: 'http://localhost:9081/',
        annotations: {},
      },
    });
    for (const ev of encodeBinary(ex)) {
      const h = headerMap(ev);
      for (const k of ['Ce-Inferenceservicename', 'Ce-Namespace', 'Ce-Component', 'Ce-Endpoint'])
        expect(h.get(k)).toBe('');
      expect(h.get('Ce-Metadata')).toBe('{}');
      expect(h.has('Ce-Annotations')).toBe(false);
    }
  });

  it('logs non-200 responses (KServe drops them) with Ce-Statuscode', () => {
    const ex = scenarioExchange({
      status: 503,
      response: { bytes: enc.encode('overloaded'), contentType: 'text/plain', size: 10, truncated: false },
    });
    const res = encodeBinary(ex)[1] as BinaryEvent;
    expect(headerMap(res).get('Ce-Statuscode')).toBe('503');
    expect(Buffer.from(res.body as Uint8Array).toString()).toBe('overloaded');
  });

  it('emits a bodiless response event with Ce-Errorcode for a failed exchange', () => {
    const ex = scenarioExchange({
      status: 502,
      response: undefined,
      error: { code: 'UPSTREAM_UNREACHABLE', message: 'refused' },
    });
    const res = encodeBinary(ex)[1] as BinaryEvent;
    expect(res.body).toBeUndefined();
    expect(headerMap(res).get('Ce-Errorcode')).toBe('UPSTREAM_UNREACHABLE');
    expect(headerMap(res).get('Ce-Statuscode')).toBe('502');
  });

  it('sends no body for an empty body', () => {
    const ex = scenarioExchange({
      method: 'GET',
      request: { bytes: new Uint8Array(0), size: 0, truncated: false },
    });
    expect(encodeBinary(ex)[0]?.body).toBeUndefined();
  });

  it('marks truncated bodies with size and sha256, and non-1 sample weights', () => {
    const ex = scenarioExchange({
      sampleWeight: 10,
      request: {
        bytes: enc.encode('{"inst'),
        contentType: 'application/json',
        size: 5000,
        truncated: true,
        sha256: 'ab'.repeat(32),
      },
    });
    const h = headerMap(encodeBinary(ex)[0] as BinaryEvent);
    expect([
      h.get('Ce-Truncated'),
      h.get('Ce-Originalsize'),
      h.get('Ce-Sha256'),
      h.get('Ce-Sampleweight'),
    ]).toEqual(['true', '5000', 'ab'.repeat(32), '10']);
  });

  it('says when body bytes are still Content-Encoded (decoding failed or hit the cap)', () => {
    const gz = new Uint8Array([0x1f, 0x8b, 0x08, 0x00]);
    const ex = scenarioExchange({
      mode: 'request',
      request: {
        bytes: gz,
        contentType: 'application/json',
        contentEncoding: 'gzip',
        stillEncoded: true,
        size: 4,
        truncated: false,
      },
    });
    expect(headerMap(encodeBinary(ex)[0] as BinaryEvent).get('Ce-Contentencoding')).toBe('gzip');
    const ev = JSON.parse(encodeStructured(ex)[0]?.json as string) as Record<string, unknown>;
    expect(ev).toMatchObject({ contentencoding: 'gzip', data_base64: Buffer.from(gz).toString('base64') });
    // Decoded bodies (the normal case) say nothing: the bytes are the plain body.
    const plain = scenarioExchange({ mode: 'request' });
    plain.request = { ...(plain.request as Exchange['request'] & object), contentEncoding: 'gzip' };
    expect(headerMap(encodeBinary(plain)[0] as BinaryEvent).has('Ce-Contentencoding')).toBe(false);
  });

  it('bounds Ce-Metadata: a 3 KB X-Request-Id of "<" (≈18 KB escaped) is cut, with a marker, to valid JSON', () => {
    const ex = scenarioExchange({
      metadata: { 'X-Request-Id': ['<'.repeat(3000)], 'X-B3-Traceid': ['abc'] },
    });
    for (const ev of encodeBinary(ex)) {
      const meta = headerMap(ev).get('Ce-Metadata') as string;
      expect(meta.length).toBeLessThanOrEqual(MAX_METADATA_HEADER_BYTES);
      const parsed = JSON.parse(meta) as Record<string, string[]>;
      expect(parsed['X-B3-Traceid']).toEqual(['abc']);
      expect(parsed['X-Request-Id']![0]).toMatch(/^<+\.\.\.\[truncated by inferlog\]$/);
    }
    // Too many values to fit even cut short: one marker entry instead of a header the receiver refuses.
    const many = scenarioExchange({ metadata: { 'X-Request-Id': Array.from({ length: 3000 }, () => 'a') } });
    const meta = headerMap(encodeBinary(many)[0] as BinaryEvent).get('Ce-Metadata') as string;
    expect(meta.length).toBeLessThanOrEqual(MAX_METADATA_HEADER_BYTES);
    expect(JSON.parse(meta)).toEqual({ 'Inferlog-Truncated': [expect.stringMatching(/withheld/)] });
    // Small metadata is untouched.
    expect(headerMap(encodeBinary(scenarioExchange())[0] as BinaryEvent).get('Ce-Metadata')).toBe(
      '{"X-Request-Id":["7f3c2a1e-0b6d-4a3e-9c1f-2d5e8b7a6c40"]}',
    );
  });

  it('serialises metadata like Go: keys sorted, <>& escaped', () => {
    expect(goJson({ b: ['<x>&'], a: ['1', '2'] })).toBe('{"a":["1","2"],"b":["\\u003cx\\u003e\\u0026"]}');
  });

  it('puts the exact bytes of non-ASCII header values back on the wire, and config text as UTF-8', () => {
    // Node hands a header's bytes over as latin1 chars: the client sent the UTF-8 of "zoë".
    const fromNode = Buffer.from('zoë', 'utf8').toString('latin1');
    const ex = scenarioExchange({
      metadata: { 'X-User': [fromNode] },
      source: { ...scenarioExchange().source, annotations: { owner: 'Zoë' } },
    });
    const h = headerMap(encodeBinary(ex)[0] as BinaryEvent);
    // undici writes header strings as latin1: these are the bytes on the wire.
    const wire = (name: string): string => Buffer.from(h.get(name) as string, 'latin1').toString('utf8');
    expect(wire('Ce-Metadata')).toBe('{"X-User":["zoë"]}');
    expect(wire('Ce-Annotations')).toBe('{"owner":"Zoë"}');
    // Structured mode is JSON text: the same values, as text.
    const ev = JSON.parse(encodeStructured(ex)[0]?.json as string) as Record<string, unknown>;
    expect([ev.metadata, ev.annotations]).toEqual(['{"X-User":["zoë"]}', '{"owner":"Zoë"}']);
  });
});

describe('streaminfo: the stream summary with its assembled text', () => {
  const streamed = (assembledText: string): Exchange => ({
    ...scenarioExchange(),
    stream: { chunks: 3, ttfbMs: 1, ttlbMs: 2, partial: false, assembledText },
  });
  const streaminfo = (ex: Exchange): string =>
    headerMap(encodeBinary(ex)[1] as BinaryEvent).get('Ce-Streaminfo') as string;

  it('carries the assembled text as header-safe ASCII JSON that decodes to the same text', () => {
    const text = 'héllo “wörld” 😀 <&> \n\u0000';
    const v = streaminfo(streamed(text));
    expect(v).toMatch(/^[\x20-\x7e]+$/);
    expect(JSON.parse(v)).toMatchObject({ chunks: 3, assembledText: text });
    expect(JSON.parse(v)).not.toHaveProperty('assembledTextTruncated');
  });

  it('cuts a long text to a bounded header and says so (the whole stream is the body)', () => {
    const v = streaminfo(streamed('ü'.repeat(100_000)));
    expect(v.length).toBeLessThan(STREAMINFO_TEXT_MAX + 200);
    const o = JSON.parse(v) as { assembledText: string; assembledTextTruncated: boolean };
    expect(o.assembledTextTruncated).toBe(true);
    expect(o.assembledText).toBe('ü'.repeat(STREAMINFO_TEXT_MAX / 6));
  });
});

describe('structured and batch encoding', () => {
  it('carries JSON bodies as data and everything else as data_base64', () => {
    const [req, res] = encodeStructured(scenarioExchange()).map(
      (e) => JSON.parse(e.json) as Record<string, unknown>,
    );
    expect(req).toMatchObject({
      specversion: '1.0',
      id: '0c1d9e6a-5f0b-4d57-8a0e-6b1f2e3c4d5a',
      type: 'org.kubeflow.serving.inference.request',
      source: 'http://localhost:9081/',
      datacontenttype: 'application/json',
      inferenceservicename: 'sklearn-iris',
      endpoint: '',
      metadata: '{"X-Request-Id":["7f3c2a1e-0b6d-4a3e-9c1f-2d5e8b7a6c40"]}',
      annotations: '{"team.example.com/owner":"ml-platform"}',
      data: {
        instances: [
          [6.8, 2.8, 4.8, 1.4],
          [6.0, 3.4, 4.5, 1.6],
        ],
      },
    });
    expect(res).toMatchObject({ statuscode: 200, data: { predictions: [1, 1] } });
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const bin = encodeStructured(
      scenarioExchange({
        mode: 'request',
        request: { bytes: png, contentType: 'image/png', size: 8, truncated: false },
      }),
    );
    const ev = JSON.parse(bin[0]?.json as string) as Record<string, unknown>;
    expect(ev.data).toBeUndefined();
    expect(Buffer.from(ev.data_base64 as string, 'base64')).toEqual(Buffer.from(png));
  });

  it('sends a truncated JSON body as data_base64 (it no longer parses)', () => {
    const ex = scenarioExchange({
      mode: 'request',
      request: { bytes: enc.encode('{"a":[1,'), contentType: 'application/json', size: 99, truncated: true },
    });
    const ev = JSON.parse(encodeStructured(ex)[0]?.json as string) as Record<string, unknown>;
    expect(Buffer.from(ev.data_base64 as string, 'base64').toString()).toBe('{"a":[1,');
    expect(ev).toMatchObject({ truncated: true, originalsize: 99 });
  });

  it('a batch is a JSON array of every event of every exchange', () => {
    const arr = JSON.parse(
      encodeBatch([scenarioExchange({ id: 'a' }), scenarioExchange({ id: 'b', mode: 'request' })]),
    ) as Array<Record<string, unknown>>;
    expect(arr.map((e) => `${e.id as string}:${(e.type as string).split('.').pop() as string}`)).toEqual([
      'a:request',
      'a:response',
      'b:request',
    ]);
  });

  it('always produces valid JSON, whatever the exchange holds', () => {
    const sane = arbExchange().map((ex) => ({
      ...ex,
      requestTime: 1.7e12 + Math.abs(ex.requestTime % 1e9),
      responseTime: 1.7e12,
    }));
    fc.assert(
      fc.property(sane, (ex) => {
        const events = encodeStructured(ex);
        for (const e of events) expect(() => JSON.parse(e.json)).not.toThrow();
        expect((JSON.parse(encodeBatch([ex])) as unknown[]).length).toBe(events.length);
      }),
    );
  });
});

describe('eventTime', () => {
  it('formats exactly like core rfc3339Nano (Go RFC3339Nano), with its per-second cache', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 4e12, noNaN: true }),
        fc.integer({ min: 0, max: 2000 }),
        (t, step) => {
          // Two nearby times: the second often hits the cached second of the first.
          expect(eventTime(t)).toBe(rfc3339Nano(t));
          expect(eventTime(t + step / 7)).toBe(rfc3339Nano(t + step / 7));
        },
      ),
      { numRuns: 2000 },
    );
    expect(eventTime(Date.UTC(2026, 7, 21, 10, 15, 30))).toBe('2026-08-21T10:15:30Z');
  });
});

describe('trace context: the CloudEvents distributed-tracing extension', () => {
  const trace = {
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
    parentSpanId: '00f067aa0ba902b7',
    flags: 1,
    tracestate: 'rojo=00f067aa0ba902b7',
  };
  const ex: Exchange = { ...scenarioExchange(), trace };
  const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

  it('puts traceparent and tracestate on both binary events, headers still sorted', () => {
    for (const ev of encodeBinary(ex)) {
      const h = headerMap(ev);
      expect(h.get('Ce-Traceparent')).toBe(TP);
      expect(h.get('Ce-Tracestate')).toBe('rojo=00f067aa0ba902b7');
      const names = [...h.keys()];
      expect(names).toEqual([...names].sort());
    }
  });

  it('carries the same attributes in structured and batch form', () => {
    for (const ev of encodeStructured(ex)) {
      const o = JSON.parse(ev.json) as Record<string, unknown>;
      expect([o.traceparent, o.tracestate]).toEqual([TP, 'rojo=00f067aa0ba902b7']);
    }
    const batch = JSON.parse(encodeBatch([ex])) as Record<string, unknown>[];
    expect(batch.map((e) => e.traceparent)).toEqual([TP, TP]);
  });

  it('sends no trace attributes for an exchange recorded without trace context', () => {
    for (const ev of encodeBinary(scenarioExchange()))
      expect(headerMap(ev).has('Ce-Traceparent')).toBe(false);
  });
});
