/**
 * The disk spool: the DeliveryBuffer that composes the pieces of this folder. Its rules are in
 * index.ts; each piece keeps some of them.
 *
 *   open ─claimDirectory (lock.ts) ─▶ recoverSegments (recovery.ts) ─▶ new SegmentWriter + LedgerFile
 *
 *   append ─encodeFrame (codec.ts)─▶ room? (maxBytes, whenFull) ─▶ pending frames of this turn
 *   end of turn (turn-end.ts), or a read/close ─▶ SegmentWriter.write (all pending, one write) ─▶ RecentCache.push
 *   read   ─▶ RecentCache.take at the cursor, else readFrames from disk (segments.ts) ─▶ batch ─▶ AckQueue
 *   ack    ─▶ AckQueue: batches acked in order ─▶ per-segment counts ─▶ delete fully acked segments
 *                                                                     ─▶ LedgerFile.write(acked position)
 *   close  ─▶ ledger written (and fsynced with `machine`) ─▶ files closed ─▶ lock released
 *
 * Why the bookkeeping (segments, totals, cursor, acked position) stays here and not in the pieces:
 * a record moves between them on every append, read and ack, and one owner of the counts is how
 * `records`, `bytes` and the drop counters stay equal to what is on disk.
 */
import { unlinkSync } from 'node:fs';
import type { Exchange } from '../../core/exchange.js';
import { setOrigin } from '../../core/record-origin.js';
import type { OpLogger } from '../../core/log.js';
import type { SpoolWhenFull } from '../../config/settings.js';
import type { DeliveryBuffer, DropCounter, ReadBatch } from '../buffer.js';
import { RecentCache } from './cache.js';
import { encodeFrame } from './codec.js';
import { AckQueue, before, LedgerFile, type Position, type SpoolBatch } from './ledger.js';
import { claimDirectory, type DirLock } from './lock.js';
import { recoverSegments } from './recovery.js';
import { readOrCreateSpoolId } from './files.js';
import { atTurnEnd } from '../turn-end.js';
import { readFrames, segmentName, segmentPath, SegmentWriter, type Segment } from './segments.js';

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

export class Spool implements DeliveryBuffer {
  readonly persistent = true;
  /** Oldest first; the last one is the write segment. */
  private segments: Segment[] = [];
  private writer: SegmentWriter | undefined;
  private ledger: LedgerFile | undefined;
  private lock: DirLock | undefined;
  private acked: Position = { seq: 0, offset: 0 };
  private cursor: Position = { seq: 0, offset: 0 };
  private readonly acks = new AckQueue();
  private readonly cache: RecentCache;
  private handedOut = 0;
  private totalBytes = 0;
  private totalRecords = 0;
  private dirty = false;
  private nextRotateTry = 0;
  private ioErrors = 0;
  private nextIoLog = 0;
  private fsyncTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Appended this turn, not yet written: the exchanges and their frames, in step. */
  private pending: Exchange[] = [];
  private pendingFrames: Buffer[] = [];
  private pendingBytes = 0;
  private readonly segmentBytes: number;
  /** Recovered on open: records left by an earlier run. */
  readonly recovered: number;
  /** This directory's id (the `id` file): part of every record's origin. */
  private id = '';

  private constructor(private readonly config: SpoolConfig) {
    this.segmentBytes =
      config.segmentBytes ?? Math.min(64 * 1024 * 1024, Math.max(64 * 1024, Math.floor(config.maxBytes / 8)));
    this.cache = new RecentCache(config.cacheBytes ?? Math.min(16 * 1024 * 1024, config.maxBytes));
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

  /**
   * Encodes the exchange now and writes it at the end of this turn, with every other frame of the
   * turn in one write (turn-end.ts). Counted in `records` and `bytes` from now on.
   */
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
    if (this.pending.length === 0) atTurnEnd(this.flushPending);
    this.pending.push(ex);
    this.pendingFrames.push(frame);
    this.pendingBytes += frame.length;
    this.totalBytes += frame.length;
    this.totalRecords++;
    // A turn's records that fill the segment are written now, so segments keep their size (drop-oldest
    // and deletion after acks work by whole segments) however much one turn appends.
    const seg = this.segments[this.segments.length - 1] as Segment;
    if (seg.bytes + this.pendingBytes >= this.segmentBytes) this.flushPending();
  }

