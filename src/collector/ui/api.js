// @ts-check
/* global document, DOMException */
/**
 * The collector's query API, as the browser sees it.
 *
 *   view ──getJson('api/v1/…', params)──▶ fetch ──▶ 2xx JSON ──▶ view
 *                                              └──▶ 4xx/5xx { error: { code, message, parameter } } ──▶ ApiError
 *
 * Paths are relative to the page, so the UI keeps working behind a path prefix
 * (kubectl proxy, an ingress sub-path). When signed in, every request carries the token as
 * `Authorization: Bearer` (auth.js); a 401 opens the sign-in view.
 */
import { authRequired, withAuth } from './auth.js';

export class ApiError extends Error {
  /**
   * @param {number} status  HTTP status, 0 when the collector did not answer
   * @param {string} code    catalogue code (QUERY_INVALID, NOT_FOUND, …)
   * @param {string} message
   * @param {string | undefined} [parameter]  the query parameter at fault, if any
   */
  constructor(status, code, message, parameter) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.parameter = parameter;
  }
}

/**
 * @param {string} path  relative, e.g. `api/v1/exchanges`
 * @param {URLSearchParams} [params]
 * @param {AbortSignal} [signal]
 * @returns {Promise<any>}
 */
export async function getJson(path, params, signal) {
  const url = new URL(path, document.baseURI);
  if (params) url.search = params.toString();
  let res;
  try {
    res = await fetch(url, {
      signal,
      headers: withAuth({ accept: 'application/json' }),
      cache: 'no-store',
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(
      0,
      'UNREACHABLE',
      'The collector did not answer. Is `inferlog collect` still running?',
    );
  }
  const text = await res.text();
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  if (!res.ok) {
    const e = body && typeof body === 'object' ? body.error : null;
    const message =
      e && typeof e.message === 'string' ? e.message : `HTTP ${res.status} ${res.statusText}`.trim();
    if (res.status === 401) authRequired(message);
    throw new ApiError(
      res.status,
      e && typeof e.code === 'string' ? e.code : `HTTP_${res.status}`,
      message,
      e && typeof e.parameter === 'string' ? e.parameter : undefined,
    );
  }
  if (body === null)
    throw new ApiError(res.status, 'BAD_RESPONSE', 'The collector answered with something that is not JSON.');
  return body;
}

/** True for the error a superseded request ends with (not worth showing). @param {unknown} err */
export function isAbort(err) {
  return err instanceof DOMException && err.name === 'AbortError';
}
