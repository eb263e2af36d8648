/**
 * How `inferlog replay` ends: a run's result (or the error it threw) → words on stderr and an
 * exit code. The replay itself reports in domain terms; the flag names are added here.
 *
 *   0 all identical (with compare none: no status changed, nothing failed)
 *   1 differences or failures
 *   2 usage error, including filters the collector rejects (QUERY_INVALID) and an unwritable report
 *  66 nothing to replay (NOTHING_TO_REPLAY)
 *  69 collector or target unreachable
 * 130 interrupted (INTERRUPTED; the summary covers what was replayed)
 */
import type { InferlogError } from '../core/errors.js';
import type { ReplayOptions } from '../replay/options.js';
import type { ReplayResult } from '../replay/run-replay.js';
import { EXIT, EXIT_CODES, type ExitCode } from './exit-codes.js';

/** `--model nosuch --since 1h`: the filters as the person typed them, for "nothing matched". */
function describeFilter(opts: ReplayOptions): string {
  const given = Object.entries(opts.filter).map(([k, v]) => `--${k} ${v}`);
  return given.length > 0 ? ` (${given.join(' ')})` : '';
}

/** The error's message, with the flag it is about where the replay could not name it. */
export function replayMessage(err: InferlogError, opts: ReplayOptions): string {
  if (err.code === 'NOTHING_TO_REPLAY' && err.details.reason === 'no_match')
    return `no captured exchange matched the filters${describeFilter(opts)} at ${opts.from}: nothing was replayed`;
  if (err.code === 'OUTPUT_UNWRITABLE') return `--report ${err.message}`;
  return err.message;
}

export function replayExitCode(result: ReplayResult): ExitCode {
  if (result.error !== undefined) return EXIT_CODES[result.error.code];
  const s = result.summary;
  return s !== undefined && (s.different > 0 || s.failed > 0) ? EXIT.INPUT : EXIT.OK;
}
