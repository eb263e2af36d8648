/**
 * The http(s) sink: KServe's CloudEvents, to any `http://` or `https://` logger URL.
 *
 *   send(batch) ─┬─ per-event (batchSize 1): each exchange ─▶ encodeBinary ─▶ 1–2 POSTs, all in flight at once over the pool
 *                └─ batched (batchSize > 1): the batch ─────▶ encodeBatch  ─▶ 1 POST of application/cloudevents-batch+json
 *                                                                     resolve when every POST got a 2xx
 *
 * The sink never retries (withRetry does) and holds no queue: what is in flight is at most
 * one batch. In per-event mode a half that was delivered is remembered (WeakMap on the
 * Exchange object), so when the pipeline retries the same batch only the failed halves go
 * out again — duplicates are left only for deliveries that succeeded without our knowing.
 */
import { setMaxListeners } from 'node:events';
import type { Exchange } from '../../core/exchange.js';
import { InferlogError } from '../../core/errors.js';
import { encodeBinary } from '../../formats/cloudevents.js';
import type { Sink, SinkFactory } from '../sink.js';
import { createHttpClient, type HttpClient } from './client.js';
import { httpSinkConfig } from './config.js';
import { batchPost, binaryPost } from './request-builder.js';

const REQUEST_BIT = 1;
const RESPONSE_BIT = 2;

/** Of several failures, the one that lets a retry do the most: throttle, then retryable, then permanent. */
function worstToReport(errors: InferlogError[]): InferlogError {
  const rank = { throttle: 0, retryable: 1, permanent: 2 } as const;
  let best = errors[0] as InferlogError;
  for (const e of errors) {
    if (rank[e.kind] < rank[best.kind]) best = e;
    else if (
      e.kind === 'throttle' &&
      best.kind === 'throttle' &&
      (e.retryAfterMs ?? 0) > (best.retryAfterMs ?? 0)
    )
      best = e;
  }
  return best;
}

function asSinkError(err: unknown): InferlogError {
  return err instanceof InferlogError
    ? err
    : new InferlogError('SINK_UNREACHABLE', String(err), { cause: err });
}

export const createHttpSink: SinkFactory = (url, options) => {
  const config = httpSinkConfig(url, options);
  const name = url.origin + config.path;
  let starting: Promise<HttpClient> | undefined;
  let closed = false;
  const delivered = new WeakMap<Exchange, number>();

  async function sendPerEvent(
    client: HttpClient,
    batch: readonly Exchange[],
    outer: AbortSignal,
  ): Promise<void> {
    // All the batch's POSTs listen to one signal: relay the caller's through one listener so
    // a big batch does not pile listeners onto the caller's signal.
    const relay = new AbortController();
    setMaxListeners(0, relay.signal);
    const onAbort = (): void => relay.abort(outer.reason);
    if (outer.aborted) onAbort();
    else outer.addEventListener('abort', onAbort, { once: true });
    const signal = relay.signal;
    const inFlight: Promise<void>[] = [];
    for (const ex of batch) {
      const done = delivered.get(ex) ?? 0;
      for (const event of encodeBinary(ex)) {
        const bit = event.half === 'request' ? REQUEST_BIT : RESPONSE_BIT;
        if (done & bit) continue;
        const post = binaryPost(event);
        inFlight.push(
          client.post(post.headers, post.body, signal).then(() => {
            delivered.set(ex, (delivered.get(ex) ?? 0) | bit);
          }),
        );
      }
    }
    const results = await Promise.allSettled(inFlight);
    outer.removeEventListener('abort', onAbort);
    const errors: InferlogError[] = [];
    for (const r of results) if (r.status === 'rejected') errors.push(asSinkError(r.reason));
    if (errors.length > 0) throw worstToReport(errors);
  }

  const sink: Sink = {
    name,
    maxBatch: config.maxBatch,
    async start() {
      if (closed) throw new InferlogError('SINK_UNREACHABLE', `${name}: the sink was shut down`);
      starting ??= createHttpClient(config);
      try {
        await starting;
      } catch (err) {
        starting = undefined;
        throw err;
      }
    },
    async send(batch, signal) {
      if (batch.length === 0) return;
      if (closed) throw new InferlogError('SINK_UNREACHABLE', `${name}: the sink was shut down`);
      await sink.start();
      const client = await (starting as Promise<HttpClient>);
      if (config.batched) {
        const post = batchPost(batch);
        await client.post(post.headers, post.body, signal);
        return;
      }
      await sendPerEvent(client, batch, signal);
    },
    async shutdown() {
      if (closed) return;
      closed = true;
      const client = await starting?.catch(() => undefined);
      await client?.close();
    },
  };
  return sink;
};
