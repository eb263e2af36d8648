// The Kafka sink against a real KRaft broker (scripts/peers/kafka.sh): what lands in the topic,
// in which order, and how failures are classified.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InferlogError } from '../../src/core/errors.js';
import type { Exchange } from '../../src/core/exchange.js';
import type { Sink, SinkOptions } from '../../src/sinks/sink.js';
import { createKafkaSink } from '../../src/sinks/kafka/sink.js';
import { ensureKafka, freePort, pythonBin } from '../helpers/peers.js';
import {
  KSERVE_REQUEST_HEADERS,
  REQUEST_BODY,
  RESPONSE_BODY,
  SCENARIO_ID,
  scenarioExchange,
} from '../sinks-http/kserve-scenario.js';
import { createTopic, deleteCreatedTopics, readTopic, type ReadRecord } from './read-topic.js';

const OPTIONS: SinkOptions = {
  batchSize: 1,
  batchIntervalMs: 0,
  timeoutMs: 5000,
  tls: { skipVerify: false },
};

let brokers: string[];
const open: Sink[] = [];

beforeAll(async () => {
  ({ brokers } = await ensureKafka());
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.shutdown()));
});

afterAll(deleteCreatedTopics);

async function sinkFor(topic: string, query = '', broker = brokers[0] as string): Promise<Sink> {
  const sink = createKafkaSink(new URL(`kafka://${broker}/${topic}${query}`), OPTIONS);
  open.push(sink);
  await sink.start();
  return sink;
}

const signal = (): AbortSignal => new AbortController().signal;
const str = (b: Buffer | undefined): string | undefined => b?.toString('utf8');

function exchange(i: number, overrides: Partial<Exchange> = {}): Exchange {
  return scenarioExchange({
    id: randomUUID(),
    request: {
      bytes: Buffer.from(`{"instances":[[${i}]]}`),
      contentType: 'application/json',
      size: 16,
      truncated: false,
    },
    response: {
      bytes: Buffer.from(`{"predictions":[${i}]}`),
      contentType: 'application/json',
      size: 18,
      truncated: false,
    },
    ...overrides,
  });
}

