import { describe, expect, it } from 'vitest';
import { exchange } from '../../test/support/record-server.js';
import type { DropReason } from './buffer.js';
import { MemoryQueue } from './memory-queue.js';

function queue(capacity: number, whenFull: 'drop-newest' | 'drop-oldest') {
  const drops: DropReason[] = [];
  return {
    q: new MemoryQueue(capacity, whenFull, (r, n) => drops.push(...Array<DropReason>(n).fill(r))),
    drops,
  };
}

describe('memory queue', () => {
  it('drop-oldest evicts the oldest unread exchange, counted', async () => {
    const { q, drops } = queue(3, 'drop-oldest');
    const ex = Array.from({ length: 5 }, () => exchange());
    for (const e of ex) q.append(e);
    expect(drops).toEqual(['queue_full', 'queue_full']);
    expect((await q.read(10))?.exchanges.map((e) => e.id)).toEqual(ex.slice(2).map((e) => e.id));
  });

  it('counts in-flight exchanges against its capacity until they are acked', async () => {
    const { q, drops } = queue(2, 'drop-oldest');
    q.append(exchange());
    q.append(exchange());
    const batch = await q.read(2);
    q.append(exchange()); // nothing unread to evict: the new one is refused
    expect(drops).toEqual(['queue_full']);
    q.ack(batch!);
    q.append(exchange());
    expect(q.records).toBe(1);
  });

  it('reports what it loses on close, and counts later appends as shutdown drops', async () => {
    const { q, drops } = queue(10, 'drop-newest');
    q.append(exchange());
    await q.read(1);
    q.append(exchange());
    expect(await q.close()).toEqual({ lost: 2, kept: 0 });
    q.append(exchange());
    expect(drops).toEqual(['shutdown']);
  });

  it('bounds the body bytes it holds, not only the count: large payloads cannot exhaust memory', async () => {
    const drops: DropReason[] = [];
    const q = new MemoryQueue(
      1000,
      'drop-oldest',
      (r, n) => drops.push(...Array<DropReason>(n).fill(r)),
      10_000,
    );
    const big = Array.from({ length: 5 }, () => exchange(undefined, 3000)); // ~3 KB of bodies each
    for (const e of big) q.append(e);
    expect(q.bytes).toBeLessThanOrEqual(10_000);
    expect(drops.length).toBeGreaterThan(0);
    expect(drops.every((d) => d === 'queue_full')).toBe(true);
    // The newest survive under drop-oldest.
    const kept = (await q.read(10))?.exchanges.map((e) => e.id) ?? [];
    expect(kept.at(-1)).toBe(big.at(-1)?.id);
    // A single exchange larger than the bound is still accepted when the queue is empty, so it is not lost for its size alone.
    const lone = new MemoryQueue(1000, 'drop-newest', () => {}, 100);
    lone.append(exchange(undefined, 5000));
    expect(lone.records).toBe(1);
  });
});
