import { createHash } from 'node:crypto';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Exchange } from '../core/exchange.js';
import {
  finalStatus,
  headerValues,
  rawRequest,
  startRawModelServer,
  type RawModelServer,
} from '../../test/helpers/raw-http.js';
import { createCaptureProxy, type CaptureProxy, type ProxyOptions } from './proxy.js';
import { Recorder } from './recorder.js';
import { atTurnEnd } from '../pipeline/turn-end.js';

// A real model-like upstream with the behaviours a proxy must pass through untouched.
let releaseSecondChunk: () => void = () => {};
const upstream = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    switch (req.url) {
      case '/v1/models/m:predict':
        res.writeHead(201, 'Made', [
          'Content-Type',
          'application/json',
          'X-Model-Version',
          '7',
          'Set-Cookie',
          'a=1',
          'Set-Cookie',
          'b=2',
        ]);
        res.end(JSON.stringify({ predictions: [3, 5], echoedBytes: body.length }));
        return;
      case '/binary':
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0xff, 0x00]), body]));
        return;
      case '/digest':
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(createHash('sha256').update(body).digest('hex'));
        return;
      case '/stream':
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: {"choices":[{"delta":{"content":"hel"}}]}\n\n');
        releaseSecondChunk = () => {
          res.write('data: {"choices":[{"delta":{"content":"lo"}}]}\n\n');
          res.end('data: [DONE]\n\n');
        };
        return;
      case '/big': {
        // A non-streaming answer in several writes: the proxy holds back only the newest chunk.
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        let i = 0;
        const next = (): void => {
          if (i === 4) return void res.end();
          res.write(Buffer.alloc(64 * 1024, 97 + i++));
          setTimeout(next, 5);
        };
        next();
        return;
      }
      case '/reset':
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        res.write('{"partial":');
        setTimeout(() => res.socket?.destroy(), 20);
        return;
      default:
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"error":"Model with name x does not exist."}');
    }
  });
});

let proxy: CaptureProxy;
let proxyUrl: string;
const logged: Exchange[] = [];
let onSubmit: ((ex: Exchange) => void) | undefined;

