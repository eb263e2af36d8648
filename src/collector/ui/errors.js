// @ts-check
/** API errors shown inline, with the form field at fault marked invalid. */
import { ApiError } from './api.js';
import { h } from './dom.js';
import { el } from './elements.js';
import { state } from './session.js';

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
export function showError(box, err, what) {
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

export function clearListError() {
  el.listError.hidden = true;
  el.listError.replaceChildren();
  for (const f of el.form.querySelectorAll('[aria-invalid]')) {
    f.removeAttribute('aria-invalid');
    f.removeAttribute('aria-describedby');
  }
}
