/**
 * In-process capture for `inferlog up`: the same exchanges the agent would log, without
 * the proxy hop. The request body is read once (teed into the log copy) and handed to
 * the model handler; the response is teed by wrapping this response's writeHead/write/end.
 *
 *   request ──read once──▶ BodyCapture ─┐
 *                                       └──▶ handler(req, res, body) ──write/end──▶ client
 *                                                              └─ tee ─▶ recorder ─▶ pipeline.submit()
 *
 * Which recorder logs a request can depend on its body (`inferlog up` serves several models and
 * OpenAI routes name theirs in the body): then the choice waits for the body's end, or for the
 * body limit, whichever comes first, and the chunks read so far are handed over then.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { BatchInfo } from '../core/exchange.js';
import { nowMs } from '../core/time.js';
import { flushTurnEnd } from '../pipeline/turn-end.js';
import { createBodyWatch } from './body-watch.js';
import { isStreamingResponse, Recorder, type InFlight } from './recorder.js';

/** Gets the whole request body, or `undefined` when it was over `maxBodyBytes` (and was not kept). */
export type BodyHandler = (req: IncomingMessage, res: ServerResponse, body: Buffer | undefined) => void;

/** Picks the recorder per request (undefined: the request is not logged). */
export interface RecorderRouting {
  /** The recorder, from the request line and headers; `'body'` when only the body can tell. */
  atStart(req: IncomingMessage): Recorder | undefined | 'body';
  /** Called once, for `'body'` requests: `body` is undefined when it was over the limit. */
  withBody(req: IncomingMessage, body: Buffer | undefined): Recorder | undefined;
}

type WriteArgs = [chunk?: unknown, encoding?: unknown, cb?: unknown];

function toBuffer(chunk: unknown, encoding: unknown): Buffer | undefined {
  if (chunk === undefined || chunk === null || typeof chunk === 'function') return undefined;
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (typeof chunk === 'string')
    return Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  return undefined;
}

function headerFromArgs(args: unknown[], name: string): string | undefined {
  for (const a of args) {
    if (Array.isArray(a)) {
      for (let i = 0; i < a.length; i += 2) if (String(a[i]).toLowerCase() === name) return String(a[i + 1]);
    } else if (a && typeof a === 'object') {
      for (const [k, v] of Object.entries(a as OutgoingHttpHeaders)) {
        if (k.toLowerCase() === name && v !== undefined) return Array.isArray(v) ? v.join(', ') : String(v);
      }
    }
  }
  return undefined;
}

/** The exchange being captured for a response: lets a wrapped handler (the batcher) annotate it. */
const flights = new WeakMap<ServerResponse, InFlight>();

/** Records the batch a response's answer came from (a no-op when the exchange is not captured). */
export function noteBatch(res: ServerResponse, batch: BatchInfo): void {
  const flight = flights.get(res);
  if (flight) flight.batch = batch;
}

