/**
 * JSON as KServe's batcher (Go's encoding/json) reads and writes it, so our batcher's answers are
 * byte-identical to KServe's agent where a client can see them:
 *
 *   request body ──JSON.parse──▶ instances (Go rules: case-insensitive key, null = none, non-array = error)
 *                                  └─ marshalGo() each instance once, on arrival (not in the batch loop)
 *   model answer ──JSON.parse──▶ predictions (same rules) ──▶ marshalGo() per client slice
 *   model error body (bytes) ──goStringOfBytes()──▶ the answer's `message`
 *
 * Go's Marshal differs from JSON.stringify in ways a client sees: object keys sorted (bytewise),
 * `<`, `>`, `&`, U+2028 and U+2029 escaped as \u003c…, `-0` kept, lone surrogates become U+FFFD,
 * and invalid UTF-8 in a byte string becomes the escape `\ufffd`. Numbers are float64 in both, and
 * both print the shortest round-trip form with the same exponent thresholds (1e21, 1e-6).
 *
 * Known differences, left because they need a hand-written parser on the hot path: duplicate keys
 * (JSON.parse keeps the last; Go also keeps the last value but reports a type error of an earlier
 * one), and invalid UTF-8 inside request strings (Node replaces a maximal subpart with one U+FFFD,
 * Go one per byte).
 */
import { InferlogError, isInferlogError } from '../../core/errors.js';

/**
 * Thrown for a value Go cannot decode into the batcher's types (out-of-range number…): the
 * message is Go's own text, which KServe's batcher answers with.
 */
export function goUnmarshalError(message: string): InferlogError {
  return new InferlogError('MODEL_INPUT_INVALID', message, { status: 400, details: { go: 'unmarshal' } });
}

/** True for an error from goUnmarshalError. */
export function isGoUnmarshalError(e: unknown): e is InferlogError {
  return isInferlogError(e, 'MODEL_INPUT_INVALID') && e.details.go === 'unmarshal';
}

const HEX = '0123456789abcdef';

/** Go's string escaping for text that is already valid UTF-16 (decoded JSON). */
function quoteGo(s: string): string {
  let out = '"';
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let esc: string | undefined;
    if (c < 0x20 || c === 0x22 || c === 0x5c || c === 0x3c || c === 0x3e || c === 0x26) {
      switch (c) {
        case 0x22:
          esc = '\\"';
          break;
        case 0x5c:
          esc = '\\\\';
          break;
        case 0x0a:
          esc = '\\n';
          break;
        case 0x0d:
          esc = '\\r';
          break;
        case 0x09:
          esc = '\\t';
          break;
        case 0x08:
          esc = '\\b';
          break;
        case 0x0c:
          esc = '\\f';
          break;
        default:
          esc = `\\u00${HEX[c >> 4]}${HEX[c & 15]}`;
      }
    } else if (c === 0x2028 || c === 0x2029) {
      esc = c === 0x2028 ? '\\u2028' : '\\u2029';
    } else if (c >= 0xd800 && c <= 0xdfff) {
      // A well-formed pair stays; a lone surrogate (from a `\ud800` escape) is U+FFFD, as Go decodes it.
      const next = s.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      esc = '\ufffd';
    }
    if (esc !== undefined) {
      out += s.slice(from, i) + esc;
      from = i + 1;
    }
  }
  return out + s.slice(from) + '"';
}

/** Compares as Go sorts map keys: by UTF-8 bytes, i.e. by code point (not by UTF-16 unit). */
function byCodePoint(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i) as number;
    const y = b.codePointAt(i) as number;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

/** `json.Marshal` of a value decoded into Go's `interface{}` (from JSON.parse). */
export function marshalGo(v: unknown): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'number':
      if (!Number.isFinite(v))
        throw goUnmarshalError(`json: cannot unmarshal number into Go value of type float64`);
      return Object.is(v, -0) ? '-0' : String(v);
    case 'string':
      return quoteGo(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object': {
      if (Array.isArray(v)) {
        let out = '[';
        for (let i = 0; i < v.length; i++) out += (i > 0 ? ',' : '') + marshalGo(v[i]);
        return out + ']';
      }
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o).sort(byCodePoint);
      let out = '{';
      for (let i = 0; i < keys.length; i++) {
        const k = keys[i] as string;
        out += (i > 0 ? ',' : '') + quoteGo(k) + ':' + marshalGo(o[k]);
      }
      return out + '}';
    }
    default:
      return 'null';
  }
}

