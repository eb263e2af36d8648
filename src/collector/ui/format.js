// @ts-check
/* global atob */
/**
 * Pure formatting helpers (no DOM): times, sizes, latency, status classes, hex dumps and a
 * JSON pretty-printer that keeps every token verbatim. Unit-tested in test/ui/format.test.ts.
 */

/**
 * Epoch ms of an RFC 3339 time. The API keeps KServe's nanosecond digits; Date.parse is only
 * specified for milliseconds, so the fraction is cut to 3 digits first.
 * @param {string | null | undefined} iso
 * @returns {number | null}
 */
export function parseTime(iso) {
  if (!iso) return null;
  const ms = Date.parse(iso.replace(/(\.\d{3})\d+/, '$1'));
  return Number.isFinite(ms) ? ms : null;
}

const pad = (/** @type {number} */ n, w = 2) => String(n).padStart(w, '0');

/**
 * `2026-08-21 10:15:30.001` in UTC or the browser's local zone.
 * @param {string | null | undefined} iso
 * @param {boolean} utc
 */
export function formatTime(iso, utc) {
  const ms = parseTime(iso);
  if (ms === null) return iso ?? '—';
  const d = new Date(ms);
  const [y, mo, da, h, mi, s, frac] = utc
    ? [
        d.getUTCFullYear(),
        d.getUTCMonth() + 1,
        d.getUTCDate(),
        d.getUTCHours(),
        d.getUTCMinutes(),
        d.getUTCSeconds(),
        d.getUTCMilliseconds(),
      ]
    : [
        d.getFullYear(),
        d.getMonth() + 1,
        d.getDate(),
        d.getHours(),
        d.getMinutes(),
        d.getSeconds(),
        d.getMilliseconds(),
      ];
  return `${y}-${pad(mo)}-${pad(da)} ${pad(h)}:${pad(mi)}:${pad(s)}.${pad(frac, 3)}`;
}

/**
 * The value for an <input type="datetime-local"> showing epoch `ms` (local or UTC wall clock).
 * @param {number} ms
 * @param {boolean} utc
 */
export function toInputTime(ms, utc) {
  return formatTime(new Date(ms).toISOString(), utc).slice(0, 16).replace(' ', 'T');
}

/**
 * Epoch ms of a datetime-local value read as local or UTC wall-clock time.
 * @param {string} value  `2026-08-21T10:15` (seconds optional)
 * @param {boolean} utc
 * @returns {number | null}
 */
export function fromInputTime(value, utc) {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d)(?:\.(\d{1,3}))?)?$/.exec(value);
  if (!m) return null;
  const [y, mo, d, h, mi, s = '0', f = '0'] = m.slice(1);
  const parts = /** @type {const} */ ([
    Number(y),
    Number(mo) - 1,
    Number(d),
    Number(h),
    Number(mi),
    Number(s),
    Number(f.padEnd(3, '0')),
  ]);
  return utc ? Date.UTC(...parts) : new Date(...parts).getTime();
}

