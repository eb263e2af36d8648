/**
 * The collector's one error handler: every error a route throws (or fastify raises) is
 * answered here, in the API's one shape, `{ "error": { "code", "message", ...details } }`.
 *
 *   InferlogError with a status ──▶ that status, its code, message and details
 *   fastify: body over bodyLimit ──▶ 413 PAYLOAD_TOO_LARGE (reason too_large)
 *   fastify: other 4xx (bad header…) ──▶ that status, EVENT_INVALID
 *   anything else (a store that throws) ──▶ 503 STORE_UNAVAILABLE, logged; retrying may help
 *
 * Routes throw; they do not render errors themselves, so a new route cannot answer a
 * different shape.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { InferlogError, isInferlogError } from '../core/errors.js';
import type { OpLogger } from '../core/log.js';
import type { CollectorMetrics } from './metrics.js';

/** 404 NOT_FOUND, for a route or file that does not exist. */
export function notFound(message: string): InferlogError {
  return new InferlogError('NOT_FOUND', message, { status: 404 });
}

function send(reply: FastifyReply, err: InferlogError): FastifyReply {
  if (err.headers) reply.headers(err.headers);
  return reply
    .code(err.status ?? 500)
    .type('application/json; charset=utf-8')
    .send({ error: { code: err.code, message: err.message, ...err.details } });
}

/** Refusals only the auth and rate-limit hooks make (never a route): counted for ingest here. */
const EDGE_REASONS: Partial<Record<string, string>> = {
  UNAUTHENTICATED: 'unauthenticated',
  RATE_LIMITED: 'rate_limited',
};

export interface ErrorHandlerOptions {
  metrics: CollectorMetrics;
  log: OpLogger;
  maxBodyBytes: number;
  /** What the operator calls the body limit (the CLI passes `--max-body-bytes`). */
  maxBodyBytesName: string;
}

/** The InferlogError a thrown value is answered as. */
export function toHttpError(err: unknown, options: ErrorHandlerOptions): InferlogError {
  if (isInferlogError(err) && err.status !== undefined) return err;
  const f = err as Partial<FastifyError>;
  if (f.statusCode === 413 || f.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new InferlogError(
      'PAYLOAD_TOO_LARGE',
      `body is over the collector's limit of ${options.maxBodyBytes} bytes (${options.maxBodyBytesName})`,
      { status: 413, details: { reason: 'too_large', maxBytes: options.maxBodyBytes } },
    );
  }
  if (f.statusCode !== undefined && f.statusCode >= 400 && f.statusCode < 500) {
    return new InferlogError('EVENT_INVALID', String(f.message), {
      status: f.statusCode,
      details: { reason: 'bad_request' },
    });
  }
  return new InferlogError('STORE_UNAVAILABLE', 'the collector could not complete the request; retry later', {
    status: 503,
    cause: err,
  });
}

export function collectorErrorHandler(
  options: ErrorHandlerOptions,
): (err: unknown, req: FastifyRequest, reply: FastifyReply) => FastifyReply {
  return (err, req, reply) => {
    const answer = toHttpError(err, options);
    // Errors routes threw on purpose were counted where they were found; fastify's own are counted here.
    if (!isInferlogError(err)) {
      if (answer.code === 'PAYLOAD_TOO_LARGE') options.metrics.rejected.inc({ reason: 'too_large' });
      else if (answer.code === 'EVENT_INVALID') options.metrics.rejected.inc({ reason: 'bad_request' });
    } else if (req.method === 'POST' && EDGE_REASONS[answer.code] !== undefined) {
      // Events refused at the edge, before receive ran (auth/hook.ts, auth/rate-limit.ts).
      options.metrics.rejected.inc({ reason: EDGE_REASONS[answer.code]! });
    }
    // An unexpected error is logged here; errors thrown on purpose were logged where they arose.
    if (!isInferlogError(err) && answer.status !== undefined && answer.status >= 500) {
      options.log.error('request failed', { error: err instanceof Error ? err.message : String(err) });
    }
    return send(reply, answer);
  };
}
