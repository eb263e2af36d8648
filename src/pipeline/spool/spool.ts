/**
 * The disk spool: a bounded, checksummed, acked queue of exchanges in a directory.
 *
 *   submit ─append: encodeFrame + one writeSync─▶ segment-<seq>.dat (the newest: the write segment)
 *                        │ (a copy of the decoded Exchange stays in a bounded memory cache)
 *                        ▼
 *   delivery loop ◀─read: cache hit, or async disk read from the read cursor─ segments, oldest first
 *        │
 *        └─ack(batch)─▶ ack cursor advances over batches acked in order ─▶ `ledger` (seq, offset)
 *                        fully acked segments are deleted
 *
 * Invariants (what the tests hold it to):
 *  1. A record is on disk (page cache) before `append` returns: a crash of the process right
 *     after cannot lose it (durability `process`). With `machine`, segments are fsynced as a
 *     group every `fsyncIntervalMs` and the ledger at every ack.
 *  2. A record is forgotten only when it is acked and so is every record before it; the ledger
 *     is written after the sink acknowledged. A crash between the two redelivers (at-least-once);
 *     the store deduplicates by exchange id, which makes delivery exactly-once end to end.
 *  3. Segments are append-only and never reopened for writing: each start writes a new segment,
 *     so a torn tail from a crash is only ever at the end of an old segment.
 *  4. Every frame carries a magic and a crc32. A reader skips a bad frame to the next magic,
 *     counts it (`corrupt`), and goes on; nothing in a segment can stop the reader.
 *  5. Bytes on disk stay at or under `maxBytes` (the acked head of the oldest segment
 *     included). When full, `whenFull` decides, synchronously and without waiting:
 *     `drop-newest` refuses the new record; `drop-oldest` deletes the oldest whole segment no
 *     batch has been read from (falling back to refusing the new record). Every drop is counted.
 *  6. The memory cache is an optimisation only (bounded by `cacheBytes`): the disk is the truth.
 *  7. One process per directory: a lock file holds the owner's pid.
 *  8. Only this process can touch it: the directory must be owned by the process's uid and not
 *     group/world-writable (else UNSAFE_PATH at open); it is created 0700, every file 0600, and
 *     every file is opened with O_NOFOLLOW, so a planted symbolic link is refused, never followed.
 */
import {
  closeSync,
  constants,
  fstatSync,
  fsync,
  fsyncSync,
  ftruncateSync,
  readdirSync,
  readSync,
  unlinkSync,
  writeSync,
  close as closeFd,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Exchange } from '../../core/exchange.js';
import type { OpLogger } from '../../core/log.js';
import type { SpoolWhenFull } from '../../config/settings.js';
import type { DeliveryBuffer, DropCounter, ReadBatch } from '../buffer.js';
import { encodeFrame, nextMagic, scanFrame } from './codec.js';
import { makeDirs } from '../../core/make-dirs.js';
import { assertOwnDirectory, openPrivateForRead, openPrivateSync } from '../../core/private-files.js';

const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC } = constants;

export interface SpoolConfig {
  dir: string;
  maxBytes: number;
  whenFull: SpoolWhenFull;
  durability: 'process' | 'machine';
  onDrop: DropCounter;
  log: OpLogger;
  /** A segment is closed and a new one begun once it reaches this size. Default maxBytes/8, 64 KiB..64 MiB. */
  segmentBytes?: number;
  /** Memory for recently appended exchanges, so a reader that keeps up never touches the disk. */
  cacheBytes?: number;
  /** Durability `machine`: how often the write segment is fsynced. */
  fsyncIntervalMs?: number;
}

interface Segment {
  seq: number;
  /** Bytes in the file (for the write segment: bytes written so far). */
  bytes: number;
  /** Valid records in the file not yet acked or dropped. */
  records: number;
}

interface Position {
  seq: number;
  offset: number;
}

