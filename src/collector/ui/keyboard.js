// @ts-check
/* global document */
/** Keyboard shortcuts (the dialog in index.html lists them). */
import { el } from './elements.js';
import { setLive } from './live.js';
import { reload } from './list-controller.js';
import { backToList, route } from './router.js';
import { state } from './session.js';

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
export function onKey(e) {
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
