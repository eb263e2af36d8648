import { describe, expect, it } from 'vitest';
import { exchange } from '../../../test/support/record-server.js';
import { RecentCache, type CacheEntry } from './cache.js';

const entry = (offset: number, size = 10): CacheEntry => ({
  seq: 1,
  offset,
  end: offset + size,
  size,
  exchange: exchange(),
});

describe('spool memory cache', () => {
  it('answers only for the exact position the reader is at, and drops what the reader is past', () => {
    const c = new RecentCache(1000);
    const es = [0, 10, 20, 30].map((o) => entry(o));
    for (const e of es) c.push(e);
    expect(c.take({ seq: 1, offset: 5 })).toBeUndefined(); // not a record boundary
    expect(c.take({ seq: 1, offset: 20 })).toBe(es[2]); // 0 and 10 are dropped on the way
    expect(c.take({ seq: 1, offset: 10 })).toBeUndefined();
    expect(c.take({ seq: 2, offset: 0 })).toBeUndefined(); // past everything: all dropped
    expect(c.take({ seq: 1, offset: 30 })).toBeUndefined();
  });

  it('stays within its byte bound by forgetting the oldest entries (the disk still has them)', () => {
    const c = new RecentCache(25);
    const es = [0, 10, 20].map((o) => entry(o));
    for (const e of es) c.push(e);
    expect(c.take({ seq: 1, offset: 0 })).toBeUndefined();
    expect(c.take({ seq: 1, offset: 10 })).toBe(es[1]);
    expect(c.take({ seq: 1, offset: 20 })).toBe(es[2]);
  });

  it('keeps working past its compaction point', () => {
    const c = new RecentCache(1e9);
    for (let i = 0; i < 5000; i++) c.push(entry(i * 10));
    for (let i = 0; i < 5000; i += 7) expect(c.take({ seq: 1, offset: i * 10 })?.offset).toBe(i * 10);
  });
});
