/**
 * Redaction, first half: the policy is checked and compiled once, when the config loads.
 *
 *   RedactionOptions ─redactionProblems─▶ every bad path / pattern / marker, tied to its option (validate)
 *                    ─compileRedaction──▶ CompiledRedaction: path matcher (json-path.ts)
 *                                                            + text scrubber (patterns.ts)
 *                                                            + which streamed texts a path names
 *
 * Why compile apart from apply: the per-exchange half (apply.ts) runs on the event loop for every
 * body the proxy captures, so everything that depends only on the policy is worked out here once,
 * as pino compiles its redaction paths once.
 */
import type { RedactionOptions } from '../../config/settings.js';
import { InferlogError } from '../../core/errors.js';
import { compileJsonPaths, parseJsonPath, type PathMatcher } from './json-path.js';
import { compileScrubbers, parsePattern, type TextScrubber } from './patterns.js';

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
  if (first) throw new InferlogError('CONFIG_INVALID', first.message);
}

/** A policy ready to apply: what apply.ts needs, and nothing it would have to work out per body. */
export interface CompiledRedaction {
  readonly marker: string;
  readonly paths: PathMatcher;
  readonly scrubber: TextScrubber;
  /** Some JSON path is configured: a body whose fields cannot be located is withheld whole. */
  readonly hasPaths: boolean;
  /** Some pattern is configured: url, metadata and error message are scrubbed too. */
  readonly hasPatterns: boolean;
  /** Per stream kind (formats/stream-assembler.ts): whether a path names the text the assembler joins. */
  readonly streamTextNamed: ReadonlyMap<string, boolean>;
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

/** Compiles a policy. Throws (with the message of parseJsonPath / parsePattern) on a bad one. */
export function compileRedaction(options: RedactionOptions): CompiledRedaction {
  validateRedactionOptions(options);
  const paths = compileJsonPaths(options.jsonPaths.map(parseJsonPath));
  const scrubber = compileScrubbers(options.patterns, options.marker);
  const streamTextNamed = new Map<string, boolean>();
  if (!paths.empty)
    for (const [kind, origins] of Object.entries(STREAM_TEXT_ORIGINS))
      streamTextNamed.set(
        kind,
        origins.some((c) => pathsReach(paths, c)),
      );
  return {
    marker: options.marker,
    paths,
    scrubber,
    hasPaths: !paths.empty,
    hasPatterns: !scrubber.empty,
    streamTextNamed,
  };
}
