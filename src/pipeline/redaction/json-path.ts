/**
 * The JSON path language of `redactJsonPaths`, and its matcher.
 *
 *   "instances[*].ssn" ──parseJsonPath──▶ [key instances, any, key ssn] ──compileJsonPaths──▶ PathMatcher
 *   PathMatcher: a set of (path, position) states stepped once per object member / array element
 *
 * Grammar (whitespace is not allowed):
 *   path     = [ "$" ] first *rest          a leading `$` (then `.` or `[`) is accepted and ignored
 *   first    = name | "*" | "**" | bracket
 *   rest     = "." ( name | "*" | "**" ) | bracket
 *   bracket  = "[" ( digits | "*" | quoted ) "]"
 *   name     = 1*( any character except . [ ] * ' " , and whitespace )
 *   quoted   = "'" … "'" or '"' … '"', with \\ \' \" escapes — for keys such as "a.b" or "user name"
 *
 * Meaning:
 *   name / ['key']   the member of an object with that key, compared case-insensitively (over-redacting
 *                    `SSN` when you wrote `ssn` is the safe mistake)
 *   [3]              element 3 of an array (0-based)
 *   * / [*]          every child: each array element and each object member
 *   **               zero or more levels of anything: `**.password` is `password` at any depth
 * A path names the value at its end; that whole value (string, number, object, array…) is replaced.
 * Paths are anchored at the root of the body: `ssn` is only the top-level `ssn`.
 */
import { InferlogError } from '../../core/errors.js';

export type PathSegment =
  { kind: 'key'; name: string } | { kind: 'index'; index: number } | { kind: 'any' } | { kind: 'deep' };

export type JsonPath = PathSegment[];

const MAX_SEGMENTS = 64;
const NAME_STOP = new Set(['.', '[', ']', '*', "'", '"', ',']);

function fail(text: string, pos: number, what: string): never {
  throw new InferlogError('CONFIG_INVALID', `invalid JSON path "${text}" at position ${pos + 1}: ${what}`);
}

/**
 * Parses one path. Throws an Error whose message names the path, the 1-based position and what
 * was expected — the config validator shows it next to the annotation or flag.
 */
export function parseJsonPath(text: string): JsonPath {
  const segs: JsonPath = [];
  let i = 0;
  const n = text.length;
  if (n === 0) fail(text, 0, 'the path is empty');
  if (text[0] === '$' && (n === 1 || text[1] === '.' || text[1] === '[')) {
    if (n === 1) fail(text, 1, 'expected a field after "$", e.g. $.ssn');
    i = text[1] === '.' ? 2 : 1;
  }

  const readName = (): string => {
    const start = i;
    while (i < n) {
      const ch = text[i] as string;
      if (NAME_STOP.has(ch) || /\s/.test(ch)) break;
      i++;
    }
    if (i === start) {
      const ch = text[i];
      fail(text, i, ch === undefined ? 'expected a field name' : `expected a field name, found "${ch}"`);
    }
    return text.slice(start, i);
  };

  const readStar = (): PathSegment => {
    if (text[i + 1] === '*') {
      i += 2;
      if (text[i] === '*') fail(text, i, 'use * (one level) or ** (any depth), not more stars');
      return { kind: 'deep' };
    }
    i += 1;
    return { kind: 'any' };
  };

  const readBracket = (): PathSegment => {
    const open = i;
    i++; // [
    const ch = text[i];
    let seg: PathSegment;
    if (ch === '*') {
      i++;
      seg = { kind: 'any' };
    } else if (ch === "'" || ch === '"') {
      const quote = ch;
      i++;
      let name = '';
      for (;;) {
        if (i >= n) fail(text, open, `unterminated quoted key, expected a closing ${quote}`);
        const c = text[i] as string;
        if (c === '\\') {
          const next = text[i + 1];
          if (next !== '\\' && next !== "'" && next !== '"')
            fail(text, i, 'only \\\\, \\\' and \\" escapes are allowed in a quoted key');
          name += next;
          i += 2;
          continue;
        }
        if (c === quote) {
          i++;
          break;
        }
        name += c;
        i++;
      }
      seg = { kind: 'key', name };
    } else if (ch !== undefined && ch >= '0' && ch <= '9') {
      const start = i;
      while (i < n && (text[i] as string) >= '0' && (text[i] as string) <= '9') i++;
      const digits = text.slice(start, i);
      if (digits.length > 1 && digits[0] === '0') fail(text, start, 'an index has no leading zeros');
      const index = Number(digits);
      if (!Number.isSafeInteger(index)) fail(text, start, 'index too large');
      seg = { kind: 'index', index };
    } else {
      fail(
        text,
        i,
        ch === undefined
          ? 'expected an index, * or a quoted key after "["'
          : `expected an index, * or a quoted key after "[", found "${ch}"`,
      );
    }
    if (text[i] !== ']')
      fail(text, i, text[i] === undefined ? 'expected "]"' : `expected "]", found "${text[i]}"`);
    i++;
    return seg;
  };

  // first segment
  if (text[i] === '[') segs.push(readBracket());
  else if (text[i] === '*') segs.push(readStar());
  else if (text[i] === '.') fail(text, i, 'a path cannot start with "."');
  else segs.push({ kind: 'key', name: readName() });

  while (i < n) {
    const ch = text[i];
    if (ch === '[') segs.push(readBracket());
    else if (ch === '.') {
      i++;
      if (i >= n) fail(text, i, 'expected a field after "."');
      if (text[i] === '*') segs.push(readStar());
      else segs.push({ kind: 'key', name: readName() });
    } else fail(text, i, `expected "." or "[", found "${ch}"`);
    if (segs.length > MAX_SEGMENTS) fail(text, i, `more than ${MAX_SEGMENTS} segments`);
  }

  const last = segs[segs.length - 1] as PathSegment;
  if (last.kind === 'deep') fail(text, n - 1, '"**" must be followed by a field, e.g. **.password');
  // `**.**` means the same as `**`; keep one so the matcher's state sets stay small.
  return segs.filter((s, k) => !(s.kind === 'deep' && segs[k - 1]?.kind === 'deep'));
}

