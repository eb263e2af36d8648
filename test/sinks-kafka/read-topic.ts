// Reads records back from a real broker for the Kafka sink tests (a consumer group of its own per call).
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';

export interface ReadRecord {
  partition: number;
  offset: number;
  key: string;
  value: Buffer;
  timestamp: string;
  headers: Record<string, Buffer>;
}

/** Reads `count` records of `topic` from the beginning, or throws after `timeoutMs`. */
export async function readTopic(
  brokers: string[],
  topic: string,
  count: number,
  timeoutMs = 20_000,
): Promise<ReadRecord[]> {
  const kafka = new Kafka({ clientId: 'inferlog-test-reader', brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `test-${randomUUID()}`, maxWaitTimeInMs: 100 });
  const records: ReadRecord[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`read ${records.length} of ${count} records from ${topic} in ${timeoutMs} ms`)),
        timeoutMs,
      );
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            const headers: Record<string, Buffer> = {};
            for (const [k, v] of Object.entries(message.headers ?? {})) {
              if (Buffer.isBuffer(v)) headers[k] = v;
            }
            records.push({
              partition,
              offset: Number(message.offset),
              key: message.key?.toString('utf8') ?? '',
              value: message.value ?? Buffer.alloc(0),
              timestamp: message.timestamp,
              headers,
            });
            if (records.length >= count) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return records;
}

const created = new Map<string, string[]>();

/**
 * A fresh topic with `partitions` partitions, created before the test writes (so its partition
 * count is known). Resolves once every partition answers (a busy broker hosts a new partition
 * a moment after it reports its leader).
 */
export async function createTopic(brokers: string[], partitions = 3): Promise<string> {
  const topic = `inferlog-test-${randomUUID()}`;
  const admin = new Kafka({ clientId: 'inferlog-test-admin', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
    created.set(topic, brokers);
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        if ((await admin.fetchTopicOffsets(topic)).length === partitions) break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await admin.disconnect();
  }
  return topic;
}

/** Deletes the topics this process created (so a long-lived dev broker does not pile them up). */
export async function deleteCreatedTopics(): Promise<void> {
  const byBrokers = new Map<string, string[]>();
  for (const [topic, brokers] of created)
    byBrokers.set(brokers.join(','), [...(byBrokers.get(brokers.join(',')) ?? []), topic]);
  created.clear();
  for (const [brokers, topics] of byBrokers) {
    const admin = new Kafka({
      clientId: 'inferlog-test-admin',
      brokers: brokers.split(','),
      logLevel: logLevel.NOTHING,
    }).admin();
    try {
      await admin.connect();
      await admin.deleteTopics({ topics, timeout: 10_000 });
    } catch {
      // best effort: a leftover topic only costs disk in .peers/kafka
    } finally {
      await admin.disconnect();
    }
  }
}

/** Every record the topic holds now (up to the partitions' high watermarks). */
export async function readAll(brokers: string[], topic: string): Promise<ReadRecord[]> {
  const admin = new Kafka({ clientId: 'inferlog-test-admin', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  let count = 0;
  try {
    for (const p of await admin.fetchTopicOffsets(topic)) count += Number(p.high) - Number(p.low);
  } finally {
    await admin.disconnect();
  }
  return count === 0 ? [] : readTopic(brokers, topic, count);
}
