/**
 * Text scrubbers of `redactPatterns`: built-in detectors and custom `name=regex` rules.
 *
 *   "email,card,ticket=TCK-[0-9]+" ──parsePattern ×3──▶ Scrubber[] ──compileScrubbers──▶ TextScrubber
 *   TextScrubber.ranges(text): every match of every scrubber, merged ─▶ apply(text, ranges): marker in place
 *
 * Matches are collected as ranges first (then merged) rather than replaced regex by regex, so two
 * overlapping detectors cannot leave half a secret behind, and so a truncated body can be cut at a
 * safe place (see apply.ts).
 *
 * Every match runs in time linear in the text, because the text is the client's (issue 16: a
 * backtracking `email` took 12.5 s on 100,000 `a` and an `@`, on the event loop):
 *   - each built-in either starts only where a run of its characters starts (a lookbehind), so no
 *     run is scanned twice, or is a hand-written scanner (`jwt`);
 *   - custom `name=regex` rules are RE2 (the pure-JS `re2js`): no backtracking, so no regex a user
 *     writes can be slow; what RE2 cannot express (lookaround, backreferences) is refused at config
 *     load. RE2 in JavaScript is slower per character than V8's engine, so apply.ts bounds how
 *     much text custom rules scan per body (MAX_CUSTOM_SCAN_CHARS) and withholds larger bodies.
 */
import { RE2JS } from 're2js';
import { InferlogError } from '../../core/errors.js';

export interface Scrubber {
  name: string;
  /** Global regex, linear in the text by construction (see the built-ins); or `find`. */
  re?: RegExp;
  /** Every match as [start, end), when a regex is not the right tool (jwt) or is RE2 (custom rules). */
  find?: (text: string) => Array<readonly [number, number]>;
  /** True for a custom rule (RE2): apply.ts bounds the text these scan. */
  custom?: boolean;
  /**
   * Narrows a regex match to what is really secret: [start, end) offsets inside the match; none keeps
   * the match as text (e.g. a digit run that fails the Luhn check).
   */
  refine?: (match: string) => ReadonlyArray<readonly [number, number]>;
  /** A cheap test that must hold for any match (e.g. the text contains "@"); skips the regex when false. */
  quick?: (text: string) => boolean;
}

/** Luhn checksum over the digits of a string (separators ignored). */
export function luhnValid(text: string): boolean {
  let sum = 0;
  let double = false;
  let digits = 0;
  for (let i = text.length - 1; i >= 0; i--) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) continue;
    digits++;
    let d = c;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits >= 12 && sum % 10 === 0;
}

/**
 * Card numbers of the major networks (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay,
 * Maestro) start with 2–6. Requiring that keeps 13-digit epoch-millisecond timestamps (1…) and
 * most ids out of the card rule, which Luhn alone would flag one time in ten.
 */
function isIssuerDigit(c: number): boolean {
  return c >= 0x32 && c <= 0x36;
}

/** Digit runs longer than this are data (a tensor, an id), not card numbers; skipping them bounds the work. */
const MAX_CARD_RUN_DIGITS = 256;

/**
 * The card numbers inside a run of digits grouped by single spaces or hyphens: every stretch of
 * whole groups with 13–19 digits that passes Luhn, as ranges (merged later). Taking every valid
 * stretch, not just the whole run, means a stray number next to a card (`qty 5 4111 1111 1111 1111`)
 * or two cards in a row cannot leave card digits behind; requiring whole groups means a long
 * ungrouped number (an id, 12345678901234567890) is not mistaken for one.
 */
export function findCards(run: string): Array<readonly [number, number]> {
  let total = 0;
  for (let k = 0; k < run.length; k++) {
    const c = run.charCodeAt(k);
    if (c >= 0x30 && c <= 0x39 && ++total > MAX_CARD_RUN_DIGITS) return [];
  }
  const groups: Array<[number, number, number]> = []; // [start, end, digits before this group]
  let digits = 0;
  const re = /\d+/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(run)) !== null) {
    groups.push([m.index, m.index + m[0].length, digits]);
    digits += m[0].length;
  }
  const out: Array<readonly [number, number]> = [];
  if (digits > MAX_CARD_RUN_DIGITS) return out;
  for (let a = 0; a < groups.length; a++) {
    const first = groups[a] as [number, number, number];
    for (let b = a; b < groups.length; b++) {
      const last = groups[b] as [number, number, number];
      const count = last[2] + (last[1] - last[0]) - first[2];
      if (count > 19) break;
      if (count >= 13 && isIssuerDigit(run.charCodeAt(first[0])) && luhnValid(run.slice(first[0], last[1])))
        out.push([first[0], last[1]]);
    }
  }
  return out;
}

