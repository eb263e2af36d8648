/**
 * OIDC bearer tokens: `Authorization: Bearer <JWT>` signed by the configured issuer.
 *
 *   issuer ──/.well-known/openid-configuration──▶ jwks_uri ──jose remote JWK set (cached, refreshed)
 *   JWT ──iss pre-check──▶ jwtVerify(iss, aud, exp/nbf ± skew, asymmetric algs only)
 *       ──claim (e.g. groups) ──group map──▶ Principal { id: sub, via: 'oidc', scopes, namespaces }
 *
 * Verification is jose's (a maintained library), never ours. The provider being down is not
 * fatal: discovery is retried on demand, keys already fetched stay in jose's cache, and a token
 * that cannot be checked for want of keys is answered 503 (AUTH_PROVIDER_UNAVAILABLE), not 401:
 * the token may be fine, and a client should retry rather than sign in again. A token whose
 * groups map to nothing is valid but allowed nothing: 403, not 401.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createRemoteJWKSet, decodeJwt, errors, jwtVerify } from 'jose';
import type { JWTPayload } from 'jose';
import { InferlogError } from '../../core/errors.js';
import type { OpLogger } from '../../core/log.js';
import type { Authenticator } from './hook.js';
import { forbidden, unauthenticated } from './hook.js';
import type { Principal, Scope } from './principal.js';
import { SCOPES } from './principal.js';

/** What one group of the claim grants. Undefined namespaces/models = all of them. */
export interface OidcGroupGrant {
  readonly scopes: readonly Scope[];
  readonly namespaces?: readonly string[];
  readonly models?: readonly string[];
}

export type OidcGroupMap = ReadonlyMap<string, OidcGroupGrant>;

export interface OidcSettings {
  /** The issuer URL exactly as the provider names itself (https, or http on loopback). */
  readonly issuer: string;
  /**
   * The `aud` a token must carry: the client id the UI and `inferlog login` sign in with, since
   * an ID token's audience is the client it was issued to.
   */
  readonly audience: string;
  /** The claim whose values are looked up in `groups` (default `groups`; a dotted path reaches nested claims). */
  readonly claim?: string;
  /** The claim that names the principal (default `sub`; `email` needs `email_verified: true`). */
  readonly usernameClaim?: string;
  /** Group → grant. A function is asked on every request, so an auth file's reload applies at once. */
  readonly groups: OidcGroupMap | (() => OidcGroupMap);
  /** Tolerated clock difference for exp/nbf/iat, in seconds (default 30). */
  readonly clockToleranceSeconds?: number;
}

/**
 * Asymmetric algorithms only: `none` and HS* (a shared secret, which a JWKS never publishes and
 * which would let anyone holding the "public" key sign) are refused before any key is used.
 */
export const OIDC_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];

export const DEFAULT_OIDC_CLAIM = 'groups';
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 30;
/** The scopes a client asks the provider for (the UI and `inferlog login`). */
export const OIDC_CLIENT_SCOPES = ['openid', 'email', 'profile', 'groups'];
/** How long a failed discovery is remembered before the next request may try again. */
const DISCOVERY_RETRY_MS = 5_000;
const FETCH_TIMEOUT_MS = 5_000;
/** Token types we accept: ID tokens (no typ, or JWT) and RFC 9068 access tokens. */
/**
 * Verified tokens are remembered (by sha256, never the token itself) until their `exp`, and at
 * most this long: a UI or CLI sending one token per request pays one signature check per minute,
 * not per request, and a key the provider withdraws stops counting within a minute of jose's own
 * key cache. Only tokens that verified enter, so forged ones cannot fill it; the size is capped.
 */
const VERIFIED_CACHE_MS = 60_000;
const VERIFIED_CACHE_MAX = 10_000;

const ACCEPTED_TYP = new Set(['jwt', 'at+jwt', 'application/at+jwt']);

/** http is allowed only to a loopback provider (tests, a provider beside the collector). */
export function oidcUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `"${text}" is not a URL`;
  }
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return undefined;
  return `"${text}" must be https (http only on 127.0.0.1, [::1] or localhost): keys fetched in clear text can be forged`;
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** A bearer credential shaped like a JWT (three base64url parts): the kind this authenticator checks. */
export function bearerJwt(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  const m = /^Bearer +([\w-]+\.[\w-]+\.[\w-]*) *$/i.exec(header);
  return m?.[1];
}

function providerUnavailable(message: string, cause: unknown): InferlogError {
  return new InferlogError('AUTH_PROVIDER_UNAVAILABLE', message, {
    status: 503,
    headers: { 'retry-after': String(DISCOVERY_RETRY_MS / 1000) },
    cause,
  });
}

