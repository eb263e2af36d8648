/**
 * The collector's CLI clients (`query`, `tail`, `replay`) present credentials: a bearer token from
 * `--token-file` or `INFERLOG_TOKEN`, a private CA (`--ca-file`) and a client certificate
 * (`--client-cert`/`--client-key`). 401 and 403 exit 77 and say which; a token is never printed
 * and never put in a URL.
 *
 *   inferlog query/tail/replay ──http + Bearer──────────────────────────────▶ collector (auth on)
 *   inferlog query ──https (private CA, client cert) + Bearer──▶ TLS front ──▶ collector (auth on)
 *
 * The collector is real (startCollector, SQLite) with the token table of test/helpers/token-collector.ts;
 * the TLS front is the test's own node:https server (requestCert) relaying to it, like an ingress,
 * until `collect --tls-*` exists (the "after the auth-core merge" test runs the real thing).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Collector } from '../../src/collector/server.js';
import { makeCa, makeCert, pem, type CertFiles } from '../helpers/tls-certs.js';
import { CLI, runCli } from '../helpers/cli.js';
import { startTokenCollector, type Seen } from '../helpers/token-collector.js';

const READ = 'il_read_0f1e2d3c4b5a69788796a5b4c3d2e1f0';
const INGEST = 'il_ingest_a1b2c3d4e5f60718293a4b5c6d7e8f90';
const ADMIN = 'il_admin_9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d';

const dir = mkdtempSync(join(tmpdir(), 'inferlog-cli-creds-'));
const seen: Seen = { urls: [], authorization: [] };
let collector: Collector;
let ca: CertFiles;
let client: CertFiles;
let front: Server;
let frontUrl: string;
const readFile = join(dir, 'read-token');
const ingestFile = join(dir, 'ingest-token');

function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      {
        timeout: 60_000,
        env: { ...process.env, INFERLOG_TOKEN: '', XDG_CONFIG_HOME: join(dir, 'no-config'), ...env },
      },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

async function post(id: string, kind: 'request' | 'response', body: string): Promise<void> {
  const res = await fetch(collector.url + '/', {
    method: 'POST',
    headers: {
      authorization: `Bearer ${INGEST}`,
      'ce-specversion': '1.0',
      'ce-id': id,
      'ce-type': `org.kubeflow.serving.inference.${kind}`,
      'ce-source': 'http://localhost:9081/',
      'ce-time': new Date().toISOString(),
      'ce-inferenceservicename': 'creds-model',
      'ce-namespace': 'team-a',
      'content-type': 'application/json',
    },
    body,
  });
  expect(res.status).toBe(200);
}

beforeAll(async () => {
  collector = await startTokenCollector(
    dir,
    {
      [READ]: { name: 'reader', scopes: ['read'] },
      [INGEST]: { name: 'agent', scopes: ['ingest'] },
      [ADMIN]: { name: 'admin', scopes: ['admin'] },
    },
    seen,
  );
  writeFileSync(readFile, READ + '\n');
  writeFileSync(ingestFile, INGEST + '\n');
  await post('creds-1', 'request', '{"instances":[[1,2]]}');
  await post('creds-1', 'response', '{"predictions":[7]}');

  ca = makeCa(dir, 'ca');
  const serverCert = makeCert(dir, ca, 'server', '127.0.0.1', ['IP:127.0.0.1']);
  client = makeCert(dir, ca, 'client', 'cli-user');
  const target = new URL(collector.url);
  // A TLS front that demands a client certificate of the test CA and relays to the collector.
  front = createServer(
    {
      cert: pem(serverCert.cert),
      key: pem(serverCert.key),
      ca: readFileSync(ca.cert),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      const upstream = httpRequest(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      req.pipe(upstream);
    },
  );
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  frontUrl = `https://127.0.0.1:${(front.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  front?.closeAllConnections();
  await new Promise<void>((resolve) => (front ? front.close(() => resolve()) : resolve()));
  await collector?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('CLI clients with credentials', { timeout: 120_000 }, () => {
  it('query without credentials exits 77 and says the collector wants them', async () => {
    const r = await run(['query', '--url', collector.url, '--format', 'json']);
    expect(r.code).toBe(77);
    expect(r.stderr).toContain('401');
    expect(r.stderr).toMatch(/UNAUTHENTICATED/);
    expect(r.stderr).toMatch(/--token-file|INFERLOG_TOKEN/);
  });

  it('query with --token-file lists the rows, and the token is in no URL', async () => {
    seen.urls.length = 0;
    const r = await run(['query', '--url', collector.url, '--format', 'json', '--token-file', readFile]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { items: Array<{ id: string }> }).items.map((i) => i.id)).toEqual([
      'creds-1',
    ]);
    expect(seen.urls.length).toBeGreaterThan(0);
    expect(seen.urls.join(' ')).not.toContain(READ);
  });

  it('query with INFERLOG_TOKEN shows one exchange by id', async () => {
    const r = await run(['query', '--url', collector.url, '--id', 'creds-1', '--format', 'json'], {
      INFERLOG_TOKEN: READ,
    });
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { response: { body: string } }).response.body).toBe(
      '{"predictions":[7]}',
    );
  });

  it('without flags, uses the token `inferlog login` saved under $XDG_CONFIG_HOME/inferlog/token', async () => {
    const config = join(dir, 'config');
    mkdirSync(join(config, 'inferlog'), { recursive: true, mode: 0o700 });
    writeFileSync(join(config, 'inferlog', 'token'), READ + '\n', { mode: 0o600 });
    const r = await run(['query', '--url', collector.url, '--format', 'json'], { XDG_CONFIG_HOME: config });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('creds-1');
    // INFERLOG_TOKEN wins over the saved token.
    const env = await run(['query', '--url', collector.url], {
      XDG_CONFIG_HOME: config,
      INFERLOG_TOKEN: INGEST,
    });
    expect(env.code).toBe(77);
  });

  it('a token without the read scope exits 77 with FORBIDDEN, and the token is never printed', async () => {
    const r = await run(['query', '--url', collector.url, '--token-file', ingestFile]);
    expect(r.code).toBe(77);
    expect(r.stderr).toContain('403');
    expect(r.stderr).toMatch(/FORBIDDEN/);
    expect(r.stdout + r.stderr).not.toContain(INGEST);
  });

  it('an unknown token exits 77 with UNAUTHENTICATED, without printing it', async () => {
    const r = await run(['query', '--url', collector.url], { INFERLOG_TOKEN: 'il_not_a_real_token_123' });
    expect(r.code).toBe(77);
    expect(r.stderr).toMatch(/UNAUTHENTICATED/);
    expect(r.stderr).not.toContain('il_not_a_real_token_123');
  });

  it('tail follows with the token', async () => {
    const tail = runCli([
      'tail',
      '--url',
      collector.url,
      '--since',
      '1h',
      '--json',
      '--token-file',
      readFile,
    ]);
    try {
      await tail.waitFor((c) => c.stdout().includes('creds-1'), 'the stored exchange', 30_000);
    } finally {
      await tail.stop();
    }
  });

  it('tail without credentials exits 77', async () => {
    const r = await run(['tail', '--url', collector.url, '--since', '1h']);
    expect(r.code).toBe(77);
    expect(r.stderr).toMatch(/UNAUTHENTICATED/);
  });

  it('replay reads its source with the token', async () => {
    const r = await run(
      ['replay', '--from', collector.url, '--to', 'http://127.0.0.1:9', '--dry-run', '--since', '1h'],
      { INFERLOG_TOKEN: READ },
    );
    expect(r.stderr).not.toMatch(/UNAUTHENTICATED|FORBIDDEN/);
    expect(r.stdout).toContain('creds-1');
  });

  it('replay without credentials exits 77', async () => {
    const r = await run(['replay', '--from', collector.url, '--to', 'http://127.0.0.1:9', '--dry-run']);
    expect(r.code).toBe(77);
    expect(r.stderr).toMatch(/UNAUTHENTICATED/);
  });

  it('query over https with a private CA and a client certificate', async () => {
    const r = await run([
      'query',
      '--url',
      frontUrl,
      '--format',
      'json',
      '--token-file',
      readFile,
      '--ca-file',
      ca.cert,
      '--client-cert',
      client.cert,
      '--client-key',
      client.key,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('creds-1');
  });

  it('query over https without the CA file says the certificate is not trusted', async () => {
    const r = await run(['query', '--url', frontUrl, '--token-file', readFile]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--ca-file/);
  });

  it('erase needs an admin token: a read token exits 77 (FORBIDDEN), an admin one erases', async () => {
    await post('erase-me', 'request', '{"instances":[[9]]}');
    const denied = await run([
      'erase',
      '--collector',
      collector.url,
      '--id',
      'erase-me',
      '--yes',
      '--token-file',
      readFile,
    ]);
    expect(denied.code).toBe(77);
    expect(denied.stderr).toMatch(/FORBIDDEN/);
    const done = await run(['erase', '--collector', collector.url, '--id', 'erase-me', '--yes'], {
      INFERLOG_TOKEN: ADMIN,
    });
    expect(done.stderr).toBe('');
    expect(done.code).toBe(0);
    expect(done.stdout).toContain('erased 1 exchange');
  });

  it('a token file that cannot be read is a usage error naming the flag', async () => {
    const r = await run(['query', '--url', collector.url, '--token-file', join(dir, 'missing')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--token-file');
  });
});
