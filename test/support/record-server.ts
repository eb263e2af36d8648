/**
 * A real node:http peer for pipeline tests: accepts POSTed JSON lines (formats/jsonl-record.ts),
 * remembers how often each exchange id arrived, and misbehaves on request (5xx, 429, 400, slow, hang).
 *
 *   RecordSink ──POST /records (jsonl)──▶ RecordServer (127.0.0.1, free port) ──▶ counts by id
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InferlogError } from '../../src/core/errors.js';
import type { Exchange } from '../../src/core/exchange.js';
import { decodeRecord, encodeRecord } from '../../src/formats/jsonl-record.js';
import type { Sink } from '../../src/sinks/sink.js';

export type Behaviour =
  | { kind: 'ok' }
  | { kind: 'status'; status: number; retryAfterS?: number }
  | { kind: 'slow'; ms: number }
  | { kind: 'hang' };

export class RecordServer {
  readonly counts = new Map<string, number>();
  requests = 0;
  behaviour: Behaviour = { kind: 'ok' };
  /** Answer this many requests with `behaviour`, then go back to ok (undefined = forever). */
  remaining: number | undefined;
  private server: Server | undefined;
  private readonly hung = new Set<ServerResponse>();
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/records`;
    return this;
  }

  get delivered(): number {
    return this.counts.size;
  }

  duplicates(): number {
    let d = 0;
    for (const c of this.counts.values()) d += c - 1;
    return d;
  }

  async stop(): Promise<void> {
    for (const r of this.hung) r.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    this.requests++;
    let b = this.behaviour;
    if (this.remaining !== undefined) {
      if (this.remaining <= 0) b = { kind: 'ok' };
      else this.remaining--;
    }
    if (b.kind === 'hang') {
      this.hung.add(res);
      return;
    }
    if (b.kind === 'status') {
      res.writeHead(b.status, b.retryAfterS !== undefined ? { 'retry-after': String(b.retryAfterS) } : {});
      res.end();
      return;
    }
    if (b.kind === 'slow') await new Promise((r) => setTimeout(r, b.ms));
    for (const line of Buffer.concat(chunks).toString('utf8').split('\n')) {
      if (!line) continue;
      const ex = decodeRecord(line);
      this.counts.set(ex.id, (this.counts.get(ex.id) ?? 0) + 1);
    }
    res.writeHead(200);
    res.end();
  }
}

/** A minimal network Sink (the real http sink lives in src/sinks/http/): POST jsonl, classify the status. */
export function recordSink(url: string, maxBatch = 16): Sink & { sends: number } {
  const sink = {
    name: url,
    maxBatch,
    sends: 0,
    async start() {},
    async send(batch: readonly Exchange[], signal: AbortSignal) {
      sink.sends++;
      let res: Response;
      try {
        res = await fetch(url, { method: 'POST', body: batch.map(encodeRecord).join('\n'), signal });
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        throw new InferlogError('SINK_UNREACHABLE', `POST ${url}: ${String(err)}`, { cause: err });
      }
      await res.arrayBuffer();
      if (res.ok) return;
      if (res.status === 429 || (res.status === 503 && res.headers.has('retry-after'))) {
        throw new InferlogError('SINK_THROTTLED', `status ${res.status}`, {
          retryAfterMs: Number(res.headers.get('retry-after') ?? '1') * 1000,
        });
      }
      if (res.status >= 500) throw new InferlogError('SINK_SERVER_ERROR', `status ${res.status}`);
      throw new InferlogError('SINK_REJECTED', `status ${res.status}`);
    },
    async shutdown() {},
  };
  return sink;
}

let n = 0;
/** A small valid exchange with a unique id. */
export function exchange(id = `ex-${process.pid}-${++n}`, bodyBytes = 32): Exchange {
  const now = Date.now();
  return {
    id,
    source: {
      inferenceService: 'sklearn-iris',
      namespace: 'default',
      component: 'predictor',
      endpoint: '',
      sourceUri: 'http://localhost:9081/',
      annotations: {},
    },
    mode: 'all',
    method: 'POST',
    url: '/v1/models/sklearn-iris:predict',
    metadata: {},
    requestTime: now - 3.25,
    responseTime: now,
    request: {
      bytes: new Uint8Array(bodyBytes).fill(97),
      contentType: 'application/json',
      size: bodyBytes,
      truncated: false,
    },
    status: 200,
    response: {
      bytes: new TextEncoder().encode('{"predictions":[1]}'),
      contentType: 'application/json',
      size: 19,
      truncated: false,
    },
    sampleWeight: 1,
  };
}
