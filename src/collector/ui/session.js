// @ts-check
/* global localStorage */
/** The UI's mutable state, shared by the controllers (list, live mode, router). */
import { createListView } from './list-view.js';
import { el } from './elements.js';
import { defaultFilters } from './state.js';

export const PAGE = 50;
export const FOLLOW_PAGE = 200;
export const POLL_MS = 2000;
export const LIVE_STATS_MS = 10_000;
/** Live mode keeps at most this many rows; older ones drop off the bottom. */
export const LIVE_MAX_ROWS = 1000;

export const state = {
  filters: defaultFilters(),
  /** since/until of the current listing, resolved once (see windowOf). */
  win: /** @type {{ since?: string, until?: string }} */ ({}),
  cursor: /** @type {string | null} */ (null),
  loaded: false,
  listAbort: /** @type {AbortController | null} */ (null),
  statsAbort: /** @type {AbortController | null} */ (null),
  chartAbort: /** @type {AbortController | null} */ (null),
  /** The last chart answer (redrawn when the window is resized). */
  lastSeries: /** @type {import('./chart.js').TimeSeries | null} */ (null),
  /** Trace link template from the collector (`{traceId}` is replaced), when it has one. */
  traceUrl: '',
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

export const list = createListView(el.rows, { utc: () => state.utc, q: () => state.filters.q });