function teeResponse(res: ServerResponse, flight: InFlight): void {
  flights.set(res, flight);
  let started = false;
  const start = (headerArgs: unknown[]): void => {
    if (started) return;
    started = true;
    const ct = headerFromArgs(headerArgs, 'content-type') ?? stringHeader(res.getHeader('content-type'));
    const ce =
      headerFromArgs(headerArgs, 'content-encoding') ?? stringHeader(res.getHeader('content-encoding'));
    flight.responseStart(res.statusCode, ct, ce, isStreamingResponse(ct));
  };
  const writeHead = res.writeHead;
  const write = res.write;
  const end = res.end;
  res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    const out = (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
    start(args);
    return out;
  } as ServerResponse['writeHead'];
  res.write = function (this: ServerResponse, ...args: WriteArgs) {
    start([]);
    const buf = toBuffer(args[0], args[1]);
    if (buf) flight.responseChunk(buf);
    return (write as (...a: unknown[]) => boolean).apply(this, args);
  } as ServerResponse['write'];
  res.end = function (this: ServerResponse, ...args: WriteArgs) {
    start([]);
    const buf = toBuffer(args[0], args[1]);
    if (buf) flight.responseChunk(buf);
    // Submit before the last byte leaves: a crash after the client has its answer cannot lose it.
    // The spool writes at the end of the turn (pipeline/turn-end.ts); the application's end
    // cannot wait for that, so that write happens now.
    flight.complete();
    flushTurnEnd();
    return (end as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as ServerResponse['end'];
  res.once('close', () => {
    if (!res.writableFinished) {
      flight.complete({
        code: 'CLIENT_ABORTED',
        message: 'the client closed the connection before the response finished',
      });
    }
  });
}

function stringHeader(v: string | number | string[] | undefined): string | undefined {
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(', ') : String(v);
}

/**
 * Wraps a body-taking handler with capture. With no recorder (logging off) it only reads
 * the body, so both paths hand the handler the same bytes. A body over `maxBodyBytes` is
 * not kept (memory stays bounded): the handler gets `undefined` and answers 413; the log
 * still gets its capped copy, size and sha256. A body that stops arriving for `bodyTimeoutMs`
 * is answered 408 and logged as CLIENT_TIMEOUT (nginx's client_body_timeout; 0 = none).
 */
export function captureInProcess(
  routing: Recorder | RecorderRouting | undefined,
  handler: BodyHandler,
  maxBodyBytes = Infinity,
  bodyTimeoutMs = 0,
) {
  const route: RecorderRouting =
    routing === undefined || routing instanceof Recorder
      ? { atStart: () => routing, withBody: () => routing }
      : routing;
  const watch = bodyTimeoutMs > 0 ? createBodyWatch(bodyTimeoutMs) : undefined;
  return (req: IncomingMessage, res: ServerResponse): void => {
    const arrived = nowMs();
    const first = route.atStart(req);
    let decided = first !== 'body';
    let flight = first === 'body' ? undefined : first?.begin(req, arrived);
    let chunks: Buffer[] | undefined = [];
    let size = 0;
    // For a choice made after some of the body was read: begin then, and hand over what was read.
    const decide = (body: Buffer | undefined, read: readonly Buffer[]): void => {
      decided = true;
      flight = route.withBody(req, body)?.begin(req, arrived);
      if (flight) for (const c of read) flight.request.push(c);
    };
    const watched = watch && !req.complete ? watch.add(onIdle) : undefined;
    function onIdle(): void {
      // Gone already (the client aborted; 'error' recorded it) or answered: nothing to cut.
      if (res.destroyed || res.writableEnded) return;
      if (!decided) decide(undefined, chunks ?? []);
      const message = `the request body stopped arriving (nothing for ${bodyTimeoutMs / 1000} s)`;
      flight?.complete({ code: 'CLIENT_TIMEOUT', message, status: 408 });
      const body = JSON.stringify({ error: message });
      // Close: the rest of the body may still be on the wire, and must not be read as a request.
      res.writeHead(408, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        connection: 'close',
      });
      res.end(body);
    }
    req.on('data', (c: Buffer) => {
      watched?.touch();
      size += c.length;
      if (decided) flight?.request.push(c);
      if (chunks === undefined) return;
      if (size > maxBodyBytes) {
        if (!decided) decide(undefined, [...chunks, c]);
        chunks = undefined;
      } else chunks.push(c);
    });
    req.once('end', () => {
      // Waiting for the model is not the client's pause.
      watched?.done();
      const body =
        chunks === undefined
          ? undefined
          : chunks.length === 1
            ? (chunks[0] as Buffer)
            : Buffer.concat(chunks, size);
      if (!decided) decide(body ?? Buffer.alloc(0), chunks ?? []);
      if (flight) teeResponse(res, flight);
      handler(req, res, body);
    });
    req.once('error', () => {
      watched?.done();
      if (!decided) decide(undefined, chunks ?? []);
      flight?.complete({ code: 'CLIENT_ABORTED', message: 'the client aborted the request body' });
    });
  };
}
