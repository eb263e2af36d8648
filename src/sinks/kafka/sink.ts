/**
 * Kafka sink: each exchange becomes its request and response CloudEvents (binary mode)
 * produced to one topic, keyed by exchange id.
 *
 *   pipeline ──send(batch)──▶ encodeBatch ──▶ kafkajs producer.send(acks) ──ack──▶ resolve
 *                                                       └──error──▶ classifyKafkaError ──▶ reject(InferlogError)
 *
 * `send` resolves only after the broker acknowledged every record (acks=all by default:
 * every in-sync replica has it). The producer is idempotent by default, so kafkajs's own
 * retries inside one send never duplicate; a send the pipeline retries after a failure
 * may duplicate records (at-least-once: consumers dedupe on ce_id + ce_type).
 * kafkajs retries a few times within the send timeout and then reports, so the pipeline's
 * retry and spool policy stays in charge of long outages.
 */
import { CompressionTypes, Kafka, Partitioners, logLevel, type LogEntry, type Producer } from 'kafkajs';
import { InferlogError } from '../../core/errors.js';
import type { Exchange } from '../../core/exchange.js';
import { createOpLogger } from '../../core/log.js';
import type { Sink, SinkFactory, SinkOptions } from '../sink.js';
import { classifyKafkaError } from './classify.js';
import { parseKafkaUrl, redact, type KafkaUrlSettings } from '../../transport/kafka-url.js';
import { loadClientTls } from '../../transport/tls.js';
import { chunksOf, encodeBatch } from './encoder.js';

/** Exchanges per send; each send is further split into produce calls by bytes (KAFKA_MAX_REQUEST_BYTES). */
export const KAFKA_MAX_BATCH = 500;

/** Record bytes (values and headers) per produce call. */
export const KAFKA_MAX_REQUEST_BYTES = 8 * 1024 * 1024;

const log = createOpLogger('sink.kafka');

/**
 * kafkajs's own log lines go to our stderr logger at debug: every failure it logs also ends
 * the send with an error, which the pipeline reports once, classified (kafkajs logs each retry).
 */
function kafkaLogCreator() {
  return ({ level, log: entry }: LogEntry): void => {
    if (level > logLevel.WARN) return;
    const { message, stack: _stack, ...fields } = entry as LogEntry['log'] & { stack?: unknown };
    log.debug(`kafkajs: ${message}`, fields);
  };
}

export function createKafkaSinkFromConfig(
  config: KafkaUrlSettings,
  options: SinkOptions,
  name: string,
): Sink {
  let kafka: Promise<Kafka> | undefined;
  /** The client, made once: with TLS it needs the CA file (a read failure is a config error, kept). */
  function client(): Promise<Kafka> {
    kafka ??= (async () =>
      new Kafka({
        clientId: config.clientId,
        brokers: config.brokers,
        ssl: config.tls ? await loadClientTls(options.tls) : false,
        connectionTimeout: Math.min(3000, options.timeoutMs),
        requestTimeout: options.timeoutMs,
        // A few quick retries for leader moves and metadata refreshes; outages are the pipeline's job.
        retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 },
        logLevel: logLevel.WARN,
        logCreator: kafkaLogCreator,
      }))();
    return kafka;
  }
  let producer: Producer | undefined;
  let connecting: Promise<Producer> | undefined;
  let closed = false;

  function connected(): Promise<Producer> {
    if (producer) return Promise.resolve(producer);
    connecting ??= client().then((kafka) => {
      const p = kafka.producer({
        idempotent: config.idempotent,
        // One request in flight keeps records in order across kafkajs retries.
        maxInFlightRequests: 1,
        createPartitioner: Partitioners.DefaultPartitioner,
        allowAutoTopicCreation: true,
        retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 },
      });
      return p.connect().then(
        () => {
          producer = p;
          connecting = undefined;
          return p;
        },
        (err: unknown) => {
          connecting = undefined;
          // Drop the half-open client; the next send builds a new one.
          void p.disconnect().catch(() => {});
          throw err;
        },
      );
    });
    connecting.catch(() => {
      connecting = undefined;
    });
    return connecting;
  }

  return {
    name,
    maxBatch: KAFKA_MAX_BATCH,

    // Only local configuration is checked (the TLS CA file): the broker may legitimately be
    // down at start (the pipeline buffers), and the URL was validated when the sink was made.
    async start() {
      await client();
    },

    async send(batch: readonly Exchange[], signal: AbortSignal): Promise<void> {
      if (closed) throw new InferlogError('SINK_UNREACHABLE', `${name} is shut down`);
      if (batch.length === 0) return;
      if (signal.aborted) throw abortReason(signal, name);
      const messages = encodeBatch(batch);
      let used: Producer | undefined;
      const attempt = (async () => {
        const p = await connected();
        used = p;
        // Sequential produce calls, so a batch that holds large bodies stays under the broker's
        // request size limit (socket.request.max.bytes, 100 MB by default).
        for (const chunk of chunksOf(messages, KAFKA_MAX_REQUEST_BYTES)) {
          await p.send({
            topic: config.topic,
            acks: config.acks,
            timeout: options.timeoutMs,
            compression: config.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
            messages: chunk,
          });
        }
      })();
      try {
        await abortable(attempt, signal, name);
      } catch (err) {
        // A failed send may have been written anyway (lost ack). An idempotent producer would
        // then give the *next* records the same sequence numbers and the broker would drop
        // them as duplicates: start the next send with a fresh producer (new producer id).
        if (used !== undefined && producer === used) {
          producer = undefined;
          void used.disconnect().catch(() => {});
        }
        throw classifyKafkaError(err, name);
      }
    },

    async shutdown() {
      if (closed) return;
      closed = true;
      const p = producer ?? (await connecting?.catch(() => undefined));
      producer = undefined;
      await p
        ?.disconnect()
        .catch((err: unknown) =>
          log.warn('kafka producer did not disconnect cleanly', { error: String(err) }),
        );
    },
  };
}

/** kafkajs cannot cancel a send: stop waiting for it when the pipeline aborts (the send may still land). */
function abortReason(signal: AbortSignal, name: string): InferlogError {
  return signal.reason instanceof InferlogError
    ? signal.reason
    : new InferlogError('SINK_TIMEOUT', `${name}: send aborted before the broker acknowledged`);
}

function abortable<T>(work: Promise<T>, signal: AbortSignal, name: string): Promise<T> {
  const reason = (): InferlogError => abortReason(signal, name);
  if (signal.aborted) {
    work.catch(() => {});
    return Promise.reject(reason());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      work.catch(() => {});
      reject(reason());
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/** `kafka://broker:9092/topic?…` — see config.ts and docs/kafka.md. */
export const createKafkaSink: SinkFactory = (url, options) => {
  const config = parseKafkaUrl(url);
  return createKafkaSinkFromConfig(config, options, redact(url));
};
