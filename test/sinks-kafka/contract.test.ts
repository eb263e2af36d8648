// The shared Sink contract (src/sinks/sink.contract.ts), run by the Kafka sink against the real broker.
import { afterAll } from 'vitest';
import { sinkContract } from '../../src/sinks/sink.contract.js';
import { createKafkaSink } from '../../src/sinks/kafka/sink.js';
import { ensureKafka } from '../helpers/peers.js';
import { createTopic, deleteCreatedTopics, readAll } from './read-topic.js';

afterAll(deleteCreatedTopics);

sinkContract('kafka', {
  async create() {
    const { brokers } = await ensureKafka();
    const topic = await createTopic(brokers);
    const sink = createKafkaSink(new URL(`kafka://${brokers[0]}/${topic}`), {
      batchSize: 1,
      batchIntervalMs: 0,
      timeoutMs: 5000,
      tls: { skipVerify: false },
    });
    return {
      sink,
      delivered: async () => (await readAll(brokers, topic)).map((r) => r.key),
      close: async () => {},
    };
  },
});
