/**
 * `inferlog login`: sign in with the collector's OpenID Provider and keep the token for the CLI.
 *
 *   GET collector/api/v1/auth/config ──▶ { issuer, clientId, scopes }
 *   issuer/.well-known/openid-configuration ──▶ authorization + token endpoints, jwks_uri
 *   listen on 127.0.0.1:<any port>/callback (RFC 8252 §7.3 loopback redirect)
 *   print the sign-in URL (authorization code + PKCE S256, state, nonce) ──▶ the user signs in
 *   provider ──redirect──▶ callback ?code&state ──POST token endpoint (code_verifier)──▶ ID token
 *   verify it (jose: signature, iss, aud = clientId, nonce) ──▶ saved-token.ts (0600)
 *
 * No client secret exists (a CLI cannot keep one); PKCE binds the code to this process, and
 * `state` to this sign-in. The token is never printed and never put in a URL.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Command } from 'commander';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { getJson } from '../../api/client.js';
import { InferlogError } from '../../core/errors.js';
import { parseDuration } from '../../core/units.js';
import { OIDC_ALGORITHMS, oidcUrlProblem } from '../../collector/auth/oidc.js';
import { fail } from '../exit-codes.js';
import { defaultTokenFile, saveToken } from '../saved-token.js';

interface LoginFlags {
  url: string;
  tokenFile?: string;
  timeout: string;
}

interface AuthConfig {
  issuer: string;
  clientId: string;
  scopes: string[];
}

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
}

function unavailable(message: string, cause?: unknown): InferlogError {
  return new InferlogError('AUTH_PROVIDER_UNAVAILABLE', message, cause === undefined ? {} : { cause });
}

async function authConfig(collector: string): Promise<AuthConfig> {
  let config: Partial<AuthConfig>;
  try {
    config = await getJson<Partial<AuthConfig>>(collector, 'api/v1/auth/config');
  } catch (err) {
    if (err instanceof InferlogError && err.code === 'NOT_FOUND')
      throw new InferlogError(
        'USAGE_INVALID',
        `the collector at ${collector} offers no single sign-on (it runs without --oidc-issuer): use a token instead`,
      );
    throw err;
  }
  if (typeof config.issuer !== 'string' || typeof config.clientId !== 'string')
    throw new InferlogError(
      'COLLECTOR_ANSWER_INVALID',
      `the collector at ${collector} answered /api/v1/auth/config without issuer and clientId`,
    );
  const problem = oidcUrlProblem(config.issuer);
  if (problem !== undefined)
    throw new InferlogError('COLLECTOR_ANSWER_INVALID', `the collector's OIDC issuer: ${problem}`);
  return {
    issuer: config.issuer,
    clientId: config.clientId,
    scopes: Array.isArray(config.scopes) ? config.scopes.filter((s) => typeof s === 'string') : ['openid'],
  };
}

async function discover(issuer: string): Promise<Discovery> {
  const at = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  let doc: Partial<Discovery>;
  try {
    const res = await fetch(at, { signal: AbortSignal.timeout(10_000), redirect: 'error' });
    if (!res.ok) throw unavailable(`${at} answered ${res.status}`);
    doc = (await res.json()) as Partial<Discovery>;
  } catch (err) {
    if (err instanceof InferlogError) throw err;
    throw unavailable(`the OIDC issuer ${issuer} cannot be reached: ${(err as Error).message}`, err);
  }
  if (doc.issuer !== issuer)
    throw unavailable(`${at} names issuer ${JSON.stringify(doc.issuer)}, not ${issuer}`);
  for (const key of ['authorization_endpoint', 'token_endpoint', 'jwks_uri'] as const) {
    const value = doc[key];
    const problem = typeof value === 'string' ? oidcUrlProblem(value) : 'it is missing';
    if (problem !== undefined) throw unavailable(`the issuer's ${key}: ${problem}`);
  }
  return doc as Discovery;
}

/** The loopback listener the provider redirects the browser to; resolves with the code. */
function callbackServer(state: string): { server: Server; code: Promise<string> } {
  let settle: { resolve(code: string): void; reject(err: InferlogError): void } | undefined;
  const code = new Promise<string>((resolve, reject) => (settle = { resolve, reject }));
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const page = (status: number, text: string): void => {
      res.writeHead(status, {
        'content-type': 'text/plain; charset=utf-8',
        'cache-control': 'no-store',
        'referrer-policy': 'no-referrer',
      });
      res.end(`${text}\n`);
    };
    // Anything else on this port (a stray request, a forged callback) gets no say in the sign-in.
    if (url.pathname !== '/callback' || url.searchParams.get('state') !== state) {
      page(400, 'This is not the sign-in inferlog is waiting for.');
      return;
    }
    const error = url.searchParams.get('error');
    const got = url.searchParams.get('code');
    if (error !== null || got === null) {
      page(401, 'Sign-in failed; see the terminal.');
      const why = url.searchParams.get('error_description') ?? error ?? 'no code';
      settle?.reject(new InferlogError('UNAUTHENTICATED', `the provider did not sign you in: ${why}`));
      return;
    }
    page(200, 'Signed in to inferlog. You can close this tab.');
    settle?.resolve(got);
  });
  return { server, code };
}