interface SpoolBatch extends ReadBatch {
  readonly end: Position;
  acked: boolean;
}

interface CacheEntry {
  seq: number;
  offset: number;
  end: number;
  size: number;
  exchange: Exchange;
}

/** Spool directories open in this process (the pid lock cannot tell two of them apart). */
const openInThisProcess = new Set<string>();

const SEGMENT_RE = /^segment-(\d{10})\.dat$/;
const LEDGER_MAGIC = 0x4b434149; // "IACK"
const READ_CHUNK = 1024 * 1024;

const segmentName = (seq: number): string => `segment-${String(seq).padStart(10, '0')}.dat`;
const before = (a: Position, b: Position): boolean =>
  a.seq < b.seq || (a.seq === b.seq && a.offset < b.offset);

export class Spool implements DeliveryBuffer {
  readonly persistent = true;
  private readonly segments: Segment[] = [];
  private writeFd = -1;
  private ledgerFd = -1;
  private acked: Position = { seq: 0, offset: 0 };
  private cursor: Position = { seq: 0, offset: 0 };
  private readonly pending: SpoolBatch[] = [];
  private handedOut = 0;
  private totalBytes = 0;
  private totalRecords = 0;
  private cache: (CacheEntry | undefined)[] = [];
  private cacheHead = 0;
  private cacheSize = 0;
  private dirty = false;
  private nextRotateTry = 0;
  private ioErrors = 0;
  private nextIoLog = 0;
  private fsyncTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private locked = false;
  private readonly segmentBytes: number;
  private readonly cacheBytes: number;
  /** Recovered on open: records left by an earlier run. */
  readonly recovered: number;

  private constructor(private readonly config: SpoolConfig) {
    this.segmentBytes =
      config.segmentBytes ?? Math.min(64 * 1024 * 1024, Math.max(64 * 1024, Math.floor(config.maxBytes / 8)));
    this.cacheBytes = config.cacheBytes ?? Math.min(16 * 1024 * 1024, config.maxBytes);
    try {
      this.recovered = this.recover();
    } catch (err) {
      this.release();
      throw err;
    }
  }

  /** Opens (creating if needed) the spool directory and recovers what an earlier run left. Throws if another live process owns it. */
  static open(config: SpoolConfig): Spool {
    return new Spool(config);
  }

