/**
 * A memory buffer that counts what a SIGKILL would lose: how many exchanges it holds, kept in a
 * 16-byte file beside where the spool would be, rewritten in place whenever the count changes.
 *
 *   append ─▶ memory queue ─▶ pwrite(count) ─▶ <dir>/memory-counter (page cache: survives a SIGKILL)
 *   ack    ─▶ memory queue ─▶ pwrite(count)
 *   close  ─▶ lost ones counted `shutdown` ─▶ pwrite(0)
 *   next start: a count > 0 means the last run died holding that many ─▶ dropped{reason="crash"}
 *
 * The write happens inside `append`, which capture calls before the response's last bytes, so
 * a client can never have seen an answer whose exchange the counter does not include. One
 * 16-byte positional write per exchange: the price of counting, far below a spool append.
 *
 * File: [magic "IMEM" u32][pid u32][records u32][crc32 of the first 12 bytes u32], little-endian;
 * pid 0 after a clean close.
 * A torn or foreign file is reported as an unknown gap, never trusted.
 */
import { closeSync, constants, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { OpLogger } from '../core/log.js';
import { openPrivateSync } from '../core/private-files.js';
import type { DeliveryBuffer, DropCounter, ReadBatch } from './buffer.js';
import type { Exchange } from '../core/exchange.js';

const MAGIC = 0x4d454d49; // "IMEM"
export const LOSS_COUNTER_FILE = 'memory-counter';

/** What the file says an earlier run left: a count, or undefined when there is no (valid) file. */
export interface EarlierRun {
  pid: number;
  records: number;
}

/** Reads `<dir>/memory-counter`. `valid: false` when it exists but cannot be trusted. */
export function readLossCounter(dir: string): { valid: boolean; run?: EarlierRun } {
  let buf: Buffer;
  try {
    // O_NOFOLLOW: a symbolic link planted here is refused, like every spool file.
    const fd = openPrivateSync(join(dir, LOSS_COUNTER_FILE), constants.O_RDONLY);
    try {
      buf = readFileSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { valid: true };
    throw err;
  }
  if (
    buf.length !== 16 ||
    buf.readUInt32LE(0) !== MAGIC ||
    crc32(buf.subarray(0, 12)) !== buf.readUInt32LE(12)
  )
    return { valid: false };
  return { valid: true, run: { pid: buf.readUInt32LE(4), records: buf.readUInt32LE(8) } };
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class CountedMemoryBuffer implements DeliveryBuffer {
  readonly persistent = false;
  private readonly fd: number;
  private readonly frame = Buffer.alloc(16);
  private written = -1;

  /**
   * Opens the counter in `dir` (which the caller made and checked). Reports what an earlier run
   * lost through `onDrop('crash', n)` and the log. Throws when another live process owns it.
   */
  constructor(
    private readonly inner: DeliveryBuffer,
    private readonly dir: string,
    onDrop: DropCounter,
    log: OpLogger,
  ) {
    const earlier = readLossCounter(dir);
    const run = earlier.run;
    // A clean close writes pid 0; a live pid that is not ours means another process counts here.
    if (run && run.pid !== 0 && run.pid !== process.pid && pidAlive(run.pid))
      throw new Error(`${join(dir, LOSS_COUNTER_FILE)} is in use by process ${run.pid}`);
    if (!earlier.valid) {
      log.warn('the memory buffer counter of an earlier run is unreadable: what it lost is unknown', {
        file: join(dir, LOSS_COUNTER_FILE),
      });
    } else if (run && run.records > 0) {
      onDrop('crash', run.records);
      log.warn('the earlier run was killed while its memory buffer held exchanges: they are lost', {
        lost: run.records,
        pid: run.pid,
        file: join(dir, LOSS_COUNTER_FILE),
      });
    }
    this.fd = openPrivateSync(join(dir, LOSS_COUNTER_FILE), constants.O_RDWR | constants.O_CREAT);
    this.frame.writeUInt32LE(MAGIC, 0);
    this.frame.writeUInt32LE(process.pid, 4);
    this.write(0);
  }

  get records(): number {
    return this.inner.records;
  }

  get bytes(): number {
    return this.inner.bytes;
  }

  unread(): number {
    return this.inner.unread();
  }

  append(exchange: Exchange): void {
    this.inner.append(exchange);
    this.write(this.inner.records);
  }

  read(max: number, maxBytes?: number): Promise<ReadBatch | undefined> {
    return this.inner.read(max, maxBytes);
  }

  ack(batch: ReadBatch): void {
    this.inner.ack(batch);
    this.write(this.inner.records);
  }

  async close(): Promise<{ lost: number; kept: number }> {
    const result = await this.inner.close(); // the caller counts `lost` as dropped{reason="shutdown"}
    this.frame.writeUInt32LE(0, 4); // released: no owner
    this.written = -1;
    this.write(0);
    try {
      closeSync(this.fd);
    } catch {
      /* already closed */
    }
    return result;
  }

  private write(records: number): void {
    if (records === this.written) return;
    this.frame.writeUInt32LE(records, 8);
    this.frame.writeUInt32LE(crc32(this.frame.subarray(0, 12)), 12);
    try {
      writeSync(this.fd, this.frame, 0, 16, 0);
      this.written = records;
    } catch {
      // A failed count must never fail inference; the next change tries again.
      this.written = -1;
    }
  }
}
