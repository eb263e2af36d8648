// A real OpenID Provider for tests and local trials: panva's `oidc-provider` (OpenID Certified),
// installed into .peers/oidc by scripts/peers/oidc.sh, with static users and clients from a JSON
// file. It signs ID tokens (RS256 or ES256) with keys it publishes at its jwks_uri and in its
// discovery document, exactly as a production provider does.
//
//   node scripts/peers/oidc-provider.mjs CONFIG.json
//
//   CONFIG.json: {
//     "port": 15556,                               // on 127.0.0.1; 0 = any free port
//     "issuer": "http://127.0.0.1:15556",          // default: from the port
//     "alg": "RS256" | "ES256",                    // signing algorithm (default RS256)
//     "keysFile": ".../keys.json",                 // optional: keep the signing key across restarts
//     "idTokenTtlSeconds": 3600,
//     "clients": [{ "client_id": "inferlog", "application_type": "native",
//                   "redirect_uris": ["http://127.0.0.1/callback"] }],
//     "users": [{ "username": "alice", "password": "…", "sub": "alice",
//                 "email": "alice@example.test", "groups": ["ml-readers"],
//                 "idTokenTtlSeconds": 60 }]              // optional, per user
//   }
//
// Sign-in is authorization code + PKCE (S256, required). The login page is a plain HTML form
// (POST /interaction/<uid> with username and password), so a test drives it with real HTTP
// requests and no browser; consent is implied for these first-party clients. Native clients may
// use any port on a loopback redirect URI (RFC 8252 §7.3). ID tokens carry the user's `email` and
// `groups` claims. Once listening it prints one line, `ready <issuer>`, on stdout.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { URLSearchParams, fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const peersDir = process.env.INFERLOG_PEERS_DIR ?? resolve(here, '../../.peers');
// The provider lives in .peers/oidc, not in the project's dependencies.
const require = createRequire(join(peersDir, 'oidc/package.json'));
const { default: Provider } = await import(require.resolve('oidc-provider'));
const jose = await import(require.resolve('jose'));

const configPath = process.argv[2];
if (!configPath) {
  console.error('usage: node scripts/peers/oidc-provider.mjs CONFIG.json');
  process.exit(2);
}
const config = JSON.parse(readFileSync(configPath, 'utf8'));
const alg = config.alg ?? 'RS256';
if (alg !== 'RS256' && alg !== 'ES256') throw new Error(`${configPath}: alg must be RS256 or ES256`);
const users = config.users ?? [];
const clients = (config.clients ?? []).map((c) => ({
  token_endpoint_auth_method: 'none',
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  id_token_signed_response_alg: alg,
  ...c,
}));

async function signingKey() {
  if (config.keysFile && existsSync(config.keysFile))
    return JSON.parse(readFileSync(config.keysFile, 'utf8'));
  const { privateKey } = await jose.generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await jose.exportJWK(privateKey)), alg, use: 'sig' };
  jwk.kid = await jose.calculateJwkThumbprint(jwk);
  if (config.keysFile) writeFileSync(config.keysFile, JSON.stringify(jwk), { mode: 0o600 });
  return jwk;
}

const server = createServer();
await new Promise((ok, fail) => {
  server.once('error', fail);
  server.listen(config.port ?? 0, '127.0.0.1', ok);
});
const issuer = config.issuer ?? `http://127.0.0.1:${server.address().port}`;

const SCOPES = ['openid', 'email', 'profile', 'groups', 'offline_access'];
const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [await signingKey()] },
  scopes: SCOPES,
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
    groups: ['groups'],
  },
  // The claims of the granted scopes go into the ID token itself (not only userinfo): the
  // collector reads `groups` from the token it is shown.
  conformIdTokenClaims: false,
  findAccount(_ctx, sub) {
    const user = users.find((u) => (u.sub ?? u.username) === sub);
    if (!user) return undefined;
    return {
      accountId: sub,
      claims: () => ({
        sub,
        email: user.email,
        email_verified: user.email !== undefined,
        name: user.name ?? user.username,
        preferred_username: user.username,
        groups: user.groups ?? [],
      }),
    };
  },
  // First-party clients: the user's consent is implied, so no consent page to drive.
  async loadExistingGrant(ctx) {
    const grantId =
      ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope(SCOPES.join(' '));
    await grant.save();
    return grant;
  },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  ttl: {
    // A user's own idTokenTtlSeconds lets a test get a token that expires soon.
    IdToken: (ctx) =>
      users.find((u) => (u.sub ?? u.username) === ctx.oidc.entities.Account?.accountId)?.idTokenTtlSeconds ??
      config.idTokenTtlSeconds ??
      3600,
    AccessToken: config.idTokenTtlSeconds ?? 3600,
  },
  cookies: { keys: [randomBytes(32).toString('base64url')] },
  renderError(ctx, out) {
    ctx.type = 'text/plain';
    ctx.body = `${out.error}: ${out.error_description ?? ''}\n`;
  },
});

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
function loginPage(uid, problem) {
  return `<!doctype html><title>Sign in</title>${problem ? `<p>${escape(problem)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}">
<input name="username" autocomplete="username"> <input name="password" type="password">
<button type="submit">Sign in</button></form>\n`;
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 10_000) throw new Error('form too large');
  }
  return new URLSearchParams(body);
}

async function interaction(req, res, uid) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction mismatch');
  if (details.prompt.name === 'consent') {
    // oidc-provider asks again for native clients on loopback redirects (anyone may listen
    // there); these test clients are first-party, so consent is given without a page.
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
    grant.addOIDCScope(SCOPES.join(' '));
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    return;
  }
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(loginPage(uid));
    return;
  }
  const form = await readForm(req);
  const user = users.find((u) => u.username === form.get('username') && u.password === form.get('password'));
  if (!user) {
    res
      .writeHead(401, { 'content-type': 'text/html; charset=utf-8' })
      .end(loginPage(uid, 'Wrong username or password.'));
    return;
  }
  await provider.interactionFinished(
    req,
    res,
    { login: { accountId: user.sub ?? user.username } },
    {
      mergeWithLastSubmission: false,
    },
  );
}

const callback = provider.callback();
server.on('request', (req, res) => {
  const match = /^\/interaction\/([\w-]+)$/.exec(req.url.split('?', 1)[0]);
  if (!match) return callback(req, res);
  interaction(req, res, match[1]).catch((err) => {
    if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain' });
    res.end(`${err.message}\n`);
  });
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
console.log(`ready ${issuer}`);
