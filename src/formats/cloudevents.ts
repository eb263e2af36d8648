/**
 * CloudEvents encoding of an Exchange, exactly as KServe's agent sends it (binary mode),
 * plus the structured and batch forms used for batched delivery.
 *
 *   Exchange ──▶ request event  (mode all|request)   Ce-Type …inference.request,  Ce-Time = requestTime,  body = request bytes
 *            └─▶ response event (mode all|response)  Ce-Type …inference.response, Ce-Time = responseTime, body = response bytes
 *                  both: same Ce-Id, same Ce-Metadata, Content-Type = the *request's* (KServe quirk)
 *                  — except that a client's `application/cloudevents…` type is never the event's (see partsOf)
 *
 * Binary mode: attributes are `Ce-*` headers, the body is the raw bytes (docs/http-sink.md
 * has every quirk decision, checked against KServe's own agent in the tests).
 * Headers come out in the order Go's net/http writes them (sorted by name), names cased
 * as the Go SDK writes them, values as the Go agent formats them (Go's json.Marshal for
 * Ce-Metadata / Ce-Annotations: sorted keys, <>& escaped).
 *
 * Per exchange the work is a few string concatenations: everything that only depends on
 * the source (component, namespace, annotations JSON…) is computed once per ExchangeSource
 * object and cached in a WeakMap, and Ce-Metadata is serialised once for both events.
 */
import type { CapturedBody, Exchange, ExchangeSource } from '../core/exchange.js';
import { latencyMs, logsRequest, logsResponse } from '../core/exchange.js';
import { nowMs } from '../core/time.js';
import { formatTraceparent } from '../core/trace-context.js';
import {
  CE_EXTENSIONS,
  CE_HEADERS,
  CE_SPEC_VERSION,
  CE_TYPE_REQUEST,
  CE_TYPE_RESPONSE,
} from './cloudevents-attributes.js';

export type EventHalf = 'request' | 'response';

/** One event in binary content mode: what goes on the wire as one HTTP POST. */
export interface BinaryEvent {
  half: EventHalf;
  /** Flat `[name, value, name, value, …]` (what undici takes without building an object), in Go's order. */
  headers: string[];
  /** The raw body bytes; undefined when the body is empty (KServe sends no body then). */
  body: Uint8Array | undefined;
}

/** One event in structured content mode: its JSON text (`application/cloudevents+json`). */
export interface StructuredEvent {
  half: EventHalf;
  json: string;
}

export const CONTENT_TYPE_STRUCTURED = 'application/cloudevents+json';
export const CONTENT_TYPE_BATCH = 'application/cloudevents-batch+json';

/** `Ce-` + the extension name capitalised, as the Go SDK's CanonicalMIMEHeaderKey writes it. */
export function extensionHeader(name: string): string {
  return 'Ce-' + name.charAt(0).toUpperCase() + name.slice(1);
}

const H = {
  ...CE_HEADERS,
  contentencoding: extensionHeader(CE_EXTENSIONS.contentencoding),
  errorcode: extensionHeader(CE_EXTENSIONS.errorcode),
  latencyms: extensionHeader(CE_EXTENSIONS.latencyms),
  method: extensionHeader(CE_EXTENSIONS.method),
  originalcontenttype: extensionHeader(CE_EXTENSIONS.originalcontenttype),
  originalsize: extensionHeader(CE_EXTENSIONS.originalsize),
  responsecontenttype: extensionHeader(CE_EXTENSIONS.responsecontenttype),
  sampleweight: extensionHeader(CE_EXTENSIONS.sampleweight),
  sha256: extensionHeader(CE_EXTENSIONS.sha256),
  statuscode: extensionHeader(CE_EXTENSIONS.statuscode),
  streaminfo: extensionHeader(CE_EXTENSIONS.streaminfo),
  batch: extensionHeader(CE_EXTENSIONS.batch),
  truncated: extensionHeader(CE_EXTENSIONS.truncated),
  url: extensionHeader(CE_EXTENSIONS.url),
  traceparent: extensionHeader(CE_EXTENSIONS.traceparent),
  tracestate: extensionHeader(CE_EXTENSIONS.tracestate),
  contentType: 'Content-Type',
} as const;

