/**
 * The redactor: one policy applied to everything an exchange carries out of the process.
 *
 *   config load ─RedactionOptions─▶ compile.ts: checked, paths and patterns compiled (once)
 *                                        │
 *   sampler ──Exchange──▶ redactor ──────┴─ apply.ts ──Exchange (redacted copy)──▶ buffer / spool ──▶ every sink and format
 *                           │
 *                           ├─ request / response body ── JSON ─────────▶ field paths + scrubbers on strings (json.ts)
 *                           │                          ├─ SSE / NDJSON ──▶ the same, event by event (lines.ts)
 *                           │                          ├─ text ─────────▶ scrubbers (patterns.ts)
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
import type { RedactionOptions } from '../../config/settings.js';
import type { Stage } from '../types.js';
import { redactExchange, type RedactorHooks } from './apply.js';
import { compileRedaction } from './compile.js';

export { parseJsonPath, formatJsonPath } from './json-path.js';
export type { JsonPath, PathSegment } from './json-path.js';
export { parsePattern, BUILTIN_PATTERNS } from './patterns.js';
export { redactionProblems, validateRedactionOptions, type RedactionProblem } from './compile.js';
export { MAX_CUSTOM_SCAN_CHARS, TRUNCATED_TAIL_CHARS, type RedactorHooks } from './apply.js';

/**
 * Builds the redaction stage. Throws (with the message of parseJsonPath / parsePattern) on a bad
 * policy. Returns a redacted copy of each exchange; the input is not modified.
 *
 * @example
 *   const redactor = createRedactor({ jsonPaths: ['instances[*].ssn'], patterns: ['email'], forceHeaders: [], marker: '[REDACTED]' });
 *   const safe = redactor.apply(exchange);
 */
export function createRedactor(options: RedactionOptions, hooks: RedactorHooks = {}): Stage {
  const rules = compileRedaction(options);
  if (!rules.hasPaths && !rules.hasPatterns) return { name: 'redact', apply: (ex) => ex };
  return { name: 'redact', apply: (ex) => redactExchange(rules, ex, hooks) };
}
