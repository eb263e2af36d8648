// @ts-check
/* global document */
/** The page's fixed elements (index.html), looked up once. */

export const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
export const el = {
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
  chart: $('chart'),
  rows: /** @type {HTMLTableSectionElement} */ ($('rows')),
  table: $('results'),
  empty: $('empty'),
  more: /** @type {HTMLButtonElement} */ ($('load-more')),
  keys: /** @type {HTMLDialogElement} */ ($('keys')),
};
