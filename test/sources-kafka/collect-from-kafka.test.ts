// End to end: `inferlog collect --from kafka://…` (the built CLI) stores what the Kafka sink
// produced, and the query API serves it; SIGTERM leaves the group and exits 0.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKafkaSink } from '../../src/sinks/kafka/sink.js';
import { runCli, startCli, type CliProcess } from '../helpers/cli.js';
import { ensureKafka, ensurePostgres, freePort } from '../helpers/peers.js';
import { REQUEST_BODY, scenarioExchange } from '../sinks-http/kserve-scenario.js';
import { createTopic, deleteCreatedTopics } from '../sinks-kafka/read-topic.js';

let brokers: string[];
let baseUrl: string;
const schema = `collect_kafka_${process.pid}_${Date.now().toString(36)}`;
let collector: CliProcess | undefined;

beforeAll(async () => {
  [{ brokers }, { url: baseUrl }] = await Promise.all([ensureKafka(), ensurePostgres()]);
  const c = new pg.Client({ connectionString: baseUrl });
  await c.connect();
  await c.query(`CREATE SCHEMA ${schema}`);
  await c.end();
}, 180_000);

afterAll(async () => {
  await deleteCreatedTopics();
  await collector?.stop();
  if (!baseUrl) return;
  const c = new pg.Client({ connectionString: baseUrl });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await c.end();
});

describe('inferlog collect --from kafka://', () => {
  it('consumes the topic into the store and serves the exchanges through the query API', async () => {
    const topic = await createTopic(brokers);
    const store = new URL(baseUrl);
    store.searchParams.set('options', `-c search_path=${schema}`);
    const port = await freePort();
    collector = await startCli([
      'collect',
      '--port',
      String(port),
      '--store',
      store.toString(),
      '--from',
      `kafka://${brokers[0]}/${topic}?group=e2e-${randomUUID()}`,
    ]);

    const sink = createKafkaSink(new URL(`kafka://${brokers[0]}/${topic}`), {
      batchSize: 1,
      batchIntervalMs: 0,
      timeoutMs: 5000,
      tls: { skipVerify: false },
    });
    const ex = scenarioExchange({ id: randomUUID() });
    await sink.send([ex], new AbortController().signal);
    await sink.shutdown();

    let item:
      { complete?: boolean; status?: number; model?: string; request?: { body?: string } } | undefined;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/exchanges/${ex.id}`);
      if (res.status === 200) {
        item = (await res.json()) as typeof item;
        if (item?.complete) break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(item).toMatchObject({
      complete: true,
      status: 200,
      model: 'sklearn-iris',
      request: { body: REQUEST_BODY },
    });

    expect(await collector.stop('SIGTERM')).toBe(0);
    collector = undefined;
  });

  it('refuses a malformed --from URL with exit code 2 and the reason', async () => {
    const cli = runCli([
      'collect',
      '--port',
      '0',
      '--store',
      'sqlite::memory:',
      '--from',
      'kafka://b1:9092/t?from=now',
    ]);
    expect(await cli.exited).toBe(2);
    expect(cli.stderr()).toContain('use earliest or latest');
  });
});
