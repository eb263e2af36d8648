/**
 * KServe's request batcher (pkg/batcher/handler.go, v0.20.0), transport-free: the agent runs it as an
 * undici interceptor (interceptor.ts), `inferlog up` around its in-process model (in-process.ts).
 *
 *   client request ──parseV1 (400s here)──▶ queue for its path ──release──▶ ModelCall(path, {"instances":[…]})
 *        ▲                                      (size or latency)                    │
 *        └──── answer: {"message","batchId","predictions": this client's slice} ◀────┘
 *
 * The rules, as KServe's agent applies them (and the side-by-side test checks):
 *  1. Only paths ending in `:predict` are batched; the caller passes everything else through.
 *  2. A body that is not a JSON object with an `instances` list is answered 400 in text/plain
 *     (`can't Unmarshal body`, `no instances in the request`), never sent to the model.
 *  3. A batch starts when a request arrives at an empty queue, and is released when it holds at
 *     least maxBatchSize instances (checked after a whole request is added, so it may overshoot)
 *     or maxLatency ms after it started. One model call per queue at a time: requests that arrive
 *     meanwhile wait and form the next batch, in arrival order.
 *  4. The model gets `{"instances":[…]}` only (other fields are dropped), re-encoded as Go does.
 *  5. Every client gets 200 (text/plain, as Go sniffs it): its predictions and the batch's id, or
 *     the model's error body as `message` (non-200), or a count mismatch message.
 *
 * One deliberate difference: KServe merges requests for different `:predict` paths into one call to
 * the last one's path, so one client's instances could reach another model. Here each path has its
 * own queue. Bodies are bounded (`maxBodyBytes`); KServe reads them whole, however large.
 */
import { randomUUID } from 'node:crypto';
import { BATCHER_SETTING_DEFAULTS, type BatcherSettings } from '../../config/settings.js';
import type { BatchInfo } from '../../core/exchange.js';
import { nowMs } from '../../core/time.js';
import { goListField, isGoUnmarshalError, goStringOfBytes, goSyntaxMessage, marshalGo } from './go-json.js';

/** maxBatchSize (KServe's --max-batchsize, default 32), maxLatencyMs (--max-latency, default 5000), and: */
export interface BatcherOptions extends BatcherSettings {
  /** Also batch JSON V2 `/infer` requests (v2.ts): beyond KServe, opt-in (`--batch-v2`). */
  v2?: boolean;
  /** Largest request body taken into a batch (413 above); KServe has no bound. Default 16 MiB. */
  maxBodyBytes?: number;
}

export const BATCHER_DEFAULTS = { ...BATCHER_SETTING_DEFAULTS, maxBodyBytes: 16 * 1024 * 1024 } as const;

/** What the model answered to a merged call (a transport failure is thrown, or answered as a 502 body). */
export interface ModelAnswer {
  status: number;
  body: Buffer;
  contentType?: string | undefined;
}

/** Sends a merged request to the model (`headers`: what the protocol needs, e.g. V2's binary header length). */
export type ModelCall = (
  path: string,
  body: Buffer,
  headers?: Record<string, string>,
) => Promise<ModelAnswer>;

/** The batcher's answer to one client. */
export interface BatcherAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** Set when the request went to the model in a batch. */
  batch?: BatchInfo;
}

/** Told about every released batch (metrics, the batch's own log). */
export interface BatchObserver {
  batched(event: {
    path: string;
    id: string;
    requests: number;
    instances: number;
    /** Each request's time in the queue, ms. */
    waitsMs: number[];
    model: ModelAnswer;
    /** Set when the model could not be reached (`model` is then the 502 KServe's proxy would answer). */
    error?: string;
    body: Buffer;
    startedAt: number;
    endedAt: number;
  }): void;
}

const TEXT = 'text/plain; charset=utf-8';

/** Go's http.Error: the message and a newline, text/plain, nosniff. */
export function plainError(status: number, message: string): BatcherAnswer {
  const body = Buffer.from(`${message}\n`);
  return {
    status,
    headers: {
      'content-type': TEXT,
      'x-content-type-options': 'nosniff',
      'content-length': String(body.length),
    },
    body,
  };
}

