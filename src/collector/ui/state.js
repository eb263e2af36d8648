// @ts-check
/* global URLSearchParams */
/**
 * The list's filters, and their two encodings:
 *
 *   form ⇄ Filters ⇄ URL hash (#/?status=5xx&range=1h — shareable, survives reload)
 *                 └──▶ API query (/api/v1/exchanges?status=5xx&since=<absolute time>)
 *
 * Only parameters the API knows are sent (it rejects unknown ones) and empty fields are left
 * out (an empty `model=` would mean "model is the empty string").
 */

/** Time range presets: label and duration in ms (null = no lower bound). */
export const RANGES = /** @type {const} */ ([
  ['15m', 'Last 15 minutes', 15 * 60_000],
  ['1h', 'Last hour', 3_600_000],
  ['6h', 'Last 6 hours', 6 * 3_600_000],
  ['24h', 'Last 24 hours', 24 * 3_600_000],
  ['7d', 'Last 7 days', 7 * 86_400_000],
  ['30d', 'Last 30 days', 30 * 86_400_000],
  ['all', 'All time', null],
  ['custom', 'Custom…', null],
]);

export const STATUSES = /** @type {const} */ ([
  ['', 'Any status'],
  ['2xx', '2xx success'],
  ['3xx', '3xx redirect'],
  ['4xx', '4xx client error'],
  ['5xx', '5xx server error'],
  ['error', 'Error (no response)'],
  ['incomplete', 'Incomplete (no response yet)'],
]);

/**
 * @typedef {{ model: string, namespace: string, component: string, status: string,
 *   range: string, from: string, to: string, q: string }} Filters
 * from/to: RFC 3339 (UTC) bounds of a custom range.
 */

/** @returns {Filters} */
export function defaultFilters() {
  return { model: '', namespace: '', component: '', status: '', range: '1h', from: '', to: '', q: '' };
}

const KEYS = /** @type {const} */ (['model', 'namespace', 'component', 'status', 'range', 'from', 'to', 'q']);

/** @param {string} query  the part after `?` @returns {Filters} */
export function filtersFromQuery(query) {
  const f = defaultFilters();
  const p = new URLSearchParams(query);
  for (const k of KEYS) {
    const v = p.get(k);
    if (v !== null) f[k] = v;
  }
  if (!RANGES.some(([id]) => id === f.range)) f.range = '1h';
  return f;
}

/** @param {Filters} f @returns {string} without `?`; defaults left out */
export function filtersToQuery(f) {
  const d = defaultFilters();
  const p = new URLSearchParams();
  for (const k of KEYS) {
    if (k === 'from' || k === 'to') {
      if (f.range === 'custom' && f[k]) p.set(k, f[k]);
    } else if (f[k] !== d[k]) p.set(k, f[k]);
  }
  return p.toString();
}

/** @param {Filters} a @param {Filters} b */
export function sameFilters(a, b) {
  return filtersToQuery(a) === filtersToQuery(b);
}

/**
 * The since/until of the window, resolved against `now` once, so that "load more" pages of
 * one listing all use the same bounds (a cursor is only valid with the same filters).
 * @param {Filters} f @param {number} now
 * @returns {{ since?: string, until?: string }}
 */
export function windowOf(f, now) {
  if (f.range === 'custom') {
    /** @type {{ since?: string, until?: string }} */
    const w = {};
    if (f.from) w.since = f.from;
    if (f.to) w.until = f.to;
    return w;
  }
  const preset = RANGES.find(([id]) => id === f.range);
  const ms = preset ? preset[2] : null;
  return ms === null ? {} : { since: new Date(now - ms).toISOString() };
}

/**
 * Query parameters shared by the list and the stats: the field filters (no time, no q).
 * @param {Filters} f
 */
export function fieldParams(f) {
  const p = new URLSearchParams();
  if (f.model) p.set('model', f.model);
  if (f.namespace) p.set('namespace', f.namespace);
  if (f.component) p.set('component', f.component);
  if (f.status) p.set('status', f.status);
  return p;
}

/**
 * `/api/v1/exchanges` parameters of the newest-first listing.
 * @param {Filters} f @param {{ since?: string, until?: string }} win @param {number} limit
 */
export function listParams(f, win, limit) {
  const p = fieldParams(f);
  if (win.since) p.set('since', win.since);
  if (win.until) p.set('until', win.until);
  if (f.q) p.set('q', f.q);
  p.set('limit', String(limit));
  return p;
}

/**
 * `/api/v1/stats` parameters. The stats endpoint defaults to the last hour, so "all time"
 * asks from the epoch.
 * @param {Filters} f @param {{ since?: string, until?: string }} win
 */
export function statsParams(f, win) {
  const p = fieldParams(f);
  p.set('since', win.since ?? '1970-01-01T00:00:00Z');
  if (win.until) p.set('until', win.until);
  return p;
}

/**
 * Live mode's follow listing: the same filters without the time window (it starts at "now"
 * and only moves forward).
 * @param {Filters} f @param {number} limit
 */
export function followParams(f, limit) {
  const p = fieldParams(f);
  if (f.q) p.set('q', f.q);
  p.set('follow', 'true');
  p.set('limit', String(limit));
  return p;
}

/** Live mode only makes sense when the window reaches up to now. @param {Filters} f */
export function canFollow(f) {
  return f.range !== 'custom' || !f.to;
}
