/**
 * A principal's namespaces and models → the store's allow-list. Every read and erasure passes
 * it to the store, which applies it in SQL (store/sql-filter.ts), so a reader limited to team-a
 * gets pages, counts, stats, cursors and 404s computed as if team-b did not exist.
 */
import type { Principal } from './auth/principal.js';
import { isRestricted } from './auth/principal.js';
import type { AccessScope, ExchangeFilter } from '../store/store.js';

export function allowOf(principal: Principal): AccessScope | undefined {
  if (!isRestricted(principal)) return undefined;
  return {
    ...(principal.namespaces !== undefined ? { namespaces: principal.namespaces } : {}),
    ...(principal.models !== undefined ? { models: principal.models } : {}),
  };
}

/** The filter, confined to what the principal may see. */
export function confine(filter: ExchangeFilter, principal: Principal): ExchangeFilter {
  const allow = allowOf(principal);
  return allow ? { ...filter, allow } : filter;
}
