/**
 * One spool record on disk: a checksummed frame around an Exchange.
 *
 *   Exchange ──encodeFrame──▶ [magic u32][payload length u32][crc32(payload) u32][payload]
 *   payload = [header length u32][request body length u32][response body length u32]
 *             [header: the jsonl record (formats/jsonl-record.ts) with empty body strings, UTF-8 JSON]
 *             [request body bytes][response body bytes]
 *
 * Why this shape: the frame is built on the inference hot path, so the bodies (the bulk of
 * the bytes) are copied raw instead of base64-encoded into the JSON, and the whole frame is
 * one Buffer for one write. The magic lets a reader find the next record after a corrupt
 * one; the crc32 (zlib's, native) tells a torn or flipped record from a good one.
 * All integers are little-endian.
 */
import { crc32 } from 'node:zlib';
import type { Exchange } from '../../core/exchange.js';
import type { BodyCodec } from '../../formats/jsonl-record.js';
import { fromRecord, toRecord } from '../../formats/jsonl-record.js';

/** "ILG1" little-endian: marks the start of every frame. */
export const FRAME_MAGIC = 0x31474c49;
export const FRAME_HEADER_BYTES = 12;
/** A frame larger than this is corrupt by definition (bodies are capped long before). */
export const MAX_PAYLOAD_BYTES = 256 * 1024 * 1024;

const EMPTY = new Uint8Array(0);

/** Bodies travel beside the JSON header, not inside it. */
const BODIES_APART: BodyCodec = { encode: () => '', decode: () => EMPTY };

export function encodeFrame(ex: Exchange): Buffer {
  const header = JSON.stringify(toRecord(ex, BODIES_APART));
  const req = ex.request?.bytes ?? EMPTY;
  const res = ex.response?.bytes ?? EMPTY;
  const headerLen = Buffer.byteLength(header);
  const payloadLen = 12 + headerLen + req.byteLength + res.byteLength;
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payloadLen);
  frame.writeUInt32LE(FRAME_MAGIC, 0);
  frame.writeUInt32LE(payloadLen, 4);
  let p = FRAME_HEADER_BYTES;
  frame.writeUInt32LE(headerLen, p);
  frame.writeUInt32LE(req.byteLength, p + 4);
  frame.writeUInt32LE(res.byteLength, p + 8);
  p += 12;
  p += frame.write(header, p, 'utf8');
  frame.set(req, p);
  p += req.byteLength;
  frame.set(res, p);
  frame.writeUInt32LE(crc32(frame.subarray(FRAME_HEADER_BYTES)), 8);
  return frame;
}

/** Decodes a payload whose crc already matched. Throws if it is not a valid record. */
export function decodePayload(payload: Buffer): Exchange {
  if (payload.length < 12) throw new RangeError('payload shorter than its own header');
  const headerLen = payload.readUInt32LE(0);
  const reqLen = payload.readUInt32LE(4);
  const resLen = payload.readUInt32LE(8);
  if (12 + headerLen + reqLen + resLen !== payload.length)
    throw new RangeError('payload lengths do not add up');
  const header: unknown = JSON.parse(payload.toString('utf8', 12, 12 + headerLen));
  const reqStart = 12 + headerLen;
  const codec: BodyCodec = {
    encode: () => '',
    // Copies, so a decoded Exchange does not pin the whole read chunk in memory.
    decode: (half) =>
      half === 'request'
        ? new Uint8Array(payload.subarray(reqStart, reqStart + reqLen))
        : new Uint8Array(payload.subarray(reqStart + reqLen, reqStart + reqLen + resLen)),
  };
  return fromRecord(header, codec);
}

export type FrameScan =
  | { kind: 'record'; exchange: Exchange; end: number }
  /** Bytes from `start` to `end` are not a valid record; resume at `end`. */
  | { kind: 'corrupt'; end: number }
  /** Not enough bytes for a whole frame: need more data, or (at the end of a file) a torn write. */
  | { kind: 'incomplete' };

/**
 * Reads the frame at `pos` of `buf`. A corrupt frame is skipped to the next position where
 * a frame magic starts (or to the end of `buf`), so the caller moves on record by record.
 */
export function scanFrame(buf: Buffer, pos: number): FrameScan {
  if (buf.length - pos < FRAME_HEADER_BYTES) return { kind: 'incomplete' };
  const magic = buf.readUInt32LE(pos);
  const len = buf.readUInt32LE(pos + 4);
  if (magic === FRAME_MAGIC && len >= 12 && len <= MAX_PAYLOAD_BYTES) {
    const end = pos + FRAME_HEADER_BYTES + len;
    if (end > buf.length) return { kind: 'incomplete' };
    const payload = buf.subarray(pos + FRAME_HEADER_BYTES, end);
    if (crc32(payload) === buf.readUInt32LE(pos + 8)) {
      try {
        return { kind: 'record', exchange: decodePayload(payload), end };
      } catch {
        return { kind: 'corrupt', end };
      }
    }
  }
  return { kind: 'corrupt', end: nextMagic(buf, pos + 1) };
}

const MAGIC_BYTES = Buffer.from([0x49, 0x4c, 0x47, 0x31]);

/** Where the next frame magic starts at or after `from`, or the end of `buf`. */
export function nextMagic(buf: Buffer, from: number): number {
  const i = buf.indexOf(MAGIC_BYTES, from);
  return i < 0 ? buf.length : i;
}