function answer(text: string): BatcherAnswer {
  const body = Buffer.from(text);
  return {
    status: 200,
    headers: { 'content-type': TEXT, 'content-length': String(body.length) },
    body,
  };
}

/** The path KServe matches (`r.URL.Path`: no query, percent-decoded), or undefined when not batched. */
export function predictPath(url: string): string | undefined {
  const q = url.indexOf('?');
  let path = q < 0 ? url : url.slice(0, q);
  if (path.includes('%')) {
    try {
      path = decodeURIComponent(path);
    } catch {
      return undefined;
    }
  }
  return path.endsWith(':predict') ? path : undefined;
}

/** A request's instances, each already encoded as Go would send it, or the 400 KServe answers. */
export function parseV1(body: Buffer): string[] | BatcherAnswer {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return plainError(400, "can't Unmarshal body");
  }
  const field = goListField(parsed, 'instances', 'batcher.Request');
  if (!field.ok) return plainError(400, "can't Unmarshal body");
  if (field.list === null || field.list.length === 0) return plainError(400, 'no instances in the request');
  try {
    return field.list.map(marshalGo);
  } catch (e) {
    if (isGoUnmarshalError(e)) return plainError(400, "can't Unmarshal body");
    throw e;
  }
}

/** One client request in a queue; `count` is what maxBatchSize counts (instances, or V2 rows). */
export interface Member<P = unknown> {
  payload: P;
  count: number;
  arrivedAt: number;
  resolve(a: BatcherAnswer): void;
}

/** How a protocol merges its requests into one model call and splits the answer back. */
export interface BatchCodec<P = unknown> {
  merge(members: readonly Member<P>[]): Buffer;
  /** Request headers the merged body needs (default: none beyond Content-Type). */
  headers?(members: readonly Member<P>[], body: Buffer): Record<string, string> | undefined;
  /** One answer per member, in order (the batch info is added by the batcher). */
  split(model: ModelAnswer, id: string, members: readonly Member<P>[]): BatcherAnswer[];
}

/** One queue: the batch being filled, the requests waiting while a model call runs. */
class PathQueue {
  members: Member[] = [];
  count = 0;
  timer: NodeJS.Timeout | undefined;
  calling = false;
  waiting: Member[] = [];

  constructor(
    readonly path: string,
    readonly codec: BatchCodec,
  ) {}
}

/** KServe's V1 batching: instances in, predictions out (rule 4 and 5 above). */
const V1_CODEC: BatchCodec<string[]> = {
  merge: (members) => Buffer.from(`{"instances":[${members.map((m) => m.payload.join(',')).join(',')}]}`),
  split: (model, id, members) =>
    splitAnswer(
      model,
      id,
      members,
      members.reduce((n, m) => n + m.count, 0),
    ).map((text) => answer(text)),
};

export class RequestBatcher {
  private readonly queues = new Map<string, PathQueue>();
  /** After flush(): every batch goes to the model as soon as it can (shutdown waits out no maxLatency). */
  private flushing = false;
  readonly maxBodyBytes: number;

  constructor(
    readonly options: BatcherOptions,
    private readonly call: ModelCall,
    private readonly observer?: BatchObserver,
  ) {
    this.maxBodyBytes = options.maxBodyBytes ?? BATCHER_DEFAULTS.maxBodyBytes;
  }

  /** Answers one V1 `:predict` client: at once for a body it cannot batch, else once its batch is back. */
  submit(path: string, body: Buffer): Promise<BatcherAnswer> {
    if (body.length > this.maxBodyBytes)
      return Promise.resolve(plainError(413, `request body is larger than ${this.maxBodyBytes} bytes`));
    const instances = parseV1(body);
    if (!Array.isArray(instances)) return Promise.resolve(instances);
    return this.enqueue(path, path, V1_CODEC as BatchCodec, instances, instances.length);
  }