  get records(): number {
    return this.totalRecords;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  unread(): number {
    return Math.max(0, this.totalRecords - this.handedOut);
  }

  append(ex: Exchange): void {
    if (this.closed) {
      this.config.onDrop('shutdown', 1);
      return;
    }
    let frame: Buffer;
    try {
      frame = encodeFrame(ex);
    } catch (err) {
      this.config.log.warn('cannot encode an exchange for the spool', { id: ex.id, error: String(err) });
      this.config.onDrop('spool_io', 1);
      return;
    }
    if (this.totalBytes + frame.length > this.config.maxBytes && !this.makeRoom(frame.length)) {
      this.config.onDrop('spool_full', 1);
      return;
    }
    const seg = this.segments[this.segments.length - 1] as Segment;
    try {
      const n = writeSync(this.writeFd, frame);
      if (n !== frame.length) throw new Error(`short write: ${n} of ${frame.length} bytes`);
    } catch (err) {
      // Undo a partial write so the segment holds only whole frames (no phantom corrupt record).
      try {
        ftruncateSync(this.writeFd, seg.bytes);
      } catch {
        /* the reader's checksum will skip it */
      }
      this.config.onDrop('spool_io', 1);
      // A full disk fails every append: say so once every 10 s, not per exchange.
      this.ioErrors++;
      if (Date.now() >= this.nextIoLog) {
        this.nextIoLog = Date.now() + 10_000;
        this.config.log.warn('cannot write to the spool; exchanges dropped', {
          dir: this.config.dir,
          error: String(err),
          droppedSoFar: this.ioErrors,
        });
      }
      return;
    }
    this.cachePush({
      seq: seg.seq,
      offset: seg.bytes,
      end: seg.bytes + frame.length,
      size: frame.length,
      exchange: ex,
    });
    seg.bytes += frame.length;
    seg.records++;
    this.totalBytes += frame.length;
    this.totalRecords++;
    this.dirty = true;
    if (seg.bytes >= this.segmentBytes && Date.now() >= this.nextRotateTry) {
      try {
        this.rotate();
      } catch (err) {
        // The record is safe; the segment just grows until a new one can be opened (tried once a second).
        this.nextRotateTry = Date.now() + 1000;
        this.config.log.warn('spool: cannot begin a new segment', { error: String(err) });
      }
    }
  }

  async read(max: number): Promise<ReadBatch | undefined> {
    const out: Exchange[] = [];
    while (out.length < max && !this.closed) {
      const seg = this.segments.find((s) => s.seq >= this.cursor.seq);
      if (!seg) break;
      if (seg.seq !== this.cursor.seq) this.cursor = { seq: seg.seq, offset: 0 };
      const isWrite = seg === this.segments[this.segments.length - 1];
      if (this.cursor.offset >= seg.bytes) {
        if (isWrite) {
          // Read everything there is: whatever the counts say, nothing is unread.
          if (out.length === 0 && this.totalRecords > this.handedOut) this.totalRecords = this.handedOut;
          break;
        }
        this.cursor = { seq: seg.seq + 1, offset: 0 };
        continue;
      }
      const hit = this.cacheTake(this.cursor);
      if (hit) {
        out.push(hit.exchange);
        this.cursor = { seq: hit.seq, offset: hit.end };
        continue;
      }
      try {
        await this.readDisk(seg, max, out); // max: the batch size, counting what `out` holds
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        // Someone deleted a segment under us: what it held is gone; go on with the next one.
        this.config.log.error('spool: a segment file disappeared; its records are lost', {
          segment: segmentName(seg.seq),
        });
        this.config.onDrop('spool_io', seg.records);
        this.totalRecords -= seg.records;
        this.totalBytes -= seg.bytes - this.cursor.offset;
        seg.records = 0;
        seg.bytes = this.cursor.offset;
        if (seg === this.segments[this.segments.length - 1]) break;
        this.cursor = { seq: seg.seq + 1, offset: 0 };
      }
    }
    if (out.length === 0) return undefined;
    const batch: SpoolBatch = { exchanges: out, end: { ...this.cursor }, acked: false };
    this.pending.push(batch);
    this.handedOut += out.length;
    return batch;
  }

  ack(batch: ReadBatch): void {
    const b = batch as SpoolBatch;
    if (b.acked) return;
    b.acked = true;
    let advanced = false;
    while (this.pending[0]?.acked) {
      const done = this.pending.shift() as SpoolBatch;
      this.handedOut -= done.exchanges.length;
      this.totalRecords -= done.exchanges.length;
      this.takeFromSegments(done.exchanges.length);
      if (before(this.acked, done.end)) this.acked = done.end;
      advanced = true;
    }
    if (!advanced || this.closed) return;
    this.deleteAckedSegments();
    this.writeLedger();
  }

  async close(): Promise<{ lost: number; kept: number }> {
    if (this.closed) return { lost: 0, kept: this.totalRecords };
    this.closed = true;
    if (this.fsyncTimer) clearInterval(this.fsyncTimer);
    this.writeLedger();
    if (this.config.durability === 'machine') {
      fsyncSync(this.writeFd);
      fsyncSync(this.ledgerFd);
    }
    this.release();
    this.cache = [];
    this.cacheHead = 0;
    this.cacheSize = 0;
    return { lost: 0, kept: this.totalRecords };
  }

  /** Closes the files and gives up the directory (on close, or when opening failed half-way). */
  private release(): void {
    if (this.fsyncTimer) clearInterval(this.fsyncTimer);
    for (const fd of [this.writeFd, this.ledgerFd]) if (fd >= 0) closeSync(fd);
    this.writeFd = this.ledgerFd = -1;
    if (!this.locked) return;
    this.locked = false;
    openInThisProcess.delete(resolve(this.config.dir));
    try {
      unlinkSync(join(this.config.dir, 'lock'));
    } catch {
      /* already gone */
    }
  }

  // ── recovery ────────────────────────────────────────────────────────────────

  private recover(): number {
    const { dir } = this.config;
    makeDirs(dir);
    assertOwnDirectory(dir, 'spool directory');
    this.lock();
    const seqs = readdirSync(dir)
      .map((f) => SEGMENT_RE.exec(f)?.[1])
      .filter((s): s is string => s !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    const ledger = this.readLedger();
    this.acked = ledger ?? { seq: seqs[0] ?? 1, offset: 0 };
    let recovered = 0;
    for (const seq of seqs) {
      const path = join(dir, segmentName(seq));
      if (seq < this.acked.seq) {
        unlinkSync(path);
        continue;
      }
      const from = seq === this.acked.seq ? this.acked.offset : 0;
      const fd = openPrivateSync(path, O_RDONLY);
      let bytes: number;
      let records = 0;
      try {
        bytes = fstatSync(fd).size;
        if (from < bytes) records = countRecords(readWhole(fd, bytes), from);
      } finally {
        closeSync(fd);
      }
      if (bytes === 0) {
        unlinkSync(path); // a segment begun just before a crash, never written
        continue;
      }
      this.segments.push({ seq, bytes, records });
      this.totalBytes += bytes;
      this.totalRecords += records;
      recovered += records;
    }
    this.cursor = { ...this.acked };
    const nextSeq = (seqs[seqs.length - 1] ?? 0) + 1;
    this.openWriteSegment(Math.max(nextSeq, this.acked.seq));
    // Read-write (not append mode): the ledger is rewritten in place with positional writes.
    this.ledgerFd = openPrivateSync(join(dir, 'ledger'), O_RDWR | O_CREAT);
    if (this.config.durability === 'machine') {
      this.fsyncTimer = setInterval(() => this.groupFsync(), this.config.fsyncIntervalMs ?? 100);
      this.fsyncTimer.unref();
    }
    if (recovered > 0)
      this.config.log.info('spool: records from an earlier run will be delivered', {
        dir,
        records: recovered,
      });
    return recovered;
  }

  private lock(): void {
    const key = resolve(this.config.dir);
    if (openInThisProcess.has(key))
      throw new Error(
        `spool directory ${this.config.dir} is already open in this process (give each pipeline its own)`,
      );
    const path = join(this.config.dir, 'lock');
    let owner = NaN;
    const held = readIfPresent(path);
    if (held !== undefined) owner = Number(held.toString('utf8'));
    // A lock left by a killed process (or by this pid in an earlier life, e.g. pid 1 in a container) is stale.
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && pidAlive(owner)) {
      throw new Error(`spool directory ${this.config.dir} is in use by process ${owner}`);
    }
    const fd = openPrivateSync(path, O_WRONLY | O_CREAT | O_TRUNC);
    try {
      writeSync(fd, String(process.pid));
    } finally {
      closeSync(fd);
    }
    openInThisProcess.add(key);
    this.locked = true;
  }

  private readLedger(): Position | undefined {
    const buf = readIfPresent(join(this.config.dir, 'ledger'));
    if (buf === undefined) return undefined;
    if (
      buf.length >= 16 &&
      buf.readUInt32LE(0) === LEDGER_MAGIC &&
      crc32(buf.subarray(0, 12)) === buf.readUInt32LE(12)
    ) {
      return { seq: buf.readUInt32LE(4), offset: buf.readUInt32LE(8) };
    }
    // A bad ledger costs duplicates (everything left is redelivered), never a loss.
    this.config.log.warn('spool: ledger unreadable; redelivering every record left in the spool', {
      dir: this.config.dir,
    });
    return undefined;
  }

  private writeLedger(): void {
    const buf = Buffer.allocUnsafe(16);
    buf.writeUInt32LE(LEDGER_MAGIC, 0);
    buf.writeUInt32LE(this.acked.seq, 4);
    buf.writeUInt32LE(this.acked.offset, 8);
    buf.writeUInt32LE(crc32(buf.subarray(0, 12)), 12);
    try {
      writeSync(this.ledgerFd, buf, 0, 16, 0);
      if (this.config.durability === 'machine') fsync(this.ledgerFd, () => {});
    } catch (err) {
      this.config.log.warn('spool: cannot write the ledger (records may be redelivered)', {
        error: String(err),
      });
    }
  }

  // ── writing ─────────────────────────────────────────────────────────────────

  private openWriteSegment(seq: number): void {
    this.writeFd = openPrivateSync(join(this.config.dir, segmentName(seq)), O_WRONLY | O_CREAT | O_EXCL);
    this.segments.push({ seq, bytes: 0, records: 0 });
  }

  private rotate(): void {
    const old = this.writeFd;
    const seq = (this.segments[this.segments.length - 1] as Segment).seq + 1;
    this.openWriteSegment(seq);
    // Off the hot path: the old segment is synced (machine) and closed in the background.
    if (this.config.durability === 'machine') fsync(old, () => closeFd(old, () => {}));
    else closeFd(old, () => {});
  }

  private groupFsync(): void {
    if (!this.dirty || this.closed) return;
    this.dirty = false;
    fsync(this.writeFd, () => {});
  }

  /** drop-oldest: deletes whole segments nobody has read from, oldest first, until `need` bytes fit. */
  private makeRoom(need: number): boolean {
    if (this.config.whenFull !== 'drop-oldest' || need > this.config.maxBytes) return false;
    for (let i = 0; i < this.segments.length - 1 && this.totalBytes + need > this.config.maxBytes;) {
      const seg = this.segments[i] as Segment;
      if (seg.seq <= this.cursor.seq || seg.seq <= this.acked.seq) {
        i++;
        continue;
      }
      this.segments.splice(i, 1);
      try {
        unlinkSync(join(this.config.dir, segmentName(seg.seq)));
      } catch {
        /* counted all the same: its records will not be delivered */
      }
      this.totalBytes -= seg.bytes;
      this.totalRecords -= seg.records;
      if (seg.records > 0) this.config.onDrop('spool_full', seg.records);
    }
    return this.totalBytes + need <= this.config.maxBytes;
  }

  // ── reading ─────────────────────────────────────────────────────────────────

  private async readDisk(seg: Segment, max: number, out: Exchange[]): Promise<void> {
    const isWrite = seg === this.segments[this.segments.length - 1];
    // Only bytes whose writeSync has returned: a read never sees half a frame from this process.
    const limit = seg.bytes;
    const handle = await openPrivateForRead(join(this.config.dir, segmentName(seg.seq)));
    try {
      let want = Math.min(READ_CHUNK, limit - this.cursor.offset);
      let inCorruptRun = false;
      for (;;) {
        const buf = Buffer.allocUnsafe(want);
        const { bytesRead } = await handle.read(buf, 0, want, this.cursor.offset);
        const chunk = buf.subarray(0, bytesRead);
        const atEnd = this.cursor.offset + bytesRead >= limit;
        let pos = 0;
        let needMore = 0;
        while (pos < chunk.length && out.length < max) {
          const r = scanFrame(chunk, pos);
          if (r.kind === 'record') {
            out.push(r.exchange);
            pos = r.end;
            inCorruptRun = false;
          } else if (r.kind === 'corrupt') {
            if (!inCorruptRun) this.corrupt(seg, this.cursor.offset + pos);
            inCorruptRun = true;
            // Keep 3 bytes back at a chunk edge: the next magic may straddle it.
            pos = r.end === chunk.length && !atEnd ? Math.max(pos + 1, chunk.length - 3) : r.end;
            if (r.end === chunk.length && !atEnd) break;
          } else {
            if (atEnd) {
              // A frame cut short at the end of the file: a torn write from a crash, or a
              // corrupt length field. Resume at the next magic, if there is one.
              if (!inCorruptRun) this.corrupt(seg, this.cursor.offset + pos);
              inCorruptRun = true;
              pos = nextMagic(chunk, pos + 1);
              continue;
            } else {
              needMore = chunk.length - pos >= 8 ? 12 + chunk.readUInt32LE(pos + 4) : 12;
            }
            break;
          }
        }
        this.cursor = { seq: seg.seq, offset: this.cursor.offset + pos };
        if (out.length >= max || this.cursor.offset >= limit || this.closed) break;
        want = Math.min(Math.max(READ_CHUNK, needMore), limit - this.cursor.offset);
        if (isWrite && want <= 0) break;
      }
    } finally {
      await handle.close();
    }
  }

  private corrupt(seg: Segment, offset: number): void {
    this.config.onDrop('corrupt', 1);
    this.config.log.warn('spool: skipped a corrupt or truncated record', {
      segment: segmentName(seg.seq),
      offset,
    });
  }

  // ── bookkeeping ─────────────────────────────────────────────────────────────

  /** Acked records leave the per-segment counts oldest first. */
  private takeFromSegments(n: number): void {
    for (const seg of this.segments) {
      if (n === 0) break;
      const k = Math.min(n, seg.records);
      seg.records -= k;
      n -= k;
    }
  }

  private deleteAckedSegments(): void {
    while (this.segments.length > 1) {
      const head = this.segments[0] as Segment;
      const fullyAcked =
        head.seq < this.acked.seq || (head.seq === this.acked.seq && this.acked.offset >= head.bytes);
      if (!fullyAcked) break;
      this.segments.shift();
      this.totalBytes -= head.bytes;
      try {
        unlinkSync(join(this.config.dir, segmentName(head.seq)));
      } catch {
        /* gone already */
      }
      const next = this.segments[0] as Segment;
      if (this.acked.seq < next.seq) this.acked = { seq: next.seq, offset: 0 };
    }
  }

  private cachePush(entry: CacheEntry): void {
    this.cache.push(entry);
    this.cacheSize += entry.size;
    while (this.cacheSize > this.cacheBytes && this.cacheHead < this.cache.length) this.cacheDropHead();
  }

  private cacheTake(at: Position): CacheEntry | undefined {
    for (;;) {
      const e = this.cache[this.cacheHead];
      if (!e) return undefined;
      const p = { seq: e.seq, offset: e.offset };
      if (before(p, at)) {
        this.cacheDropHead();
        continue;
      }
      if (p.seq === at.seq && p.offset === at.offset) {
        this.cacheDropHead();
        return e;
      }
      return undefined;
    }
  }

  private cacheDropHead(): void {
    const e = this.cache[this.cacheHead];
    if (e) this.cacheSize -= e.size;
    this.cache[this.cacheHead] = undefined;
    this.cacheHead++;
    if (this.cacheHead > 1024 && this.cacheHead * 2 > this.cache.length) {
      this.cache = this.cache.slice(this.cacheHead);
      this.cacheHead = 0;
    }
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

/** The whole file behind `fd` (`size` bytes, from its start). */
function readWhole(fd: number, size: number): Buffer {
  const buf = Buffer.allocUnsafe(size);
  let got = 0;
  while (got < size) {
    const n = readSync(fd, buf, got, size - got, got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

/** A small spool file's bytes (lock, ledger); undefined when it does not exist. Refuses a symlink. */
function readIfPresent(path: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openPrivateSync(path, O_RDONLY);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return readWhole(fd, fstatSync(fd).size);
  } finally {
    closeSync(fd);
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
