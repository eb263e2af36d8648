import { PassThrough } from 'node:stream';
import { sinkContract } from '../sink.contract.js';
import { createStdoutSink } from './sink.js';

// stdout's "destination" is the stream it writes to: a test stream that keeps every line.
sinkContract('stdout', {
  async create() {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString('utf8')));
    const options = {
      batchSize: 1,
      batchIntervalMs: 0,
      timeoutMs: 1000,
      tls: { skipVerify: false },
      stdout: out,
    };
    return {
      sink: createStdoutSink(new URL('stdout:'), options),
      delivered: async () =>
        text
          .split('\n')
          .filter(Boolean)
          .map((line) => (JSON.parse(line) as { id: string }).id),
      close: async () => void out.end(),
    };
  },
});
