// @ts-check
/* global document, location, history, URLSearchParams */
/**
 * Routes and the detail screen.
 *
 *   #/?filters       ──▶ list (reloaded when the filters changed)
 *   #/exchange/<id>  ──▶ detail: GET api/v1/exchanges/<id>  (`?q=` highlights the search)
 */
import { getJson, isAbort } from './api.js';
import { renderDetail, renderInstances } from './detail-view.js';
import { h } from './dom.js';
import { $, el } from './elements.js';
import { showError } from './errors.js';
import { fillForm, listHref } from './filters-form.js';
import { reload } from './list-controller.js';
import { state } from './session.js';
import { filtersFromQuery, sameFilters } from './state.js';

/** @param {string} id @param {string} q  search text to highlight */
async function showDetail(id, q) {
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
    el.detailBody.replaceChildren(
      ...renderDetail(ex, { utc: state.utc, backHref: listHref(), q, traceUrl: state.traceUrl }),
    );
    document.title = `${ex.model || 'exchange'} ${ex.status ?? ''} · inferlog`;
    void showInstances(ex.key ?? id, ac.signal);
  } catch (err) {
    if (isAbort(err)) return;
    el.detailBody.replaceChildren(
      h('p', {}, h('a', { class: 'btn', href: listHref(), 'data-back': '' }, '← Back to list')),
    );
    showError(el.detailError, err, 'load this exchange');
  }
  $('detail-title')?.focus();
}

/**
 * The exchange's instance rows, under its bodies, once they arrive. Optional: an exchange without
 * rows, or a collector without the route, shows the detail as before.
 * @param {string} key @param {AbortSignal} signal
 */
async function showInstances(key, signal) {
  let items;
  try {
    items = (await getJson(`api/v1/exchanges/${encodeURIComponent(key)}/instances`, undefined, signal)).items;
  } catch {
    return;
  }
  const section = renderInstances(items);
  if (!section || signal.aborted) return;
  const facts = el.detailBody.querySelector('.more-facts');
  if (facts) facts.before(section);
  else el.detailBody.append(section);
}

function showList() {
  state.detailAbort?.abort();
  el.detailView.hidden = true;
  el.listView.hidden = false;
  document.title = 'inferlog';
}

export function backToList() {
  if (state.cameFromList) history.back();
  else location.hash = listHref();
}

export function route() {
  const hash = location.hash || '#/';
  const m = /^#\/exchange\/([^?]+)(?:\?(.*))?$/.exec(hash);
  if (m) {
    let id;
    try {
      id = decodeURIComponent(/** @type {string} */ (m[1]));
    } catch {
      id = /** @type {string} */ (m[1]);
    }
    void showDetail(id, new URLSearchParams(m[2] ?? '').get('q') ?? '');
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
