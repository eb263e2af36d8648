/**
 * The error catalogue. Every error inferlog reports has a stable code, a kind that
 * says what a caller should do about it, and a human message. README's
 * "Error codes" section lists every code; a test keeps the two in step.
 */

/** retryable: try again later; permanent: retrying cannot help; throttle: retry, after the peer's delay. */
export type ErrorKind = 'retryable' | 'permanent' | 'throttle';

export const ERROR_CODES = {
  CONFIG_INVALID: { kind: 'permanent', summary: 'A config file or flag failed validation.' },
  UPSTREAM_UNREACHABLE: { kind: 'retryable', summary: 'The model server refused or dropped the connection.' },
  UPSTREAM_TIMEOUT: { kind: 'retryable', summary: 'The model server did not answer in time.' },
  UPSTREAM_RESET: { kind: 'retryable', summary: 'The model server closed the connection mid-response.' },
  UPSTREAM_TOO_LARGE: {
    kind: 'permanent',
    summary: "The model server's answer to a replayed request is over 64 MiB, on the wire or decoded.",
  },
  CLIENT_ABORTED: { kind: 'permanent', summary: 'The client went away before the response finished.' },
  CLIENT_TIMEOUT: {
    kind: 'permanent',
    summary: 'The client did not send its request body in time; the agent answered 408.',
  },
  CLIENT_REQUEST_INVALID: {
    kind: 'permanent',
    summary: 'The request cannot be forwarded as sent (e.g. two Host headers); the agent answered 400.',
  },
  SINK_UNREACHABLE: {
    kind: 'retryable',
    summary: 'The log destination refused the connection or could not be resolved.',
  },
  SINK_TIMEOUT: { kind: 'retryable', summary: 'The log destination did not answer within the send timeout.' },
  SINK_THROTTLED: { kind: 'throttle', summary: 'The log destination answered 429 or 503 with Retry-After.' },
  SINK_SERVER_ERROR: { kind: 'retryable', summary: 'The log destination answered 5xx.' },
  SINK_REJECTED: {
    kind: 'permanent',
    summary: 'The log destination answered 4xx: the event will never be accepted.',
  },
  SINK_IO: { kind: 'retryable', summary: 'Writing to a local log destination (file, stdout) failed.' },
  EVENT_INVALID: {
    kind: 'permanent',
    summary: 'A received CloudEvent is malformed or misses a required attribute.',
  },
  PAYLOAD_TOO_LARGE: { kind: 'permanent', summary: 'A received request is over the size limit.' },
  STORE_UNAVAILABLE: {
    kind: 'retryable',
    summary: 'The collector store could not commit (database down, disk full).',
  },
  QUERY_INVALID: { kind: 'permanent', summary: 'A query parameter is malformed.' },
  NOT_FOUND: { kind: 'permanent', summary: 'No such exchange or model.' },
  UNSAFE_PATH: {
    kind: 'permanent',
    summary:
      "A data directory is not the process's own (owner, group/world-writable), or a data file is a symbolic link.",
  },
} as const satisfies Record<string, { kind: ErrorKind; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class InferlogError extends Error {
  readonly code: ErrorCode;
  readonly kind: ErrorKind;
  /** For throttle errors: how long the peer asked us to wait. */
  readonly retryAfterMs: number | undefined;
  /** For HTTP-facing errors: the status to answer with. */
  readonly status: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; retryAfterMs?: number; status?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'InferlogError';
    this.code = code;
    this.kind = ERROR_CODES[code].kind;
    this.retryAfterMs = options.retryAfterMs;
    this.status = options.status;
  }
}

export function isInferlogError(err: unknown): err is InferlogError {
  return err instanceof InferlogError;
}
