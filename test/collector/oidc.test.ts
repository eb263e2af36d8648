/**
 * OIDC sign-in against a real provider (panva's oidc-provider, scripts/peers/oidc-provider.mjs)
 * and a real collector process (`bin/inferlog.js collect --oidc-issuer …`).
 *
 *   test ──signIn(alice)──▶ provider (login form, code + PKCE) ──▶ ID token (RS256, groups claim)
 *   test ──Bearer <ID token>──▶ collector ──discovery + JWKS──▶ provider
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, SignJWT, decodeJwt } from 'jose';
import { startCli, runCli, type CliProcess } from '../helpers/cli.js';
import { freePort } from '../helpers/peers.js';
import type { FastifyRequest } from 'fastify';
import { createOidcAuthenticator } from '../../src/collector/auth/oidc.js';
import type { OpLogger } from '../../src/core/log.js';
import { loginAt, signIn, startOidcProvider, type OidcProvider } from '../helpers/oidc-provider.js';

const CLIENT = { clientId: 'inferlog', redirectUri: 'http://127.0.0.1:40000/callback' };
const OTHER_CLIENT = { clientId: 'other-app', redirectUri: 'http://127.0.0.1:40000/callback' };
const clients = [
  {
    client_id: CLIENT.clientId,
    application_type: 'native' as const,
    redirect_uris: ['http://127.0.0.1/callback'],
  },
  {
    client_id: OTHER_CLIENT.clientId,
    application_type: 'native' as const,
    redirect_uris: ['http://127.0.0.1/callback'],
  },
];
const users = [
  { username: 'alice', password: 'alice-pw', email: 'alice@example.test', groups: ['ml-readers', 'staff'] },
  { username: 'bob', password: 'bob-pw', groups: ['interns'] },
  { username: 'carol', password: 'carol-pw', groups: ['ml-admins'] },
  { username: 'dave', password: 'dave-pw', groups: ['ml-readers'], idTokenTtlSeconds: 1 },
];
const GROUP_FLAGS = ['--oidc-group', 'ml-readers=read:team-a', '--oidc-group', 'ml-admins=admin'];

const dir = mkdtempSync(join(tmpdir(), 'inferlog-oidc-test-'));
let provider: OidcProvider;
let collector: CliProcess;
let base: string;
let daveToken: string;

function get(path: string, token?: string, url = base): Promise<Response> {
  return fetch(url + path, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
}

async function errorCode(res: Response): Promise<string> {
  return ((await res.json()) as { error: { code: string } }).error.code;
}

beforeAll(async () => {
  provider = await startOidcProvider({ clients, users });
  // Taken first: dave's token expires in a second, and the last test checks it is refused.
  daveToken = (await signIn(provider, CLIENT, 'dave', 'dave-pw')).id_token;
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  collector = await startCli([
    'collect',
    '--port',
    String(port),
    '--store',
    `sqlite:${join(dir, 'a.db')}`,
    '--oidc-issuer',
    provider.issuer,
    '--oidc-audience',
    CLIENT.clientId,
    ...GROUP_FLAGS,
  ]);
}, 60_000);

afterAll(async () => {
  await collector?.stop();
  await provider?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('collect --oidc-issuer with a real OpenID Provider', () => {
  it('lets a user in a mapped group read with the ID token the provider signed', async () => {
    const { id_token } = await signIn(provider, CLIENT, 'alice', 'alice-pw');
    expect(decodeJwt(id_token).groups).toEqual(['ml-readers', 'staff']);
    const res = await get('/api/v1/exchanges', id_token);
    expect(res.status).toBe(200);
    expect((await get('/api/v1/stats', id_token)).status).toBe(200);
  });

  it('audits by default with OIDC as the only authentication: a listing names the signed-in user', async () => {
    const carol = (await signIn(provider, CLIENT, 'carol', 'carol-pw')).id_token; // ml-admins
    const posted = await fetch(`${base}/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${carol}`, 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({
        specversion: '1.0',
        id: 'audited-1',
        type: 'org.kubeflow.serving.inference.request',
        source: 'pod-a',
        datacontenttype: 'application/json',
        inferenceservicename: 'fraud',
        namespace: 'team-a',
        data: { instances: [1] },
      }),
    });
    expect(posted.status).toBe(200);
    const { id_token } = await signIn(provider, CLIENT, 'alice', 'alice-pw');
    const sub = decodeJwt(id_token).sub;
    const listed = await get('/api/v1/exchanges', id_token);
    expect(((await listed.json()) as { items: unknown[] }).items).toHaveLength(1);
    expect(collector.stderr()).toMatch(/audit=/);
    const lines = readFileSync(join(dir, 'a.db.audit.log'), 'utf8').trim().split('\n');
    expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toContainEqual(
      expect.objectContaining({ principal: sub, via: 'oidc', action: 'list', count: 1 }),
    );
  });

  it('answers 403 to a reader that posts events (ingest needs the ingest scope)', async () => {
    const { id_token } = await signIn(provider, CLIENT, 'alice', 'alice-pw');
    const res = await fetch(`${base}/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${id_token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(403);
    expect(await errorCode(res)).toBe('FORBIDDEN');
  });

  it('gives an admin group everything', async () => {
    const { id_token } = await signIn(provider, CLIENT, 'carol', 'carol-pw');
    expect((await get('/api/v1/exchanges', id_token)).status).toBe(200);
    expect((await get('/metrics', id_token)).status).toBe(200);
  });

  it('answers 403, not 401, to a valid token whose groups map to nothing', async () => {
    const { id_token } = await signIn(provider, CLIENT, 'bob', 'bob-pw');
    const res = await get('/api/v1/exchanges', id_token);
    expect(res.status).toBe(403);
    expect(await errorCode(res)).toBe('FORBIDDEN');
  });

  it('answers 401 with WWW-Authenticate without credentials', async () => {
    const res = await get('/api/v1/exchanges');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('answers 401 to a token issued for another client (aud)', async () => {
    const { id_token } = await signIn(provider, OTHER_CLIENT, 'alice', 'alice-pw');
    const res = await get('/api/v1/exchanges', id_token);
    expect(res.status).toBe(401);
    expect(await errorCode(res)).toBe('UNAUTHENTICATED');
  });

  it('answers 401 to a tampered token (bob promotes himself to ml-admins)', async () => {
    const { id_token } = await signIn(provider, CLIENT, 'bob', 'bob-pw');
    const [header, payload, signature] = id_token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    claims.groups = ['ml-admins'];
    const forged = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    const res = await get('/api/v1/exchanges', forged);
    expect(res.status).toBe(401);
  });

  it('throttles a flood of forged tokens per address (429 before any signature check); others are served', async () => {
    const { id_token } = await signIn(provider, CLIENT, 'bob', 'bob-pw');
    const [header, payload, signature] = id_token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const alice = (await signIn(provider, CLIENT, 'alice', 'alice-pw')).id_token;
    // From 127.0.0.3: the failed-auth bucket is per address, so the other tests here are not touched.
    const from = (token: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = httpRequest(
          `${base}/api/v1/exchanges`,
          { localAddress: '127.0.0.3', headers: { authorization: `Bearer ${token}` } },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.on('error', reject);
        req.end();
      });
    const statuses: number[] = [];
    // Each forged token differs (a fresh claim), so no cache could answer it: each is a signature check.
    for (let i = 0; i < 300 && !statuses.includes(429); i++) {
      claims.jti = `forged-${i}`;
      statuses.push(
        await from(`${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`),
      );
    }
    expect(statuses[0]).toBe(401);
    expect(statuses).toContain(429);
    // A signed-in user on another address is served meanwhile.
    expect((await get('/api/v1/exchanges', alice)).status).toBe(200);
  });

  it('answers 401 to unsigned (alg none) and HS256 tokens that claim the issuer', async () => {
    const claims = {
      iss: provider.issuer,
      aud: CLIENT.clientId,
      sub: 'mallory',
      groups: ['ml-admins'],
      exp: Math.floor(Date.now() / 1000) + 600,
    };
    const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
    const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`;
    expect((await get('/api/v1/exchanges', none)).status).toBe(401);
    // HS256 keyed with the provider's public JWKS text: the classic key-confusion forgery.
    const jwks = await (await fetch(`${provider.issuer}/jwks`)).text();
    const hs = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(jwks));
    expect((await get('/api/v1/exchanges', hs)).status).toBe(401);
  });

  it('answers 401 to a token from a key pair the provider does not publish', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const token = await new SignJWT({ groups: ['ml-admins'] })
      .setProtectedHeader({ alg: 'RS256', kid: 'not-the-providers' })
      .setIssuer(provider.issuer)
      .setAudience(CLIENT.clientId)
      .setSubject('mallory')
      .setExpirationTime('10m')
      .sign(privateKey);
    const res = await get('/api/v1/exchanges', token);
    expect(res.status).toBe(401);
  });

  it('serves GET /api/v1/auth/config without credentials, with no secret in it', async () => {
    const res = await get('/api/v1/auth/config');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      issuer: provider.issuer,
      clientId: CLIENT.clientId,
      scopes: ['openid', 'email', 'profile', 'groups'],
    });
  });

  it('a team-a reader signed in by OIDC learns nothing of team-b: not its rows, its id, nor its counts', async () => {
    const carol = (await signIn(provider, CLIENT, 'carol', 'carol-pw')).id_token; // ml-admins
    const posted = await fetch(`${base}/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${carol}`, 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify({
        specversion: '1.0',
        id: 'team-b-secret',
        type: 'org.kubeflow.serving.inference.request',
        source: 'pod-b',
        datacontenttype: 'application/json',
        inferenceservicename: 'secret-model',
        namespace: 'team-b',
        data: { instances: [42] },
      }),
    });
    expect(posted.status).toBe(200);
    // The admin sees it; alice (ml-readers = read:team-a) does not, anywhere.
    const all = (await (await get('/api/v1/exchanges', carol)).json()) as { items: { id: string }[] };
    expect(all.items.map((i) => i.id)).toContain('team-b-secret');
    const { id_token } = await signIn(provider, CLIENT, 'alice', 'alice-pw');
    const list = (await (await get('/api/v1/exchanges', id_token)).json()) as { items: { id: string }[] };
    expect(list.items.map((i) => i.id)).not.toContain('team-b-secret');
    const detail = await get('/api/v1/exchanges/team-b-secret', id_token);
    expect(detail.status).toBe(404);
    const stats = JSON.stringify(await (await get('/api/v1/stats?since=24h', id_token)).json());
    expect(stats).not.toContain('secret-model');
    expect(stats).not.toContain('team-b');
  });

  it('answers 401 to an expired token (after the 30 s clock tolerance)', async () => {
    const exp = decodeJwt(daveToken).exp ?? 0;
    const wait = exp * 1000 + 31_000 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const res = await get('/api/v1/exchanges', daveToken);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/expired/);
  }, 60_000);
});

describe('inferlog login (authorization code + PKCE, loopback redirect)', () => {
  it('signs in through the browser flow and keeps a 0600 token the collector accepts', async () => {
    const config = mkdtempSync(join(tmpdir(), 'inferlog-login-'));
    try {
      const login = runCli(['login', '--url', base], { XDG_CONFIG_HOME: config });
      await login.waitFor((c) => /^ {2}http\S+$/m.test(c.stderr()), 'the sign-in URL');
      const signInUrl = new URL(/^ {2}(http\S+)$/m.exec(login.stderr())![1]!);
      expect(signInUrl.searchParams.get('code_challenge_method')).toBe('S256');
      const redirectUri = signInUrl.searchParams.get('redirect_uri')!;
      expect(redirectUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);

      // A callback that is not this sign-in's (wrong state) changes nothing.
      expect((await fetch(`${redirectUri}?code=forged&state=wrong`)).status).toBe(400);

      const back = await loginAt(signInUrl.href, redirectUri, 'alice', 'alice-pw');
      expect((await fetch(back)).status).toBe(200);
      expect(await login.exited).toBe(0);

      const file = join(config, 'inferlog', 'token');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(statSync(join(config, 'inferlog')).mode & 0o777).toBe(0o700);
      const token = readFileSync(file, 'utf8').trim();
      expect(login.stderr() + login.stdout()).not.toContain(token);
      expect(login.stderr()).toMatch(/Signed in as alice@example\.test/);
      expect((await get('/api/v1/exchanges', token)).status).toBe(200);
    } finally {
      rmSync(config, { recursive: true, force: true });
    }
  }, 60_000);

  it('says the collector has no single sign-on when it runs without --oidc-issuer (exit 2)', async () => {
    const port = await freePort();
    const plain = await startCli([
      'collect',
      '--port',
      String(port),
      '--store',
      `sqlite:${join(dir, 'd.db')}`,
    ]);
    try {
      expect((await get('/api/v1/auth/config', undefined, `http://127.0.0.1:${port}`)).status).toBe(404);
      const login = runCli([
        'login',
        '--url',
        `http://127.0.0.1:${port}`,
        '--token-file',
        join(dir, 'never'),
      ]);
      expect(await login.exited).toBe(2);
      expect(login.stderr()).toMatch(/no single sign-on/);
    } finally {
      await plain.stop();
    }
  }, 30_000);
});

describe('collect --oidc-issuer while the provider is down', () => {
  it('starts, answers 503 to OIDC tokens, and accepts them once the provider is back', async () => {
    const providerPort = await freePort();
    const issuer = `http://127.0.0.1:${providerPort}`;
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const down = await startCli([
      'collect',
      '--port',
      String(port),
      '--store',
      `sqlite:${join(dir, 'b.db')}`,
      '--oidc-issuer',
      issuer,
      '--oidc-audience',
      CLIENT.clientId,
      ...GROUP_FLAGS,
    ]);
    let late: OidcProvider | undefined;
    try {
      // Logged, not fatal (discovery runs beside start-up, so the line may follow "ready").
      await down.waitFor((c) => /cannot be reached/.test(c.stderr()), 'the issuer warning');
      expect((await get('/healthz', undefined, url)).status).toBe(200);
      const { privateKey } = await generateKeyPair('RS256');
      const token = await new SignJWT({ groups: ['ml-readers'] })
        .setProtectedHeader({ alg: 'RS256' })
        .setIssuer(issuer)
        .setAudience(CLIENT.clientId)
        .setSubject('alice')
        .setExpirationTime('10m')
        .sign(privateKey);
      const res = await get('/api/v1/exchanges', token, url);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBeTruthy();
      expect(await errorCode(res)).toBe('AUTH_PROVIDER_UNAVAILABLE');

      late = await startOidcProvider({ clients, users, port: providerPort });
      const { id_token } = await signIn(late, CLIENT, 'alice', 'alice-pw');
      // Discovery failures are remembered for a few seconds: poll, bounded.
      let status = 0;
      for (let i = 0; i < 50 && status !== 200; i++) {
        status = (await get('/api/v1/exchanges', id_token, url)).status;
        if (status !== 200) await new Promise((r) => setTimeout(r, 200));
      }
      expect(status).toBe(200);

      // Keys once fetched are cached: the provider going away does not lock signed-in users out.
      await late.stop();
      late = undefined;
      expect((await get('/api/v1/exchanges', id_token, url)).status).toBe(200);
    } finally {
      await late?.stop();
      await down.stop();
    }
  }, 60_000);
});

describe('the authenticator against an ES256 provider', () => {
  const quiet: OpLogger = { debug() {}, info() {}, warn() {}, error() {} };
  const asRequest = (token: string): FastifyRequest =>
    ({ headers: { authorization: `Bearer ${token}` } }) as unknown as FastifyRequest;

  it('verifies ES256 tokens and names the user by verified email when configured', async () => {
    const es = await startOidcProvider({ clients, users, alg: 'ES256' });
    const auth = createOidcAuthenticator(
      {
        issuer: es.issuer,
        audience: CLIENT.clientId,
        usernameClaim: 'email',
        groups: new Map([
          ['ml-readers', { scopes: ['read'], namespaces: ['team-a'] }],
          ['staff', { scopes: ['read'], namespaces: ['team-b'] }],
        ]),
      },
      quiet,
    );
    try {
      const { id_token } = await signIn(es, CLIENT, 'alice', 'alice-pw');
      expect(JSON.parse(Buffer.from(id_token.split('.')[0]!, 'base64url').toString()).alg).toBe('ES256');
      const principal = await auth.authenticate(asRequest(id_token));
      expect(principal).toMatchObject({
        id: 'alice@example.test',
        via: 'oidc',
        namespaces: ['team-a', 'team-b'],
      });
      expect([...principal!.scopes]).toEqual(['read']);
      // bob has no email: with usernameClaim email he names nobody.
      const bob = await signIn(es, CLIENT, 'bob', 'bob-pw');
      await expect(auth.authenticate(asRequest(bob.id_token))).rejects.toMatchObject({
        code: 'UNAUTHENTICATED',
      });
      // A bearer token that is not a JWT is another authenticator's kind: not ours to refuse.
      expect(await auth.authenticate(asRequest('il_opaque-api-token'))).toBeUndefined();
    } finally {
      await auth.close?.();
      await es.stop();
    }
  }, 30_000);
});

describe('the authenticator remembers verified tokens (one signature check per token, not per request)', () => {
  const quiet: OpLogger = { debug() {}, info() {}, warn() {}, error() {} };
  const asRequest = (token: string): FastifyRequest =>
    ({ headers: { authorization: `Bearer ${token}` } }) as unknown as FastifyRequest;

  it('never past the token’s exp, and a group change applies to a remembered token at once', async () => {
    // erin's ID tokens live 4 s: long enough to be used once before exp with no clock tolerance.
    const erin = { username: 'erin', password: 'erin-pw', groups: ['ml-readers'], idTokenTtlSeconds: 4 };
    const p = await startOidcProvider({ clients, users: [...users, erin] });
    let groups = new Map([['ml-readers', { scopes: ['read' as const], namespaces: ['team-a'] }]]);
    // No clock tolerance: once exp has passed the token must be refused, remembered or not.
    const auth = createOidcAuthenticator(
      { issuer: p.issuer, audience: CLIENT.clientId, groups: () => groups, clockToleranceSeconds: 0 },
      quiet,
    );
    try {
      const short = await signIn(p, CLIENT, 'erin', 'erin-pw');
      const alice = await signIn(p, CLIENT, 'alice', 'alice-pw');
      expect(await auth.authenticate(asRequest(short.id_token))).toMatchObject({ id: expect.any(String) });
      expect(await auth.authenticate(asRequest(alice.id_token))).toMatchObject({ namespaces: ['team-a'] });
      const exp = decodeJwt(short.id_token).exp ?? 0;
      await new Promise((r) => setTimeout(r, Math.max(0, exp * 1000 + 1_100 - Date.now())));
      await expect(auth.authenticate(asRequest(short.id_token))).rejects.toMatchObject({
        code: 'UNAUTHENTICATED',
      });
      // alice's token is remembered; the grants are not.
      groups = new Map([['ml-readers', { scopes: ['read' as const], namespaces: ['team-b'] }]]);
      expect(await auth.authenticate(asRequest(alice.id_token))).toMatchObject({ namespaces: ['team-b'] });
      groups = new Map();
      await expect(auth.authenticate(asRequest(alice.id_token))).rejects.toMatchObject({ code: 'FORBIDDEN' });
    } finally {
      await auth.close?.();
      await p.stop();
    }
  }, 30_000);
});

// Runs once collect has --auth-file (auth-core's branch) and chains the OIDC authenticator after
// the API tokens: until that merge, collect has no API tokens to keep working.
describe('OIDC beside API tokens (--auth-file)', () => {
  it('token auth keeps working while the provider is down; oidc.groups in the auth file applies on reload', async () => {
    const apiToken = `ilt_${randomBytes(32).toString('base64url')}`;
    const authFile = join(dir, 'auth.json');
    const write = (groups: Record<string, unknown>): void =>
      writeFileSync(
        authFile,
        JSON.stringify({
          tokens: [
            {
              name: 'ops-reader',
              hash: `sha256:${createHash('sha256').update(apiToken).digest('hex')}`,
              scopes: ['read'],
            },
          ],
          oidc: { groups },
        }),
        { mode: 0o600 },
      );
    write({ 'ml-readers': { scopes: ['read'], namespaces: ['team-a'] } });
    const providerPort = await freePort();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const both = await startCli([
      'collect',
      '--port',
      String(port),
      '--store',
      `sqlite:${join(dir, 'e.db')}`,
      '--auth-file',
      authFile,
      '--oidc-issuer',
      `http://127.0.0.1:${providerPort}`,
      '--oidc-audience',
      CLIENT.clientId,
      '--oidc-group',
      'ml-admins=admin',
    ]);
    let late: OidcProvider | undefined;
    try {
      // The provider is down: API tokens are not affected.
      expect((await get('/api/v1/exchanges', apiToken, url)).status).toBe(200);

      late = await startOidcProvider({ clients, users, port: providerPort });
      const { id_token } = await signIn(late, CLIENT, 'alice', 'alice-pw');
      let status = 0;
      for (let i = 0; i < 50 && status !== 200; i++) {
        status = (await get('/api/v1/exchanges', id_token, url)).status;
        if (status !== 200) await new Promise((r) => setTimeout(r, 200));
      }
      expect(status).toBe(200); // ml-readers is mapped in the auth file only

      await late.stop();
      late = undefined;
      expect((await get('/api/v1/exchanges', apiToken, url)).status).toBe(200);

      // ml-readers removed from the file: alice is refused within seconds, without a restart.
      write({});
      for (let i = 0; i < 50 && status !== 403; i++) {
        status = (await get('/api/v1/exchanges', id_token, url)).status;
        if (status !== 403) await new Promise((r) => setTimeout(r, 200));
      }
      expect(status).toBe(403);
    } finally {
      await late?.stop();
      await both.stop();
    }
  }, 60_000);
});

describe('collect --oidc-* flag errors', () => {
  const bad: [string, string[], RegExp][] = [
    [
      'an http issuer off loopback',
      ['--oidc-issuer', 'http://idp.example.com', '--oidc-audience', 'x', '--oidc-group', 'g=read'],
      /must be https/,
    ],
    [
      'no audience',
      ['--oidc-issuer', 'https://idp.example.com', '--oidc-group', 'g=read'],
      /--oidc-audience/,
    ],
    [
      'no group mapping',
      ['--oidc-issuer', 'https://idp.example.com', '--oidc-audience', 'x'],
      /--oidc-group/,
    ],
    [
      'an unknown scope',
      ['--oidc-issuer', 'https://idp.example.com', '--oidc-audience', 'x', '--oidc-group', 'g=write'],
      /unknown scope "write"/,
    ],
  ];
  for (const [what, flags, message] of bad)
    it(`exits 2 naming the problem: ${what}`, async () => {
      const cli = runCli(['collect', '--port', '0', '--store', `sqlite:${join(dir, 'c.db')}`, ...flags]);
      expect(await cli.exited).toBe(2);
      expect(cli.stderr()).toMatch(message);
    });
});
