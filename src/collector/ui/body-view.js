// @ts-check
/* global Blob */
/**
 * One half of an exchange (request or response) in the detail view: its facts and its body.
 *
 *   half { body, bodyEncoding: utf8 } ──JSON?──▶ foldable tree (tokens kept verbatim) ⇄ raw toggle
 *                                      └─────▶ text, search matches highlighted
 *   half { body, bodyEncoding: base64 } ──────▶ hex dump ⇄ base64 toggle
 *
 * Bodies go into <pre> elements as text nodes only. Very large bodies are shown up to a cap
 * (the browser stays responsive) with a button to show everything; copy and download always
 * use the whole body.
 */
import { copyButton, h } from './dom.js';
import { base64ToBytes, formatBytes, formatTime, hexDump, looksLikeJson, prettyJson } from './format.js';
import { highlight } from './highlight.js';
import { renderJsonTree, setAllOpen } from './json-tree.js';

const TEXT_SHOW_CAP = 256 * 1024;
const PRETTY_CAP = 4 * 1024 * 1024;
const HEX_CAP = 64 * 1024;

/**
 * @param {'request'|'response'} kind
 * @param {any} half  the API's half object with body/bodyEncoding, or null
 * @param {{ utc: boolean, id: string, q: string }} opts
 */
export function renderHalf(kind, half, opts) {
  const title = kind === 'request' ? 'Request' : 'Response';
  const sec = h(
    'section',
    { class: 'half', 'aria-labelledby': `h-${kind}` },
    h('h3', { id: `h-${kind}` }, title),
  );
  if (!half) {
    sec.append(
      h(
        'p',
        { class: 'muted' },
        kind === 'request'
          ? 'No request half was received for this exchange.'
          : 'No response half was received (yet). KServe only logs responses with status 200; inferlog logs all.',
      ),
    );
    return sec;
  }
  const facts = h('dl', { class: 'facts' });
  const fact = (/** @type {string} */ k, /** @type {string|Node} */ v) =>
    facts.append(h('dt', {}, k), h('dd', {}, v));
  fact('Content type', half.contentType ?? '—');
  fact('Size', `${formatBytes(half.size)} (${half.size} bytes)`);
  if (half.time)
    fact('Time', h('time', { datetime: half.time, title: half.time }, formatTime(half.time, opts.utc)));
  if (half.recordedTime)
    fact(
      'Recorded',
      h(
        'time',
        { datetime: half.recordedTime, title: half.recordedTime },
        formatTime(half.recordedTime, opts.utc),
      ),
    );
  fact('Event type', half.type ?? '—');
  sec.append(facts);

  if (half.truncated) {
    sec.append(
      h(
        'p',
        { class: 'notice', role: 'note' },
        h('strong', {}, 'Truncated: '),
        `only the first ${formatBytes(half.size)} were captured`,
        half.originalSize !== null && half.originalSize !== undefined
          ? ` of ${formatBytes(half.originalSize)} (${half.originalSize} bytes)`
          : '',
        '.',
        half.sha256
          ? h('span', { class: 'sha' }, ' sha256 of the whole body: ', h('code', {}, half.sha256))
          : '',
      ),
    );
  } else if (half.sha256) {
    sec.append(h('p', { class: 'muted' }, 'sha256: ', h('code', {}, half.sha256)));
  }
  sec.append(renderBody(kind, half, opts.id, opts.q));
  return sec;
}

/** Streaming facts (SSE / chunked responses), when the collector reports them. @param {any} s */
export function renderStream(s) {
  const dl = h('dl', { class: 'facts' });
  const fact = (/** @type {string} */ k, /** @type {unknown} */ v) => {
    if (v !== undefined && v !== null && v !== '') dl.append(h('dt', {}, k), h('dd', {}, String(v)));
  };
  fact('Chunks', s.chunks);
  fact('Time to first byte', typeof s.ttfbMs === 'number' ? `${s.ttfbMs.toFixed(1)} ms` : undefined);
  fact('Time to last byte', typeof s.ttlbMs === 'number' ? `${s.ttlbMs.toFixed(1)} ms` : undefined);
  fact('Finished', s.partial ? `no — ${s.reason ?? 'stream ended early'}` : 'yes');
  if (s.usage) {
    fact('Prompt tokens', s.usage.promptTokens);
    fact('Completion tokens', s.usage.completionTokens);
    fact('Total tokens', s.usage.totalTokens);
  }
  const box = h('div', { class: 'stream' }, h('h4', {}, 'Stream'), dl);
  if (typeof s.assembledText === 'string')
    box.append(h('h4', {}, 'Assembled text'), h('pre', { class: 'body' }, s.assembledText));
  return box;
}

/**
 * @param {string} kind
 * @param {any} half
 * @param {string} id  exchange id, for the download file name
 * @param {string} q  search text to highlight
 */