// ---------------------------------------------------------------------------------------------
// Values as the Go agent writes them

const GO_ESCAPED = /[<>&\u2028\u2029]/;
const GO_ESCAPED_ALL = /[<>&\u2028\u2029]/g;
const goEscapes: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/** Go's json.Marshal of a map: keys sorted, `<`, `>`, `&`, U+2028/9 escaped (JSON.stringify agrees on the rest). */
export function goJson(map: Readonly<Record<string, unknown>>): string {
  const keys = Object.keys(map);
  if (keys.length === 0) return '{}';
  keys.sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string;
    if (i > 0) out += ',';
    out += JSON.stringify(k) + ':' + JSON.stringify(map[k]);
  }
  out += '}';
  return goEscapeJson(out);
}

/** JSON.stringify's text as Go's json.Marshal writes it: `<`, `>`, `&`, U+2028/9 escaped. */
export function goEscapeJson(json: string): string {
  return GO_ESCAPED.test(json) ? json.replace(GO_ESCAPED_ALL, (c) => goEscapes[c] as string) : json;
}

/** The longest Ce-Metadata the agent emits, in bytes: half of Node's default 16 KiB header limit. */
export const MAX_METADATA_HEADER_BYTES = 8 * 1024;
export const METADATA_TRUNCATED_MARKER = '...[truncated by inferlog]';
const METADATA_WITHHELD_KEY = 'Inferlog-Truncated';

function withCap(map: Readonly<Record<string, string[]>>, cap: number): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, values] of Object.entries(map)) {
    out[k] = values.map((v) => (v.length > cap ? v.slice(0, cap) + METADATA_TRUNCATED_MARKER : v));
  }
  return out;
}

/**
 * Ce-Metadata as Go's JSON, bounded to MAX_METADATA_HEADER_BYTES on the wire. Go escapes `<` as
 * `\u003c`, so a 3 KB allow-listed header grows to 18 KB, and a receiver answers 431: the exchange
 * would be lost. Over the bound, every value is cut to the longest common length that fits and marked;
 * when even that cannot fit (thousands of repeated headers), one marker entry says what was withheld.
 * The result is still a JSON map of string arrays, so KServe consumers parse it unchanged.
 */
