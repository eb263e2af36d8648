/**
 * Collector authentication, transport and secure defaults (issue 9), with real processes: `inferlog
 * collect` and `inferlog token` from bin/inferlog.js, real TLS certificates made by openssl, and
 * real clients (fetch / undici, node:tls, raw sockets).
 */
import { X509Certificate } from 'node:crypto';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, type CliProcess } from '../helpers/cli.js';
import { makeCa, makeCert, pem, type CertFiles } from '../helpers/tls-certs.js';

const dir = mkdtempSync(join(tmpdir(), 'inferlog-auth-'));
const running: CliProcess[] = [];
afterAll(async () => {
  await Promise.all(running.map((p) => p.stop('SIGKILL')));
  rmSync(dir, { recursive: true, force: true });
});

let dbs = 0;
async function collect(args: string[]): Promise<{ proc: CliProcess; url: URL; ingest?: URL }> {
  const proc = await startCli([
    'collect',
    '--port',
    '0',
    '--store',
    `sqlite:${join(dir, `c${++dbs}.db`)}`,
    ...args,
  ]);
  running.push(proc);
  const url = new URL(/ready on (https?:\/\/\S+)/.exec(proc.stderr())![1]!);
  const ingest = /ingest=(https?:\/\/\S+)/.exec(proc.stderr())?.[1];
  return { proc, url, ...(ingest ? { ingest: new URL(ingest) } : {}) };
}

/** `inferlog token create`: the token printed on stdout. */
async function createToken(authFile: string, name: string, ...flags: string[]): Promise<string> {
  const p = runCli(['token', 'create', '--auth-file', authFile, '--name', name, ...flags]);
  expect(await p.exited, p.stderr()).toBe(0);
  const token = p.stdout().trim();
  expect(token).toMatch(/^ilt_[A-Za-z0-9_-]{43}$/);
  return token;
}

const EVENT_HEADERS = {
  'content-type': 'application/json',
  'ce-specversion': '1.0',
  'ce-source': 'http://localhost:9081/',
  'ce-type': 'org.kubeflow.serving.inference.request',
  'ce-inferenceservicename': 'm',
  'ce-namespace': 'team-a',
};
let eventIds = 0;
const event = (extra: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { ...EVENT_HEADERS, 'ce-id': `ev-${++eventIds}`, ...extra },
  body: '{"instances":[[1,2]]}',
});
const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

