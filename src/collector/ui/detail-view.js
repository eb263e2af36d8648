// @ts-check
/* global location */
/**
 * The detail view of one exchange (#/exchange/<id>): what a user opens it for comes first.
 *
 *   GET api/v1/exchanges/<id> ──▶ header (status, model, route, latency; copy as curl, trace)
 *                                 ──▶ stream (SSE events, assembled text, usage), when streamed
 *                                 ──▶ request | response bodies, side by side
 *                                 ──▶ every other fact, metadata and annotations (folded)
 *   GET api/v1/exchanges/<key>/instances ──▶ one row per prediction, when the collector stores them
 */
import { renderHalf, renderStream } from './body-view.js';
import { toCurl } from './curl.js';
import { copyButton, h } from './dom.js';
import { formatLatency, formatTime, formatWeight, statusClass, statusLabel } from './format.js';
import { highlight } from './highlight.js';
import { routeOf } from './list-view.js';
import { isEventStream, parseSse } from './sse.js';

/**
 * The trace id: the API's `traceId` when it has one, else the W3C `traceparent` header if it was
 * captured (00-<32 hex trace id>-<span id>-<flags>).
 * @param {any} ex @returns {string}
 */
export function traceIdOf(ex) {
  if (typeof ex.traceId === 'string' && ex.traceId) return ex.traceId;
  for (const [k, v] of Object.entries(ex.metadata ?? {})) {
    if (k.toLowerCase() !== 'traceparent') continue;
    const m = /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/i.exec(
      String(Array.isArray(v) ? v[0] : v).trim(),
    );
    if (m) return /** @type {string} */ (m[1]);
  }
  return '';
}

/**
 * @param {any} ex  the API's exchange with bodies
 * @param {{ utc: boolean, backHref: string, q: string, traceUrl: string }} opts
 * @returns {HTMLElement[]}
 */
export function renderDetail(ex, opts) {
  const cls = statusClass(ex);
  const traceId = traceIdOf(ex);
  const traceHref =
    traceId && opts.traceUrl ? opts.traceUrl.replace(/\{traceId\}/g, encodeURIComponent(traceId)) : '';
  const head = h(
    'header',
    { class: 'detail-head' },
    h('a', { class: 'btn', href: opts.backHref, 'data-back': '' }, '← Back'),
    h(
      'h2',
      { id: 'detail-title', tabindex: '-1' },
      h('span', { class: `badge st-${cls}` }, statusLabel(ex)),
      ' ',
      ex.model || '(no model)',
      h('span', { class: 'muted' }, ex.namespace ? ` · ${ex.namespace}` : ''),
    ),
    h(
      'div',
      { class: 'toolbar' },
      ex.request ? copyButton('Copy as curl', () => toCurl(ex, location.origin)) : null,
      copyButton('Copy id', () => ex.id),
      copyButton('Copy link', () => location.href),
      traceHref
        ? h(
            'a',
            { class: 'btn small', href: traceHref, target: '_blank', rel: 'noopener noreferrer' },
            'Trace',
          )
        : null,
    ),
  );
  const summary = h(
    'p',
    { class: 'summary' },
    h('code', { class: 'route' }, routeOf(ex)),
    h('span', {}, formatLatency(ex.latencyMs)),
    h('time', { datetime: ex.time, title: ex.time }, formatTime(ex.time, opts.utc)),
    ex.sampleWeight !== 1 ? h('span', { title: 'sample weight' }, formatWeight(ex.sampleWeight)) : null,
    ex.errorCode ? h('code', { class: 'err-code' }, ex.errorCode) : null,
    traceId ? h('span', { class: 'muted small' }, `trace ${traceId}`) : null,
  );

  const out = [head, summary];
  const stream = streamSection(ex, opts.q);
  if (stream) out.push(stream);
  out.push(
    h(
      'div',
      { class: 'halves' },
      renderHalf('request', ex.request, { utc: opts.utc, id: ex.id, q: opts.q }),
      renderHalf('response', ex.response, { utc: opts.utc, id: ex.id, q: opts.q }),
    ),
  );
  out.push(factsSection(ex, opts));
  return out;
}

