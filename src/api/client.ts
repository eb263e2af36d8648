/**
 * A small client for the collector's query API, used by `inferlog query`, `tail` and `replay`.
 *
 *   GET base/path?params ──fetch fails──▶ COLLECTOR_UNREACHABLE
 *                        ──not JSON─────▶ COLLECTOR_ANSWER_INVALID (the URL is not a collector's)
 *                        ──4xx/5xx──────▶ the collector's own code (QUERY_INVALID, NOT_FOUND,
 *                                         STORE_UNAVAILABLE…) with its status and details
 *                        ──2xx──────────▶ the parsed body
 *
 *                        ──401 / 403────▶ UNAUTHENTICATED / FORBIDDEN (exit 77), whatever the body
 *                        ──2xx──────────▶ the parsed body
 *
 * Credentials (`Collector.token`, a TLS `dispatcher` with a private CA or a client certificate)
 * travel only in the Authorization header and the TLS handshake: never in the URL, never in a
 * message. The CLI maps the codes to exit codes (src/cli/exit-codes.ts).
 */
import { fetch as undiciFetch, type Dispatcher } from 'undici';
import { InferlogError, isErrorCode, type ErrorDetails } from '../core/errors.js';
import type { ExchangeView } from './view.js';

/** A collector and how to prove who is asking. */
export interface Collector {
  url: string;
  /** Sent as `Authorization: Bearer`. */
  token?: string;
  /** An undici Agent with the TLS options (private CA, client certificate). */
  dispatcher?: Dispatcher;
}

/** A bare URL: no credentials (the loopback quick start). */
export type CollectorRef = string | Collector;

function collectorOf(ref: CollectorRef): Collector {
  return typeof ref === 'string' ? { url: ref } : ref;
}

const AUTH_HINT: Record<number, string> = {
  401: 'give a token with --token-file FILE or INFERLOG_TOKEN',
  403: 'the credentials are valid but lack the scope, namespace or model this needs',
};

function why(cause: unknown): string {
  return cause instanceof Error
    ? ((cause.cause as Error | undefined)?.message ?? cause.message)
    : String(cause);
}

/** The details a collector sent beside code and message, kept when they are plain values. */
function detailsOf(error: Record<string, unknown>): ErrorDetails {
  const out: Record<string, string | number | boolean | null> = {};
  for (const [k, v] of Object.entries(error)) {
    if (k === 'code' || k === 'message') continue;
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
  }
  return out;
}

export interface ListAnswer {
  items: ExchangeView[];
  nextCursor: string | null;
}

export async function getJson<T>(
  ref: CollectorRef,
  path: string,
  params: Record<string, string | undefined> = {},
): Promise<T> {
  return requestJson<T>('GET', ref, path, params);
}

/** `getJson` with another method (erasure sends DELETE); the same credentials and errors. */
export async function requestJson<T>(
  method: 'GET' | 'DELETE',
  ref: CollectorRef,
  path: string,
  params: Record<string, string | undefined> = {},
): Promise<T> {
  const collector = collectorOf(ref);
  const base = collector.url;
  const u = new URL(path, base.endsWith('/') ? base : base + '/');
  for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.set(k, v);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (collector.token !== undefined) headers.authorization = `Bearer ${collector.token}`;
  let res: Response;
  try {
    const init = { method, headers, signal: AbortSignal.timeout(30_000) };
    res = collector.dispatcher
      ? ((await undiciFetch(u, { ...init, dispatcher: collector.dispatcher })) as unknown as Response)
      : await fetch(u, init);
  } catch (err) {
    const reason = why(err);
    const hint = /certificate|self[- ]signed|issuer/i.test(reason)
      ? ' (a private CA? give it with --ca-file)'
      : '';
    throw new InferlogError(
      'COLLECTOR_UNREACHABLE',
      `collector at ${base} is unreachable: ${reason}${hint}`,
      {
        cause: err,
      },
    );
  }
  const text = await res.text();
  if (res.status === 401 || res.status === 403) throw authError(res.status, text, base);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new InferlogError(
      'COLLECTOR_ANSWER_INVALID',
      `unexpected answer from ${u.origin} (HTTP ${res.status}, not JSON): is it a collector?`,
      { status: res.status },
    );
  }
  if (!res.ok) {
    const raw = (body as { error?: unknown } | null)?.error;
    const e = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
    const message = `collector at ${base} answered ${res.status}: ${typeof e.message === 'string' ? e.message : `HTTP ${res.status}`}`;
    // A code this version does not know (a newer collector) still says the answer was an error.
    const code = isErrorCode(e.code) ? e.code : 'COLLECTOR_ANSWER_INVALID';
    throw new InferlogError(code, message, { status: res.status, details: detailsOf(e) });
  }
  return body as T;
}

/**
 * 401 / 403, also from a proxy in front of the collector that answers in HTML: the code follows the
 * status. The collector's message is kept (it names the scope or namespace missing).
 */
function authError(status: 401 | 403, text: string, base: string): InferlogError {
  const code = status === 401 ? 'UNAUTHENTICATED' : 'FORBIDDEN';
  let said = '';
  try {
    const e = (JSON.parse(text) as { error?: { message?: unknown } } | null)?.error;
    if (typeof e?.message === 'string') said = `: ${e.message}`;
  } catch {
    // not the collector's JSON: the status says enough
  }
  return new InferlogError(
    code,
    `collector at ${base} answered ${status} ${code}${said} (${AUTH_HINT[status]})`,
    { status },
  );
}