  /**
   * Writes the frames appended since the last flush with one write (rule 1). At the end of each
   * turn, and before any read or close, so the reader never looks past what is on disk.
   */
  private readonly flushPending = (): void => {
    const exchanges = this.pending;
    const frames = this.pendingFrames;
    if (exchanges.length === 0) return;
    this.pending = [];
    this.pendingFrames = [];
    this.pendingBytes = 0;
    const seg = this.segments[this.segments.length - 1] as Segment;
    try {
      (this.writer as SegmentWriter).write(frames, seg.bytes);
    } catch (err) {
      for (const f of frames) this.totalBytes -= f.length;
      this.totalRecords -= frames.length;
      this.writeFailed(err, frames.length);
      return;
    }
    for (let i = 0; i < frames.length; i++) {
      const size = (frames[i] as Buffer).length;
      this.cache.push({
        seq: seg.seq,
        offset: seg.bytes,
        end: seg.bytes + size,
        size,
        exchange: exchanges[i] as Exchange,
      });
      seg.bytes += size;
      seg.records++;
    }
    this.dirty = true;
    if (seg.bytes >= this.segmentBytes && Date.now() >= this.nextRotateTry) {
      try {
        this.rotate();
      } catch (err) {
        // The records are safe; the segment just grows until a new one can be opened (tried once a second).
        this.nextRotateTry = Date.now() + 1000;
        this.config.log.warn('spool: cannot begin a new segment', { error: String(err) });
      }
    }
  };

  async read(max: number, maxBytes = Infinity): Promise<ReadBatch | undefined> {
    this.flushPending();
    const out: Exchange[] = [];
    let bytes = 0;
    while (out.length < max && bytes < maxBytes && !this.closed) {
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
      const hit = this.cache.take(this.cursor);
      if (hit) {
        setOrigin(hit.exchange, this.originAt(hit.seq, hit.offset));
        out.push(hit.exchange);
        bytes += hit.size;
        this.cursor = { seq: hit.seq, offset: hit.end };
        continue;
      }
      try {
        bytes += await this.readDisk(seg, max, out, maxBytes - bytes); // max: the batch size, counting what `out` holds
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        this.segmentLost(seg);
        if (seg === this.segments[this.segments.length - 1]) break;
        this.cursor = { seq: seg.seq + 1, offset: 0 };
      }
    }
    if (out.length === 0) return undefined;
    const batch: SpoolBatch = { exchanges: out, end: { ...this.cursor }, acked: false };
    this.acks.push(batch);
    this.handedOut += out.length;
    return batch;
  }

  ack(batch: ReadBatch): void {
    const done = this.acks.ack(batch as SpoolBatch);
    for (const b of done) {
      this.handedOut -= b.exchanges.length;
      this.totalRecords -= b.exchanges.length;
      this.takeFromSegments(b.exchanges.length);
      if (before(this.acked, b.end)) this.acked = b.end;
    }
    if (done.length === 0 || this.closed) return;
    this.deleteAckedSegments();
    (this.ledger as LedgerFile).write(this.acked);
  }

  async close(): Promise<{ lost: number; kept: number }> {
    if (this.closed) return { lost: 0, kept: this.totalRecords };
    this.flushPending();
    this.closed = true;
    if (this.fsyncTimer) clearInterval(this.fsyncTimer);
    const ledger = this.ledger as LedgerFile;
    ledger.write(this.acked);
    if (this.config.durability === 'machine') {
      (this.writer as SegmentWriter).fsyncSync();
      ledger.fsyncSync();
    }
    this.release();
    this.cache.clear();
    return { lost: 0, kept: this.totalRecords };
  }

  // ── opening and closing ─────────────────────────────────────────────────────

