/**
 * Stored exchanges as people read them: the columns of `query`'s table and `tail`'s lines, and
 * the detail `query --id` prints (both bodies). Every value that came from a client goes through
 * `printable`/`oneLine` (core/terminal.ts) before it is shown.
 */
import type { ExchangeView, HalfView, InstanceView } from '../../api/view.js';
import { formatBytes, oneLine, printable, type Styles } from '../../core/terminal.js';
import type { Column } from './table.js';

/** `UPSTREAM_TIMEOUT` → `timeout`, `CLIENT_ABORTED` → `client-aborted`: short enough for a column. */
export function shortError(code: string): string {
  return oneLine(code)
    .replace(/^UPSTREAM_/, '')
    .toLowerCase()
    .replace(/[_\s]+/g, '-');
}

/** `200`, `502 reset`, `incomplete` (a request whose answer has not arrived). */
export function statusText(e: ExchangeView): string {
  if (e.status === null && e.errorCode === null) return e.complete ? '-' : 'incomplete';
  const status = e.status === null ? '-' : String(e.status);
  return e.errorCode === null ? status : `${status} ${shortError(e.errorCode)}`;
}

export function latencyText(e: ExchangeView): string {
  const ms = e.latencyMs;
  if (ms === null) return '-';
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)}s` : `${ms.toFixed(1)}ms`;
}

/** `POST /v1/models/iris:predict`, without the query string; `-` for KServe events (no URL). */
export function routeText(e: ExchangeView): string {
  if (e.url === null) return e.method ?? '-';
  let path = e.url;
  try {
    if (/^https?:\/\//i.test(path)) path = new URL(path).pathname;
  } catch {
    // Not a URL after all: shown as sent, up to the query string.
  }
  path = path.split('?')[0] as string;
  return oneLine(`${e.method ?? ''} ${path}`);
}

/** `12 chunks, ttfb 30ms` for a streamed answer (`partial` when it was cut off); '' otherwise. */
export function streamText(e: ExchangeView): string {
  const s = e.response?.stream;
  if (!s) return '';
  const parts: string[] = [];
  if (typeof s.chunks === 'number') parts.push(`${s.chunks} chunks`);
  if (typeof s.ttfbMs === 'number') parts.push(`ttfb ${Math.round(s.ttfbMs)}ms`);
  if (s.partial === true) parts.push('partial');
  return parts.length > 0 ? parts.join(', ') : 'streamed';
}

/** `‹binary, 1.2KiB, application/octet-stream›` */
function binarySummary(half: HalfView): string {
  const type = half.contentType ? `, ${oneLine(half.contentType)}` : '';
  return `‹binary, ${formatBytes(half.originalSize ?? half.size)}${type}›`;
}

/** A body's first characters on one line; a summary for a binary body; '' when not captured. */
export function previewText(half: HalfView | null, preview: string | null | undefined): string {
  if (half === null) return '';
  if (preview) return oneLine(preview);
  return half.size > 0 ? binarySummary(half) : '';
}

function statusStyle(e: ExchangeView, text: string, s: Styles): string {
  if (e.errorCode !== null || (e.status !== null && e.status >= 500)) return s.red(text);
  if (e.status !== null && e.status >= 400) return s.yellow(text);
  if (e.status === null) return s.dim(text);
  return s.green(text);
}

/** RFC 3339 with milliseconds, always three digits, so the column lines up. */
const stamp = (e: Pick<ExchangeView, 'time'>): string =>
  oneLine(e.time).replace(
    /(:\d\d)(?:\.(\d*))?Z$/,
    (_m, sec: string, frac = '') => `${sec}.${frac.padEnd(3, '0').slice(0, 3)}Z`,
  );
/** `11-30 10:01:12`: the date still shows, in 14 columns instead of 24. */
const shortStamp = (e: Pick<ExchangeView, 'time'>): string =>
  stamp(e).replace(/^\d{4}-(\d\d-\d\d)T(\d\d:\d\d:\d\d).*$/, '$1 $2');
const timeOfDay = (e: ExchangeView): string => stamp(e).replace(/^.*T(\d\d:\d\d:\d\d\.\d{3}).*$/, '$1');
const modelText = (e: Pick<ExchangeView, 'namespace' | 'model'>): string =>
  oneLine(`${e.namespace}/${e.model}`);

/** The full timestamp, shortened to `11-30 10:01:12` when the table is narrow. */
const timeColumn = <R extends Pick<ExchangeView, 'time'>>(): Column<R> => ({
  header: 'TIME',
  value: stamp,
  compact: shortStamp,
  min: 14,
  max: 24,
  keep: 6,
  style: (_e, t, s) => s.dim(t),
});

/** The exchange id a person copies into `query --id`: never cut, never left out. */
const idColumn = <R>(header: string, id: (row: R) => string): Column<R> => ({
  header,
  value: (row) => oneLine(id(row)),
  min: 0,
  max: 0,
  keep: Infinity,
  style: (_e, t, s) => s.cyan(t),
});

/** `query`'s list: the id stays whole, previews take the width that is left. */
export function queryColumns(): Column<ExchangeView>[] {
  return [
    timeColumn(),
    { header: 'MODEL', value: modelText, min: 12, max: 40, keep: 7 },
    { header: 'ROUTE', value: routeText, min: 20, max: 40, keep: 3 },
    { header: 'STATUS', value: statusText, min: 11, max: 22, keep: 8, style: statusStyle },
    { header: 'LATENCY', value: latencyText, min: 7, max: 10, align: 'right', keep: 5 },
    idColumn('ID', (e) => e.id),
    {
      header: 'REQUEST',
      value: (e) => previewText(e.request, e.requestPreview),
      min: 16,
      max: 200,
      flex: true,
      keep: 2,
    },
    {
      header: 'RESPONSE',
      value: (e) => previewText(e.response, e.responsePreview),
      min: 16,
      max: 200,
      flex: true,
      keep: 1,
    },
  ];
}

/** `tail`'s lines: laid out once for the terminal (no rows yet), so every line lines up. */
export function tailColumns(): Column<ExchangeView>[] {
  const dim = (_e: ExchangeView, t: string, s: Styles): string => s.dim(t);
  return [
    { header: 'TIME', value: timeOfDay, min: 12, max: 12, keep: Infinity, style: dim },
    { header: 'MODEL', value: modelText, min: 12, max: 16, keep: 6 },
    { header: 'ROUTE', value: routeText, min: 20, max: 28, keep: 3 },
    { header: 'STATUS', value: statusText, min: 14, max: 14, keep: Infinity, style: statusStyle },
    { header: 'LATENCY', value: latencyText, min: 7, max: 8, align: 'right', keep: 5 },
    { header: 'STREAM', value: streamText, min: 10, max: 20, keep: 1 },
    {
      header: 'REQUEST',
      value: (e) => previewText(e.request, e.requestPreview),
      min: 30,
      max: 200,
      flex: true,
      keep: 4,
    },
  ];
}

/** Up to 256 bytes as `xxd` would show them: offset, hex pairs, printable ASCII. */
export function hexDump(bytes: Uint8Array, limit = 256): string {
  const lines: string[] = [];
  const shown = bytes.subarray(0, limit);
  for (let off = 0; off < shown.length; off += 16) {
    const row = shown.subarray(off, off + 16);
    const hex = [...row].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${off.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${ascii}`);
  }
  if (bytes.length > limit) lines.push(`… ${formatBytes(bytes.length - limit)} more`);
  return lines.join('\n');
}

