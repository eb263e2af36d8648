/**
 * The redactor: one policy applied to everything an exchange carries out of the process.
 *
 *   sampler ──Exchange──▶ redactor ──Exchange (redacted copy)──▶ buffer / spool ──▶ every sink and format
 *                           │
 *                           ├─ request / response body ── JSON ─────────▶ field paths + scrubbers on strings
 *                           │                          ├─ SSE / NDJSON ──▶ the same, event by event
 *                           │                          ├─ text ─────────▶ scrubbers
 *                           │                          └─ anything that cannot be inspected ─▶ withheld whole
 *                           ├─ metadata header values, url, error.message ─▶ scrubbers
 *                           └─ stream.assembledText ─▶ withheld when a path names the streamed text, else scrubbers
 *
 * Fail closed: when a body cannot be inspected against the configured rules (not UTF-8, not valid
 * JSON while JSON paths are configured, cut at the capture limit mid-document), its bytes are
 * replaced by the marker and a note giving the reason, size and sha256; nothing of it leaves.
 * Text cut at the capture limit loses its last TRUNCATED_TAIL_CHARS characters, where a secret
 * could be half-captured and so unrecognisable.
 *
 * With no paths and no patterns the stage is the identity: one function call per exchange.
 */
import type { CapturedBody, Exchange } from '../../core/exchange.js';
import type { RedactionOptions } from '../../config/settings.js';
import type { Stage } from '../types.js';
import { compileJsonPaths, parseJsonPath, type PathMatcher } from './json-path.js';
import { compileScrubbers, parsePattern, type TextScrubber } from './patterns.js';
import { NotJsonError, redactJsonText } from './json.js';
import { detectStreamKind } from '../../formats/stream-assembler.js';

export { parseJsonPath, formatJsonPath } from './json-path.js';
export type { JsonPath, PathSegment } from './json-path.js';
export { parsePattern, BUILTIN_PATTERNS } from './patterns.js';

/** Characters dropped from the end of a truncated text body: longer than any built-in detector's match. */
export const TRUNCATED_TAIL_CHARS = 256;

/**
 * The most text (UTF-16 code units) custom `name=regex` rules scan in one body. They run on RE2
 * (linear, but about 0.5 µs per character in JavaScript), on the event loop before the response's
 * last bytes are written, so a larger body is withheld rather than delaying every other request.
 */
export const MAX_CUSTOM_SCAN_CHARS = 128 * 1024;

export interface RedactorHooks {
  /** A body was withheld whole (metrics: `inferlog_redaction_withheld_total{part,reason}`). */
  withheld?(ex: Exchange, part: 'request' | 'response', reason: string): void;
}

export interface RedactionProblem {
  /** Which option is wrong: `jsonPaths` ↔ `inferlog.dev/redact-json-paths`, `patterns` ↔ `redact-patterns`, `marker` ↔ `redact-marker`. */
  field: 'jsonPaths' | 'patterns' | 'marker';
  /** Index of the bad entry in the list (0 for the marker). */
  index: number;
  message: string;
}

/**
 * Every problem of a redaction policy, each tied to its option, so a validator can report all of
 * them at the right annotation or flag. Empty when the policy is valid.
 */
export function redactionProblems(options: RedactionOptions): RedactionProblem[] {
  const problems: RedactionProblem[] = [];
  const attempt = (field: RedactionProblem['field'], index: number, f: () => unknown): void => {
    try {
      f();
    } catch (err) {
      problems.push({ field, index, message: (err as Error).message });
    }
  };
  options.jsonPaths.forEach((p, i) => attempt('jsonPaths', i, () => parseJsonPath(p)));
  options.patterns.forEach((p, i) => attempt('patterns', i, () => parsePattern(p)));
  if (problems.every((p) => p.field !== 'patterns'))
    attempt('patterns', 0, () => compileScrubbers(options.patterns, options.marker));
  if (options.marker === '')
    problems.push({ field: 'marker', index: 0, message: 'the redaction marker must not be empty' });
  return problems;
}

