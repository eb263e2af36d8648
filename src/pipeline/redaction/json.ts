/**
 * Field-level redaction of one JSON text, by splicing: the original text is kept byte for byte
 * except the redacted spans, so number precision, key order, duplicate keys and whitespace survive
 * (JSON.parse + JSON.stringify would round 12345678901234567890 and reorder nothing but still lose
 * those). Strict RFC 8259: anything else throws BODY_NOT_JSON and the caller fails closed.
 *
 *   text ──Walk (recursive descent, path states per level; tokens by the scanners below)──▶ edits [start, end, replacement]
 *        ──splice──▶ redacted text
 *
 * Edits: a value at the end of a path → the marker as a JSON string; a string (value or key) or a
 * number whose decoded text a scrubber matches → the scrubbed text as a JSON string.
 */
import type { PathMatcher } from './json-path.js';
import type { TextScrubber } from './patterns.js';
import { InferlogError } from '../../core/errors.js';

function notJson(position: number, what: string): InferlogError {
  return new InferlogError('BODY_NOT_JSON', `not valid JSON at offset ${position}: ${what}`, {
    details: { position },
  });
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

/**
 * Redacts one JSON text. Throws BODY_NOT_JSON when it is not exactly one RFC 8259 document
 * (the caller then fails closed).
 */
export function redactJsonText(
  s: string,
  paths: PathMatcher,
  scrubber: TextScrubber,
  marker: string,
): JsonRedactResult {
  const walk = new Walk(s, paths, scrubber, JSON.stringify(marker));
  walk.document();
  return { text: walk.splice(), pathHits: walk.pathHits, scrubbed: walk.scrubbed };
}

// ── the walk: structure, path states and edits ──────────────────────────────────

/**
 * One pass over the document. Each value is visited with the path states that are live for it;
 * `quiet` marks the inside of a value already replaced whole, which is only validated.
 */
class Walk {
  pos = 0;
  pathHits = 0;
  scrubbed = 0;
  private readonly edits: Array<[number, number, string]> = [];
  private readonly scrub: boolean;

  constructor(
    private readonly s: string,
    private readonly paths: PathMatcher,
    private readonly scrubber: TextScrubber,
    private readonly markerJson: string,
  ) {
    this.scrub = !scrubber.empty;
  }

  document(): void {
    this.value(this.paths.empty ? NO_STATES : this.paths.start(), false, 0);
    this.pos = skipWs(this.s, this.pos);
    if (this.pos !== this.s.length) throw notJson(this.pos, 'unexpected text after the value');
  }

  /** The original text with every edit applied; the same string when there is none. */
  splice(): string {
    const { s, edits } = this;
    if (edits.length === 0) return s;
    edits.sort((a, b) => a[0] - b[0]);
    let out = '';
    let at = 0;
    for (const [a, b, r] of edits) {
      out += s.slice(at, a) + r;
      at = b;
    }
    return out + s.slice(at);
  }

  private value(states: readonly number[], quiet: boolean, depth: number): void {
    const { s } = this;
    if (depth > MAX_DEPTH) throw notJson(this.pos, 'nested too deep');
    this.pos = skipWs(s, this.pos);
    const start = this.pos;
    const c = s.charCodeAt(start);
    if (c === 0x7b /* { */) return this.object(states, quiet, depth);
    if (c === 0x5b /* [ */) return this.array(states, quiet, depth);
    if (c === 0x22 /* " */) {
      this.pos = scanString(s, start);
      if (!quiet && this.scrub) this.scrubToken(start, decodeString(s, start, this.pos));
      return;
    }
    if (c === 0x74) this.pos = scanLiteral(s, start, 'true');
    else if (c === 0x66) this.pos = scanLiteral(s, start, 'false');
    else if (c === 0x6e) this.pos = scanLiteral(s, start, 'null');
    else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      this.pos = scanNumber(s, start);
      if (this.scrub && !quiet) this.scrubToken(start, s.slice(start, this.pos));
    } else throw notJson(start, start >= s.length ? 'unexpected end' : 'unexpected character');
  }

  private object(states: readonly number[], quiet: boolean, depth: number): void {
    const { s } = this;
    this.pos = skipWs(s, this.pos + 1);
    if (s.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      return;
    }
    for (;;) {
      this.pos = skipWs(s, this.pos);
      const keyStart = this.pos;
      if (s.charCodeAt(keyStart) !== 0x22) throw notJson(keyStart, 'expected a key');
      this.pos = scanString(s, keyStart);
      // The key's text is needed only to step the paths or to scrub it.
      let key: string | undefined;
      if (!quiet && (states.length > 0 || this.scrub)) key = decodeString(s, keyStart, this.pos);
      if (!quiet && this.scrub) this.scrubToken(keyStart, key as string);
      this.pos = skipWs(s, this.pos);
      if (s.charCodeAt(this.pos) !== 0x3a) throw notJson(this.pos, 'expected ":"');
      this.pos++;
      this.member(states, quiet, depth, key, 0);
      if (this.endOfMember(0x7d, 'expected "," or "}"')) return;
    }
  }

  private array(states: readonly number[], quiet: boolean, depth: number): void {
    const { s } = this;
    this.pos = skipWs(s, this.pos + 1);
    if (s.charCodeAt(this.pos) === 0x5d) {
      this.pos++;
      return;
    }
    for (let index = 0; ; index++) {
      this.member(states, quiet, depth, undefined, index);
      if (this.endOfMember(0x5d, 'expected "," or "]"')) return;
    }
  }

  /** After a member: true at the closing bracket `close`, false at a comma; throws otherwise. */
  private endOfMember(close: number, expected: string): boolean {
    this.pos = skipWs(this.s, this.pos);
    const d = this.s.charCodeAt(this.pos);
    this.pos++;
    if (d === 0x2c) return false;
    if (d === close) return true;
    throw notJson(this.pos - 1, expected);
  }

  /** One object member or array element: decides whether a path ends here. */
  private member(
    states: readonly number[],
    quiet: boolean,
    depth: number,
    key: string | undefined,
    index: number,
  ): void {
    if (quiet || states.length === 0) return this.value(NO_STATES, quiet, depth + 1);
    const { next, hit } = this.paths.step(states, key, index);
    if (!hit) return this.value(next, false, depth + 1);
    this.pos = skipWs(this.s, this.pos);
    const start = this.pos;
    this.value(NO_STATES, true, depth + 1);
    this.edits.push([start, this.pos, this.markerJson]);
    this.pathHits++;
  }

  /** A string or number token from `start` to the current position: replaced when a scrubber changes its text. */
  private scrubToken(start: number, text: string): void {
    const out = this.scrubber.scrub(text);
    if (out !== text) {
      this.edits.push([start, this.pos, JSON.stringify(out)]);
      this.scrubbed++;
    }
  }
}