function renderBody(kind, half, id, q) {
  const wrap = h('div', { class: 'body-wrap' });
  const toolbar = h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': `${kind} body actions` });
  let pre = h('pre', { class: 'body', tabindex: '0', 'aria-label': `${kind} body` });
  const note = h('p', { class: 'muted small' });
  wrap.append(toolbar, pre, note);
  const body = typeof half.body === 'string' ? half.body : '';

  if (half.size === 0 || body === '') {
    pre.classList.add('empty');
    pre.append('(empty body)');
    return wrap;
  }

  if (half.bodyEncoding === 'base64') {
    const bytes = base64ToBytes(body);
    /** @type {'hex'|'base64'} */
    let mode = 'hex';
    const toggle = h('button', { type: 'button', class: 'btn small', 'aria-pressed': 'false' }, 'Base64');
    const show = () => {
      pre.replaceChildren();
      if (mode === 'hex') {
        pre.append(hexDump(bytes, HEX_CAP));
        note.textContent =
          `Binary body, ${formatBytes(bytes.length)}` +
          (bytes.length > HEX_CAP ? `; hex dump of the first ${formatBytes(HEX_CAP)}.` : '.');
      } else {
        pre.append(body.length > TEXT_SHOW_CAP ? body.slice(0, TEXT_SHOW_CAP) + '…' : body);
        note.textContent =
          `Base64 of ${formatBytes(bytes.length)}` +
          (body.length > TEXT_SHOW_CAP ? ' (shown in part; Copy and Download take all).' : '.');
      }
      toggle.setAttribute('aria-pressed', String(mode === 'base64'));
    };
    toggle.addEventListener('click', () => {
      mode = mode === 'hex' ? 'base64' : 'hex';
      show();
    });
    toolbar.append(
      toggle,
      copyButton('Copy base64', () => body),
      downloadLink(bytes, `${id}-${kind}.bin`),
    );
    show();
    return wrap;
  }

  // UTF-8 text: JSON as a foldable tree (pretty text when copied), anything else as text.
  const segs = looksLikeJson(half.contentType, body) && body.length <= PRETTY_CAP ? prettyJson(body) : null;
  let pretty = segs !== null;
  let showAll = false;
  /** @type {HTMLElement | null} */
  let tree = null;
  const rawBtn = h('button', { type: 'button', class: 'btn small', 'aria-pressed': 'false' }, 'Raw');
  const expandBtn = h('button', { type: 'button', class: 'btn small' }, 'Expand all');
  const foldBtn = h('button', { type: 'button', class: 'btn small' }, 'Fold all');
  const allBtn = h('button', { type: 'button', class: 'btn small' }, `Show all ${formatBytes(body.length)}`);
  const prettyText = () => (segs ? segs.map((s) => s[1]).join('') : body);
  const show = () => {
    const text = pretty ? prettyText() : body;
    const cut = !showAll && text.length > TEXT_SHOW_CAP;
    if (pretty && !cut) {
      tree ??= renderJsonTree(body, q);
      tree.classList.add('body');
      tree.setAttribute('tabindex', '0');
      tree.setAttribute('aria-label', `${kind} body`);
      pre.replaceWith(tree);
      pre = tree;
    } else {
      const p = h('pre', { class: 'body', tabindex: '0', 'aria-label': `${kind} body` });
      p.append(...highlight(cut ? text.slice(0, TEXT_SHOW_CAP) : text, q));
      pre.replaceWith(p);
      pre = p;
    }
    expandBtn.hidden = foldBtn.hidden = !(pretty && !cut);
    allBtn.hidden = !cut;
    rawBtn.setAttribute('aria-pressed', String(!pretty));
    note.textContent = cut
      ? `Showing the first ${formatBytes(TEXT_SHOW_CAP)} of ${formatBytes(text.length)}.`
      : '';
  };
  rawBtn.addEventListener('click', () => {
    pretty = !pretty;
    show();
  });
  expandBtn.addEventListener('click', () => tree && setAllOpen(tree, true));
  foldBtn.addEventListener('click', () => tree && setAllOpen(tree, false));
  allBtn.addEventListener('click', () => {
    showAll = true;
    show();
  });
  if (segs) toolbar.append(rawBtn, expandBtn, foldBtn);
  toolbar.append(
    copyButton('Copy', () => (pretty ? prettyText() : body)),
    downloadLink(new TextEncoder().encode(body), `${id}-${kind}${segs ? '.json' : '.txt'}`),
    allBtn,
  );
  show();
  return wrap;
}

/**
 * A download link for the exact body bytes (an object URL: no request to the collector).
 * The Blob is always application/octet-stream: the stored content type is whatever the client
 * sent, and a `text/html` blob opened in a tab would run its script in the collector's origin.
 * @param {Uint8Array} bytes @param {string} name
 */
function downloadLink(bytes, name) {
  const a = h('a', { class: 'btn small', download: name.replace(/[^\w.-]+/g, '_'), href: '#' }, 'Download');
  a.addEventListener('click', () => {
    const url = URL.createObjectURL(
      new Blob([/** @type {BlobPart} */ (bytes)], { type: 'application/octet-stream' }),
    );
    a.setAttribute('href', url);
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  });
  return a;
}
