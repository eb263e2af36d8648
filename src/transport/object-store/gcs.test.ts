/**
 * The GCS backend against fake-gcs-server (a real GCS JSON API emulator, built from its Go
 * module by scripts/peers/fake-gcs.sh): the ObjectStore contract, and how failures classify.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isInferlogError } from '../../core/errors.js';
import { freePort } from '../../../test/helpers/peers.js';
import { startFakeGcs, type FakeGcs } from '../../../test/helpers/object-store-emulators.js';
import { resolveStoreCredentials } from './credentials.js';
import { objectStoreContract } from './object-store.contract.js';
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
