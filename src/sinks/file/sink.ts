/**
 * file sink: `file:///var/log/inferlog/requests.jsonl`, the seed's JSON line per exchange,
 * appended, with size-based rotation and retention (parameters in ./config.ts).
 *
 *   batch ──encoder (line | record)──▶ one append ──▶ RotatingFile (./client.ts)
 *     └─ log-instances ──instanceRows──▶ one append ──▶ RotatingFile requests.instances.jsonl
 *
 * Instance rows go to a sibling file, not between the exchange lines: readers of the exchange
 * log (KServe-style line consumers, `format=record` readers that reject unknown lines) keep
 * working unchanged, and a monitoring job reads one file of one shape (`spark.read.json`).
 */
import type { Exchange } from '../../core/exchange.js';
import { InferlogError } from '../../core/errors.js';
import type { Sink, SinkFactory } from '../sink.js';
import { RotatingFile } from './client.js';
import { fileSinkConfig } from './config.js';
import { batchEncoder, instanceEncoder, instancesPath } from './encoder.js';

export const createFileSink: SinkFactory = (url, options) => {
  const config = fileSinkConfig(url);
  const encode = batchEncoder(config.format);
  const file = new RotatingFile(config);
  const instances = options.logInstances
    ? { file: new RotatingFile({ ...config, path: instancesPath(config.path) }), encode: instanceEncoder() }
    : undefined;
  const ioError = (what: string, e: unknown): InferlogError =>
    new InferlogError('SINK_IO', `file sink: cannot ${what} ${config.path}: ${(e as Error).message}`, {
      cause: e,
    });

  const sink: Sink = {
    name: `file://${config.path}`,
    maxBatch: 512,
    async start() {
      if (file.isOpen) return;
      try {
        await file.open();
        await instances?.file.open();
      } catch (e) {
        throw ioError('open', e);
      }
    },
    async send(batch: readonly Exchange[]) {
      if (batch.length === 0) return;
      const rows = instances?.encode(batch);
      try {
        await file.append(encode(batch));
        // After the exchanges: a failed write is retried whole, like any batch (at least once).
        if (rows && rows.text.length > 0) await instances!.file.append(rows.text);
      } catch (e) {
        throw ioError('write', e);
      }
      if (rows) {
        if (rows.count > 0) options.instances?.written(rows.count);
        for (const reason of rows.skipped) options.instances?.skipped(reason);
      }
    },
    shutdown: async () => {
      await file.close();
      await instances?.file.close();
    },
  };
  return sink;
};
