/**
 * Keeps a copy of a body for the log while every byte is forwarded untouched.
 *
 *   chunk ──▶ forwarded as is (by the caller)
 *         └─▶ push(): keep up to `cap` bytes; past the cap, hash the whole body instead
 *
 * Small bodies cost one array push per chunk. The sha256 starts only when a body
 * overflows the cap (it then hashes what was kept, so the digest covers every byte).
 */
import { createHash, type Hash } from 'node:crypto';
import { decodeBounded } from '../core/bounded-decode.js';
import type { CapturedBody } from '../core/exchange.js';

/**
 * A compressed body is decoded for the log into at most cap × this many bytes, then cut to
 * the cap: enough for a truncated prefix of ordinary JSON (ratios below 4), while a
 * compression bomb stops at a bounded size and is logged still encoded.
 */
const DECODE_BUDGET = 4;

export class BodyCapture {
  private chunks: Buffer[] = [];
  private kept = 0;
  private hash: Hash | undefined;
  /** Bytes seen, kept or not. */
  size = 0;

  constructor(
    private readonly cap: number,
    /** False when the mode does not log this half: only the size is counted. */
    private readonly keep: boolean,
  ) {}

  push(chunk: Buffer): void {
    this.size += chunk.length;
    if (!this.keep) return;
    if (this.hash) {
      this.hash.update(chunk);
      return;
    }
    const room = this.cap - this.kept;
    if (chunk.length <= room) {
      this.chunks.push(chunk);
      this.kept += chunk.length;
      return;
    }
    this.hash = createHash('sha256');
    for (const c of this.chunks) this.hash.update(c);
    this.hash.update(chunk);
    if (room > 0) {
      this.chunks.push(chunk.subarray(0, room));
      this.kept += room;
    }
  }

  /** The captured body, or undefined when this half is not logged. */
  finish(contentType: string | undefined, contentEncoding: string | undefined): CapturedBody | undefined {
    if (!this.keep) return undefined;
    const raw = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.kept);
    const body: CapturedBody = { bytes: raw, size: this.size, truncated: this.hash !== undefined };
    if (contentType !== undefined) body.contentType = contentType;
    if (this.hash) body.sha256 = this.hash.digest('hex');
    if (contentEncoding !== undefined && contentEncoding !== 'identity' && raw.length > 0) {
      body.contentEncoding = contentEncoding;
      const decoded = decodeForLog(raw, contentEncoding, this.cap * DECODE_BUDGET, body.truncated);
      if (!decoded) body.stillEncoded = true;
      else if (decoded.length > this.cap) {
        body.bytes = decoded.subarray(0, this.cap);
        body.truncated = true;
        body.sha256 ??= createHash('sha256').update(raw).digest('hex');
      } else body.bytes = decoded;
    }
    return body;
  }
}

/**
 * Decodes gzip/deflate/br for the log, never producing more than `cap` bytes.
 * A truncated capture is decoded as far as it goes (sync flush). Returns undefined
 * when the encoding is unknown, the data is corrupt, or the output would exceed the cap.
 */
function decodeForLog(raw: Buffer, encoding: string, cap: number, truncated: boolean): Buffer | undefined {
  const r = decodeBounded(raw, encoding, cap, truncated);
  return r.ok ? r.bytes : undefined;
}