function isBase64Url(c: number): boolean {
  return (
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    c === 0x2d ||
    c === 0x5f
  );
}

function isWordChar(c: number): boolean {
  return isBase64Url(c) && c !== 0x2d;
}

/**
 * JSON Web Tokens (`eyJ…` three base64url segments joined by dots), in one pass: the segments
 * end at the first non-base64url character whatever `eyJ` they start from, so once a candidate
 * fails, every later `eyJ` of the same run fails the same way and the scan resumes after the run.
 */
export function findJwts(text: string): Array<readonly [number, number]> {
  const out: Array<readonly [number, number]> = [];
  const n = text.length;
  const runEnd = (from: number): number => {
    let k = from;
    while (k < n && isBase64Url(text.charCodeAt(k))) k++;
    return k;
  };
  let i = text.indexOf('eyJ');
  while (i !== -1) {
    if (i > 0 && isWordChar(text.charCodeAt(i - 1))) {
      i = text.indexOf('eyJ', i + 1); // no word boundary before it, as \b required
      continue;
    }
    const e1 = runEnd(i);
    let next = e1;
    if (e1 - i >= 7 && text.charCodeAt(e1) === 0x2e) {
      const e2 = runEnd(e1 + 1);
      if (e2 - e1 - 1 >= 4 && text.charCodeAt(e2) === 0x2e) {
        const e3 = runEnd(e2 + 1);
        out.push([i, e3]);
        next = e3;
      }
    }
    i = text.indexOf('eyJ', next);
  }
  return out;
}

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';

/** The built-in detectors, by name. The longest match any of them can make is well under 300 chars. */
export const BUILTIN_PATTERNS: Readonly<Record<string, () => Scrubber>> = {
  // The lookbehind makes a match start only where a run of local-part characters starts: without
  // it, every position of a long run was tried and each scanned to the run's end (quadratic).
  email: () => ({
    name: 'email',
    re: /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+/g,
    quick: (t) => t.includes('@'),
  }),
  // 13–19 digits, optionally grouped by single spaces or hyphens, that pass the Luhn check.
  card: () => ({ name: 'card', re: /(?<!\d)\d(?:[ -]?\d){12,}(?!\d)/g, refine: findCards }),
  // US social security numbers in their usual written form.
  ssn: () => ({ name: 'ssn', re: /(?<!\d)\d{3}-\d{2}-\d{4}(?!\d)/g, quick: (t) => t.includes('-') }),
  ipv4: () => ({
    name: 'ipv4',
    re: new RegExp(`(?<![\\d.])${OCTET}(?:\\.${OCTET}){3}(?![\\d.]*\\d)`, 'g'),
    quick: (t) => t.includes('.'),
  }),
  // `Bearer <token>` wherever it appears (a header pasted into a prompt, an error message).
  'bearer-token': () => ({ name: 'bearer-token', re: /\bBearer\s+[A-Za-z0-9\-._~+/]+=*/gi }),
  // `eyJ` + 4 or more base64url characters, `.`, 4 or more, `.`, any number: a scanner, because
  // the regex (\beyJ[…]{4,}\.…) rescanned the rest of the run from every `eyJ` in it (quadratic).
  jwt: () => ({ name: 'jwt', find: findJwts, quick: (t) => t.includes('eyJ') }),
};

const CUSTOM_NAME = /^[a-z][a-z0-9_-]*$/i;

/**
 * Parses one `redactPatterns` entry: a built-in name, or `name=regex` (RE2 syntax, as in Go; a
 * leading `(?i)` makes it case-insensitive). Throws an Error saying what is wrong, e.g. for a
 * lookbehind or a backreference, which RE2 refuses because they need backtracking.
 */
