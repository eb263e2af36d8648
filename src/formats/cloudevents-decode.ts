/**
 * CloudEvents over HTTP → decoded events. Pure: no I/O, so it can be fuzzed.
 *
 *   headers + body bytes ──▶ content mode? ──binary──▶ Ce-* headers + raw body ──┐
 *                                        ├─structured─▶ one JSON object ───────────┼──▶ DecodedEvent[]
 *                                        └─batch──────▶ JSON array of objects ─────┘
 *
 * The content mode: a request with a `Ce-Specversion` header is binary, whatever its Content-Type
 * (that type belongs to the data, and a logger copies it from an untrusted client); only without
 * one does the Content-Type select structured or batch mode.
 *
 * Anything wrong becomes an InferlogError EVENT_INVALID carrying the HTTP status to answer
 * (400 invalid, 415 unsupported structured format), a metrics label (`details.reason`) and a
 * message a human can act on. Nothing else is ever thrown.
 */
import { CE_EXTENSIONS } from './cloudevents-attributes.js';
import { parseRfc3339 } from '../core/units.js';
import { InferlogError, isInferlogError } from '../core/errors.js';

export type CeHeaders = Record<string, string | string[] | undefined>;

export interface DecodedEvent {
  specversion: string;
  id: string;
  type: string;
  source: string;
  /** The `time` attribute exactly as sent (RFC 3339), when present. */
  time?: string;
  /** `datacontenttype` (binary mode: the Content-Type header). */
  datacontenttype?: string;
  /** Every other attribute (extensions), lower-case names, values as strings. */
  extensions: Record<string, string>;
  /** `Ce-Metadata` parsed: allow-listed request headers. `{}` when absent or `null`. */
  metadata: Record<string, string[]>;
  /** `Ce-Annotations` parsed. `{}` when absent. */
  annotations: Record<string, string>;
  /** The data, byte-exact (binary mode) or re-encoded from the structured `data`/`data_base64`. */
  data: Uint8Array;
}

/**
 * EVENT_INVALID with the status to answer and `reason`, a short machine label for metrics
 * (`missing_attribute`, `bad_json`, …).
 */
export function decodeError(status: 400 | 415, reason: string, message: string): InferlogError {
  return new InferlogError('EVENT_INVALID', message, { status, details: { reason } });
}

const SUPPORTED_SPECVERSIONS = new Set(['1.0', '0.3']);
const REQUIRED = ['specversion', 'id', 'type', 'source'] as const;

/**
 * The longest values (UTF-8 bytes) of the attributes a store indexes. Kubernetes names are at most
 * 253 characters and KServe's ids are request ids, so real senders are far below. Without a bound,
 * a ~3 KB model name passed SQLite but broke PostgreSQL's index entry limit (2,704 bytes) with a
 * 503, which a sender retries forever; its widest index, namespace + id + error code (or model +
 * namespace + component + error code in the rollups), stays under that limit at these sizes.
 */
export const MAX_ID_BYTES = 1024;
export const MAX_NAME_BYTES = 512;
const BOUNDED_EXTENSIONS = [
  'inferenceservicename',
  'namespace',
  'component',
  'endpoint',
  'errorcode',
] as const;

function checkLength(value: string | undefined, name: string, max: number, where: string): void {
  // Byte length is at most 3× the UTF-16 length: skip the count for short values.
  if (value === undefined || value.length * 3 <= max) return;
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes > max)
    throw decodeError(
      400,
      'attribute_too_long',
      `${where}attribute "${name}" is ${bytes} bytes; the collector takes at most ${max}`,
    );
}
/** Attributes that are not extensions. */
const CONTEXT_ATTRIBUTES = new Set([
  'specversion',
  'id',
  'type',
  'source',
  'time',
  'datacontenttype',
  'data',
  'data_base64',
  'dataschema',
  'subject',
  'datacontentencoding',
]);

const empty = new Uint8Array(0);
const encoder = new TextEncoder();

function header(headers: CeHeaders, name: string): string | undefined {
  const v = headers[name];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(',') : String(v);
}

/** Media type without parameters, lower-cased: `application/cloudevents+json; charset=utf-8` → `application/cloudevents+json`. */
function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
}

function isJsonMedia(ct: string | undefined): boolean {
  const m = mediaType(ct);
  return m === '' || m === 'application/json' || m === 'text/json' || m.endsWith('+json');
}

