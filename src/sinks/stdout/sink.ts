/**
 * stdout sink: the seed's JSON line per exchange, one write per batch.
 * Operational messages never come here (they go to stderr), so stdout stays pure JSONL.
 *
 *   batch ──encoder──▶ one string ──client──▶ process.stdout (or the stream a test passes)
 */
import type { Exchange } from '../../core/exchange.js';
import { InferlogError } from '../../core/errors.js';
import type { Sink, SinkFactory } from '../sink.js';
import { writeTo } from './client.js';
import { encodeBatch } from './encoder.js';

export const createStdoutSink: SinkFactory = (_url, options) => {
  const out = options.stdout ?? process.stdout;
  const sink: Sink = {
    name: 'stdout',
    maxBatch: 256,
    async start() {},
    async send(batch: readonly Exchange[]) {
      if (batch.length === 0) return;
      try {
        await writeTo(out, encodeBatch(batch));
      } catch (e) {
        throw new InferlogError('SINK_IO', `cannot write to stdout: ${(e as Error).message}`, { cause: e });
      }
    },
    async shutdown() {},
  };
  return sink;
};