/** `0.42 ms`, `11.0 ms`, `1.23 s`. @param {number | null | undefined} ms */
export function formatLatency(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

/** `59 B`, `1.5 KiB`, `16.0 MiB`. @param {number | null | undefined} n */
export function formatBytes(n) {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** `1,020` (grouping in the user's locale). Weighted counts can be fractional: rounded. @param {number} n */
export function formatCount(n) {
  return Math.round(n).toLocaleString();
}

/**
 * The colour class of an exchange, the same buckets the API's `status` filter knows.
 * @param {{ status: number | null, errorCode: string | null }} ex
 * @returns {'ok'|'info'|'redirect'|'client'|'server'|'error'|'incomplete'}
 */
export function statusClass(ex) {
  if (ex.errorCode || ex.status === 0) return 'error';
  if (ex.status === null || ex.status === undefined) return 'incomplete';
  if (ex.status >= 500) return 'server';
  if (ex.status >= 400) return 'client';
  if (ex.status >= 300) return 'redirect';
  if (ex.status >= 200) return 'ok';
  return 'info';
}

/**
 * Short status text for the list: `200`, `503`, `UPSTREAM_TIMEOUT`, `no response`, `pending`.
 * @param {{ status: number | null, errorCode: string | null }} ex
 */
export function statusLabel(ex) {
  if (ex.errorCode) return ex.status ? `${ex.status} ${ex.errorCode}` : ex.errorCode;
  if (ex.status === 0) return 'no response';
  if (ex.status === null || ex.status === undefined) return 'pending';
  return String(ex.status);
}

/** The colour class of a stats key (`200`, `4xx`, `error`, `incomplete`). @param {string} key */
export function statusKeyClass(key) {
  if (key === 'error' || key === 'incomplete') return key;
  const first = key.charAt(0);
  return first === '2'
    ? 'ok'
    : first === '3'
      ? 'redirect'
      : first === '4'
        ? 'client'
        : first === '5'
          ? 'server'
          : 'info';
}

/** `×10` for a sample weight ≠ 1, else ''. @param {number | null | undefined} w */
export function formatWeight(w) {
  if (w === null || w === undefined || w === 1) return '';
  return `×${Number.isInteger(w) ? w : w.toFixed(2)}`;
}

/**
 * Decodes standard base64 into bytes.
 * @param {string} b64
 * @returns {Uint8Array}
 */
export function base64ToBytes(b64) {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * Classic hex dump: `00000000  7b 22 61 22 …  |{"a"…|`, 16 bytes a line, at most `max` bytes.
 * @param {Uint8Array} bytes
 * @param {number} [max]
 */
export function hexDump(bytes, max = 64 * 1024) {
  const n = Math.min(bytes.length, max);
  const lines = [];
  for (let off = 0; off < n; off += 16) {
    let hex = '';
    let ascii = '';
    for (let i = 0; i < 16; i++) {
      if (off + i < n) {
        const b = /** @type {number} */ (bytes[off + i]);
        hex += b.toString(16).padStart(2, '0') + ' ';
        ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
      } else hex += '   ';
      if (i === 7) hex += ' ';
    }
    lines.push(`${off.toString(16).padStart(8, '0')}  ${hex} |${ascii}|`);
  }
  return lines.join('\n');
}

/**
 * @typedef {{ t: string, v: string }} JsonToken
 * t: one of `{ } [ ] , :` or str / num / bool / null
 */

/** @param {string} text @returns {JsonToken[]} (text must be valid JSON) */
export function tokenize(text) {
  /** @type {JsonToken[]} */
  const out = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = /** @type {string} */ (text[i]);
    if (c === ' ' || c === '\n' || c === '\r' || c === '\t') {
      i++;
    } else if ('{}[],:'.includes(c)) {
      out.push({ t: c, v: c });
      i++;
    } else if (c === '"') {
      let j = i + 1;
      while (j < n && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      out.push({ t: 'str', v: text.slice(i, j + 1) });
      i = j + 1;
    } else {
      let j = i;
      while (j < n && !' \n\r\t{}[],:"'.includes(/** @type {string} */ (text[j]))) j++;
      const v = text.slice(i, j);
      out.push({ t: v === 'true' || v === 'false' ? 'bool' : v === 'null' ? 'null' : 'num', v });
      i = j;
    }
  }
  return out;
}

/** True when the array opening at tokens[k] holds only scalars (printed on one line). */
function flatArray(/** @type {JsonToken[]} */ tokens, /** @type {number} */ k) {
  for (let m = k + 1; m < tokens.length; m++) {
    const t = /** @type {JsonToken} */ (tokens[m]).t;
    if (t === ']') return true;
    if (t === '[' || t === '{') return false;
  }
  return false;
}

/**
 * Pretty-prints JSON text without parsing values into JS: numbers, escapes and key order stay
 * exactly as the model sent them (JSON.stringify(JSON.parse(x)) would round 64-bit ids and
 * turn 1.0 into 1 — wrong for an audit). Arrays of scalars (tensors) stay on one line.
 * Returns null when the text is not valid JSON.
 * @param {string} text
 * @returns {Array<[cls: string, text: string]> | null}  segments; cls '' is plain text
 */
export function prettyJson(text) {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  try {
    JSON.parse(trimmed);
  } catch {
    return null;
  }
  const tokens = tokenize(trimmed);
  /** @type {Array<[string, string]>} */
  const segs = [];
  const push = (/** @type {string} */ cls, /** @type {string} */ v) => {
    const last = segs[segs.length - 1];
    if (last && last[0] === cls) last[1] += v;
    else segs.push([cls, v]);
  };
  const indent = (/** @type {number} */ d) => '\n' + '  '.repeat(d);
  const cls = (/** @type {JsonToken} */ tok) => (tok.t === 'str' ? 'str' : tok.t);
  let depth = 0;
  for (let k = 0; k < tokens.length; k++) {
    const tok = /** @type {JsonToken} */ (tokens[k]);
    switch (tok.t) {
      case '{':
      case '[': {
        const close = tok.t === '{' ? '}' : ']';
        if (tokens[k + 1]?.t === close) {
          push('p', tok.v + close);
          k++;
        } else if (tok.t === '[' && flatArray(tokens, k)) {
          push('p', '[');
          let m = k + 1;
          for (; /** @type {JsonToken} */ (tokens[m]).t !== ']'; m++) {
            const el = /** @type {JsonToken} */ (tokens[m]);
            if (el.t === ',') push('p', ', ');
            else push(cls(el), el.v);
          }
          push('p', ']');
          k = m;
        } else {
          push('p', tok.v);
          depth++;
          push('', indent(depth));
        }
        break;
      }
      case '}':
      case ']':
        depth--;
        push('', indent(depth));
        push('p', tok.v);
        break;
      case ',':
        push('p', ',');
        push('', indent(depth));
        break;
      case ':':
        push('p', ': ');
        break;
      case 'str':
        push(tokens[k + 1]?.t === ':' ? 'key' : 'str', tok.v);
        break;
      default:
        push(tok.t, tok.v);
    }
  }
  return segs;
}

/** True when a content type or the text itself says "JSON". @param {string | null} contentType @param {string} text */
export function looksLikeJson(contentType, text) {
  if (contentType && /[/+]json\b/i.test(contentType)) return true;
  const c = text.trimStart().charAt(0);
  return c === '{' || c === '[';
}
