// A raw node:http server on 127.0.0.1 that records every request exactly as it arrived
// (header names in their wire casing, body bytes), and answers with a programmable reply.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface Received {
  method: string;
  url: string;
  /** Name/value pairs in wire order and casing. */
  rawHeaders: Array<[string, string]>;
  body: Buffer;
}

export type Reply = (req: Received, res: ServerResponse) => void;

export interface Recorder {
  url: string;
  received: Received[];
  server: Server;
  /** Replaces how the server answers (default: 202, empty). */
  reply(fn: Reply): void;
  header(r: Received, name: string): string | undefined;
  close(): Promise<void>;
}

export const accept: Reply = (_req, res) => {
  res.writeHead(202).end();
};

export async function startRecorder(tls?: { key: string; cert: string }): Promise<Recorder> {
  const received: Received[] = [];
  let replyFn: Reply = accept;
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawHeaders: Array<[string, string]> = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2)
        rawHeaders.push([req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string]);
      const r: Received = {
        method: req.method ?? '',
        url: req.url ?? '',
        rawHeaders,
        body: Buffer.concat(chunks),
      };
      received.push(r);
      replyFn(r, res);
    });
  };
  const server: Server = tls ? createTlsServer(tls, handler) : createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const scheme = tls ? 'https' : 'http';
  return {
    url: `${scheme}://127.0.0.1:${port}/`,
    received,
    server,
    reply(fn) {
      replyFn = fn;
    },
    header(r, name) {
      return r.rawHeaders.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** SinkOptions for tests: per-event, 5 s timeout, no TLS. */
export function sinkOptions(
  overrides: Partial<import('../../src/sinks/sink.js').SinkOptions> = {},
): import('../../src/sinks/sink.js').SinkOptions {
  return { batchSize: 1, batchIntervalMs: 0, timeoutMs: 5000, tls: { skipVerify: false }, ...overrides };
}
