import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeBatch } from '../../sinks/kafka/encoder.js';
import { scenarioExchange } from '../../../test/sinks-http/kserve-scenario.js';
import { arbExchange } from '../../../test/support/arb-exchange.js';
import { decodeKafkaRecord } from './decode.js';

describe('Kafka record → CloudEvents', () => {
  it('reads back what the Kafka sink wrote, for any exchange: id, type, metadata, annotations, bytes', () => {
    // Capture stamps real clock times, and `source` is never empty (KServe's --source-uri has a default).
    const timed = arbExchange().map((ex) => ({
      ...ex,
      source: { ...ex.source, sourceUri: 'http://localhost:9081/' + ex.source.sourceUri },
      requestTime: 1.7e12 + Math.abs(ex.requestTime % 1e9),
      responseTime: 1.7e12,
    }));
    fc.assert(
      fc.property(timed, (ex) => {
        for (const record of encodeBatch([ex])) {
          const [ev] = decodeKafkaRecord(record);
          expect(ev?.id).toBe(ex.id);
          expect(ev?.metadata).toEqual(ex.metadata);
          expect(ev?.annotations).toEqual(ex.source.annotations);
          expect(ev?.extensions.inferenceservicename).toBe(ex.source.inferenceService);
          const body = ev?.type.endsWith('request') ? ex.request : ex.response;
          expect(Buffer.from(ev?.data ?? []).equals(Buffer.from(body?.bytes ?? []))).toBe(true);
        }
      }),
    );
  });

  it('accepts structured mode (content-type application/cloudevents+json)', () => {
    const json = {
      specversion: '1.0',
      id: 'abc',
      type: 'org.kubeflow.serving.inference.request',
      source: 'http://localhost:9081/',
      datacontenttype: 'application/json',
      inferenceservicename: 'iris',
      data: { instances: [[1, 2]] },
    };
    const [ev] = decodeKafkaRecord({
      headers: { 'content-type': Buffer.from('application/cloudevents+json') },
      value: Buffer.from(JSON.stringify(json)),
    });
    expect(ev?.id).toBe('abc');
    expect(JSON.parse(Buffer.from(ev?.data ?? []).toString())).toEqual({ instances: [[1, 2]] });
  });

  it('rejects a record that is not a CloudEvent', () => {
    expect(() => decodeKafkaRecord({ headers: {}, value: Buffer.from('hello') })).toThrow(/not a CloudEvent/);
    expect(decodeKafkaRecord(encodeBatch([scenarioExchange()])[0]!)[0]?.id).toBe(scenarioExchange().id);
  });
});
