/**
 * The lossless JSON form of an Exchange: every field, bodies as base64.
 *
 *   Exchange ──toRecord──▶ ExchangeRecord (plain JSON) ──JSON.stringify──▶ one line of a .jsonl file
 *   Exchange ◀─fromRecord── unknown (validated once, here) ◀──JSON.parse──┘
 *
 * It is the interchange format between inferlog's own components: the file sink writes it,
 * the disk spool stores it (with the body bytes kept raw beside the header, see
 * pipeline/spool/codec.ts), and a reader of either gets back exactly the Exchange capture built.
 * The seed's human log line (json-line.ts) is lossy on purpose; this one is not.
 *
 * `v` is the record version: a reader rejects versions it does not know instead of guessing.
 */
import { z } from 'zod';
import type { CapturedBody, Exchange } from '../core/exchange.js';

export const RECORD_VERSION = 1;

const bodySchema = z.strictObject({
  bytes: z.string(),
  contentType: z.string().optional(),
  contentEncoding: z.string().optional(),
  size: z.number().int().nonnegative(),
  truncated: z.boolean(),
  sha256: z.string().optional(),
});

const streamSchema = z.strictObject({
  chunks: z.number(),
  ttfbMs: z.number(),
  ttlbMs: z.number(),
  partial: z.boolean(),
  reason: z.string().optional(),
  assembledText: z.string().optional(),
  usage: z
    .strictObject({
      promptTokens: z.number().optional(),
      completionTokens: z.number().optional(),
      totalTokens: z.number().optional(),
    })
    .optional(),
});

const batchSchema = z.strictObject({
  id: z.string(),
  size: z.number().int().positive(),
  position: z.number().int().min(-1),
});

export const exchangeRecordSchema = z.strictObject({
  v: z.literal(RECORD_VERSION),
  id: z.string(),
  source: z.strictObject({
    inferenceService: z.string(),
    namespace: z.string(),
    component: z.string(),
    endpoint: z.string(),
    sourceUri: z.string(),
    annotations: z.record(z.string(), z.string()),
  }),
  mode: z.enum(['all', 'request', 'response']),
  method: z.string(),
  url: z.string(),
  metadata: z.record(z.string(), z.array(z.string())),
  requestTime: z.number(),
  responseTime: z.number(),
  request: bodySchema.optional(),
  status: z.number().int(),
  response: bodySchema.optional(),
  error: z.strictObject({ code: z.string(), message: z.string() }).optional(),
  stream: streamSchema.optional(),
  batch: batchSchema.optional(),
  sampleWeight: z.number(),
  trace: z
    .strictObject({
      traceId: z.string().regex(/^[0-9a-f]{32}$/),
      spanId: z.string().regex(/^[0-9a-f]{16}$/),
      parentSpanId: z
        .string()
        .regex(/^[0-9a-f]{16}$/)
        .optional(),
      flags: z.number().int().min(0).max(255),
      tracestate: z.string().max(512).optional(),
      generated: z.boolean().optional(),
    })
    .optional(),
});

/** The JSON shape: an Exchange whose body bytes are strings (base64 in a .jsonl file). */
export type ExchangeRecord = z.infer<typeof exchangeRecordSchema>;
type BodyRecord = z.infer<typeof bodySchema>;

/** Where body bytes go and come from: base64 text for JSON lines; raw frames for the spool. */
export interface BodyCodec {
  encode(half: 'request' | 'response', bytes: Uint8Array): string;
  decode(half: 'request' | 'response', field: string): Uint8Array;
}

const base64Codec: BodyCodec = {
  encode: (_half, bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'),
  // A copy into a plain Uint8Array: the record must not pin Buffer's shared pool or its caller's buffer.
  decode: (_half, field) => new Uint8Array(Buffer.from(field, 'base64')),
};

function bodyToRecord(half: 'request' | 'response', b: CapturedBody, codec: BodyCodec): BodyRecord {
  const r: BodyRecord = { bytes: codec.encode(half, b.bytes), size: b.size, truncated: b.truncated };
  if (b.contentType !== undefined) r.contentType = b.contentType;
  if (b.contentEncoding !== undefined) r.contentEncoding = b.contentEncoding;
  if (b.sha256 !== undefined) r.sha256 = b.sha256;
  return r;
}

function bodyFromRecord(half: 'request' | 'response', r: BodyRecord, codec: BodyCodec): CapturedBody {
  const b: CapturedBody = { bytes: codec.decode(half, r.bytes), size: r.size, truncated: r.truncated };
  if (r.contentType !== undefined) b.contentType = r.contentType;
  if (r.contentEncoding !== undefined) b.contentEncoding = r.contentEncoding;
  if (r.sha256 !== undefined) b.sha256 = r.sha256;
  return b;
}

/** Exchange → record. Absent optional fields stay absent (never `null`), so the round trip is exact. */
export function toRecord(ex: Exchange, codec: BodyCodec = base64Codec): ExchangeRecord {
  const r: ExchangeRecord = {
    v: RECORD_VERSION,
    id: ex.id,
    source: ex.source,
    mode: ex.mode,
    method: ex.method,
    url: ex.url,
    metadata: ex.metadata,
    requestTime: ex.requestTime,
    responseTime: ex.responseTime,
    status: ex.status,
    sampleWeight: ex.sampleWeight,
  };
  if (ex.request) r.request = bodyToRecord('request', ex.request, codec);
  if (ex.response) r.response = bodyToRecord('response', ex.response, codec);
  if (ex.error) r.error = ex.error;
  if (ex.stream) r.stream = ex.stream;
  if (ex.trace) r.trace = ex.trace;
  if (ex.batch) r.batch = ex.batch;
  return r;
}

/** Validates an untrusted value (a parsed line, a spool header) and builds the Exchange. Throws a ZodError or RangeError. */
export function fromRecord(value: unknown, codec: BodyCodec = base64Codec): Exchange {
  const r = exchangeRecordSchema.parse(value);
  const ex: Exchange = {
    id: r.id,
    source: r.source,
    mode: r.mode,
    method: r.method,
    url: r.url,
    metadata: r.metadata,
    requestTime: r.requestTime,
    responseTime: r.responseTime,
    status: r.status,
    sampleWeight: r.sampleWeight,
  };
  if (r.request) ex.request = bodyFromRecord('request', r.request, codec);
  if (r.response) ex.response = bodyFromRecord('response', r.response, codec);
  if (r.error) ex.error = r.error;
  if (r.stream) ex.stream = stripUndefined(r.stream);
  if (r.trace) ex.trace = stripUndefined(r.trace);
  if (r.batch) ex.batch = r.batch;
  return ex;
}

/** One JSON line, without the trailing newline. */
export function encodeRecord(ex: Exchange): string {
  return JSON.stringify(toRecord(ex));
}

/** Parses one JSON line back into an Exchange. Throws on malformed input (SyntaxError, ZodError). */
export function decodeRecord(line: string): Exchange {
  return fromRecord(JSON.parse(line));
}

function stripUndefined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}
