/**
 * Azure Blob Storage as an object store (abfs://container@account.dfs.core.windows.net/prefix),
 * through @azure/storage-blob. ADLS Gen2 accounts serve the Blob API too, so the abfs URL's
 * account is reached at its blob endpoint.
 *
 *   put ──▶ body ≤ part size ──▶ one Put Blob
 *        └─▶ larger ───────────▶ Put Block × n (4 at a time) + Put Block List (uploadData)
 *   get ──▶ download to a buffer
 *   list ─▶ pages of 1000, in the order the service returns them (lexicographic)
 *
 * Credentials (credentials.ts resolves them; the first that applies is used):
 *   connectionString                  AZURE_STORAGE_CONNECTION_STRING (Azurite's usual form)
 *   accountKey                        AZURE_STORAGE_ACCESS_KEY: shared-key signing
 *   accessToken                       AZURE_ACCESS_TOKEN (+ AZURE_ACCESS_EXPIRES_ON_SECONDS)
 *   tenantId + clientId + clientSecret  a service principal (AZURE_* or KServe's legacy AZ_*)
 *   anonymous                         no signing (public container, or a SAS in the service URL)
 *   none of these                     DefaultAzureCredential (workload identity, managed identity,
 *                                     az login), loaded only then
 * KServe's agent signs with DefaultAzureCredential when AZURE_STORAGE_ACCESS_KEY is set and
 * fails when neither a key nor a token is set; inferlog signs with the key, and falls back to
 * the default chain.
 */
import {
  AnonymousCredential,
  BlobServiceClient,
  StorageSharedKeyCredential,
  type StoragePipelineOptions,
} from '@azure/storage-blob';
import { InferlogError } from '../../core/errors.js';
import { classifyStoreFailure, type StoreFailure } from './classify.js';
import { checkObjectKey } from './keys.js';
import {
  DEFAULT_PART_SIZE_BYTES,
  type AzureCredentials,
  type BlobLocation,
  type ObjectInfo,
  type ObjectStore,
  type ObjectStoreOptions,
  type PutOptions,
} from './object-store.js';

/** The part of @azure/core-auth's TokenCredential a fixed token needs (no transitive import). */
interface TokenCredential {
  getToken(): Promise<{ token: string; expiresOnTimestamp: number }>;
}

/** Parallel block uploads per put: enough to fill a link, few enough to stay polite. */
const UPLOAD_CONCURRENCY = 4;

export async function openAzureObjectStore(
  location: BlobLocation,
  options: ObjectStoreOptions = {},
): Promise<ObjectStore> {
  const creds: AzureCredentials =
    options.credentials?.kind === 'abfs' ? options.credentials : { kind: 'abfs' };
  const partSize = options.partSizeBytes ?? DEFAULT_PART_SIZE_BYTES;
  const { service, auth } = await serviceClient(location, creds);
  const container = service.getContainerClient(location.bucket);
  const base = `abfs://${location.bucket}@${service.accountName || location.account || ''}`;

  const fail = (op: 'put' | 'get' | 'list', key: string, err: unknown, signal?: AbortSignal): InferlogError =>
    classifyStoreFailure(op, failureOf(err), `${base}/${key}`, auth, err, signal);

  return {
    url: location.prefix === '' ? base : `${base}/${location.prefix}`,
    async put(key: string, body: Uint8Array, put?: PutOptions): Promise<void> {
      put?.signal?.throwIfAborted();
      checkObjectKey(key, base);
      try {
        await container.getBlockBlobClient(key).uploadData(body, {
          blockSize: partSize,
          maxSingleShotSize: partSize,
          concurrency: UPLOAD_CONCURRENCY,
          ...(put?.contentType !== undefined
            ? { blobHTTPHeaders: { blobContentType: put.contentType } }
            : {}),
          ...(put?.signal !== undefined ? { abortSignal: put.signal } : {}),
        });
      } catch (err) {
        throw fail('put', key, err, put?.signal);
      }
    },
    async get(key: string, signal?: AbortSignal): Promise<Uint8Array> {
      signal?.throwIfAborted();
      checkObjectKey(key, base);
      try {
        return await container.getBlockBlobClient(key).downloadToBuffer(0, undefined, {
          ...(signal !== undefined ? { abortSignal: signal } : {}),
        });
      } catch (err) {
        throw fail('get', key, err, signal);
      }
    },
    async *list(prefix: string, signal?: AbortSignal): AsyncIterable<ObjectInfo> {
      const pages = container
        .listBlobsFlat({
          ...(prefix !== '' ? { prefix } : {}),
          ...(signal !== undefined ? { abortSignal: signal } : {}),
        })
        .byPage({ maxPageSize: 1000 });
      for (;;) {
        let page;
        try {
          page = await pages.next();
        } catch (err) {
          throw fail('list', prefix, err, signal);
        }
        if (page.done === true) return;
        for (const b of page.value.segment.blobItems)
          yield { key: b.name, size: Number(b.properties.contentLength ?? 0) };
      }
    },
    async close(): Promise<void> {},
  };
}

