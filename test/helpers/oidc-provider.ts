/**
 * A real OpenID Provider for tests: panva's `oidc-provider` (installed into .peers/oidc by
 * scripts/peers/oidc.sh), run by scripts/peers/oidc-provider.mjs as its own process with static
 * users and clients. Each test file starts its own on a free port.
 *
 *   test ──signIn(user, password)──▶ GET /auth (PKCE) ──▶ login form ──POST──▶ redirect with code
 *        ──POST /token (code_verifier)──▶ { id_token: a real RS256/ES256 JWT from the provider }
 *
 * signIn drives the provider's own login page with real HTTP requests (cookies kept, redirects
 * followed by hand), the way a browser would, so no browser is needed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PEERS_DIR, REPO_ROOT } from './peers.js';

export interface OidcUser {
  username: string;
  password: string;
  sub?: string;
  email?: string;
  groups?: string[];
  /** This user's ID tokens expire after this long (default: the provider's). */
  idTokenTtlSeconds?: number;
}

export interface OidcClient {
  client_id: string;
  application_type?: 'native' | 'web';
  redirect_uris: string[];
}

export interface OidcProviderOptions {
  users: OidcUser[];
  clients: OidcClient[];
  alg?: 'RS256' | 'ES256';
  idTokenTtlSeconds?: number;
  /** 0 (default) = any free port; give the old port to restart a provider where it was. */
  port?: number;
  /** Keep the signing key across restarts (a restarted provider signs with the same key). */
  keysFile?: string;
}

export interface OidcProvider {
  readonly issuer: string;
  readonly port: number;
  stop(): Promise<void>;
}

export function oidcProviderInstalled(): void {
  if (!existsSync(join(PEERS_DIR, 'oidc/node_modules/oidc-provider/package.json')))
    throw new Error(
      `${join(PEERS_DIR, 'oidc')} has no oidc-provider: run \`bash scripts/peers/oidc.sh install\` ` +
        '(installs panva/oidc-provider from npm into .peers/oidc)',
    );
}

export async function startOidcProvider(options: OidcProviderOptions): Promise<OidcProvider> {
  oidcProviderInstalled();
  const dir = mkdtempSync(join(tmpdir(), 'inferlog-oidc-'));
  const config = join(dir, 'provider.json');
  writeFileSync(config, JSON.stringify({ port: 0, ...options }));
  const child: ChildProcess = spawn(
    process.execPath,
    [join(REPO_ROOT, 'scripts/peers/oidc-provider.mjs'), config],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, INFERLOG_PEERS_DIR: PEERS_DIR },
    },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const issuer = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`the OIDC provider did not start:\n${stderr}`)), 20_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^ready (\S+)$/m.exec(out);
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the OIDC provider exited (${code}):\n${stderr}`));
    });
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    issuer,
    port: Number(new URL(issuer).port),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Tokens {
  id_token: string;
  access_token: string;
  refresh_token?: string;
  expires_in: number;
}

/** Cookies by name, as a browser keeps them for one site. */
class CookieJar {
  private readonly cookies = new Map<string, string>();
  take(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const pair = line.split(';', 1)[0] ?? '';
      const eq = pair.indexOf('=');
      if (eq > 0) this.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/**
 * Follows the provider's redirects from `start` like a browser, posting the login form with
 * `username`/`password` when it is shown, until a redirect leaves for `redirectUri`; returns that URL.
 */
export async function loginAt(
  start: string,
  redirectUri: string,
  username: string,
  password: string,
): Promise<URL> {
  const jar = new CookieJar();
  let url = start;
  let form: URLSearchParams | undefined;
  for (let hop = 0; hop < 12; hop++) {
    const res = await fetch(url, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: {
        cookie: jar.header(),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: form?.toString(),
    });
    jar.take(res);
    form = undefined;
    const location = res.headers.get('location');
    if (location !== null) {
      const next = new URL(location, url);
      if (next.href.startsWith(redirectUri.replace(/\/$/, '')) || next.origin === new URL(redirectUri).origin)
        return next;
      url = next.href;
      continue;
    }
    const body = await res.text();
    if (res.status === 200 && body.includes('<form')) {
      form = new URLSearchParams({ username, password });
      continue;
    }
    throw new Error(`sign-in stopped at ${url}: ${res.status} ${body.slice(0, 200)}`);
  }
  throw new Error('sign-in: too many redirects');
}

/** Authorization code + PKCE for `username`, driven over HTTP; the provider's tokens. */
export async function signIn(
  provider: { issuer: string },
  client: { clientId: string; redirectUri: string },
  username: string,
  password: string,
): Promise<Tokens> {
  const { verifier, challenge } = pkcePair();
  const state = randomBytes(16).toString('base64url');
  const auth = new URL('/auth', provider.issuer);
  auth.search = new URLSearchParams({
    client_id: client.clientId,
    response_type: 'code',
    redirect_uri: client.redirectUri,
    scope: 'openid email groups',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
    nonce: randomBytes(16).toString('base64url'),
  }).toString();
  const back = await loginAt(auth.href, client.redirectUri, username, password);
  const code = back.searchParams.get('code');
  if (code === null || back.searchParams.get('state') !== state)
    throw new Error(`sign-in: no code in ${back.href}`);
  const res = await fetch(new URL('/token', provider.issuer), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: client.redirectUri,
      client_id: client.clientId,
      code_verifier: verifier,
    }),
  });
  if (!res.ok) throw new Error(`token endpoint: ${res.status} ${await res.text()}`);
  return (await res.json()) as Tokens;
}