describe('kafka sink: records in the topic', () => {
  it('writes the request and response events in binary mode: ce_ headers, content-type, raw bytes, key = id', async () => {
    const topic = await createTopic(brokers);
    const sink = await sinkFor(topic);
    await sink.send([scenarioExchange()], signal());

    const records = await readTopic(brokers, topic, 2);
    const [req, res] = [...records].sort((a, b) => a.offset - b.offset);
    for (const [name, value] of KSERVE_REQUEST_HEADERS) {
      const kafkaName = name === 'Content-Type' ? 'content-type' : 'ce_' + name.slice(3).toLowerCase();
      expect([kafkaName, str(req?.headers[kafkaName])]).toEqual([kafkaName, value]);
    }
    expect(str(req?.headers['ce_type'])).toBe('org.kubeflow.serving.inference.request');
    expect(str(res?.headers['ce_type'])).toBe('org.kubeflow.serving.inference.response');
    expect(str(req?.headers['ce_time'])).toMatch(/^2026-08-21T10:15:30\.001873\d*Z$/);
    expect(str(res?.headers['ce_time'])).toMatch(/^2026-08-21T10:15:30\.012904\d*Z$/);
    expect(str(res?.headers['ce_statuscode'])).toBe('200');
    expect([req?.key, res?.key]).toEqual([SCENARIO_ID, SCENARIO_ID]);
    expect(str(req?.value)).toBe(REQUEST_BODY);
    expect(str(res?.value)).toBe(RESPONSE_BODY);
    expect(req?.partition).toBe(res?.partition);
    expect(req?.timestamp).toBe(String(Date.UTC(2026, 7, 21, 10, 15, 30, 1)));
  });

  it('keeps binary bodies byte for byte and sends UTF-8 header values, with gzip compression too', async () => {
    const topic = await createTopic(brokers);
    const sink = await sinkFor(topic, '?compression=gzip');
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0xfe, 0x80]);
    const ex = exchange(1, {
      metadata: { 'X-User': ['Zoë 東京'] },
      request: { bytes: png, contentType: 'application/octet-stream', size: png.length, truncated: false },
    });
    await sink.send([ex], signal());
    const records = await readTopic(brokers, topic, 2);
    const req = records.find((r) => str(r.headers['ce_type'])?.endsWith('request'));
    expect(Buffer.compare(req?.value ?? Buffer.alloc(0), png)).toBe(0);
    expect(str(req?.headers['content-type'])).toBe('application/octet-stream');
    expect(str(req?.headers['ce_metadata'])).toBe('{"X-User":["Zoë 東京"]}');
  });

  it('puts each exchange in one partition, request before response, across batches', async () => {
    const topic = await createTopic(brokers, 3);
    const sink = await sinkFor(topic);
    const exchanges = Array.from({ length: 90 }, (_, i) => exchange(i));
    for (let i = 0; i < exchanges.length; i += 30) await sink.send(exchanges.slice(i, i + 30), signal());

    const records = await readTopic(brokers, topic, 180);
    const byKey = new Map<string, ReadRecord[]>();
    for (const r of records) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r]);
    expect(byKey.size).toBe(90);
    for (const [id, recs] of byKey) {
      expect(recs.map((r) => str(r.headers['ce_id']))).toEqual([id, id]);
      expect(new Set(recs.map((r) => r.partition)).size).toBe(1);
      const ordered = [...recs].sort((a, b) => a.offset - b.offset);
      expect(ordered.map((r) => str(r.headers['ce_type'])?.split('.').pop())).toEqual([
        'request',
        'response',
      ]);
    }
    // The id spreads exchanges over the partitions (90 random ids on 3 partitions).
    expect(new Set(records.map((r) => r.partition)).size).toBe(3);
  });

  it('is read back by the CloudEvents Python SDK (cloudevents.kafka.from_binary) as the same events', async () => {
    const topic = await createTopic(brokers);
    const sink = await sinkFor(topic);
    await sink.send([scenarioExchange()], signal());
    const records = await readTopic(brokers, topic, 2);
    const input = records.map((r) => ({
      key: r.key,
      value: r.value.toString('base64'),
      headers: Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, v.toString('base64')])),
    }));
    const script = `
import base64, json, sys
from cloudevents.kafka import KafkaMessage, from_binary
out = []
for m in json.load(sys.stdin):
    msg = KafkaMessage(headers={k: base64.b64decode(v) for k, v in m["headers"].items()},
                       key=m["key"], value=base64.b64decode(m["value"]))
    ev = from_binary(msg, data_unmarshaller=lambda b: b.decode())
    out.append({"attributes": {k: str(v) for k, v in ev.get_attributes().items()}, "data": ev.get_data()})
print(json.dumps(out))
`;
    const decoded = JSON.parse(
      execFileSync(pythonBin(), ['-c', script], { input: JSON.stringify(input) }).toString(),
    ) as Array<{
      attributes: Record<string, string>;
      data: string;
    }>;
    const req = decoded.find((e) => e.attributes.type?.endsWith('request'));
    const res = decoded.find((e) => e.attributes.type?.endsWith('response'));
    expect(req?.attributes).toMatchObject({
      specversion: '1.0',
      id: SCENARIO_ID,
      source: 'http://localhost:9081/',
      datacontenttype: 'application/json',
      inferenceservicename: 'sklearn-iris',
      namespace: 'default',
      component: 'predictor',
      metadata: '{"X-Request-Id":["7f3c2a1e-0b6d-4a3e-9c1f-2d5e8b7a6c40"]}',
      annotations: '{"team.example.com/owner":"ml-platform"}',
      partitionkey: SCENARIO_ID,
    });
    expect(req?.data).toBe(REQUEST_BODY);
    expect(res?.data).toBe(RESPONSE_BODY);
    expect(res?.attributes.statuscode).toBe('200');
  });
});

describe('kafka sink: failures', () => {
  async function failure(send: () => Promise<void>): Promise<InferlogError> {
    try {
      await send();
    } catch (err) {
      expect(err).toBeInstanceOf(InferlogError);
      return err as InferlogError;
    }
    throw new Error('send resolved, expected a rejection');
  }

  it('reports an unreachable broker as SINK_UNREACHABLE, retryable', async () => {
    const port = await freePort();
    const sink = await sinkFor('t', '', `127.0.0.1:${port}`);
    const err = await failure(() => sink.send([exchange(1)], signal()));
    expect(err.code).toBe('SINK_UNREACHABLE');
    expect(err.kind).toBe('retryable');
  });

  it('reports a record over the broker limit as SINK_REJECTED, permanent, and keeps working', async () => {
    const topic = await createTopic(brokers);
    const sink = await sinkFor(topic);
    const big = Buffer.alloc(2 * 1024 * 1024, 0x61);
    const err = await failure(() =>
      sink.send(
        [
          exchange(1, {
            request: { bytes: big, contentType: 'text/plain', size: big.length, truncated: false },
          }),
        ],
        signal(),
      ),
    );
    expect(err.code).toBe('SINK_REJECTED');
    expect(err.kind).toBe('permanent');

    const ok = exchange(2);
    await sink.send([ok], signal());
    const records = await readTopic(brokers, topic, 2);
    expect(records.map((r) => r.key)).toEqual([ok.id, ok.id]);
  });

  it('stops waiting when the pipeline aborts the send', async () => {
    const port = await freePort();
    const sink = await sinkFor('t', '', `127.0.0.1:${port}`);
    const controller = new AbortController();
    controller.abort();
    const err = await failure(() => sink.send([exchange(1)], controller.signal));
    expect(err.code).toBe('SINK_TIMEOUT');
  });
});
