// Kafka → collector: two `collect --from kafka://…` instances (one consumer group) share a
// topic's partitions and store what the Kafka sink produced in one PostgreSQL database.
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpLogger } from '../../src/core/log.js';
import { createPostgresStore } from '../../src/store/postgres-store.js';
import type { ExchangeStore } from '../../src/store/store.js';
import { createKafkaSink } from '../../src/sinks/kafka/sink.js';
import { startKafkaSource, type KafkaSource } from '../../src/sources/kafka/source.js';
import { ensureKafka, ensurePostgres } from '../helpers/peers.js';
import { scenarioExchange } from '../sinks-http/kserve-scenario.js';
import { createTopic, deleteCreatedTopics } from '../sinks-kafka/read-topic.js';

const log = createOpLogger('test.kafka-source', { write: () => true });
let brokers: string[];
let baseUrl: string;
const schemas: string[] = [];

async function freshStore(): Promise<ExchangeStore> {
  const schema = `kafka_source_${process.pid}_${schemas.length}_${Date.now().toString(36)}`;
  schemas.push(schema);
  const c = new pg.Client({ connectionString: baseUrl });
  await c.connect();
  await c.query(`CREATE SCHEMA ${schema}`);
  await c.end();
  const u = new URL(baseUrl);
  u.searchParams.set('options', `-c search_path=${schema}`);
  const store = createPostgresStore(u.toString(), { poolSize: 4 });
  await store.start();
  return store;
}

async function until(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  [{ brokers }, { url: baseUrl }] = await Promise.all([ensureKafka(), ensurePostgres()]);
}, 180_000);

afterAll(async () => {
  await deleteCreatedTopics();
  if (!baseUrl) return;
  const c = new pg.Client({ connectionString: baseUrl });
  await c.connect();
  for (const s of schemas) await c.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
  await c.end();
});

describe('kafka source (consumer group) → PostgreSQL', () => {
  it('two collectors in one group share the partitions and store every exchange once, complete', async () => {
    const topic = await createTopic(brokers, 4);
    const store = await freshStore();
    const group = `collectors-${randomUUID()}`;
    const url = new URL(`kafka://${brokers[0]}/${topic}?group=${group}`);
    const sources: KafkaSource[] = [];
    try {
      sources.push(await startKafkaSource(url, (h) => store.putEvents(h), log));
      sources.push(await startKafkaSource(url, (h) => store.putEvents(h), log));
      await until(
        'both members to hold partitions',
        () =>
          sources.every((s) => s.assignedPartitions().length > 0) &&
          sources.flatMap((s) => s.assignedPartitions()).length === 4,
      );

      const sink = createKafkaSink(new URL(`kafka://${brokers[0]}/${topic}`), {
        batchSize: 1,
        batchIntervalMs: 0,
        timeoutMs: 5000,
        tls: { skipVerify: false },
      });
      const exchanges = Array.from({ length: 80 }, () => scenarioExchange({ id: randomUUID() }));
      await sink.send(exchanges.slice(0, 40), new AbortController().signal);
      await sink.send(exchanges.slice(40), new AbortController().signal);
      // A retried batch (at-least-once delivery): the store keeps one copy.
      await sink.send(exchanges.slice(0, 10), new AbortController().signal);
      await sink.shutdown();

      await until(
        'all 180 records to be committed',
        () => sources.reduce((n, s) => n + s.stats().committed, 0) >= 180,
      );
      for (const s of sources) expect(s.stats().records).toBeGreaterThan(0);

      const page = await store.listExchanges({}, { limit: 1000, order: 'newest' });
      expect(page.items.length).toBe(80);
      expect(
        page.items.every((i) => i.row.complete && i.row.status === 200 && i.row.model === 'sklearn-iris'),
      ).toBe(true);
      const one = await store.getExchange(exchanges[0]!.id);
      expect(Buffer.from(one?.requestBody ?? []).toString()).toBe(
        '{"instances": [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]}',
      );
    } finally {
      await Promise.all(sources.map((s) => s.shutdown()));
      await store.shutdown();
    }
  });

  it('skips and counts a record that is not a CloudEvent, and goes on with the partition', async () => {
    const topic = await createTopic(brokers, 1);
    const store = await freshStore();
    const source = await startKafkaSource(
      new URL(`kafka://${brokers[0]}/${topic}?group=g-${randomUUID()}`),
      (h) => store.putEvents(h),
      log,
    );
    try {
      const producer = new Kafka({ clientId: 'test', brokers, logLevel: logLevel.NOTHING }).producer();
      await producer.connect();
      await producer.send({
        topic,
        messages: [{ key: 'x', value: 'not an event', headers: { 'content-type': 'text/plain' } }],
      });
      await producer.disconnect();
      const ok = scenarioExchange({ id: randomUUID() });
      const sink = createKafkaSink(new URL(`kafka://${brokers[0]}/${topic}`), {
        batchSize: 1,
        batchIntervalMs: 0,
        timeoutMs: 5000,
        tls: { skipVerify: false },
      });
      await sink.send([ok], new AbortController().signal);
      await sink.shutdown();

      await until(
        'the valid exchange to be stored',
        async () => (await store.getExchange(ok.id))?.row.complete === true,
      );
      expect(source.stats().invalid).toBe(1);
    } finally {
      await source.shutdown();
      await store.shutdown();
    }
  });
});
