/**
 * Field-level redaction of one JSON text, by splicing: the original text is kept byte for byte
 * except the redacted spans, so number precision, key order, duplicate keys and whitespace survive
 * (JSON.parse + JSON.stringify would round 12345678901234567890 and reorder nothing but still lose
 * those). Strict RFC 8259: anything else throws NotJsonError and the caller fails closed.
 *
 *   text ──scan (recursive descent, path states per level)──▶ edits [start, end, replacement]
 *        ──splice──▶ redacted text
 *
 * Edits: a value at the end of a path → the marker as a JSON string; a string (value or key) or a
 * number whose decoded text a scrubber matches → the scrubbed text as a JSON string.
 */
import type { PathMatcher } from './json-path.js';
import type { TextScrubber } from './patterns.js';

export class NotJsonError extends Error {
  constructor(
    readonly position: number,
    what: string,
  ) {
    super(`not valid JSON at offset ${position}: ${what}`);
    this.name = 'NotJsonError';
  }
}

/** Deeper documents are refused (fail closed) rather than risking the stack. */
const MAX_DEPTH = 512;

export interface JsonRedactResult {
  text: string;
  /** How many values were replaced because a path named them. */
  pathHits: number;
  /** How many strings/numbers a scrubber changed. */
  scrubbed: number;
}

const NO_STATES: readonly number[] = [];

