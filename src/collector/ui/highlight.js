// @ts-check
/**
 * Search matches, shown: `highlight('a Foo b', 'foo')` → ['a ', <mark>Foo</mark>, ' b'].
 * Case-insensitive, like the API's `q`. Text only ever becomes text nodes.
 */
import { h } from './dom.js';

/** Above this many matches in one text, the rest stay plain (the page stays responsive). */
const MAX_MARKS = 500;

/**
 * @param {string} text
 * @param {string} q
 * @returns {Array<string | HTMLElement>}
 */
export function highlight(text, q) {
  if (!q) return [text];
  const hay = text.toLowerCase();
  const needle = q.toLowerCase();
  /** @type {Array<string | HTMLElement>} */
  const out = [];
  let at = 0;
  let marks = 0;
  for (let i = hay.indexOf(needle); i !== -1 && marks < MAX_MARKS; i = hay.indexOf(needle, at)) {
    if (i > at) out.push(text.slice(at, i));
    out.push(h('mark', {}, text.slice(i, i + needle.length)));
    at = i + needle.length;
    marks++;
  }
  if (at < text.length) out.push(text.slice(at));
  return out;
}

/** @param {string} text @param {string} q */
export function matches(text, q) {
  return q !== '' && text.toLowerCase().includes(q.toLowerCase());
}
