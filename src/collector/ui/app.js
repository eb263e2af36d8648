/* global document, window, location, history, localStorage */
/**
 * The web UI's controller: routes, filters, paging, live mode.
 *
 *   URL hash ──route()──▶ #/?filters      ──▶ list: GET api/v1/exchanges (newest first, `limit` 50,
 *                        │                        "load more" = next cursor) + GET api/v1/stats
 *                        │                        live: GET …?follow=true&cursor=… every 2 s ──▶ rows upserted
 *                        └─▶ #/exchange/<id> ──▶ detail: GET api/v1/exchanges/<id>
 *
 * Every request is bounded (a page, a stats summary, one exchange), so the UI behaves the same
 * with ten stored exchanges or a million. A newer request aborts the older one it replaces.
 */
import { ApiError, getJson, isAbort } from './api.js';
import { renderDetail } from './detail-view.js';
import { h } from './dom.js';
import { formatCount, formatTime, fromInputTime, parseTime, toInputTime } from './format.js';
import { createListView } from './list-view.js';
import {
  canFollow,
  defaultFilters,
  filtersFromQuery,
  filtersToQuery,
  followParams,
  listParams,
  RANGES,
  sameFilters,
  STATUSES,
  statsParams,
  windowOf,
} from './state.js';
import { renderStats } from './stats-view.js';

const PAGE = 50;
const FOLLOW_PAGE = 200;
const POLL_MS = 2000;
const LIVE_STATS_MS = 10_000;
/** Live mode keeps at most this many rows; older ones drop off the bottom. */
const LIVE_MAX_ROWS = 1000;

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
const el = {
  form: /** @type {HTMLFormElement} */ ($('filters')),
  q: /** @type {HTMLInputElement} */ ($('f-q')),
  model: /** @type {HTMLInputElement} */ ($('f-model')),
  namespace: /** @type {HTMLInputElement} */ ($('f-namespace')),
  component: /** @type {HTMLInputElement} */ ($('f-component')),
  status: /** @type {HTMLSelectElement} */ ($('f-status')),
  range: /** @type {HTMLSelectElement} */ ($('f-range')),
  from: /** @type {HTMLInputElement} */ ($('f-from')),
  to: /** @type {HTMLInputElement} */ ($('f-to')),
  live: /** @type {HTMLInputElement} */ ($('live')),
  utc: /** @type {HTMLInputElement} */ ($('utc')),
  listView: $('list-view'),
  detailView: $('detail-view'),
  detailBody: $('detail-body'),
  detailError: $('detail-error'),
  listError: $('list-error'),
  listStatus: $('list-status'),
  liveStatus: $('live-status'),
  stats: $('stats'),
  rows: /** @type {HTMLTableSectionElement} */ ($('rows')),
  table: $('results'),
  empty: $('empty'),
  more: /** @type {HTMLButtonElement} */ ($('load-more')),
  keys: /** @type {HTMLDialogElement} */ ($('keys')),
};

const state = {
  filters: defaultFilters(),
  /** since/until of the current listing, resolved once (see windowOf). */
  win: /** @type {{ since?: string, until?: string }} */ ({}),
  cursor: /** @type {string | null} */ (null),
  loaded: false,
  listAbort: /** @type {AbortController | null} */ (null),
  statsAbort: /** @type {AbortController | null} */ (null),
  detailAbort: /** @type {AbortController | null} */ (null),
  live: false,
  /** Bumped on every live (re)start: a poll of an older generation stops itself. */
  liveGen: 0,
  followCursor: /** @type {string | null} */ (null),
  pollTimer: 0,
  lastStats: 0,
  trimmed: false,
  utc: localStorage.getItem('inferlog.utc') === '1',
  /** True when the detail was opened from the list (Back can then use history.back()). */
  cameFromList: false,
  lastOpenedId: '',
};

const list = createListView(el.rows, { utc: () => state.utc });

// ---------------------------------------------------------------- form

