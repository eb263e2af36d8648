/**
 * The disk spool: a bounded, checksummed, acked queue of exchanges in a directory.
 *
 *   submit ─append: encodeFrame; one write per turn─▶ segment-<seq>.dat (the newest: the write segment)
 *                        │ (a copy of the decoded Exchange stays in a bounded memory cache)
 *                        ▼
 *   delivery loop ◀─read: cache hit, or async disk read from the read cursor─ segments, oldest first
 *        │
 *        └─ack(batch)─▶ ack cursor advances over batches acked in order ─▶ `ledger` (seq, offset)
 *                        fully acked segments are deleted
 *
 * Invariants (what the tests hold it to), and the module that keeps each:
 *  1. A record is on disk (page cache) by the end of the event-loop turn in which it was appended
 *     (the turn's records go in one write), and before any read: a crash of the process after
 *     that cannot lose it (durability `process`). The agent's proxy ends a client's answer only
 *     after that write, so a client never has its whole answer while its exchange could still be
 *     lost (pipeline/turn-end.ts, capture/proxy.ts). With `machine`, segments are fsynced as a
 *     group every `fsyncIntervalMs` and the ledger at every ack. (spool.ts, segments.ts, ledger.ts)
 *  2. A record is forgotten only when it is acked and so is every record before it; the ledger
 *     is written after the sink acknowledged. A crash between the two redelivers (at-least-once);
 *     the store deduplicates by exchange id, which makes delivery exactly-once end to end. (ledger.ts)
 *  3. Segments are append-only and never reopened for writing: each start writes a new segment,
 *     so a torn tail from a crash is only ever at the end of an old segment. (segments.ts, recovery.ts)
 *  4. Every frame carries a magic and a crc32. A reader skips a bad frame to the next magic,
 *     counts it (`corrupt`), and goes on; nothing in a segment can stop the reader. (codec.ts, segments.ts)
 *  5. Bytes on disk stay at or under `maxBytes` (the acked head of the oldest segment
 *     included). When full, `whenFull` decides, synchronously and without waiting:
 *     `drop-newest` refuses the new record; `drop-oldest` deletes the oldest whole segment no
 *     batch has been read from (falling back to refusing the new record). Every drop is counted. (spool.ts)
 *  6. The memory cache is an optimisation only (bounded by `cacheBytes`): the disk is the truth. (cache.ts)
 *  7. One process per directory: a lock file holds the owner's pid. (lock.ts)
 *  8. Only this process can touch it: the directory must be owned by the process's uid and not
 *     group/world-writable (else UNSAFE_PATH at open); it is created 0700, every file 0600, and
 *     every file is opened with O_NOFOLLOW, so a planted symbolic link is refused, never followed.
 *     (lock.ts, core/private-files.ts)
 *
 * The pieces: codec.ts (one record ⇄ one frame), segments.ts (segment files: write, read, list),
 * ledger.ts (the acked position and the order of acks), lock.ts (the directory), recovery.ts (what a
 * start finds), cache.ts (recent records in memory), spool.ts (the DeliveryBuffer composing them).
 */
export { Spool, type SpoolConfig } from './spool.js';
