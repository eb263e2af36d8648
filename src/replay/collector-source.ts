/**
 * Captured exchanges, page by page, from a collector's query API (docs/collector.md).
 *
 *   GET /api/v1/exchanges?…&limit=P ──items──▶ yield one by one ──(page used up)──▶ GET …&cursor=next
 *   GET /api/v1/exchanges/{id}       ──▶ the exchange with both bodies (fetched only when replayed)
 *
 * Memory stays bounded: one page of list items (no bodies) plus the bodies of the exchanges
 * in flight. `until` is frozen at the start (when not given) so that traffic the replay itself
 * causes — e.g. a target logging to the same collector — is never picked up and replayed again.
 *
 * Errors are the API client's InferlogErrors (COLLECTOR_UNREACHABLE, QUERY_INVALID for a filter
 * the collector rejects, …), passed on as they are.
 */
import { getJson, type CollectorRef, type ListAnswer } from '../api/client.js';
import type { ExchangeView } from '../api/view.js';
import { isInferlogError } from '../core/errors.js';
import { parseDuration } from '../core/units.js';

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
  base: CollectorRef,
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
    const page = await getJson<ListAnswer>(base, 'api/v1/exchanges', {
      ...params,
      limit: String(Math.min(pageSize, limit - yielded)),
      cursor,
    });
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
export async function getExchange(base: CollectorRef, id: string): Promise<ExchangeView | null> {
  try {
    return await getJson<ExchangeView>(base, `api/v1/exchanges/${encodeURIComponent(id)}`);
  } catch (err) {
    if (isInferlogError(err, 'NOT_FOUND')) return null;
    throw err;
  }
}
