/** The API's one error shape: `{ "error": { "code", "message", ...details } }` with an HTTP status. */
import type { FastifyReply } from 'fastify';
import type { ErrorCode } from '../core/errors.js';

export function sendError(
  reply: FastifyReply,
  status: number,
  code: ErrorCode,
  message: string,
  details: Record<string, unknown> = {},
): FastifyReply {
  return reply
    .code(status)
    .type('application/json; charset=utf-8')
    .send({ error: { code, message, ...details } });
}