function fillSelects() {
  for (const [value, label] of STATUSES) el.status.append(h('option', { value }, label));
  for (const [value, label] of RANGES) el.range.append(h('option', { value }, label));
}

/** @param {import('./state.js').Filters} f */
function fillForm(f) {
  el.q.value = f.q;
  el.model.value = f.model;
  el.namespace.value = f.namespace;
  el.component.value = f.component;
  if (f.status && ![...el.status.options].some((o) => o.value === f.status))
    el.status.append(h('option', { value: f.status }, `Status ${f.status}`));
  el.status.value = f.status;
  el.range.value = f.range;
  const fromMs = parseTime(f.from);
  const toMs = parseTime(f.to);
  el.from.value = fromMs === null ? '' : toInputTime(fromMs, state.utc);
  el.to.value = toMs === null ? '' : toInputTime(toMs, state.utc);
  showCustomRange(f.range === 'custom');
}

/** @param {boolean} on */
function showCustomRange(on) {
  for (const node of document.querySelectorAll('.custom-range'))
    /** @type {HTMLElement} */ (node).hidden = !on;
}

/** @returns {import('./state.js').Filters} */
function readForm() {
  const f = defaultFilters();
  f.q = el.q.value.trim();
  f.model = el.model.value.trim();
  f.namespace = el.namespace.value.trim();
  f.component = el.component.value.trim();
  f.status = el.status.value;
  f.range = el.range.value;
  if (f.range === 'custom') {
    const from = fromInputTime(el.from.value, state.utc);
    const to = fromInputTime(el.to.value, state.utc);
    if (from !== null) f.from = new Date(from).toISOString();
    if (to !== null) f.to = new Date(to).toISOString();
  }
  return f;
}

/** Puts filters into the URL; the hashchange handler loads them. @param {import('./state.js').Filters} f */
function navigateList(f) {
  const q = filtersToQuery(f);
  const hash = q ? `#/?${q}` : '#/';
  if (location.hash === hash || (hash === '#/' && location.hash === '')) route();
  else location.hash = hash;
}

function listHref() {
  const q = filtersToQuery(state.filters);
  return q ? `#/?${q}` : '#/';
}

// ---------------------------------------------------------------- errors

const FIELD_OF_PARAM = /** @type {Record<string, HTMLElement>} */ ({
  model: el.model,
  namespace: el.namespace,
  component: el.component,
  status: el.status,
  q: el.q,
  since: el.range,
  until: el.range,
});

/** @param {HTMLElement} box @param {unknown} err @param {string} what */
function showError(box, err, what) {
  const e =
    err instanceof ApiError
      ? err
      : new ApiError(0, 'UI_ERROR', err instanceof Error ? err.message : String(err));
  box.replaceChildren(
    h('strong', {}, `Could not ${what}: `),
    e.message,
    ' ',
    h('span', { class: 'muted small' }, `(${e.status ? `HTTP ${e.status} ` : ''}${e.code})`),
  );
  box.hidden = false;
  const field = e.parameter ? FIELD_OF_PARAM[e.parameter] : undefined;
  if (field) {
    if (e.parameter === 'since' && state.filters.range === 'custom') markInvalid(el.from, box);
    else if (e.parameter === 'until' && state.filters.range === 'custom') markInvalid(el.to, box);
    else markInvalid(field, box);
  }
}

/** @param {HTMLElement} field @param {HTMLElement} box */
function markInvalid(field, box) {
  if (!box.id) return;
  field.setAttribute('aria-invalid', 'true');
  field.setAttribute('aria-describedby', box.id);
}

function clearListError() {
  el.listError.hidden = true;
  el.listError.replaceChildren();
  for (const f of el.form.querySelectorAll('[aria-invalid]')) {
    f.removeAttribute('aria-invalid');
    f.removeAttribute('aria-describedby');
  }
}

// ---------------------------------------------------------------- list

