/**
 * A response that records what a handler writes instead of sending it (Go's httptest.ResponseRecorder,
 * which KServe's batcher uses to call the model in-process). Enough of ServerResponse for the
 * model server's JSON routes: writeHead, setHeader, write, end.
 *
 *   invoke(method, path, body) ──▶ handle(fakeRequest, RecordedResponse, body) ──▶ { status, body }
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface RecordedAnswer {
  status: number;
  contentType: string | undefined;
  body: Buffer;
}

export class RecordedResponse extends EventEmitter {
  statusCode = 200;
  headersSent = false;
  destroyed = false;
  writableFinished = false;
  private readonly headers = new Map<string, string>();
  private readonly chunks: Buffer[] = [];
  readonly done: Promise<RecordedAnswer>;
  private settle!: (a: RecordedAnswer) => void;
  private fail!: (e: Error) => void;

  constructor() {
    super();
    this.done = new Promise((resolve, reject) => {
      this.settle = resolve;
      this.fail = reject;
    });
  }

  setHeader(name: string, value: string | number | readonly string[]): this {
    this.headers.set(name.toLowerCase(), Array.isArray(value) ? value.join(', ') : String(value));
    return this;
  }

  getHeader(name: string): string | undefined {
    return this.headers.get(name.toLowerCase());
  }

  writeHead(status: number, headers?: Record<string, string | number>): this {
    this.statusCode = status;
    for (const [k, v] of Object.entries(headers ?? {})) this.setHeader(k, v);
    this.headersSent = true;
    return this;
  }

  flushHeaders(): void {
    this.headersSent = true;
  }

  write(chunk: string | Uint8Array): boolean {
    this.headersSent = true;
    this.chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
    return true;
  }

  end(chunk?: string | Uint8Array): this {
    if (chunk !== undefined) this.write(chunk);
    this.writableFinished = true;
    this.settle({
      status: this.statusCode,
      contentType: this.headers.get('content-type'),
      body: Buffer.concat(this.chunks),
    });
    this.emit('finish');
    return this;
  }

  destroy(err?: Error): this {
    this.destroyed = true;
    // Internal: the batcher turns a failed model call into KServe's error answer.
    this.fail(err ?? new Error('the model server cut its answer'));
    return this;
  }
}

/** The least of an IncomingMessage the model server reads for a request whose body is already read. */
export function recordedRequest(
  method: string,
  url: string,
  headers: Record<string, string> = {},
): IncomingMessage {
  const req = new EventEmitter() as IncomingMessage;
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  Object.assign(req, {
    method,
    url,
    headers: lower,
    rawHeaders: Object.entries(lower).flat(),
    complete: true,
  });
  return req;
}

export function asServerResponse(r: RecordedResponse): ServerResponse {
  return r as unknown as ServerResponse;
}