/**
 * A JSON object attribute (`Ce-Metadata`, `Ce-Annotations`) whose values must all pass `isValue`.
 * Empty or `null` means none (KServe v0.14–0.15 sent `null` metadata on response events).
 */
function parseJsonMap<V>(
  text: string | undefined,
  attr: 'metadata' | 'annotations',
  isValue: (v: unknown) => v is V,
  shape: { object: string; value: string },
): Record<string, V> {
  if (text === undefined || text.trim() === '' || text.trim() === 'null') return {};
  const reason = attr === 'metadata' ? 'bad_metadata' : 'bad_annotations';
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw decodeError(400, reason, `${attr}: not valid JSON (expected an ${shape.object})`);
  }
  if (v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v))
    throw decodeError(400, reason, `${attr}: expected a JSON ${shape.object}`);
  const out: Record<string, V> = {};
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (!isValue(val)) throw decodeError(400, reason, `${attr}: value of "${k}" must be ${shape.value}`);
    out[k] = val;
  }
  return out;
}

const isStringArray = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((x) => typeof x === 'string');
const isString = (v: unknown): v is string => typeof v === 'string';

/** `Ce-Metadata`: Go's map[string][]string as JSON. */
function parseMetadata(text: string | undefined): Record<string, string[]> {
  return parseJsonMap(text, 'metadata', isStringArray, {
    object: 'object of header name → array of strings',
    value: 'an array of strings',
  });
}

/** `Ce-Annotations`: Go's map[string]string as JSON. */
function parseAnnotations(text: string | undefined): Record<string, string> {
  return parseJsonMap(text, 'annotations', isString, {
    object: 'object of string → string',
    value: 'a string',
  });
}

function checkTime(time: string | undefined, where: string): void {
  if (time !== undefined && parseRfc3339(time) === undefined) {
    throw decodeError(400, 'bad_time', `${where}time: "${time.slice(0, 64)}" is not an RFC 3339 timestamp`);
  }
}

function finish(
  attrs: {
    specversion?: string;
    id?: string;
    type?: string;
    source?: string;
    time?: string;
    datacontenttype?: string;
  },
  extensions: Record<string, string>,
  data: Uint8Array,
  where: string,
): DecodedEvent {
  for (const name of REQUIRED) {
    const v = attrs[name];
    if (v === undefined || v === '') {
      throw decodeError(400, 'missing_attribute', `${where}missing required attribute "${name}"`);
    }
  }
  if (!SUPPORTED_SPECVERSIONS.has(attrs.specversion!)) {
    throw decodeError(
      400,
      'bad_specversion',
      `${where}specversion "${attrs.specversion!.slice(0, 16)}" is not supported (use 1.0)`,
    );
  }
  checkTime(attrs.time, where);
  checkLength(attrs.id, 'id', MAX_ID_BYTES, where);
  for (const name of BOUNDED_EXTENSIONS) checkLength(extensions[name], name, MAX_NAME_BYTES, where);
  const { metadata: metaText, annotations: annText, ...rest } = extensions;
  const ev: DecodedEvent = {
    specversion: attrs.specversion!,
    id: attrs.id!,
    type: attrs.type!,
    source: attrs.source!,
    extensions: rest,
    metadata: parseMetadata(metaText),
    annotations: parseAnnotations(annText),
    data,
  };
  if (attrs.time !== undefined) ev.time = attrs.time;
  if (attrs.datacontenttype !== undefined && attrs.datacontenttype !== '')
    ev.datacontenttype = attrs.datacontenttype;
  return ev;
}

/** Binary mode: attributes in `ce-*` headers, the body is the data, byte for byte. */
function decodeBinary(headers: CeHeaders, body: Uint8Array): DecodedEvent {
  const extensions: Record<string, string> = {};
  const attrs: Record<string, string> = {};
  for (const rawName of Object.keys(headers)) {
    const name = rawName.toLowerCase();
    if (!name.startsWith('ce-')) continue;
    const attr = name.slice(3);
    const value = header(headers, rawName);
    if (value === undefined || attr === '') continue;
    if (CONTEXT_ATTRIBUTES.has(attr)) attrs[attr] = value;
    else extensions[attr] = value;
  }
  const ct = header(headers, 'content-type');
  return finish({ ...attrs, ...(ct !== undefined ? { datacontenttype: ct } : {}) }, extensions, body, '');
}

