/**
 * One Authenticator made of several, each for one kind of credential:
 *
 *   request ──client certificate──▶ mTLS ──Bearer <opaque>──▶ API token ──Bearer <JWT>──▶ OIDC
 *                 │                      │                        │
 *                 └──── first principal wins; wrong credential of its kind: 401 ────┘
 *
 * Each authenticator answers undefined for a request carrying no credential of its kind, so the
 * next one may look at it; a credential of its kind that it does not accept (unknown token, bad
 * signature, untrusted certificate) throws UNAUTHENTICATED and stops the chain: a rejected
 * credential is never retried as another kind. API tokens (`ilt_…`, no dots) and JWTs (three
 * base64url parts) cannot be mistaken for each other (`looksLikeJwt`).
 */
import type { FastifyRequest } from 'fastify';
import type { Authenticator } from './hook.js';
import { unauthenticated } from './hook.js';
import type { Principal } from './principal.js';

/** The bearer credential of `Authorization: Bearer <credential>`, if the request carries one. */
export function bearerToken(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  const m = /^Bearer[ ]+([^\s]+)[ ]*$/i.exec(header);
  return m?.[1];
}

const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Whether a bearer credential has a JWT's shape (header.payload.signature); the OIDC authenticator's kind. */
export function looksLikeJwt(credential: string): boolean {
  return JWT.test(credential);
}

export function chainAuthenticators(list: readonly Authenticator[]): Authenticator {
  return {
    async authenticate(req: FastifyRequest): Promise<Principal | undefined> {
      for (const authenticator of list) {
        const principal = await authenticator.authenticate(req);
        if (principal !== undefined) return principal;
      }
      // An Authorization header none of them took (Basic, a JWT with no OIDC configured) is a
      // credential this collector does not accept, not the absence of one.
      if (req.headers.authorization !== undefined) {
        const token = bearerToken(req);
        throw unauthenticated(
          token !== undefined && looksLikeJwt(token)
            ? 'the bearer token is a JWT, but this collector has no OIDC issuer configured (--oidc-issuer)'
            : 'the Authorization header carries no credential this collector accepts: use Authorization: Bearer <token>',
        );
      }
      return undefined;
    },
    async close() {
      await Promise.all(list.map((a) => a.close?.()));
    },
  };
}
