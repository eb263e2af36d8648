/**
 * The seed tutorial's structured log line, one JSON object per exchange:
 *
 *   {"level":"info","ts":"2026-11-25T12:00:00.123456Z","logger":"request-logger","msg":"Incoming request",
 *    "method":"POST","url":"/v1/models/simple-model:predict","requestBody":"{\"instances\": [1.0, 2.0]}",
 *    "responseStatus":200, "id":…, "inferenceService":…, "namespace":…, "component":…, "latencyMs":…, "metadata":{…}}
 *
 * `traceId` / `spanId` (W3C trace context, lower-case hex) join the line to its trace: the caller's
 * trace and span, inferlog's span when spans are on, or a fresh trace when the request had none.
 * `level` follows the status the client got: info, warn for 4xx, error for 5xx or no response.
 * Bodies are strings as received; a body that is not valid UTF-8 is base64 with
 * `<field>Encoding: "base64"`. A truncated body says so with its original size and sha256.
 */
import type { CapturedBody, Exchange } from '../core/exchange.js';
import { latencyMs, logsRequest, logsResponse } from '../core/exchange.js';
import { rfc3339Nano } from '../core/time.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function levelForStatus(status: number): 'info' | 'warn' | 'error' {
  if (status === 0 || status >= 500) return 'error';
  if (status >= 400) return 'warn';
  return 'info';
}

/** Decodes a body for a JSON field: the UTF-8 text, or base64 when the bytes are not text. */
export function bodyText(body: CapturedBody): { text: string; encoding?: 'base64' } {
  try {
    return { text: utf8.decode(body.bytes) };
  } catch {
    return {
      text: Buffer.from(body.bytes.buffer, body.bytes.byteOffset, body.bytes.byteLength).toString('base64'),
      encoding: 'base64',
    };
  }
}

function putBody(line: Record<string, unknown>, prefix: 'request' | 'response', body: CapturedBody): void {
  const { text, encoding } = bodyText(body);
  line[`${prefix}Body`] = text;
  if (encoding) line[`${prefix}BodyEncoding`] = encoding;
  if (body.contentType !== undefined) line[`${prefix}ContentType`] = body.contentType;
  if (body.truncated) {
    line[`${prefix}BodyTruncated`] = true;
    line[`${prefix}BodySize`] = body.size;
    if (body.sha256) line[`${prefix}BodySha256`] = body.sha256;
  }
}

/** The line as an object (tests and the file sink use it); `encodeJsonLine` is its JSON text. */
export function toJsonLine(ex: Exchange): Record<string, unknown> {
  const line: Record<string, unknown> = {
    level: levelForStatus(ex.status),
    ts: rfc3339Nano(ex.requestTime),
    logger: 'request-logger',
    msg: 'Incoming request',
    method: ex.method,
    url: ex.url,
  };
  if (logsRequest(ex.mode) && ex.request) putBody(line, 'request', ex.request);
  line.responseStatus = ex.status;
  if (logsResponse(ex.mode) && ex.response) putBody(line, 'response', ex.response);
  line.id = ex.id;
  line.inferenceService = ex.source.inferenceService;
  line.namespace = ex.source.namespace;
  line.component = ex.source.component;
  line.latencyMs = latencyMs(ex);
  line.metadata = ex.metadata;
  if (ex.trace) {
    line.traceId = ex.trace.traceId;
    line.spanId = ex.trace.spanId;
  }
  if (ex.sampleWeight !== 1) line.sampleWeight = ex.sampleWeight;
  if (ex.error) line.error = ex.error;
  if (ex.stream) line.stream = ex.stream;
  if (ex.batch) line.batch = ex.batch;
  return line;
}

export function encodeJsonLine(ex: Exchange): string {
  return JSON.stringify(toJsonLine(ex));
}