function attrString(v: unknown, name: string, where: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw decodeError(400, 'bad_attribute', `${where}attribute "${name}" must be a string, number or boolean`);
}

/** One structured-mode event object (JSON format). */
function decodeObject(obj: unknown, where: string): DecodedEvent {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw decodeError(400, 'bad_event', `${where}an event must be a JSON object`);
  }
  const o = obj as Record<string, unknown>;
  const attrs: Record<string, string> = {};
  const extensions: Record<string, string> = {};
  for (const [key, value] of Object.entries(o)) {
    if (key === 'data' || key === 'data_base64') continue;
    const name = key.toLowerCase();
    // Structured metadata/annotations may be real JSON values rather than JSON-in-a-string.
    if ((name === 'metadata' || name === 'annotations') && typeof value === 'object' && value !== null) {
      extensions[name] = JSON.stringify(value);
      continue;
    }
    const s = attrString(value, key, where);
    if (s === undefined) continue;
    if (CONTEXT_ATTRIBUTES.has(name)) attrs[name] = s;
    else extensions[name] = s;
  }
  let data = empty;
  if (o.data_base64 !== undefined && o.data_base64 !== null) {
    if (
      typeof o.data_base64 !== 'string' ||
      !/^[A-Za-z0-9+/]*={0,2}$/.test(o.data_base64.replace(/\s/g, ''))
    ) {
      throw decodeError(400, 'bad_data', `${where}data_base64 must be a base64 string`);
    }
    data = new Uint8Array(Buffer.from(o.data_base64, 'base64'));
  } else if (o.data !== undefined && o.data !== null) {
    // JSON data is the JSON value; otherwise a string is the data's text.
    data =
      typeof o.data === 'string' && !isJsonMedia(attrs.datacontenttype)
        ? encoder.encode(o.data)
        : encoder.encode(JSON.stringify(o.data));
  }
  return finish(attrs, extensions, data, where);
}

function parseJson(body: Uint8Array, what: string): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw decodeError(400, 'bad_json', `${what}: body is not valid UTF-8`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw decodeError(
      400,
      'bad_json',
      `${what}: body is not valid JSON (${(err as Error).message.slice(0, 120)})`,
    );
  }
}

/**
 * Decodes one HTTP request into CloudEvents. `headers` keys may have any case
 * (Node gives lower case). Throws only EVENT_INVALID InferlogErrors.
 */
export function decodeCloudEvents(headers: CeHeaders, body: Uint8Array): DecodedEvent[] {
  try {
    const lower: CeHeaders = {};
    for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v;
    // Ce-Specversion first: in binary mode the Content-Type is the *data's* type, which a logger
    // copies from an inference client. Were it read first, a client sending
    // `application/cloudevents-batch+json` would have its body parsed as events of its choosing.
    if (header(lower, 'ce-specversion') !== undefined) return [decodeBinary(lower, body)];
    const media = mediaType(header(lower, 'content-type'));
    if (media === 'application/cloudevents-batch+json') {
      const arr = parseJson(body, 'batch');
      if (!Array.isArray(arr))
        throw decodeError(400, 'bad_event', 'batch: body must be a JSON array of events');
      return arr.map((o, i) => decodeObject(o, `batch[${i}]: `));
    }
    if (media === 'application/cloudevents+json') {
      return [decodeObject(parseJson(body, 'event'), '')];
    }
    if (media.startsWith('application/cloudevents')) {
      throw decodeError(
        415,
        'unsupported_format',
        `content type "${media.slice(0, 80)}" is not supported: use binary mode, application/cloudevents+json or application/cloudevents-batch+json`,
      );
    }
    throw decodeError(
      400,
      'missing_attribute',
      'not a CloudEvent: no Ce-Specversion header (binary mode) and not application/cloudevents+json',
    );
  } catch (err) {
    if (isInferlogError(err, 'EVENT_INVALID')) throw err;
    // Defensive: a bug above must still surface as a typed 400, never crash the receiver.
    throw decodeError(400, 'bad_event', `could not decode event: ${String(err).slice(0, 120)}`);
  }
}

/** Extension names inferlog reads (re-exported so the collector does not spell them). */
export const EXT = CE_EXTENSIONS;
