// @ts-check
/* global document */
/**
 * The exchange table. Holds the items it shows (so rows can be re-rendered when the time zone
 * toggle changes) and an id → row index (so live updates replace a row in place when its
 * response half arrives, instead of listing the exchange twice).
 *
 *   page of items (newest first) ──append()──▶ rows at the bottom
 *   follow items (oldest first)  ──upsert()──▶ rows replaced in place, or new rows on top
 */
import { h } from './dom.js';
import { highlight } from './highlight.js';
import { formatLatency, formatTime, formatWeight, parseTime, statusClass, statusLabel } from './format.js';

/**
 * @param {HTMLTableSectionElement} tbody
 * @param {{ utc: () => boolean, q: () => string }} opts
 */
export function createListView(tbody, opts) {
  /** @type {Map<string, { item: any, row: HTMLTableRowElement }>} */
  const byId = new Map();

  /** @param {any} item @param {boolean} fresh */
  function row(item, fresh) {
    const cls = statusClass(item);
    const q = opts.q();
    // The detail carries the search along, to highlight it and open the JSON path to it.
    const href = `#/exchange/${encodeURIComponent(item.id)}${q ? `?q=${encodeURIComponent(q)}` : ''}`;
    const model = item.model || '(no model)';
    const where = [item.namespace, item.component].filter(Boolean).join(' · ');
    const tr = h(
      'tr',
      { class: `st-row st-${cls}${fresh ? ' fresh' : ''}`, dataset: { id: item.id } },
      h(
        'td',
        { class: 'c-time' },
        h(
          'a',
          { href, class: 'row-link', title: item.time },
          h('time', { datetime: item.time }, formatTime(item.time, opts.utc()).slice(5)),
        ),
      ),
      h(
        'td',
        { class: 'c-model' },
        h('span', { class: 'model' }, model),
        where ? h('span', { class: 'where' }, where) : null,
      ),
      h('td', { class: 'c-route' }, routeOf(item)),
      h(
        'td',
        { class: 'c-status' },
        // A request still waiting for its response has no status: one "incomplete" badge says it all.
        cls === 'incomplete'
          ? h('span', { class: 'badge st-incomplete', title: incompleteWhy(item) }, 'incomplete')
          : // The code is in the response column; the badge stays short so it never runs into the latency.
            h(
              'span',
              { class: `badge st-${cls}`, title: statusLabel(item) },
              item.status ? String(item.status) : 'error',
            ),
        cls !== 'incomplete' && !item.complete
          ? h('span', { class: 'badge st-incomplete', title: incompleteWhy(item) }, 'incomplete')
          : null,
      ),
      h('td', { class: 'c-latency num' }, formatLatency(item.latencyMs)),
      h(
        'td',
        { class: 'c-weight num' },
        item.sampleWeight !== 1
          ? h(
              'span',
              { class: 'weight', title: `sampled: stands for ${item.sampleWeight} exchanges` },
              formatWeight(item.sampleWeight),
            )
          : null,
      ),
      h('td', { class: 'c-response' }, responseCell(item, cls, q)),
      h('td', { class: 'c-preview' }, preview(item, q)),
    );
    return /** @type {HTMLTableRowElement} */ (tr);
  }

  return {
    /** Number of rows shown. */
    get size() {
      return byId.size;
    },
    clear() {
      byId.clear();
      tbody.replaceChildren();
    },
    /** Appends a page (newest first) below the current rows. @param {any[]} items */
    append(items) {
      const frag = document.createDocumentFragment();
      for (const item of items) {
        if (byId.has(item.id)) continue; // a row updated live may also come in a later page
        const tr = row(item, false);
        byId.set(item.id, { item, row: tr });
        frag.append(tr);
      }
      tbody.append(frag);
    },
    /**
     * Live updates, oldest first: replaces known rows; a new exchange goes where its time
     * puts it (normally the top). An older one that changed (its late response half arrived)
     * and falls below the loaded rows is left to "load more" when `hasMore`.
     * Returns how many new rows were added.
     * @param {any[]} items @param {boolean} hasMore
     */
    upsert(items, hasMore) {
      let added = 0;
      for (const item of items) {
        const known = byId.get(item.id);
        const tr = row(item, true);
        if (known) {
          known.row.replaceWith(tr);
          known.row = tr;
          known.item = item;
          continue;
        }
        const t = parseTime(item.time) ?? Number.POSITIVE_INFINITY;
        let before = null;
        for (const r of tbody.rows) {
          const other = byId.get(r.dataset.id ?? '');
          if (other && (parseTime(other.item.time) ?? 0) <= t) {
            before = r;
            break;
          }
        }
        if (before) before.before(tr);
        else if (hasMore) continue;
        else tbody.append(tr);
        byId.set(item.id, { item, row: tr });
        added++;
      }
      return added;
    },
    /** Drops the oldest rows beyond `max` (live mode keeps the page bounded). @param {number} max */
    trim(max) {
      let dropped = 0;
      while (byId.size > max && tbody.lastElementChild) {
        const tr = /** @type {HTMLTableRowElement} */ (tbody.lastElementChild);
        byId.delete(tr.dataset.id ?? '');
        tr.remove();
        dropped++;
      }
      return dropped;
    },
    /** Re-renders every row (time zone changed). */
    rerender() {
      for (const entry of byId.values()) {
        const tr = row(entry.item, false);
        entry.row.replaceWith(tr);
        entry.row = tr;
      }
    },
  };
}

/** @param {any} item */
function incompleteWhy(item) {
  if (!item.request) return 'only the response half was received';
  if (!item.response) return 'only the request half was received so far';
  return 'incomplete';
}

/** `POST /v1/models/x:predict` from the captured method and URL. @param {any} item */
export function routeOf(item) {
  if (typeof item.url !== 'string' || item.url === '') return item.endpoint || '—';
  let path = item.url;
  try {
    path = new URL(item.url, 'http://x').pathname;
  } catch {
    // keep it as stored
  }
  return `${item.method ? `${item.method} ` : ''}${path}`;
}

/**
 * The response column: the error code and message first (what a user scanning for failures
 * needs), else a preview of the answer.
 * @param {any} item @param {string} cls @param {string} q
 */
function responseCell(item, cls, q) {
  const text = typeof item.responsePreview === 'string' ? item.responsePreview : '';
  const failed = cls === 'error' || cls === 'server' || cls === 'client';
  return [
    item.errorCode ? h('code', { class: 'err-code' }, item.errorCode) : null,
    item.errorCode && text ? ' ' : null,
    text
      ? h(
          'span',
          { class: failed ? 'preview err-msg' : 'preview', title: text.slice(0, 200) },
          highlight(text, q),
        )
      : item.errorCode || !item.response
        ? null
        : h('span', { class: 'muted' }, item.response.size === 0 ? 'empty body' : 'binary'),
  ];
}

/** The truncated request preview, or what the request was when there is no text. @param {any} item @param {string} q */
function preview(item, q) {
  if (typeof item.requestPreview === 'string' && item.requestPreview !== '')
    return h(
      'span',
      { class: 'preview', title: item.requestPreview.slice(0, 200) },
      highlight(item.requestPreview, q),
    );
  if (!item.request) return h('span', { class: 'muted' }, 'no request half');
  if (item.request.size === 0) return h('span', { class: 'muted' }, 'empty body');
  return h('span', { class: 'muted' }, `binary, ${item.request.contentType ?? 'unknown type'}`);
}
