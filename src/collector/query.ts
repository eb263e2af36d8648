/**
 * The read side: `GET /api/v1/exchanges`, `/api/v1/exchanges/:id`, `/api/v1/stats`, and the rows per
 * prediction (`--log-instances`): `/api/v1/exchanges/:id/instances`, `/api/v1/instances`.
 *
 *   query string ──parse (zod, once)──▶ filter + page ──confine to the principal──▶ store ──▶ view (JSON)
 *                                         ──bodies or previews? audit line (fails closed)──▶ client
 *
 * Every route passes the principal's allow-list to the store (access.ts): a reader limited to
 * team-a learns nothing about team-b, and another namespace's id is a 404 like a missing one.
 */
import type { FastifyInstance } from 'fastify';
import { InferlogError } from '../core/errors.js';
import { confine, allowOf } from './access.js';
import type { AuditLog } from './audit.js';
import { auditFilter } from './audit.js';
import {
  encodeCursor,
  encodeInstanceCursor,
  parseInstanceQuery,
  parseListQuery,
  parseStatsQuery,
} from './query-params.js';
import { shapeStats } from '../store/stats.js';
import type { ExchangeStore } from '../store/store.js';
import { alignWindow, chooseStep, shapeTimeSeries } from '../store/timeseries.js';
import { toFullExchange, toInstanceView, toListItem } from '../api/view.js';

export function notFoundExchange(id: string): InferlogError {
  return new InferlogError('NOT_FOUND', `no exchange with id "${id.slice(0, 200)}"`, { status: 404 });
}

export function registerQuery(
  app: FastifyInstance,
  store: ExchangeStore,
  statsTopModels: number,
  audit: AuditLog | undefined,
): void {
  app.get('/api/v1/exchanges', { config: { scope: 'read' } }, async (req) => {
    // A bad parameter throws QUERY_INVALID (400): the server's error handler answers it.
    const parsed = parseListQuery(req.query, Date.now());
    const page = await store.listExchanges(confine(parsed.filter, req.principal), parsed.page);
    // List items carry the first characters of each body (previews): audited like a read,
    // when there is something in the page (an idle tail polling every second writes nothing).
    if (audit && page.items.length > 0)
      await audit.record(req, { action: 'list', filter: auditFilter(req.query), count: page.items.length });
    return { items: page.items.map(toListItem), nextCursor: page.next ? encodeCursor(page.next) : null };
  });

  app.get<{ Params: { id: string } }>('/api/v1/exchanges/:id', { config: { scope: 'read' } }, async (req) => {
    const ex = await store.getExchange(req.params.id, allowOf(req.principal));
    if (!ex) throw notFoundExchange(req.params.id);
    if (audit) await audit.record(req, { action: 'read', filter: { id: req.params.id }, count: 1 });
    return toFullExchange(ex);
  });

  // One exchange's predictions: 404 for an unknown exchange, [] for one that has no instance rows.
  app.get<{ Params: { id: string } }>(
    '/api/v1/exchanges/:id/instances',
    { config: { scope: 'read' } },
    async (req) => {
      // Another team's exchange is answered as one that does not exist: its existence is data too.
      const ex = await store.getExchange(req.params.id, allowOf(req.principal));
      if (!ex) throw notFoundExchange(req.params.id);
      const items = (await store.getInstances(ex.row.key)).map(toInstanceView);
      // Instance rows carry the inputs and predictions: a read of bodies, audited as one.
      if (audit) await audit.record(req, { action: 'read', filter: { id: req.params.id }, count: 1 });
      return { items };
    },
  );

  app.get('/api/v1/instances', { config: { scope: 'read' } }, async (req) => {
    // A bad parameter throws QUERY_INVALID (400): the server's error handler answers it.
    const parsed = parseInstanceQuery(req.query, Date.now());
    const allow = allowOf(req.principal);
    const filter = allow ? { ...parsed.filter, allow } : parsed.filter;
    const page = await store.listInstances(filter, parsed.page);
    if (audit && page.items.length > 0)
      await audit.record(req, { action: 'list', filter: auditFilter(req.query), count: page.items.length });
    return {
      items: page.items.map(toInstanceView),
      nextCursor: page.next ? encodeInstanceCursor(page.next) : null,
    };
  });

  app.get('/api/v1/stats', { config: { scope: 'read' } }, async (req) => {
    // A bad parameter throws QUERY_INVALID (400): the server's error handler answers it.
    const parsed = parseStatsQuery(req.query, Date.now());
    const filter = confine(parsed.filter, req.principal);
    return shapeStats(await store.stats(parsed.window, filter), parsed.window, statsTopModels);
  });

  // The chart: the same parameters as stats; the step is chosen from the window.
  app.get('/api/v1/timeseries', { config: { scope: 'read' } }, async (req) => {
    // A bad parameter throws QUERY_INVALID (400): the server's error handler answers it.
    const parsed = parseStatsQuery(req.query, Date.now());
    const step = chooseStep(parsed.window.sinceMs, parsed.window.untilMs);
    const window = alignWindow(parsed.window, step);
    const filter = confine(parsed.filter, req.principal);
    return shapeTimeSeries(await store.timeSeries(window, filter, step), window, step);
  });
}
