/**
 * The S3 backend against moto's real S3 server (test/helpers/moto.ts): the ObjectStore contract,
 * and every S3Credentials field applied as resolveStoreCredentials gives it (KServe's env names
 * and its storage-config `s3` entry). A forwarding proxy (a real 127.0.0.1 server, plain or TLS)
 * in front of moto shows what the client actually sends: moto itself accepts any signature.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isInferlogError } from '../../core/errors.js';
import { startMoto, type Moto } from '../../../test/helpers/moto.js';
import { readStorageConfig, resolveStoreCredentials } from './credentials.js';
import { objectStoreContract, objectStorePagingTest } from './object-store.contract.js';
import type { S3Credentials } from './object-store.js';
import { openObjectStore, parseBlobUrl } from './open.js';

const dir = mkdtempSync(join(tmpdir(), 'inferlog-s3-'));
const certFile = join(dir, 'cert.pem');
const keyFile = join(dir, 'key.pem');
let moto: Moto;
const BUCKET = 'contract';

// No keys in this process's environment, and no instance-metadata probe: what signs a request
// is only what the test passes, so a credential that is not applied shows up as a failure.
const saved: Record<string, string | undefined> = {};
const CLEARED = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'];

beforeAll(async () => {
  for (const k of [...CLEARED, 'AWS_EC2_METADATA_DISABLED', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_CONFIG_FILE'])
    saved[k] = process.env[k];
  for (const k of CLEARED) delete process.env[k];
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  process.env.AWS_SHARED_CREDENTIALS_FILE = join(dir, 'none');
  process.env.AWS_CONFIG_FILE = join(dir, 'none');
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
  moto = await startMoto();
  await moto.createBucket(BUCKET);
}, 120_000);

afterAll(async () => {
  await moto?.stop();
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  rmSync(dir, { recursive: true, force: true });
});

/** KServe's environment for moto (test/helpers/moto.ts), with the keys moto accepts. */
function motoCredentials(extra: Partial<S3Credentials> = {}): S3Credentials {
  const location = parseBlobUrl(`s3://${BUCKET}`);
  const fromEnv = resolveStoreCredentials(location, undefined, undefined, {
    AWS_ENDPOINT_URL: moto.endpoint,
    AWS_DEFAULT_REGION: 'us-east-1',
    S3_USER_VIRTUAL_BUCKET: 'false',
  }) as S3Credentials;
  return { ...fromEnv, accessKeyId: 'testing', secretAccessKey: 'testing', ...extra };
}

objectStoreContract('s3 (moto)', {
  open: (partSizeBytes) =>
    openObjectStore(parseBlobUrl(`s3://${BUCKET}/prefix`), { credentials: motoCredentials(), partSizeBytes }),
});

objectStorePagingTest('s3 (moto)', {
  open: (partSizeBytes) =>
    openObjectStore(parseBlobUrl(`s3://${BUCKET}/prefix`), { credentials: motoCredentials(), partSizeBytes }),
});

interface Proxy {
  url: string;
  seen: Array<{ method: string; url: string; headers: IncomingHttpHeaders }>;
  close(): Promise<void>;
}

/** A forwarding proxy to moto that records each request; over TLS with the test's certificate. */
async function proxy(tls = false): Promise<Proxy> {
  const seen: Proxy['seen'] = [];
  const target = new URL(moto.endpoint);
  const handler = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    const up = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  };
  const server: Server = tls
    ? createHttpsServer({ cert: readPem(certFile), key: readPem(keyFile) }, handler)
    : createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function readPem(file: string): string {
  return execFileSync('cat', [file], { encoding: 'utf8' });
}

const enc = new TextEncoder();

