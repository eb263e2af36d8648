/**
 * One classification for every cloud object store's failures, so the pipeline's retry treats a
 * GCS 503 like an S3 503. A store only classifies; withRetry decides what to do.
 *
 *   404 on get ─────────────────────────────▶ NOT_FOUND                    permanent
 *   404 on put or list ─────────────────────▶ SINK_REJECTED (no such bucket or container)
 *   429, 503 + Retry-After, SlowDown ───────▶ SINK_THROTTLED (Retry-After) throttle
 *   408, timeout ───────────────────────────▶ SINK_TIMEOUT                 retryable
 *   other 5xx ──────────────────────────────▶ SINK_SERVER_ERROR            retryable
 *   401, 403 ───────────────────────────────▶ SINK_REJECTED + which credentials were used
 *   other 4xx ──────────────────────────────▶ SINK_REJECTED                permanent
 *   no answer (refused, reset, DNS, TLS) ───▶ SINK_UNREACHABLE             retryable
 *   no credentials found at all ────────────▶ SINK_REJECTED + how to give them
 */
import { InferlogError, isInferlogError } from '../../core/errors.js';

const TIMEOUT_CODES = new Set([
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
]);
const THROTTLE_CODES = new Set(['SlowDown', 'ServerBusy', 'TooManyRequests', 'rateLimitExceeded']);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ECONNABORTED',
  'REQUEST_SEND_ERROR',
]);

export interface StoreFailure {
  /** The HTTP status the store answered, when it answered. */
  readonly status?: number;
  /** The store's or Node's error code (`BlobNotFound`, `ECONNREFUSED`…). */
  readonly code?: string;
  readonly retryAfter?: string;
  readonly message: string;
}

/**
 * The InferlogError for one failed store call.
 * `where`: the store URL and key ("gs://bucket/key"); `auth`: which credentials were used
 * (never their values), for the 401/403 message; `signal`: the caller's abort signal.
 */
export function classifyStoreFailure(
  op: 'put' | 'get' | 'list',
  f: StoreFailure,
  where: string,
  auth: string,
  cause: unknown,
  signal?: AbortSignal,
): InferlogError {
  if (isInferlogError(cause)) return cause;
  if (signal?.aborted) {
    if (isInferlogError(signal.reason)) return signal.reason;
    return new InferlogError('SINK_TIMEOUT', `${where}: aborted before the store answered (timeout)`, {
      cause,
    });
  }
  const { status, code } = f;
  const what = `${where}: ${[status, code, oneLine(f.message)].filter((p) => p !== undefined && p !== '').join(' ')}`;
  if (status === undefined) {
    if (code !== undefined && TIMEOUT_CODES.has(code))
      return new InferlogError('SINK_TIMEOUT', `${what} (no answer in time)`, { cause });
    if (code !== undefined && /CERT|SELF_SIGNED|TLS|SSL|UNABLE_TO_VERIFY/.test(code))
      return new InferlogError('SINK_UNREACHABLE', `${what} — TLS verification failed`, { cause });
    if (
      (code !== undefined && NETWORK_CODES.has(code)) ||
      /ECONNREFUSED|ECONNRESET|ENOTFOUND|socket hang up/.test(f.message)
    )
      return new InferlogError('SINK_UNREACHABLE', `cannot reach ${what}`, { cause });
    if (/credential|authenticat|token/i.test(f.message))
      return new InferlogError('SINK_REJECTED', `${what} — no usable credentials (${auth})`, { cause });
    // An error with neither a status nor a known network code: most likely the network too.
    return new InferlogError('SINK_UNREACHABLE', `cannot reach ${what}`, { cause });
  }
  if (status === 404 && op === 'get') return new InferlogError('NOT_FOUND', what, { status: 404, cause });
  if (status === 404)
    return new InferlogError('SINK_REJECTED', `${what} — does the bucket or container exist?`, {
      status,
      cause,
    });
  const retryAfterMs = parseRetryAfterSeconds(f.retryAfter);
  // S3's SlowDown and Azure's ServerBusy are throttling whatever the status says.
  if (status === 429 || (status === 503 && retryAfterMs !== undefined) || THROTTLE_CODES.has(code ?? ''))
    return new InferlogError('SINK_THROTTLED', what, {
      status,
      cause,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  if (status === 408) return new InferlogError('SINK_TIMEOUT', what, { status, cause });
  if (status >= 500) return new InferlogError('SINK_SERVER_ERROR', what, { status, cause });
  if (status === 401 || status === 403)
    return new InferlogError(
      'SINK_REJECTED',
      `${what} — the store refused the credentials (${auth}); check them, and their permission on the bucket or container`,
      { status, cause },
    );
  return new InferlogError('SINK_REJECTED', what, { status, cause });
}

function parseRetryAfterSeconds(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const date = Date.parse(v);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Store messages can be XML or multi-line JSON: one short line is enough for a log. */
function oneLine(s: string): string {
  const line = s.replace(/\s+/g, ' ').trim();
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
