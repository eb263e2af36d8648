/**
 * The read side: `GET /api/v1/exchanges`, `/api/v1/exchanges/:id`, `/api/v1/stats`.
 *
 *   query string ──parse (zod, once)──▶ filter + page ──▶ store ──▶ view (JSON) ──▶ client
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { sendError } from './http-errors.js';
import { encodeCursor, parseListQuery, parseStatsQuery, QueryParamError } from './query-params.js';
import { shapeStats } from '../store/stats.js';
import type { ExchangeStore } from '../store/store.js';
import { alignWindow, chooseStep, shapeTimeSeries } from '../store/timeseries.js';
import { toFullExchange, toListItem } from '../api/view.js';

function badParam(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof QueryParamError)
    return sendError(reply, 400, 'QUERY_INVALID', err.message, { parameter: err.parameter });
  throw err;
}

export function registerQuery(app: FastifyInstance, store: ExchangeStore, statsTopModels: number): void {
  app.get('/api/v1/exchanges', async (req, reply) => {
    let parsed;
    try {
      parsed = parseListQuery(req.query, Date.now());
    } catch (err) {
      return badParam(reply, err);
    }
    const page = await store.listExchanges(parsed.filter, parsed.page);
    return { items: page.items.map(toListItem), nextCursor: page.next ? encodeCursor(page.next) : null };
  });

  app.get<{ Params: { id: string } }>('/api/v1/exchanges/:id', async (req, reply) => {
    const ex = await store.getExchange(req.params.id);
    if (!ex)
      return sendError(reply, 404, 'NOT_FOUND', `no exchange with id "${req.params.id.slice(0, 200)}"`);
    return toFullExchange(ex);
  });

  app.get('/api/v1/stats', async (req, reply) => {
    let parsed;
    try {
      parsed = parseStatsQuery(req.query, Date.now());
    } catch (err) {
      return badParam(reply, err);
    }
    return shapeStats(await store.stats(parsed.window, parsed.filter), parsed.window, statsTopModels);
  });

  // The chart: the same parameters as stats; the step is chosen from the window.
  app.get('/api/v1/timeseries', async (req, reply) => {
    let parsed;
    try {
      parsed = parseStatsQuery(req.query, Date.now());
    } catch (err) {
      return badParam(reply, err);
    }
    const step = chooseStep(parsed.window.sinceMs, parsed.window.untilMs);
    const window = alignWindow(parsed.window, step);
    return shapeTimeSeries(await store.timeSeries(window, parsed.filter, step), window, step);
  });
}
