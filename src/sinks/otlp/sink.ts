/**
 * The OTLP logs sink: `logger.url` of `otlp+http://…`, `otlp+https://…` or `otlp+grpc://…`.
 *
 *   send(batch) ──encodeLogsRequest──▶ one ExportLogsServiceRequest (protobuf) ──▶ one export ──▶ resolve on success
 *
 * One exchange is one LogRecord (encoder.ts). Batching, retries, timeouts and the spool are the
 * pipeline's, as for every sink: the sink holds no queue and never retries. An export is all or
 * nothing here, so a retried batch may duplicate records a receiver had partly accepted.
 */
import { InferlogError } from '../../core/errors.js';
import type { Sink, SinkFactory } from '../sink.js';
import { createOtlpClient, type OtlpClient } from './client.js';
import { otlpSinkConfig } from './config.js';
import { encodeLogsRequest } from './encoder.js';

/** Exchanges per export when the logger does not batch: one export per exchange would be wasteful. */
export const DEFAULT_OTLP_MAX_BATCH = 64;

export const createOtlpSink: SinkFactory = (url, options) => {
  const config = otlpSinkConfig(url);
  const name = `${url.protocol}//${url.host}${config.protocol === 'grpc' ? '' : config.path}`;
  let starting: Promise<OtlpClient> | undefined;
  let closed = false;

  const sink: Sink = {
    name,
    maxBatch: options.batchSize > 1 ? options.batchSize : DEFAULT_OTLP_MAX_BATCH,
    async start() {
      if (closed) throw new InferlogError('SINK_UNREACHABLE', `${name}: the sink was shut down`);
      starting ??= createOtlpClient(config, options);
      try {
        await starting;
      } catch (err) {
        starting = undefined;
        throw err;
      }
    },
    async send(batch, signal) {
      if (batch.length === 0) return;
      if (closed) throw new InferlogError('SINK_UNREACHABLE', `${name}: the sink was shut down`);
      await sink.start();
      const client = await (starting as Promise<OtlpClient>);
      await client.export(encodeLogsRequest(batch), signal);
    },
    async shutdown() {
      if (closed) return;
      closed = true;
      const client = await starting?.catch(() => undefined);
      await client?.close();
    },
  };
  return sink;
};
