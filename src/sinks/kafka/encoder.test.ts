import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeBinary } from '../../formats/cloudevents.js';
import {
  KSERVE_REQUEST_HEADERS,
  REQUEST_BODY,
  REQUEST_TIME,
  RESPONSE_BODY,
  RESPONSE_TIME,
  SCENARIO_ID,
  scenarioExchange,
} from '../../../test/sinks-http/kserve-scenario.js';
import { arbExchange } from '../../../test/support/arb-exchange.js';
import { chunksOf, encodeBatch, kafkaHeaderName } from './encoder.js';

const text = (b: Buffer | undefined): string | undefined => b?.toString('utf8');

describe('Kafka binary-mode records', () => {
  it('carry the KServe attributes as ce_ headers, the raw body as value and the id as key', () => {
    const [req, res] = encodeBatch([scenarioExchange()]);
    for (const [name, value] of KSERVE_REQUEST_HEADERS) {
      const kafkaName = kafkaHeaderName(name);
      expect([kafkaName, text(req?.headers[kafkaName])]).toEqual([kafkaName, value]);
    }
    expect(text(req?.headers['ce_type'])).toBe('org.kubeflow.serving.inference.request');
    expect(text(res?.headers['ce_type'])).toBe('org.kubeflow.serving.inference.response');
    expect(text(res?.headers['ce_statuscode'])).toBe('200');
    expect(req?.key).toBe(SCENARIO_ID);
    expect(res?.key).toBe(SCENARIO_ID);
    expect(text(req?.value)).toBe(REQUEST_BODY);
    expect(text(res?.value)).toBe(RESPONSE_BODY);
    expect(req?.timestamp).toBe(String(Math.floor(REQUEST_TIME)));
    expect(res?.timestamp).toBe(String(Math.floor(RESPONSE_TIME)));
  });

  it('send non-ASCII attribute values as UTF-8 bytes', () => {
    const ex = scenarioExchange({ metadata: { 'X-User': ['Zoë 東京'] } });
    const [req] = encodeBatch([ex]);
    expect(text(req?.headers['ce_metadata'])).toBe('{"X-User":["Zoë 東京"]}');
  });

  it('hold for any exchange: same attributes as the HTTP binding, same bytes, key = id, request before response', () => {
    // Capture stamps real clock times; arbitrary doubles are not dates.
    const timed = arbExchange().map((ex) => ({
      ...ex,
      requestTime: 1.7e12 + Math.abs(ex.requestTime % 1e9),
      responseTime: 1.7e12,
    }));
    fc.assert(
      fc.property(timed, (ex) => {
        const http = encodeBinary(ex);
        const records = encodeBatch([ex]);
        expect(records.length).toBe(http.length);
        records.forEach((rec, i) => {
          const ev = http[i];
          expect(rec.key).toBe(ex.id);
          expect(Buffer.compare(rec.value, Buffer.from(ev?.body ?? new Uint8Array()))).toBe(0);
          const names: string[] = [];
          for (let j = 0; j < (ev?.headers.length ?? 0); j += 2)
            names.push(kafkaHeaderName(ev?.headers[j] as string));
          // recordedtime is "now" in each encoding: compare the rest by name only
          expect(Object.keys(rec.headers).sort()).toEqual(names.sort());
        });
        if (records.length === 2) {
          expect(text(records[0]?.headers['ce_type'])).toMatch(/request$/);
          expect(text(records[1]?.headers['ce_type'])).toMatch(/response$/);
        }
      }),
    );
  });
});

describe('produce request size', () => {
  it('splits a batch into runs under the byte limit, in order, a huge record alone', () => {
    const body = (n: number): Uint8Array => new Uint8Array(n);
    const batch = [1000, 1000, 5000, 1000].map((n, i) =>
      scenarioExchange({
        id: `x${i}`,
        request: { bytes: body(n), size: n, truncated: false },
        mode: 'request',
      }),
    );
    const chunks = chunksOf(encodeBatch(batch), 4000);
    expect(chunks.map((c) => c.map((r) => r.key))).toEqual([['x0', 'x1'], ['x2'], ['x3']]);
  });
});