/**
 * Validates a redaction policy without building it: throws the first problem's message (which
 * names the bad path or pattern and the position).
 */
export function validateRedactionOptions(options: RedactionOptions): void {
  const first = redactionProblems(options)[0];
  if (first) throw new Error(first.message);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/**
 * The body as text, or undefined when it is not UTF-8. A truncated body may end inside a
 * multi-byte character; that partial character is dropped rather than failing the whole body.
 */
function decodeText(bytes: Uint8Array, truncated: boolean): string | undefined {
  let end = bytes.length;
  if (truncated) {
    // Walk back over at most 3 continuation bytes to a lead byte; drop it if its sequence is incomplete.
    let k = end - 1;
    while (k >= 0 && k > end - 4 && ((bytes[k] as number) & 0xc0) === 0x80) k--;
    if (k >= 0) {
      const lead = bytes[k] as number;
      const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
      if (k + need > end) end = k;
    }
  }
  try {
    return utf8.decode(end === bytes.length ? bytes : bytes.subarray(0, end));
  } catch {
    return undefined;
  }
}

function mediaType(contentType: string | undefined): string {
  if (contentType === undefined) return '';
  const semi = contentType.indexOf(';');
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

const NDJSON_TYPES = new Set([
  'application/x-ndjson',
  'application/ndjson',
  'application/jsonl',
  'application/x-jsonlines',
  'application/jsonlines',
]);

/** SSE lines other than `data:` that carry no JSON document: a comment, or an event, id or retry field. */
const SSE_OTHER_LINE = /^(?::|(?:event|id|retry)(?::|$))/;

/** Charsets a body may declare and still be read as UTF-8. */
const UTF8_CHARSETS = new Set(['utf-8', 'utf8', 'us-ascii', 'ascii']);

/**
 * The declared charset when it is not UTF-8 (or ASCII): such a body may mean something else to the
 * model than the UTF-8 text the scrubbers would see (UTF-7 spells `@` as `+AEA-`), so it is withheld.
 */
function foreignCharset(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  const m = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(contentType);
  if (!m) return undefined;
  const cs = (m[1] as string).toLowerCase();
  return UTF8_CHARSETS.has(cs) ? undefined : cs;
}

/** Where a streamed kind's assembled text comes from, as concrete paths in each event. */
const STREAM_TEXT_ORIGINS: Record<string, Array<Array<string | number>>> = {
  'openai-chat': [
    ['choices', 0, 'delta', 'content'],
    ['choices', 0, 'message', 'content'],
  ],
  'openai-completion': [['choices', 0, 'text']],
  'v2-generate': [['text_output']],
};
STREAM_TEXT_ORIGINS.sse = Object.values(STREAM_TEXT_ORIGINS).flat();

/** True when some configured path names (or contains) one of these concrete paths. */
function pathsReach(matcher: PathMatcher, concrete: ReadonlyArray<string | number>): boolean {
  let states = matcher.start();
  for (const step of concrete) {
    const r =
      typeof step === 'number' ? matcher.step(states, undefined, step) : matcher.step(states, step, 0);
    if (r.hit) return true;
    states = r.next;
    if (states.length === 0) return false;
  }
  return false;
}

/**
 * Builds the redaction stage. Throws (with the message of parseJsonPath / parsePattern) on a bad
 * policy. Returns a redacted copy of each exchange; the input is not modified.
 *
 * @example
 *   const redactor = createRedactor({ jsonPaths: ['instances[*].ssn'], patterns: ['email'], forceHeaders: [], marker: '[REDACTED]' });
 *   const safe = redactor.apply(exchange);
 */
export function createRedactor(options: RedactionOptions, hooks: RedactorHooks = {}): Stage {
  validateRedactionOptions(options);
  const marker = options.marker;
  const matcher = compileJsonPaths(options.jsonPaths.map(parseJsonPath));
  const scrubber: TextScrubber = compileScrubbers(options.patterns, marker);
  const hasPaths = !matcher.empty;
  const hasPatterns = !scrubber.empty;
  if (!hasPaths && !hasPatterns) return { name: 'redact', apply: (ex) => ex };

  const streamTextNamed = new Map<string, boolean>();
  const streamTextIsNamed = (url: string): boolean => {
    const kind = detectStreamKind(url, 'text/event-stream') ?? 'sse';
    let named = streamTextNamed.get(kind);
    if (named === undefined) {
      named = (STREAM_TEXT_ORIGINS[kind] ?? []).some((c) => pathsReach(matcher, c));
      streamTextNamed.set(kind, named);
    }
    return named;
  };

  const withheldBody = (body: CapturedBody, reason: string): CapturedBody => {
    const note = `${marker} (whole body withheld: ${reason}; ${body.size} bytes${body.sha256 ? `, sha256 ${body.sha256}` : ''})`;
    return { ...body, bytes: encoder.encode(note), contentType: 'text/plain; charset=utf-8' };
  };

  /** Scrubs text; a truncated text also loses its tail, where a secret may be cut in half. */
  const scrubText = (text: string, truncated: boolean): string => {
    if (!truncated) return scrubber.scrub(text);
    const ranges = scrubber.ranges(text);
    let cut = Math.max(0, text.length - TRUNCATED_TAIL_CHARS);
    for (const [a, b] of ranges) if (a < cut && b > cut) cut = a;
    return (
      scrubber.apply(
        text.slice(0, cut),
        ranges.filter(([a]) => a < cut),
      ) + marker
    );
  };

  /** One JSON document in an SSE event or an NDJSON line. */
  const redactRecord = (payload: string): string => {
    const t = payload.trim();
    if (t === '' || t === '[DONE]') return payload;
    try {
      return redactJsonText(payload, matcher, scrubber, marker).text;
    } catch (err) {
      if (!(err instanceof NotJsonError)) throw err;
      return hasPaths ? marker : scrubber.scrub(payload);
    }
  };

  /**
   * SSE and NDJSON bodies, line by line: a truncated body keeps its complete lines. Undefined when
   * an NDJSON line is not JSON while paths are configured: lines that are each JSON can only be read
   * as a sequence, but a body with one that is not might be one document to a lenient parser
   * (`{"x": NaN, "ssn":⏎"123-45-6789"⏎}`), whose fields the per-line rules would miss.
   */
  const redactLines = (text: string, truncated: boolean, sse: boolean): string | undefined => {
    const lines = text.split('\n');
    const last = lines.length - 1;
    for (let k = 0; k <= last; k++) {
      const raw = lines[k] as string;
      if (raw === '') continue;
      if (k === last && truncated) {
        lines[k] = marker; // a cut-off line cannot be inspected
        continue;
      }
      const cr = raw.endsWith('\r') ? '\r' : '';
      const line = cr ? raw.slice(0, -1) : raw;
      if (line === '') continue;
      if (!sse) {
        if (line.trim() === '') continue;
        try {
          lines[k] = redactJsonText(line, matcher, scrubber, marker).text + cr;
        } catch (err) {
          if (!(err instanceof NotJsonError)) throw err;
          if (hasPaths) return undefined;
          lines[k] = scrubber.scrub(line) + cr;
        }
      } else if (line.startsWith('data:')) {
        const prefix = line.charCodeAt(5) === 0x20 ? 'data: ' : 'data:';
        lines[k] = prefix + redactRecord(line.slice(prefix.length)) + cr;
      } else if (hasPaths && !SSE_OTHER_LINE.test(line)) {
        lines[k] = marker + cr; // not an SSE field: nothing says what it is, so it cannot be proven clean
      } else lines[k] = scrubber.scrub(line) + cr;
    }
    return lines.join('\n');
  };

  /**
   * The redacted body and, when it was withheld whole, why. The parser is chosen from the bytes,
   * never from the label alone: a client labels its request, so `text/event-stream` or NDJSON on
   * a request must not route a JSON document around the JSON paths (issue 16). Only a response's
   * label, which the model server sets, selects the per-event (SSE) or per-line (NDJSON) rules,
   * and only for a body that is not itself one JSON document.
   */
  const redactBody = (
    body: CapturedBody,
    part: 'request' | 'response',
    streamed: boolean,
  ): { body: CapturedBody; withheld?: string } => {
    if (body.bytes.length === 0) return { body };
    const withhold = (reason: string): { body: CapturedBody; withheld: string } => ({
      body: withheldBody(body, reason),
      withheld: reason,
    });
    if (body.stillEncoded) return withhold('still content-encoded, so the redaction rules cannot be applied');
    const charset = foreignCharset(body.contentType);
    if (charset !== undefined)
      return withhold(`declared charset ${charset} is not UTF-8, so the redaction rules cannot be applied`);
    const text = decodeText(body.bytes, body.truncated);
    if (text === undefined) return withhold('not UTF-8 text, so the redaction rules cannot be applied');
    // UTF-16 and UTF-32 text of ASCII is valid UTF-8 with a NUL in every other byte, which hides
    // every secret from the scrubbers: a NUL means binary, never inspectable text.
    if (scrubber.custom && text.length > MAX_CUSTOM_SCAN_CHARS)
      return withhold(
        `larger than ${MAX_CUSTOM_SCAN_CHARS} characters, the most custom redaction patterns scan in one body`,
      );
    if (text.includes('\u0000'))
      return withhold('binary (contains NUL bytes), so the redaction rules cannot be applied');

    let notJson: NotJsonError | undefined;
    if (!body.truncated) {
      try {
        const out = redactJsonText(text, matcher, scrubber, marker).text;
        return out === text ? { body } : { body: { ...body, bytes: encoder.encode(out) } };
      } catch (err) {
        if (!(err instanceof NotJsonError)) throw err;
        notJson = err;
      }
    }
    const media = part === 'response' ? mediaType(body.contentType) : '';
    let out: string;
    if (media === 'text/event-stream' || (streamed && /^(?:data|event|id|retry)?:/.test(text))) {
      out = redactLines(text, body.truncated, true) as string;
    } else if (NDJSON_TYPES.has(media)) {
      const lines = redactLines(text, body.truncated, false);
      if (lines === undefined)
        return withhold('JSON paths are configured and a line of the NDJSON body is not JSON');
      out = lines;
    } else if (hasPaths) {
      return withhold(
        notJson
          ? `JSON paths are configured and the body is ${notJson.message}`
          : 'JSON paths are configured and the body was cut at the capture limit, so fields cannot be located',
      );
    } else {
      out = scrubText(text, body.truncated);
    }
    if (out === text && !body.truncated) return { body };
    return { body: { ...body, bytes: encoder.encode(out) } };
  };

  const scrubMetadata = (metadata: Record<string, string[]>): Record<string, string[]> => {
    let changed = false;
    const out: Record<string, string[]> = {};
    for (const [k, values] of Object.entries(metadata)) {
      out[k] = values.map((v) => {
        const s = scrubber.scrub(v);
        if (s !== v) changed = true;
        return s;
      });
    }
    return changed ? out : metadata;
  };

  return {
    name: 'redact',
    apply(ex) {
      const out: Exchange = { ...ex };
      const streamed = ex.stream !== undefined;
      if (ex.request) {
        const r = redactBody(ex.request, 'request', false);
        out.request = r.body;
        if (r.withheld !== undefined) hooks.withheld?.(ex, 'request', r.withheld);
      }
      if (ex.response) {
        const r = redactBody(ex.response, 'response', streamed);
        out.response = r.body;
        if (r.withheld !== undefined) hooks.withheld?.(ex, 'response', r.withheld);
      }
      if (hasPatterns) {
        out.url = scrubber.scrub(ex.url);
        out.metadata = scrubMetadata(ex.metadata);
        if (ex.error) out.error = { ...ex.error, message: scrubber.scrub(ex.error.message) };
      }
      if (ex.stream?.assembledText !== undefined) {
        const text = ex.stream.assembledText;
        const safe = hasPaths && streamTextIsNamed(ex.url) ? marker : scrubber.scrub(text);
        if (safe !== text) out.stream = { ...ex.stream, assembledText: safe };
      }
      return out;
    },
  };
}