// ── tokens: each scanner takes the text and a position, and returns the position after the token ──

function skipWs(s: string, pos: number): number {
  const n = s.length;
  while (pos < n) {
    const c = s.charCodeAt(pos);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) pos++;
    else break;
  }
  return pos;
}

/** A string token starting at its opening quote `start`. */
function scanString(s: string, start: number): number {
  const n = s.length;
  let pos = start + 1; // opening quote
  for (;;) {
    if (pos >= n) throw notJson(start, 'unterminated string');
    const c = s.charCodeAt(pos);
    if (c === 0x22) break;
    if (c < 0x20) throw notJson(pos, 'control character in string');
    if (c === 0x5c) {
      const e = s.charCodeAt(pos + 1);
      if (e === 0x75 /* u */) {
        if (!/^[0-9a-fA-F]{4}$/.test(s.slice(pos + 2, pos + 6))) throw notJson(pos, 'bad \\u escape');
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
        throw notJson(pos, 'bad escape');
      }
      pos += 2;
      continue;
    }
    pos++;
  }
  return pos + 1; // closing quote
}

/** The value of the string token [start, end) that scanString accepted. */
function decodeString(s: string, start: number, end: number): string {
  const raw = s.slice(start + 1, end - 1);
  // Inside an accepted string a backslash only ever starts an escape.
  return raw.includes('\\') ? (JSON.parse(s.slice(start, end)) as string) : raw;
}

function scanNumber(s: string, start: number): number {
  const n = s.length;
  let pos = start;
  const digits = (): number => {
    const d0 = pos;
    while (pos < n && s.charCodeAt(pos) >= 0x30 && s.charCodeAt(pos) <= 0x39) pos++;
    return pos - d0;
  };
  if (s.charCodeAt(pos) === 0x2d) pos++;
  if (s.charCodeAt(pos) === 0x30) pos++;
  else if (digits() === 0) throw notJson(start, 'bad number');
  if (s.charCodeAt(pos) === 0x2e) {
    pos++;
    if (digits() === 0) throw notJson(start, 'bad number');
  }
  const e = s.charCodeAt(pos);
  if (e === 0x65 || e === 0x45) {
    pos++;
    const sign = s.charCodeAt(pos);
    if (sign === 0x2b || sign === 0x2d) pos++;
    if (digits() === 0) throw notJson(start, 'bad number');
  }
  return pos;
}

function scanLiteral(s: string, pos: number, word: string): number {
  if (s.startsWith(word, pos)) return pos + word.length;
  throw notJson(pos, 'unexpected character');
}
