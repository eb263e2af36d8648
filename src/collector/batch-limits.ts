/**
 * How much one request may ask the collector to do: bytes (fastify's bodyLimit, `--max-body-bytes`)
 * and events per batch (`--max-batch-events`, checked here).
 *
 *   body ──looks like a batch?──▶ scanBatch: top-level element ranges (a byte scan, stops past the limit)
 *                                   ├─ over ──▶ 413 PAYLOAD_TOO_LARGE reason too_many_events, before any decoding
 *                                   └─ ranges ──▶ receive decodes them in slices, yielding between slices
 *
 * Why: decoding costs 15–50 µs per event on the event loop, so a 16 MiB body of 140,000 tiny
 * events held it for seconds (issue 16 item 8), even when the answer was a refusal. The scan
 * skips strings with a native search and costs a few ms per MiB.
 */
import type { CeHeaders } from '../formats/cloudevents-decode.js';

/** 2 events per exchange: room for a sender batching 5,000 exchanges (`batchSize`) per POST. */
export const DEFAULT_MAX_BATCH_EVENTS = 10_000;

const BATCH_MEDIA = 'application/cloudevents-batch+json';

/**
 * True when the decoder will read this request as a batch: the batch media type and no
 * `Ce-Specversion` header (a request carrying one is a binary-mode event whose body is data).
 */
export function isBatchRequest(headers: CeHeaders): boolean {
  const ct = headers['content-type'];
  const media = (Array.isArray(ct) ? ct[0] : ct)?.split(';', 1)[0]?.trim().toLowerCase();
  return media === BATCH_MEDIA && headers['ce-specversion'] === undefined;
}

const OPEN_ARRAY = 0x5b; // [
const CLOSE_ARRAY = 0x5d; // ]
const OPEN_OBJECT = 0x7b; // {
const CLOSE_OBJECT = 0x7d; // }
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;

const isSpace = (b: number): boolean => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/** Where the top-level elements of a batch body are: `[start, end)` byte ranges. */
export type BatchScan =
  | { kind: 'elements'; ranges: [number, number][] }
  /** More than `max` elements: the scan stopped there. */
  | { kind: 'over' }
  /** Not a well-formed top-level array as far as the scan can tell: leave it to the decoder. */
  | { kind: 'unknown' };

/**
 * Finds the elements of a top-level JSON array, stopping as soon as there are more than `max`.
 * Not a validator: the decoder still parses every element and rejects bad JSON with its reason.
 */
export function scanBatch(body: Uint8Array, max: number): BatchScan {
  let i = 0;
  while (i < body.length && isSpace(body[i]!)) i++;
  if (body[i] !== OPEN_ARRAY) return { kind: 'unknown' };
  const ranges: [number, number][] = [];
  let depth = 1;
  let start = -1;
  let last = -1;
  for (i++; i < body.length; i++) {
    const b = body[i]!;
    if (isSpace(b)) continue;
    if (depth === 1 && (b === COMMA || b === CLOSE_ARRAY)) {
      if (start !== -1) ranges.push([start, last + 1]);
      else if (b === COMMA || ranges.length > 0) return { kind: 'unknown' }; // `[,` or `,,` or `,]`
      start = -1;
      if (b === CLOSE_ARRAY) {
        depth = 0;
        break;
      }
      if (ranges.length >= max) return { kind: 'over' };
      continue;
    }
    if (start === -1) start = i;
    // Jump over strings with a native search: payload strings are most of the bytes.
    if (b === QUOTE) i = closingQuote(body, i + 1);
    else if (b === OPEN_ARRAY || b === OPEN_OBJECT) depth++;
    else if (b === CLOSE_ARRAY || b === CLOSE_OBJECT) {
      if (--depth < 1) return { kind: 'unknown' }; // a `}` closing the array
    }
    last = i;
  }
  if (depth !== 0) return { kind: 'unknown' };
  for (i++; i < body.length; i++) if (!isSpace(body[i]!)) return { kind: 'unknown' };
  return ranges.length > max ? { kind: 'over' } : { kind: 'elements', ranges };
}

/** Index of the quote that ends the string containing `from` (or the body's end). */
function closingQuote(body: Uint8Array, from: number): number {
  for (let q = body.indexOf(QUOTE, from); q !== -1; q = body.indexOf(QUOTE, q + 1)) {
    let slashes = 0;
    while (body[q - 1 - slashes] === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return q;
  }
  return body.length;
}
