/**
 * Rules 1, 3 and 4 of the spool (index.ts): segment files, written whole frames at a time and
 * read back frame by frame, checksums checked (codec.ts).
 *
 *   append: frames ─SegmentWriter.write (one writeSync/writevSync)─▶ segment-<seq>.dat (the newest; opened O_EXCL)
 *                        │ a failed or short write is truncated away, so the file holds whole frames
 *                        ▼ full: a new segment begins (rotate); the old one is closed off the hot path
 *   read:   segment-<seq>.dat ─readFrames(from, limit)─▶ scanFrame per frame ─▶ Exchange[]
 *                                                           └─ bad crc / torn tail ─▶ skip to the next magic, count once
 *
 * Why segments: deleting a fully acked segment is how acked bytes leave the disk, with no
 * compaction; and a segment is never reopened for writing, so a torn tail from a crash can only
 * be at the end of a segment an earlier run wrote.
 */
import {
  close as closeFd,
  closeSync,
  constants,
  fsync,
  fsyncSync,
  ftruncateSync,
  readdirSync,
  writeSync,
  writevSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Exchange } from '../../core/exchange.js';
import { openPrivateForRead, openPrivateSync } from '../../core/private-files.js';
import { nextMagic, scanFrame } from './codec.js';

const { O_WRONLY, O_CREAT, O_EXCL } = constants;

export interface Segment {
  seq: number;
  /** Bytes in the file (for the write segment: bytes written so far). */
  bytes: number;
  /** Valid records in the file not yet acked or dropped. */
  records: number;
}

const SEGMENT_RE = /^segment-(\d{10})\.dat$/;
const READ_CHUNK = 1024 * 1024;

export const segmentName = (seq: number): string => `segment-${String(seq).padStart(10, '0')}.dat`;
export const segmentPath = (dir: string, seq: number): string => join(dir, segmentName(seq));

/** The sequence numbers of the segment files in `dir`, oldest first. */
export function listSegments(dir: string): number[] {
  return readdirSync(dir)
    .map((f) => SEGMENT_RE.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

/** The segment being appended to. */
export class SegmentWriter {
  private constructor(private fd: number) {}

  /** Creates segment `seq`; O_EXCL: a segment is never reopened for writing (rule 3). */
  static create(dir: string, seq: number): SegmentWriter {
    return new SegmentWriter(openPrivateSync(segmentPath(dir, seq), O_WRONLY | O_CREAT | O_EXCL));
  }

  /**
   * Writes whole frames with one syscall (writeSync for one, writevSync for several). On failure,
   * the file is cut back to `at` (its size before) so it holds only whole frames, and the error
   * is thrown: none of them was written.
   */
  write(frames: Buffer[], at: number): void {
    let want = 0;
    for (const f of frames) want += f.length;
    try {
      const n = frames.length === 1 ? writeSync(this.fd, frames[0] as Buffer) : writevSync(this.fd, frames);
      // Not reported as is: the catch below undoes the write and rethrows to the spool's caller.
      if (n !== want) throw new Error(`short write: ${n} of ${want} bytes`);
    } catch (err) {
      // Undo a partial write so the segment holds only whole frames (no phantom corrupt record).
      try {
        ftruncateSync(this.fd, at);
      } catch {
        /* the reader's checksum will skip it */
      }
      throw err;
    }
  }

  /** Durability `machine`'s group commit: in the background, errors ignored (the next one retries). */
  fsyncLater(): void {
    fsync(this.fd, () => {});
  }

  fsyncSync(): void {
    fsyncSync(this.fd);
  }

  /** Off the hot path: synced first (durability `machine`), then closed, in the background. */
  closeLater(sync: boolean): void {
    const fd = this.fd;
    this.fd = -1;
    if (sync) fsync(fd, () => closeFd(fd, () => {}));
    else closeFd(fd, () => {});
  }

  closeSync(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/** What readFrames reports to its caller while it reads. */
export interface FrameSink {
  /** The read has reached `offset` of the segment (called after each chunk). */
  advance(offset: number): void;
  /** A corrupt or cut-short record starts at `offset` (called once per run of bad bytes). */
  corrupt(offset: number): void;
  /** True once the spool is closing: the read stops at the next chunk. */
  closed(): boolean;
}

/**
 * Reads records of one segment from `from` into `out` until `out` holds `max` (or the frames read
 * reach `maxBytes`; returns the frame bytes read), or up to `limit`
 * (only bytes whose write has returned, so a read never sees half a frame from this process).
 * A bad record is skipped to the next frame magic and reported once; nothing in a file stops the
 * reader (rule 4). Throws ENOENT when the file is gone.
 */
export async function readFrames(
  path: string,
  opts: { from: number; limit: number; isWrite: boolean; max: number; maxBytes?: number },
  out: Exchange[],
  sink: FrameSink,
  /** When given, receives each record's frame offset, in step with `out`. */
  starts?: number[],
): Promise<number> {
  const { limit, isWrite, max } = opts;
  const maxBytes = opts.maxBytes ?? Infinity;
  let taken = 0;
  let offset = opts.from;
  const handle = await openPrivateForRead(path);
  try {
    let want = Math.min(READ_CHUNK, limit - offset);
    let inCorruptRun = false;
    for (;;) {
      const buf = Buffer.allocUnsafe(want);
      const { bytesRead } = await handle.read(buf, 0, want, offset);
      const chunk = buf.subarray(0, bytesRead);
      const atEnd = offset + bytesRead >= limit;
      let pos = 0;
      let needMore = 0;
      while (pos < chunk.length && out.length < max && taken < maxBytes) {
        const r = scanFrame(chunk, pos);
        if (r.kind === 'record') {
          out.push(r.exchange);
          starts?.push(offset + pos);
          taken += r.end - pos;
          pos = r.end;
          inCorruptRun = false;
        } else if (r.kind === 'corrupt') {
          if (!inCorruptRun) sink.corrupt(offset + pos);
          inCorruptRun = true;
          // Keep 3 bytes back at a chunk edge: the next magic may straddle it.
          pos = r.end === chunk.length && !atEnd ? Math.max(pos + 1, chunk.length - 3) : r.end;
          if (r.end === chunk.length && !atEnd) break;
        } else {
          if (atEnd) {
            // A frame cut short at the end of the file: a torn write from a crash, or a
            // corrupt length field. Resume at the next magic, if there is one.
            if (!inCorruptRun) sink.corrupt(offset + pos);
            inCorruptRun = true;
            pos = nextMagic(chunk, pos + 1);
            continue;
          } else {
            needMore = chunk.length - pos >= 8 ? 12 + chunk.readUInt32LE(pos + 4) : 12;
          }
          break;
        }
      }
      offset += pos;
      sink.advance(offset);
      if (out.length >= max || taken >= maxBytes || offset >= limit || sink.closed()) break;
      want = Math.min(Math.max(READ_CHUNK, needMore), limit - offset);
      if (isWrite && want <= 0) break;
    }
  } finally {
    await handle.close();
  }
  return taken;
}
