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
import type { CapturedBody, Exchange } from '../core/exchange.js';
import type { RedactionOptions } from '../config/settings.js';
import type { Stage } from './types.js';
import { compileJsonPaths, parseJsonPath, type PathMatcher } from './redaction-json-path.js';
import { compileScrubbers, parsePattern, type TextScrubber } from './redaction-patterns.js';
import { NotJsonError, redactJsonText } from './redaction-json.js';
import { detectStreamKind } from '../formats/stream-assembler.js';

export { parseJsonPath, formatJsonPath } from './redaction-json-path.js';
export type { JsonPath, PathSegment } from './redaction-json-path.js';
export { parsePattern, BUILTIN_PATTERNS } from './redaction-patterns.js';

/** Characters dropped from the end of a truncated text body: longer than any built-in detector's match. */
export const TRUNCATED_TAIL_CHARS = 256;

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

  /** SSE and NDJSON bodies, line by line: a truncated body keeps its complete lines. */
  const redactLines = (text: string, truncated: boolean, sse: boolean): string => {
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
      if (!sse) lines[k] = redactRecord(line) + cr;
      else if (line.startsWith('data:')) {
        const prefix = line.charCodeAt(5) === 0x20 ? 'data: ' : 'data:';
        lines[k] = prefix + redactRecord(line.slice(prefix.length)) + cr;
      } else lines[k] = scrubber.scrub(line) + cr;
    }
    return lines.join('\n');
  };

  /** The redacted body and, when it was withheld whole, why. */
  const redactBody = (body: CapturedBody, streamed: boolean): { body: CapturedBody; withheld?: string } => {
    if (body.bytes.length === 0) return { body };
    const text = decodeText(body.bytes, body.truncated);
    if (text === undefined) {
      const reason = 'not UTF-8 text, so the redaction rules cannot be applied';
      return { body: withheldBody(body, reason), withheld: reason };
    }
    const media = mediaType(body.contentType);
    let out: string;
    if (media === 'text/event-stream' || (streamed && /^(?:data|event|id|retry)?:/.test(text))) {
      out = redactLines(text, body.truncated, true);
    } else if (NDJSON_TYPES.has(media)) {
      out = redactLines(text, body.truncated, false);
    } else if (hasPaths) {
      if (body.truncated) {
        const reason =
          'JSON paths are configured and the body was cut at the capture limit, so fields cannot be located';
        return { body: withheldBody(body, reason), withheld: reason };
      }
      try {
        out = redactJsonText(text, matcher, scrubber, marker).text;
      } catch (err) {
        if (!(err instanceof NotJsonError)) throw err;
        const reason = `JSON paths are configured and the body is ${err.message}`;
        return { body: withheldBody(body, reason), withheld: reason };
      }
    } else {
      out = text;
      const first = text.trimStart().charCodeAt(0);
      let done = false;
      if (!body.truncated && (first === 0x7b || first === 0x5b || first === 0x22)) {
        // Scrub JSON strings decoded, so an escaped secret (a\u0040b.com) is still recognised.
        try {
          out = redactJsonText(text, matcher, scrubber, marker).text;
          done = true;
        } catch (err) {
          if (!(err instanceof NotJsonError)) throw err;
        }
      }
      if (!done) out = scrubText(text, body.truncated);
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
        const r = redactBody(ex.request, false);
        out.request = r.body;
        if (r.withheld !== undefined) hooks.withheld?.(ex, 'request', r.withheld);
      }
      if (ex.response) {
        const r = redactBody(ex.response, streamed);
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