export function redactJsonText(
  s: string,
  paths: PathMatcher,
  scrubber: TextScrubber,
  marker: string,
): JsonRedactResult {
  const markerJson = JSON.stringify(marker);
  const scrub = !scrubber.empty;
  const edits: Array<[number, number, string]> = [];
  let pos = 0;
  let pathHits = 0;
  let scrubbed = 0;
  const n = s.length;

  const ws = (): void => {
    while (pos < n) {
      const c = s.charCodeAt(pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) pos++;
      else break;
    }
  };

  // Scans a string token at pos; returns its decoded value when `decode`, else undefined.
  const str = (decode: boolean): string | undefined => {
    const start = pos;
    pos++; // opening quote
    let escaped = false;
    for (;;) {
      if (pos >= n) throw new NotJsonError(start, 'unterminated string');
      const c = s.charCodeAt(pos);
      if (c === 0x22) break;
      if (c < 0x20) throw new NotJsonError(pos, 'control character in string');
      if (c === 0x5c) {
        escaped = true;
        const e = s.charCodeAt(pos + 1);
        if (e === 0x75 /* u */) {
          if (!/^[0-9a-fA-F]{4}$/.test(s.slice(pos + 2, pos + 6)))
            throw new NotJsonError(pos, 'bad \\u escape');
          pos += 6;
          continue;
        }
        // " \ / b f n r t
        if (
          e !== 0x22 &&
          e !== 0x5c &&
          e !== 0x2f &&
          e !== 0x62 &&
          e !== 0x66 &&
          e !== 0x6e &&
          e !== 0x72 &&
          e !== 0x74
        ) {
          throw new NotJsonError(pos, 'bad escape');
        }
        pos += 2;
        continue;
      }
      pos++;
    }
    pos++; // closing quote
    if (!decode) return undefined;
    return escaped ? (JSON.parse(s.slice(start, pos)) as string) : s.slice(start + 1, pos - 1);
  };

  const scrubToken = (start: number, text: string): void => {
    const out = scrubber.scrub(text);
    if (out !== text) {
      edits.push([start, pos, JSON.stringify(out)]);
      scrubbed++;
    }
  };

  const literal = (word: string): void => {
    if (s.startsWith(word, pos)) pos += word.length;
    else throw new NotJsonError(pos, 'unexpected character');
  };

  const number = (quiet: boolean): void => {
    const start = pos;
    if (s.charCodeAt(pos) === 0x2d) pos++;
    const digits = (): number => {
      const d0 = pos;
      while (pos < n && s.charCodeAt(pos) >= 0x30 && s.charCodeAt(pos) <= 0x39) pos++;
      return pos - d0;
    };
    const first = s.charCodeAt(pos);
    if (first === 0x30) pos++;
    else if (digits() === 0) throw new NotJsonError(start, 'bad number');
    if (s.charCodeAt(pos) === 0x2e) {
      pos++;
      if (digits() === 0) throw new NotJsonError(start, 'bad number');
    }
    const e = s.charCodeAt(pos);
    if (e === 0x65 || e === 0x45) {
      pos++;
      const sign = s.charCodeAt(pos);
      if (sign === 0x2b || sign === 0x2d) pos++;
      if (digits() === 0) throw new NotJsonError(start, 'bad number');
    }
    if (scrub && !quiet) scrubToken(start, s.slice(start, pos));
  };

  // Scans one value. `states`: live path states for this value; `quiet`: inside a redacted value
  // (validate only, record nothing).
  const value = (states: readonly number[], quiet: boolean, depth: number): void => {
    if (depth > MAX_DEPTH) throw new NotJsonError(pos, 'nested too deep');
    ws();
    const c = s.charCodeAt(pos);
    if (c === 0x7b /* { */) {
      pos++;
      ws();
      if (s.charCodeAt(pos) === 0x7d) {
        pos++;
        return;
      }
      for (;;) {
        ws();
        if (s.charCodeAt(pos) !== 0x22) throw new NotJsonError(pos, 'expected a key');
        const keyStart = pos;
        const needKey = !quiet && (states.length > 0 || scrub);
        const key = str(needKey);
        if (!quiet && scrub) scrubToken(keyStart, key as string);
        ws();
        if (s.charCodeAt(pos) !== 0x3a) throw new NotJsonError(pos, 'expected ":"');
        pos++;
        member(states, quiet, depth, key, 0);
        ws();
        const d = s.charCodeAt(pos);
        pos++;
        if (d === 0x2c) continue;
        if (d === 0x7d) return;
        throw new NotJsonError(pos - 1, 'expected "," or "}"');
      }
    }
    if (c === 0x5b /* [ */) {
      pos++;
      ws();
      if (s.charCodeAt(pos) === 0x5d) {
        pos++;
        return;
      }
      for (let index = 0; ; index++) {
        member(states, quiet, depth, undefined, index);
        ws();
        const d = s.charCodeAt(pos);
        pos++;
        if (d === 0x2c) continue;
        if (d === 0x5d) return;
        throw new NotJsonError(pos - 1, 'expected "," or "]"');
      }
    }
    if (c === 0x22) {
      const start = pos;
      const text = str(!quiet && scrub);
      if (!quiet && scrub) scrubToken(start, text as string);
      return;
    }
    if (c === 0x74) return literal('true');
    if (c === 0x66) return literal('false');
    if (c === 0x6e) return literal('null');
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return number(quiet);
    throw new NotJsonError(pos, pos >= n ? 'unexpected end' : 'unexpected character');
  };

  // One object member or array element: decides whether a path ends here.
  const member = (
    states: readonly number[],
    quiet: boolean,
    depth: number,
    key: string | undefined,
    index: number,
  ): void => {
    if (quiet || states.length === 0) return value(NO_STATES, quiet, depth + 1);
    const { next, hit } = paths.step(states, key, index);
    if (!hit) return value(next, false, depth + 1);
    ws();
    const start = pos;
    value(NO_STATES, true, depth + 1);
    edits.push([start, pos, markerJson]);
    pathHits++;
  };

  value(paths.empty ? NO_STATES : paths.start(), false, 0);
  ws();
  if (pos !== n) throw new NotJsonError(pos, 'unexpected text after the value');

  if (edits.length === 0) return { text: s, pathHits, scrubbed };
  edits.sort((a, b) => a[0] - b[0]);
  let out = '';
  let at = 0;
  for (const [a, b, r] of edits) {
    out += s.slice(at, a) + r;
    at = b;
  }
  return { text: out + s.slice(at), pathHits, scrubbed };
}