/** A body for the detail view: pretty JSON, text as sent, or a hex dump of a binary body. */
export function bodyText(half: HalfView): string {
  const body = half.body ?? '';
  if (half.bodyEncoding === 'base64') return hexDump(Buffer.from(body, 'base64'));
  if (body === '') return '(empty)';
  try {
    return printable(JSON.stringify(JSON.parse(body), null, 2));
  } catch {
    return printable(body);
  }
}

function halfHeading(name: string, half: HalfView): string {
  const parts: string[] = [];
  if (half.contentType) parts.push(oneLine(half.contentType));
  parts.push(half.bodyEncoding === 'base64' ? `binary, ${formatBytes(half.size)}` : formatBytes(half.size));
  if (half.truncated)
    parts.push(`truncated${half.originalSize !== null ? ` from ${formatBytes(half.originalSize)}` : ''}`);
  return `${name}  ${parts.join(', ')}`;
}

/** `query --id`: what the exchange was, then the request body, then the response body. */
export function renderDetail(e: ExchangeView, s: Styles): string {
  const out: string[] = [];
  const field = (label: string, value: string): void => void out.push(`  ${s.dim(label.padEnd(9))} ${value}`);
  out.push(s.bold(`exchange ${oneLine(e.id)}`) + (e.complete ? '' : s.yellow('  (incomplete)')));
  field('model', `${modelText(e)}${e.component ? ` (${oneLine(e.component)})` : ''}`);
  field('route', routeText(e));
  field(
    'status',
    statusStyle(e, e.errorCode === null ? statusText(e) : `${e.status ?? '-'} ${oneLine(e.errorCode)}`, s),
  );
  field('time', `${stamp(e)}   latency ${latencyText(e)}`);
  const stream = streamText(e);
  if (stream) field('stream', stream);
  for (const [k, v] of Object.entries(e.metadata)) field('metadata', oneLine(`${k}: ${v.join(', ')}`));
  if (e.sampleWeight !== 1) field('weight', String(e.sampleWeight));
  for (const [name, half] of [
    ['REQUEST', e.request],
    ['RESPONSE', e.response],
  ] as const) {
    out.push('');
    if (half === null) {
      out.push(s.bold(name) + '  (not captured)');
      continue;
    }
    out.push(s.bold(halfHeading(name, half)));
    out.push(bodyText(half));
  }
  return out.join('\n') + '\n';
}

/** A cell of JSON client data: one line, printable (JSON.stringify already escapes control characters). */
const jsonCell = (v: unknown): string => (v === undefined ? '-' : oneLine(JSON.stringify(v)));

/** `query --instances`: one row per prediction; the exchange id stays whole, input and prediction share the rest. */
export function instanceColumns(): Column<InstanceView>[] {
  return [
    timeColumn(),
    { header: 'MODEL', value: modelText, min: 12, max: 40, keep: 5 },
    idColumn('EXCHANGE', (r) => r.exchangeId),
    { header: '#', value: (r) => String(r.index), min: 1, max: 6, align: 'right', keep: 8 },
    { header: 'INPUT', value: (r) => jsonCell(r.input), min: 16, max: 200, flex: true, keep: 7 },
    { header: 'PREDICTION', value: (r) => jsonCell(r.prediction), min: 10, max: 120, flex: true, keep: 7 },
  ];
}
