/**
 * The Azure backend against Azurite (Microsoft's storage emulator, from npm via
 * scripts/peers/azurite.sh): the ObjectStore contract once per way to sign that Azurite checks
 * (connection string, shared key from KServe's variables), block uploads, and failures.
 */
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isInferlogError } from '../../core/errors.js';
import { startAzurite, type Azurite } from '../../../test/helpers/object-store-emulators.js';
import { resolveStoreCredentials } from './credentials.js';
import { objectStoreContract, objectStorePagingTest } from './object-store.contract.js';
import { openObjectStore, parseBlobUrl } from './open.js';

let az: Azurite;
beforeAll(async () => {
  az = await startAzurite();
  await az.createContainer('logs');
});
afterAll(() => az?.stop());

const URL_ = 'abfs://logs@devstoreaccount1.dfs.core.windows.net/prefix';

const open = (env: Record<string, string>, partSizeBytes?: number, url = URL_) => {
  const location = parseBlobUrl(url);
  const credentials = resolveStoreCredentials(location, undefined, undefined, env);
  return openObjectStore(location, {
    credentials,
    ...(partSizeBytes !== undefined ? { partSizeBytes } : {}),
  });
};

objectStoreContract('azure (Azurite, connection string)', {
  open: (partSizeBytes) => open({ AZURE_STORAGE_CONNECTION_STRING: az.connectionString }, partSizeBytes),
});

objectStoreContract("azure (Azurite, KServe's AZURE_SERVICE_URL + AZURE_STORAGE_ACCESS_KEY)", {
  open: (partSizeBytes) =>
    open({ AZURE_SERVICE_URL: az.serviceUrl, AZURE_STORAGE_ACCESS_KEY: az.accountKey }, partSizeBytes),
});

objectStorePagingTest('azure (Azurite)', {
  open: (partSizeBytes) => open({ AZURE_STORAGE_CONNECTION_STRING: az.connectionString }, partSizeBytes),
});

describe('azure specifics', () => {
  it('a body over the part size is committed as several blocks', async () => {
    const partSize = 1024 * 1024;
    const store = await open({ AZURE_STORAGE_CONNECTION_STRING: az.connectionString }, partSize);
    await store.put('prefix/blocks.bin', new Uint8Array(partSize * 3 + 17));
    const blocks = await BlobServiceClient.fromConnectionString(az.connectionString)
      .getContainerClient('logs')
      .getBlockBlobClient('prefix/blocks.bin')
      .getBlockList('committed');
    expect(blocks.committedBlocks?.length).toBe(4);
  });

  it('a wrong account key is a permanent SINK_REJECTED that says which credentials were refused', async () => {
    const store = await open({
      AZURE_SERVICE_URL: az.serviceUrl,
      AZURE_ACCOUNT_NAME: az.account,
      AZURE_STORAGE_ACCESS_KEY: Buffer.from('not the key').toString('base64'),
    });
    const err = await store.put('prefix/k', new Uint8Array([1])).catch((e: unknown) => e);
    expect(isInferlogError(err, 'SINK_REJECTED')).toBe(true);
    expect((err as Error).message).toContain('shared key of account devstoreaccount1');
    // The key itself is never in a message.
    expect((err as Error).message).not.toContain(Buffer.from('not the key').toString('base64'));
  });

  it('a container that does not exist is SINK_REJECTED on put', async () => {
    const store = await open(
      { AZURE_STORAGE_CONNECTION_STRING: az.connectionString },
      undefined,
      'abfs://missing@devstoreaccount1.dfs.core.windows.net/p',
    );
    const err = await store.put('p/k', new Uint8Array([1])).catch((e: unknown) => e);
    expect(isInferlogError(err, 'SINK_REJECTED')).toBe(true);
  });

  it('an abfs URL without an account and no AZURE_* settings is a CONFIG_INVALID naming what to set', async () => {
    const location = { scheme: 'abfs' as const, bucket: 'logs', prefix: '' };
    const err = await openObjectStore(location, { credentials: { kind: 'abfs' } }).catch((e: unknown) => e);
    expect(isInferlogError(err, 'CONFIG_INVALID')).toBe(true);
    expect((err as Error).message).toContain('AZURE_ACCOUNT_NAME');
  });
});

describe('azure credentials from a storage-config entry', () => {
  const entryStore = (entry: Record<string, unknown>, url = URL_) => {
    const location = parseBlobUrl(url);
    const credentials = resolveStoreCredentials(
      location,
      'az',
      { az: JSON.stringify({ type: 'azure', ...entry }) },
      {},
    );
    return openObjectStore(location, { credentials });
  };

  it('connection_string', async () => {
    const store = await entryStore({ connection_string: az.connectionString });
    await store.put('prefix/cs', new TextEncoder().encode('v'));
    expect(new TextDecoder().decode(await store.get('prefix/cs'))).toBe('v');
  });

  it('service_url + account_name + account_key', async () => {
    const store = await entryStore({
      service_url: az.serviceUrl,
      account_name: az.account,
      account_key: az.accountKey,
    });
    await store.put('prefix/key', new TextEncoder().encode('v'));
    expect(new TextDecoder().decode(await store.get('prefix/key'))).toBe('v');
  });

  it('anonymous: a public container reads and lists, and a put is refused as SINK_REJECTED', async () => {
    const admin = BlobServiceClient.fromConnectionString(az.connectionString).getContainerClient('public');
    await admin.createIfNotExists({ access: 'container' });
    await admin.getBlockBlobClient('p/seen').uploadData(Buffer.from('public bytes'));
    const store = await entryStore(
      { service_url: az.serviceUrl, anonymous: 'True' },
      'abfs://public@devstoreaccount1.dfs.core.windows.net/p',
    );
    expect(new TextDecoder().decode(await store.get('p/seen'))).toBe('public bytes');
    const keys: string[] = [];
    for await (const o of store.list('p/')) keys.push(o.key);
    expect(keys).toEqual(['p/seen']);
    const err = await store.put('p/new', new Uint8Array([1])).catch((e: unknown) => e);
    expect(isInferlogError(err, 'SINK_REJECTED')).toBe(true);
    expect((err as Error).message).toContain('anonymous');
  });
});