/**
 * A streamed answer, on top: the assembled text, usage and the parsed events. The collector's
 * `assembledText` is used when it sends one; otherwise the text is assembled here from the events.
 * @param {any} ex @param {string} q
 */
function streamSection(ex, q) {
  const res = ex.response;
  const body = res && res.bodyEncoding === 'utf8' && typeof res.body === 'string' ? res.body : '';
  const sse = body && isEventStream(res.contentType, body) ? parseSse(body) : null;
  const fromApi = [ex.assembledText, res?.assembledText, res?.stream?.assembledText].find(
    (t) => typeof t === 'string',
  );
  if (!sse && fromApi === undefined && !res?.stream) return null;
  const text = typeof fromApi === 'string' ? fromApi : (sse?.text ?? '');
  const sec = h(
    'section',
    { class: 'card stream-card', 'aria-labelledby': 'h-stream' },
    h('h3', { id: 'h-stream' }, 'Streamed answer'),
  );
  const usage = sse?.usage;
  const facts = [
    sse ? `${sse.events.length} events` : null,
    usage?.prompt_tokens !== undefined ? `prompt ${usage.prompt_tokens} tokens` : null,
    usage?.completion_tokens !== undefined ? `completion ${usage.completion_tokens} tokens` : null,
    usage?.total_tokens !== undefined ? `total ${usage.total_tokens}` : null,
  ].filter(Boolean);
  if (facts.length) sec.append(h('p', { class: 'usage' }, facts.join(' · ')));
  sec.append(
    h('pre', { class: 'assembled', 'aria-label': 'Assembled text' }, text ? highlight(text, q) : '(no text)'),
  );
  if (res?.stream) sec.append(renderStream(res.stream));
  if (sse && sse.events.length) {
    const list = h('ol', { class: 'events' });
    for (const e of sse.events.slice(0, 500))
      list.append(
        h(
          'li',
          {},
          e.event !== 'message' ? h('span', { class: 'muted' }, `${e.event} `) : null,
          h('code', {}, highlight(e.data, q)),
        ),
      );
    sec.append(
      h('details', { class: 'events-box' }, h('summary', {}, `Events (${sse.events.length})`), list),
    );
  }
  return sec;
}

/** Every other fact, folded below the bodies. @param {any} ex @param {{ utc: boolean }} opts */
function factsSection(ex, opts) {
  const facts = h('dl', { class: 'facts grid' });
  /** @param {string} k @param {string|Node|null|undefined} v */
  const fact = (k, v) => {
    if (v === null || v === undefined || v === '') return;
    facts.append(h('div', { class: 'fact' }, h('dt', {}, k), h('dd', {}, v)));
  };
  const time = (/** @type {string|null} */ iso) =>
    iso ? h('time', { datetime: iso, title: iso }, formatTime(iso, opts.utc)) : null;
  fact('Exchange id', h('code', {}, ex.id));
  fact('Status', ex.status === null ? 'unknown (no response yet)' : String(ex.status));
  fact('Error code', ex.errorCode ? h('code', {}, ex.errorCode) : null);
  fact(
    'Complete',
    ex.complete ? 'yes (request and response)' : `no — ${!ex.request ? 'request' : 'response'} half missing`,
  );
  fact('Latency', formatLatency(ex.latencyMs));
  fact('Time', time(ex.time));
  fact('Request time', time(ex.requestTime));
  fact('Response time', time(ex.responseTime));
  fact('Model (InferenceService)', ex.model || '—');
  fact('Namespace', ex.namespace || '—');
  fact('Component', ex.component || '—');
  fact('Endpoint', ex.endpoint || '—');
  fact('Source', ex.source);
  fact('Method', ex.method);
  fact('URL', ex.url ? h('code', {}, ex.url) : null);
  // The request batch the answer came from (the agent's batcher); position -1 is the merged call itself.
  fact(
    'Batch',
    ex.batch
      ? ex.batch.position === -1
        ? h(
            'span',
            {},
            'the merged model call of batch ',
            h('code', {}, ex.batch.id),
            ` (${ex.batch.size} requests)`,
          )
        : h(
            'span',
            {},
            `request ${ex.batch.position + 1} of ${ex.batch.size} in batch `,
            h('code', {}, ex.batch.id),
          )
      : null,
  );
  fact(
    'Sample weight',
    ex.sampleWeight === 1
      ? '1 (not sampled)'
      : `${formatWeight(ex.sampleWeight)} — this record stands for ${ex.sampleWeight} exchanges`,
  );
  return h(
    'details',
    { class: 'card more-facts' },
    h('summary', {}, 'Facts, metadata headers and annotations'),
    facts,
    mapTable(
      'Metadata headers',
      ex.metadata,
      'No allow-listed request headers (metadataHeaders) were captured.',
    ),
    mapTable(
      'Annotations',
      ex.annotations,
      'No InferenceService annotations (metadataAnnotations) were captured.',
    ),
  );
}