  /** Queues a parsed request under `key` (requests only merge with others of the same key). */
  enqueue(
    key: string,
    path: string,
    codec: BatchCodec,
    payload: unknown,
    count: number,
  ): Promise<BatcherAnswer> {
    return new Promise((resolve) => {
      let q = this.queues.get(key);
      if (!q) {
        q = new PathQueue(path, codec);
        this.queues.set(key, q);
      }
      const member: Member = { payload, count, arrivedAt: nowMs(), resolve };
      if (q.calling) q.waiting.push(member);
      else {
        this.add(key, q, member);
        if (this.flushing && !q.calling) this.release(key, q);
      }
    });
  }

  private add(key: string, q: PathQueue, m: Member): void {
    if (q.members.length === 0) {
      q.timer = setTimeout(() => this.release(key, q), this.options.maxLatencyMs);
    }
    q.members.push(m);
    q.count += m.count;
    if (q.count >= this.options.maxBatchSize) this.release(key, q);
  }

  private release(key: string, q: PathQueue): void {
    clearTimeout(q.timer);
    q.timer = undefined;
    const members = q.members;
    q.members = [];
    q.count = 0;
    if (members.length === 0) return;
    q.calling = true;
    void this.predict(q, members).finally(() => {
      q.calling = false;
      while (q.waiting.length > 0 && !q.calling) this.add(key, q, q.waiting.shift() as Member);
      if (this.flushing && !q.calling) this.release(key, q);
      if (q.members.length === 0 && !q.calling) this.queues.delete(key);
    });
  }

  private async predict(q: PathQueue, members: Member[]): Promise<void> {
    const startedAt = nowMs();
    const total = members.reduce((n, m) => n + m.count, 0);
    const body = q.codec.merge(members);
    const id = randomUUID();
    let model: ModelAnswer;
    let error: string | undefined;
    try {
      model = await this.call(q.path, body, q.codec.headers?.(members, body));
    } catch (err) {
      error = (err as Error).message;
      model = { status: 502, body: Buffer.from(`${error}\n`) };
    }
    const answers = q.codec.split(model, id, members);
    const size = members.length;
    members.forEach((m, position) =>
      m.resolve({ ...(answers[position] as BatcherAnswer), batch: { id, size, position } }),
    );
    this.observer?.batched({
      path: q.path,
      id,
      requests: size,
      instances: total,
      waitsMs: members.map((m) => startedAt - m.arrivedAt),
      model,
      ...(error !== undefined ? { error } : {}),
      body,
      startedAt,
      endedAt: nowMs(),
    });
  }

  /** Releases every partly filled batch now, and every later one at once (shutdown: nobody waits out maxLatency). */
  flush(): void {
    this.flushing = true;
    for (const [key, q] of this.queues) if (!q.calling) this.release(key, q);
  }
}

/** The name this class had while it batched V1 only. */
export const V1Batcher = RequestBatcher;
export type V1Batcher = RequestBatcher;

/** Each client's answer body, in member order (rule 5). */
function splitAnswer(model: ModelAnswer, id: string, members: readonly Member[], total: number): string[] {
  const all = (message: string, batchId: string): string[] =>
    members.map(() => `{"message":${message},"batchId":"${batchId}","predictions":null}`);
  if (model.status !== 200) return all(goStringOfBytes(model.body), '');
  const text = model.body.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return all(marshalGo(goSyntaxMessage(text, e)), id);
  }
  const field = goListField(parsed, 'predictions', 'batcher.PredictionResponse');
  if (!field.ok) return all(marshalGo(field.message), id);
  const predictions = field.list ?? [];
  if (predictions.length !== total)
    return all('"size of prediction is not equal to the size of instances"', id);
  try {
    let at = 0;
    return members.map((m) => {
      const slice = predictions.slice(at, at + m.count);
      at += m.count;
      return `{"message":"","batchId":"${id}","predictions":${marshalGo(slice)}}`;
    });
  } catch (e) {
    if (isGoUnmarshalError(e)) return all(marshalGo(e.message), id);
    throw e;
  }
}

/** One observer that tells several (metrics and the batch log). */
export function observeAll(...observers: Array<BatchObserver | undefined>): BatchObserver | undefined {
  const list = observers.filter((o): o is BatchObserver => o !== undefined);
  if (list.length <= 1) return list[0];
  return { batched: (e) => list.forEach((o) => o.batched(e)) };
}
