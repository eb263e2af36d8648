/* global location */
/**
 * The detail view of one exchange (#/exchange/<id>): every fact the API has, then both halves.
 *
 *   GET api/v1/exchanges/<id> ──▶ header (status, model, id) + facts + metadata/annotations
 *                                 + renderHalf(request) + renderHalf(response)
 */
import { renderHalf, renderStream } from './body-view.js';
import { copyButton, h } from './dom.js';
import { formatLatency, formatTime, formatWeight, statusClass, statusLabel } from './format.js';

/**
 * @param {any} ex  the API's exchange with bodies
 * @param {{ utc: boolean, backHref: string }} opts
 * @returns {HTMLElement[]}
 */
export function renderDetail(ex, opts) {
  const cls = statusClass(ex);
  const head = h(
    'header',
    { class: 'detail-head' },
    h('a', { class: 'btn', href: opts.backHref, 'data-back': '' }, '← Back to list'),
    h(
      'h2',
      { id: 'detail-title', tabindex: '-1' },
      h('span', { class: `badge st-${cls}` }, statusLabel(ex)),
      ' ',
      ex.model || '(no model)',
      h(
        'span',
        { class: 'muted' },
        ex.namespace ? ` · ${ex.namespace}` : '',
        ex.component ? ` · ${ex.component}` : '',
      ),
    ),
    h(
      'div',
      { class: 'toolbar' },
      copyButton('Copy id', () => ex.id),
      copyButton('Copy link', () => location.href),
    ),
  );

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
  fact(
    'Sample weight',
    ex.sampleWeight === 1
      ? '1 (not sampled)'
      : `${formatWeight(ex.sampleWeight)} — this record stands for ${ex.sampleWeight} exchanges`,
  );

  const out = [head, h('section', { class: 'card', 'aria-label': 'Exchange facts' }, facts)];
  out.push(
    mapTable(
      'Metadata headers',
      ex.metadata,
      'No allow-listed request headers (metadataHeaders) were captured.',
    ),
  );
  out.push(
    mapTable(
      'Annotations',
      ex.annotations,
      'No InferenceService annotations (metadataAnnotations) were captured.',
    ),
  );
  if (ex.stream) out.push(h('section', { class: 'card' }, renderStream(ex.stream)));
  out.push(
    h(
      'div',
      { class: 'halves' },
      renderHalf('request', ex.request, { utc: opts.utc, id: ex.id }),
      renderHalf('response', ex.response, { utc: opts.utc, id: ex.id }),
    ),
  );
  return out;
}

/**
 * A name → value(s) table.
 * @param {string} title @param {Record<string, string | string[]> | null | undefined} map @param {string} empty
 */
function mapTable(title, map, empty) {
  const entries = Object.entries(map ?? {});
  const sec = h('section', { class: 'card' }, h('h3', {}, title));
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