interface Discovered {
  keys: ReturnType<typeof createRemoteJWKSet>;
}

/**
 * Finds the issuer's jwks_uri once and keeps jose's remote key set (which caches keys and
 * re-fetches, rate-limited, when a token names a key it has not seen). A failure is kept for a
 * few seconds, so a provider outage costs each request nothing but a 503.
 */
function discovery(issuer: string, log: OpLogger): { keys(): Promise<Discovered>; close(): void } {
  let found: Discovered | undefined;
  let pending: Promise<Discovered> | undefined;
  let failed: { at: number; error: InferlogError } | undefined;
  const abort = new AbortController();
  const wellKnown = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;

  async function discover(): Promise<Discovered> {
    let doc: { issuer?: unknown; jwks_uri?: unknown };
    try {
      const res = await fetch(wellKnown, {
        signal: AbortSignal.any([abort.signal, AbortSignal.timeout(FETCH_TIMEOUT_MS)]),
        redirect: 'error',
      });
      // Caught below and answered as AUTH_PROVIDER_UNAVAILABLE.
      if (!res.ok) throw new Error(`${wellKnown} answered ${res.status}`);
      doc = (await res.json()) as typeof doc;
    } catch (err) {
      throw providerUnavailable(
        `the OIDC issuer ${issuer} cannot be reached to check tokens (${(err as Error).message}); retry later`,
        err,
      );
    }
    // OpenID Connect Discovery §4.3: the document must name the issuer we asked, exactly.
    if (doc.issuer !== issuer)
      throw providerUnavailable(
        `the discovery document at ${wellKnown} names issuer ${JSON.stringify(doc.issuer)}, not ${issuer}`,
        undefined,
      );
    const problem = typeof doc.jwks_uri === 'string' ? oidcUrlProblem(doc.jwks_uri) : 'it is missing';
    if (problem !== undefined) throw providerUnavailable(`the issuer's jwks_uri: ${problem}`, undefined);
    return {
      keys: createRemoteJWKSet(new URL(doc.jwks_uri as string), { timeoutDuration: FETCH_TIMEOUT_MS }),
    };
  }

  return {
    keys() {
      if (found) return Promise.resolve(found);
      if (failed && Date.now() - failed.at < DISCOVERY_RETRY_MS) return Promise.reject(failed.error);
      pending ??= discover().then(
        (d) => {
          found = d;
          failed = undefined;
          log.info('OIDC issuer discovered', { issuer });
          return d;
        },
        (err: InferlogError) => {
          if (failed === undefined) log.warn(err.message, { issuer });
          failed = { at: Date.now(), error: err };
          throw err;
        },
      );
      return pending.finally(() => (pending = undefined));
    },
    close() {
      abort.abort();
    },
  };
}

/** jose's verdicts that mean "this token is not acceptable" (401); anything else is about fetching keys (503). */
const REJECTED = new Set([
  'ERR_JWT_EXPIRED',
  'ERR_JWT_CLAIM_VALIDATION_FAILED',
  'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
  'ERR_JOSE_ALG_NOT_ALLOWED',
  'ERR_JOSE_NOT_SUPPORTED',
  'ERR_JWKS_NO_MATCHING_KEY',
  'ERR_JWKS_MULTIPLE_MATCHING_KEYS',
  'ERR_JWS_INVALID',
  'ERR_JWT_INVALID',
]);

function verdict(err: unknown, issuer: string): InferlogError {
  if (err instanceof InferlogError) return err;
  if (err instanceof errors.JOSEError && REJECTED.has(err.code)) {
    if (err instanceof errors.JWTExpired) return unauthenticated('the OIDC token has expired: sign in again');
    if (err instanceof errors.JWTClaimValidationFailed)
      return unauthenticated(
        err.claim === 'aud'
          ? 'the OIDC token was not issued for this collector (aud)'
          : `the OIDC token's "${err.claim}" claim is not acceptable: ${err.reason}`,
      );
    if (err instanceof errors.JOSEAlgNotAllowed)
      return unauthenticated(
        `the OIDC token's algorithm is not allowed (only ${OIDC_ALGORITHMS.join(', ')})`,
      );
    if (err instanceof errors.JWKSNoMatchingKey)
      return unauthenticated(`the OIDC token is signed with a key ${issuer} does not publish`);
    if (err instanceof errors.JWSSignatureVerificationFailed)
      return unauthenticated('the OIDC token signature does not verify');
    return unauthenticated('the OIDC token is malformed');
  }
  return providerUnavailable(
    `the keys of the OIDC issuer ${issuer} cannot be fetched to check this token (${(err as Error).message}); retry later`,
    err,
  );
}

