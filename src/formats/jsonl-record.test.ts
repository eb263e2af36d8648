import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Exchange } from '../core/exchange.js';
import { arbExchange } from '../../test/support/arb-exchange.js';
import { decodeRecord, encodeRecord } from './jsonl-record.js';

describe('jsonl record', () => {
  it('round-trips every exchange exactly, bodies included', () => {
    fc.assert(
      fc.property(arbExchange(), (ex: Exchange) => {
        const line = encodeRecord(ex);
        expect(line).not.toContain('\n');
        expect(decodeRecord(line)).toEqual(ex);
      }),
      { numRuns: 300 },
    );
  });

  it('stores binary bodies as base64 so any byte survives', () => {
    const ex: Exchange = {
      id: 'a',
      source: {
        inferenceService: 'm',
        namespace: 'n',
        component: 'predictor',
        endpoint: '',
        sourceUri: 'http://x/',
        annotations: {},
      },
      mode: 'all',
      method: 'POST',
      url: '/v1/models/m:predict',
      metadata: {},
      requestTime: 1.5,
      responseTime: 2.25,
      status: 200,
      request: { bytes: new Uint8Array([0, 255, 10, 13]), size: 4, truncated: false },
      sampleWeight: 1,
    };
    const rec = JSON.parse(encodeRecord(ex)) as { request: { bytes: string } };
    expect(rec.request.bytes).toBe(Buffer.from([0, 255, 10, 13]).toString('base64'));
    expect(decodeRecord(encodeRecord(ex)).request?.bytes).toEqual(new Uint8Array([0, 255, 10, 13]));
  });

  it('rejects a line that is not a record, and an unknown version', () => {
    expect(() => decodeRecord('{"id":"x"}')).toThrow();
    expect(() => decodeRecord('not json')).toThrow();
    const ok = JSON.parse(
      encodeRecord({
        id: 'a',
        source: {
          inferenceService: 'm',
          namespace: 'n',
          component: 'c',
          endpoint: '',
          sourceUri: 'u',
          annotations: {},
        },
        mode: 'all',
        method: 'GET',
        url: '/',
        metadata: {},
        requestTime: 0,
        responseTime: 0,
        status: 0,
        sampleWeight: 1,
      }),
    ) as Record<string, unknown>;
    expect(() => decodeRecord(JSON.stringify({ ...ok, v: 99 }))).toThrow();
  });
});
