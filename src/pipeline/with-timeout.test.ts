import { afterEach, describe, expect, it } from 'vitest';
import type { Exchange } from '../core/exchange.js';
import type { Sink } from '../sinks/sink.js';
import { exchange, RecordServer, recordSink } from '../../test/support/record-server.js';
import { withTimeout } from './with-timeout.js';

let server: RecordServer;
afterEach(async () => server?.stop());

describe('withTimeout', () => {
  it('fails a send to a peer that never answers with SINK_TIMEOUT, and aborts the request', async () => {
    server = await new RecordServer().start();
    server.behaviour = { kind: 'hang' };
    const inner = recordSink(server.url);
    let innerSignal: AbortSignal | undefined;
    const spy: Sink = {
      ...inner,
      send: (b: readonly Exchange[], s: AbortSignal) => ((innerSignal = s), inner.send(b, s)),
    };
    await expect(
      withTimeout(spy, 200).send([exchange()], new AbortController().signal),
    ).rejects.toMatchObject({
      code: 'SINK_TIMEOUT',
      kind: 'retryable',
    });
    expect(innerSignal?.aborted).toBe(true);
  });

  it('times out even a sink that ignores its abort signal', async () => {
    const stuck: Sink = {
      name: 'stuck',
      maxBatch: 1,
      start: async () => {},
      shutdown: async () => {},
      send: () => new Promise(() => {}),
    };
    await expect(
      withTimeout(stuck, 50).send([exchange()], new AbortController().signal),
    ).rejects.toMatchObject({ code: 'SINK_TIMEOUT' });
  });

  it('passes a prompt answer through', async () => {
    server = await new RecordServer().start();
    const ex = exchange();
    await withTimeout(recordSink(server.url), 5000).send([ex], new AbortController().signal);
    expect(server.counts.get(ex.id)).toBe(1);
  });
});
