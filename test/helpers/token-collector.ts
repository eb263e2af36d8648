/**
 * A real collector (startCollector, a real SQLite file, real HTTP) whose requests are authenticated
 * by a fixed table of bearer tokens: the Authenticator interface of src/collector/auth/hook.ts, the
 * same seam `collect --auth-file` plugs into. It lets client tests (CLI, web UI) run against a
 * collector with auth on before the token-file authenticator exists; the tests named "after the
 * auth-core merge" run the real `inferlog collect --auth-file` process instead.
 */
import { join } from 'node:path';
import type { FastifyRequest } from 'fastify';
import { unauthenticated, type Authenticator } from '../../src/collector/auth/hook.js';
import type { Principal, Scope } from '../../src/collector/auth/principal.js';
import { startCollector, type Collector } from '../../src/collector/server.js';
import { createSqliteStore } from '../../src/store/sqlite-store.js';

export interface TokenGrant {
  name: string;
  scopes: Scope[];
  namespaces?: string[];
}

/** Every Authorization header and URL the collector saw, to prove what a client did and did not send. */
export interface Seen {
  urls: string[];
  authorization: Array<string | undefined>;
}

export function tokenAuthenticator(tokens: Record<string, TokenGrant>, seen?: Seen): Authenticator {
  return {
    async authenticate(req: FastifyRequest): Promise<Principal | undefined> {
      seen?.urls.push(req.url);
      const header = req.headers.authorization;
      seen?.authorization.push(header);
      if (header === undefined) return undefined;
      const m = /^Bearer (\S+)$/i.exec(header);
      const grant = m ? tokens[m[1] as string] : undefined;
      if (grant === undefined) throw unauthenticated('unknown or revoked token');
      return {
        id: grant.name,
        via: 'token',
        scopes: new Set(grant.scopes),
        ...(grant.namespaces ? { namespaces: grant.namespaces } : {}),
      };
    },
  };
}

export async function startTokenCollector(
  dir: string,
  tokens: Record<string, TokenGrant>,
  seen?: Seen,
): Promise<Collector> {
  return startCollector({
    store: createSqliteStore(join(dir, 'auth.db')),
    port: 0,
    authenticator: tokenAuthenticator(tokens, seen),
  });
}
