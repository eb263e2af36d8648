/**
 * A small client for the collector's query API, used by `inferlog query` and `inferlog tail`.
 * Failures are split the way the CLI's exit codes are: unreachable (69) vs. rejected input (1).
 */
import type { ExchangeView } from './view.js';

export class CollectorUnreachableError extends Error {
  constructor(url: string, cause: unknown) {
    super(
      `collector at ${url} is unreachable: ${cause instanceof Error ? ((cause.cause as Error | undefined)?.message ?? cause.message) : String(cause)}`,
    );
    this.name = 'CollectorUnreachableError';
  }
}

export class CollectorApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly parameter: string | undefined,
  ) {
    super(message);
    this.name = 'CollectorApiError';
  }
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
  const u = new URL(path, base.endsWith('/') ? base : base + '/');
  for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.set(k, v);
  let res: Response;
  try {
    res = await fetch(u, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    throw new CollectorUnreachableError(base, err);
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new CollectorApiError(
      res.status,
      `unexpected answer from ${u.origin} (HTTP ${res.status}, not JSON): is --url a collector?`,
      undefined,
    );
  }
  if (!res.ok) {
    const e = (body as { error?: { message?: string; parameter?: string } }).error;
    throw new CollectorApiError(res.status, e?.message ?? `HTTP ${res.status}`, e?.parameter);
  }
  return body as T;
}
