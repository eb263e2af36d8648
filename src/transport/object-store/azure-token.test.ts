/**
 * KServe's AZURE_ACCESS_TOKEN path end to end: an agent process whose environment has only
 * AZURE_SERVICE_URL + AZURE_ACCESS_TOKEN (+ AZURE_ACCESS_EXPIRES_ON_SECONDS) writes and reads
 * through openObjectStore, against Azurite serving https and checking bearer tokens. The store
 * runs in a child process (the built dist/) because the SDK sends tokens only over https, and
 * Node trusts a test CA only through NODE_EXTRA_CA_CERTS, read at process start.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzurite, type Azurite } from '../../../test/helpers/object-store-emulators.js';
import { REPO_ROOT } from '../../../test/helpers/peers.js';

const dir = mkdtempSync(join(tmpdir(), 'inferlog-azure-token-'));
const certFile = join(dir, 'cert.pem');
const keyFile = join(dir, 'key.pem');
let az: Azurite;

beforeAll(async () => {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  az = await startAzurite({ tls: { certFile, keyFile } });
});
afterAll(async () => {
  await az?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** An unsigned JWT with the claims Azurite's basic OAuth check reads. */
function token(claims: Record<string, unknown>): string {
  const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({
    aud: 'https://storage.azure.com',
    iss: 'https://sts.windows.net/ab1f708d-50f6-404c-a006-d71b2ac7a606/',
    iat: now - 60,
    nbf: now - 60,
    exp: now + 3600,
    ...claims,
  })}.c2lnbmF0dXJl`;
}

/** What the child does: create the container with the same token, then put, get and list through the store. */
const SCRIPT = `
import { BlobServiceClient } from '@azure/storage-blob';
import { openObjectStore, parseBlobUrl } from './dist/transport/object-store/open.js';
const tok = process.env.AZURE_ACCESS_TOKEN;
const cred = { getToken: async () => ({ token: tok, expiresOnTimestamp: Date.now() + 600000 }) };
try {
  await new BlobServiceClient(process.env.AZURE_SERVICE_URL, cred).getContainerClient('logs').createIfNotExists();
} catch (e) { /* a refused token fails below, through the store */ }
const store = await openObjectStore(parseBlobUrl('abfs://logs@devstoreaccount1.dfs.core.windows.net/p'));
try {
  await store.put('p/token', new TextEncoder().encode('written with a bearer token'));
  const back = new TextDecoder().decode(await store.get('p/token'));
  const keys = [];
  for await (const o of store.list('p/')) keys.push(o.key);
  console.log(JSON.stringify({ ok: true, back, keys }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, code: e.code, message: e.message }));
}
`;

function runAgentLike(env: Record<string, string>): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', SCRIPT],
      {
        cwd: REPO_ROOT,
        timeout: 60_000,
        // Only what the pod would have: no credentials inherited from the test's environment.
        env: { PATH: process.env.PATH ?? '', NODE_EXTRA_CA_CERTS: certFile, ...env },
      },
      (err, stdout, stderr) => {
        const line = stdout.trim().split('\n').pop() ?? '';
        try {
          resolve(JSON.parse(line) as Record<string, unknown>);
        } catch {
          reject(new Error(`child failed: ${err?.message ?? ''}\n${stdout}\n${stderr}`));
        }
      },
    );
  });
}

describe("Azure with KServe's AZURE_ACCESS_TOKEN (Azurite over https with --oauth basic)", () => {
  it('AZURE_SERVICE_URL + AZURE_ACCESS_TOKEN + AZURE_ACCESS_EXPIRES_ON_SECONDS: put, get and list work', async () => {
    const out = await runAgentLike({
      AZURE_SERVICE_URL: az.serviceUrl,
      AZURE_ACCESS_TOKEN: token({}),
      AZURE_ACCESS_EXPIRES_ON_SECONDS: String(Math.floor(Date.now() / 1000) + 3600),
    });
    expect(out).toEqual({ ok: true, back: 'written with a bearer token', keys: ['p/token'] });
  });

  it('a token for another audience is refused: a permanent SINK_REJECTED naming the token, not its value', async () => {
    const bad = token({ aud: 'https://vault.azure.net' });
    const out = await runAgentLike({ AZURE_SERVICE_URL: az.serviceUrl, AZURE_ACCESS_TOKEN: bad });
    expect(out.ok).toBe(false);
    expect(out.code).toBe('SINK_REJECTED');
    expect(out.message).toContain('access token (AZURE_ACCESS_TOKEN)');
    expect(out.message).not.toContain(bad);
  });
});
