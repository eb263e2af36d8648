/**
 * Redaction, second half: a compiled policy (compile.ts) applied to one exchange, on the event loop.
 *
 *   Exchange ─redactExchange─▶ redacted copy (the input is not modified)
 *     ├─ request / response body ─redactBody─┬─ cannot be inspected (encoded, foreign charset, not UTF-8,
 *     │                                      │  NUL bytes, too large for custom patterns) ─▶ withheld whole
 *     │                                      ├─ one JSON document ─▶ paths + scrubbers (json.ts)
 *     │                                      ├─ SSE / NDJSON response ─▶ the same, line by line (lines.ts)
 *     │                                      ├─ paths configured, fields not locatable ─▶ withheld whole
 *     │                                      └─ text ─▶ scrubbers (a truncated text also loses its tail)
 *     ├─ url, metadata values, error.message ─▶ scrubbers
 *     └─ stream.assembledText ─▶ the marker when a path names the streamed text, else scrubbers
 *
 * Why it is lean: it runs before the response's last bytes are written, for every exchange, so it
 * only walks the text; everything that depends on the policy alone was worked out in compile.ts.
 */
import type { CapturedBody, Exchange } from '../../core/exchange.js';
import { detectStreamKind } from '../../formats/stream-assembler.js';
import { decodeText, foreignCharset, mediaType, NDJSON_TYPES } from './body-text.js';
import type { CompiledRedaction } from './compile.js';
import { redactJsonText } from './json.js';
import { InferlogError, isInferlogError } from '../../core/errors.js';
import { redactLines } from './lines.js';

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

const encoder = new TextEncoder();

/** A redacted copy of `ex` under `rules`; `hooks.withheld` hears of every body withheld whole. */
export function redactExchange(rules: CompiledRedaction, ex: Exchange, hooks: RedactorHooks): Exchange {
  const { scrubber } = rules;
  const out: Exchange = { ...ex };
  const streamed = ex.stream !== undefined;
  if (ex.request) {
    const r = redactBody(rules, ex.request, 'request', false);
    out.request = r.body;
    if (r.withheld !== undefined) hooks.withheld?.(ex, 'request', r.withheld);
  }
  if (ex.response) {
    const r = redactBody(rules, ex.response, 'response', streamed);
    out.response = r.body;
    if (r.withheld !== undefined) hooks.withheld?.(ex, 'response', r.withheld);
  }
  if (rules.hasPatterns) {
    out.url = scrubber.scrub(ex.url);
    out.metadata = scrubMetadata(rules, ex.metadata);
    if (ex.error) out.error = { ...ex.error, message: scrubber.scrub(ex.error.message) };
  }
  if (ex.stream?.assembledText !== undefined) {
    const text = ex.stream.assembledText;
    const safe = rules.hasPaths && streamTextIsNamed(rules, ex.url) ? rules.marker : scrubber.scrub(text);
    if (safe !== text) out.stream = { ...ex.stream, assembledText: safe };
  }
  return out;
}

function streamTextIsNamed(rules: CompiledRedaction, url: string): boolean {
  const kind = detectStreamKind(url, 'text/event-stream') ?? 'sse';
  return rules.streamTextNamed.get(kind) ?? false;
}

/**
 * The redacted body and, when it was withheld whole, why. The parser is chosen from the bytes,
 * never from the label alone: a client labels its request, so `text/event-stream` or NDJSON on
 * a request must not route a JSON document around the JSON paths (issue 16). Only a response's
 * label, which the model server sets, selects the per-event (SSE) or per-line (NDJSON) rules,
 * and only for a body that is not itself one JSON document.
 */
export function redactBody(
  rules: CompiledRedaction,
  body: CapturedBody,
  part: 'request' | 'response',
  streamed: boolean,
): { body: CapturedBody; withheld?: string } {
  if (body.bytes.length === 0) return { body };
  const { scrubber, marker, hasPaths } = rules;
  const withhold = (reason: string): { body: CapturedBody; withheld: string } => ({
    body: withheldBody(marker, body, reason),
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

  let notJson: InferlogError | undefined;
  if (!body.truncated) {
    try {
      const out = redactJsonText(text, rules.paths, scrubber, marker).text;
      return out === text ? { body } : { body: { ...body, bytes: encoder.encode(out) } };
    } catch (err) {
      if (!isInferlogError(err, 'BODY_NOT_JSON')) throw err;
      notJson = err;
    }
  }
  const media = part === 'response' ? mediaType(body.contentType) : '';
  let out: string;
  if (media === 'text/event-stream' || (streamed && /^(?:data|event|id|retry)?:/.test(text))) {
    out = redactLines(rules, text, body.truncated, true) as string;
  } else if (NDJSON_TYPES.has(media)) {
    const lines = redactLines(rules, text, body.truncated, false);
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
    out = scrubText(rules, text, body.truncated);
  }
  if (out === text && !body.truncated) return { body };
  return { body: { ...body, bytes: encoder.encode(out) } };
}

/** The marker and a note in place of the body: why, how large, and its sha256 (to match it elsewhere). */
function withheldBody(marker: string, body: CapturedBody, reason: string): CapturedBody {
  const note = `${marker} (whole body withheld: ${reason}; ${body.size} bytes${body.sha256 ? `, sha256 ${body.sha256}` : ''})`;
  return { ...body, bytes: encoder.encode(note), contentType: 'text/plain; charset=utf-8' };
}

/** Scrubs text; a truncated text also loses its tail, where a secret may be cut in half. */
function scrubText(rules: CompiledRedaction, text: string, truncated: boolean): string {
  const { scrubber } = rules;
  if (!truncated) return scrubber.scrub(text);
  const ranges = scrubber.ranges(text);
  let cut = Math.max(0, text.length - TRUNCATED_TAIL_CHARS);
  for (const [a, b] of ranges) if (a < cut && b > cut) cut = a;
  return (
    scrubber.apply(
      text.slice(0, cut),
      ranges.filter(([a]) => a < cut),
    ) + rules.marker
  );
}

/** Metadata header values, scrubbed; the same object when nothing changed. */
function scrubMetadata(
  rules: CompiledRedaction,
  metadata: Record<string, string[]>,
): Record<string, string[]> {
  let changed = false;
  const out: Record<string, string[]> = {};
  for (const [k, values] of Object.entries(metadata)) {
    out[k] = values.map((v) => {
      const s = rules.scrubber.scrub(v);
      if (s !== v) changed = true;
      return s;
    });
  }
  return changed ? out : metadata;
}
