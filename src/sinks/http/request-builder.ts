/**
 * Encoded events ──▶ the POSTs that carry them.
 *
 *   per-event: BinaryEvent ──▶ POST {Ce-* headers, Content-Type: request's} raw body   (what KServe's agent sends)
 *   batched:   Exchange[]  ──▶ POST {Content-Type: application/cloudevents-batch+json} [structured events]
 */
import type { Exchange } from '../../core/exchange.js';
import type { BinaryEvent } from '../../formats/cloudevents.js';
import { CONTENT_TYPE_BATCH, encodeBatch } from '../../formats/cloudevents.js';

export const USER_AGENT = 'inferlog';

export interface PostRequest {
  headers: string[];
  body: Uint8Array | string | undefined;
}

/** One binary-mode event as its POST. The event's header array is reused, not copied. */
export function binaryPost(event: BinaryEvent): PostRequest {
  event.headers.push('User-Agent', USER_AGENT);
  return { headers: event.headers, body: event.body };
}

/** A whole batch of exchanges as one POST of `application/cloudevents-batch+json`. */
export function batchPost(batch: readonly Exchange[]): PostRequest {
  return {
    headers: ['Content-Type', CONTENT_TYPE_BATCH, 'User-Agent', USER_AGENT],
    body: encodeBatch(batch),
  };
}
