/**
 * Line-framed bodies: Server-Sent Events and NDJSON, redacted line by line.
 *
 *   text ─split('\n')─▶ per line: SSE `data:` ─▶ one JSON document (json.ts), or text scrubbed
 *                                 SSE event / id / retry / comment ─▶ scrubbed
 *                                 SSE anything else, with paths ─▶ the marker (cannot be proven clean)
 *                                 NDJSON line ─▶ one JSON document; not JSON with paths ─▶ give up (undefined)
 *                                 the last line of a truncated body ─▶ the marker (cut off: cannot be inspected)
 *        ─join('\n')─▶ redacted text (line endings, \r included, kept)
 */
import type { CompiledRedaction } from './compile.js';
import { redactJsonText } from './json.js';
import { isInferlogError } from '../../core/errors.js';

/** SSE lines other than `data:` that carry no JSON document: a comment, or an event, id or retry field. */
const SSE_OTHER_LINE = /^(?::|(?:event|id|retry)(?::|$))/;

/** One JSON document in an SSE event or an NDJSON line. */
export function redactRecord(rules: CompiledRedaction, payload: string): string {
  const t = payload.trim();
  if (t === '' || t === '[DONE]') return payload;
  try {
    return redactJsonText(payload, rules.paths, rules.scrubber, rules.marker).text;
  } catch (err) {
    if (!isInferlogError(err, 'BODY_NOT_JSON')) throw err;
    return rules.hasPaths ? rules.marker : rules.scrubber.scrub(payload);
  }
}

/**
 * SSE and NDJSON bodies, line by line: a truncated body keeps its complete lines. Undefined when
 * an NDJSON line is not JSON while paths are configured: lines that are each JSON can only be read
 * as a sequence, but a body with one that is not might be one document to a lenient parser
 * (`{"x": NaN, "ssn":⏎"123-45-6789"⏎}`), whose fields the per-line rules would miss.
 */
export function redactLines(
  rules: CompiledRedaction,
  text: string,
  truncated: boolean,
  sse: boolean,
): string | undefined {
  const { marker, scrubber, hasPaths } = rules;
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
        lines[k] = redactJsonText(line, rules.paths, scrubber, marker).text + cr;
      } catch (err) {
        if (!isInferlogError(err, 'BODY_NOT_JSON')) throw err;
        if (hasPaths) return undefined;
        lines[k] = scrubber.scrub(line) + cr;
      }
    } else if (line.startsWith('data:')) {
      const prefix = line.charCodeAt(5) === 0x20 ? 'data: ' : 'data:';
      lines[k] = prefix + redactRecord(rules, line.slice(prefix.length)) + cr;
    } else if (hasPaths && !SSE_OTHER_LINE.test(line)) {
      lines[k] = marker + cr; // not an SSE field: nothing says what it is, so it cannot be proven clean
    } else lines[k] = scrubber.scrub(line) + cr;
  }
  return lines.join('\n');
}
