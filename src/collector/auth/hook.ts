/**
 * The collector's one authentication gate. It runs at `onRequest`, before a body is read, so a
 * sender without credentials is answered 401 without the collector buffering its upload.
 *
 *   request ──Authenticator──▶ Principal | none ──route's scope──▶ 401 / 403 / handler
 *
 * Routes declare what they need in their config: `{ scope: 'read' }`, or `{ public: true }` for
 * what carries no captured data (health, the UI's static files). A route that declares neither
 * needs `admin`: a route added without thinking about auth is closed, not open.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InferlogError } from '../../core/errors.js';
import type { Principal, Scope } from './principal.js';
import { UNAUTHENTICATED_LOOPBACK, hasScope } from './principal.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a route needs; see auth/hook.ts. */
    scope?: Scope;
    /** The route serves nothing captured (health, static UI files): no credentials needed. */
    public?: boolean;
  }
  interface FastifyRequest {
    /** Who sent this request; set by auth/hook.ts before any handler runs. */
    principal: Principal;
  }
}

export interface Authenticator {
  /**
   * The principal a request's credentials prove, or undefined when it carries none (answered
   * 401). Credentials that are present but wrong (unknown token, bad signature, expired) throw
   * an InferlogError UNAUTHENTICATED.
   */
  authenticate(req: FastifyRequest): Promise<Principal | undefined>;
  /** Stops watching files and refreshing keys. */
  close?(): Promise<void>;
}

export function unauthenticated(message: string): InferlogError {
  return new InferlogError('UNAUTHENTICATED', message, {
    status: 401,
    headers: { 'www-authenticate': 'Bearer realm="inferlog"' },
  });
}

export function forbidden(message: string): InferlogError {
  return new InferlogError('FORBIDDEN', message, { status: 403 });
}

/** Without an authenticator every request is UNAUTHENTICATED_LOOPBACK (the CLI only allows that on loopback). */
export function registerAuth(app: FastifyInstance, authenticator: Authenticator | undefined): void {
  app.decorateRequest('principal', null as unknown as Principal);
  app.addHook('onRequest', async (req) => {
    const config = req.routeOptions.config;
    if (authenticator === undefined) {
      req.principal = UNAUTHENTICATED_LOOPBACK;
      return;
    }
    if (config.public === true) {
      // Credentials sent here are not even looked at: a public route audits nothing and needs
      // no identity, and checking them (a JWT signature each) let a flood of forged tokens burn
      // CPU on a route that no failed-authentication limit covers.
      req.principal = ANONYMOUS;
      return;
    }
    const authorization = req.headers.authorization;
    if (authorization !== undefined && authorization.length > MAX_AUTHORIZATION_CHARS)
      throw unauthenticated(
        `the Authorization header is over ${MAX_AUTHORIZATION_CHARS / 1024} KiB: no credential this collector accepts is that long`,
      );
    const principal = await authenticator.authenticate(req);
    if (principal === undefined)
      throw unauthenticated('this route needs credentials: Authorization: Bearer <token>');
    req.principal = principal;
    const needed: Scope = config.scope ?? 'admin';
    if (!hasScope(principal, needed))
      throw forbidden(`"${principal.id}" lacks the ${needed} scope this route needs`);
  });
}

/**
 * Longer Authorization headers are refused before any authenticator sees them: API tokens are 47
 * characters and ID tokens a few KiB (nginx's default line limit is 8 KiB), while hashing and
 * decoding a forged half-megabyte bearer (the head may be 512 KiB) is work for nothing.
 */
const MAX_AUTHORIZATION_CHARS = 16 * 1024;

const ANONYMOUS: Principal = Object.freeze({ id: 'anonymous', via: 'none', scopes: new Set<Scope>() });