function listenOn(server: http.Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

function recorderFor(mode: 'all' | 'request' | 'response', maxCaptureBytes = 1 << 20) {
  return new Recorder({
    source: {
      inferenceService: 'm',
      namespace: 'ns',
      component: 'predictor',
      endpoint: '',
      sourceUri: 'http://localhost:9081/',
      annotations: {},
    },
    mode,
    maxCaptureBytes,
    trustInboundId: true, // 'reuses an inbound Ce-Id' below; the default (off) is in recorder.test.ts
    metadataHeaders: ['X-Request-Id', 'Authorization'],
    forceHeaders: [],
    submitter: {
      submit: (ex) => {
        logged.push(ex);
        onSubmit?.(ex);
      },
    },
  });
}

interface Reply {
  status: number;
  statusMessage: string;
  rawHeaders: string[];
  body: Buffer;
}

function send(url: string, options: http.RequestOptions, body?: Buffer | string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          statusMessage: res.statusMessage ?? '',
          rawHeaders: res.rawHeaders,
          body: Buffer.concat(chunks),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const withoutDate = (raw: string[]): string[] => {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const k = (raw[i] as string).toLowerCase();
    if (k !== 'date' && k !== 'connection' && k !== 'keep-alive') out.push(k, raw[i + 1] as string);
  }
  return out;
};

async function waitFor(pred: () => boolean, timeoutMs = 2000): Promise<void> {
  for (let i = 0; i < timeoutMs / 10 && !pred(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(pred()).toBe(true);
}

let upstreamUrl: string;
beforeAll(async () => {
  const port = await listenOn(upstream);
  upstreamUrl = `http://127.0.0.1:${port}`;
  proxy = createCaptureProxy({ upstream: upstreamUrl, recorder: recorderFor('all') });
  proxyUrl = `http://127.0.0.1:${await listenOn(proxy.server)}`;
});
afterAll(async () => {
  await proxy.close();
  upstream.close();
});

describe('capture proxy', () => {
  it('gives the client exactly what the model answered, and logs both halves', async () => {
    logged.length = 0;
    const body = '{"instances": [1.0, 2.0]}';
    const opts = {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'r-1', authorization: 'Bearer s3cret' },
    };
    const direct = await send(`${upstreamUrl}/v1/models/m:predict`, opts, body);
    const proxied = await send(`${proxyUrl}/v1/models/m:predict`, opts, body);
    expect(proxied.status).toBe(201);
    expect(proxied.statusMessage).toBe('Made');
    expect(proxied.body.equals(direct.body)).toBe(true);
    expect(withoutDate(proxied.rawHeaders)).toEqual(withoutDate(direct.rawHeaders));

    await waitFor(() => logged.length === 1);
    const ex = logged[0] as Exchange;
    expect(ex.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(ex).toMatchObject({ method: 'POST', url: '/v1/models/m:predict', status: 201, mode: 'all' });
    expect(Buffer.from(ex.request!.bytes).toString()).toBe(body);
    expect(ex.request?.contentType).toBe('application/json');
    expect(Buffer.from(ex.response!.bytes).equals(direct.body)).toBe(true);
    // Allow-listed, but Authorization is a secret: never captured unless forced.
    expect(ex.metadata).toEqual({ 'X-Request-Id': ['r-1'] });
    expect(ex.responseTime).toBeGreaterThanOrEqual(ex.requestTime);
  });

  it('reuses an inbound Ce-Id as the exchange id', async () => {
    logged.length = 0;
    await send(`${proxyUrl}/v1/models/m:predict`, { method: 'POST', headers: { 'ce-id': 'trace-42' } }, '{}');
    await waitFor(() => logged.length === 1);
    expect(logged[0]?.id).toBe('trace-42');
  });

  it('passes binary bodies through byte for byte', async () => {
    logged.length = 0;
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0xfe]);
    const reply = await send(
      `${proxyUrl}/binary`,
      { method: 'POST', headers: { 'content-type': 'application/octet-stream' } },
      png,
    );
    expect(reply.body.subarray(6).equals(png)).toBe(true);
    await waitFor(() => logged.length === 1);
    expect(Buffer.from(logged[0]!.request!.bytes).equals(png)).toBe(true);
  });

  it('streams a large chunked upload through whole while the log keeps a capped, hashed copy', async () => {
    logged.length = 0;
    const small = createCaptureProxy({ upstream: upstreamUrl, recorder: recorderFor('all', 64 * 1024) });
    const url = `http://127.0.0.1:${await listenOn(small.server)}`;
    const big = Buffer.alloc(3 * 1024 * 1024, 7);
    big.write('unique-prefix');
    const reply = await new Promise<Reply>((resolve, reject) => {
      const req = http.request(`${url}/digest`, { method: 'POST' }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            statusMessage: '',
            rawHeaders: [],
            body: Buffer.concat(chunks),
          }),
        );
      });
      req.on('error', reject);
      for (let i = 0; i < big.length; i += 256 * 1024) req.write(big.subarray(i, i + 256 * 1024)); // chunked: no content-length
      req.end();
    });
    const digest = createHash('sha256').update(big).digest('hex');
    expect(reply.body.toString()).toBe(digest);
    await waitFor(() => logged.length === 1);
    expect(logged[0]?.request).toMatchObject({ size: big.length, truncated: true, sha256: digest });
    expect(logged[0]?.request?.bytes.length).toBe(64 * 1024);
    await small.close();
  });

  it('forwards a stream chunk by chunk and logs its timing and assembled text', async () => {
    logged.length = 0;
    const firstChunk = await new Promise<{ first: string; rest: Promise<string> }>((resolve, reject) => {
      http
        .get(`${proxyUrl}/stream`, (res) => {
          let seen = '';
          let resolveRest: (s: string) => void = () => {};
          const rest = new Promise<string>((r) => (resolveRest = r));
          res.on('data', (c: Buffer) => {
            if (seen === '') resolve({ first: c.toString(), rest });
            seen += c.toString();
          });
          res.on('end', () => resolveRest(seen));
        })
        .on('error', reject);
    });
    // The client holds the first event while the model has not sent the second yet.
    expect(firstChunk.first).toContain('"hel"');
    releaseSecondChunk();
    expect(await firstChunk.rest).toContain('[DONE]');
    await waitFor(() => logged.length === 1);
    const stream = logged[0]?.stream;
    expect(stream?.partial).toBe(false);
    expect(stream?.chunks).toBeGreaterThanOrEqual(2);
    expect(stream?.ttfbMs).toBeLessThanOrEqual(stream?.ttlbMs ?? 0);
    expect(stream?.assembledText).toBe('hello');
  });

  it('logs a failed upstream with the status the client got and a reason', async () => {
    logged.length = 0;
    const dead = createCaptureProxy({ upstream: 'http://127.0.0.1:1', recorder: recorderFor('all') });
    const url = `http://127.0.0.1:${await listenOn(dead.server)}`;
    const reply = await send(`${url}/v1/models/m:predict`, { method: 'POST' }, '{"instances":[1]}');
    expect(reply.status).toBe(502);
    expect(JSON.parse(reply.body.toString()).error).toMatch(/unreachable/);
    await waitFor(() => logged.length === 1);
    expect(logged[0]).toMatchObject({ status: 502, error: { code: 'UPSTREAM_UNREACHABLE' } });
    expect(Buffer.from(logged[0]!.request!.bytes).toString()).toBe('{"instances":[1]}');
    await dead.close();
  });

  it('logs a response cut off mid-body as partial', async () => {
    logged.length = 0;
    await expect(send(`${proxyUrl}/reset`, { method: 'GET' })).rejects.toThrow();
    await waitFor(() => logged.length === 1);
    expect(logged[0]).toMatchObject({ status: 200, error: { code: 'UPSTREAM_RESET' } });
    expect(Buffer.from(logged[0]!.response!.bytes).toString()).toBe('{"partial":');
  });

  it('ends an answer only after the work its exchange put off to the end of the turn (the spool write)', async () => {
    // The spool writes a turn's records at its end (pipeline/turn-end.ts); the client must not
    // have its whole answer before then, or a SIGKILL in between would lose an answered exchange.
    logged.length = 0;
    let answer: http.ServerResponse | undefined;
    const onRequest = (_req: http.IncomingMessage, res: http.ServerResponse): void => void (answer = res);
    proxy.server.on('request', onRequest);
    const endedAtWrite: boolean[] = [];
    onSubmit = () => atTurnEnd(() => endedAtWrite.push(answer?.writableEnded ?? true));
    try {
      for (const path of ['/v1/models/m:predict', '/big', '/stream']) {
        const reply = send(`${proxyUrl}${path}`, { method: 'POST' }, '{}');
        if (path === '/stream') setTimeout(() => releaseSecondChunk(), 50);
        expect((await reply).status).toBeLessThan(300);
      }
    } finally {
      onSubmit = undefined;
      proxy.server.off('request', onRequest);
    }
    expect(endedAtWrite).toEqual([false, false, false]);
  });

  it('passes a non-streaming answer sent in several writes through whole', async () => {
    logged.length = 0;
    const reply = await send(`${proxyUrl}/big`, { method: 'GET' });
    const want = Buffer.concat([0, 1, 2, 3].map((i) => Buffer.alloc(64 * 1024, 97 + i)));
    expect(reply.body.equals(want)).toBe(true);
    await waitFor(() => logged.length === 1);
    expect(Buffer.from(logged[0]!.response!.bytes).equals(want)).toBe(true);
  });

  it('logs 4xx answers too (KServe logs only 200s)', async () => {
    logged.length = 0;
    const reply = await send(`${proxyUrl}/v1/models/x:predict`, { method: 'POST' }, '{}');
    expect(reply.status).toBe(404);
    await waitFor(() => logged.length === 1);
    expect(logged[0]).toMatchObject({ status: 404 });
    expect(Buffer.from(logged[0]!.response!.bytes).toString()).toContain('does not exist');
  });
});

