/**
 * Captured exchanges, page by page, from a collector's query API (docs/collector.md).
 *
 *   GET /api/v1/exchanges?…&limit=P ──items──▶ yield one by one ──(page used up)──▶ GET …&cursor=next
 *   GET /api/v1/exchanges/{id}       ──▶ the exchange with both bodies (fetched only when replayed)
 *
 * Memory stays bounded: one page of list items (no bodies) plus the bodies of the exchanges
 * in flight. `until` is frozen at the start (when not given) so that traffic the replay itself
 * causes — e.g. a target logging to the same collector — is never picked up and replayed again.
 */
import { CollectorApiError, CollectorUnreachableError, getJson, type ListAnswer } from '../api/client.js';
import type { ExchangeView } from '../api/view.js';
import { parseDuration } from '../core/units.js';

/** Why the replay cannot talk to the collector; `exitCode` is 2 (bad filter) or 69 (unreachable). */
export class CollectorProblem extends Error {
  constructor(
    message: string,
    readonly exitCode: 2 | 69,
  ) {
    super(message);
    this.name = 'CollectorProblem';
  }
}

function translate(base: string, err: unknown): never {
  if (err instanceof CollectorUnreachableError) throw new CollectorProblem(err.message, 69);
  if (err instanceof CollectorApiError) {
    const msg = `collector at ${base} answered ${err.status}: ${err.message}`;
    throw new CollectorProblem(msg, err.status >= 400 && err.status < 500 ? 2 : 69);
  }
  throw err;
}

export interface SourceFilter {
  model?: string;
  namespace?: string;
  component?: string;
  status?: string;
  since?: string;
  until?: string;
  q?: string;
}

/**
 * `1h` → the RFC 3339 instant one hour before `now`. The collector would resolve a duration again
 * on every page; resolving it once keeps the window fixed while the replay pages through it.
 * Anything else goes to the collector verbatim (it validates, and says what is wrong).
 */
export function absoluteTime(text: string, now: number): string {
  try {
    return new Date(now - parseDuration(text)).toISOString();
  } catch {
    return text;
  }
}

export async function* listExchanges(
  base: string,
  filter: SourceFilter,
  limit: number,
  pageSize = 200,
): AsyncGenerator<ExchangeView> {
  const now = Date.now();
  const params: Record<string, string | undefined> = {
    ...filter,
    since: filter.since === undefined ? undefined : absoluteTime(filter.since, now),
    until: filter.until === undefined ? new Date(now).toISOString() : absoluteTime(filter.until, now),
  };
  let cursor: string | undefined;
  let yielded = 0;
  while (yielded < limit) {
    let page: ListAnswer;
    try {
      page = await getJson<ListAnswer>(base, 'api/v1/exchanges', {
        ...params,
        limit: String(Math.min(pageSize, limit - yielded)),
        cursor,
      });
    } catch (err) {
      translate(base, err);
    }
    for (const item of page.items) {
      if (yielded >= limit) return;
      yielded++;
      yield item;
    }
    if (page.nextCursor === null || page.items.length === 0) return;
    cursor = page.nextCursor;
  }
}

/** The exchange with both bodies, or null when it is gone (retention removed it meanwhile). */
export async function getExchange(base: string, id: string): Promise<ExchangeView | null> {
  try {
    return await getJson<ExchangeView>(base, `api/v1/exchanges/${encodeURIComponent(id)}`);
  } catch (err) {
    if (err instanceof CollectorApiError && err.status === 404) return null;
    translate(base, err);
  }
}