/**
 * A name → value(s) table.
 * @param {string} title @param {Record<string, string | string[]> | null | undefined} map @param {string} empty
 */
function mapTable(title, map, empty) {
  const entries = Object.entries(map ?? {});
  const sec = h('section', { class: 'kv-sec' }, h('h3', {}, title));
  if (entries.length === 0) {
    sec.append(h('p', { class: 'muted' }, empty));
    return sec;
  }
  const tbody = h('tbody');
  for (const [k, v] of entries.sort(([a], [b]) => a.localeCompare(b))) {
    const values = Array.isArray(v) ? v : [v];
    tbody.append(
      h(
        'tr',
        {},
        h('th', { scope: 'row' }, h('code', {}, k)),
        h(
          'td',
          {},
          values.map((x) => h('div', {}, String(x))),
        ),
      ),
    );
  }
  sec.append(
    h(
      'table',
      { class: 'kv' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Value'))),
      tbody,
    ),
  );
  return sec;
}

/** Rows shown; a request may carry up to 10,000 (the API has them all). */
const INSTANCE_ROWS_SHOWN = 200;
/** Characters of an input or prediction shown in a cell (the title has it whole). */
const INSTANCE_CELL_CHARS = 300;

/** Compact JSON, cut for a table cell. @param {unknown} v @returns {{ text: string, full: string }} */
function cellJson(v) {
  const full = v === undefined ? '' : JSON.stringify(v);
  return {
    text: full.length > INSTANCE_CELL_CHARS ? `${full.slice(0, INSTANCE_CELL_CHARS)}…` : full,
    full,
  };
}

/**
 * One row per prediction (`collect --log-instances`): index, input, prediction. Null when the
 * exchange has no instance rows.
 * @param {any[]} items  the API's instance rows, in index order
 * @returns {HTMLElement | null}
 */
export function renderInstances(items) {
  if (!Array.isArray(items) || items.length === 0) return null;
  const body = h('tbody', {});
  for (const it of items.slice(0, INSTANCE_ROWS_SHOWN)) {
    const input = cellJson(it.input);
    const prediction = cellJson(it.prediction);
    body.append(
      h(
        'tr',
        {},
        h('td', { class: 'num' }, String(it.index)),
        h('td', {}, h('code', { title: input.full !== input.text ? input.full : null }, input.text)),
        h(
          'td',
          {},
          h('code', { title: prediction.full !== prediction.text ? prediction.full : null }, prediction.text),
        ),
      ),
    );
  }
  const more =
    items.length > INSTANCE_ROWS_SHOWN
      ? h('p', { class: 'muted small' }, `First ${INSTANCE_ROWS_SHOWN} of ${items.length} instances.`)
      : null;
  return h(
    'section',
    { class: 'card instances-card', id: 'instances', 'aria-labelledby': 'h-instances' },
    h('h3', { id: 'h-instances' }, `Instances (${items.length})`),
    h(
      'div',
      { class: 'instances-wrap' },
      h(
        'table',
        { class: 'models-table instances-table' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { scope: 'col' }, '#'),
            h('th', { scope: 'col' }, 'Input'),
            h('th', { scope: 'col' }, 'Prediction'),
          ),
        ),
        body,
      ),
    ),
    more,
  );
}
