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
});
