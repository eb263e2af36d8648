/**
 * Issue 9 review: the merged collector attacked over real HTTP on 127.0.0.1 (real SQLite file).
 * Routes are listed from the server itself (fastify's printRoutes), so a route added later is
 * swept too: every one answers 401 without credentials unless it is one of the documented public
 * ones, 403 for a wrong scope, and the ingest listener serves nothing but ingest and health.
 */
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Authenticator } from '../../src/collector/auth/hook.js';
import type { Collector } from '../../src/collector/server.js';
import { startCollector } from '../../src/collector/server.js';
import { createSqliteStore } from '../../src/store/sqlite-store.js';
import { principal, tokenAuthenticator } from '../helpers/token-authenticator.js';
import { makeCa, makeCert, makeExpiredCert } from '../helpers/tls-certs.js';
import { loadServerTls } from '../../src/collector/auth/tls.js';

const dir = mkdtempSync(join(tmpdir(), 'inferlog-auth-review-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
let n = 0;

const TOKENS = {
  admin: principal('ops-admin', ['admin']),
  reader: principal('reader', ['read']),
  ingester: principal('ingester', ['ingest']),
};
type Token = keyof typeof TOKENS;

/** The only routes a caller may use without credentials: they carry no captured data. */
const PUBLIC = new Set([
  'GET /healthz',
  'HEAD /healthz',
  'GET /api/v1/auth/config',
  'HEAD /api/v1/auth/config',
]);
const PUBLIC_UI = new Set(['GET /*', 'HEAD /*']);

/** `METHOD /path` for every route in fastify's printRoutes({ commonPrefix: false }) tree. */
function routesOf(tree: string): { method: string; path: string }[] {
  const stack: string[] = [];
  const routes: { method: string; path: string }[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([\s│]*)[└├]── (\S+)(?: \(([^)]*)\))?/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    const parent = stack[depth - 1] ?? '';
    const segment = m[2]!;
    const path = parent === '' ? segment : `${parent.replace(/\/$/, '')}/${segment.replace(/^\//, '')}`;
    stack[depth] = path;
    for (const method of (m[3] ?? '').split(',').map((s) => s.trim()))
      if (method !== '') routes.push({ method, path });
  }
  return routes;
}

/** A concrete URL path for a route pattern. */
function concrete(path: string): string {
  return path.replace(/:id\b/, 'some-id').replace(/\*$/, 'some-page');
}

async function call(base: string, method: string, path: string, token?: Token): Promise<Response> {
  const body = method === 'POST' ? '{}' : undefined;
  return fetch(`${base}${concrete(path)}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/cloudevents+json' } : {}),
    },
    ...(body !== undefined ? { body } : {}),
  });
}

async function collector(authenticator: Authenticator): Promise<Collector> {
  return startCollector({
    store: createSqliteStore(join(dir, `c${n++}.db`)),
    port: 0,
    log: quiet,
    authenticator,
    ingest: { port: 0, open: false },
    authConfig: { issuer: 'https://idp.example', clientId: 'inferlog', scopes: ['openid'] },
  });
}

describe('every route of the merged collector', () => {
  it('answers 401 without credentials (public routes excepted) and 403 for a wrong scope', async () => {
    const c = await collector(tokenAuthenticator(TOKENS));
    try {
      const routes = routesOf(c.app.printRoutes({ commonPrefix: false }));
      // The sweep must see the routes it is meant to guard (a parsing slip would pass vacuously).
      const names = routes.map((r) => `${r.method} ${r.path}`);
      expect(names).toEqual(
        expect.arrayContaining([
          'GET /api/v1/exchanges',
          'DELETE /api/v1/exchanges/:id',
          'GET /api/v1/exchanges/:id/instances',
          'GET /api/v1/instances',
          'GET /api/v1/timeseries',
          'GET /metrics',
          'POST /',
          'GET /*',
        ]),
      );
      const wrong: Record<string, Token> = {};
      for (const { method, path } of routes) {
        const name = `${method} ${path}`;
        const res = await call(c.url, method, path);
        if (PUBLIC.has(name) || PUBLIC_UI.has(name)) {
          expect([200, 404], name).toContain(res.status);
          continue;
        }
        expect(res.status, name).toBe(401);
        expect(res.headers.get('www-authenticate'), name).toMatch(/^Bearer/);
        // The scope each kind of route needs, and a token that lacks it.
        const scope = method === 'POST' ? 'ingest' : method === 'DELETE' ? 'admin' : 'read';
        wrong[name] = scope === 'ingest' ? 'reader' : scope === 'admin' ? 'reader' : 'ingester';
        const denied = await call(c.url, method, path, wrong[name]);
        expect(denied.status, `${name} with ${wrong[name]}`).toBe(403);
      }
      // An unknown route is closed too (it needs admin): nobody learns which routes exist.
      expect((await fetch(`${c.url}/no/such/route`, { method: 'DELETE' })).status).toBe(401);
    } finally {
      await c.close();
    }
  });

  it('on the ingest listener serves nothing but ingest and health, even to an admin', async () => {
    const c = await collector(tokenAuthenticator(TOKENS));
    try {
      const ingest = c.ingestUrl!;
      for (const { method, path } of routesOf(c.app.printRoutes({ commonPrefix: false }))) {
        const name = `${method} ${path}`;
        if (method === 'POST' || path === '/healthz') continue;
        const anonymous = await call(ingest, method, path);
        expect([401, 404], `${name} on ingest`).toContain(anonymous.status);
        const admin = await call(ingest, method, path, 'admin');
        expect(admin.status, `${name} on ingest with an admin token`).toBe(404);
      }
      expect((await fetch(`${ingest}/healthz`)).status).toBe(200);
      expect((await call(ingest, 'POST', '/', 'reader')).status).toBe(403);
      expect((await call(ingest, 'POST', '/')).status).toBe(401);
    } finally {
      await c.close();
    }
  });
});

describe('public routes', () => {
  it('never verify a credential sent to them (a forged token flood there costs no signature check)', async () => {
    const inner = tokenAuthenticator(TOKENS);
    let checked = 0;
    const counting: Authenticator = {
      authenticate(req) {
        checked++;
        return inner.authenticate(req);
      },
    };
    const c = await collector(counting);
    try {
      const forged = { authorization: 'Bearer eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln' };
      for (const path of ['/healthz', '/api/v1/auth/config', '/', '/index.html', '/some/page']) {
        const res = await fetch(`${c.url}${path}`, { headers: forged });
        expect([200, 404], path).toContain(res.status);
      }
      expect(checked).toBe(0);
      // Routes that need credentials still check them.
      expect((await fetch(`${c.url}/api/v1/stats`, { headers: forged })).status).toBe(401);
      expect(checked).toBe(1);
    } finally {
      await c.close();
    }
  });
});

/** A GET from a chosen local address (127.0.0.x), so one test can be two clients. */
function getFrom(
  localAddress: string,
  url: string,
  token: string,
): Promise<{ status: number; retryAfter?: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { localAddress, headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          ...(res.headers['retry-after'] !== undefined
            ? { retryAfter: String(res.headers['retry-after']) }
            : {}),
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('failed authentication', () => {
  it('is limited per address by default (no --rate-limit): a forged-token loop gets 429, others are served', async () => {
    const c = await collector(tokenAuthenticator(TOKENS));
    try {
      const statuses: number[] = [];
      let retryAfter: string | undefined;
      // Every credential is different, as a flood of forged JWTs would be.
      for (let i = 0; i < 300 && !statuses.includes(429); i++) {
        const r = await getFrom('127.0.0.1', `${c.url}/api/v1/stats`, `forged-${i}`);
        statuses.push(r.status);
        retryAfter ??= r.retryAfter;
      }
      expect(statuses[0]).toBe(401);
      expect(statuses).toContain(429);
      expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
      // Another address is not affected, and a valid token from it is served.
      expect((await getFrom('127.0.0.2', `${c.url}/api/v1/stats`, 'reader')).status).toBe(200);
    } finally {
      await c.close();
    }
  });
});

describe('an oversized Authorization header', () => {
  it('is refused (401) without being handed to an authenticator', async () => {
    const inner = tokenAuthenticator(TOKENS);
    let checked = 0;
    const counting: Authenticator = {
      authenticate(req) {
        checked++;
        return inner.authenticate(req);
      },
    };
    const c = await collector(counting);
    try {
      // JWT-shaped, as a forged token padded to make hashing and decoding expensive would be.
      const huge = `eyJhbGciOiJSUzI1NiJ9.${'A'.repeat(200_000)}.c2ln`;
      const res = await fetch(`${c.url}/api/v1/stats`, { headers: { authorization: `Bearer ${huge}` } });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/KiB/);
      expect(checked).toBe(0);
      // A token of ordinary size is still checked.
      expect(
        (await fetch(`${c.url}/api/v1/stats`, { headers: { authorization: 'Bearer reader' } })).status,
      ).toBe(200);
    } finally {
      await c.close();
    }
  });
});

describe('TLS rotation', () => {
  it('keeps serving the current certificate when the rotated one has expired, and says why', async () => {
    const ca = makeCa(dir, 'rot-ca');
    const good = makeCert(dir, ca, 'rot-good', 'collector', ['IP:127.0.0.1']);
    const live = { cert: join(dir, 'rot-live.crt'), key: join(dir, 'rot-live.key') };
    copyFileSync(good.cert, live.cert);
    copyFileSync(good.key, live.key);
    const logged: string[] = [];
    const log = { ...quiet, warn: (m: string, f?: object) => logged.push(`${m} ${JSON.stringify(f ?? {})}`) };
    const error = (m: string, f?: object): void => {
      logged.push(`${m} ${JSON.stringify(f ?? {})}`);
    };
    const tls = loadServerTls({ certFile: live.cert, keyFile: live.key }, { ...log, error });
    const c = await startCollector({
      store: createSqliteStore(join(dir, `c${n++}.db`)),
      port: 0,
      log: quiet,
      authenticator: tokenAuthenticator(TOKENS),
      tls,
    });
    const served = (): Promise<string> =>
      new Promise((resolve, reject) => {
        const s = tlsConnect({
          host: '127.0.0.1',
          port: c.port,
          ca: readFileSync(ca.cert),
          rejectUnauthorized: false,
        });
        s.on('secureConnect', () => {
          resolve(s.getPeerX509Certificate()!.fingerprint256);
          s.destroy();
        });
        s.on('error', reject);
      });
    try {
      const before = await served();
      expect(before).toBe(new X509Certificate(readFileSync(good.cert)).fingerprint256);
      const expired = makeExpiredCert(dir, ca, 'rot-expired', 'collector', ['IP:127.0.0.1']);
      writeFileSync(live.key, readFileSync(expired.key));
      writeFileSync(live.cert, readFileSync(expired.cert));
      await tls.check();
      expect(await served()).toBe(before);
      expect(logged.join('\n')).toMatch(/expired/);
    } finally {
      await c.close();
      tls.close();
    }
  });
});
