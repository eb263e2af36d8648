// @ts-check
/* global document */
/**
 * The list screen: the page of exchanges, "load more", the stats strip and the chart.
 *
 *   filters ──reload()──▶ GET api/v1/exchanges (page) + GET api/v1/stats + GET api/v1/timeseries
 *   chart drag ──▶ custom range ──navigateList──▶ URL ──▶ reload()
 */
import { getJson, isAbort } from './api.js';
import { drawChart } from './chart.js';
import { h } from './dom.js';
import { $, el } from './elements.js';
import { clearListError, showError } from './errors.js';
import { navigateList } from './filters-form.js';
import { formatCount, formatTime } from './format.js';
import { startLive } from './live.js';
import { LIVE_MAX_ROWS, list, PAGE, state } from './session.js';
import { defaultFilters, listParams, RANGES, sameFilters, statsParams, windowOf } from './state.js';
import { renderStats } from './stats-view.js';

export async function reload() {
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
  void loadChart();
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

export async function loadMore() {
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

export function updateFooter() {
  const n = list.size;
  const hasMore = state.cursor !== null && !state.trimmed;
  el.more.hidden = !hasMore;
  if (n === 0 && el.listError.hidden) {
    el.listStatus.textContent = '';
    el.empty.replaceChildren(
      h('p', {}, `No exchanges match these filters ${rangeText()}.`),
      h(
        'p',
        {},
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
      ),
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

export async function loadStats() {
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

/** The chart over the window (the same filters as the stats: everything but the body search). */
export async function loadChart() {
  state.chartAbort?.abort();
  const ac = new AbortController();
  state.chartAbort = ac;
  const win = state.live ? windowOf(state.filters, Date.now()) : state.win;
  try {
    const ts = await getJson('api/v1/timeseries', statsParams(state.filters, win), ac.signal);
    state.lastSeries = ts;
    drawChart(el.chart, ts, { utc: state.utc, onBrush: zoomTo });
  } catch (err) {
    if (isAbort(err)) return;
    const box = h('p', { class: 'error small', id: 'chart-error' });
    showError(box, err, 'load the chart');
    el.chart.replaceChildren(box);
  }
}

/** Brush zoom: the dragged range becomes a custom range (in the URL, so it can be shared). @param {number} fromMs @param {number} toMs */
export function zoomTo(fromMs, toMs) {
  navigateList({
    ...state.filters,
    range: 'custom',
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
  });
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
