/**
 * file sink: `file:///var/log/inferlog/requests.jsonl`, the seed's JSON line per exchange,
 * appended, with size-based rotation and retention (parameters in ./config.ts).
 *
 *   batch ──encoder (line | record)──▶ one append ──▶ RotatingFile (./client.ts)
 */
import type { Exchange } from '../../core/exchange.js';
import { InferlogError } from '../../core/errors.js';
import type { Sink, SinkFactory } from '../sink.js';
import { RotatingFile } from './client.js';
import { fileSinkConfig } from './config.js';
import { batchEncoder } from './encoder.js';

export const createFileSink: SinkFactory = (url) => {
  const config = fileSinkConfig(url);
  const encode = batchEncoder(config.format);
  const file = new RotatingFile(config);
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
      } catch (e) {
        throw ioError('open', e);
      }
    },
    async send(batch: readonly Exchange[]) {
      if (batch.length === 0) return;
      try {
        await file.append(encode(batch));
      } catch (e) {
        throw ioError('write', e);
      }
    },
    shutdown: () => file.close(),
  };
  return sink;
};