async function until(what: string, check: () => Promise<boolean>, boundMs = 10_000): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > boundMs) throw new Error(`not within ${boundMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return Date.now() - started;
}

describe('secure defaults', { timeout: 60_000 }, () => {
  it('refuses a non-loopback --host without authentication, naming the flags', async () => {
    const p = runCli([
      'collect',
      '--host',
      '0.0.0.0',
      '--port',
      '0',
      '--store',
      `sqlite:${join(dir, 'r.db')}`,
    ]);
    expect(await p.exited).toBe(2);
    expect(p.stderr()).toMatch(/--insecure-no-auth/);
    expect(p.stderr()).toMatch(/--auth-file/);
    expect(p.stderr()).toMatch(/--tls-client-ca/);
    expect(p.stderr()).toMatch(/--oidc-issuer/);
  });

  it('loopback without authentication: the quick start is unchanged', async () => {
    const { url } = await collect([]);
    expect((await fetch(url, event())).status).toBe(200);
    expect((await fetch(new URL('/api/v1/exchanges', url))).status).toBe(200);
    expect((await fetch(new URL('/metrics', url))).status).toBe(200);
  });

  it('a bad auth file stops the start with file:line:col and the field', async () => {
    const file = join(dir, 'bad-auth.yaml');
    writeFileSync(file, 'tokens:\n  - name: x\n    hash: sha256:abc\n    scopes: [read, write]\n');
    const p = runCli([
      'collect',
      '--port',
      '0',
      '--store',
      `sqlite:${join(dir, 'b.db')}`,
      '--auth-file',
      file,
    ]);
    expect(await p.exited).toBe(1);
    expect(p.stderr()).toContain(`${file}:3:11: tokens.0.hash: must be "sha256:"`);
    expect(p.stderr()).toContain(`${file}:4:20: tokens.0.scopes.1: unknown scope "write"`);
  });

  it('an auth file others may write is refused (they could grant themselves admin)', async () => {
    const file = join(dir, 'shared-auth.yaml');
    writeFileSync(file, `tokens:\n  - {name: a, hash: "sha256:${'a'.repeat(64)}", scopes: [read]}\n`, {
      mode: 0o666,
    });
    chmodSync(file, 0o666);
    const p = runCli([
      'collect',
      '--port',
      '0',
      '--store',
      `sqlite:${join(dir, 'b.db')}`,
      '--auth-file',
      file,
    ]);
    expect(await p.exited).toBe(1);
    expect(p.stderr()).toMatch(/mode 0666: group or others can write to it.*chmod 600/);
  });
});

describe('API tokens', { timeout: 120_000 }, () => {
  const authFile = join(dir, 'auth.yaml');
  let reader: string;
  let agent: string;
  let admin: string;
  let url: URL;
  let proc: CliProcess;
  beforeAll(async () => {
    reader = await createToken(authFile, 'reader', '--scope', 'read', '--namespace', 'team-a');
    agent = await createToken(authFile, 'agent', '--scope', 'ingest');
    admin = await createToken(authFile, 'admin', '--scope', 'admin');
    ({ url, proc } = await collect(['--auth-file', authFile]));
  });

  it('stores only hashes, in a 0600 file', () => {
    const text = readFileSync(authFile, 'utf8');
    for (const t of [reader, agent, admin]) expect(text).not.toContain(t);
    expect(text).toMatch(/hash: sha256:[0-9a-f]{64}/);
  });

  it('401 with WWW-Authenticate on every route without credentials', async () => {
    const routes: Array<[string, RequestInit]> = [
      ['/api/v1/exchanges', {}],
      ['/api/v1/exchanges/some-id', {}],
      ['/api/v1/stats', {}],
      ['/api/v1/timeseries', {}],
      ['/metrics', {}],
      ['/', event()],
    ];
    for (const [path, init] of routes) {
      const res = await fetch(new URL(path, url), init);
      expect(res.status, path).toBe(401);
      expect(res.headers.get('www-authenticate'), path).toMatch(/^Bearer/);
      expect(((await res.json()) as { error: { code: string } }).error.code, path).toBe('UNAUTHENTICATED');
    }
    // Health and the UI's files carry no captured data.
    expect((await fetch(new URL('/healthz', url))).status).toBe(200);
    // The refused event is counted, with its reason.
    const metrics = await (await fetch(new URL('/metrics', url), { headers: bearer(admin) })).text();
    expect(metrics).toMatch(/inferlog_collector_events_rejected_total\{reason="unauthenticated"\} [1-9]/);
  });

  it('401 for an unknown token and for a JWT when no OIDC issuer is configured', async () => {
    const unknown = await fetch(new URL('/api/v1/exchanges', url), { headers: bearer('ilt_nope') });
    expect(unknown.status).toBe(401);
    const jwt = await fetch(new URL('/api/v1/exchanges', url), { headers: bearer('eyJhbGc.eyJzdWIi.c2ln') });
    expect(jwt.status).toBe(401);
    expect(await jwt.text()).toMatch(/--oidc-issuer/);
  });

  it('each scope does what it says, and nothing else (403)', async () => {
    const post = await fetch(url, { ...event(), headers: { ...event().headers, ...bearer(agent) } });
    expect(post.status).toBe(200);
    expect((await fetch(new URL('/api/v1/exchanges', url), { headers: bearer(agent) })).status).toBe(403);
    const readerPost = await fetch(url, { ...event(), headers: { ...event().headers, ...bearer(reader) } });
    expect(readerPost.status).toBe(403);
    expect(((await readerPost.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN');
    expect((await fetch(new URL('/api/v1/exchanges', url), { headers: bearer(reader) })).status).toBe(200);
    // The reader is limited to team-a, and /metrics counts every namespace (authz-data): 403.
    expect((await fetch(new URL('/metrics', url), { headers: bearer(reader) })).status).toBe(403);
    expect((await fetch(new URL('/metrics', url), { headers: bearer(admin) })).status).toBe(200);
    expect((await fetch(new URL('/api/v1/stats', url), { headers: bearer(admin) })).status).toBe(200);
  });

  it('a revoked token is refused within seconds, a new one accepted, without a restart', async () => {
    const later = await createToken(authFile, 'later', '--scope', 'read');
    await until('the new token is accepted', async () => {
      return (await fetch(new URL('/api/v1/exchanges', url), { headers: bearer(later) })).status === 200;
    });
    const revoke = runCli(['token', 'revoke', '--auth-file', authFile, '--name', 'later']);
    expect(await revoke.exited, revoke.stderr()).toBe(0);
    await until('the revoked token is refused', async () => {
      return (await fetch(new URL('/api/v1/exchanges', url), { headers: bearer(later) })).status === 401;
    });
    expect((await fetch(new URL('/api/v1/exchanges', url), { headers: bearer(reader) })).status).toBe(200);
  });

  it('a broken auth file on reload is logged and the old one stays in force', async () => {
    const good = readFileSync(authFile, 'utf8');
    writeFileSync(authFile, good.replace('scopes:', 'scopez:'));
    try {
      await proc.waitFor((p) => /reload failed/.test(p.stderr()), 'the reload error', 10_000);
      expect(proc.stderr()).toMatch(/auth\.yaml:\d+:\d+: tokens\.0\.scopez: unknown field/);
      expect((await fetch(new URL('/api/v1/exchanges', url), { headers: bearer(reader) })).status).toBe(200);
    } finally {
      writeFileSync(authFile, good);
    }
  });

  it('--metrics-public serves /metrics without credentials, and nothing else', async () => {
    const c = await collect(['--auth-file', authFile, '--metrics-public']);
    expect((await fetch(new URL('/metrics', c.url))).status).toBe(200);
    expect((await fetch(new URL('/api/v1/exchanges', c.url))).status).toBe(401);
  });
});

describe('separate ingest listener', { timeout: 90_000 }, () => {
  const authFile = join(dir, 'ingest-auth.yaml');
  let reader: string;
  beforeAll(async () => {
    reader = await createToken(authFile, 'reader', '--scope', 'read');
  });

  it('--ingest-open: events without credentials on the ingest port only; no read API there', async () => {
    const { url, ingest } = await collect(['--auth-file', authFile, '--ingest-port', '0', '--ingest-open']);
    expect(ingest).toBeDefined();
    expect((await fetch(ingest!, event())).status).toBe(200);
    // Not served there: the catch-all answers as for any unknown route (it needs admin, so 403 or 401).
    for (const path of ['/api/v1/exchanges', '/metrics', '/api/v1/stats']) {
      for (const headers of [{}, bearer(reader)]) {
        const res = await fetch(new URL(path, ingest), { headers });
        expect([401, 403, 404], path).toContain(res.status);
        expect(await res.text()).not.toContain('items');
      }
    }
    // The main port still needs credentials for ingest.
    expect((await fetch(url, event())).status).toBe(401);
    const list = await fetch(new URL('/api/v1/exchanges', url), { headers: bearer(reader) });
    expect(((await list.json()) as { items: unknown[] }).items).toHaveLength(1);
  });

  it('without --ingest-open the ingest port needs ingest credentials too', async () => {
    const { ingest } = await collect(['--auth-file', authFile, '--ingest-port', '0']);
    expect((await fetch(ingest!, event())).status).toBe(401);
    expect(
      (await fetch(ingest!, { ...event(), headers: { ...event().headers, ...bearer(reader) } })).status,
    ).toBe(403);
  });
});

describe('TLS and client certificates', { timeout: 120_000 }, () => {
  let ca: CertFiles;
  let server: CertFiles;
  let client: CertFiles;
  let stranger: CertFiles;
  const authFile = join(dir, 'mtls-auth.yaml');
  let reader: string;
  beforeAll(async () => {
    ca = makeCa(dir, 'ca');
    server = makeCert(dir, ca, 'server', 'collector', ['IP:127.0.0.1', 'DNS:localhost']);
    client = makeCert(dir, ca, 'client', 'agent-team-a');
    const otherCa = makeCa(dir, 'other-ca');
    stranger = makeCert(dir, otherCa, 'stranger', 'agent-team-a');
    reader = await createToken(authFile, 'reader', '--scope', 'read');
    const withCerts =
      readFileSync(authFile, 'utf8') +
      'certificates:\n  - subject: CN=agent-team-a\n    scopes: [ingest]\n    namespaces: [team-a]\n';
    writeFileSync(authFile, withCerts);
  });

  const agentFor = (cert?: CertFiles): Agent =>
    new Agent({
      connect: { ca: pem(ca.cert), ...(cert ? { cert: pem(cert.cert), key: pem(cert.key) } : {}) },
    });

  async function post(url: URL, cert?: CertFiles, headers: Record<string, string> = {}): Promise<number> {
    const init = event();
    const res = await request(url, {
      method: 'POST',
      headers: { ...(init.headers as Record<string, string>), ...headers },
      body: init.body as string,
      dispatcher: agentFor(cert),
    });
    await res.body.text();
    return res.statusCode;
  }

  it('mTLS-only ingest: a client certificate the CA signed is the principal; others are refused', async () => {
    const { url } = await collect([
      '--auth-file',
      authFile,
      '--tls-cert',
      server.cert,
      '--tls-key',
      server.key,
      '--tls-client-ca',
      ca.cert,
    ]);
    expect(url.protocol).toBe('https:');
    expect(await post(url, client)).toBe(200);
    // The certificate's principal is limited to team-a... and to ingest.
    const read = await request(new URL('/api/v1/exchanges', url), { dispatcher: agentFor(client) });
    await read.body.text();
    expect(read.statusCode).toBe(403);
    expect(await post(url)).toBe(401);
    expect(await post(url, stranger)).toBe(401);
    // Tokens still work on the same port.
    const list = await request(new URL('/api/v1/exchanges', url), {
      dispatcher: agentFor(),
      headers: bearer(reader),
    });
    expect(list.statusCode).toBe(200);
    expect(((await list.body.json()) as { items: unknown[] }).items).toHaveLength(1);
    // TLS 1.2 is the minimum.
    const old = await new Promise<string>((resolve) => {
      const s = tlsConnect({
        host: '127.0.0.1',
        port: Number(url.port),
        ca: pem(ca.cert),
        maxVersion: 'TLSv1.1',
        minVersion: 'TLSv1',
      });
      s.on('secureConnect', () => {
        s.destroy();
        resolve('connected');
      });
      s.on('error', (e) => resolve(e.message));
    });
    expect(old).not.toBe('connected');
  });

  it('the ingest listener serves TLS too, and takes client certificates as ingest credentials', async () => {
    const { ingest } = await collect([
      '--auth-file',
      authFile,
      '--tls-cert',
      server.cert,
      '--tls-key',
      server.key,
      '--tls-client-ca',
      ca.cert,
      '--ingest-port',
      '0',
    ]);
    expect(ingest!.protocol).toBe('https:');
    expect(await post(ingest!, client)).toBe(200);
    expect(await post(ingest!)).toBe(401);
    expect(await post(ingest!, stranger)).toBe(401);
  });

  it('a rotated certificate is served without a restart', async () => {
    const live = { cert: join(dir, 'live.crt'), key: join(dir, 'live.key') };
    copyFileSync(server.cert, live.cert);
    copyFileSync(server.key, live.key);
    const { url } = await collect(['--auth-file', authFile, '--tls-cert', live.cert, '--tls-key', live.key]);
    const served = (): Promise<string> =>
      new Promise((resolve, reject) => {
        const s = tlsConnect({
          host: '127.0.0.1',
          port: Number(url.port),
          ca: pem(ca.cert),
          servername: 'localhost',
        });
        s.on('secureConnect', () => {
          resolve(s.getPeerX509Certificate()!.fingerprint256);
          s.destroy();
        });
        s.on('error', reject);
      });
    const before = await served();
    expect(before).toBe(new X509Certificate(pem(server.cert)).fingerprint256);
    const renewed = makeCert(dir, ca, 'renewed', 'collector', ['IP:127.0.0.1', 'DNS:localhost']);
    // As a renewal writes them: the key first, then the certificate (a moment of mismatch).
    writeFileSync(live.key, pem(renewed.key));
    writeFileSync(live.cert, pem(renewed.cert));
    const expected = new X509Certificate(pem(renewed.cert)).fingerprint256;
    await until('the renewed certificate is served', async () => (await served()) === expected);
  });
});

describe('HTTP hardening', { timeout: 90_000 }, () => {
  const authFile = join(dir, 'hard-auth.yaml');
  let one: string;
  let two: string;
  beforeAll(async () => {
    one = await createToken(authFile, 'one', '--scope', 'read');
    two = await createToken(authFile, 'two', '--scope', 'read');
  });

  it('--rate-limit: 429 RATE_LIMITED with Retry-After per principal; other principals unaffected', async () => {
    const { url } = await collect(['--auth-file', authFile, '--rate-limit', '2/s']);
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 6; i++) {
      const res = await fetch(new URL('/api/v1/exchanges', url), { headers: bearer(one) });
      statuses.push(res.status);
      if (res.status === 429) limited ??= res;
      else await res.text();
    }
    expect(statuses).toContain(429);
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await limited!.json()) as { error: { code: string } }).error.code).toBe('RATE_LIMITED');
    expect((await fetch(new URL('/api/v1/exchanges', url), { headers: bearer(two) })).status).toBe(200);
    expect((await fetch(new URL('/healthz', url))).status).toBe(200);
  });

  it('--rate-limit: a loop of bad tokens from one address is throttled too (429 before checking)', async () => {
    const { url } = await collect(['--auth-file', authFile, '--rate-limit', '2/s']);
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await fetch(new URL('/api/v1/exchanges', url), { headers: bearer(`ilt_guess${i}`) });
      statuses.push(res.status);
      await res.text();
    }
    expect(statuses.slice(0, 2)).toEqual([401, 401]);
    expect(statuses).toContain(429);
    expect((await fetch(new URL('/healthz', url))).status).toBe(200);
  });

  it('slowloris: a head trickled byte by byte is cut off; an honest request is served meanwhile', async () => {
    const { url } = await collect(['--auth-file', authFile, '--headers-timeout', '1s']);
    const trickled = new Promise<{ answer: string; closedAfterMs: number }>((resolve) => {
      const started = Date.now();
      const socket = netConnect(Number(url.port), url.hostname);
      let answer = '';
      const head = `GET /api/v1/exchanges HTTP/1.1\r\nHost: c\r\nAuthorization: Bearer ${one}\r\nX-Slow: ${'a'.repeat(400)}`;
      let i = 0;
      const timer = setInterval(() => socket.writable && i < head.length && socket.write(head[i++]!), 100);
      socket.on('data', (d) => (answer += d.toString('latin1')));
      socket.on('error', () => {});
      socket.on('close', () => {
        clearInterval(timer);
        resolve({ answer, closedAfterMs: Date.now() - started });
      });
      setTimeout(() => socket.destroy(), 30_000).unref();
    });
    expect((await fetch(new URL('/api/v1/exchanges', url), { headers: bearer(two) })).status).toBe(200);
    const r = await trickled;
    expect(r.answer).toMatch(/^HTTP\/1\.1 408/);
    // The head would take 40 s at this pace; it is cut within seconds.
    expect(r.closedAfterMs).toBeLessThan(15_000);
  });

  it('--max-connections: connections over the cap are closed; the collector serves again when some go', async () => {
    const { url } = await collect(['--auth-file', authFile, '--max-connections', '3']);
    const open = (): Promise<{ closed: Promise<void>; socket: ReturnType<typeof netConnect> }> =>
      new Promise((resolve) => {
        const socket = netConnect(Number(url.port), url.hostname, () =>
          resolve({ socket, closed: new Promise((r) => socket.once('close', () => r())) }),
        );
        socket.on('error', () => {});
      });
    const held = [await open(), await open(), await open()];
    const extra = await open();
    await expect(
      Promise.race([
        extra.closed.then(() => 'closed'),
        new Promise((r) => setTimeout(() => r('open'), 5_000)),
      ]),
    ).resolves.toBe('closed');
    for (const h of held) h.socket.destroy();
    await until('served again', async () =>
      fetch(new URL('/healthz', url)).then(
        (r) => r.status === 200,
        () => false,
      ),
    );
  });
});
