/**
 * The GCS backend against fake-gcs-server (a real GCS JSON API emulator, built from its Go
 * module by scripts/peers/fake-gcs.sh): the ObjectStore contract, and how failures classify.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isInferlogError } from '../../core/errors.js';
import { freePort } from '../../../test/helpers/peers.js';
import { startFakeGcs, type FakeGcs } from '../../../test/helpers/object-store-emulators.js';
import { readStorageConfig, resolveStoreCredentials } from './credentials.js';
import { objectStoreContract, objectStorePagingTest } from './object-store.contract.js';
import { openObjectStore, parseBlobUrl } from './open.js';

let gcs: FakeGcs;
beforeAll(async () => {
  gcs = await startFakeGcs();
  await gcs.createBucket('logs');
});
afterAll(() => gcs?.stop());

/** The store as the agent opens it: KServe's env variable names, resolved by credentials.ts. */
const open = (url: string, partSizeBytes?: number) => {
  const location = parseBlobUrl(url);
  const credentials = resolveStoreCredentials(location, undefined, undefined, {
    STORAGE_EMULATOR_HOST: gcs.endpoint,
  });
  return openObjectStore(location, {
    credentials,
    ...(partSizeBytes !== undefined ? { partSizeBytes } : {}),
  });
};

objectStoreContract('gcs (fake-gcs-server)', {
  open: (partSizeBytes) => open('gs://logs/prefix', partSizeBytes),
});

objectStorePagingTest('gcs (fake-gcs-server)', {
  open: (partSizeBytes) => open('gs://logs/prefix', partSizeBytes),
});

describe('gcs failures', () => {
  it('a bucket that does not exist is a permanent SINK_REJECTED on put, naming the bucket', async () => {
    const store = await open('gs://no-such-bucket/p');
    const err = await store.put('p/k', new Uint8Array([1])).catch((e: unknown) => e);
    expect(isInferlogError(err, 'SINK_REJECTED')).toBe(true);
    expect((err as Error).message).toContain('gs://no-such-bucket/p/k');
  });

  it('a store nobody listens on is SINK_UNREACHABLE (retryable), not a crash', async () => {
    const port = await freePort();
    const location = parseBlobUrl('gs://logs/p');
    const store = await openObjectStore(location, {
      credentials: { kind: 'gs', endpoint: `http://127.0.0.1:${port}` },
    });
    const err = await store.put('p/k', new Uint8Array([1])).catch((e: unknown) => e);
    expect(isInferlogError(err, 'SINK_UNREACHABLE')).toBe(true);
    expect(isInferlogError(err) && err.kind).toBe('retryable');
  });

  it('the store URL it reports carries the bucket and prefix, nothing else', async () => {
    const store = await open('gs://logs/some/prefix');
    expect(store.url).toBe('gs://logs/some/prefix');
  });
});

describe('gcs uploads and credentials', () => {
  it('a body over the part size goes up as a resumable session in part-size chunks', async () => {
    // A forwarding proxy in front of a second emulator records every request the client makes.
    const seen: string[] = [];
    let target = 0;
    const proxy = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      const up = request(
        { host: '127.0.0.1', port: target, method: req.method, path: req.url, headers: req.headers },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const emu = await startFakeGcs({ externalUrl: proxyUrl });
    try {
      target = emu.port;
      await emu.createBucket('chunks');
      const partSize = 256 * 1024;
      const store = await openObjectStore(parseBlobUrl('gs://chunks'), {
        credentials: { kind: 'gs', endpoint: proxyUrl },
        partSizeBytes: partSize,
      });
      const body = new Uint8Array(partSize * 3 + 5).map((_, i) => i % 251);
      await store.put('big.bin', body);
      expect(seen.filter((s) => s.startsWith('POST') && s.includes('uploadType=resumable'))).toHaveLength(1);
      expect(seen.filter((s) => s.startsWith('PUT')).length).toBe(4);
      expect(Buffer.from(await store.get('big.bin')).equals(Buffer.from(body))).toBe(true);
      // At or under the part size: one request, no session.
      seen.length = 0;
      await store.put('small.bin', body.subarray(0, partSize));
      expect(seen.filter((s) => s.includes('uploadType=resumable'))).toHaveLength(0);
      expect(seen.filter((s) => s.startsWith('POST') && s.includes('uploadType=multipart'))).toHaveLength(1);
    } finally {
      await emu.stop();
      await new Promise((r) => proxy.close(r));
    }
  });

  it("a storage-config entry (inferlog's gs fields) reaches the emulator through readStorageConfig", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'inferlog-gcs-config-'));
    try {
      const file = join(dir, 'storage-config.yaml');
      writeFileSync(
        file,
        `apiVersion: v1\nkind: Secret\nmetadata: {name: storage-config}\nstringData:\n  loggerGcs: '${JSON.stringify({ type: 'gs', endpoint: gcs.endpoint, project_id: 'test' })}'\n`,
      );
      const location = parseBlobUrl('gs://logs/from-config');
      const credentials = resolveStoreCredentials(location, 'loggerGcs', readStorageConfig(file), {});
      const store = await openObjectStore(location, { credentials });
      await store.put('from-config/k', new TextEncoder().encode('v'));
      expect(new TextDecoder().decode(await store.get('from-config/k'))).toBe('v');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('openObjectStore with credentials for another kind of store', () => {
  it('is CONFIG_INVALID instead of silently opening without them', async () => {
    const err = await openObjectStore(parseBlobUrl('gs://logs/p'), {
      credentials: { kind: 's3', accessKeyId: 'a', secretAccessKey: 'b' },
    }).catch((e: unknown) => e);
    expect(isInferlogError(err, 'CONFIG_INVALID')).toBe(true);
    expect((err as Error).message).toContain('s3');
  });
});
