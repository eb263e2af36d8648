/**
 * KServe 0.20's blob-store records and marshallers (pkg/logger: LogRequest, logRecord,
 * marshaller_{json,csv,parquet}.go), so a consumer written for KServe's files reads ours unchanged.
 *
 *   Exchange ──recordsOf──▶ request record, response record (per mode)   = KServe's LogRequest
 *                 └─ marshal(json | csv | parquet) ──▶ bytes + extension  = one object
 *
 * Encodings, as KServe writes them:
 * - json: Go's json.Marshal of LogRequest; one record → an object, several → an array. `url` and
 *   `sourceUri` are Go's url.URL *struct* (`{"Scheme":…,"Host":…}`), `bytes` is base64, empty
 *   maps, empty strings and `false` are omitted (omitempty), `occurrenceTime` is RFC 3339 (ns).
 * - csv / parquet: logRecord's 14 columns; `bytes` base64, `metadata` / `annotations` Go JSON
 *   text ("" when empty: KServe's records cross its marshaller as JSON, where omitempty drops an
 *   empty map), `tlsSkipVerify` "true"/"false" (csv) or BOOLEAN (parquet), all others text.
 *
 * Where inferlog differs from KServe's agent (docs in README "Blob storage"): the response record
 * is written for every status, not only 200 (nothing is lost silently), and bodies larger than the
 * capture cap are the captured prefix.
 */
import type { Exchange } from '../../core/exchange.js';
import { logsRequest, logsResponse } from '../../core/exchange.js';
import { rfc3339Nano } from '../../core/time.js';
import { CE_TYPE_REQUEST, CE_TYPE_RESPONSE } from '../../formats/cloudevents-attributes.js';
import { goEscapeJson, goJson, textFromHeader } from '../../formats/cloudevents.js';
import { writeParquet, type ParquetColumn } from '../../formats/parquet/write.js';

export type StoreFormat = 'json' | 'csv' | 'parquet';

/** One KServe LogRequest, its values already as text (the way logRecord holds them). */
export interface LogRecord {
  url: string;
  /** Raw bytes of the body (base64 in every format). */
  bytes: Uint8Array;
  contentType: string;
  reqType: string;
  id: string;
  sourceUri: string;
  inferenceService: string;
  namespace: string;
  component: string;
  endpoint: string;
  metadata: Readonly<Record<string, string[]>>;
  annotations: Readonly<Record<string, string>>;
  certName: string;
  tlsSkipVerify: boolean;
  /** Epoch ms: request arrival for the request record, response end for the response record. */
  occurrenceTime: number;
}

/** What is the same for every record a sink writes: KServe's agent flags. */
export interface RecordContext {
  /** `--log-url` as given (KServe writes the parsed URL back). */
  logUrl: string;
  /** `--logger-ca-cert-file` (KServe's default `service-ca.crt`). */
  certName: string;
  tlsSkipVerify: boolean;
}

/** logRecord's columns, in KServe's order (marshaller_record.go logRecordColumns). */
export const LOG_RECORD_COLUMNS = [
  'url',
  'bytes',
  'contentType',
  'reqType',
  'id',
  'sourceUri',
  'inferenceService',
  'namespace',
  'component',
  'endpoint',
  'metadata',
  'annotations',
  'certName',
  'tlsSkipVerify',
] as const;

const PARQUET_COLUMNS: readonly ParquetColumn[] = LOG_RECORD_COLUMNS.map((name) => ({
  name,
  type: name === 'tlsSkipVerify' ? 'BOOLEAN' : 'VARCHAR',
  // parquet-go writes logRecord's plain (non-pointer) fields as REQUIRED columns. Asked for;
  // DuckDB 1.5 still writes OPTIONAL (README "Blob storage"), readers see no other difference.
  required: true,
}));

const EMPTY = new Uint8Array(0);

