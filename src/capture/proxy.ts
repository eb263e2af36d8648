/**
 * The agent: a reverse proxy in front of any V1/V2/OpenAI model server, capturing as it goes.
 * A drop-in for KServe's agent sidecar (same port, flags and CloudEvents).
 *
 *   client ──▶ node:http server ──▶ undici Pool.dispatch ──▶ model (--component-port)
 *      ▲             │ request bytes teed into BodyCapture          │
 *      └─────────────┴──── response chunks written through as they arrive, teed likewise
 *                    └──▶ recorder.complete() ─▶ pipeline.submit()  (then the last byte)
 *
 * The client always gets the model's status, headers and bytes. Logging never awaits a
 * sink; when the model cannot be reached the client gets 502/504, as from KServe's agent.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import type { ErrorCode } from '../core/errors.js';
import { isStreamingResponse, type InFlight, type Recorder } from './recorder.js';

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
}

// Hop-by-hop headers (RFC 9110 §7.6.1) are connection-specific: never forwarded.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
]);

function forwardableRequestHeaders(raw: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (HOP_BY_HOP.has(name.toLowerCase())) continue;
    out.push(name, raw[i + 1] as string);
  }
  return out;
}

function responseHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const v = headers[name];
    if (v === undefined || HOP_BY_HOP.has(name)) continue;
    out[name] = v;
  }
  return out;
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function classifyUpstreamError(err: Error & { code?: string }): { code: ErrorCode; status: number } {
  switch (err.code) {
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

/** One proxied exchange: the undici handler, writing through to the client response. */
class ProxyHandler implements Dispatcher.DispatchHandler {
  private started = false;
  private clientGone = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly flight: InFlight | undefined,
  ) {}

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.res.once('close', () => {
      if (!this.res.writableFinished) {
        this.clientGone = true;
        controller.abort(new Error('client closed the connection'));
      }
    });
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
    const streaming = isStreamingResponse(contentType);
    this.flight?.responseStart(statusCode, contentType, first(headers['content-encoding']), streaming);
    this.res.writeHead(statusCode, statusMessage ?? '', responseHeaders(headers));
    // Streams go out chunk by chunk, not after Node's first-write buffering.
    if (streaming) this.res.flushHeaders();
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.flight?.responseChunk(chunk);
    if (!this.res.write(chunk)) {
      controller.pause();
      this.res.once('drain', () => controller.resume());
    }
  }

  onResponseEnd(): void {
    // Submit before the final byte: once the client has its answer, the exchange is in the pipeline.
    this.flight?.complete();
    this.res.end();
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
      if (!this.res.headersSent) {
        const body = JSON.stringify({
          error: `inferlog agent: model server ${code === 'UPSTREAM_TIMEOUT' ? 'timed out' : 'unreachable'}: ${err.message}`,
        });
        this.res.writeHead(status, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        });
        this.res.end(body);
      } else {
        this.res.destroy();
      }
      return;
    }
    // Mid-response: the client already has the status; cut the connection so it sees the failure.
    this.flight?.complete({
      code: code === 'UPSTREAM_TIMEOUT' ? code : 'UPSTREAM_RESET',
      message: err.message,
    });
    this.res.destroy(err);
  }
}

export interface CaptureProxy {
  readonly server: http.Server;
  close(): Promise<void>;
}

/** Bodies up to this size (with a Content-Length) are read whole before forwarding: one write upstream. */
const BUFFER_WHOLE_BELOW = 256 * 1024;

export function createCaptureProxy(options: ProxyOptions): CaptureProxy {
  const upstreamTimeout = options.upstreamTimeoutMs ?? 0;
  const pool = new Pool(options.upstream, {
    connections: options.connections ?? 128,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    headersTimeout: upstreamTimeout,
    bodyTimeout: upstreamTimeout,
  });
  const recorder = options.recorder;

  const dispatch = (
    req: IncomingMessage,
    res: ServerResponse,
    flight: InFlight | undefined,
    body: Dispatcher.DispatchOptions['body'],
  ): void => {
    pool.dispatch(
      {
        method: req.method as Dispatcher.HttpMethod,
        path: req.url ?? '/',
        headers: forwardableRequestHeaders(req.rawHeaders),
        body,
      },
      new ProxyHandler(res, flight),
    );
  };

  const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    if (options.localRoutes?.(req, res)) return;
    const flight = recorder?.begin(req);
    const length = req.headers['content-length'];
    const hasBody = length !== undefined ? length !== '0' : req.headers['transfer-encoding'] !== undefined;
    if (!hasBody) {
      req.resume();
      dispatch(req, res, flight, null);
      return;
    }
    if (length !== undefined && Number(length) <= BUFFER_WHOLE_BELOW) {
      // Read the (small) body whole, then forward it in one write; the copy for the log is the same bytes.
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        chunks.push(c);
        size += c.length;
        flight?.request.push(c);
      });
      req.on('end', () =>
        dispatch(req, res, flight, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)),
      );
      req.on('error', () =>
        flight?.complete({ code: 'CLIENT_ABORTED', message: 'the client aborted the request body' }),
      );
      return;
    }
    // Large or chunked uploads stream through; the tee keeps what the cap allows.
    dispatch(req, res, flight, flight ? Readable.from(teeBody(req, flight), { objectMode: false }) : req);
  });
  server.on('clientError', (err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    void err;
  });

  return {
    server,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections?.();
      await pool.close();
    },
  };
}

async function* teeBody(req: IncomingMessage, flight: InFlight): AsyncGenerator<Buffer> {
  for await (const chunk of req as AsyncIterable<Buffer>) {
    flight.request.push(chunk);
    yield chunk;
  }
}
