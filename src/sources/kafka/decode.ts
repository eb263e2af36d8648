/**
 * Kafka record (CloudEvents Kafka binding, binary or structured mode) → decoded CloudEvents,
 * through the collector's HTTP decoder so both transports accept exactly the same events:
 *
 *   headers ce_<name> → Ce-<name>, content-type → Content-Type; value → body ──decodeCloudEvents──▶ DecodedEvent[]
 *
 * Header values are bytes; they are handed over as latin1 strings, which is how Node hands
 * HTTP header bytes to the receiver, so UTF-8 text decodes the same way on both paths.
 */
import { decodeCloudEvents, type CeHeaders, type DecodedEvent } from '../../formats/cloudevents-decode.js';

export interface KafkaRecordIn {
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
  value: Buffer | null;
}

const EMPTY = new Uint8Array(0);

function text(v: Buffer | string): string {
  return typeof v === 'string' ? Buffer.from(v, 'utf8').toString('latin1') : v.toString('latin1');
}

/** Throws an EVENT_INVALID InferlogError when the record is not a CloudEvent. */
export function decodeKafkaRecord(record: KafkaRecordIn): DecodedEvent[] {
  const headers: CeHeaders = {};
  for (const [name, value] of Object.entries(record.headers ?? {})) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    const httpName = lower.startsWith('ce_') ? 'ce-' + lower.slice(3) : lower;
    headers[httpName] = Array.isArray(value) ? value.map(text) : text(value);
  }
  const value = record.value;
  return decodeCloudEvents(
    headers,
    value ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength) : EMPTY,
  );
}
