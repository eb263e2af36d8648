/**
 * The batcher as an undici interceptor, composed onto the agent's upstream pool only when
 * `--enable-batcher` is given (without it the proxy dispatches straight to the pool, as before):
 *
 *   ProxyHandler ──dispatch(opts, handler)──▶ batcher interceptor ──not :predict──▶ pool.dispatch (unchanged)
 *        ▲                                         │ :predict: body read whole (bounded), queued
 *        │                                         └──release──▶ pool.dispatch(merged POST) ──▶ model
 *        └── onResponseStart/Data/End with this client's answer (the capture logs it, as KServe's logger
 *            wraps its batcher: one logged exchange per client)
 *
 * A client that goes away stays in its batch (as in KServe); its handler is told once, like undici does.
 */
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { BatchInfo } from '../../core/exchange.js';
import { parseV2, v2InferPath, V2_CODEC } from './v2.js';
import {
  plainError,
  predictPath,
  RequestBatcher,
  V1Batcher,
  type BatchCodec,
  type BatcherAnswer,
  type BatcherOptions,
  type BatchObserver,
  type ModelCall,
} from './batcher.js';

/** A dispatch handler that wants to know the batch its answer came from (the agent's ProxyHandler). */
export interface BatchAwareHandler extends Dispatcher.DispatchHandler {
  onBatch?(batch: BatchInfo): void;
}

type Dispatch = Dispatcher['dispatch'];

/** How the merged call reaches the model: through the same pool as every other request. */
function modelCallVia(dispatch: Dispatch, maxAnswerBytes: number): ModelCall {
  return (path, body, extra) =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let status = 0;
      let contentType: string | undefined;
      dispatch(
        {
          method: 'POST',
          path,
          headers: { 'content-type': 'application/json', ...extra, 'content-length': String(body.length) },
          body,
        },
        {
          // undici tells new-style handlers from legacy ones by this method.
          onRequestStart() {},
          onResponseStart(_c, statusCode, headers) {
            status = statusCode;
            const ct = headers['content-type'];
            contentType = Array.isArray(ct) ? ct[0] : ct;
          },
          onResponseData(controller, chunk: Buffer) {
            size += chunk.length;
            if (size > maxAnswerBytes)
              // Internal abort reason: the proxy answers the client with its catalogued error.
              controller.abort(new Error(`the model's answer is larger than ${maxAnswerBytes} bytes`));
            else chunks.push(chunk);
          },
          onResponseEnd() {
            resolve({ status, body: Buffer.concat(chunks, size), contentType });
          },
          onResponseError(_c, err: Error & { code?: string; address?: string; port?: number }) {
            // What Go's reverse proxy says (KServe's batcher passes it on as the message).
            if (err.code === 'ECONNREFUSED' && err.address !== undefined)
              err.message = `dial tcp ${err.address}:${err.port ?? ''}: connect: connection refused`;
            reject(err);
          },
        },
      );
    });
}

/** A controller for a handler answered by the batcher: abort is the client going away. */
class AnswerController implements Dispatcher.DispatchController {
  aborted = false;
  paused = false;
  reason: Error | null = null;

  constructor(private readonly handler: BatchAwareHandler) {}

  abort(reason: Error): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.handler.onResponseError?.(this, reason);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  deliver(a: BatcherAnswer): void {
    if (this.aborted) return;
    if (a.batch) this.handler.onBatch?.(a.batch);
    this.handler.onResponseStart?.(this, a.status, a.headers, a.status === 200 ? 'OK' : '');
    if (this.aborted) return;
    this.handler.onResponseData?.(this, a.body);
    if (this.aborted) return;
    this.handler.onResponseEnd?.(this, {});
  }
}

/** Reads a request body whole, up to `limit` bytes (undefined above it). */
async function readAll(body: Dispatcher.DispatchOptions['body'], limit: number): Promise<Buffer | undefined> {
  if (body === null || body === undefined) return Buffer.alloc(0);
  if (Buffer.isBuffer(body)) return body;
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of body as Readable) {
    const chunk = Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array);
    size += chunk.length;
    if (size > limit) {
      (body as Readable).destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/** A request header's value (the last one), or undefined. */
function headerValue(headers: Dispatcher.DispatchOptions['headers'], name: string): string | undefined {
  let found: string | undefined;
  if (Array.isArray(headers)) {
    for (let i = 0; i < headers.length; i += 2)
      if (String(headers[i]).toLowerCase() === name) found = String(headers[i + 1]);
  } else if (headers && typeof headers === 'object') {
    for (const [k, v] of Object.entries(headers as Record<string, unknown>))
      if (k.toLowerCase() === name) found = String(v);
  }
  return found;
}

/** A V2 request: merged when it can be (v2.ts), else sent on unchanged. */
function batchV2(
  b: RequestBatcher,
  dispatch: Dispatch,
  path: string,
  opts: Dispatcher.DispatchOptions,
  handler: BatchAwareHandler,
): void {
  const answered = (): AnswerController => {
    const c = new AnswerController(handler);
    handler.onRequestStart?.(c, {});
    return c;
  };
  readAll(opts.body, b.maxBodyBytes).then(
    (body) => {
      if (body === undefined) {
        answered().deliver(plainError(413, `request body is larger than ${b.maxBodyBytes} bytes`));
        return;
      }
      const parsed = parseV2(body, headerValue(opts.headers, 'inference-header-content-length'));
      if (!parsed) {
        dispatch({ ...opts, body }, handler);
        return;
      }
      const c = answered();
      b.enqueue(`${path}\n${parsed.signature}`, path, V2_CODEC as BatchCodec, parsed.request, parsed.rows)
        .then((a) => c.deliver(a))
        .catch((err: Error) => {
          if (!c.aborted) c.abort(err);
        });
    },
    (err: Error) => answered().abort(err),
  );
}

export interface BatcherInterceptor {
  interceptor: Dispatcher.DispatcherComposeInterceptor;
  /** Releases partly filled batches now (shutdown). */
  flush(): void;
}

export function createBatcherInterceptor(
  options: BatcherOptions,
  observer?: BatchObserver,
  maxAnswerBytes = 256 * 1024 * 1024,
): BatcherInterceptor {
  let batcher: V1Batcher | undefined;
  const interceptor: Dispatcher.DispatcherComposeInterceptor = (dispatch) => {
    const b = new V1Batcher(options, modelCallVia(dispatch, maxAnswerBytes), observer);
    batcher = b;
    return (opts, handler) => {
      const v2 = options.v2 === true ? v2InferPath(opts.path) : undefined;
      if (v2 !== undefined) {
        batchV2(b, dispatch, v2, opts, handler as BatchAwareHandler);
        return true;
      }
      const path = predictPath(opts.path);
      if (path === undefined) return dispatch(opts, handler);
      const controller = new AnswerController(handler as BatchAwareHandler);
      handler.onRequestStart?.(controller, {});
      readAll(opts.body, b.maxBodyBytes)
        .then((body) =>
          body === undefined
            ? plainError(413, `request body is larger than ${b.maxBodyBytes} bytes`)
            : b.submit(path, body),
        )
        .then((a) => controller.deliver(a))
        .catch((err: Error) => {
          if (!controller.aborted) controller.abort(err);
        });
      return true;
    };
  };
  return { interceptor, flush: () => batcher?.flush() };
}
