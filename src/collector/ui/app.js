// @ts-check
/* global document, window, localStorage */
/**
 * The web UI's entry point: wires the page's controls to the controllers.
 *
 *   URL hash ──route()──▶ #/?filters      ──▶ list-controller: exchanges page + stats + chart
 *                        │                   live.js: GET …?follow=true&cursor=… every 2 s
 *                        └─▶ #/exchange/<id> ──▶ router: detail (detail-view, body-view)
 *   any API answer 401 ──▶ signin.js: paste a token or sign in with SSO (oidc.js) ──▶ route() again
 *
 * Every request is bounded (a page, a stats summary, a chart, one exchange), so the UI behaves
 * the same with ten stored exchanges or a million. A newer request aborts the older one.
 */
import { getJson } from './api.js';
import { $, el } from './elements.js';
import { fillForm, fillSelects, navigateList, readForm, showCustomRange } from './filters-form.js';
import { parseTime, toInputTime } from './format.js';
import { onKey } from './keyboard.js';
import { setLive, schedulePoll } from './live.js';
import { drawChart } from './chart.js';
import { loadMore, updateFooter, zoomTo } from './list-controller.js';
import { backToList, route } from './router.js';
import { list, state } from './session.js';
import { defaultFilters } from './state.js';
import { finishSso } from './oidc.js';
import { initSignIn, showSignIn, showSignInError } from './signin.js';

async function init() {
  // Back from the identity provider? Exchange the code (and strip it from the URL) first.
  let ssoProblem = '';
  try {
    await finishSso();
  } catch (err) {
    ssoProblem = err instanceof Error ? err.message : String(err);
  }
  initSignIn(route);
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
    if (state.lastSeries) drawChart(el.chart, state.lastSeries, { utc: state.utc, onBrush: zoomTo });
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
  // The chart is drawn to the page's width: redraw it when that changes.
  let resizeTimer = 0;
  window.addEventListener('resize', () => {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(() => {
      if (state.lastSeries && !el.listView.hidden)
        drawChart(el.chart, state.lastSeries, { utc: state.utc, onBrush: zoomTo });
    }, 150);
  });
  void getJson('healthz')
    .then((hz) => {
      if (hz && typeof hz.store === 'string') $('collector-info').textContent = `store: ${hz.store}`;
      // A trace link template (`https://tempo.example/trace/{traceId}`), when the collector has one.
      const t = hz?.ui?.traceUrl ?? hz?.traceUrl;
      if (typeof t === 'string' && /^https?:\/\//i.test(t)) state.traceUrl = t;
    })
    .catch(() => undefined);
  if (ssoProblem) {
    showSignIn();
    showSignInError(`Sign-in with SSO failed: ${ssoProblem}`);
    return;
  }
  route();
}

void init();
