/**
 * Closing a connection after an answer sent before the request was read (413 body too large, 431
 * head too large, 401 before an upload) without resetting it: nginx's lingering close.
 *
 *   answer written ──▶ FIN (our side done) ──▶ read and discard what the client still sends
 *        └─ client finished (FIN) / quiet for `idleMs` / over `maxBytes` / `totalMs` passed ──▶ close
 *
 * Why: closing a socket whose receive buffer still holds unread bytes makes the kernel send RST,
 * and a client still writing its body then sees "connection reset" / EPIPE instead of the status
 * it was sent (curl exits 56, fetch throws). Discarding is bounded, in bytes and in time, so a
 * client that keeps sending cannot hold the connection.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

export interface LingerLimits {
  /** The most bytes discarded before the connection is closed anyway. */
  maxBytes: number;
  /** Closed when nothing arrives for this long. */
  idleMs: number;
  /** Closed after this long whatever arrives (nginx's lingering_time). */
  totalMs: number;
}

export const LINGER_DEFAULTS: LingerLimits = Object.freeze({
  maxBytes: 64 * 1024 * 1024,
  idleMs: 5_000,
  totalMs: 30_000,
});

/** Closes `socket` when the limits say so; returns a function to call for each discarded chunk. */
function lingerOn(socket: Duplex, limits: LingerLimits): (bytes: number) => void {
  let seen = 0;
  const close = (): void => {
    clearTimeout(idle);
    clearTimeout(total);
    socket.destroy();
  };
  let idle = setTimeout(close, limits.idleMs).unref();
  const total = setTimeout(close, limits.totalMs).unref();
  socket.once('close', () => {
    clearTimeout(idle);
    clearTimeout(total);
  });
  return (bytes) => {
    seen += bytes;
    if (seen > limits.maxBytes) return close();
    clearTimeout(idle);
    idle = setTimeout(close, limits.idleMs).unref();
  };
}

const lingering = new WeakSet<Duplex>();

/**
 * For a server's `clientError` (the head could not be parsed, or is over the header limit): writes
 * `answer` (a whole raw HTTP response with `Connection: close`), then lingers. Node's parser may
 * report more errors for the same socket as bytes keep arriving: only the first one answers.
 */
export function answerAndLinger(
  socket: Duplex,
  answer: string,
  limits: LingerLimits = LINGER_DEFAULTS,
): void {
  if (lingering.has(socket)) return;
  lingering.add(socket);
  if (!socket.writable) return void socket.destroy();
  socket.end(answer);
  const discarded = lingerOn(socket, limits);
  socket.on('data', (chunk: Buffer) => discarded(chunk.length));
  socket.once('end', () => socket.destroy());
  socket.resume();
}

/**
 * For an HTTP answer (sent with `Connection: close`) to a request whose body has not been read:
 * discards the rest of the body, bounded, and closes the connection once the client finished or
 * a limit is hit. Node would otherwise destroy the socket as soon as the answer is written.
 */
export function lingerAfterAnswer(req: IncomingMessage, limits: LingerLimits = LINGER_DEFAULTS): void {
  const socket = req.socket as Duplex & { destroySoon?: () => void };
  if (lingering.has(socket)) return;
  lingering.add(socket);
  // Any per-request socket timeout (the body-idle 408) would answer a second time.
  req.socket.setTimeout(0);
  const original = socket.destroySoon;
  let answered = false;
  let bodyDone = false;
  // Node's http server calls destroySoon once the `Connection: close` answer is written; end our
  // side there instead, and close when the body is in (or a limit is hit).
  socket.destroySoon = () => {
    answered = true;
    if (bodyDone) return void original?.call(socket);
    socket.end();
  };
  const discarded = lingerOn(socket, limits);
  req.on('data', (chunk: Buffer) => discarded(chunk.length));
  req.once('end', () => {
    bodyDone = true;
    if (answered) original?.call(socket);
  });
  req.resume();
}

/**
 * The status for an error node's HTTP parser reports (`clientError`): 431 for a head over the
 * header limit (nginx answers 400/431 there), 408 for a request that did not arrive in time,
 * otherwise 400. Undefined when the connection is already gone (reset, broken pipe).
 */
export function clientErrorStatus(err: Error & { code?: string }): string | undefined {
  if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return undefined;
  if (err.code === 'HPE_HEADER_OVERFLOW') return '431 Request Header Fields Too Large';
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return '408 Request Timeout';
  return '400 Bad Request';
}

/** A whole raw answer for `clientErrorStatus`, with `Connection: close` and an optional JSON body. */
export function rawAnswer(status: string, json?: unknown): string {
  const body = json === undefined ? '' : JSON.stringify(json);
  const type = json === undefined ? '' : 'Content-Type: application/json; charset=utf-8\r\n';
  return `HTTP/1.1 ${status}\r\nConnection: close\r\n${type}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

/**
 * A server's whole `clientError` handler: answers the parser's error with its status, then
 * lingers (431/400: the client may still be writing its request). A late request (408) is
 * closed at once: lingering would give a client that trickles bytes more time, not less.
 * `body` makes the JSON body for a status, in the server's error shape.
 */
export function answerClientError(
  err: Error & { code?: string },
  socket: Duplex,
  body?: (status: string) => unknown,
): void {
  // The parser reports an error again for every chunk that arrives while we linger: answered once.
  if (lingering.has(socket)) return;
  const status = clientErrorStatus(err);
  if (status === undefined || !socket.writable) return void socket.destroy();
  const answer = rawAnswer(status, body?.(status));
  if (status.startsWith('408')) {
    socket.end(answer);
    (socket as Duplex & { destroySoon?: () => void }).destroySoon?.();
    return;
  }
  answerAndLinger(socket, answer);
}
