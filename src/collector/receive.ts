/**
 * `POST /` (and any other POST path, so a logger.url with a path works): CloudEvents in.
 *
 *   raw body bytes + headers ──decodeCloudEvents──▶ halves ──commit queue──▶ store (durable) ──▶ 200
 *        │                          └─ invalid ──▶ 400/415 { error: { code: EVENT_INVALID, reason, message } }
 *        └─ batch of more than maxBatchEvents ──▶ 413 { error: { code: PAYLOAD_TOO_LARGE, reason: too_many_events } }
 *   halves ──an event outside the principal's namespaces/models──▶ 403 { error: { code: FORBIDDEN, reason: forbidden } }
 *                                                                 (the whole request: nothing of it is stored)
 *
 * The 200 is sent only after the store committed, so a sender that got it can forget the event.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { InferlogError, isInferlogError } from '../core/errors.js';
import type { OpLogger } from '../core/log.js';
import type { CeHeaders, DecodedEvent } from '../formats/cloudevents-decode.js';
import { decodeCloudEvents } from '../formats/cloudevents-decode.js';
import { isBatchRequest, scanBatch } from './batch-limits.js';
import type { CommitQueue } from './commit-queue.js';
import type { Principal } from './auth/principal.js';
import { isRestricted, mayAccess } from './auth/principal.js';
import type { ExchangeHalf } from '../store/exchange-record.js';
import { halfFromEvent } from '../store/exchange-record.js';
import type { CollectorMetrics } from './metrics.js';

/** Events decoded between two yields to the event loop (a few tens of ms on a busy machine). */
const DECODE_SLICE_EVENTS = 500;
/** Bodies above this yield to the event loop between scanning and decoding. */
const YIELD_BYTES = 64 * 1024;

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const OPEN = Buffer.from('[');
const CLOSE = Buffer.from(']');

/**
 * Decodes a batch a slice of elements at a time, so /healthz and other senders are answered
 * between slices. Still all or nothing: every slice is decoded before anything is committed.
 * Errors name the event's index in the whole batch, as a whole-body decode does.
 */
async function decodeInSlices(
  headers: CeHeaders,
  body: Uint8Array,
  ranges: readonly [number, number][],
): Promise<DecodedEvent[]> {
  const out: DecodedEvent[] = [];
  for (let k = 0; k < ranges.length; k += DECODE_SLICE_EVENTS) {
    const part = ranges.slice(k, k + DECODE_SLICE_EVENTS);
    const chunk = Buffer.concat([OPEN, body.subarray(part[0]![0], part[part.length - 1]![1]), CLOSE]);
    try {
      for (const ev of decodeCloudEvents(headers, chunk)) out.push(ev);
    } catch (err) {
      if (!isInferlogError(err, 'EVENT_INVALID')) throw err;
      const message = err.message.replace(/^batch\[(\d+)\]/, (_, i: string) => `batch[${Number(i) + k}]`);
      throw new InferlogError('EVENT_INVALID', message, { status: err.status, details: err.details });
    }
    await yieldToLoop();
  }
  return out;
}

/**
 * A sender limited to some namespaces or models may write only those: the first event that
 * claims another refuses the whole request, before anything is committed (a batch is all or
 * nothing, like a decode error).
 */
function checkIngest(principal: Principal, halves: readonly ExchangeHalf[], metrics: CollectorMetrics): void {
  if (!isRestricted(principal)) return;
  const at = halves.findIndex((h) => !mayAccess(principal, h.namespace, h.model));
  if (at < 0) return;
  const h = halves[at]!;
  metrics.rejected.inc({ reason: 'forbidden' });
  throw new InferlogError(
    'FORBIDDEN',
    `"${principal.id}" may not write model "${h.model.slice(0, 200)}" in namespace "${h.namespace.slice(0, 200)}" (event ${at}): nothing of this request was stored`,
    { status: 403, details: { reason: 'forbidden' } },
  );
}

export function registerReceive(
  app: FastifyInstance,
  queue: CommitQueue,
  metrics: CollectorMetrics,
  log: OpLogger,
  /** The most events per request, and what the operator calls that limit (`--max-batch-events`). */
  batchLimit: { maxEvents: number; name: string },
  /** `--log-instances`: every exchange also gets one row per prediction when it completes. */
  logInstances = false,
): void {
  const maxBatchEvents = batchLimit.maxEvents;
  // Counted once per request, like a decode error: the scan stops early, so the true count is unknown.
  const tooMany = (): never => {
    metrics.received.inc();
    metrics.rejected.inc({ reason: 'too_many_events' });
    throw new InferlogError(
      'PAYLOAD_TOO_LARGE',
      `batch has more than ${maxBatchEvents} events, the collector's limit per request (${batchLimit.name}): send smaller batches`,
      { status: 413, details: { reason: 'too_many_events', maxEvents: maxBatchEvents } },
    );
  };
  const handler = async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const raw = Buffer.isBuffer(req.body) ? req.body : new Uint8Array(0);
    const body = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
    // Refuse an oversized batch before decoding it: decoding is the expensive part.
    const scan = isBatchRequest(req.headers) ? scanBatch(body, maxBatchEvents) : undefined;
    if (scan?.kind === 'over') return tooMany();
    if (body.byteLength > YIELD_BYTES) await yieldToLoop();
    let halves;
    try {
      const now = Date.now();
      const events =
        scan?.kind === 'elements' && scan.ranges.length > DECODE_SLICE_EVENTS
          ? await decodeInSlices(req.headers, body, scan.ranges)
          : decodeCloudEvents(req.headers, body);
      if (events.length > maxBatchEvents) return tooMany();
      metrics.received.inc(events.length);
      halves = events.map((ev) => halfFromEvent(ev, now));
      if (logInstances) for (const h of halves) h.instances = true;
    } catch (err) {
      metrics.received.inc();
      // The decoder's errors carry the status (400/415) and reason; the error handler answers them.
      if (isInferlogError(err, 'EVENT_INVALID')) metrics.rejected.inc({ reason: String(err.details.reason) });
      throw err;
    }
    checkIngest(req.principal, halves, metrics);
    if (halves.length === 0) return reply.code(200).send({ stored: 0, duplicates: 0 });
    try {
      const r = await queue.submit(halves);
      return reply.code(200).send({ stored: r.stored, duplicates: r.duplicates });
    } catch (err) {
      metrics.rejected.inc({ reason: 'store_unavailable' }, halves.length);
      log.error('store commit failed', { error: err instanceof Error ? err.message : String(err) });
      throw new InferlogError('STORE_UNAVAILABLE', 'the store could not commit the event; retry later', {
        status: 503,
        cause: err,
      });
    }
  };
  app.post('/', { config: { scope: 'ingest' } }, handler);
  app.post('/*', { config: { scope: 'ingest' } }, handler);
}
