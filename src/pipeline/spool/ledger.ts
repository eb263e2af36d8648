/**
 * Rule 2 of the spool (index.ts): what has been acked, kept in a 16-byte `ledger` file.
 *
 *   read(max) ─▶ AckQueue.push(batch)            sink done ─▶ AckQueue.ack(batch)
 *                                                   │ returns the batches now acked in order (none while an
 *                                                   ▼ earlier batch is still out)
 *                          Spool: acked position advances ─▶ LedgerFile.write(position)
 *
 *   ledger = [magic "IACK" u32][segment seq u32][offset u32][crc32 of the first 12 bytes u32], little-endian
 *
 * Why one position and not a set of acked batches: batches are acked in any order, but the ledger
 * only moves over a prefix acked in full, so a crash never forgets a record some sink did not
 * take (it may redeliver some that it did: at-least-once). The crc32 tells a torn ledger write
 * from a good one; a bad ledger costs duplicates, never a loss.
 */
import { closeSync, constants, fsync, fsyncSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { OpLogger } from '../../core/log.js';
import { openPrivateSync } from '../../core/private-files.js';
import type { ReadBatch } from '../buffer.js';
import { readIfPresent } from './files.js';

const { O_RDWR, O_CREAT } = constants;

const LEDGER_MAGIC = 0x4b434149; // "IACK"
export const LEDGER_BYTES = 16;

/** A place in the spool: a byte offset in the segment numbered `seq`. */
export interface Position {
  seq: number;
  offset: number;
}

export const before = (a: Position, b: Position): boolean =>
  a.seq < b.seq || (a.seq === b.seq && a.offset < b.offset);

export function encodeLedger(acked: Position): Buffer {
  const buf = Buffer.allocUnsafe(LEDGER_BYTES);
  buf.writeUInt32LE(LEDGER_MAGIC, 0);
  buf.writeUInt32LE(acked.seq, 4);
  buf.writeUInt32LE(acked.offset, 8);
  buf.writeUInt32LE(crc32(buf.subarray(0, 12)), 12);
  return buf;
}

/** The acked position in `buf`, or undefined when it is not a whole, intact ledger. */
export function decodeLedger(buf: Buffer): Position | undefined {
  if (
    buf.length >= LEDGER_BYTES &&
    buf.readUInt32LE(0) === LEDGER_MAGIC &&
    crc32(buf.subarray(0, 12)) === buf.readUInt32LE(12)
  ) {
    return { seq: buf.readUInt32LE(4), offset: buf.readUInt32LE(8) };
  }
  return undefined;
}

/** The acked position an earlier run left in `dir`; undefined when there is none or it is unreadable. */
export function readLedger(dir: string, log: OpLogger): Position | undefined {
  const buf = readIfPresent(join(dir, 'ledger'));
  if (buf === undefined) return undefined;
  const acked = decodeLedger(buf);
  if (acked) return acked;
  // A bad ledger costs duplicates (everything left is redelivered), never a loss.
  log.warn('spool: ledger unreadable; redelivering every record left in the spool', { dir });
  return undefined;
}

/** The open ledger file, rewritten in place at every ack that moves the acked position. */
export class LedgerFile {
  private constructor(
    private fd: number,
    private readonly machine: boolean,
    private readonly log: OpLogger,
  ) {}

  static open(dir: string, durability: 'process' | 'machine', log: OpLogger): LedgerFile {
    // Read-write (not append mode): the ledger is rewritten in place with positional writes.
    const fd = openPrivateSync(join(dir, 'ledger'), O_RDWR | O_CREAT);
    return new LedgerFile(fd, durability === 'machine', log);
  }

  /** Never throws: a ledger that cannot be written costs duplicates after a restart, not a loss. */
  write(acked: Position): void {
    try {
      writeSync(this.fd, encodeLedger(acked), 0, LEDGER_BYTES, 0);
      if (this.machine) fsync(this.fd, () => {});
    } catch (err) {
      this.log.warn('spool: cannot write the ledger (records may be redelivered)', {
        error: String(err),
      });
    }
  }

  fsyncSync(): void {
    fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/** A batch handed out by `read`: where it ends, and whether its sink is done with it. */
export interface SpoolBatch extends ReadBatch {
  readonly end: Position;
  acked: boolean;
}

/** Batches handed out and not yet forgotten, oldest first. */
export class AckQueue {
  private readonly pending: SpoolBatch[] = [];

  push(batch: SpoolBatch): void {
    this.pending.push(batch);
  }

  /**
   * Marks `batch` acked and returns the batches that are now acked with every batch before them,
   * oldest first; each is returned once. Empty while an earlier batch is still out, or for a repeat ack.
   */
  ack(batch: SpoolBatch): SpoolBatch[] {
    if (batch.acked) return [];
    batch.acked = true;
    const done: SpoolBatch[] = [];
    while (this.pending[0]?.acked) done.push(this.pending.shift() as SpoolBatch);
    return done;
  }
}
