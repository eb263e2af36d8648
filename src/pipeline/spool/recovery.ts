/**
 * What a start finds in the spool directory: the segments an earlier run left, and where its
 * reader had got to.
 *
 *   ledger ─readLedger─▶ acked position (none or unreadable: from the oldest segment, rule 2)
 *   segment-*.dat, oldest first ─┬─ wholly before the acked position ─▶ deleted (acked, not yet removed)
 *                                ├─ empty (begun just before a crash) ─▶ deleted
 *                                └─ else ─countRecords(from the acked offset)─▶ Segment { seq, bytes, records }
 *
 * Only valid records are counted here; a corrupt or torn one is counted (`corrupt`) when the
 * reader reaches it (segments.ts), so each bad record is counted once, whichever run reads it.
 */
import { closeSync, constants, fstatSync, unlinkSync } from 'node:fs';
import type { OpLogger } from '../../core/log.js';
import { openPrivateSync } from '../../core/private-files.js';
import { nextMagic, scanFrame } from './codec.js';
import { readWhole } from './files.js';
import { readLedger, type Position } from './ledger.js';
import { listSegments, segmentPath, type Segment } from './segments.js';

const { O_RDONLY } = constants;

export interface Recovered {
  /** Segments with something left in them, oldest first. */
  segments: Segment[];
  /** Where the reader starts: everything before it was acked. */
  acked: Position;
  /** The sequence number the new write segment takes: each start writes a new one (rule 3). */
  nextSeq: number;
  /** Valid records not yet acked. */
  records: number;
  /** Bytes in the segments kept (their acked heads included). */
  bytes: number;
}

/** Reads what an earlier run left in `dir` (locked by this process), deleting what was acked. */
export function recoverSegments(dir: string, log: OpLogger): Recovered {
  const seqs = listSegments(dir);
  const acked = readLedger(dir, log) ?? { seq: seqs[0] ?? 1, offset: 0 };
  const segments: Segment[] = [];
  let records = 0;
  let bytes = 0;
  for (const seq of seqs) {
    const path = segmentPath(dir, seq);
    if (seq < acked.seq) {
      unlinkSync(path);
      continue;
    }
    const seg = readSegmentCounts(path, seq, seq === acked.seq ? acked.offset : 0);
    if (seg.bytes === 0) {
      unlinkSync(path); // a segment begun just before a crash, never written
      continue;
    }
    segments.push(seg);
    bytes += seg.bytes;
    records += seg.records;
  }
  const nextSeq = Math.max((seqs[seqs.length - 1] ?? 0) + 1, acked.seq);
  return { segments, acked, nextSeq, records, bytes };
}

function readSegmentCounts(path: string, seq: number, from: number): Segment {
  const fd = openPrivateSync(path, O_RDONLY);
  try {
    const bytes = fstatSync(fd).size;
    const records = from < bytes ? countRecords(readWhole(fd, bytes), from) : 0;
    return { seq, bytes, records };
  } finally {
    closeSync(fd);
  }
}

/** Counts the valid records of a segment from `from` (used on recovery; corrupt ones are counted when read). */
export function countRecords(buf: Buffer, from: number): number {
  let n = 0;
  let pos = from;
  while (pos < buf.length) {
    const r = scanFrame(buf, pos);
    if (r.kind === 'record') n++;
    // At the end of a whole file, a cut-short frame is a torn write: resume at the next magic, if any.
    pos = r.kind === 'incomplete' ? nextMagic(buf, pos + 1) : r.end;
  }
  return n;
}