describe('s3 credentials (S3Credentials applied by s3.ts)', () => {
  it('keys from a storage-config Secret (KServe s3 entry) sign the requests; none are in the environment', async () => {
    const p = await proxy();
    try {
      const file = join(dir, 'storage-config.yaml');
      const entry = {
        type: 's3',
        access_key_id: 'AKIAFROMSTORAGECONFIG',
        secret_access_key: 'secret-from-file',
        endpoint_url: p.url,
        region: 'eu-west-3',
        bucket: BUCKET,
      };
      writeFileSync(
        file,
        `apiVersion: v1\nkind: Secret\nmetadata: {name: storage-config}\nstringData:\n  loggerS3: '${JSON.stringify(entry)}'\n`,
      );
      const location = parseBlobUrl(`s3://${BUCKET}/from-config`);
      // S3_USER_VIRTUAL_BUCKET=false from the env, the rest from the entry (KServe: entry over env).
      const credentials = resolveStoreCredentials(location, 'loggerS3', readStorageConfig(file), {
        S3_USER_VIRTUAL_BUCKET: 'false',
      });
      const store = await openObjectStore(location, { credentials });
      await store.put('from-config/k', enc.encode('v'));
      expect(new TextDecoder().decode(await store.get('from-config/k'))).toBe('v');
      await store.close();
      const auth = p.seen.map((s) => String(s.headers.authorization ?? ''));
      expect(auth.length).toBeGreaterThanOrEqual(2);
      for (const a of auth) expect(a).toMatch(/Credential=AKIAFROMSTORAGECONFIG\/\d{8}\/eu-west-3\/s3\//);
      // Path-style: the bucket is the first path segment, not a host name.
      expect(p.seen[0]?.url).toMatch(new RegExp(`^/${BUCKET}/from-config/k(\\?|$)`));
    } finally {
      await p.close();
    }
  });

  it('a session token is sent with the keys', async () => {
    const p = await proxy();
    try {
      const store = await openObjectStore(parseBlobUrl(`s3://${BUCKET}`), {
        credentials: motoCredentials({ endpoint: p.url, sessionToken: 'session-token-value' }),
      });
      await store.put('token/k', enc.encode('v'));
      await store.close();
      expect(p.seen[0]?.headers['x-amz-security-token']).toBe('session-token-value');
    } finally {
      await p.close();
    }
  });

  it('anonymous (awsAnonymousCredential=true): requests are unsigned', async () => {
    const p = await proxy();
    try {
      const location = parseBlobUrl(`s3://${BUCKET}`);
      const credentials = resolveStoreCredentials(location, undefined, undefined, {
        AWS_ENDPOINT_URL: p.url,
        S3_USER_VIRTUAL_BUCKET: 'false',
        awsAnonymousCredential: 'true',
      });
      const store = await openObjectStore(location, { credentials });
      await store.put('anon/k', enc.encode('v'));
      await store.close();
      expect(p.seen.length).toBeGreaterThan(0);
      for (const s of p.seen) expect(s.headers.authorization).toBeUndefined();
    } finally {
      await p.close();
    }
  });

  it('an access key without its secret is CONFIG_INVALID naming the fields, not a value', async () => {
    const err = await openObjectStore(parseBlobUrl(`s3://${BUCKET}`), {
      credentials: { kind: 's3', endpoint: moto.endpoint, accessKeyId: 'AKIAONLYHALF' },
    }).catch((e: unknown) => e);
    expect(isInferlogError(err, 'CONFIG_INVALID')).toBe(true);
    expect((err as Error).message).toContain('secret_access_key');
    expect((err as Error).message).not.toContain('AKIAONLYHALF');
  });

  describe('https endpoints', () => {
    let tlsProxy: Proxy;
    beforeAll(async () => {
      tlsProxy = await proxy(true);
    });
    afterAll(() => tlsProxy?.close());
    const put = async (extra: Partial<S3Credentials>): Promise<unknown> => {
      const store = await openObjectStore(parseBlobUrl(`s3://${BUCKET}`), {
        credentials: motoCredentials({ endpoint: tlsProxy.url, ...extra }),
      });
      try {
        await store.put('tls/k', enc.encode('v'));
        return undefined;
      } catch (e) {
        return e;
      } finally {
        await store.close();
      }
    };

    it('a self-signed endpoint is refused by default (verification on)', async () => {
      const err = await put({});
      expect(isInferlogError(err)).toBe(true);
      expect(isInferlogError(err) && err.kind).toBe('retryable');
    });

    it('AWS_CA_BUNDLE / ca_bundle: the endpoint is trusted through the given CA file', async () => {
      expect(await put({ caBundleFile: certFile })).toBeUndefined();
    });

    it('S3_VERIFY_SSL=0 / verify_ssl: verification is off only when asked', async () => {
      expect(await put({ verifySsl: false })).toBeUndefined();
    });

    it('a CA bundle file that cannot be read is CONFIG_INVALID naming the file', async () => {
      const err = await openObjectStore(parseBlobUrl(`s3://${BUCKET}`), {
        credentials: motoCredentials({ endpoint: tlsProxy.url, caBundleFile: join(dir, 'missing.pem') }),
      }).catch((e: unknown) => e);
      expect(isInferlogError(err, 'CONFIG_INVALID')).toBe(true);
      expect((err as Error).message).toContain('missing.pem');
    });
  });
});
