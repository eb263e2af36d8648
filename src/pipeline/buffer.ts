/**
 * What the delivery loop reads from: the memory queue or the disk spool, one interface.
 *
 *   submit ──append (sync, never blocks)──▶ DeliveryBuffer ──read(max)──▶ delivery loop ──ack(batch)──▶ gone
 *
 * A record leaves a buffer only through `ack` (the sink took it, or rejected it for good)
 * or a counted drop. Batches are acked in any order; the buffer forgets a record only
 * when every batch read before it was acked too, so a crash never skips an unacked record.
 */
import type { Exchange } from '../core/exchange.js';

/** Why an exchange never reached the sink; the `reason` label of inferlog_exchanges_dropped_total. */
export type DropReason =
  /** The memory queue was at delivery.memoryQueueSize. */
  | 'queue_full'
  /** The spool was at spool.maxBytes (or one record alone is larger). */
  | 'spool_full'
  /** Writing to the spool failed (disk full, I/O error). */
  | 'spool_io'
  /** A spool record failed its checksum or was cut short by a crash mid-write. */
  | 'corrupt'
  /** The sink answered with a permanent error (4xx): retrying cannot help. */
  | 'rejected'
  /** A stage (sampler, redactor) threw: the exchange is dropped rather than logged unredacted. */
  | 'stage_error'
  /** Still in the memory queue when shutdown's drain time ran out. */
  | 'shutdown'
  /** Held by a memory-only buffer when an earlier run was killed; counted at the next start. */
  | 'crash';

export const DROP_REASONS: readonly DropReason[] = [
  'queue_full',
  'spool_full',
  'spool_io',
  'corrupt',
  'rejected',
  'stage_error',
  'shutdown',
  'crash',
];

export type DropCounter = (reason: DropReason, count: number) => void;

export interface ReadBatch {
  readonly exchanges: readonly Exchange[];
}

export interface DeliveryBuffer {
  /** Hot path: stores the exchange or counts it dropped. Synchronous; never throws. */
  append(exchange: Exchange): void;
  /**
   * Up to `max` records not yet handed out, oldest first; undefined when there are none. With
   * `maxBytes`, a buffer that must load records to hand them out (the spool) stops once they
   * reach about that many bytes (always at least one record).
   */
  read(max: number, maxBytes?: number): Promise<ReadBatch | undefined>;
  /** The batch is done (delivered or rejected for good): its records may be forgotten. */
  ack(batch: ReadBatch): void;
  /** Records stored and not yet handed out by `read`. */
  unread(): number;
  /** Records stored and not yet acked (handed out or not). */
  readonly records: number;
  /** Bytes held (on disk for the spool, an estimate of body bytes for the memory queue). */
  readonly bytes: number;
  /** Whether records survive a restart (the spool) or are lost with the process (memory). */
  readonly persistent: boolean;
  /** Stops accepting; returns how many stored records were lost (memory) or kept on disk (spool). */
  close(): Promise<{ lost: number; kept: number }>;
}
