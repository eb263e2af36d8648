// @ts-check
/* global document, location, history, sessionStorage, crypto, URLSearchParams, atob, btoa */
/**
 * "Sign in with SSO": OAuth 2.0 authorization code + PKCE (RFC 7636, S256) in the browser, a
 * public client with no secret, against the issuer the collector advertises.
 *
 *   GET api/v1/auth/config ──{issuer, clientId, scopes}──▶ GET <issuer>/.well-known/openid-configuration
 *   startSso: verifier, state, nonce ──sessionStorage──▶ location → authorization_endpoint?…&code_challenge
 *   …provider signs the user in, redirects back: <ui>?code=…&state=…
 *   finishSso: strip code/state from the URL (history.replaceState) ──▶ check state
 *              ──POST token_endpoint (code + verifier)──▶ id_token ──check nonce──▶ auth.js setToken
 *
 * The code is in the URL only between the provider's redirect and replaceState, and useless
 * without the verifier that never left this tab; Referrer-Policy: no-referrer keeps it out of
 * Referer headers. The token is never put in a URL. The CSP's connect-src admits the issuer's
 * origin only when the collector has one configured (security-headers.ts).
 */
import { setToken } from './auth.js';

const PENDING = 'inferlog.sso.pending';

/** @typedef {{ issuer: string, clientId: string, scopes: string[] }} SsoConfig */

/** What the collector advertises, or null when it has no SSO (404, 401, anything unexpected). @returns {Promise<SsoConfig | null>} */
export async function ssoConfig() {
  try {
    const res = await fetch(new URL('api/v1/auth/config', document.baseURI), {
      headers: { accept: 'application/json' },
      cache: 'no-store',
    });
    if (!res.ok) return null;
    const c = await res.json();
    const issuer = typeof c?.issuer === 'string' ? c.issuer : c?.oidc?.issuer;
    const clientId = typeof c?.clientId === 'string' ? c.clientId : c?.oidc?.clientId;
    if (typeof issuer !== 'string' || !/^https?:\/\//.test(issuer) || typeof clientId !== 'string')
      return null;
    const raw = c.scopes ?? c?.oidc?.scopes;
    const scopes = Array.isArray(raw) ? raw.filter((s) => typeof s === 'string') : ['openid'];
    if (!scopes.includes('openid')) scopes.unshift('openid');
    return { issuer, clientId, scopes };
  } catch {
    return null;
  }
}

/** @param {Uint8Array} bytes */
function base64url(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomString() {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

/** @param {string} issuer */
async function discover(issuer) {
  const url = issuer.replace(/\/+$/, '') + '/.well-known/openid-configuration';
  const res = await fetch(url, { headers: { accept: 'application/json' }, credentials: 'omit' });
  if (!res.ok) throw new Error(`the identity provider's discovery document answered HTTP ${res.status}`);
  const d = await res.json();
  if (typeof d?.authorization_endpoint !== 'string' || typeof d?.token_endpoint !== 'string')
    throw new Error("the identity provider's discovery document has no authorization or token endpoint");
  return {
    authorization: /** @type {string} */ (d.authorization_endpoint),
    token: /** @type {string} */ (d.token_endpoint),
  };
}

/** The page's own address, without query or fragment: the redirect URI registered with the provider. */
function redirectUri() {
  return location.origin + location.pathname;
}

/** Leaves for the provider's sign-in page. @param {SsoConfig} config */
export async function startSso(config) {
  const endpoints = await discover(config.issuer);
  const verifier = randomString();
  const challenge = base64url(
    new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))),
  );
  const state = randomString();
  const nonce = randomString();
  sessionStorage.setItem(
    PENDING,
    JSON.stringify({
      verifier,
      state,
      nonce,
      tokenEndpoint: endpoints.token,
      clientId: config.clientId,
      redirectUri: redirectUri(),
      hash: location.hash,
    }),
  );
  const u = new URL(endpoints.authorization);
  u.search = new URLSearchParams({
    response_type: 'code',
    client_id: config.clientId,
    redirect_uri: redirectUri(),
    scope: config.scopes.join(' '),
    state,
    nonce,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).toString();
  location.assign(u.toString());
}

/** @param {string} jwt */
function claimsOf(jwt) {
  const part = jwt.split('.')[1] ?? '';
  const json = atob(part.replace(/-/g, '+').replace(/_/g, '/'));
  return JSON.parse(json);
}

/**
 * On the way back from the provider: exchanges the code for a token. Returns false when this page
 * load is not a return from the provider; throws with a message for the sign-in view when it is
 * one that failed.
 */
export async function finishSso() {
  const here = new URL(location.href);
  const code = here.searchParams.get('code');
  const state = here.searchParams.get('state');
  const error = here.searchParams.get('error');
  if (code === null && error === null) return false;
  const raw = sessionStorage.getItem(PENDING);
  sessionStorage.removeItem(PENDING);
  /** @type {{ verifier: string, state: string, nonce: string, tokenEndpoint: string, clientId: string, redirectUri: string, hash: string } | null} */
  const pending = raw ? JSON.parse(raw) : null;
  // Out of the address bar and the history first, whatever happens next.
  history.replaceState(null, '', here.pathname + (pending?.hash ?? here.hash));
  if (error !== null) throw new Error(`the identity provider said: ${error}`);
  if (pending === null || state !== pending.state)
    throw new Error('this sign-in was not started here (state mismatch): sign in again');
  const res = await fetch(pending.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    credentials: 'omit',
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: /** @type {string} */ (code),
      redirect_uri: pending.redirectUri,
      client_id: pending.clientId,
      code_verifier: pending.verifier,
    }),
  });
  const answer = await res.json().catch(() => null);
  if (!res.ok || answer === null)
    throw new Error(
      `the identity provider refused the sign-in (HTTP ${res.status}${answer?.error ? `: ${answer.error}` : ''})`,
    );
  // The collector checks the ID token (signature, issuer, audience = this client); the nonce
  // check here binds it to this sign-in.
  const idToken = typeof answer.id_token === 'string' ? answer.id_token : null;
  if (idToken === null) throw new Error('the identity provider returned no ID token');
  if (claimsOf(idToken).nonce !== pending.nonce)
    throw new Error('the ID token is not for this sign-in (nonce)');
  setToken(idToken);
  return true;
}