describe('capture proxy against hostile clients', () => {
  let model: RawModelServer;
  beforeAll(async () => {
    model = await startRawModelServer();
  });
  afterAll(() => model.close());

  async function proxyWith(options: Partial<ProxyOptions> = {}) {
    const p = createCaptureProxy({
      upstream: `http://127.0.0.1:${model.port}`,
      recorder: recorderFor('all'),
      ...options,
    });
    return { p, port: await listenOn(p.server) };
  }

  it('keeps answering while slow uploads hold sockets, and cuts the slow ones off with a logged 408', async () => {
    logged.length = 0;
    // A small pool and short timeouts so the attack plays out in seconds (defaults: 128, 60 s, 300 s).
    const { p, port } = await proxyWith({
      connections: 2,
      requestBodyTimeoutMs: 800,
      requestTimeoutMs: 2500,
    });
    const slow: net.Socket[] = [];
    const answers: string[] = [];
    const trickle: NodeJS.Timeout[] = [];
    for (let i = 0; i < 8; i++) {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => {});
      const got: string[] = [];
      s.on('data', (c: Buffer) => got.push(c.toString('latin1')));
      s.on('close', () => answers.push(got.join('')));
      // Half trickle a chunk faster than the body timeout (only the total request timeout ends
      // them), half go silent after the first chunk (the body timeout ends them).
      s.write(
        `POST /slow/${i} HTTP/1.1\r\nHost: m\r\nTransfer-Encoding: chunked\r\nX-Request-Id: slow-${i}\r\n\r\n1\r\n{\r\n`,
      );
      if (i % 2 === 0) trickle.push(setInterval(() => s.writable && s.write('1\r\n \r\n'), 200));
      slow.push(s);
    }
    try {
      await new Promise((r) => setTimeout(r, 300));
      // An ordinary client is answered promptly although every pool slot could have been taken.
      const reply = await Promise.race([
        send(`http://127.0.0.1:${port}/v1/models/m:predict`, { method: 'POST' }, '{"instances":[1]}'),
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error('stalled behind slow uploads')), 2000),
        ),
      ]);
      expect(reply.status).toBe(200);
      // Every slow upload is cut off with a 408 and logged with a reason.
      await waitFor(() => answers.length === 8, 8000);
      for (const a of answers) expect(finalStatus(a)).toBe(408);
      const timedOut = logged.filter((ex) => ex.url.startsWith('/slow/'));
      expect(timedOut).toHaveLength(8);
      for (const ex of timedOut) expect(ex).toMatchObject({ status: 408, error: { code: 'CLIENT_TIMEOUT' } });
      // Nothing of theirs reached the model.
      expect(model.received.filter((r) => r.requestLine.includes('/slow/'))).toHaveLength(0);
    } finally {
      for (const t of trickle) clearInterval(t);
      for (const s of slow) s.destroy();
      await p.close();
    }
  });

  it('cuts off a body that stalls after the buffered prefix has gone upstream', async () => {
    logged.length = 0;
    const { p, port } = await proxyWith({ requestBodyTimeoutMs: 500, requestBufferBytes: 1024 });
    try {
      const raw = await rawRequest(
        port,
        `POST /big HTTP/1.1\r\nHost: m\r\nContent-Length: 100000\r\n\r\n${'x'.repeat(4096)}`,
        5000,
      );
      expect(finalStatus(raw)).toBe(408);
      await waitFor(() => logged.length === 1);
      expect(logged[0]).toMatchObject({ url: '/big', status: 408, error: { code: 'CLIENT_TIMEOUT' } });
    } finally {
      await p.close();
    }
  });

  it('handles Expect: 100-continue itself and forwards the body without Expect', async () => {
    logged.length = 0;
    model.received.length = 0;
    const { p, port } = await proxyWith();
    try {
      const answer = await new Promise<string>((resolve, reject) => {
        const s = net.connect(port, '127.0.0.1');
        let out = '';
        let sent = false;
        setTimeout(() => reject(new Error(`no answer; got: ${out}`)), 5000);
        s.on('data', (c: Buffer) => {
          out += c.toString('latin1');
          if (out.startsWith('HTTP/1.1 100') && !sent) {
            sent = true;
            s.write('{"instances":[42]}');
          }
          if (/\r\n\r\n\{"ok":true[^}]*\}$/.test(out)) {
            s.destroy();
            resolve(out);
          }
        });
        s.on('error', reject);
        s.write(
          'POST /v1/models/m:predict HTTP/1.1\r\nHost: m\r\nContent-Length: 18\r\nExpect: 100-continue\r\n\r\n',
        );
      });
      expect(answer).toMatch(/^HTTP\/1\.1 100 Continue\r\n/);
      expect(finalStatus(answer)).toBe(200);
      expect(model.received).toHaveLength(1);
      expect(headerValues(model.received[0]!, 'expect')).toEqual([]);
      expect(model.received[0]!.body.toString()).toBe('{"instances":[42]}');
      await waitFor(() => logged.length === 1);
      expect(logged[0]).toMatchObject({ status: 200 });
      expect(logged[0]?.error).toBeUndefined();
    } finally {
      await p.close();
    }
  });

  it('answers a duplicate Host with 400, logged, and forwards nothing', async () => {
    logged.length = 0;
    model.received.length = 0;
    const { p, port } = await proxyWith();
    try {
      const raw = await rawRequest(
        port,
        'POST /v1/models/m:predict HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\nContent-Length: 2\r\n\r\n{}',
      );
      expect(finalStatus(raw)).toBe(400);
      await waitFor(() => logged.length === 1);
      expect(logged[0]).toMatchObject({ status: 400, error: { code: 'CLIENT_REQUEST_INVALID' } });
      expect(model.received).toHaveLength(0);
    } finally {
      await p.close();
    }
  });

  it('sends an absolute-form target upstream in origin form, with the target authority as Host', async () => {
    logged.length = 0;
    model.received.length = 0;
    const { p, port } = await proxyWith();
    try {
      const raw = await rawRequest(
        port,
        'POST http://evil.example/abs?x=1 HTTP/1.1\r\nHost: m\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}',
      );
      expect(finalStatus(raw)).toBe(200);
      expect(model.received[0]?.requestLine).toBe('POST /abs?x=1 HTTP/1.1');
      expect(headerValues(model.received[0]!, 'host')).toEqual(['evil.example']);
      await waitFor(() => logged.length === 1);
      // The log shows what the model processed.
      expect(logged[0]).toMatchObject({ url: '/abs?x=1', status: 200 });
    } finally {
      await p.close();
    }
  });

  it('strips the headers the Connection header names, and every hop-by-hop header', async () => {
    model.received.length = 0;
    const { p, port } = await proxyWith();
    try {
      const raw = await rawRequest(
        port,
        'POST /v1/models/m:predict HTTP/1.1\r\nHost: m\r\nConnection: keep-alive, X-Hop-Secret ,x-other-hop\r\n' +
          'X-Hop-Secret: s1\r\nX-Other-Hop: s2\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nProxy-Connection: x\r\n' +
          'X-Kept: yes\r\nContent-Length: 2\r\n\r\n{}',
      );
      expect(finalStatus(raw)).toBe(200);
      const names = model.received[0]!.headers.map(([k]) => k.toLowerCase());
      for (const hop of ['x-hop-secret', 'x-other-hop', 'keep-alive', 'te', 'proxy-connection']) {
        expect(names).not.toContain(hop);
      }
      expect(headerValues(model.received[0]!, 'x-kept')).toEqual(['yes']);
    } finally {
      await p.close();
    }
  });
});