async function reload() {
  state.listAbort?.abort();
  const ac = new AbortController();
  state.listAbort = ac;
  clearListError();
  list.clear();
  state.cursor = null;
  state.trimmed = false;
  state.loaded = true;
  state.win = windowOf(state.filters, Date.now());
  el.empty.hidden = true;
  el.more.hidden = true;
  el.table.setAttribute('aria-busy', 'true');
  el.listStatus.textContent = 'Loading…';
  void loadStats();
  // Live mode takes its follow position before the page is read, so an exchange stored in
  // between shows up (at worst twice, which upsert merges) instead of never.
  if (state.live) await startLive();
  try {
    const page = await getJson('api/v1/exchanges', listParams(state.filters, state.win, PAGE), ac.signal);
    list.append(page.items);
    state.cursor = page.nextCursor;
  } catch (err) {
    if (isAbort(err)) return;
    showError(el.listError, err, 'load the exchanges');
  } finally {
    if (state.listAbort === ac) el.table.setAttribute('aria-busy', 'false');
  }
  updateFooter();
}

async function loadMore() {
  if (!state.cursor) return;
  state.listAbort?.abort();
  const ac = new AbortController();
  state.listAbort = ac;
  el.more.disabled = true;
  el.more.textContent = 'Loading…';
  const params = listParams(state.filters, state.win, PAGE);
  params.set('cursor', state.cursor);
  try {
    const page = await getJson('api/v1/exchanges', params, ac.signal);
    const firstNew = el.rows.rows.length;
    list.append(page.items);
    state.cursor = page.nextCursor;
    // Keyboard users continue where the new rows start.
    const link = el.rows.rows[firstNew]?.querySelector('a');
    if (link && document.activeElement === el.more) link.focus();
  } catch (err) {
    if (!isAbort(err)) showError(el.listError, err, 'load more exchanges');
  } finally {
    el.more.disabled = false;
    el.more.textContent = 'Load more';
  }
  updateFooter();
}

function rangeText() {
  const f = state.filters;
  if (f.range === 'custom') {
    const from = f.from ? formatTime(f.from, state.utc) : 'the beginning';
    const to = f.to ? formatTime(f.to, state.utc) : 'now';
    return `between ${from} and ${to}`;
  }
  const preset = RANGES.find(([id]) => id === f.range);
  return preset && f.range !== 'all' ? `in the ${preset[1].toLowerCase()}` : 'in all stored time';
}

function updateFooter() {
  const n = list.size;
  const hasMore = state.cursor !== null && !state.trimmed;
  el.more.hidden = !hasMore;
  if (n === 0 && el.listError.hidden) {
    el.listStatus.textContent = '';
    el.empty.replaceChildren(
      h('p', {}, `No exchanges match these filters ${rangeText()}.`),
      state.filters.range !== 'all'
        ? h(
            'button',
            {
              type: 'button',
              class: 'btn',
              onclick: () => navigateList({ ...state.filters, range: 'all', from: '', to: '' }),
            },
            'Search all time',
          )
        : null,
      ' ',
      !sameFilters(state.filters, defaultFilters())
        ? h(
            'button',
            { type: 'button', class: 'btn', onclick: () => navigateList(defaultFilters()) },
            'Clear filters',
          )
        : null,
    );
    el.empty.hidden = false;
  } else {
    el.empty.hidden = true;
    el.listStatus.textContent =
      `${formatCount(n)} exchange${n === 1 ? '' : 's'} shown, newest first, ${rangeText()}` +
      (hasMore ? ' — more below.' : '.') +
      (state.trimmed
        ? ` Live mode keeps the newest ${formatCount(LIVE_MAX_ROWS)}; turn it off to page further.`
        : '');
  }
}

