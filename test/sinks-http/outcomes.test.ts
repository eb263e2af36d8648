// How the http sink classifies what the destination does: the retry wrapper acts on these codes and kinds.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferlogError } from '../../src/core/errors.js';
import { createHttpSink } from '../../src/sinks/http/sink.js';
import { scenarioExchange } from './kserve-scenario.js';
import { sinkOptions, startRecorder, type Recorder } from './recorder.js';

let rec: Recorder;
beforeAll(async () => {
  rec = await startRecorder();
});
afterAll(async () => {
  await rec.close();
});

async function sendOnce(
  url: string,
  opts = sinkOptions(),
  signal = new AbortController().signal,
): Promise<unknown> {
  const sink = createHttpSink(new URL(url), opts);
  await sink.start();
  try {
    await sink.send([scenarioExchange({ mode: 'request' })], signal);
    return undefined;
  } catch (err) {
    return err;
  } finally {
    await sink.shutdown();
  }
}

describe('http sink outcome classification', () => {
  it.each([
    [500, {}, 'SINK_SERVER_ERROR', 'retryable', undefined],
    [502, {}, 'SINK_SERVER_ERROR', 'retryable', undefined],
    [503, {}, 'SINK_SERVER_ERROR', 'retryable', undefined],
    [503, { 'Retry-After': '3' }, 'SINK_THROTTLED', 'throttle', 3000],
    [429, { 'Retry-After': '7' }, 'SINK_THROTTLED', 'throttle', 7000],
    [429, {}, 'SINK_THROTTLED', 'throttle', undefined],
    [400, {}, 'SINK_REJECTED', 'permanent', undefined],
    [413, {}, 'SINK_REJECTED', 'permanent', undefined],
    [408, {}, 'SINK_TIMEOUT', 'retryable', undefined],
  ] as const)('status %i %j → %s (%s)', async (status, headers, code, kind, retryAfterMs) => {
    rec.reply((_r, res) => res.writeHead(status, headers).end('reason from the server'));
    const err = await sendOnce(rec.url);
    expect(err).toBeInstanceOf(InferlogError);
    expect(err).toMatchObject({ code, kind, status, retryAfterMs });
    expect((err as Error).message).toContain('reason from the server');
  });

  it('a large answer body: a 2xx is delivered, a 500 keeps its first bytes as the detail', async () => {
    const big = 'x'.repeat(1024 * 1024);
    rec.reply((_r, res) => res.writeHead(200).end(big));
    expect(await sendOnce(rec.url)).toBeUndefined();
    rec.reply((_r, res) => res.writeHead(500).end('reason first ' + big));
    const err = (await sendOnce(rec.url)) as InferlogError;
    expect(err).toMatchObject({ code: 'SINK_SERVER_ERROR', status: 500 });
    expect(err.message).toContain('reason first xxx');
    expect(err.message.length).toBeLessThan(1024);
  });

  it('reads an HTTP-date Retry-After', async () => {
    rec.reply((_r, res) =>
      res.writeHead(429, { 'Retry-After': new Date(Date.now() + 60_000).toUTCString() }).end(),
    );
    const err = (await sendOnce(rec.url)) as InferlogError;
    expect(err.code).toBe('SINK_THROTTLED');
    expect(err.retryAfterMs).toBeGreaterThan(50_000);
  });

  it('accepts any 2xx', async () => {
    for (const status of [200, 201, 202, 204]) {
      rec.reply((_r, res) => res.writeHead(status).end());
      expect(await sendOnce(rec.url)).toBeUndefined();
    }
  });

  it('connection refused → SINK_UNREACHABLE (retryable)', async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const { port } = srv.address() as AddressInfo;
    await new Promise<void>((r) => srv.close(() => r()));
    const err = await sendOnce(`http://127.0.0.1:${port}/`);
    expect(err).toMatchObject({ code: 'SINK_UNREACHABLE', kind: 'retryable' });
    expect((err as Error).message).toContain('ECONNREFUSED');
  });

  it('connection reset mid-answer → SINK_UNREACHABLE', async () => {
    rec.reply((_r, res) => res.socket?.destroy());
    expect(await sendOnce(rec.url)).toMatchObject({ code: 'SINK_UNREACHABLE', kind: 'retryable' });
  });

  describe('a destination that never answers', () => {
    let hang: Server;
    let url: string;
    beforeAll(async () => {
      hang = createServer(() => {
        /* reads the request, never answers */
      });
      await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(hang.address() as AddressInfo).port}/`;
    });
    afterAll(async () => {
      hang.closeAllConnections();
      await new Promise<void>((r) => hang.close(() => r()));
    });

    it('stops when the send signal aborts → SINK_TIMEOUT', async () => {
      const err = await sendOnce(url, sinkOptions({ timeoutMs: 60_000 }), AbortSignal.timeout(200));
      expect(err).toMatchObject({ code: 'SINK_TIMEOUT', kind: 'retryable' });
    });

    it('stops at the sink timeout even if the caller never aborts → SINK_TIMEOUT', async () => {
      const err = await sendOnce(url, sinkOptions({ timeoutMs: 300 }));
      expect(err).toMatchObject({ code: 'SINK_TIMEOUT', kind: 'retryable' });
    });

    it('passes on the InferlogError an aborting caller gives as reason (e.g. shutdown)', async () => {
      const ac = new AbortController();
      setTimeout(() => ac.abort(new InferlogError('SINK_UNREACHABLE', 'shutting down')), 100);
      const err = await sendOnce(url, sinkOptions({ timeoutMs: 60_000 }), ac.signal);
      expect(err).toMatchObject({ code: 'SINK_UNREACHABLE', message: 'shutting down' });
    });
  });

  it('reports the most retryable failure of a batch, so a retry is not given up for one permanent event', async () => {
    rec.reply((r, res) => {
      const id = rec.header(r, 'Ce-Id');
      if (id === 'bad') res.writeHead(400).end();
      else if (id === 'busy') res.writeHead(429, { 'Retry-After': '2' }).end();
      else res.writeHead(200).end();
    });
    const sink = createHttpSink(new URL(rec.url), sinkOptions());
    const batch = ['ok', 'bad', 'busy'].map((id) => scenarioExchange({ id, mode: 'request' }));
    await expect(sink.send(batch, new AbortController().signal)).rejects.toMatchObject({
      code: 'SINK_THROTTLED',
      retryAfterMs: 2000,
    });
    await sink.shutdown();
  });

  it('classifies a batched POST the same way', async () => {
    rec.reply((_r, res) => res.writeHead(503, { 'Retry-After': '1' }).end());
    const err = await sendOnce(rec.url, sinkOptions({ batchSize: 5 }));
    expect(err).toMatchObject({ code: 'SINK_THROTTLED', retryAfterMs: 1000 });
  });

  it('reuses keep-alive connections, also after a failed send', async () => {
    let connections = 0;
    const onConn = (): void => {
      connections++;
    };
    rec.server.on('connection', onConn);
    let n = 0;
    rec.reply((_r, res) => res.writeHead(n++ === 3 ? 500 : 200).end());
    const sink = createHttpSink(new URL(rec.url), sinkOptions());
    for (let i = 0; i < 10; i++)
      await sink
        .send([scenarioExchange({ mode: 'request' })], new AbortController().signal)
        .catch(() => undefined);
    await sink.shutdown();
    rec.server.off('connection', onConn);
    expect(n).toBe(10);
    // Sequential sends: undici may open a second socket while the first is being released, never one per event.
    expect(connections).toBeLessThanOrEqual(2);
  });

  it('rejects after shutdown, and shutdown is idempotent', async () => {
    const sink = createHttpSink(new URL(rec.url), sinkOptions());
    await sink.start();
    await sink.shutdown();
    await sink.shutdown();
    await expect(sink.send([scenarioExchange()], new AbortController().signal)).rejects.toBeInstanceOf(
      InferlogError,
    );
  });
});
