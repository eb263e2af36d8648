/**
 * stdout sink: the seed's JSON line per exchange (formats/json-line.ts), one write per batch.
 * Operational messages never come here (they go to stderr), so stdout stays pure JSONL.
 */
import type { Exchange } from '../core/exchange.js';
import { InferlogError } from '../core/errors.js';
import { encodeJsonLine } from '../formats/json-line.js';
import type { Sink, SinkFactory } from './sink.js';

export const createStdoutSink: SinkFactory = (_url, options) => {
  const out = options.stdout ?? process.stdout;
  const sink: Sink = {
    name: 'stdout',
    maxBatch: 256,
    async start() {},
    send(batch: readonly Exchange[]): Promise<void> {
      let text = '';
      for (const ex of batch) text += encodeJsonLine(ex) + '\n';
      return new Promise((resolve, reject) => {
        out.write(text, (err) =>
          err
            ? reject(new InferlogError('SINK_IO', `cannot write to stdout: ${err.message}`, { cause: err }))
            : resolve(),
        );
      });
    },
    async shutdown() {},
  };
  return sink;
};