async function loadStats() {
  state.statsAbort?.abort();
  const ac = new AbortController();
  state.statsAbort = ac;
  state.lastStats = Date.now();
  el.stats.setAttribute('aria-busy', 'true');
  // Live mode refreshes the window's end: "last hour" keeps moving.
  const win = state.live ? windowOf(state.filters, Date.now()) : state.win;
  try {
    const stats = await getJson('api/v1/stats', statsParams(state.filters, win), ac.signal);
    el.stats.replaceChildren(
      ...renderStats(stats, {
        searchIgnored: state.filters.q !== '',
        onStatus: (status) => navigateList({ ...state.filters, status }),
        onModel: (model, namespace) => navigateList({ ...state.filters, model, namespace }),
      }),
    );
    fillDatalists(stats.byModel);
  } catch (err) {
    if (isAbort(err)) return;
    const box = h('p', { class: 'error small', id: 'stats-error' });
    showError(box, err, 'load the statistics');
    el.stats.replaceChildren(box);
  } finally {
    if (state.statsAbort === ac) el.stats.setAttribute('aria-busy', 'false');
  }
}

/** Model / namespace suggestions from what the stats saw. @param {Array<{model: string, namespace: string}>} models */
function fillDatalists(models) {
  const fill = (/** @type {string} */ id, /** @type {string[]} */ values) => {
    const dl = $(id);
    const known = new Set([...dl.querySelectorAll('option')].map((o) => o.value));
    for (const v of values) if (v && !known.has(v)) dl.append(h('option', { value: v }));
  };
  fill(
    'models-list',
    models.map((m) => m.model),
  );
  fill(
    'namespaces-list',
    models.map((m) => m.namespace),
  );
}

// ---------------------------------------------------------------- live mode

async function startLive() {
  stopPolling();
  const gen = ++state.liveGen;
  if (!canFollow(state.filters)) {
    el.liveStatus.hidden = false;
    el.liveStatus.textContent = 'Live mode needs a window that reaches now (clear "To").';
    return;
  }
  el.liveStatus.hidden = false;
  el.liveStatus.textContent = '● Live: starting…';
  try {
    const start = await getJson('api/v1/exchanges', followParams(state.filters, FOLLOW_PAGE));
    if (gen !== state.liveGen) return;
    state.followCursor = start.nextCursor;
    el.liveStatus.textContent = '● Live — following new exchanges';
    schedulePoll(gen, POLL_MS);
  } catch (err) {
    if (gen !== state.liveGen) return;
    el.liveStatus.textContent = `● Live paused: ${err instanceof Error ? err.message : String(err)} Retrying…`;
    schedulePoll(gen, POLL_MS * 2, true);
  }
}

/** @param {number} gen @param {number} ms @param {boolean} [restart] */
function schedulePoll(gen, ms, restart = false) {
  stopPolling();
  state.pollTimer = window.setTimeout(() => (restart ? void startLive() : void poll(gen)), ms);
}

function stopPolling() {
  if (state.pollTimer) window.clearTimeout(state.pollTimer);
  state.pollTimer = 0;
}

/** @param {number} gen */
async function poll(gen) {
  if (gen !== state.liveGen || !state.live) return;
  // A hidden tab does not need updates; it catches up (from its cursor) when shown again.
  if (document.hidden) return schedulePoll(gen, POLL_MS);
  if (!state.followCursor) return void startLive();
  const params = followParams(state.filters, FOLLOW_PAGE);
  params.set('cursor', state.followCursor);
  let page;
  try {
    page = await getJson('api/v1/exchanges', params);
  } catch (err) {
    if (gen !== state.liveGen) return;
    el.liveStatus.textContent = `● Live paused: ${err instanceof Error ? err.message : String(err)} Retrying…`;
    return schedulePoll(gen, POLL_MS * 2);
  }
  if (gen !== state.liveGen || !state.live) return;
  state.followCursor = page.nextCursor;
  const added = list.upsert(page.items, state.cursor !== null && !state.trimmed);
  if (list.size > LIVE_MAX_ROWS && list.trim(LIVE_MAX_ROWS) > 0) state.trimmed = true;
  el.liveStatus.textContent =
    `● Live — checked ${formatTime(new Date().toISOString(), state.utc).slice(11, 19)}` +
    (added ? `, ${added} new` : '');
  if (page.items.length > 0) updateFooter();
  if (
    Date.now() - state.lastStats > LIVE_STATS_MS ||
    (added > 0 && Date.now() - state.lastStats > POLL_MS * 2)
  )
    void loadStats();
  // A full page means more is waiting: fetch it right away.
  schedulePoll(gen, page.items.length >= FOLLOW_PAGE ? 0 : POLL_MS);
}