async function login(flags: LoginFlags): Promise<void> {
  let timeoutMs = 0;
  try {
    timeoutMs = parseDuration(flags.timeout);
  } catch (err) {
    throw new InferlogError('USAGE_INVALID', `--timeout: ${(err as Error).message}`);
  }
  if (timeoutMs <= 0) throw new InferlogError('USAGE_INVALID', '--timeout must be more than 0');
  const file = flags.tokenFile ?? defaultTokenFile();
  if (file === undefined)
    throw new InferlogError(
      'USAGE_INVALID',
      'no $XDG_CONFIG_HOME or $HOME to keep the token in: give --token-file',
    );
  const config = await authConfig(flags.url);
  const provider = await discover(config.issuer);

  const verifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  const nonce = randomBytes(16).toString('base64url');
  const { server, code } = callbackServer(state);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  try {
    const redirectUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`;
    const auth = new URL(provider.authorization_endpoint);
    for (const [k, v] of Object.entries({
      client_id: config.clientId,
      response_type: 'code',
      redirect_uri: redirectUri,
      scope: config.scopes.join(' '),
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      state,
      nonce,
    }))
      auth.searchParams.set(k, v);
    process.stderr.write(
      `Open this URL in a browser to sign in:\n\n  ${auth.href}\n\nWaiting for the sign-in…\n`,
    );

    let timer: NodeJS.Timeout | undefined;
    const got = await Promise.race([
      code,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new InferlogError(
                'UNAUTHENTICATED',
                `no sign-in completed within ${flags.timeout}; run login again`,
              ),
            ),
          timeoutMs,
        );
      }),
    ]).finally(() => clearTimeout(timer));

    let tokens: { id_token?: unknown };
    try {
      const res = await fetch(provider.token_endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: got,
          redirect_uri: redirectUri,
          client_id: config.clientId,
          code_verifier: verifier,
        }),
        signal: AbortSignal.timeout(10_000),
      });
      tokens = (await res.json()) as { id_token?: unknown; error?: unknown };
      if (!res.ok)
        throw new InferlogError(
          'UNAUTHENTICATED',
          `the provider refused the sign-in code: ${String((tokens as { error?: unknown }).error ?? res.status)}`,
        );
    } catch (err) {
      if (err instanceof InferlogError) throw err;
      throw unavailable(`the provider's token endpoint cannot be reached: ${(err as Error).message}`, err);
    }
    if (typeof tokens.id_token !== 'string')
      throw new InferlogError(
        'UNAUTHENTICATED',
        'the provider answered without an ID token (is openid in its scopes?)',
      );
    // Checked as the collector will check it, plus the nonce: a token injected into this
    // sign-in (not minted for it) is refused here rather than saved.
    let subject: string;
    try {
      const { payload } = await jwtVerify(tokens.id_token, createRemoteJWKSet(new URL(provider.jwks_uri)), {
        issuer: config.issuer,
        audience: config.clientId,
        algorithms: OIDC_ALGORITHMS,
        clockTolerance: 30,
      });
      if (payload.nonce !== nonce)
        throw new InferlogError('UNAUTHENTICATED', 'the ID token is not for this sign-in (nonce)');
      subject = String(payload.email ?? payload.sub);
    } catch (err) {
      if (err instanceof InferlogError) throw err;
      throw new InferlogError(
        'UNAUTHENTICATED',
        `the provider's ID token does not verify: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    saveToken(file, tokens.id_token);
    process.stderr.write(`Signed in as ${subject}; the token is in ${file}\n`);
  } finally {
    server.close();
    server.closeAllConnections();
  }
}

export function register(program: Command): void {
  program
    .command('login')
    .description(
      "Sign in with the collector's single sign-on (OIDC, authorization code + PKCE) and keep the token for query, tail and replay.",
    )
    .option('--url <url>', 'the collector', 'http://127.0.0.1:8090')
    .option(
      '--token-file <file>',
      'where to keep the token (default: $XDG_CONFIG_HOME/inferlog/token, mode 0600)',
    )
    .option('--timeout <duration>', 'how long to wait for the sign-in in the browser', '5m')
    .action(async (flags: LoginFlags) => {
      try {
        await login(flags);
      } catch (err) {
        fail('login', err);
      }
      process.exit(0);
    });
}
