// @ts-check
/**
 * A JSON body as a foldable tree: every object and array is a <details>, so folding needs no
 * script and works with the keyboard. Tokens are shown verbatim (64-bit ids, 1.0 stay as sent).
 *
 *   text ──tokenize──▶ tokens ──parse──▶ nodes ──render──▶ <div class="json-tree"> lines
 *
 * With a search, the path to every match is open and everything else is folded, so the match
 * is on screen. Without one, small bodies open fully and large ones two levels deep.
 * The tree's textContent is the pretty-printed text (a closed node's "… 3 keys }" is CSS).
 */
import { h } from './dom.js';
import { tokenize } from './format.js';
import { highlight, matches } from './highlight.js';

/**
 * @typedef {import('./format.js').JsonToken} JsonToken
 * @typedef {{ k: 'lit', tok: JsonToken }
 *   | { k: 'obj', entries: Array<{ key: JsonToken, value: Node }> }
 *   | { k: 'arr', items: Node[] }} Node
 */

/** Bodies with more tokens than this open only two levels deep. */
const OPEN_ALL_TOKENS = 3000;

/** @param {JsonToken[]} toks @returns {Node} */
function parse(toks) {
  let i = 0;
  /** @returns {Node} */
  const value = () => {
    const t = /** @type {JsonToken} */ (toks[i++]);
    if (t.t === '{') {
      /** @type {Array<{ key: JsonToken, value: Node }>} */
      const entries = [];
      while (toks[i] && toks[i]?.t !== '}') {
        const key = /** @type {JsonToken} */ (toks[i++]);
        i++; // ':'
        entries.push({ key, value: value() });
        if (toks[i]?.t === ',') i++;
      }
      i++;
      return { k: 'obj', entries };
    }
    if (t.t === '[') {
      /** @type {Node[]} */
      const items = [];
      while (toks[i] && toks[i]?.t !== ']') {
        items.push(value());
        if (toks[i]?.t === ',') i++;
      }
      i++;
      return { k: 'arr', items };
    }
    return { k: 'lit', tok: t };
  };
  return value();
}

/** @param {Node} n @param {string} q @returns {boolean} */
function subtreeMatches(n, q) {
  if (n.k === 'lit') return matches(n.tok.v, q);
  if (n.k === 'arr') return n.items.some((x) => subtreeMatches(x, q));
  return n.entries.some((e) => matches(e.key.v, q) || subtreeMatches(e.value, q));
}

/** @param {JsonToken} tok */
const litClass = (tok) => (tok.t === 'str' ? 'j-str' : tok.t === 'num' ? 'j-num' : 'j-lit');

/**
 * @param {string} text  valid JSON
 * @param {string} q     search text ('' for none)
 * @returns {HTMLElement}
 */
export function renderJsonTree(text, q) {
  const toks = tokenize(text.trim());
  const root = parse(toks);
  const openAll = toks.length <= OPEN_ALL_TOKENS;

  /**
   * @param {Node} n @param {number} depth @param {Array<string|HTMLElement>} prefix
   * @param {string} suffix  ',' or '' @param {boolean} last  the very last line (no newline)
   * @returns {HTMLElement}
   */
  const render = (n, depth, prefix, suffix, last) => {
    const pad = '  '.repeat(depth);
    const end = last ? '' : '\n';
    if (n.k === 'lit')
      return h(
        'div',
        { class: 'jl' },
        pad,
        prefix,
        h('span', { class: litClass(n.tok) }, highlight(n.tok.v, q)),
        h('span', { class: 'j-p' }, suffix),
        end,
      );
    const [open, close] = n.k === 'obj' ? ['{', '}'] : ['[', ']'];
    const size = n.k === 'obj' ? n.entries.length : n.items.length;
    if (size === 0)
      return h('div', { class: 'jl' }, pad, prefix, h('span', { class: 'j-p' }, open + close + suffix), end);
    // Arrays of scalars (tensors) stay on one line.
    if (n.k === 'arr' && n.items.every((x) => x.k === 'lit')) {
      /** @type {Array<string|HTMLElement>} */
      const parts = [];
      n.items.forEach((x, j) => {
        if (j > 0) parts.push(h('span', { class: 'j-p' }, ', '));
        if (x.k === 'lit') parts.push(h('span', { class: litClass(x.tok) }, highlight(x.tok.v, q)));
      });
      return h(
        'div',
        { class: 'jl' },
        pad,
        prefix,
        h('span', { class: 'j-p' }, open),
        parts,
        h('span', { class: 'j-p' }, close + suffix),
        end,
      );
    }
    const isOpen = depth === 0 || (q ? subtreeMatches(n, q) : openAll || depth < 2);
    const summary = h(
      'summary',
      {
        class: 'jl',
        'data-sum': ` … ${size} ${n.k === 'obj' ? (size === 1 ? 'key' : 'keys') : size === 1 ? 'item' : 'items'} ${close}${suffix}`,
      },
      pad,
      prefix,
      h('span', { class: 'j-p' }, open),
      h('span', { class: 'nl' }, '\n'),
    );
    const kids = h('div', { class: 'jkids' });
    if (n.k === 'obj')
      n.entries.forEach((e, j) =>
        kids.append(
          render(
            e.value,
            depth + 1,
            [h('span', { class: 'j-key' }, highlight(e.key.v, q)), h('span', { class: 'j-p' }, ': ')],
            j < size - 1 ? ',' : '',
            false,
          ),
        ),
      );
    else n.items.forEach((x, j) => kids.append(render(x, depth + 1, [], j < size - 1 ? ',' : '', false)));
    const closeLine = h('div', { class: 'jl jclose' }, pad, h('span', { class: 'j-p' }, close + suffix), end);
    return h('details', { class: 'jn', open: isOpen }, summary, kids, closeLine);
  };
  return h('div', { class: 'json-tree' }, render(root, 0, [], '', true));
}

/** Opens (true) or folds (false) every node below the root. @param {HTMLElement} tree @param {boolean} open */
export function setAllOpen(tree, open) {
  const all = /** @type {HTMLDetailsElement[]} */ ([...tree.querySelectorAll('details.jn')]);
  all.forEach((d, i) => (d.open = i === 0 || open));
}
