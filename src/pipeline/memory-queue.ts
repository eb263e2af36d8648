/**
 * The memory buffer: a bounded FIFO of exchanges, used when there is no spool
 * (`spool.dir` unset or `spool.durability: none`).
 *
 *   append ──▶ [ at most memoryQueueSize exchanges and maxBytes of bodies ] ──read──▶ in flight ──ack──▶ gone
 *                    │ full: drop-newest refuses the new one, drop-oldest evicts the head
 *                    ▼
 *              dropped{reason="queue_full"}
 *
 * Records in it die with the process; shutdown counts them dropped with reason `shutdown`.
 */
import type { Exchange } from '../core/exchange.js';
import type { SpoolWhenFull } from '../config/settings.js';
import type { DeliveryBuffer, DropCounter, ReadBatch } from './buffer.js';

interface MemoryBatch extends ReadBatch {
  readonly bytes: number;
}

export function bodyBytes(ex: Exchange): number {
  return (ex.request?.bytes.byteLength ?? 0) + (ex.response?.bytes.byteLength ?? 0);
}

export class MemoryQueue implements DeliveryBuffer {
  readonly persistent = false;
  private items: (Exchange | undefined)[] = [];
  private head = 0;
  private queuedBytes = 0;
  private inFlightRecords = 0;
  private inFlightBytes = 0;
  private closed = false;

  constructor(
    private readonly capacity: number,
    private readonly whenFull: SpoolWhenFull,
    private readonly onDrop: DropCounter,
    /** Body bytes held (queued and in flight): large payloads must not grow memory unbounded. */
    private readonly maxBytes = Infinity,
  ) {}

  private full(incomingBytes: number): boolean {
    return this.records >= this.capacity || (this.records > 0 && this.bytes + incomingBytes > this.maxBytes);
  }

  get records(): number {
    return this.unread() + this.inFlightRecords;
  }

  get bytes(): number {
    return this.queuedBytes + this.inFlightBytes;
  }

  unread(): number {
    return this.items.length - this.head;
  }

  append(ex: Exchange): void {
    if (this.closed) {
      this.onDrop('shutdown', 1);
      return;
    }
    const size = bodyBytes(ex);
    // In-flight records count against the bounds too: memory is what is bounded.
    while (this.full(size)) {
      if (this.whenFull === 'drop-newest' || this.unread() === 0) {
        this.onDrop('queue_full', 1);
        return;
      }
      const evicted = this.shift();
      if (evicted) this.queuedBytes -= bodyBytes(evicted);
      this.onDrop('queue_full', 1);
    }
    this.items.push(ex);
    this.queuedBytes += size;
  }

  read(max: number): Promise<ReadBatch | undefined> {
    const n = Math.min(max, this.unread());
    if (n === 0) return Promise.resolve(undefined);
    const exchanges: Exchange[] = [];
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const ex = this.shift() as Exchange;
      bytes += bodyBytes(ex);
      exchanges.push(ex);
    }
    this.queuedBytes -= bytes;
    this.inFlightRecords += n;
    this.inFlightBytes += bytes;
    const batch: MemoryBatch = { exchanges, bytes };
    return Promise.resolve(batch);
  }

  ack(batch: ReadBatch): void {
    const b = batch as MemoryBatch;
    this.inFlightRecords -= b.exchanges.length;
    this.inFlightBytes -= b.bytes;
  }

  async close(): Promise<{ lost: number; kept: number }> {
    this.closed = true;
    const lost = this.records;
    this.items = [];
    this.head = 0;
    this.queuedBytes = 0;
    this.inFlightRecords = 0;
    this.inFlightBytes = 0;
    return { lost, kept: 0 };
  }

  private shift(): Exchange | undefined {
    if (this.head >= this.items.length) return undefined;
    const ex = this.items[this.head];
    this.items[this.head] = undefined;
    this.head++;
    // Compact now and then so the array does not grow forever (O(1) amortised).
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return ex;
  }
}
