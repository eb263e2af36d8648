// @ts-check
/* global document, location */
/** The filter form ⇄ Filters, and navigation to a listing (filters live in the URL hash). */
import { h } from './dom.js';
import { el } from './elements.js';
import { fromInputTime, parseTime, toInputTime } from './format.js';
import { route } from './router.js';
import { state } from './session.js';
import { defaultFilters, filtersToQuery, RANGES, STATUSES } from './state.js';

export function fillSelects() {
  for (const [value, label] of STATUSES) el.status.append(h('option', { value }, label));
  for (const [value, label] of RANGES) el.range.append(h('option', { value }, label));
}

/** @param {import('./state.js').Filters} f */
export function fillForm(f) {
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
export function showCustomRange(on) {
  for (const node of document.querySelectorAll('.custom-range'))
    /** @type {HTMLElement} */ (node).hidden = !on;
}

/** @returns {import('./state.js').Filters} */
export function readForm() {
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
export function navigateList(f) {
  const q = filtersToQuery(f);
  const hash = q ? `#/?${q}` : '#/';
  if (location.hash === hash || (hash === '#/' && location.hash === '')) route();
  else location.hash = hash;
}

export function listHref() {
  const q = filtersToQuery(state.filters);
  return q ? `#/?${q}` : '#/';
}
