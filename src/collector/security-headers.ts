/**
 * Security response headers on every collector answer (UI, API, /metrics, /healthz, errors, 404s).
 *
 *   any route / error handler / 404 ──reply.send──▶ onSend hook ──+ headers──▶ client
 *
 * One onSend hook, not per route, so a route added later cannot forget them. The CSP matches the
 * UI's own `<meta>` policy (src/collector/ui/index.html) and adds what a meta tag cannot carry:
 * `frame-ancestors 'none'` (with X-Frame-Options for old browsers) stops another origin framing the
 * UI. API answers get the same policy: a JSON body opened as a document can then run nothing.
 * connect-src is 'self' unless SSO is configured: then also the OIDC issuer's origin, which the
 * UI's sign-in (authorization code + PKCE in the browser) must reach for discovery and the token.
 */
import type { FastifyInstance } from 'fastify';

/** The policy's directives; `connectOrigins` are what the UI may fetch from besides its own origin. */
function directives(connectOrigins: readonly string[]): string[] {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    // As the UI's meta policy: data: for the inline favicon, blob: for object-URL images of bodies.
    "img-src 'self' data: blob:",
    ["connect-src 'self'", ...connectOrigins].join(' '),
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "object-src 'none'",
  ];
}

export const CONTENT_SECURITY_POLICY = directives([]).join('; ');

/**
 * The origins of `urls` (an OIDC issuer: the UI fetches its discovery document and token endpoint
 * for sign-in), for connect-src. Only http(s) origins; nothing else can widen the policy.
 */
export function connectOriginsOf(urls: readonly string[]): string[] {
  const out: string[] = [];
  for (const u of urls) {
    let origin: string;
    try {
      const parsed = new URL(u);
      if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') continue;
      origin = parsed.origin;
    } catch {
      continue;
    }
    if (!out.includes(origin)) out.push(origin);
  }
  return out;
}

/** The full policy (header) and the one the UI page repeats in its `<meta>` (no frame-ancestors there). */
export function contentSecurityPolicy(connectOrigins: readonly string[] = []): {
  header: string;
  meta: string;
} {
  const all = directives(connectOrigins);
  return {
    header: all.join('; '),
    meta: all.filter((d) => !d.startsWith('frame-ancestors')).join('; '),
  };
}

export function securityHeaders(connectOrigins: readonly string[] = []): Readonly<Record<string, string>> {
  return Object.freeze({
    'content-security-policy': contentSecurityPolicy(connectOrigins).header,
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
  });
}

export const SECURITY_HEADERS: Readonly<Record<string, string>> = securityHeaders();

/** `connectOrigins`: from connectOriginsOf (the OIDC issuer when SSO is on); none by default. */
export function registerSecurityHeaders(app: FastifyInstance, connectOrigins: readonly string[] = []): void {
  const headers = securityHeaders(connectOrigins);
  app.addHook('onSend', (_req, reply, payload, done) => {
    reply.headers(headers);
    done(null, payload);
  });
}