/** The records KServe's agent would queue for this exchange, in order (request, then response). */
export function recordsOf(ex: Exchange, ctx: RecordContext): LogRecord[] {
  const out: LogRecord[] = [];
  // KServe writes the request's Content-Type on both records (handler.go reads it once).
  const contentType = textFromHeader(
    (logsRequest(ex.mode) ? ex.request?.contentType : ex.response?.contentType) ??
      ex.request?.contentType ??
      '',
  );
  const metadata: Record<string, string[]> = {};
  for (const [k, values] of Object.entries(ex.metadata)) metadata[k] = values.map(textFromHeader);
  const base = {
    url: ctx.logUrl,
    contentType,
    id: textFromHeader(ex.id),
    sourceUri: ex.source.sourceUri,
    inferenceService: ex.source.inferenceService,
    namespace: ex.source.namespace,
    component: ex.source.component,
    endpoint: ex.source.endpoint,
    metadata,
    annotations: ex.source.annotations,
    certName: ctx.certName,
    tlsSkipVerify: ctx.tlsSkipVerify,
  };
  if (logsRequest(ex.mode))
    out.push({
      ...base,
      bytes: ex.request?.bytes ?? EMPTY,
      reqType: CE_TYPE_REQUEST,
      occurrenceTime: ex.requestTime,
    });
  if (logsResponse(ex.mode))
    out.push({
      ...base,
      bytes: ex.response?.bytes ?? EMPTY,
      reqType: CE_TYPE_RESPONSE,
      occurrenceTime: ex.responseTime,
    });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Go's encoding/json, for the parts of LogRequest

// Lone surrogates: Go writes U+FFFD for text that is not valid UTF-8.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** A Go json.Marshal'd string. */
export function goString(s: string): string {
  return goEscapeJson(JSON.stringify(s.replace(LONE_SURROGATE, '\ufffd')));
}

const base64 = (b: Uint8Array): string =>
  Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');

/** Go's url.Parse, far enough for a log URL or source URI: the fields of url.URL. */
function goUrlFields(raw: string): {
  scheme: string;
  opaque: string;
  user: boolean;
  host: string;
  path: string;
  rawPath: string;
  forceQuery: boolean;
  rawQuery: string;
  fragment: string;
} {
  let rest = raw;
  let fragment = '';
  const hash = rest.indexOf('#');
  if (hash >= 0) {
    fragment = safeDecode(rest.slice(hash + 1));
    rest = rest.slice(0, hash);
  }
  let scheme = '';
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(rest);
  if (m) {
    scheme = (m[1] as string).toLowerCase();
    rest = rest.slice(m[0].length);
  }
  let rawQuery = '';
  let forceQuery = false;
  const q = rest.indexOf('?');
  if (q >= 0) {
    rawQuery = rest.slice(q + 1);
    forceQuery = rawQuery === '';
    rest = rest.slice(0, q);
  }
  let opaque = '';
  let user = false;
  let host = '';
  if (scheme !== '' && !rest.startsWith('/')) {
    opaque = rest;
    rest = '';
  } else if (rest.startsWith('//')) {
    const end = rest.indexOf('/', 2);
    let authority = end >= 0 ? rest.slice(2, end) : rest.slice(2);
    rest = end >= 0 ? rest.slice(end) : '';
    const at = authority.lastIndexOf('@');
    if (at >= 0) {
      user = true;
      authority = authority.slice(at + 1);
    }
    host = safeDecode(authority);
  }
  const path = safeDecode(rest);
  // Go keeps RawPath only when the given escaping is not the default one.
  const rawPath = path !== rest && encodeURI(path) !== rest ? rest : '';
  return { scheme, opaque, user, host, path, rawPath, forceQuery, rawQuery, fragment };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Go's json.Marshal of a *url.URL (a struct: url.URL has no MarshalJSON), in the field order of
 * the Go release KServe 0.20's agent is built with (checked against its output in test/blob).
 */
export function goUrlJson(raw: string): string {
  const u = goUrlFields(raw);
  return (
    `{"Scheme":${goString(u.scheme)},"Opaque":${goString(u.opaque)},"User":${u.user ? '{}' : 'null'},` +
    `"Host":${goString(u.host)},"Path":${goString(u.path)},"Fragment":${goString(u.fragment)},` +
    `"RawQuery":${goString(u.rawQuery)},"RawPath":${goString(u.rawPath)},"RawFragment":"",` +
    `"ForceQuery":${u.forceQuery},"OmitHost":false}`
  );
}

/** Go's json.Marshal of one LogRequest (types.go field order, omitempty as tagged). */
export function logRequestJson(r: LogRecord): string {
  let j = '{';
  const sep = (): string => (j.length > 1 ? ',' : '');
  if (r.url !== '') j += sep() + '"url":' + goUrlJson(r.url);
  j += sep() + '"bytes":"' + base64(r.bytes) + '"';
  const str = (name: string, v: string): void => {
    if (v !== '') j += sep() + '"' + name + '":' + goString(v);
  };
  str('contentType', r.contentType);
  str('reqType', r.reqType);
  str('id', r.id);
  if (r.sourceUri !== '') j += sep() + '"sourceUri":' + goUrlJson(r.sourceUri);
  str('inferenceService', r.inferenceService);
  str('namespace', r.namespace);
  str('component', r.component);
  str('endpoint', r.endpoint);
  if (Object.keys(r.metadata).length > 0) j += sep() + '"metadata":' + goJson(r.metadata);
  if (Object.keys(r.annotations).length > 0) j += sep() + '"annotations":' + goJson(r.annotations);
  str('certName', r.certName);
  if (r.tlsSkipVerify) j += sep() + '"tlsSkipVerify":true';
  j += sep() + '"occurrenceTime":"' + rfc3339Nano(r.occurrenceTime) + '"';
  return j + '}';
}

/** logRecord's 14 values (toLogRecord): text, and the boolean last. */
export function logRecordValues(r: LogRecord): [...string[], boolean] {
  const map = (m: Readonly<Record<string, unknown>>): string => (Object.keys(m).length > 0 ? goJson(m) : '');
  return [
    r.url,
    base64(r.bytes),
    r.contentType,
    r.reqType,
    r.id,
    r.sourceUri,
    r.inferenceService,
    r.namespace,
    r.component,
    r.endpoint,
    map(r.metadata),
    map(r.annotations),
    r.certName,
    r.tlsSkipVerify,
  ];
}

// Go's encoding/csv: quote a field holding the delimiter, a quote, CR or LF, or starting with
// a space; `\.` alone is quoted too. Lines end in LF.
const CSV_NEEDS_QUOTES = /[",\r\n]|^[\s]/;

function csvField(v: string): string {
  if (v === '') return '';
  if (v !== '\\.' && !CSV_NEEDS_QUOTES.test(v)) return v;
  return '"' + v.replace(/"/g, '""') + '"';
}

export interface Marshalled {
  data: Uint8Array;
  extension: string;
  contentType: string;
}

export function marshalJson(records: readonly LogRecord[]): Marshalled {
  const text =
    records.length === 1
      ? logRequestJson(records[0] as LogRecord)
      : '[' + records.map(logRequestJson).join(',') + ']';
  return { data: Buffer.from(text), extension: 'json', contentType: 'application/json' };
}

export function marshalCsv(records: readonly LogRecord[]): Marshalled {
  let text = LOG_RECORD_COLUMNS.join(',') + '\n';
  for (const r of records)
    text +=
      logRecordValues(r)
        .map((v) => csvField(typeof v === 'boolean' ? String(v) : v))
        .join(',') + '\n';
  return { data: Buffer.from(text), extension: 'csv', contentType: 'text/csv' };
}

export async function marshalParquet(records: readonly LogRecord[]): Promise<Marshalled> {
  const data = await writeParquet(PARQUET_COLUMNS, records.map(logRecordValues));
  return { data, extension: 'parquet', contentType: 'application/octet-stream' };
}

export function marshal(format: StoreFormat, records: readonly LogRecord[]): Promise<Marshalled> {
  switch (format) {
    case 'csv':
      return Promise.resolve(marshalCsv(records));
    case 'parquet':
      return marshalParquet(records);
    default:
      return Promise.resolve(marshalJson(records));
  }
}

/** The body KServe's HTTPMarshaller posts to a marshaller: the batch as a JSON array of LogRequests. */
export function marshallerRequestBody(records: readonly LogRecord[]): string {
  return '[' + records.map(logRequestJson).join(',') + ']';
}
