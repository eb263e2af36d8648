/**
 * Kafka source for the collector: a consumer group member that stores the CloudEvents of a
 * topic. Several collectors with the same group share the partitions.
 *
 *   topic partitions ──eachBatch──▶ decodeKafkaRecord ──▶ halves ──commit(halves)──▶ store (durable)
 *                                        └─ not a CloudEvent: counted, logged, skipped      │
 *                         commit offsets ◀───────────────────────────────────────────────────┘
 *
 * Offsets are committed only after the store committed the batch, so a crash re-reads
 * (at least once); the store is idempotent on (id, kind), so re-reads store nothing twice.
 * A record that is not a CloudEvent is skipped (it would block its partition forever).
 */
import { Kafka, logLevel, type Consumer, type LogEntry } from 'kafkajs';
import type { OpLogger } from '../../core/log.js';
import { isInferlogError } from '../../core/errors.js';
import { halfFromEvent, type ExchangeHalf } from '../../store/exchange-record.js';
import { redact } from '../../transport/kafka-url.js';
import { parseKafkaSourceUrl } from './config.js';
import { decodeKafkaRecord } from './decode.js';

export interface KafkaSourceStats {
  /** Records read. */
  records: number;
  /** Halves handed to the store (after its commit). */
  committed: number;
  /** Records skipped because they are not CloudEvents. */
  invalid: number;
}

export interface KafkaSource {
  readonly name: string;
  stats(): KafkaSourceStats;
  /** Partitions this member holds now. */
  assignedPartitions(): number[];
  /** Leaves the group (its partitions move to the other members). Idempotent. */
  shutdown(): Promise<void>;
}

/** Stores halves durably; rejects when the store could not commit (the batch is then read again). */
export type CommitHalves = (halves: readonly ExchangeHalf[]) => Promise<unknown>;

/**
 * Joins the group and starts consuming; resolves once the consumer runs (before partitions are
 * assigned). `commit` is the collector's commit queue `submit` or `store.putEvents`.
 */
export async function startKafkaSource(url: URL, commit: CommitHalves, log: OpLogger): Promise<KafkaSource> {
  const config = parseKafkaSourceUrl(url);
  const name = redact(url);
  const kafka = new Kafka({
    clientId: config.clientId,
    brokers: config.brokers,
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry): void => {
        const { message, stack: _stack, ...fields } = entry as LogEntry['log'] & { stack?: unknown };
        if (level <= logLevel.ERROR) log.warn(`kafkajs: ${message}`, fields);
        else log.debug(`kafkajs: ${message}`, fields);
      },
  });
  const consumer: Consumer = kafka.consumer({ groupId: config.group, maxWaitTimeInMs: 250 });
  const stats: KafkaSourceStats = { records: 0, committed: 0, invalid: 0 };
  let assigned: number[] = [];
  consumer.on(consumer.events.GROUP_JOIN, (e) => {
    assigned = [...(e.payload.memberAssignment[config.topic] ?? [])].sort((a, b) => a - b);
    log.info('kafka source joined its group', {
      group: config.group,
      topic: config.topic,
      partitions: assigned.join(','),
    });
  });

  await consumer.connect();
  await consumer.subscribe({ topic: config.topic, fromBeginning: config.fromBeginning });
  await consumer.run({
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }) => {
      if (!isRunning() || isStale()) return;
      const halves: ExchangeHalf[] = [];
      const now = Date.now();
      for (const message of batch.messages) {
        stats.records++;
        try {
          for (const ev of decodeKafkaRecord(message)) halves.push(halfFromEvent(ev, now));
        } catch (err) {
          if (!isInferlogError(err, 'EVENT_INVALID')) throw err;
          stats.invalid++;
          log.warn('skipped a Kafka record that is not a CloudEvent', {
            topic: batch.topic,
            partition: batch.partition,
            offset: message.offset,
            reason: err.details.reason,
            error: err.message,
          });
        }
      }
      // Throws when the store cannot commit: kafkajs restarts the consumer from the last committed offset.
      if (halves.length > 0) await commit(halves);
      stats.committed += halves.length;
      const last = batch.messages[batch.messages.length - 1];
      if (last) resolveOffset(last.offset);
      await commitOffsetsIfNecessary();
      await heartbeat();
    },
  });

  let stopped: Promise<void> | undefined;
  return {
    name,
    stats: () => ({ ...stats }),
    assignedPartitions: () => [...assigned],
    shutdown() {
      stopped ??= consumer.disconnect();
      return stopped;
    },
  };
}
