/**
 * CloudEvents Kafka protocol binding, binary content mode, built on the HTTP binding's
 * encoder (src/formats/cloudevents.ts) so both sinks send the same attributes:
 *
 *   Exchange ──encodeBinary()──▶ HTTP-style event ──▶ Kafka record
 *     `Ce-Inferenceservicename: x` → header `ce_inferenceservicename` (same bytes)
 *     `Content-Type` (datacontenttype) → header `content-type`
 *     body          → value: the raw bytes (no envelope, no base64; empty body = empty value)
 *     exchange id   → key: an exchange's request and response land in one partition, in order
 *     event time    → record timestamp (ms): request arrival / response end
 *
 * Header values are bytes on the wire in both bindings. The HTTP encoder hands over strings
 * whose latin1 bytes are the wire bytes (UTF-8 for non-ASCII text, as KServe's Go agent
 * writes them), so the Kafka headers carry exactly the bytes the http sink would send.
 */
import type { Exchange } from '../../core/exchange.js';
import { encodeBinary, type BinaryEvent } from '../../formats/cloudevents.js';

/** The subset of kafkajs's Message we fill in. */
export interface KafkaRecord {
  key: string;
  value: Buffer;
  headers: Record<string, Buffer>;
  timestamp: string;
}

export const CE_HEADER_PREFIX = 'ce_';

const EMPTY = Buffer.alloc(0);

/** `Ce-Specversion` → `ce_specversion`; `Content-Type` → `content-type`. */
export function kafkaHeaderName(httpName: string): string {
  const lower = httpName.toLowerCase();
  return lower.startsWith('ce-') ? CE_HEADER_PREFIX + lower.slice(3) : lower;
}

/** A string that came out of the HTTP encoder → its wire bytes (see the module comment). */
function wireBytes(value: string): Buffer {
  // Values above U+00FF never went through headerSafe (they cannot be latin1): send their UTF-8.
  // eslint-disable-next-line no-control-regex
  return /[^\x00-\xff]/.test(value) ? Buffer.from(value, 'utf8') : Buffer.from(value, 'latin1');
}

function timestampOf(epochMs: number): string {
  return String(Number.isFinite(epochMs) ? Math.max(0, Math.floor(epochMs)) : 0);
}

export function toKafkaRecord(ex: Exchange, event: BinaryEvent): KafkaRecord {
  const headers: Record<string, Buffer> = {};
  const h = event.headers;
  for (let i = 0; i + 1 < h.length; i += 2)
    headers[kafkaHeaderName(h[i] as string)] = wireBytes(h[i + 1] as string);
  const body = event.body;
  return {
    key: ex.id,
    // A view, not a copy: the bytes are the body as captured.
    value: body === undefined ? EMPTY : Buffer.from(body.buffer, body.byteOffset, body.byteLength),
    headers,
    timestamp: timestampOf(event.half === 'request' ? ex.requestTime : ex.responseTime),
  };
}

/** The records of a batch: per exchange its request record, then its response record. */
export function encodeBatch(batch: readonly Exchange[]): KafkaRecord[] {
  const records: KafkaRecord[] = [];
  for (const ex of batch) {
    for (const event of encodeBinary(ex)) records.push(toKafkaRecord(ex, event));
  }
  return records;
}

/** Splits records into runs of at most `maxBytes` (a record larger than that is a run of its own). */
export function chunksOf(records: KafkaRecord[], maxBytes: number): KafkaRecord[][] {
  const chunks: KafkaRecord[][] = [];
  let current: KafkaRecord[] = [];
  let bytes = 0;
  for (const r of records) {
    let size = r.value.byteLength + r.key.length;
    for (const v of Object.values(r.headers)) size += v.byteLength + 16;
    if (current.length > 0 && bytes + size > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(r);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
