import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createOpLogger } from '../../core/log.js';
import { exchange } from '../../../test/support/record-server.js';
import { encodeFrame } from './codec.js';
import { encodeLedger } from './ledger.js';
import { countRecords, recoverSegments } from './recovery.js';
import { segmentName } from './segments.js';

const log = createOpLogger('test', { write: () => true }, 'error');
const tmp = (): string => mkdtempSync(join(tmpdir(), 'inferlog-recovery-'));
const frames = (n: number): Buffer[] => Array.from({ length: n }, () => encodeFrame(exchange()));

describe('spool recovery', () => {
  it('counts whole records, past a torn tail and a corrupt record', () => {
    const [a, b, c, d] = frames(4) as [Buffer, Buffer, Buffer, Buffer];
    const flipped = Buffer.from(b);
    flipped[flipped.length - 1] = (flipped[flipped.length - 1] as number) ^ 0xff;
    const torn = d.subarray(0, d.length - 5);
    expect(countRecords(Buffer.concat([a, flipped, c, torn]), 0)).toBe(2);
    expect(countRecords(Buffer.concat([a, c]), a.length)).toBe(1);
  });

  it('deletes acked and empty segments, and counts from the acked offset', () => {
    const dir = tmp();
    const f = frames(5);
    writeFileSync(join(dir, segmentName(1)), Buffer.concat(f.slice(0, 2))); // wholly acked
    writeFileSync(join(dir, segmentName(2)), Buffer.concat(f.slice(2, 5))); // acked up to one record
    writeFileSync(join(dir, segmentName(3)), Buffer.alloc(0)); // begun just before a crash
    writeFileSync(join(dir, 'ledger'), encodeLedger({ seq: 2, offset: (f[2] as Buffer).length }));
    const r = recoverSegments(dir, log);
    expect(r.acked).toEqual({ seq: 2, offset: (f[2] as Buffer).length });
    expect(r.segments).toEqual([{ seq: 2, bytes: Buffer.concat(f.slice(2, 5)).length, records: 2 }]);
    expect(r.records).toBe(2);
    expect(r.nextSeq).toBe(4); // never the number of a segment that was there
    expect(readdirSync(dir).sort()).toEqual(['ledger', segmentName(2)]);
  });

  it('without a ledger, starts at the oldest segment', () => {
    const dir = tmp();
    writeFileSync(join(dir, segmentName(5)), Buffer.concat(frames(3)));
    const r = recoverSegments(dir, log);
    expect(r.acked).toEqual({ seq: 5, offset: 0 });
    expect(r.records).toBe(3);
    expect(r.nextSeq).toBe(6);
    expect(recoverSegments(tmp(), log)).toEqual({
      segments: [],
      acked: { seq: 1, offset: 0 },
      nextSeq: 1,
      records: 0,
      bytes: 0,
    });
  });
});
