/**
 * A small real Authenticator for tests: a fixed map from bearer token to Principal. It is our
 * own interface (collector/auth/hook.ts), not a stand-in for a peer; the token file of
 * `--auth-file` implements the same interface.
 */
import type { Authenticator } from '../../src/collector/auth/hook.js';
import { unauthenticated } from '../../src/collector/auth/hook.js';
import type { Principal, Scope } from '../../src/collector/auth/principal.js';

export function principal(
  id: string,
  scopes: Scope[],
  limits: { namespaces?: string[]; models?: string[] } = {},
): Principal {
  return { id, via: 'token', scopes: new Set(scopes), ...limits };
}

export function tokenAuthenticator(tokens: Record<string, Principal>): Authenticator {
  const byToken = new Map(Object.entries(tokens));
  return {
    async authenticate(req) {
      const header = req.headers.authorization;
      if (header === undefined) return undefined;
      const m = /^Bearer (\S+)$/.exec(header);
      const found = m ? byToken.get(m[1]!) : undefined;
      if (!found) throw unauthenticated('unknown token');
      return found;
    },
  };
}
