/**
 * The HTTP client: one undici Pool of keep-alive connections to the sink's origin.
 *
 *   post(headers, body, signal) ──▶ Pool (≤ connections sockets, keep-alive) ──▶ destination
 *        ◀── resolve on 2xx, reject with a classified InferlogError otherwise
 *
 * With a token file, each POST carries `Authorization: Bearer <token>`, the file re-read when it
 * changes (transport/bearer-token-file.ts); with a client certificate, new connections present the
 * one in force (transport/tls.ts, clientTlsSource).
 *
 * Every answer body is drained (so the socket goes back to the pool); for a failure the
 * first bytes are kept for the error message. undici's own headers/body timeouts are a
 * backstop at the send timeout; the caller's AbortSignal is what normally stops a send.
 */
import { Pool, buildConnector, type Dispatcher } from 'undici';
import type { InferlogError } from '../../core/errors.js';
import { classifyFailure, classifyStatus } from './classify.js';
import type { HttpSinkConfig } from './config.js';
import { clientTlsSource, type ClientTlsSource } from '../../transport/tls.js';
import { bearerTokenFile } from '../../transport/bearer-token-file.js';

const DETAIL_BYTES = 256;
const DRAIN_LIMIT = 64 * 1024;

export interface HttpClient {
  /** Resolves on 2xx; rejects with a SINK_* InferlogError. */
  post(headers: string[], body: Uint8Array | string | undefined, signal: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/**
 * One POST as an undici dispatch handler: no response stream, no promise per chunk. A 2xx
 * answer's body is discarded as it arrives; a failure's first bytes are kept for the error
 * message, and the rest drained up to DRAIN_LIMIT (a bigger answer closes the connection
 * instead). For per-event delivery this is two POSTs per exchange, so what undici's
 * `request()` adds per call (a body Readable, its destroy, async iteration) was a visible
 * share of the agent's CPU (BENCHMARKS.md, "Where the agent's CPU goes").
 */
class PostHandler implements Dispatcher.DispatchHandler {
  private status = 0;
  private retryAfter: string | string[] | undefined;
  private detail = '';
  private seen = 0;
  private settled = false;
  private controller: Dispatcher.DispatchController | undefined;
  private readonly onAbort = (): void => this.controller?.abort(this.signal.reason);

  constructor(
    private readonly signal: AbortSignal,
    private readonly where: string,
    private readonly resolve: () => void,
    private readonly reject: (err: InferlogError) => void,
  ) {
    signal.addEventListener('abort', this.onAbort, { once: true });
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.signal.aborted) controller.abort(this.signal.reason);
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    this.status = statusCode;
    this.retryAfter = headers['retry-after'];
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.status >= 200 && this.status < 300) return;
    if (this.detail.length < DETAIL_BYTES)
      this.detail += chunk.toString('utf8', 0, Math.min(chunk.length, DETAIL_BYTES - this.detail.length));
    this.seen += chunk.length;
    if (this.seen > DRAIN_LIMIT) {
      this.settleStatus();
      // An abort reason, not a reported error: the status already decided the outcome.
      controller.abort(new Error('answer too large to drain'));
    }
  }

  onResponseEnd(): void {
    this.settleStatus();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    // Once the status is known, it decides: a broken 2xx body does not undo the delivery, and
    // a failure's detail is only a courtesy.
    if (this.status >= 200) this.settleStatus();
    else this.settle(classifyFailure(err, this.signal, this.where));
  }

  private settleStatus(): void {
    const detail = this.detail.replace(/\s+/g, ' ').trim();
    this.settle(classifyStatus(this.status, this.retryAfter, this.where, detail));
  }

  private settle(err: InferlogError | undefined): void {
    if (this.settled) return;
    this.settled = true;
    this.signal.removeEventListener('abort', this.onAbort);
    if (err === undefined) this.resolve();
    else this.reject(err);
  }
}

/**
 * Dials with the TLS options in force: a renewed client certificate (clientTlsSource) makes a new
 * undici connector, used from the next connection on.
 */
function renewingConnector(source: ClientTlsSource, timeout: number): buildConnector.connector {
  let version = -1;
  let connector: buildConnector.connector | undefined;
  return (options, callback) => {
    const now = source.current();
    if (connector === undefined || now.version !== version) {
      connector = buildConnector({ ...now.options, timeout });
      version = now.version;
    }
    connector(options, callback);
  };
}

export async function createHttpClient(config: HttpSinkConfig): Promise<HttpClient> {
  const connectTimeout = Math.min(config.timeoutMs, 10_000);
  const connect = config.https
    ? renewingConnector(await clientTlsSource(config.tls), connectTimeout)
    : { timeout: connectTimeout };
  const token = config.tokenFile !== undefined ? bearerTokenFile(config.tokenFile) : undefined;
  const pool = new Pool(config.origin, {
    connections: config.connections,
    pipelining: 1,
    headersTimeout: config.timeoutMs,
    bodyTimeout: config.timeoutMs,
    connect,
  });
  const where = config.origin + config.path;
  const dispatch = (headers: string[], body: Uint8Array | string | undefined, signal: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      if (signal.aborted) {
        reject(classifyFailure(signal.reason, signal, where));
        return;
      }
      const handler = new PostHandler(signal, where, resolve, reject);
      try {
        pool.dispatch({ path: config.path, method: 'POST', headers, body: body ?? null }, handler);
      } catch (err) {
        handler.onResponseError(undefined as never, err as Error);
      }
    });
  return {
    post(headers, body, signal) {
      if (token === undefined) return dispatch(headers, body, signal);
      return token.current().then((t) =>
        dispatch([...headers, 'authorization', `Bearer ${t}`], body, signal).catch((err: unknown) => {
          // Refused credentials: perhaps the Secret was rotated a moment ago; look at the file now.
          if ((err as InferlogError).status === 401) token.recheckSoon();
          throw err;
        }),
      );
    },
    async close() {
      await pool.close().catch(() => pool.destroy());
    },
  };
}
