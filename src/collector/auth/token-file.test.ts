import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyRequest } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { isInferlogError } from '../../core/errors.js';
import { chainAuthenticators, looksLikeJwt } from './chain.js';
import type { Authenticator } from './hook.js';
import {
  createTokenIn,
  hashToken,
  listTokensIn,
  parseAuthFile,
  readAuthFile,
  revokeTokenIn,
  tokenAuthenticator,
  type AuthFile,
} from './token-file.js';

const dir = mkdtempSync(join(tmpdir(), 'inferlog-tokens-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HASH = `sha256:${'a'.repeat(64)}`;

function problems(text: string): string[] {
  try {
    parseAuthFile(text, 'auth.yaml');
  } catch (err) {
    if (isInferlogError(err, 'CONFIG_INVALID')) return err.message.split('\n');
    throw err;
  }
  return [];
}

/** A request as the auth hook sees it: a real fastify request, from inject(). */
async function requestWith(headers: Record<string, string>): Promise<FastifyRequest> {
  const app = Fastify();
  let seen: FastifyRequest | undefined;
  app.get('/', async (req) => {
    seen = req;
    return {};
  });
  await app.inject({ method: 'GET', url: '/', headers });
  await app.close();
  return seen!;
}

describe('auth file', () => {
  it('reads tokens, certificates and passes the oidc section through', () => {
    const auth = parseAuthFile(
      `tokens:\n  - {name: a, hash: "${HASH}", scopes: [read], namespaces: [team-a], models: [m]}\n` +
        'certificates:\n  - {subject: CN=agent, scopes: [ingest]}\n  - {san: "DNS:x.svc", scopes: [ingest]}\n' +
        'oidc: {issuer: https://idp.example}\n',
      'auth.yaml',
    );
    expect(auth.tokens[0]).toMatchObject({ name: 'a', namespaces: ['team-a'], models: ['m'] });
    expect([...auth.tokens[0]!.scopes]).toEqual(['read']);
    expect(auth.certificates.map((c) => c.subject ?? c.san)).toEqual(['CN=agent', 'DNS:x.svc']);
    expect(auth.oidc).toEqual({ issuer: 'https://idp.example' });
  });

  it('JSON works too', () => {
    expect(
      parseAuthFile(JSON.stringify({ tokens: [{ name: 'a', hash: HASH, scopes: ['admin'] }] }), 'a.json')
        .tokens,
    ).toHaveLength(1);
  });

  it('reports every problem with file:line:col and the field', () => {
    expect(
      problems(
        `tokens:\n  - name: a\n    hash: "${HASH}"\n    scopes: [read]\n  - name: a\n    hash: md5:1\n    scopes: []\n    team: x\nextra: 1\n`,
      ),
    ).toEqual([
      'auth.yaml:9:8: extra: unknown field; known: tokens, certificates, oidc',
      'auth.yaml:8:11: tokens.1.team: unknown field; known: name, hash, created, scopes, namespaces, models',
      'auth.yaml:5:11: tokens.1.name: "a" is also the name of tokens[0]',
      'auth.yaml:6:11: tokens.1.hash: must be "sha256:" and 64 lowercase hex digits (the file stores hashes, never tokens)',
      'auth.yaml:7:13: tokens.1.scopes: must be a non-empty list of ingest, read, admin',
    ]);
    expect(problems('certificates:\n  - scopes: [ingest]\n')).toEqual([
      'auth.yaml:2:5: certificates.0: needs exactly one of subject (CN=name) or san (DNS:name, URI:uri)',
    ]);
    expect(problems('tokens: [\n')[0]).toMatch(/^auth\.yaml:\d+:\d+: \(yaml\): /);
    // Empty: refused, so a file caught mid-write never revokes everyone.
    expect(problems('')).toEqual([
      'auth.yaml:1:1: (document): the auth file is empty; it needs tokens:, certificates: or oidc:',
    ]);
  });
});

describe('inferlog token create / revoke on the file', () => {
  it('creates the file 0600 with hashes only, keeps comments, and revokes by name', () => {
    const file = join(dir, 'auth.yaml');
    const t = createTokenIn(file, { name: 'reader', scopes: ['read'], namespaces: ['team-a'] });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    writeFileSync(file, '# kept\n' + readFileSync(file, 'utf8'));
    createTokenIn(file, { name: 'agent', scopes: ['ingest'] });
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('# kept');
    expect(text).not.toContain(t);
    expect(text).toContain(`sha256:${hashToken(t).toString('hex')}`);
    expect(() => createTokenIn(file, { name: 'agent', scopes: ['read'] })).toThrow(
      /already has a token named "agent"/,
    );
    expect(revokeTokenIn(file, 'reader')).toBe(true);
    expect(revokeTokenIn(file, 'reader')).toBe(false);
    expect(listTokensIn(file).map((e) => e.name)).toEqual(['agent']);
  });

  it('keeps a JSON file JSON', () => {
    const file = join(dir, 'auth.json');
    createTokenIn(file, { name: 'a', scopes: ['admin'] });
    createTokenIn(file, { name: 'b', scopes: ['read'] });
    expect((JSON.parse(readFileSync(file, 'utf8')) as { tokens: unknown[] }).tokens).toHaveLength(2);
  });
});

describe('token authenticator and the chain', () => {
  const token = 'ilt_' + 'x'.repeat(43);
  const auth: AuthFile = {
    tokens: [{ name: 'reader', hash: hashToken(token), scopes: new Set(['read']), namespaces: ['team-a'] }],
    certificates: [],
  };
  const tokens = tokenAuthenticator({ current: () => auth });

  it('maps a known token to its principal; unknown → 401; none → undefined', async () => {
    const p = await tokens.authenticate(await requestWith({ authorization: `Bearer ${token}` }));
    expect(p).toMatchObject({ id: 'reader', via: 'token', namespaces: ['team-a'] });
    await expect(
      tokens.authenticate(await requestWith({ authorization: 'Bearer ilt_other' })),
    ).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
      status: 401,
    });
    expect(await tokens.authenticate(await requestWith({}))).toBeUndefined();
  });

  it('passes a JWT on to the next authenticator (its kind), and nothing else', async () => {
    expect(looksLikeJwt('eyJh.eyJz.sig')).toBe(true);
    expect(looksLikeJwt(token)).toBe(false);
    const oidc: Authenticator = {
      authenticate: async (req) =>
        req.headers.authorization === 'Bearer eyJh.eyJz.sig'
          ? { id: 'sub-1', via: 'oidc', scopes: new Set(['read']) }
          : undefined,
    };
    const chain = chainAuthenticators([tokens, oidc]);
    expect(
      await chain.authenticate(await requestWith({ authorization: 'Bearer eyJh.eyJz.sig' })),
    ).toMatchObject({ via: 'oidc' });
    expect(await chain.authenticate(await requestWith({ authorization: `Bearer ${token}` }))).toMatchObject({
      via: 'token',
    });
    // A rejected token is not retried as another kind.
    await expect(
      chain.authenticate(await requestWith({ authorization: 'Bearer ilt_bad' })),
    ).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    });
    // An Authorization header nobody takes is a credential refused, not a missing one.
    await expect(
      chain.authenticate(await requestWith({ authorization: 'Basic dTpw' })),
    ).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
    });
    expect(await chain.authenticate(await requestWith({}))).toBeUndefined();
  });
});

describe('the auth file’s directory', () => {
  const body = `tokens: [{ name: t, hash: "${HASH}", scopes: [read] }]\n`;

  it('is refused when group or others may write it without the sticky bit (they could swap the file)', () => {
    const open = join(dir, 'shared-dir');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const file = join(open, 'auth.yaml');
    writeFileSync(file, body, { mode: 0o600 });
    let err: unknown;
    try {
      readAuthFile(file);
    } catch (e) {
      err = e;
    }
    expect(isInferlogError(err, 'CONFIG_INVALID')).toBe(true);
    expect((err as Error).message).toContain(open);
    expect((err as Error).message).toMatch(/chmod/);
  });

  it('is accepted when only its owner may write it, or it is sticky (a Kubernetes Secret volume is 1777)', () => {
    for (const mode of [0o700, 0o755, 0o1777]) {
      const d = join(dir, `dir-${mode.toString(8)}`);
      mkdirSync(d);
      chmodSync(d, mode);
      writeFileSync(join(d, 'auth.yaml'), body, { mode: 0o600 });
      expect(readAuthFile(join(d, 'auth.yaml')).auth.tokens).toHaveLength(1);
    }
  });
});
