/**
 * The read side: `GET /api/v1/exchanges`, `/api/v1/exchanges/:id`, `/api/v1/stats`, and the rows per
 * prediction (`--log-instances`): `/api/v1/exchanges/:id/instances`, `/api/v1/instances`.
 *
 *   query string ──parse (zod, once)──▶ filter + page ──▶ store ──▶ view (JSON) ──▶ client
 */
import type { FastifyInstance } from 'fastify';
import { InferlogError } from '../core/errors.js';
import { mayAccess } from './auth/principal.js';
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

export function registerQuery(app: FastifyInstance, store: ExchangeStore, statsTopModels: number): void {
  app.get('/api/v1/exchanges', { config: { scope: 'read' } }, async (req) => {
    // A bad parameter throws QUERY_INVALID (400): the server's error handler answers it.
    const parsed = parseListQuery(req.query, Date.now());
    const page = await store.listExchanges(parsed.filter, parsed.page);
    return { items: page.items.map(toListItem), nextCursor: page.next ? encodeCursor(page.next) : null };
  });

  app.get<{ Params: { id: string } }>('/api/v1/exchanges/:id', { config: { scope: 'read' } }, async (req) => {
    const ex = await store.getExchange(req.params.id);
    if (!ex)
      throw new InferlogError('NOT_FOUND', `no exchange with id "${req.params.id.slice(0, 200)}"`, {
        status: 404,
      });
    return toFullExchange(ex);
  });

  // One exchange's predictions: 404 for an unknown exchange, [] for one that has no instance rows.
  app.get<{ Params: { id: string } }>(
    '/api/v1/exchanges/:id/instances',
    { config: { scope: 'read' } },
    async (req) => {
      const ex = await store.getExchange(req.params.id);
      // Another team's exchange is answered as one that does not exist: its existence is data too.
      if (!ex || !mayAccess(req.principal, ex.row.namespace, ex.row.model))
        throw new InferlogError('NOT_FOUND', `no exchange with id "${req.params.id.slice(0, 200)}"`, {
          status: 404,
        });
      return { items: (await store.getInstances(ex.row.key)).map(toInstanceView) };
    },
  );

  app.get('/api/v1/instances', { config: { scope: 'read' } }, async (req) => {
    // A bad parameter throws QUERY_INVALID (400): the server's error handler answers it.
    const parsed = parseInstanceQuery(req.query, Date.now());
    const { namespaces, models } = req.principal;
    const filter = {
      ...parsed.filter,
      ...(namespaces !== undefined ? { allowedNamespaces: namespaces } : {}),
      ...(models !== undefined ? { allowedModels: models } : {}),
    };
    const page = await store.listInstances(filter, parsed.page);
    return {
      items: page.items.map(toInstanceView),
      nextCursor: page.next ? encodeInstanceCursor(page.next) : null,
    };
  });

  app.get('/api/v1/stats', { config: { scope: 'read' } }, async (req) => {
    // A bad parameter throws QUERY_INVALID (400): the server's error handler answers it.
    const parsed = parseStatsQuery(req.query, Date.now());
    return shapeStats(await store.stats(parsed.window, parsed.filter), parsed.window, statsTopModels);
  });

  // The chart: the same parameters as stats; the step is chosen from the window.
  app.get('/api/v1/timeseries', { config: { scope: 'read' } }, async (req) => {
    // A bad parameter throws QUERY_INVALID (400): the server's error handler answers it.
    const parsed = parseStatsQuery(req.query, Date.now());
    const step = chooseStep(parsed.window.sinceMs, parsed.window.untilMs);
    const window = alignWindow(parsed.window, step);
    return shapeTimeSeries(await store.timeSeries(window, parsed.filter, step), window, step);
  });
}
