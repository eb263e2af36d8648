/**
 * `POST /` (and any other POST path, so a logger.url with a path works): CloudEvents in.
 *
 *   raw body bytes + headers ──decodeCloudEvents──▶ halves ──commit queue──▶ store (durable) ──▶ 200
 *                                   └─ invalid ──▶ 400/415 { error: { code: EVENT_INVALID, reason, message } }
 *
 * The 200 is sent only after the store committed, so a sender that got it can forget the event.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { OpLogger } from '../core/log.js';
import { CloudEventDecodeError, decodeCloudEvents } from '../formats/cloudevents-decode.js';
import type { CommitQueue } from './commit-queue.js';
import { halfFromEvent } from '../store/exchange-record.js';
import { sendError } from './http-errors.js';
import type { CollectorMetrics } from './metrics.js';

export function registerReceive(
  app: FastifyInstance,
  queue: CommitQueue,
  metrics: CollectorMetrics,
  log: OpLogger,
): void {
  const handler = async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const body = Buffer.isBuffer(req.body) ? req.body : new Uint8Array(0);
    let halves;
    try {
      const now = Date.now();
      const events = decodeCloudEvents(
        req.headers,
        new Uint8Array(body.buffer, body.byteOffset, body.byteLength),
      );
      metrics.received.inc(events.length);
      halves = events.map((ev) => halfFromEvent(ev, now));
    } catch (err) {
      metrics.received.inc();
      if (err instanceof CloudEventDecodeError) {
        metrics.rejected.inc({ reason: err.reason });
        return sendError(reply, err.status, 'EVENT_INVALID', err.message, { reason: err.reason });
      }
      throw err;
    }
    if (halves.length === 0) return reply.code(200).send({ stored: 0, duplicates: 0 });
    try {
      const r = await queue.submit(halves);
      return reply.code(200).send({ stored: r.stored, duplicates: r.duplicates });
    } catch (err) {
      metrics.rejected.inc({ reason: 'store_unavailable' }, halves.length);
      log.error('store commit failed', { error: err instanceof Error ? err.message : String(err) });
      return sendError(reply, 503, 'STORE_UNAVAILABLE', 'the store could not commit the event; retry later');
    }
  };
  app.post('/', handler);
  app.post('/*', handler);
}
