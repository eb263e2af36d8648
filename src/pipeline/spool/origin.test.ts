import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createOpLogger } from '../../core/log.js';
import { originOf } from '../../core/record-origin.js';
import { exchange } from '../../../test/support/record-server.js';
import { Spool } from './spool.js';

const quiet = createOpLogger('test', { write: () => true }, 'error');

const open = (dir: string, cacheBytes?: number): Spool =>
  Spool.open({
    dir,
    maxBytes: 64 * 1024 * 1024,
    whenFull: 'drop-newest',
    durability: 'process',
    log: quiet,
    onDrop: () => {},
    ...(cacheBytes === undefined ? {} : { cacheBytes }),
  });

describe('spool record origins (what a sink names objects after)', () => {
  it('gives a record the same origin when a restart reads it again, and different records different origins', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'inferlog-origin-'));
    try {
      const a = open(dir);
      for (let i = 0; i < 5; i++) a.append(exchange(`id-${i}`));
      const first = await a.read(3); // from the memory cache
      const before = first?.exchanges.map((e) => originOf(e)) ?? [];
      expect(before.every((o) => typeof o === 'string')).toBe(true);
      expect(new Set(before).size).toBe(3);
      await a.close(); // never acked: a crash before the sink's ack looks the same

      const b = open(dir, 0); // no cache: read from disk
      const again = await b.read(5);
      const after = again?.exchanges.map((e) => originOf(e)) ?? [];
      expect(after.slice(0, 3)).toEqual(before);
      expect(new Set(after).size).toBe(5);
      await b.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never repeats an origin in another (or a wiped) spool directory', async () => {
    const origins: string[] = [];
    for (let run = 0; run < 2; run++) {
      const dir = mkdtempSync(join(tmpdir(), 'inferlog-origin-'));
      const s = open(dir);
      s.append(exchange('same'));
      const b = await s.read(1);
      origins.push(originOf(b?.exchanges[0] as never) ?? '');
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
    expect(origins[0]).not.toBe(origins[1]);
  });

  it('stops a read at about maxBytes (at least one record), from memory and from disk', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'inferlog-origin-'));
    try {
      for (const cacheBytes of [undefined, 0]) {
        const s = open(dir, cacheBytes);
        for (let i = 0; i < 10; i++) s.append(exchange(`big-${i}`, 4000));
        const first = await s.read(100, 9000);
        expect(first?.exchanges.length).toBeGreaterThanOrEqual(2);
        expect(first?.exchanges.length).toBeLessThanOrEqual(3);
        const tiny = await s.read(100, 1);
        expect(tiny?.exchanges.length).toBe(1);
        const rest = await s.read(100);
        const ids = [...(first?.exchanges ?? []), ...(tiny?.exchanges ?? []), ...(rest?.exchanges ?? [])].map(
          (e) => e.id,
        );
        expect(ids).toEqual(Array.from({ length: 10 }, (_, i) => `big-${i}`));
        for (const b of [first, tiny, rest]) if (b) s.ack(b);
        await s.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
