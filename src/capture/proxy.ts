/**
 * The agent: a reverse proxy in front of any V1/V2/OpenAI model server, capturing as it goes.
 * A drop-in for KServe's agent sidecar (same port, flags and CloudEvents).
 *
 *   client ──▶ node:http server ──▶ body read (up to requestBufferBytes) ──▶ undici Pool.dispatch ──▶ model
 *      ▲             │ request bytes teed into BodyCapture                          │
 *      └─────────────┴──── response chunks written through as they arrive, teed likewise
 *                    └──▶ recorder.complete() ─▶ pipeline.submit()  (then the last byte, after the
 *                                                                    spool's write at the end of the turn)
 *
 * The client always gets the model's status, headers and bytes. Logging never awaits a
 * sink; when the model cannot be reached the client gets 502/504, as from KServe's agent.
 *
 * Every client is potentially hostile, so before anything goes upstream:
 *  1. The body is read from the client first (nginx's `proxy_request_buffering on`): a slow
 *     client holds only its own socket, never one of the pool's upstream connections. Only a
 *     body larger than requestBufferBytes streams through, after that much has arrived.
 *  2. A body that stops arriving for requestBodyTimeoutMs (nginx's client_body_timeout), or a
 *     request not complete after requestTimeoutMs, is answered 408 and logged as CLIENT_TIMEOUT.
 *  3. The request is normalised as RFC 9110/9112 ask of a proxy: origin-form target, Host from
 *     an absolute-form target, hop-by-hop headers and those the Connection header names removed,
 *     `Expect: 100-continue` answered here (node:http sends the 100) and not forwarded.
 *     What cannot be forwarded unambiguously (a duplicate Host) is answered 400 and logged.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import type { ErrorCode } from '../core/errors.js';
import type { BatchInfo } from '../core/exchange.js';
import type { BatcherOptions, BatchObserver } from './batcher/batcher.js';
import { createBatcherInterceptor } from './batcher/interceptor.js';
import { isStreamingResponse, type InFlight, type Recorder } from './recorder.js';
import { createBodyWatch } from './body-watch.js';
import { answerClientError } from '../core/lingering-close.js';
import { atTurnEnd, flushTurnEnd, turnEndPending } from '../pipeline/turn-end.js';

export interface ProxyOptions {
  /** Where the model listens, e.g. http://127.0.0.1:8080. */
  upstream: string;
  /** Undefined: no logging, a plain proxy (the benchmark baseline). */
  recorder: Recorder | undefined;
  /** Connections kept to the model. */
  connections?: number;
  /** Upstream headers/body timeouts in ms (0 = none; KServe's agent has none). */
  upstreamTimeoutMs?: number;
  /** Routes the agent answers itself (metrics, health) instead of proxying. */
  localRoutes?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Longest pause while a request body arrives before a 408 (default 60 s, nginx's client_body_timeout). */
  requestBodyTimeoutMs?: number;
  /** Longest time to receive a whole request, headers and body (default 300 s, node's default). */
  requestTimeoutMs?: number;
  /** Longest time to receive the request headers (default 60 s; capped at requestTimeoutMs). */
  headersTimeoutMs?: number;
  /** Request bodies up to this size are read whole before an upstream connection is taken (default 1 MiB). */
  requestBufferBytes?: number;
  /** KServe's request batcher (--enable-batcher) in front of the model; undefined: requests go straight through. */
  batcher?: BatcherOptions;
  /** Told about every batch the batcher releases (metrics, the batch's own log). */
  batchObserver?: BatchObserver;
}

export const PROXY_DEFAULTS = {
  connections: 128,
  requestBodyTimeoutMs: 60_000,
  requestTimeoutMs: 300_000,
  headersTimeoutMs: 60_000,
  requestBufferBytes: 1024 * 1024,
} as const;

// Hop-by-hop headers (RFC 9110 §7.6.1) are connection-specific: never forwarded. `Expect` is
// end-to-end, but the agent answers `100-continue` itself (as nginx and Envoy do), so the
// model gets the whole body without it.
const NOT_FORWARDED = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'expect',
]);

/**
 * The extra header names a Connection header lists (RFC 9110 §7.6.1: a proxy removes them),
 * or undefined when it names only the usual `keep-alive`/`close` (no allocation then).
 */
function connectionNamed(value: string | string[] | undefined): Set<string> | undefined {
  if (value === undefined) return undefined;
  const text = Array.isArray(value) ? value.join(',') : value;
  if (!text.includes(',')) {
    const only = text.trim().toLowerCase();
    if (only === 'keep-alive' || only === 'close' || only === '') return undefined;
  }
  let named: Set<string> | undefined;
  for (const token of text.split(',')) {
    const name = token.trim().toLowerCase();
    if (name !== '' && name !== 'keep-alive' && name !== 'close') (named ??= new Set()).add(name);
  }
  return named;
}

