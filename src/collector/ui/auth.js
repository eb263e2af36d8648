// @ts-check
/* global sessionStorage */
/**
 * The UI's credential: one bearer token, kept in this tab's sessionStorage (gone when the tab
 * closes, never shared with other tabs or written to disk as a cookie would be), and sent only as
 * `Authorization: Bearer` on API requests. Never in a URL, never in localStorage, never a cookie:
 * with no ambient credential, another site cannot make the browser send one (no CSRF).
 *
 *   sign-in view ──setToken──▶ sessionStorage ──authHeaders()──▶ api.js fetch
 *   api.js ──401──▶ authRequired() ──▶ the sign-in view (app.js registered it)
 */

const KEY = 'inferlog.token';

/** @returns {string | null} */
export function token() {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

/** @param {string} value */
export function setToken(value) {
  sessionStorage.setItem(KEY, value);
}

export function clearToken() {
  sessionStorage.removeItem(KEY);
}

/** Adds the Authorization header when signed in. @param {Record<string, string>} headers */
export function withAuth(headers) {
  const t = token();
  if (t) headers.authorization = `Bearer ${t}`;
  return headers;
}

/** @type {(message: string) => void} */
let onAuthRequired = () => undefined;

/** app.js: what to do when the collector wants credentials. @param {(message: string) => void} fn */
export function whenAuthRequired(fn) {
  onAuthRequired = fn;
}

/** api.js: the collector answered 401. @param {string} message */
export function authRequired(message) {
  onAuthRequired(message);
}

/**
 * Whether a pasted value can be a bearer token (RFC 6750 b64token): it goes into a header, so
 * nothing else is accepted. @param {string} value
 */
export function looksLikeToken(value) {
  return /^[A-Za-z0-9\-._~+/]+=*$/.test(value) && value.length <= 16384;
}
