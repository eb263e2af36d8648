/**
 * Outcome classification: the sink never retries, it only says what a retry can do.
 *
 *   2xx ─────────────────────────────▶ delivered
 *   429, 503 + Retry-After ──────────▶ SINK_THROTTLED (retryAfterMs)   throttle
 *   408 / timeout / aborted ─────────▶ SINK_TIMEOUT                    retryable
 *   other 5xx ───────────────────────▶ SINK_SERVER_ERROR               retryable
 *   other 3xx/4xx ───────────────────▶ SINK_REJECTED                   permanent
 *   refused, reset, DNS, TLS ────────▶ SINK_UNREACHABLE                retryable
 */
import { InferlogError, isInferlogError } from '../../core/errors.js';

/** `Retry-After` as milliseconds: delta-seconds or an HTTP-date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  const t = v.trim();
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  const date = Date.parse(t);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The error for a non-2xx answer; undefined for 2xx. `detail` is the start of the answer's body. */
export function classifyStatus(
  status: number,
  retryAfter: string | string[] | undefined,
  where: string,
  detail: string,
): InferlogError | undefined {
  if (status >= 200 && status < 300) return undefined;
  const what = `${where} answered ${status}${detail ? `: ${detail}` : ''}`;
  const retryAfterMs = parseRetryAfter(retryAfter);
  if (status === 429 || (status === 503 && retryAfterMs !== undefined)) {
    return new InferlogError('SINK_THROTTLED', what, { retryAfterMs, status });
  }
  // 408 says the server gave up waiting for us: the next attempt may well get through.
  if (status === 408) return new InferlogError('SINK_TIMEOUT', what, { status });
  if (status >= 500) return new InferlogError('SINK_SERVER_ERROR', what, { status });
  const hint =
    status >= 300 && status < 400
      ? ' (redirects are not followed: point logger.url at the final address)'
      : status === 401 || status === 403
        ? ' (the destination refused the credentials: check inferlog.dev/log-token-file, log-client-cert / --log-token-file, --log-client-cert)'
        : '';
  return new InferlogError('SINK_REJECTED', what + hint, { status });
}

const TIMEOUT_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'ETIMEDOUT',
]);

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; errors?: unknown; cause?: unknown };
  if (typeof e.code === 'string') return e.code;
  // Happy-eyeballs connects fail with an AggregateError of one error per address.
  if (Array.isArray(e.errors)) return errorCode(e.errors[0]);
  return e.cause !== undefined ? errorCode(e.cause) : undefined;
}

/** The error for a send that got no HTTP answer: aborted, timed out, or the network failed. */
export function classifyFailure(err: unknown, signal: AbortSignal, where: string): InferlogError {
  if (signal.aborted) {
    // Whoever aborted (the pipeline's timeout, shutdown) may say why with an InferlogError.
    if (isInferlogError(signal.reason)) return signal.reason;
    return new InferlogError(
      'SINK_TIMEOUT',
      `${where} did not answer before the send was aborted (timeout)`,
      { cause: err },
    );
  }
  if (isInferlogError(err)) return err;
  const code = errorCode(err);
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'UND_ERR_INVALID_ARG') {
    // The event itself cannot be sent (a header value HTTP cannot carry): retrying cannot help.
    return new InferlogError('SINK_REJECTED', `cannot send to ${where}: ${message}`, { cause: err });
  }
  if (code !== undefined && TIMEOUT_CODES.has(code)) {
    return new InferlogError('SINK_TIMEOUT', `${where} did not answer in time (${code})`, { cause: err });
  }
  const tls = code !== undefined && /CERT|SELF_SIGNED|TLS|SSL|UNABLE_TO_VERIFY/.test(code);
  const hint = tls
    ? ' — TLS verification failed: set tls.caCertFile to the CA that signed the server certificate, or tls.skipVerify'
    : '';
  return new InferlogError(
    'SINK_UNREACHABLE',
    `cannot reach ${where}: ${code ?? 'error'} ${message}${hint}`,
    { cause: err },
  );
}
