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
  USAGE_INVALID: { kind: 'permanent', summary: 'A command-line flag or argument is invalid.' },
  LISTEN_FAILED: {
    kind: 'permanent',
    summary: 'A server cannot listen on its address (port in use, no permission).',
  },
  COLLECTOR_UNREACHABLE: {
    kind: 'retryable',
    summary: 'The collector (query API) refused the connection, could not be resolved or did not answer.',
  },
  COLLECTOR_ANSWER_INVALID: {
    kind: 'permanent',
    summary: "An answer is not what the collector's API returns: the URL is probably not a collector.",
  },
  SOURCE_UNAVAILABLE: {
    kind: 'retryable',
    summary: 'The collector cannot consume from its source (Kafka brokers down or unreachable).',
  },
  MODEL_LOAD_FAILED: {
    kind: 'permanent',
    summary: 'The built-in model server cannot load a model (unsupported format, unreadable file).',
  },
  MODEL_INPUT_INVALID: {
    kind: 'permanent',
    summary: "A request to the built-in model server is malformed (KServe's InvalidInput); it answered 400.",
  },
  METHOD_NOT_ALLOWED: {
    kind: 'permanent',
    summary: 'A route was called with the wrong HTTP method; the server answered 405 with Allow.',
  },
  MODEL_FAILED: {
    kind: 'retryable',
    summary: "The built-in model server's model failed on a request; it answered 500.",
  },
  BODY_NOT_JSON: {
    kind: 'permanent',
    summary:
      'A body that JSON-path redaction must read is not valid JSON: it is withheld (redaction fails closed).',
  },
  NOTHING_TO_REPLAY: {
    kind: 'permanent',
    summary:
      'replay: no captured exchange matched the filters, or none of those that matched could be replayed.',
  },
  OUTPUT_UNWRITABLE: {
    kind: 'permanent',
    summary: 'An output file (e.g. the replay report) cannot be created.',
  },
  LAKE_UNREADABLE: {
    kind: 'permanent',
    summary:
      '`query --from/--db`: the blob store cannot be listed or read, or an object is not Parquet of the exchanges layout.',
  },
  UNAUTHENTICATED: {
    kind: 'permanent',
    summary:
      'A collector request carries no credentials, or credentials it does not accept; it answered 401.',
  },
  FORBIDDEN: {
    kind: 'permanent',
    summary:
      'The credentials are valid but lack the scope, namespace or model the request needs; it answered 403.',
  },
  AUTH_PROVIDER_UNAVAILABLE: {
    kind: 'retryable',
    summary:
      "The OIDC provider's discovery document or keys cannot be fetched, so a token cannot be checked (the collector answered 503), or sign-in cannot start.",
  },
  AUDIT_UNAVAILABLE: {
    kind: 'retryable',
    summary:
      'The collector cannot write its audit log (disk full, file removed): it answered 503 instead of serving bodies unaudited.',
  },
  RATE_LIMITED: {
    kind: 'throttle',
    summary: 'A collector caller is over its rate limit (--rate-limit); it answered 429 with Retry-After.',
  },
  INTERRUPTED: {
    kind: 'permanent',
    summary: 'The run was interrupted (Ctrl-C); what was done so far is reported.',
  },
} as const satisfies Record<string, { kind: ErrorKind; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * Machine-readable facts about one error, beside its message: which query parameter
 * (`parameter`), a metrics label (`reason`), a limit (`maxBytes`). The collector's API
 * renders them next to `code` and `message`, so they must be plain JSON values and safe
 * to show to the client that caused the error.
 */
export type ErrorDetails = Readonly<Record<string, string | number | boolean | null>>;

export interface InferlogErrorOptions {
  cause?: unknown;
  /** For throttle errors: how long the peer asked us to wait. */
  retryAfterMs?: number;
  /** For HTTP-facing errors: the status to answer with (or the status a peer answered). */
  status?: number;
  details?: ErrorDetails;
  /** For HTTP-facing errors: response headers the answer needs (`Allow` on a 405). */
  headers?: Readonly<Record<string, string>>;
}

/**
 * The one error type. Extra data rides on it (status, details, headers) rather than on
 * subclasses, so every layer can tell errors apart by `code` alone, and the CLI maps
 * codes to exit codes with one table (src/cli/exit-codes.ts).
 */
export class InferlogError extends Error {
  readonly code: ErrorCode;
  readonly kind: ErrorKind;
  /** For throttle errors: how long the peer asked us to wait. */
  readonly retryAfterMs: number | undefined;
  /** For HTTP-facing errors: the status to answer with. */
  readonly status: number | undefined;
  readonly details: ErrorDetails;
  readonly headers: Readonly<Record<string, string>> | undefined;

  constructor(code: ErrorCode, message: string, options: InferlogErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'InferlogError';
    this.code = code;
    this.kind = ERROR_CODES[code].kind;
    this.retryAfterMs = options.retryAfterMs;
    this.status = options.status;
    this.details = options.details ?? {};
    this.headers = options.headers;
  }
}

export function isInferlogError(err: unknown, code?: ErrorCode): err is InferlogError {
  return err instanceof InferlogError && (code === undefined || err.code === code);
}

/** Whether `text` is a catalogued code (e.g. one a peer's JSON answer names). */
export function isErrorCode(text: unknown): text is ErrorCode {
  return typeof text === 'string' && Object.hasOwn(ERROR_CODES, text);
}
