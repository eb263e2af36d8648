import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createOpLogger } from '../../core/log.js';
import {
  AckQueue,
  decodeLedger,
  encodeLedger,
  LEDGER_BYTES,
  LedgerFile,
  readLedger,
  type SpoolBatch,
} from './ledger.js';

const lines: string[] = [];
const log = createOpLogger('test', { write: (s: string) => (lines.push(s), true) }, 'warn');
const tmp = (): string => mkdtempSync(join(tmpdir(), 'inferlog-ledger-'));
const u32 = fc.integer({ min: 0, max: 0xffffffff });

describe('spool ledger', () => {
  it('round-trips every position through its 16 bytes', () => {
    fc.assert(
      fc.property(u32, u32, (seq, offset) => {
        const buf = encodeLedger({ seq, offset });
        expect(buf.length).toBe(LEDGER_BYTES);
        expect(decodeLedger(buf)).toEqual({ seq, offset });
      }),
    );
  });

  it('reads back what the ledger file last wrote, after a reopen', () => {
    const dir = tmp();
    const a = LedgerFile.open(dir, 'process', log);
    a.write({ seq: 3, offset: 4096 });
    a.write({ seq: 7, offset: 12 });
    a.close();
    expect(readFileSync(join(dir, 'ledger')).length).toBe(LEDGER_BYTES);
    expect(readLedger(dir, log)).toEqual({ seq: 7, offset: 12 });
  });

  it('treats a missing ledger as none, and a damaged one as none with a warning (redeliver, never lose)', () => {
    const dir = tmp();
    expect(readLedger(dir, log)).toBeUndefined();
    const good = encodeLedger({ seq: 2, offset: 100 });
    for (let i = 0; i < LEDGER_BYTES; i++) {
      const bad = Buffer.from(good);
      bad[i] = (bad[i] as number) ^ 0x01;
      expect(decodeLedger(bad)).toBeUndefined();
    }
    expect(decodeLedger(good.subarray(0, 15))).toBeUndefined();
    writeFileSync(join(dir, 'ledger'), good.subarray(0, 9)); // torn write
    lines.length = 0;
    expect(readLedger(dir, log)).toBeUndefined();
    expect(lines.join('')).toMatch(/ledger unreadable/);
  });
});

describe('ack order', () => {
  const batch = (n: number): SpoolBatch => ({ exchanges: [], end: { seq: 1, offset: n }, acked: false });

  it('releases batches only once every earlier one is acked, each once, oldest first', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 20 })
          .chain((n) => fc.shuffledSubarray([...Array(n).keys()], { minLength: n })),
        (order) => {
          const q = new AckQueue();
          const batches = order.map((_, i) => batch(i));
          for (const b of batches) q.push(b);
          const released: number[] = [];
          for (const i of order) {
            const done = q.ack(batches[i] as SpoolBatch);
            // Nothing is released while a batch before it is still out.
            for (const d of done) expect(batches.slice(0, d.end.offset).every((b) => b.acked)).toBe(true);
            released.push(...done.map((d) => d.end.offset));
            expect(q.ack(batches[i] as SpoolBatch)).toEqual([]); // a repeat ack changes nothing
          }
          expect(released).toEqual([...order.keys()]);
        },
      ),
    );
  });
});