/** @param {boolean} on */
function setLive(on) {
  state.live = on;
  el.live.checked = on;
  // Announcing the row count every 2 s would drown a screen reader: quiet while live.
  el.listStatus.setAttribute('aria-live', on ? 'off' : 'polite');
  // Reload so the follow position is taken before the page is read (no gap between them).
  if (on) void reload();
  else {
    state.liveGen++;
    stopPolling();
    el.liveStatus.hidden = true;
  }
}

// ---------------------------------------------------------------- detail

/** @param {string} id */
async function showDetail(id) {
  el.listView.hidden = true;
  el.detailView.hidden = false;
  el.detailError.hidden = true;
  state.lastOpenedId = id;
  state.detailAbort?.abort();
  const ac = new AbortController();
  state.detailAbort = ac;
  el.detailBody.replaceChildren(h('p', { class: 'muted' }, 'Loading exchange…'));
  document.title = `Exchange ${id} · inferlog`;
  try {
    const ex = await getJson(`api/v1/exchanges/${encodeURIComponent(id)}`, undefined, ac.signal);
    el.detailBody.replaceChildren(...renderDetail(ex, { utc: state.utc, backHref: listHref() }));
    document.title = `${ex.model || 'exchange'} ${ex.status ?? ''} · inferlog`;
  } catch (err) {
    if (isAbort(err)) return;
    el.detailBody.replaceChildren(
      h('p', {}, h('a', { class: 'btn', href: listHref(), 'data-back': '' }, '← Back to list')),
    );
    showError(el.detailError, err, 'load this exchange');
  }
  $('detail-title')?.focus();
}

function showList() {
  state.detailAbort?.abort();
  el.detailView.hidden = true;
  el.listView.hidden = false;
  document.title = 'inferlog';
}

function backToList() {
  if (state.cameFromList) history.back();
  else location.hash = listHref();
}

// ---------------------------------------------------------------- routing

function route() {
  const hash = location.hash || '#/';
  const m = /^#\/exchange\/([^?]+)/.exec(hash);
  if (m) {
    let id;
    try {
      id = decodeURIComponent(/** @type {string} */ (m[1]));
    } catch {
      id = /** @type {string} */ (m[1]);
    }
    void showDetail(id);
    return;
  }
  const wasDetail = !el.detailView.hidden;
  state.cameFromList = false;
  showList();
  const f = filtersFromQuery(hash.startsWith('#/?') ? hash.slice(3) : '');
  if (!state.loaded || !sameFilters(f, state.filters)) {
    state.filters = f;
    fillForm(f);
    void reload();
  } else if (wasDetail) {
    // Back from a detail: the list is as it was; put focus back on the row that was opened.
    const row = [...el.rows.rows].find((r) => r.dataset.id === state.lastOpenedId);
    /** @type {HTMLAnchorElement | null | undefined} */ (row?.querySelector('a.row-link'))?.focus();
  }
}

// ---------------------------------------------------------------- keyboard

/** @param {number} delta */
function moveRow(delta) {
  const links = /** @type {HTMLAnchorElement[]} */ ([...el.rows.querySelectorAll('a.row-link')]);
  if (links.length === 0) return;
  const i = links.indexOf(/** @type {HTMLAnchorElement} */ (document.activeElement));
  const next =
    i === -1 ? (delta > 0 ? 0 : links.length - 1) : Math.min(links.length - 1, Math.max(0, i + delta));
  links[next]?.focus();
  links[next]?.closest('tr')?.scrollIntoView({ block: 'nearest' });
}

