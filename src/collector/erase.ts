/**
 * Erasure for privacy requests (admin scope only):
 *
 *   DELETE /api/v1/exchanges/:id      ──▶ the exchange with that store key, or every exchange with that event id
 *   DELETE /api/v1/exchanges?filters  ──▶ every exchange the list's filters match (requestId=…, header=Name:value,
 *                                         model, namespace, since, until, q, traceId…); none at all is 400,
 *                                         `all=true` erases everything on purpose
 *        ──confine to the principal's namespaces──▶ store.erase (rows, bodies, rollups; SQLite overwrites
 *        the freed pages and empties its WAL) ──▶ audit line ──▶ { deleted: N }
 *
 * The answer is the same whether or not anything matched (`deleted: 0`), as a GET's 404 would
 * otherwise confirm an id. An erasure is not a tombstone: a sender's retry of an erased event
 * stores it again (docs/security.md).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InferlogError } from '../core/errors.js';
import type { OpLogger } from '../core/log.js';
import type { ExchangeFilter, ExchangeStore } from '../store/store.js';
import { confine } from './access.js';
import type { AuditLog } from './audit.js';
import { auditFilter } from './audit.js';
import { parseEraseQuery } from './query-params.js';

export function registerErase(
  app: FastifyInstance,
  store: ExchangeStore,
  audit: AuditLog | undefined,
  log: OpLogger,
): void {
  const erase = async (
    req: FastifyRequest,
    filter: ExchangeFilter,
    asked: Record<string, unknown>,
  ): Promise<{ deleted: number }> => {
    const deleted = await store.erase(confine(filter, req.principal));
    log.info('erased exchanges', { principal: req.principal.id, deleted });
    // The rows are gone whatever happens to the line: a failed line is counted and logged
    // (audit.ts) and the count still answered, since a retry would erase nothing more.
    if (audit) await audit.record(req, { action: 'erase', filter: asked, count: deleted }).catch(() => {});
    return { deleted };
  };

  app.delete<{ Params: { id: string } }>(
    '/api/v1/exchanges/:id',
    { config: { scope: 'admin' } },
    async (req) => {
      // `DELETE /api/v1/exchanges/` (a forgotten id) is a mistake, not an id.
      if (req.params.id.trim() === '')
        throw new InferlogError('QUERY_INVALID', 'id: empty; give an exchange key or event id', {
          status: 400,
          details: { parameter: 'id' },
        });
      return erase(req, { exchangeId: req.params.id }, { id: req.params.id });
    },
  );

  app.delete('/api/v1/exchanges', { config: { scope: 'admin' } }, async (req) =>
    // A missing or bad filter throws QUERY_INVALID (400): the server's error handler answers it.
    erase(req, parseEraseQuery(req.query, Date.now()), auditFilter(req.query)),
  );
}
