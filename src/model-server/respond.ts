/**
 * Writing answers: one write per JSON response, and errors in the shape each protocol's
 * clients parse — KServe's `{"error": "..."}`, or OpenAI's `{"error": {message, type, param, code}}`
 * on the /openai routes (what KServe's OpenAI endpoints answer and the OpenAI SDKs read).
 */
import type { ServerResponse } from 'node:http';
import type { OpLogger } from '../core/log.js';
import { isInferlogError } from '../core/errors.js';

export type ErrorStyle = 'kserve' | 'openai';

export function sendJson(
  res: ServerResponse,
  status: number,
  text: string,
  headers?: Record<string, string>,
): void {
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

const OPENAI_TYPES: Record<number, string> = {
  400: 'BadRequestError',
  404: 'NotFoundError',
  405: 'MethodNotAllowedError',
  413: 'RequestTooLargeError',
};

export function errorBody(status: number, message: string, style: ErrorStyle): string {
  if (style === 'openai') {
    const type = OPENAI_TYPES[status] ?? (status >= 500 ? 'InternalServerError' : 'BadRequestError');
    return JSON.stringify({ error: { message, type, param: null, code: String(status) } });
  }
  return JSON.stringify({ error: message });
}

/** Answers `err` (never throws). Unexpected errors are 500s and are logged; client errors are not. */
export function sendError(
  res: ServerResponse,
  err: unknown,
  style: ErrorStyle,
  log: OpLogger | undefined,
): void {
  // An InferlogError with a status was raised on purpose; anything else is an unexpected 500.
  const answered = isInferlogError(err) && err.status !== undefined ? err : undefined;
  const status = answered?.status ?? 500;
  const message = answered
    ? answered.message
    : `${(err as Error)?.name ?? 'Error'} : ${(err as Error)?.message ?? String(err)}`;
  if (status >= 500) log?.error('model server error', { status, error: message });
  if (res.headersSent) {
    // Mid-stream: the status is gone; cut the body so the client sees an incomplete response.
    res.destroy(err instanceof Error ? err : undefined);
    return;
  }
  if (res.destroyed) return;
  sendJson(res, status, errorBody(status, message, style), answered ? { ...answered.headers } : undefined);
}