/**
 * Go's `json.Marshal` of a Go string holding arbitrary bytes (the model's error body): valid
 * UTF-8 as `quoteGo` writes it, each invalid byte as the six characters `\ufffd`.
 */
export function goStringOfBytes(bytes: Uint8Array): string {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  // Fast path: the bytes were valid UTF-8 when decoding them changed nothing.
  if (
    !text.includes('\ufffd') ||
    (Buffer.byteLength(text) === bytes.byteLength && Buffer.from(text).equals(bytes))
  )
    return quoteGo(text);
  let out = '"';
  let i = 0;
  while (i < bytes.length) {
    const n = utf8Length(bytes, i);
    if (n === 0) {
      out += '\\ufffd';
      i++;
      continue;
    }
    const piece = Buffer.from(bytes.buffer, bytes.byteOffset + i, n).toString('utf8');
    out += quoteGo(piece).slice(1, -1);
    i += n;
  }
  return out + '"';
}

/** Length of the valid UTF-8 sequence at `i` (Go's utf8.DecodeRune rules), or 0 when invalid. */
function utf8Length(b: Uint8Array, i: number): number {
  const c = b[i] as number;
  if (c < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => {
    const x = b[i + k];
    return x !== undefined && x >= lo && x <= hi;
  };
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    const lo = c === 0xe0 ? 0xa0 : 0x80;
    const hi = c === 0xed ? 0x9f : 0xbf;
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const lo = c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xf4 ? 0x8f : 0xbf;
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

/** Go matches a JSON key to a struct field exactly or case-insensitively (bytes.EqualFold: ſ folds to s). */
function foldsTo(key: string, field: string): boolean {
  if (key === field) return true;
  if (key.length !== field.length) return false;
  return key.replace(/\u017f/g, 's').toLowerCase() === field;
}

const GO_KIND: Record<string, string> = { string: 'string', number: 'number', boolean: 'bool' };

function goKindOf(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v !== null && typeof v === 'object') return 'object';
  return GO_KIND[typeof v] ?? 'value';
}

export type GoListField = { ok: true; list: unknown[] | null } | { ok: false; message: string };

/**
 * Decodes parsed JSON into a Go struct `{Field []interface{}}` named `typeName`: null or a missing
 * key is a nil list; a non-object top level or a non-list field is Go's type error.
 */
export function goListField(parsed: unknown, field: string, typeName: string): GoListField {
  if (parsed === null) return { ok: true, list: null };
  if (typeof parsed !== 'object' || Array.isArray(parsed))
    return {
      ok: false,
      message: `json: cannot unmarshal ${goKindOf(parsed)} into Go value of type ${typeName}`,
    };
  let list: unknown[] | null = null;
  let error: string | undefined;
  for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
    if (!foldsTo(k, field)) continue;
    if (v === null) list = null;
    else if (Array.isArray(v)) list = v;
    else
      error ??= `json: cannot unmarshal ${goKindOf(v)} into Go struct field ${typeName.split('.').pop() ?? typeName}.${field} of type []interface {}`;
  }
  return error === undefined ? { ok: true, list } : { ok: false, message: error };
}

/** Go's message for a body JSON.parse refused, as near as its syntax errors go. */
export function goSyntaxMessage(text: string, err: unknown): string {
  if (text.trim() === '') return 'unexpected end of JSON input';
  const m = /position (\d+)/.exec((err as Error)?.message ?? '');
  if (/Unexpected end/i.test((err as Error)?.message ?? '')) return 'unexpected end of JSON input';
  const at = m ? Number(m[1]) : text.length - text.trimStart().length;
  const ch = text[at] ?? '';
  const shown = ch === "'" ? "'\\''" : ch === '"' ? `'"'` : `'${ch}'`;
  if (/non-whitespace/i.test((err as Error)?.message ?? ''))
    return `invalid character ${shown} after top-level value`;
  return `invalid character ${shown} looking for beginning of value`;
}
