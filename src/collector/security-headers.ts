/**
 * Security response headers on every collector answer (UI, API, /metrics, /healthz, errors, 404s).
 *
 *   any route / error handler / 404 ──reply.send──▶ onSend hook ──+ headers──▶ client
 *
 * One onSend hook, not per route, so a route added later cannot forget them. The CSP matches the
 * UI's own `<meta>` policy (src/collector/ui/index.html) and adds what a meta tag cannot carry:
 * `frame-ancestors 'none'` (with X-Frame-Options for old browsers) stops another origin framing the
 * UI. API answers get the same policy: a JSON body opened as a document can then run nothing.
 */
import type { FastifyInstance } from 'fastify';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  // As the UI's meta policy: data: for the inline favicon, blob: for object-URL images of bodies.
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "object-src 'none'",
].join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
});

export function registerSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', (_req, reply, payload, done) => {
    reply.headers(SECURITY_HEADERS);
    done(null, payload);
  });
}