/** @param {KeyboardEvent} e */
function onKey(e) {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  const t = /** @type {HTMLElement} */ (e.target);
  const typing = t.matches('input, select, textarea, [contenteditable]');
  if (e.key === 'Escape') {
    if (typing && t === el.q) return void el.q.blur();
    if (!el.detailView.hidden && !el.keys.open) {
      e.preventDefault();
      backToList();
    }
    return;
  }
  if (typing) return;
  const inList = !el.listView.hidden;
  const onRow = t.matches('a.row-link');
  switch (e.key) {
    case '/':
      if (!inList) return;
      e.preventDefault();
      el.q.focus();
      el.q.select();
      break;
    case 'j':
    case 'k':
      if (!inList) return;
      e.preventDefault();
      moveRow(e.key === 'j' ? 1 : -1);
      break;
    case 'ArrowDown':
    case 'ArrowUp':
      if (!onRow) return;
      e.preventDefault();
      moveRow(e.key === 'ArrowDown' ? 1 : -1);
      break;
    case 'l':
      if (!inList) return;
      setLive(!state.live);
      break;
    case 'r':
      if (inList) void reload();
      else route();
      break;
    case '?':
      el.keys.showModal();
      break;
  }
}

// ---------------------------------------------------------------- wiring

function init() {
  fillSelects();
  el.utc.checked = state.utc;
  el.form.addEventListener('submit', (e) => {
    e.preventDefault();
    navigateList(readForm());
  });
  el.status.addEventListener('change', () => navigateList(readForm()));
  el.range.addEventListener('change', () => {
    const custom = el.range.value === 'custom';
    showCustomRange(custom);
    if (custom) {
      // Start the custom range from the window that was shown, so Apply changes nothing yet.
      if (!el.from.value)
        el.from.value = toInputTime(parseTime(state.win.since ?? null) ?? Date.now() - 3_600_000, state.utc);
      el.from.focus();
    } else navigateList(readForm());
  });
  $('reset').addEventListener('click', () => navigateList(defaultFilters()));
  el.live.addEventListener('change', () => setLive(el.live.checked));
  el.more.addEventListener('click', () => void loadMore());
  el.utc.addEventListener('change', () => {
    state.utc = el.utc.checked;
    localStorage.setItem('inferlog.utc', state.utc ? '1' : '0');
    fillForm(state.filters);
    list.rerender();
    updateFooter();
    if (!el.detailView.hidden) route();
  });
  $('keys-btn').addEventListener('click', () => el.keys.showModal());
  // A click anywhere on a row opens it (the time cell holds the real link for keyboards),
  // unless the user was selecting text to copy.
  el.rows.addEventListener('click', (e) => {
    const t = /** @type {HTMLElement} */ (e.target);
    if (t.closest('a')) return;
    const sel = window.getSelection();
    if (sel && sel.toString().length > 0) return;
    const link = /** @type {HTMLAnchorElement | null} */ (
      t.closest('tr')?.querySelector('a.row-link') ?? null
    );
    if (link) link.click();
  });
  el.rows.addEventListener(
    'click',
    (e) => {
      if (/** @type {HTMLElement} */ (e.target).closest('a.row-link')) state.cameFromList = true;
    },
    true,
  );
  el.detailView.addEventListener('click', (e) => {
    if (/** @type {HTMLElement} */ (e.target).closest('[data-back]')) {
      e.preventDefault();
      backToList();
    }
  });
  document.addEventListener('keydown', onKey);
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && state.live && state.pollTimer) schedulePoll(state.liveGen, 0);
  });
  window.addEventListener('hashchange', route);
  void getJson('healthz')
    .then((hz) => {
      if (hz && typeof hz.store === 'string') $('collector-info').textContent = `store: ${hz.store}`;
    })
    .catch(() => undefined);
  route();
}

init();