export function parsePattern(text: string): Scrubber {
  const entry = text.trim();
  const eq = entry.indexOf('=');
  if (eq === -1) {
    const make = BUILTIN_PATTERNS[entry.toLowerCase()];
    if (make) return make();
    throw new InferlogError(
      'CONFIG_INVALID',
      `unknown redaction pattern "${entry}": use a built-in (${Object.keys(BUILTIN_PATTERNS).join(', ')}) or name=regex`,
    );
  }
  const name = entry.slice(0, eq).trim();
  let source = entry.slice(eq + 1);
  if (!CUSTOM_NAME.test(name)) {
    throw new InferlogError(
      'CONFIG_INVALID',
      `invalid redaction pattern "${entry}": the name before "=" must be a word like ticket-id`,
    );
  }
  let flags = 0;
  if (source.startsWith('(?i)')) {
    source = source.slice(4);
    flags |= RE2JS.CASE_INSENSITIVE;
  }
  if (source === '')
    throw new InferlogError(
      'CONFIG_INVALID',
      `invalid redaction pattern "${entry}": the regex after "=" is empty`,
    );
  let re: RE2JS;
  try {
    re = RE2JS.compile(source, flags);
  } catch (err) {
    throw new InferlogError(
      'CONFIG_INVALID',
      `invalid redaction pattern "${entry}": ${(err as Error).message} (custom patterns use RE2 syntax, which has no lookaround or backreferences, so matching time stays linear in the text)`,
    );
  }
  if (re.matcher('').find()) {
    throw new InferlogError(
      'CONFIG_INVALID',
      `invalid redaction pattern "${entry}": the regex matches the empty string`,
    );
  }
  const find = (text: string): Array<readonly [number, number]> => {
    const out: Array<readonly [number, number]> = [];
    const m = re.matcher(text);
    while (m.find()) if (m.end() > m.start()) out.push([m.start(), m.end()]);
    return out;
  };
  return { name, find, custom: true };
}

export interface TextScrubber {
  readonly empty: boolean;
  /** True when a custom (RE2) rule is configured: the caller bounds the text scanned per body. */
  readonly custom: boolean;
  /** Sorted, merged [start, end) ranges of everything to redact in `text`. */
  ranges(text: string): Array<[number, number]>;
  /** `text` with each range replaced by the marker. */
  apply(text: string, ranges: ReadonlyArray<readonly [number, number]>): string;
  /** ranges + apply; returns the same string when nothing matched. */
  scrub(text: string): string;
}

export function compileScrubbers(entries: readonly string[], marker: string): TextScrubber {
  const scrubbers = entries.map(parsePattern);
  const names = new Set<string>();
  for (const s of scrubbers) {
    if (names.has(s.name))
      throw new InferlogError('CONFIG_INVALID', `redaction pattern "${s.name}" is listed twice`);
    names.add(s.name);
  }

  const ranges = (text: string): Array<[number, number]> => {
    const found: Array<[number, number]> = [];
    for (const s of scrubbers) {
      if (s.quick && !s.quick(text)) continue;
      if (s.find) {
        for (const r of s.find(text)) found.push([r[0], r[1]]);
        continue;
      }
      const re = s.re as RegExp;
      re.lastIndex = 0;
      let m: RegExpExecArray | null;
      while ((m = re.exec(text)) !== null) {
        if (m[0].length === 0) {
          re.lastIndex++;
          continue;
        }
        if (s.refine) {
          for (const r of s.refine(m[0])) found.push([m.index + r[0], m.index + r[1]]);
          continue;
        }
        found.push([m.index, m.index + m[0].length]);
      }
    }
    if (found.length <= 1) return found;
    found.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const merged: Array<[number, number]> = [found[0] as [number, number]];
    for (let k = 1; k < found.length; k++) {
      const r = found[k] as [number, number];
      const last = merged[merged.length - 1] as [number, number];
      if (r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
      else merged.push(r);
    }
    return merged;
  };

  const apply = (text: string, rs: ReadonlyArray<readonly [number, number]>): string => {
    if (rs.length === 0) return text;
    let out = '';
    let at = 0;
    for (const [a, b] of rs) {
      out += text.slice(at, a) + marker;
      at = b;
    }
    return out + text.slice(at);
  };

  return {
    empty: scrubbers.length === 0,
    custom: scrubbers.some((s) => s.custom === true),
    ranges,
    apply,
    scrub: (text) => (scrubbers.length === 0 ? text : apply(text, ranges(text))),
  };
}
