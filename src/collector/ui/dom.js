// @ts-check
/* global document, window, navigator, Node */
/**
 * Element builder. The UI never parses HTML: every piece of text (model names, bodies,
 * header values, error messages) reaches the page through text nodes, so a body holding
 * `<script>` or `<img onerror>` is shown as characters and never runs.
 */

/**
 * h('a', { href: '#/', class: 'x', onclick: fn }, 'text', child) → HTMLAnchorElement.
 * Props: `class`, `text`, `dataset`, `on<event>`; anything else becomes an attribute
 * (`true` → empty attribute; `false`/`null`/`undefined` → left out). Never pass `style`
 * (the page's Content-Security-Policy forbids style attributes; use classes or el.style).
 * @param {string} tag
 * @param {Record<string, unknown>} [props]
 * @param {...(Node|string|number|null|undefined|false|Array<Node|string|number|null|undefined|false>)} children
 * @returns {HTMLElement}
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = String(v);
    else if (k === 'text') el.textContent = String(v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on') && typeof v === 'function')
      el.addEventListener(k.slice(2), /** @type {EventListener} */ (v));
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

/** @param {Element} el @param {unknown[]} children */
function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

/** Removes every child of `el`. @param {Element} el */
export function clear(el) {
  el.replaceChildren();
}

/**
 * Copies text to the clipboard. navigator.clipboard needs a secure context (https or
 * localhost); a collector reached over plain http on a cluster address is not one, so fall
 * back to the old selection-based copy.
 * @param {string} text
 * @returns {Promise<boolean>}
 */
export async function copyText(text) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // fall through to the selection-based copy
  }
  const ta = /** @type {HTMLTextAreaElement} */ (
    h('textarea', { class: 'offscreen', readonly: true, 'aria-hidden': 'true' })
  );
  ta.value = text;
  document.body.append(ta);
  ta.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  ta.remove();
  return ok;
}

/**
 * A button that copies `getText()` and says so for a moment (also to screen readers).
 * @param {string} label
 * @param {() => string} getText
 */
export function copyButton(label, getText) {
  const btn = h('button', { type: 'button', class: 'btn small' }, label);
  btn.addEventListener('click', async () => {
    const ok = await copyText(getText());
    btn.textContent = ok ? 'Copied' : 'Copy failed';
    setTimeout(() => (btn.textContent = label), 1500);
  });
  return btn;
}