async function serviceClient(
  location: BlobLocation,
  creds: AzureCredentials,
): Promise<{ service: BlobServiceClient; auth: string }> {
  // The pipeline retries whole puts; the client retries a block or a request briefly.
  const pipeline: StoragePipelineOptions = {
    retryOptions: { maxTries: 3, retryDelayInMs: 500, maxRetryDelayInMs: 4000 },
  };
  if (creds.connectionString !== undefined) {
    try {
      return {
        service: BlobServiceClient.fromConnectionString(creds.connectionString, pipeline),
        auth: 'connection string (AZURE_STORAGE_CONNECTION_STRING or the storage config)',
      };
    } catch (err) {
      // The SDK's message says which part is wrong; it never echoes the key.
      throw new InferlogError(
        'CONFIG_INVALID',
        `the Azure connection string is not valid: ${(err as Error).message}`,
        {
          cause: err,
          details: { option: 'storageConfig' },
        },
      );
    }
  }
  const account = creds.accountName ?? location.account;
  const serviceUrl =
    creds.serviceUrl ??
    (account !== undefined && account !== '' ? `https://${account}.blob.core.windows.net/` : undefined);
  if (serviceUrl === undefined)
    throw new InferlogError(
      'CONFIG_INVALID',
      'Azure blob storage needs an account: name it in the URL (abfs://container@ACCOUNT.dfs.core.windows.net/prefix), or set AZURE_ACCOUNT_NAME or AZURE_SERVICE_URL',
      { details: { option: 'url' } },
    );
  if (creds.accountKey !== undefined) {
    if (account === undefined || account === '')
      throw new InferlogError(
        'CONFIG_INVALID',
        'AZURE_STORAGE_ACCESS_KEY needs the account it belongs to: set AZURE_ACCOUNT_NAME, or name it in the abfs:// URL',
        { details: { option: 'storageConfig' } },
      );
    return {
      service: new BlobServiceClient(
        serviceUrl,
        new StorageSharedKeyCredential(account, creds.accountKey),
        pipeline,
      ),
      auth: `shared key of account ${account}`,
    };
  }
  if (creds.accessToken !== undefined) {
    const token = creds.accessToken;
    // KServe's default when no expiry is given: five minutes from now.
    const expiresOnTimestamp = creds.accessTokenExpiresOnMs ?? Date.now() + 5 * 60_000;
    const credential: TokenCredential = { getToken: () => Promise.resolve({ token, expiresOnTimestamp }) };
    return {
      service: new BlobServiceClient(serviceUrl, credential, pipeline),
      auth: 'access token (AZURE_ACCESS_TOKEN)',
    };
  }
  if (creds.clientSecret !== undefined && creds.tenantId !== undefined && creds.clientId !== undefined) {
    const { ClientSecretCredential } = await import('@azure/identity');
    return {
      service: new BlobServiceClient(
        serviceUrl,
        new ClientSecretCredential(creds.tenantId, creds.clientId, creds.clientSecret),
        pipeline,
      ),
      auth: `service principal ${creds.clientId} (AZURE_CLIENT_ID/AZURE_CLIENT_SECRET)`,
    };
  }
  if (creds.anonymous === true)
    return {
      service: new BlobServiceClient(serviceUrl, new AnonymousCredential(), pipeline),
      auth: 'anonymous',
    };
  const { DefaultAzureCredential } = await import('@azure/identity');
  return {
    service: new BlobServiceClient(
      serviceUrl,
      new DefaultAzureCredential(
        creds.clientId !== undefined ? { managedIdentityClientId: creds.clientId } : {},
      ),
      pipeline,
    ),
    auth: 'DefaultAzureCredential (workload identity, managed identity or az login; or set AZURE_STORAGE_ACCESS_KEY)',
  };
}

/** Status, code and message out of a RestError, an AbortError or a network error. */
function failureOf(err: unknown): StoreFailure {
  const e = (err ?? {}) as {
    statusCode?: unknown;
    code?: unknown;
    message?: unknown;
    details?: { errorCode?: unknown };
    response?: { headers?: { get?: (name: string) => string | undefined } };
  };
  const status = typeof e.statusCode === 'number' ? e.statusCode : undefined;
  // An answer without a body (a download's 404, a HEAD) names its error only in x-ms-error-code.
  const code =
    typeof e.code === 'string'
      ? e.code
      : typeof e.details?.errorCode === 'string'
        ? e.details.errorCode
        : undefined;
  const retryAfter = e.response?.headers?.get?.('retry-after');
  return {
    ...(status !== undefined ? { status } : {}),
    ...(code !== undefined ? { code } : {}),
    ...(retryAfter !== undefined ? { retryAfter } : {}),
    message: typeof e.message === 'string' ? e.message : String(err),
  };
}