  /** Takes the directory, picks up what an earlier run left, and begins a new write segment. */
  private recover(): number {
    const { dir, log } = this.config;
    this.lock = claimDirectory(dir);
    this.id = readOrCreateSpoolId(dir);
    const found = recoverSegments(dir, log);
    this.segments = found.segments;
    this.totalBytes = found.bytes;
    this.totalRecords = found.records;
    this.acked = found.acked;
    this.cursor = { ...found.acked };
    this.openWriteSegment(found.nextSeq);
    this.ledger = LedgerFile.open(dir, this.config.durability, log);
    if (this.config.durability === 'machine') {
      this.fsyncTimer = setInterval(() => this.groupFsync(), this.config.fsyncIntervalMs ?? 100);
      this.fsyncTimer.unref();
    }
    if (found.records > 0)
      log.info('spool: records from an earlier run will be delivered', { dir, records: found.records });
    return found.records;
  }

  /** Closes the files and gives up the directory (on close, or when opening failed half-way). */
  private release(): void {
    if (this.fsyncTimer) clearInterval(this.fsyncTimer);
    this.writer?.closeSync();
    this.ledger?.close();
    this.lock?.release();
  }

  // ── writing ─────────────────────────────────────────────────────────────────

  private openWriteSegment(seq: number): void {
    this.writer = SegmentWriter.create(this.config.dir, seq);
    this.segments.push({ seq, bytes: 0, records: 0 });
  }

  private rotate(): void {
    const old = this.writer as SegmentWriter;
    this.openWriteSegment((this.segments[this.segments.length - 1] as Segment).seq + 1);
    old.closeLater(this.config.durability === 'machine');
  }

  private groupFsync(): void {
    if (!this.dirty || this.closed) return;
    this.dirty = false;
    this.writer?.fsyncLater();
  }

  /** The record is dropped and counted; a full disk fails every append, so it is said once every 10 s. */
  private writeFailed(err: unknown, records: number): void {
    this.config.onDrop('spool_io', records);
    this.ioErrors += records;
    if (Date.now() >= this.nextIoLog) {
      this.nextIoLog = Date.now() + 10_000;
      this.config.log.warn('cannot write to the spool; exchanges dropped', {
        dir: this.config.dir,
        error: String(err),
        droppedSoFar: this.ioErrors,
      });
    }
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
        unlinkSync(segmentPath(this.config.dir, seg.seq));
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

  private async readDisk(seg: Segment, max: number, out: Exchange[], maxBytes: number): Promise<number> {
    const isWrite = seg === this.segments[this.segments.length - 1];
    const first = out.length;
    const starts: number[] = [];
    const taken = await readFrames(
      segmentPath(this.config.dir, seg.seq),
      { from: this.cursor.offset, limit: seg.bytes, isWrite, max, maxBytes },
      out,
      {
        advance: (offset) => (this.cursor = { seq: seg.seq, offset }),
        corrupt: (offset) => {
          this.config.onDrop('corrupt', 1);
          this.config.log.warn('spool: skipped a corrupt or truncated record', {
            segment: segmentName(seg.seq),
            offset,
          });
        },
        closed: () => this.closed,
      },
      starts,
    );
    for (let i = first; i < out.length; i++)
      setOrigin(out[i] as Exchange, this.originAt(seg.seq, starts[i - first] as number));
    return taken;
  }

  /**
   * A record's place as a string unique to this spool directory for good: the directory's id
   * (made once, kept in the `id` file) and the segment and offset, which never repeat within it
   * (rule 3). A sink that names objects after records writes the same name when a crash makes
   * it send them again (core/record-origin.ts).
   */
  private originAt(seq: number, offset: number): string {
    return `${this.id}-${String(seq).padStart(8, '0')}-${String(offset).padStart(10, '0')}`;
  }

  /** Someone deleted a segment under us: what it held past the cursor is gone, and counted. */
  private segmentLost(seg: Segment): void {
    this.config.log.error('spool: a segment file disappeared; its records are lost', {
      segment: segmentName(seg.seq),
    });
    this.config.onDrop('spool_io', seg.records);
    this.totalRecords -= seg.records;
    this.totalBytes -= seg.bytes - this.cursor.offset;
    seg.records = 0;
    seg.bytes = this.cursor.offset;
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
        unlinkSync(segmentPath(this.config.dir, head.seq));
      } catch {
        /* gone already */
      }
      const next = this.segments[0] as Segment;
      if (this.acked.seq < next.seq) this.acked = { seq: next.seq, offset: 0 };
    }
  }
}