/**
 * The headers to send upstream, or undefined when the request has more than one Host
 * (which Host the model would route on is ambiguous: 400, as nginx answers).
 * `host` replaces the client's Host (for an absolute-form target, RFC 9112 §3.2.2).
 */
function forwardableRequestHeaders(
  raw: string[],
  connection: string | string[] | undefined,
  host: string | undefined,
): string[] | undefined {
  const named = connectionNamed(connection);
  const out: string[] = [];
  let hosts = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const lower = name.toLowerCase();
    if (lower === 'host') {
      if (++hosts > 1) return undefined;
      out.push(name, host ?? (raw[i + 1] as string));
      continue;
    }
    if (NOT_FORWARDED.has(lower) || named?.has(lower)) continue;
    out.push(name, raw[i + 1] as string);
  }
  if (hosts === 0 && host !== undefined) out.push('host', host);
  return out;
}

/**
 * Spans on: the model's parent is inferlog's span. The client's traceparent lines are replaced by
 * one (tracestate is forwarded unchanged); with spans off this is never called and the model gets
 * the client's headers as they were.
 */
function withTraceparent(headers: string[], value: string): void {
  for (let i = headers.length - 2; i >= 0; i -= 2)
    if ((headers[i] as string).toLowerCase() === 'traceparent') headers.splice(i, 2);
  headers.push('traceparent', value);
}

function responseHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string | string[]> {
  const named = connectionNamed(headers.connection);
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const v = headers[name];
    if (v === undefined || NOT_FORWARDED.has(name) || named?.has(name)) continue;
    out[name] = v;
  }
  return out;
}

/**
 * Rewrites an absolute-form target (`POST http://host/path`) to origin form in `req.url`, so
 * the model and the log both see `/path`; returns the target's authority for the Host header.
 * Returns false for a target no origin server can take (`*`, `host:port`, a bare word).
 */
