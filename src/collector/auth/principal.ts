/**
 * Who is asking, and what they may do. Every collector request carries one Principal
 * (`req.principal`), decided once at the edge by an Authenticator (auth/hook.ts) before any
 * route runs; routes and the store only ever read it.
 *
 *   credentials (bearer token, client certificate, OIDC JWT) ──authenticate──▶ Principal
 *   route's required scope + Principal ──hook──▶ 401 / 403 / handler
 *   handler + Principal.namespaces ──▶ store filter (a team-a reader learns nothing of team-b)
 */

/** `ingest` posts events; `read` reads exchanges, stats and metrics; `admin` erases and implies both. */
export type Scope = 'ingest' | 'read' | 'admin';
export const SCOPES: readonly Scope[] = ['ingest', 'read', 'admin'];

/** How the principal proved who it is; audit lines carry it. */
export type CredentialKind = 'none' | 'token' | 'mtls' | 'oidc' | 'ingest-listener';

export interface Principal {
  /** A stable name for audit lines: a token's name, a certificate's subject, an OIDC `sub`. Never a secret. */
  readonly id: string;
  readonly via: CredentialKind;
  readonly scopes: ReadonlySet<Scope>;
  /** The namespaces it may see or write; undefined = every namespace. */
  readonly namespaces?: readonly string[];
  /** The models (InferenceService names) it may see or write; undefined = every model. */
  readonly models?: readonly string[];
}

/**
 * The principal of every request when no authentication is configured (loopback quick start):
 * everything is allowed, as before auth existed. The CLI refuses a non-loopback listener with
 * no authentication unless `--insecure-no-auth` says so.
 */
export const UNAUTHENTICATED_LOOPBACK: Principal = Object.freeze({
  id: 'anonymous',
  via: 'none',
  scopes: new Set<Scope>(SCOPES),
});

/**
 * A sender on an ingest listener opened with `--ingest-open` that sent no credentials (KServe's
 * own agent cannot): it may ingest, nothing else.
 */
export const OPEN_INGEST: Principal = Object.freeze({
  id: 'ingest-listener',
  via: 'ingest-listener',
  scopes: new Set<Scope>(['ingest']),
});

export function hasScope(principal: Principal, scope: Scope): boolean {
  return principal.scopes.has(scope) || principal.scopes.has('admin');
}

/** Whether the principal may see or write an exchange of this namespace and model. */
export function mayAccess(principal: Principal, namespace: string, model: string): boolean {
  if (principal.namespaces !== undefined && !principal.namespaces.includes(namespace)) return false;
  if (principal.models !== undefined && !principal.models.includes(model)) return false;
  return true;
}

/** True when the principal is limited to some namespaces or models (read paths must then filter). */
export function isRestricted(principal: Principal): boolean {
  return principal.namespaces !== undefined || principal.models !== undefined;
}
