// @ts-check
/* global document, window */
/**
 * Live mode: follows new exchanges with the store's sequence cursor, every 2 s.
 *
 *   startLive ──GET …?follow=true──▶ cursor ──poll (2 s)──▶ rows upserted, stats refreshed
 */
import { getJson } from './api.js';
import { el } from './elements.js';
import { formatTime } from './format.js';
import { loadChart, loadStats, reload, updateFooter } from './list-controller.js';
import { FOLLOW_PAGE, LIVE_MAX_ROWS, LIVE_STATS_MS, list, POLL_MS, state } from './session.js';
import { canFollow, followParams } from './state.js';

export async function startLive() {
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
export function schedulePoll(gen, ms, restart = false) {
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
    void (loadStats(), loadChart());
  // A full page means more is waiting: fetch it right away.
  schedulePoll(gen, page.items.length >= FOLLOW_PAGE ? 0 : POLL_MS);
}

/** @param {boolean} on */
export function setLive(on) {
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