function toOriginForm(req: IncomingMessage): string | undefined | false {
  const url = req.url ?? '';
  if (url.charCodeAt(0) === 47 /* '/' */) return undefined;
  const m = /^https?:\/\/([^/?#]*)/i.exec(url);
  if (!m) return false;
  const rest = url.slice(m[0].length);
  req.url = rest === '' ? '/' : rest.charCodeAt(0) === 47 ? rest : `/${rest}`;
  return m[1] as string;
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** Set on a body stream error when the client stopped sending: reported as a 408, not a model failure. */
const CLIENT_TIMEOUT = 'INFERLOG_CLIENT_TIMEOUT';

function classifyUpstreamError(err: Error & { code?: string }): { code: ErrorCode; status: number } {
  switch (err.code) {
    case CLIENT_TIMEOUT:
      return { code: 'CLIENT_TIMEOUT', status: 408 };
    // undici refused to build the request from what the client sent: not the model's fault.
    case 'UND_ERR_INVALID_ARG':
    case 'UND_ERR_NOT_SUPPORTED':
      return { code: 'CLIENT_REQUEST_INVALID', status: 400 };
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return { code: 'UPSTREAM_TIMEOUT', status: 504 };
    case 'UND_ERR_SOCKET':
    case 'ECONNRESET':
    case 'EPIPE':
      return { code: 'UPSTREAM_RESET', status: 502 };
    default:
      return { code: 'UPSTREAM_UNREACHABLE', status: 502 };
  }
}

const AGENT_SAYS: Partial<Record<ErrorCode, string>> = {
  UPSTREAM_TIMEOUT: 'model server timed out: ',
  UPSTREAM_RESET: 'model server unreachable: ',
  UPSTREAM_UNREACHABLE: 'model server unreachable: ',
  CLIENT_REQUEST_INVALID: 'cannot forward this request: ',
};

/**
 * The agent's own answer (never the model's). Client errors close the connection: the
 * rest of the request may still be on the wire, and must not be read as a next request.
 */
function answerError(res: ServerResponse, status: number, message: string): void {
  // Its exchange was submitted just before: written now, as its answer does not wait for the turn's end.
  flushTurnEnd();
  const body = JSON.stringify({ error: `inferlog agent: ${message}` });
  const headers: Record<string, string | number> = {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  };
  if (status < 500) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(body);
}

/** One proxied exchange: the undici handler, writing through to the client response. */
class ProxyHandler implements Dispatcher.DispatchHandler {
  private started = false;
  private clientGone = false;
  private streaming = false;
  /**
   * A non-streaming answer's newest chunk, written when the next one arrives or at the end: the
   * last bytes go out only after the exchange is in the spool (turn-end.ts), and a small answer
   * leaves as one write, head and body together.
   */
  private held: Buffer | undefined;

  constructor(
    private readonly res: ServerResponse,
    private readonly flight: InFlight | undefined,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.res.once('close', () => {
      if (!this.res.writableFinished) {
        this.clientGone = true;
        // An abort reason for undici only: the exchange is recorded as CLIENT_ABORTED via clientGone.
        controller.abort(new Error('client closed the connection'));
      }
    });
  }

  /** From the batcher (batcher/interceptor.ts): the answer came from a merged model call. */
  onBatch(batch: BatchInfo): void {
    if (this.flight) this.flight.batch = batch;
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
    statusMessage?: string,
  ): void {
    if (statusCode < 200) return; // 1xx informational: the final response follows
    this.started = true;
    const contentType = first(headers['content-type']);
    this.streaming = isStreamingResponse(contentType);
    this.flight?.responseStart(statusCode, contentType, first(headers['content-encoding']), this.streaming);
    this.res.writeHead(statusCode, statusMessage ?? '', responseHeaders(headers));
    // Streams go out chunk by chunk, not after Node's first-write buffering.
    if (this.streaming) this.res.flushHeaders();
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.flight?.responseChunk(chunk);
    let out: Buffer | undefined = chunk;
    if (!this.streaming) {
      out = this.held;
      this.held = chunk;
      if (out === undefined) return;
    }
    if (!this.res.write(out)) {
      controller.pause();
      this.res.once('drain', () => controller.resume());
    }
  }

  onResponseEnd(): void {
    // Submit before the final byte: once the client has its answer, the exchange is in the
    // pipeline, and (the spool writing the turn's records at its end) on disk: the answer ends after that.
    this.flight?.complete();
    // The closure only when the end must wait: a request with nothing pending allocates none.
    if (turnEndPending()) atTurnEnd(() => this.end());
    else this.end();
  }

  private end(): void {
    const last = this.held;
    this.held = undefined;
    if (last === undefined) this.res.end();
    else this.res.end(last);
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error & { code?: string }): void {
    if (this.clientGone) {
      this.flight?.complete({
        code: 'CLIENT_ABORTED',
        message: 'the client closed the connection before the response finished',
      });
      return;
    }
    const { code, status } = classifyUpstreamError(err);
    if (!this.started) {
      this.flight?.complete({ code, message: `${err.message}`, status });
      if (!this.res.headersSent) answerError(this.res, status, `${AGENT_SAYS[code] ?? ''}${err.message}`);
      else this.res.destroy();
      return;
    }
    // Mid-response: the client already has the status; cut the connection so it sees the failure.
    this.flight?.complete({
      code: code === 'UPSTREAM_TIMEOUT' || code === 'CLIENT_TIMEOUT' ? code : 'UPSTREAM_RESET',
      message: err.message,
    });
    // The bytes the model sent before failing are the client's too, as when each was written on
    // arrival: the held-back chunk goes to the socket before the reset (best effort, like those).
    if (this.held !== undefined) this.res.write(this.held);
    this.held = undefined;
    this.res.destroy(err);
  }
}

export interface CaptureProxy {
  readonly server: http.Server;
  close(): Promise<void>;
}

/** On a socket whose request body is arriving: cuts it off (from node's requestTimeout check). */
const kBodyTimeout = Symbol('inferlog.bodyTimeout');
type BodySocket = Socket & { [kBodyTimeout]?: ((message: string) => void) | undefined };

const secondsText = (ms: number): string => `${ms / 1000} s`;

export function createCaptureProxy(options: ProxyOptions): CaptureProxy {
  const upstreamTimeout = options.upstreamTimeoutMs ?? 0;
  const bodyTimeout = options.requestBodyTimeoutMs ?? PROXY_DEFAULTS.requestBodyTimeoutMs;
  const requestTimeout = options.requestTimeoutMs ?? PROXY_DEFAULTS.requestTimeoutMs;
  const bufferBytes = options.requestBufferBytes ?? PROXY_DEFAULTS.requestBufferBytes;
  // One sweeping interval for every body's idle deadline: a socket timer armed and cleared per
  // request cost a measurable share of the hot path (BENCHMARKS.md, body-watch.ts).
  const bodyWatch = bodyTimeout > 0 ? createBodyWatch(bodyTimeout) : undefined;
  const pool = new Pool(options.upstream, {
    connections: options.connections ?? PROXY_DEFAULTS.connections,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    headersTimeout: upstreamTimeout,
    bodyTimeout: upstreamTimeout,
  });
  const recorder = options.recorder;
  // The batcher wraps the pool like any undici interceptor; without it the pool is used as is.
  const batcher = options.batcher
    ? createBatcherInterceptor(options.batcher, options.batchObserver)
    : undefined;
  const upstream: Dispatcher = batcher ? pool.compose(batcher.interceptor) : pool;

  const dispatch = (
    req: IncomingMessage,
    res: ServerResponse,
    flight: InFlight | undefined,
    headers: string[],
    body: Dispatcher.DispatchOptions['body'],
  ): void => {
    upstream.dispatch(
      { method: req.method as Dispatcher.HttpMethod, path: req.url ?? '/', headers, body },
      new ProxyHandler(res, flight),
    );
  };

  /**
   * Reads the body whole (up to bufferBytes) before an upstream connection is taken; past
   * that, forwards what arrived and streams the rest. A pause longer than bodyTimeout, or
   * node's requestTimeout, ends it with a 408, logged as CLIENT_TIMEOUT.
   */
  const forwardWithBody = (
    req: IncomingMessage,
    res: ServerResponse,
    flight: InFlight | undefined,
    headers: string[],
  ): void => {
    const socket = req.socket as BodySocket;
    let chunks: Buffer[] = [];
    let size = 0;
    let stream: Readable | undefined;
    const done = (): void => {
      socket[kBodyTimeout] = undefined;
      // Waiting for the model is not the client's pause: no idle timeout (KServe has none).
      watched?.done();
      req.off('data', onData);
    };
    const cutOff = (message: string): void => {
      done();
      if (stream) {
        // Upstream already has part of the body: the handler answers (or cuts) and logs.
        // (A stream error, not a reported one: the handler records CLIENT_TIMEOUT from its code.)
        stream.destroy(Object.assign(new Error(message), { code: CLIENT_TIMEOUT }));
        return;
      }
      flight?.complete({ code: 'CLIENT_TIMEOUT', message, status: 408 });
      if (!res.headersSent) answerError(res, 408, message);
      else res.destroy();
    };
    const onData = (c: Buffer): void => {
      watched?.touch();
      flight?.request.push(c);
      if (stream) {
        if (!stream.push(c)) req.pause();
        return;
      }
      chunks.push(c);
      size += c.length;
      if (size > bufferBytes) {
        // Very large: stream it, now that the client has shown it sends at a useful rate.
        stream = new Readable({ read: () => void req.resume() });
        for (const b of chunks) stream.push(b);
        chunks = [];
        dispatch(req, res, flight, headers, stream);
      }
    };
    socket[kBodyTimeout] = cutOff;
    const watched = bodyWatch?.add(() =>
      cutOff(`the request body stopped arriving (nothing for ${secondsText(bodyTimeout)})`),
    );
    req.on('data', onData);
    req.once('end', () => {
      done();
      if (stream) stream.push(null);
      else dispatch(req, res, flight, headers, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    });
    req.once('error', () => {
      done();
      // A stream error only; the handler records the exchange as CLIENT_ABORTED.
      if (stream) stream.destroy(new Error('the client aborted the request body'));
      else flight?.complete({ code: 'CLIENT_ABORTED', message: 'the client aborted the request body' });
    });
  };

  const server = http.createServer(
    {
      keepAliveTimeout: 65_000,
      requestTimeout,
      headersTimeout: Math.min(
        options.headersTimeoutMs ?? PROXY_DEFAULTS.headersTimeoutMs,
        requestTimeout || Infinity,
      ),
      // How often node looks for requests over requestTimeout (its default, 30 s, suits the default 300 s).
      connectionsCheckingInterval: Math.min(30_000, Math.max(100, requestTimeout / 10)),
    },
    (req, res) => {
      if (options.localRoutes?.(req, res)) return;
      const host = toOriginForm(req);
      const flight = recorder?.begin(req);
      const headers =
        host === false ? undefined : forwardableRequestHeaders(req.rawHeaders, req.headers.connection, host);
      if (headers === undefined) {
        const message =
          host === false
            ? `the request target "${req.url}" is not a path or an absolute http(s) URL`
            : 'the request has more than one Host header';
        flight?.complete({ code: 'CLIENT_REQUEST_INVALID', message, status: 400 });
        answerError(res, 400, message);
        return;
      }
      const traceparent = flight?.outboundTraceparent();
      if (traceparent !== undefined) withTraceparent(headers, traceparent);
      const length = req.headers['content-length'];
      const hasBody = length !== undefined ? length !== '0' : req.headers['transfer-encoding'] !== undefined;
      if (!hasBody) {
        req.resume();
        dispatch(req, res, flight, headers, null);
        return;
      }
      forwardWithBody(req, res, flight, headers);
    },
  );
  server.on('clientError', (err: Error & { code?: string }, socket: BodySocket) => {
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      // A request whose body is still arriving is answered and logged like a body timeout.
      const cutOff = socket[kBodyTimeout];
      if (cutOff) {
        cutOff(`the request did not arrive within ${secondsText(requestTimeout)}`);
        return;
      }
    }
    // 431/400 linger, so a client still writing its request sees the status, not a reset; 408
    // closes at once (core/lingering-close.ts).
    answerClientError(err, socket);
  });

  return {
    server,
    async close() {
      batcher?.flush();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections?.();
      await pool.close();
    },
  };
}
