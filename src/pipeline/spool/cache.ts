/**
 * Rule 6 of the spool (index.ts): recently appended exchanges, kept decoded in memory.
 *
 *   append ─push(entry at seq/offset)─▶ [oldest … newest] ─take(read cursor)─▶ hit: no disk read, no decode
 *                                          │ over `maxBytes`: the oldest entries leave (the disk still has them)
 *
 * Why: a delivery loop that keeps up reads records moments after they were written; serving them
 * from here saves a file read and a decode per record. The disk stays the truth: a miss (evicted,
 * or written by an earlier run) reads the segment, and `take` only ever answers for the exact
 * position the reader is at.
 */
import type { Exchange } from '../../core/exchange.js';
import { before, type Position } from './ledger.js';

export interface CacheEntry {
  seq: number;
  offset: number;
  /** The offset just past this record's frame: where the reader goes next. */
  end: number;
  /** Frame bytes: what the entry counts against the bound. */
  size: number;
  exchange: Exchange;
}

export class RecentCache {
  /** A queue with a moving head: shift() on a long array is O(n), so the head is an index. */
  private entries: (CacheEntry | undefined)[] = [];
  private head = 0;
  private size = 0;

  constructor(private readonly maxBytes: number) {}

  push(entry: CacheEntry): void {
    this.entries.push(entry);
    this.size += entry.size;
    while (this.size > this.maxBytes && this.head < this.entries.length) this.dropHead();
  }

  /** The entry at exactly `at`, removed; entries before `at` (the reader is past them) are dropped. */
  take(at: Position): CacheEntry | undefined {
    for (;;) {
      const e = this.entries[this.head];
      if (!e) return undefined;
      const p = { seq: e.seq, offset: e.offset };
      if (before(p, at)) {
        this.dropHead();
        continue;
      }
      if (p.seq === at.seq && p.offset === at.offset) {
        this.dropHead();
        return e;
      }
      return undefined;
    }
  }

  clear(): void {
    this.entries = [];
    this.head = 0;
    this.size = 0;
  }

  private dropHead(): void {
    const e = this.entries[this.head];
    if (e) this.size -= e.size;
    this.entries[this.head] = undefined;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }
}
