/**
 * The one place that turns an error into an exit code (README, "CLI reference").
 *
 *   InferlogError ──code──▶ EXIT_CODES ──▶ process exit code
 *   anything else ─────────────────────▶ 70 (internal error: a bug, reported with its stack)
 *
 * Lower layers never decide exit codes: they throw (or return) an InferlogError, and the
 * command maps it here. The table is total over ERROR_CODES, so a new code does not compile
 * until someone decides what a person's shell should see for it.
 */
import { isInferlogError, type ErrorCode, type InferlogError } from '../core/errors.js';

/** sysexits-style codes inferlog exits with. */
export const EXIT = {
  OK: 0,
  /** Invalid config or input; for `replay`, differences found; for `query --id`, no such exchange. */
  INPUT: 1,
  /** A flag value is wrong, including a filter the collector rejects. */
  USAGE: 2,
  /** EX_NOINPUT: `replay` had nothing to replay. */
  NO_INPUT: 66,
  /** EX_UNAVAILABLE: a peer (collector, database, broker, model, target) is unreachable. */
  UNAVAILABLE: 69,
  /** EX_SOFTWARE: an internal error, i.e. a bug. */
  INTERNAL: 70,
  /** EX_NOPERM: the collector refused the credentials (401) or their permission (403). */
  NO_PERMISSION: 77,
  /** 128 + SIGINT: interrupted by Ctrl-C. */
  INTERRUPTED: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_CODES: Readonly<Record<ErrorCode, ExitCode>> = {
  CONFIG_INVALID: EXIT.INPUT,
  UNSAFE_PATH: EXIT.INPUT,
  LISTEN_FAILED: EXIT.INPUT,
  MODEL_LOAD_FAILED: EXIT.INPUT,
  NOT_FOUND: EXIT.INPUT,
  USAGE_INVALID: EXIT.USAGE,
  // A filter the collector rejects is a flag value to fix, as a flag inferlog rejects itself.
  QUERY_INVALID: EXIT.USAGE,
  // The URL given is not a collector's: a flag value to fix.
  COLLECTOR_ANSWER_INVALID: EXIT.USAGE,
  OUTPUT_UNWRITABLE: EXIT.USAGE,
  LAKE_UNREADABLE: EXIT.INPUT,
  NOTHING_TO_REPLAY: EXIT.NO_INPUT,
  COLLECTOR_UNREACHABLE: EXIT.UNAVAILABLE,
  STORE_UNAVAILABLE: EXIT.UNAVAILABLE,
  SOURCE_UNAVAILABLE: EXIT.UNAVAILABLE,
  AUTH_PROVIDER_UNAVAILABLE: EXIT.UNAVAILABLE,
  AUDIT_UNAVAILABLE: EXIT.UNAVAILABLE,
  UPSTREAM_UNREACHABLE: EXIT.UNAVAILABLE,
  UPSTREAM_TIMEOUT: EXIT.UNAVAILABLE,
  UPSTREAM_RESET: EXIT.UNAVAILABLE,
  // Over the collector's rate limit: the peer cannot serve us now; later it will.
  RATE_LIMITED: EXIT.UNAVAILABLE,
  UNAUTHENTICATED: EXIT.NO_PERMISSION,
  FORBIDDEN: EXIT.NO_PERMISSION,
  INTERRUPTED: EXIT.INTERRUPTED,
  // Codes below describe one exchange or one delivery, which the agent and the collector
  // count and answer, never exit on. Should one reach a command's top level, it is a bug.
  UPSTREAM_TOO_LARGE: EXIT.INTERNAL,
  CLIENT_ABORTED: EXIT.INTERNAL,
  CLIENT_TIMEOUT: EXIT.INTERNAL,
  CLIENT_REQUEST_INVALID: EXIT.INTERNAL,
  SINK_UNREACHABLE: EXIT.INTERNAL,
  SINK_TIMEOUT: EXIT.INTERNAL,
  SINK_THROTTLED: EXIT.INTERNAL,
  SINK_SERVER_ERROR: EXIT.INTERNAL,
  SINK_REJECTED: EXIT.INTERNAL,
  SINK_IO: EXIT.INTERNAL,
  EVENT_INVALID: EXIT.INTERNAL,
  PAYLOAD_TOO_LARGE: EXIT.INTERNAL,
  MODEL_INPUT_INVALID: EXIT.INTERNAL,
  METHOD_NOT_ALLOWED: EXIT.INTERNAL,
  MODEL_FAILED: EXIT.INTERNAL,
  BODY_NOT_JSON: EXIT.INTERNAL,
};

export function exitCodeFor(err: unknown): ExitCode {
  return isInferlogError(err) ? EXIT_CODES[err.code] : EXIT.INTERNAL;
}

/**
 * Prints `inferlog COMMAND: message` (with the stack for an internal error) and returns the
 * exit code the table gives. `wording` lets the command put its flag name in front of a lower
 * layer's domain message (`--store "x": …`).
 */
export function report(command: string, err: unknown, wording?: (err: InferlogError) => string): ExitCode {
  const code = exitCodeFor(err);
  const prefix = command === '' ? 'inferlog' : `inferlog ${command}`;
  if (code === EXIT.INTERNAL) {
    process.stderr.write(`${prefix}: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
  } else {
    const e = err as InferlogError;
    process.stderr.write(`${prefix}: ${wording ? wording(e) : e.message}\n`);
  }
  return code;
}

/** `report`, then exit at once. */
export function fail(command: string, err: unknown, wording?: (err: InferlogError) => string): never {
  process.exit(report(command, err, wording));
}