export function boundedMetadataJson(map: Readonly<Record<string, string[]>>): string {
  const full = goJson(map);
  const bytes = (json: string): number => headerFromHeader(json).length;
  if (full.length <= MAX_METADATA_HEADER_BYTES && bytes(full) <= MAX_METADATA_HEADER_BYTES) return full;
  let lo = 0;
  let hi = 0;
  for (const values of Object.values(map)) for (const v of values) hi = Math.max(hi, v.length);
  let best: string | undefined;
  // Largest per-value cap whose JSON fits; only for the rare oversized exchange.
  while (lo <= hi) {
    const mid = Math.floor((lo + hi) / 2);
    const json = goJson(withCap(map, mid));
    if (bytes(json) <= MAX_METADATA_HEADER_BYTES) {
      best = json;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return (
    best ??
    goJson({
      [METADATA_WITHHELD_KEY]: [
        `metadata of ${bytes(full)} bytes withheld: over ${MAX_METADATA_HEADER_BYTES}`,
      ],
    })
  );
}

const CLOUDEVENTS_MEDIA = /^\s*application\/cloudevents/i;
const NEUTRAL_CONTENT_TYPE = 'application/octet-stream';

/*
 * Header bytes. Go writes a header string's bytes as they are, and undici writes header strings
 * as latin1 (one byte per char). Two kinds of strings reach a header:
 *  - strings that came from a request header (metadata values, Ce-Id, URL, Content-Type): Node hands
 *    header bytes over as latin1 chars, so written back unchanged they are the client's exact bytes;
 *  - text from the configuration (names, annotations): real Unicode, sent as its UTF-8 bytes.
 * The receiver then gets exactly the bytes KServe's Go agent would send.
 */

// Ranges of UTF-16 code units (no `u` flag), so surrogate halves count as non-latin1 too.
const NON_ASCII = /[\u0080-\uffff]/;
const NON_LATIN1 = /[\u0100-\uffff]/;

function utf8AsLatin1(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

/** Configuration text → header value: its UTF-8 bytes. */
export function headerFromText(text: string): string {
  return NON_ASCII.test(text) ? utf8AsLatin1(text) : text;
}

/** A string taken from a request header → header value: the same bytes (text above U+00FF as UTF-8). */
export function headerFromHeader(value: string): string {
  return NON_LATIN1.test(value) ? utf8AsLatin1(value) : value;
}

/** A string taken from a request header → text (structured mode): its bytes read as UTF-8, as Go would. */
export function textFromHeader(value: string): string {
  return NON_ASCII.test(value) && !NON_LATIN1.test(value)
    ? Buffer.from(value, 'latin1').toString('utf8')
    : value;
}

/** `,"name":"value"` — one member of a structured event. */
function attr(name: string, value: string): string {
  return ',"' + name + '":' + JSON.stringify(value);
}

let cachedSecond = Number.NaN;
let cachedSecondText = '';

/**
 * rfc3339Nano (core/time.ts) with the `YYYY-MM-DDTHH:MM:SS` part cached per second: three
 * times are formatted per exchange and consecutive exchanges share their second, so the
 * Date/toISOString work happens about once a second instead of per event. Same output.
 */
export function eventTime(epochMs: number): string {
  const whole = Math.floor(epochMs);
  const second = Math.floor(whole / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedSecondText = new Date(second * 1000).toISOString().slice(0, 19);
  }
  const ms = whole - second * 1000;
  const ns = Math.min(999_999_999, Math.round((epochMs - whole) * 1e6) + ms * 1e6);
  if (ns === 0) return cachedSecondText + 'Z';
  let frac = String(ns).padStart(9, '0');
  let end = frac.length;
  while (frac.charCodeAt(end - 1) === 48 /* 0 */) end--;
  frac = frac.slice(0, end);
  return cachedSecondText + '.' + frac + 'Z';
}

/** Numbers as the extension value: integers plain, fractions without exponent noise. */
function num(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Math.round(n * 1000) / 1000);
}

// ---------------------------------------------------------------------------------------------
// What is constant per source: computed once per ExchangeSource object

interface SourceConstants {
  source: string;
  inferenceservicename: string;
  namespace: string;
  component: string;
  endpoint: string;
  /** Undefined when there are no annotations: KServe then sends no Ce-Annotations at all. */
  annotations: string | undefined;
  /** The same attributes as members of a structured event, ready to append. */
  structured: string;
}

const sourceCache = new WeakMap<ExchangeSource, SourceConstants>();

function constantsOf(src: ExchangeSource): SourceConstants {
  let c = sourceCache.get(src);
  if (c === undefined) {
    const annotations = Object.keys(src.annotations).length > 0 ? goJson(src.annotations) : undefined;
    c = {
      source: headerFromText(src.sourceUri),
      inferenceservicename: headerFromText(src.inferenceService),
      namespace: headerFromText(src.namespace),
      component: headerFromText(src.component),
      endpoint: headerFromText(src.endpoint),
      annotations: annotations !== undefined ? headerFromText(annotations) : undefined,
      structured:
        attr('source', src.sourceUri) +
        attr('inferenceservicename', src.inferenceService) +
        attr('namespace', src.namespace) +
        attr('component', src.component) +
        attr('endpoint', src.endpoint) +
        (annotations !== undefined ? attr('annotations', annotations) : ''),
    };
    sourceCache.set(src, c);
  }
  return c;
}

// ---------------------------------------------------------------------------------------------
// The attribute set of one event, shared by the binary and structured encoders

/** An event's attributes, in header order, without the constant-per-source ones (those come from SourceConstants). */
interface EventParts {
  half: EventHalf;
  id: string;
  type: string;
  time: string;
  recordedtime: string;
  /** Go's JSON of the metadata, its values as taken from the request headers. */
  metadataJson: string;
  /** datacontenttype: the request's Content-Type for both events (KServe), when there was one. */
  contentType: string | undefined;
  /** The client's Content-Type when it named a CloudEvents format (contentType is then octet-stream). */
  originalcontenttype: string | undefined;
  body: CapturedBody | undefined;
  sampleweight: string | undefined;
  /** Response event only. */
  statuscode: number | undefined;
  latencyms: string | undefined;
  errorcode: string | undefined;
  responsecontenttype: string | undefined;
  /** Response event of a streamed response only: JSON of the stream's timing (ASCII). */
  streaminfo: string | undefined;
  /** Both events: the exchange's W3C trace context (ASCII, validated at capture). */
  traceparent: string | undefined;
  tracestate: string | undefined;
  /** Both events of a batched exchange: JSON of its batch (ASCII: the id is a UUID the batcher made). */
  batch: string | undefined;
}

/**
 * Most characters of assembled text `streaminfo` carries, counted as written (JSON-escaped
 * ASCII). The extension travels as a header in binary mode, and receivers cap the header
 * block (Node: 16 KiB), so the text is cut here and marked `assembledTextTruncated`; the
 * whole stream is still the response body.
 */
export const STREAMINFO_TEXT_MAX = 4096;

const NON_ASCII_ALL = /[-￿]/g;

/** JSON string of `text`, ASCII only (header-safe), at most `max` characters inside the quotes. */
function asciiJsonString(text: string, max: number): { json: string; cut: boolean } {
  let out = '';
  let cut = false;
  for (const ch of text) {
    const esc = JSON.stringify(ch)
      .slice(1, -1)
      .replace(NON_ASCII_ALL, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
    if (out.length + esc.length > max) {
      cut = true;
      break;
    }
    out += esc;
  }
  return { json: '"' + out + '"', cut };
}

/**
 * The stream summary as one ASCII JSON value, with the assembled text (already redacted by
 * the pipeline) up to STREAMINFO_TEXT_MAX, so a collector shows what the stdout line shows.
 */
function streamInfoJson(ex: Exchange): string | undefined {
  const s = ex.stream;
  if (!s) return undefined;
  const o: Record<string, unknown> = {
    chunks: s.chunks,
    ttfbMs: s.ttfbMs,
    ttlbMs: s.ttlbMs,
    partial: s.partial,
  };
  if (s.reason !== undefined) o.reason = s.reason;
  if (s.usage !== undefined) o.usage = s.usage;
  let json = JSON.stringify(o);
  if (s.assembledText !== undefined) {
    const text = asciiJsonString(s.assembledText, STREAMINFO_TEXT_MAX);
    json = json.slice(0, -1) + ',"assembledText":' + text.json;
    json += text.cut ? ',"assembledTextTruncated":true}' : '}';
  }
  return json;
}

/**
 * The events an exchange yields under its mode. The request event whenever the mode logs
 * requests; the response event whenever the mode logs responses — for every status, and for
 * failed exchanges too (no body, `errorcode`), where KServe logs only status 200.
 */
function partsOf(ex: Exchange): EventParts[] {
  const out: EventParts[] = [];
  const recordedtime = eventTime(nowMs());
  const metadataJson = boundedMetadataJson(ex.metadata);
  // KServe's agent sends the request's Content-Type on both events. In mode `response` the
  // request was not kept, so the response's own Content-Type is the only one there is.
  const dataType = logsRequest(ex.mode) ? ex.request?.contentType : ex.response?.contentType;
  // A client-chosen `application/cloudevents…` would make a receiver read the body as events
  // (KServe's agent has this flaw): the event says octet-stream, the client's value rides along.
  const forged = dataType !== undefined && CLOUDEVENTS_MEDIA.test(dataType);
  const contentType = forged ? NEUTRAL_CONTENT_TYPE : dataType;
  const originalcontenttype = forged ? dataType : undefined;
  const sampleweight = ex.sampleWeight === 1 ? undefined : num(ex.sampleWeight);
  const traceparent = ex.trace !== undefined ? formatTraceparent(ex.trace) : undefined;
  const tracestate = ex.trace?.tracestate;
  const batch = ex.batch
    ? JSON.stringify({ id: ex.batch.id, size: ex.batch.size, position: ex.batch.position })
    : undefined;
  if (logsRequest(ex.mode)) {
    out.push({
      half: 'request',
      id: ex.id,
      type: CE_TYPE_REQUEST,
      time: eventTime(ex.requestTime),
      recordedtime,
      metadataJson,
      contentType,
      originalcontenttype,
      body: ex.request,
      sampleweight,
      statuscode: undefined,
      latencyms: undefined,
      errorcode: undefined,
      responsecontenttype: undefined,
      streaminfo: undefined,
      traceparent,
      tracestate,
      batch,
    });
  }
  if (logsResponse(ex.mode)) {
    out.push({
      half: 'response',
      id: ex.id,
      type: CE_TYPE_RESPONSE,
      time: eventTime(ex.responseTime),
      recordedtime,
      metadataJson,
      contentType,
      originalcontenttype,
      body: ex.response,
      sampleweight,
      statuscode: ex.status,
      latencyms: num(latencyMs(ex)),
      errorcode: ex.error?.code,
      responsecontenttype: ex.response?.contentType,
      streaminfo: streamInfoJson(ex),
      traceparent,
      tracestate,
      batch,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Binary content mode

function binaryOf(ex: Exchange, c: SourceConstants, p: EventParts): BinaryEvent {
  const b = p.body;
  const h: string[] = [];
  // Sorted by header name, as Go's net/http writes them.
  if (c.annotations !== undefined) h.push(H.annotations, c.annotations);
  if (p.batch !== undefined) h.push(H.batch, headerFromHeader(p.batch));
  h.push(H.component, c.component);
  const encoding = b?.stillEncoded ? b.contentEncoding : undefined;
  if (encoding !== undefined) h.push(H.contentencoding, headerFromHeader(encoding));
  h.push(H.endpoint, c.endpoint);
  if (p.errorcode !== undefined) h.push(H.errorcode, p.errorcode);
  h.push(H.id, headerFromHeader(p.id), H.inferenceservicename, c.inferenceservicename);
  if (p.latencyms !== undefined) h.push(H.latencyms, p.latencyms);
  h.push(
    H.metadata,
    headerFromHeader(p.metadataJson),
    H.method,
    headerFromHeader(ex.method),
    H.namespace,
    c.namespace,
  );
  if (p.originalcontenttype !== undefined)
    h.push(H.originalcontenttype, headerFromHeader(p.originalcontenttype));
  if (b?.truncated) h.push(H.originalsize, String(b.size));
  h.push(H.recordedtime, p.recordedtime);
  if (p.responsecontenttype !== undefined)
    h.push(H.responsecontenttype, headerFromHeader(p.responsecontenttype));
  if (p.sampleweight !== undefined) h.push(H.sampleweight, p.sampleweight);
  if (b?.truncated && b.sha256 !== undefined) h.push(H.sha256, b.sha256);
  h.push(H.source, c.source, H.specversion, CE_SPEC_VERSION);
  if (p.statuscode !== undefined) h.push(H.statuscode, String(p.statuscode));
  if (p.streaminfo !== undefined) h.push(H.streaminfo, p.streaminfo);
  h.push(H.time, p.time);
  if (p.traceparent !== undefined) h.push(H.traceparent, p.traceparent);
  if (p.tracestate !== undefined) h.push(H.tracestate, p.tracestate);
  if (b?.truncated) h.push(H.truncated, 'true');
  h.push(H.type, p.type, H.url, headerFromHeader(ex.url));
  if (p.contentType !== undefined) h.push(H.contentType, headerFromHeader(p.contentType));
  return { half: p.half, headers: h, body: b !== undefined && b.bytes.byteLength > 0 ? b.bytes : undefined };
}

/** The exchange's events in CloudEvents binary mode, as KServe's agent sends them (plus inferlog's extensions). */
export function encodeBinary(ex: Exchange): BinaryEvent[] {
  const c = constantsOf(ex.source);
  return partsOf(ex).map((p) => binaryOf(ex, c, p));
}

// ---------------------------------------------------------------------------------------------
// Structured content mode and batches

const utf8 = new TextDecoder('utf-8', { fatal: true });
const JSON_TYPE = /^\s*(?:application\/(?:[\w.+-]+\+)?json|text\/json)\s*(?:;|$)/i;

/**
 * `data` when the payload is JSON (by its declared type, or no type at all) and parses,
 * else `data_base64`. A truncated JSON body no longer parses, so it goes as base64.
 * The JSON text is embedded as received, not re-serialised.
 */
function dataMember(p: EventParts): string {
  const b = p.body;
  if (b === undefined || b.bytes.byteLength === 0) return '';
  if (!b.stillEncoded && (p.contentType === undefined || JSON_TYPE.test(p.contentType))) {
    try {
      const text = utf8.decode(b.bytes);
      JSON.parse(text);
      return ',"data":' + text;
    } catch {
      // not JSON after all: base64 below
    }
  }
  return (
    ',"data_base64":"' +
    Buffer.from(b.bytes.buffer, b.bytes.byteOffset, b.bytes.byteLength).toString('base64') +
    '"'
  );
}

/**
 * The structured form carries the same attributes with the same values as the binary form
 * (so a decoder needs one rule); integer and boolean extensions use JSON numbers and booleans,
 * `metadata` / `annotations` stay JSON text in a string, as the Go SDK would carry them.
 */
function structuredOf(ex: Exchange, c: SourceConstants, p: EventParts): StructuredEvent {
  const b = p.body;
  let j =
    '{"specversion":"' +
    CE_SPEC_VERSION +
    '"' +
    attr('id', textFromHeader(p.id)) +
    ',"type":"' +
    p.type +
    '"';
  if (p.contentType !== undefined) j += attr('datacontenttype', textFromHeader(p.contentType));
  if (p.originalcontenttype !== undefined)
    j += attr(CE_EXTENSIONS.originalcontenttype, textFromHeader(p.originalcontenttype));
  j += ',"time":"' + p.time + '","recordedtime":"' + p.recordedtime + '"' + c.structured;
  j +=
    attr('metadata', textFromHeader(p.metadataJson)) +
    attr(CE_EXTENSIONS.method, ex.method) +
    attr(CE_EXTENSIONS.url, textFromHeader(ex.url));
  if (p.sampleweight !== undefined) j += ',"' + CE_EXTENSIONS.sampleweight + '":"' + p.sampleweight + '"';
  if (p.statuscode !== undefined) j += ',"' + CE_EXTENSIONS.statuscode + '":' + p.statuscode;
  if (p.latencyms !== undefined) j += ',"' + CE_EXTENSIONS.latencyms + '":"' + p.latencyms + '"';
  if (p.errorcode !== undefined) j += attr(CE_EXTENSIONS.errorcode, p.errorcode);
  if (p.streaminfo !== undefined) j += attr(CE_EXTENSIONS.streaminfo, p.streaminfo);
  if (p.batch !== undefined) j += attr(CE_EXTENSIONS.batch, p.batch);
  if (p.responsecontenttype !== undefined)
    j += attr(CE_EXTENSIONS.responsecontenttype, textFromHeader(p.responsecontenttype));
  if (p.traceparent !== undefined) j += attr(CE_EXTENSIONS.traceparent, p.traceparent);
  if (p.tracestate !== undefined) j += attr(CE_EXTENSIONS.tracestate, p.tracestate);
  if (b?.stillEncoded && b.contentEncoding !== undefined)
    j += attr(CE_EXTENSIONS.contentencoding, textFromHeader(b.contentEncoding));
  if (b?.truncated) {
    j += ',"' + CE_EXTENSIONS.truncated + '":true,"' + CE_EXTENSIONS.originalsize + '":' + b.size;
    if (b.sha256 !== undefined) j += attr(CE_EXTENSIONS.sha256, b.sha256);
  }
  j += dataMember(p) + '}';
  return { half: p.half, json: j };
}

/** The exchange's events in structured mode (`application/cloudevents+json`), one JSON text each. */
export function encodeStructured(ex: Exchange): StructuredEvent[] {
  const c = constantsOf(ex.source);
  return partsOf(ex).map((p) => structuredOf(ex, c, p));
}

/** A batch of exchanges as one `application/cloudevents-batch+json` body: a JSON array of structured events. */
export function encodeBatch(exchanges: readonly Exchange[]): string {
  let out = '[';
  let first = true;
  for (const ex of exchanges) {
    const c = constantsOf(ex.source);
    for (const p of partsOf(ex)) {
      out += (first ? '' : ',') + structuredOf(ex, c, p).json;
      first = false;
    }
  }
  return out + ']';
}