/** A claim by name, or by a dotted path into nested objects (`realm_access.roles`). */
function claimValue(payload: JWTPayload, claim: string): unknown {
  if (Object.hasOwn(payload, claim)) return payload[claim];
  let value: unknown = payload;
  for (const part of claim.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function groupsOf(payload: JWTPayload, claim: string): string[] {
  const value = claimValue(payload, claim);
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

/** The union of some lists, undefined ("all") when any of them is. */
function unionOrAll(lists: readonly (readonly string[] | undefined)[]): string[] | undefined {
  if (lists.some((l) => l === undefined)) return undefined;
  return [...new Set(lists.flatMap((l) => l ?? []))].sort();
}

function covers(list: readonly string[] | undefined, value: string | undefined): boolean {
  return list === undefined || (value !== undefined && list.includes(value));
}

/**
 * One principal from several groups' grants, never allowing more than some group does. A
 * Principal has one namespace (and model) list for all its scopes, so a scope is kept only where
 * the groups that grant it cover every namespace × model of the union: `read` on team-a plus
 * `read` on team-b is `read` on both, but `read` on team-a plus `ingest` on team-b keeps neither
 * (either would leak into the other team). Operators who need that give such users one group.
 */
export function combineGrants(grants: readonly OidcGroupGrant[]): {
  scopes: Set<Scope>;
  namespaces?: string[];
  models?: string[];
} {
  const namespaces = unionOrAll(grants.map((g) => g.namespaces));
  const models = unionOrAll(grants.map((g) => g.models));
  const cells: [string | undefined, string | undefined][] = [];
  for (const ns of namespaces ?? [undefined]) for (const m of models ?? [undefined]) cells.push([ns, m]);
  const scopes = new Set<Scope>();
  for (const scope of SCOPES) {
    const granting = grants.filter((g) => g.scopes.includes(scope) || g.scopes.includes('admin'));
    if (cells.every(([ns, m]) => granting.some((g) => covers(g.namespaces, ns) && covers(g.models, m))))
      scopes.add(scope);
  }
  return {
    scopes,
    ...(namespaces !== undefined ? { namespaces } : {}),
    ...(models !== undefined ? { models } : {}),
  };
}

export interface OidcAuthenticator extends Authenticator {
  readonly settings: OidcSettings;
  /** Resolves once the issuer was discovered (or rejects with why not); requests do not wait for it. */
  readonly ready: Promise<void>;
}

export function createOidcAuthenticator(settings: OidcSettings, log: OpLogger): OidcAuthenticator {
  const issuer = settings.issuer;
  const claim = settings.claim ?? DEFAULT_OIDC_CLAIM;
  const usernameClaim = settings.usernameClaim ?? 'sub';
  const groups =
    typeof settings.groups === 'function' ? settings.groups : () => settings.groups as OidcGroupMap;
  const clockTolerance = settings.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
  const found = discovery(issuer, log);
  // Started now so the first request finds keys; a provider that is down is logged, not fatal.
  const ready = found.keys().then(() => undefined);
  ready.catch(() => undefined);
  // One line per outage, not one per request.
  let warnedAt = 0;
  const verifiedTokens = new Map<string, { payload: JWTPayload; until: number }>();

  function principalFor(payload: JWTPayload): Principal {
    const name = claimValue(payload, usernameClaim);
    if (typeof name !== 'string' || name === '')
      throw unauthenticated(`the OIDC token has no "${usernameClaim}" claim to name its user`);
    // An unverified address names nobody (OpenID Connect Core §5.7); Kubernetes refuses it too.
    if (usernameClaim === 'email' && payload.email_verified !== true)
      throw unauthenticated(
        "the OIDC token's email is not verified (email_verified), so it cannot name a user",
      );
    const map = groups();
    const grants = groupsOf(payload, claim).flatMap((g) => map.get(g) ?? []);
    if (grants.length === 0)
      throw forbidden(`"${name}" signed in, but no group in its "${claim}" claim is granted anything here`);
    const { scopes, namespaces, models } = combineGrants(grants);
    if (scopes.size === 0)
      throw forbidden(
        `"${name}" is in groups that grant different scopes on different namespaces or models; ` +
          'none holds on all of them, so none is granted (give this user one group)',
      );
    return Object.freeze({
      id: name,
      via: 'oidc' as const,
      scopes,
      ...(namespaces !== undefined ? { namespaces: Object.freeze(namespaces) } : {}),
      ...(models !== undefined ? { models: Object.freeze(models) } : {}),
    });
  }

  return {
    settings,
    ready,
    async authenticate(req) {
      const token = bearerJwt(req);
      if (token === undefined) return undefined;
      const hash = createHash('sha256').update(token).digest('base64url');
      const known = verifiedTokens.get(hash);
      // The grants are worked out anew each time: an auth file's group change applies at once.
      if (known !== undefined && Date.now() < known.until) return principalFor(known.payload);
      if (known !== undefined) verifiedTokens.delete(hash);
      // A token from another issuer is refused without touching keys: it cannot make us fetch.
      let claimed: JWTPayload;
      try {
        claimed = decodeJwt(token);
      } catch {
        throw unauthenticated('the bearer token is not a well-formed JWT');
      }
      if (claimed.iss !== issuer) throw unauthenticated(`the OIDC token was not issued by ${issuer} (iss)`);
      let payload: JWTPayload;
      try {
        const { keys } = await found.keys();
        const verified = await jwtVerify(token, keys, {
          issuer,
          audience: settings.audience,
          algorithms: OIDC_ALGORITHMS,
          clockTolerance,
          requiredClaims: ['exp'],
        });
        const typ = verified.protectedHeader.typ?.toLowerCase();
        if (typ !== undefined && !ACCEPTED_TYP.has(typ))
          throw unauthenticated(`the OIDC token's type "${typ}" is not an ID or access token`);
        payload = verified.payload;
        // Remembered no longer than exp itself (jose's clock tolerance is re-checked on expiry).
        const until = Math.min((payload.exp ?? 0) * 1000, Date.now() + VERIFIED_CACHE_MS);
        if (until > Date.now()) {
          // At the cap, the oldest entry goes (Map keeps insertion order).
          if (verifiedTokens.size >= VERIFIED_CACHE_MAX)
            verifiedTokens.delete(verifiedTokens.keys().next().value!);
          verifiedTokens.set(hash, { payload, until });
        }
      } catch (err) {
        const answer = verdict(err, issuer);
        if (answer.code === 'AUTH_PROVIDER_UNAVAILABLE' && Date.now() - warnedAt > 30_000) {
          warnedAt = Date.now();
          log.warn(answer.message);
        }
        throw answer;
      }
      return principalFor(payload);
    },
    async close() {
      verifiedTokens.clear();
      found.close();
    },
  };
}

/** What `GET /api/v1/auth/config` tells the UI (and `inferlog login`): public facts, no secret. */
export interface OidcClientConfig {
  readonly issuer: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
}

export function oidcClientConfig(settings: OidcSettings): OidcClientConfig {
  return {
    issuer: settings.issuer,
    clientId: settings.audience,
    scopes: OIDC_CLIENT_SCOPES,
  };
}

/**
 * `GET /api/v1/auth/config`, public: how to sign in with SSO. Without OIDC the route does not
 * exist (404), which the UI reads as "no SSO".
 */
export function registerAuthConfig(app: FastifyInstance, config: OidcClientConfig | undefined): void {
  if (config === undefined) return;
  app.get('/api/v1/auth/config', { config: { public: true } }, async () => ({
    issuer: config.issuer,
    clientId: config.clientId,
    scopes: config.scopes,
  }));
}

/**
 * One group's grant from its text form `SCOPES[:NAMESPACES[:MODELS]]` (comma-separated lists,
 * `*` = all), e.g. `read:team-a,team-b` or `admin`. The message says what is wrong; the caller
 * names the flag or file.
 */
export function parseGroupGrant(text: string): OidcGroupGrant {
  const bad = (message: string): InferlogError =>
    new InferlogError('CONFIG_INVALID', `"${text}": ${message}`, { details: { option: 'oidc.groups' } });
  const [scopePart = '', nsPart, modelPart, ...rest] = text.split(':');
  if (rest.length > 0) throw bad('use SCOPES[:NAMESPACES[:MODELS]]');
  if (scopePart.trim() === '') throw bad(`name at least one scope (${SCOPES.join(', ')})`);
  const list = (part: string | undefined, what: string): string[] | undefined => {
    if (part === undefined || part === '*') return undefined;
    const items = part.split(',').map((s) => s.trim());
    if (items.some((s) => s === '' || s === '*'))
      throw bad(`${what} must be a comma-separated list of names, or * for all`);
    return items;
  };
  const scopes = list(scopePart, 'scopes') ?? [];
  for (const s of scopes)
    if (!(SCOPES as readonly string[]).includes(s))
      throw bad(`unknown scope "${s}" (use ${SCOPES.join(', ')})`);
  if (scopes.length === 0) throw bad(`name at least one scope (${SCOPES.join(', ')})`);
  const namespaces = list(nsPart, 'namespaces');
  const models = list(modelPart, 'models');
  return {
    scopes: scopes as Scope[],
    ...(namespaces !== undefined ? { namespaces } : {}),
    ...(models !== undefined ? { models } : {}),
  };
}

/**
 * The `groups` mapping of an auth file's `oidc` section, checked: `{ "<group>": { scopes: [...],
 * namespaces?: [...], models?: [...] } }`. Throws CONFIG_INVALID naming the field
 * (`details.option`, e.g. `oidc.groups.ml-readers.scopes`); the file reader adds file and line.
 */
export function parseOidcGroups(value: unknown, path = 'oidc.groups'): OidcGroupMap {
  const bad = (field: string, message: string): InferlogError =>
    new InferlogError('CONFIG_INVALID', `${field}: ${message}`, { details: { option: field } });
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw bad(path, 'must map group names to { scopes, namespaces?, models? }');
  const map = new Map<string, OidcGroupGrant>();
  for (const [group, grant] of Object.entries(value as Record<string, unknown>)) {
    const at = `${path}.${group}`;
    if (grant === null || typeof grant !== 'object' || Array.isArray(grant))
      throw bad(at, 'must be { scopes, namespaces?, models? }');
    const g = grant as Record<string, unknown>;
    for (const key of Object.keys(g))
      if (!['scopes', 'namespaces', 'models'].includes(key))
        throw bad(`${at}.${key}`, 'unknown field (use scopes, namespaces, models)');
    const names = (key: string): string[] | undefined => {
      const v = g[key];
      if (v === undefined) return undefined;
      if (!Array.isArray(v) || v.length === 0 || v.some((s) => typeof s !== 'string' || s === ''))
        throw bad(`${at}.${key}`, 'must be a non-empty list of names');
      return v as string[];
    };
    const scopes = names('scopes');
    if (scopes === undefined) throw bad(`${at}.scopes`, `is required (${SCOPES.join(', ')})`);
    for (const s of scopes)
      if (!(SCOPES as readonly string[]).includes(s))
        throw bad(`${at}.scopes`, `unknown scope "${s}" (use ${SCOPES.join(', ')})`);
    const namespaces = names('namespaces');
    const models = names('models');
    map.set(group, {
      scopes: scopes as Scope[],
      ...(namespaces !== undefined ? { namespaces } : {}),
      ...(models !== undefined ? { models } : {}),
    });
  }
  return map;
}

/**
 * The auth file's `oidc` section: `{ groups: { "<group>": { scopes, namespaces?, models? } } }`.
 * Issuer, audience and claims are flags (`--oidc-*`); the group map may live in the file so
 * that changing who may do what needs no restart (the file is reloaded on change).
 */
export function parseOidcSection(value: unknown, path = 'oidc'): { groups: OidcGroupMap } {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new InferlogError('CONFIG_INVALID', `${path}: must be a mapping with groups:`, {
      details: { option: path },
    });
  for (const key of Object.keys(value))
    if (key !== 'groups')
      throw new InferlogError(
        'CONFIG_INVALID',
        `${path}.${key}: unknown field (the file holds oidc.groups; issuer, audience and claims are --oidc-* flags)`,
        { details: { option: `${path}.${key}` } },
      );
  const groups = (value as { groups?: unknown }).groups;
  return { groups: groups === undefined ? new Map() : parseOidcGroups(groups, `${path}.groups`) };
}

/**
 * The group map in force: the `--oidc-group` flags plus the auth file's `oidc.groups` (the file
 * wins for a group named in both: it is the one an operator edits live). `section` returns the
 * file's current raw section; it is parsed once per new value. Throws CONFIG_INVALID on the first
 * call if the section is bad (start-up fails); a bad section in a later reload is logged and the
 * last good map stays in force, as for the rest of the auth file.
 */
export function liveOidcGroups(
  flags: OidcGroupMap,
  section: () => unknown,
  log: OpLogger,
): () => OidcGroupMap {
  const merge = (raw: unknown): OidcGroupMap =>
    raw === undefined ? flags : new Map([...flags, ...parseOidcSection(raw).groups]);
  let seen = section();
  let current = merge(seen);
  return () => {
    const raw = section();
    if (raw !== seen) {
      seen = raw;
      try {
        current = merge(raw);
      } catch (err) {
        log.error(`the auth file's new oidc section is not applied: ${(err as Error).message}`);
      }
    }
    return current;
  };
}