const PLAIN_NAME = /^[A-Za-z_$@][A-Za-z0-9_$@-]*$/;

/** The canonical text of a path; `parseJsonPath(formatJsonPath(p))` equals `p`. */
export function formatJsonPath(path: JsonPath): string {
  let out = '';
  path.forEach((seg, k) => {
    switch (seg.kind) {
      case 'key':
        if (PLAIN_NAME.test(seg.name) && !(k === 0 && seg.name === '$'))
          out += (k === 0 ? '' : '.') + seg.name;
        else out += `['${seg.name.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}']`;
        break;
      case 'index':
        out += `[${seg.index}]`;
        break;
      case 'any':
        out += '[*]';
        break;
      case 'deep':
        out += (k === 0 ? '' : '.') + '**';
        break;
    }
  });
  return out;
}

/**
 * Matches many paths at once while walking a JSON document. A state is an integer
 * `pathIndex * 128 + segmentIndex`; `start()` is the state set at the root, and `step` gives the
 * set for one child plus whether some path ends exactly at that child (the child is redacted).
 */
export interface PathMatcher {
  readonly empty: boolean;
  start(): readonly number[];
  /** key: the member key (objects) or undefined (arrays); index: the element index (arrays). */
  step(states: readonly number[], key: string | undefined, index: number): { next: number[]; hit: boolean };
}

const STRIDE = 128;

export function compileJsonPaths(paths: readonly JsonPath[]): PathMatcher {
  const segs = paths.map((p) =>
    p.map((s) => (s.kind === 'key' ? { kind: 'key' as const, name: s.name.toLowerCase() } : s)),
  );

  // Adds a state and, when it sits on `**`, the state after it (zero levels). Returns true on a hit.
  const add = (into: number[], p: number, j: number): boolean => {
    const path = segs[p] as PathSegment[];
    if (j === path.length) return true;
    const s = p * STRIDE + j;
    if (into.includes(s)) return false;
    into.push(s);
    return path[j]?.kind === 'deep' ? add(into, p, j + 1) : false;
  };

  const initial: number[] = [];
  segs.forEach((_, p) => add(initial, p, 0));

  return {
    empty: segs.length === 0,
    start: () => initial,
    step(states, key, index) {
      const next: number[] = [];
      let hit = false;
      let lower: string | undefined;
      for (const s of states) {
        const p = Math.floor(s / STRIDE);
        const j = s - p * STRIDE;
        const seg = (segs[p] as PathSegment[])[j] as PathSegment;
        switch (seg.kind) {
          case 'deep':
            // `**` consumes this child and stays; its closure already holds the state after it.
            add(next, p, j);
            break;
          case 'any':
            if (add(next, p, j + 1)) hit = true;
            break;
          case 'key':
            if (key !== undefined && (lower ??= key.toLowerCase()) === seg.name && add(next, p, j + 1))
              hit = true;
            break;
          case 'index':
            if (key === undefined && index === seg.index && add(next, p, j + 1)) hit = true;
            break;
        }
      }
      return { next, hit };
    },
  };
}
