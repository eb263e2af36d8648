/**
 * Raw-socket HTTP for tests that must see (or send) exactly the bytes on the wire, which
 * node:http would normalise away: a model server that records each request as received,
 * and a client that writes arbitrary bytes and reads back the raw answer.
 *
 *   rawRequest(bytes) ──▶ proxy under test ──▶ RawModelServer.received[]  (head text + body bytes)
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  /** The request line, e.g. `POST /v1/models/m:predict HTTP/1.1`. */
  requestLine: string;
  /** Header fields in order, names as sent. */
  headers: Array<[string, string]>;
  /** The body after de-chunking. */
  body: Buffer;
}

export interface RawModelServer {
  port: number;
  received: ReceivedRequest[];
  /** Connections accepted so far. */
  connections: number;
  close(): Promise<void>;
}

/** Every header value named `name` (case-insensitive). */
export function headerValues(r: ReceivedRequest, name: string): string[] {
  const n = name.toLowerCase();
  return r.headers.filter(([k]) => k.toLowerCase() === n).map(([, v]) => v);
}

/** Parses one request from `buf`; undefined until it is complete. */
function parseOne(buf: Buffer): { req: ReceivedRequest; used: number } | undefined {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
  const requestLine = lines.shift() ?? '';
  const headers = lines.map((l): [string, string] => {
    const i = l.indexOf(':');
    return [l.slice(0, i), l.slice(i + 1).trim()];
  });
  const get = (n: string) => headers.find(([k]) => k.toLowerCase() === n)?.[1];
  let pos = end + 4;
  if (/chunked\s*$/i.test(get('transfer-encoding') ?? '')) {
    const parts: Buffer[] = [];
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', pos);
      if (lineEnd < 0) return undefined;
      const size = parseInt(buf.subarray(pos, lineEnd).toString('latin1'), 16);
      if (buf.length < lineEnd + 2 + size + 2) return undefined;
      if (size === 0) return { req: { requestLine, headers, body: Buffer.concat(parts) }, used: lineEnd + 4 };
      parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
      pos = lineEnd + 2 + size + 2;
    }
  }
  const length = Number(get('content-length') ?? 0);
  if (buf.length < pos + length) return undefined;
  return { req: { requestLine, headers, body: buf.subarray(pos, pos + length) }, used: pos + length };
}

/** A model server on 127.0.0.1 that answers every request `200 {"ok":true}` and records it. */
export async function startRawModelServer(): Promise<RawModelServer> {
  const received: ReceivedRequest[] = [];
  const sockets = new Set<net.Socket>();
  const state = { connections: 0 };
  const server = net.createServer((socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buf = Buffer.alloc(0);
    socket.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      for (let one = parseOne(buf); one; one = parseOne(buf)) {
        buf = buf.subarray(one.used);
        received.push(one.req);
        const body = `{"ok":true,"n":${received.length}}`;
        socket.write(
          `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
        );
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    received,
    get connections() {
      return state.connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * Writes `bytes` to 127.0.0.1:port and resolves with everything read until the server
 * closes the connection or `idleMs` pass without data (then the socket is closed).
 */
export function rawRequest(port: number, bytes: string | Buffer, idleMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let out = '';
    socket.setTimeout(idleMs, () => socket.destroy());
    socket.on('data', (c: Buffer) => (out += c.toString('latin1')));
    socket.on('close', () => resolve(out));
    socket.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? resolve(out) : reject(e)));
    socket.write(bytes);
  });
}

/** The status code of the first (non-1xx) response in a raw answer, or 0 if none. */
export function finalStatus(raw: string): number {
  for (const m of raw.matchAll(/^HTTP\/1\.[01] (\d{3})/gm)) {
    const code = Number(m[1]);
    if (code >= 200) return code;
  }
  return 0;
}
