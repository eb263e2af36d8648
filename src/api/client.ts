/**
 * A small client for the collector's query API, used by `inferlog query`, `tail` and `replay`.
 *
 *   GET base/path?params ──fetch fails──▶ COLLECTOR_UNREACHABLE
 *                        ──not JSON─────▶ COLLECTOR_ANSWER_INVALID (the URL is not a collector's)
 *                        ──4xx/5xx──────▶ the collector's own code (QUERY_INVALID, NOT_FOUND,
 *                                         STORE_UNAVAILABLE…) with its status and details
 *                        ──2xx──────────▶ the parsed body
 *
 * The CLI maps the codes to exit codes (src/cli/exit-codes.ts).
 */
import { InferlogError, isErrorCode, type ErrorDetails } from '../core/errors.js';
import type { ExchangeView } from './view.js';

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
  base: string,
  path: string,
  params: Record<string, string | undefined> = {},
): Promise<T> {
  return requestJson<T>('GET', base, path, params);
}

/** `getJson` with another method (`inferlog erase` sends DELETE); the same errors. */
export async function requestJson<T>(
  method: 'GET' | 'DELETE',
  base: string,
  path: string,
  params: Record<string, string | undefined> = {},
): Promise<T> {
  const u = new URL(path, base.endsWith('/') ? base : base + '/');
  for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.set(k, v);
  let res: Response;
  try {
    res = await fetch(u, {
      method,
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new InferlogError('COLLECTOR_UNREACHABLE', `collector at ${base} is unreachable: ${why(err)}`, {
      cause: err,
    });
  }
  const text = await res.text();
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
