import { afterEach, describe, expect, it } from 'vitest';
import { InferlogError } from '../core/errors.js';
import { exchange, RecordServer, recordSink } from '../../test/support/record-server.js';
import { backoffDelay, withRetry } from './with-retry.js';

let server: RecordServer;
afterEach(async () => server?.stop());

describe('withRetry', () => {
  it('retries 5xx until the peer accepts', async () => {
    server = await new RecordServer().start();
    server.behaviour = { kind: 'status', status: 500 };
    server.remaining = 2;
    const retries: number[] = [];
    const sink = withRetry(recordSink(server.url), {
      maxRetries: 5,
      baseDelayMs: 1,
      onRetry: (n) => retries.push(n),
    });
    const ex = exchange();
    await sink.send([ex], new AbortController().signal);
    expect(retries).toEqual([1, 2]);
    expect(server.counts.get(ex.id)).toBe(1);
  });

  it('gives up after maxRetries with the last error', async () => {
    server = await new RecordServer().start();
    server.behaviour = { kind: 'status', status: 502 };
    const sink = withRetry(recordSink(server.url), { maxRetries: 2, baseDelayMs: 1 });
    await expect(sink.send([exchange()], new AbortController().signal)).rejects.toMatchObject({
      code: 'SINK_SERVER_ERROR',
    });
    expect(server.requests).toBe(3);
  });

  it('never retries a permanent rejection', async () => {
    server = await new RecordServer().start();
    server.behaviour = { kind: 'status', status: 400 };
    const sink = withRetry(recordSink(server.url), { maxRetries: 5, baseDelayMs: 1 });
    await expect(sink.send([exchange()], new AbortController().signal)).rejects.toMatchObject({
      code: 'SINK_REJECTED',
    });
    expect(server.requests).toBe(1);
  });

  it("waits what a throttling peer's Retry-After asks", async () => {
    server = await new RecordServer().start();
    server.behaviour = { kind: 'status', status: 429, retryAfterS: 2 };
    server.remaining = 1;
    const delays: number[] = [];
    const sink = withRetry(recordSink(server.url), {
      maxRetries: 3,
      baseDelayMs: 1,
      delayMs: (n, err) => {
        delays.push(backoffDelay(n, err, 1));
        return 1; // the test does not sleep 2 s; the policy's answer is what is checked
      },
    });
    await sink.send([exchange()], new AbortController().signal);
    expect(delays).toEqual([2000]);
  });

  it('backoff grows exponentially, stays capped, and jitters within half of its step', () => {
    const err = new InferlogError('SINK_SERVER_ERROR', 'x');
    for (let n = 1; n <= 12; n++) {
      const d = backoffDelay(n, err, 100, 5000);
      const step = Math.min(5000, 100 * 2 ** (n - 1));
      expect(d).toBeGreaterThanOrEqual(step / 2);
      expect(d).toBeLessThanOrEqual(step);
    }
  });

  it('stops at once when cancelled during a backoff', async () => {
    server = await new RecordServer().start();
    server.behaviour = { kind: 'status', status: 503 };
    const ac = new AbortController();
    const stop = new AbortController();
    const sink = withRetry(recordSink(server.url), {
      maxRetries: 10,
      baseDelayMs: 60_000,
      stop: stop.signal,
      onRetry: () => stop.abort(),
    });
    // Stopping retries ends the 60 s backoff and surfaces the last error.
    await expect(sink.send([exchange()], ac.signal)).rejects.toMatchObject({ code: 'SINK_SERVER_ERROR' });
    expect(server.requests).toBe(1);
    const sink2 = withRetry(recordSink(server.url), {
      maxRetries: 10,
      baseDelayMs: 60_000,
      onRetry: () => ac.abort(new Error('cancelled')),
    });
    await expect(sink2.send([exchange()], ac.signal)).rejects.toThrow('cancelled');
  });
});
