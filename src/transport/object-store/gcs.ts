/**
 * Google Cloud Storage as an object store (gs://bucket/prefix), through @google-cloud/storage.
 *
 *   put ──▶ body ≤ part size ──▶ one multipart upload (metadata + bytes in one request)
 *        └─▶ larger ───────────▶ resumable upload session, sent in part-size chunks
 *   get ──▶ download (checksums validated by the client)
 *   list ─▶ pages of 1000, in the order GCS returns them (lexicographic)
 *
 * Credentials (credentials.ts resolves them; the first that applies is used):
 *   endpoint (STORAGE_EMULATOR_HOST)  an emulator: the client sends it no credentials
 *   serviceAccount                    a service-account JSON from the storage config
 *   keyFile                           GOOGLE_APPLICATION_CREDENTIALS
 *   anonymous                         no credentials (public buckets)
 *   none of these                     application default credentials (gcloud, workload identity,
 *                                     the metadata server), found by the client's own chain
 * KServe's agent goes anonymous when GOOGLE_APPLICATION_CREDENTIALS is unset; inferlog uses the
 * default chain instead, so workload identity works, and `anonymous` says so when wanted.
 */
import { Storage, type StorageOptions } from '@google-cloud/storage';
import { InferlogError } from '../../core/errors.js';
import { classifyStoreFailure, type StoreFailure } from './classify.js';
import { checkObjectKey } from './keys.js';
import {
  DEFAULT_PART_SIZE_BYTES,
  type BlobLocation,
  type GcsCredentials,
  type ObjectInfo,
  type ObjectStore,
  type ObjectStoreOptions,
  type PutOptions,
} from './object-store.js';

/** Resumable chunks must be a multiple of 256 KiB (the GCS JSON API's rule). */
const CHUNK_QUANTUM = 256 * 1024;
const PUBLIC_ENDPOINT = 'https://storage.googleapis.com';

export function openGcsObjectStore(location: BlobLocation, options: ObjectStoreOptions = {}): ObjectStore {
  const creds: GcsCredentials = options.credentials?.kind === 'gs' ? options.credentials : { kind: 'gs' };
  const partSize = Math.max(
    CHUNK_QUANTUM,
    Math.ceil((options.partSizeBytes ?? DEFAULT_PART_SIZE_BYTES) / CHUNK_QUANTUM) * CHUNK_QUANTUM,
  );
  const { storageOptions, auth } = clientOptions(creds);
  const storage = new Storage(storageOptions);
  const bucket = storage.bucket(location.bucket);
  const base = `gs://${location.bucket}`;

  const fail = (op: 'put' | 'get' | 'list', key: string, err: unknown, signal?: AbortSignal): InferlogError =>
    classifyStoreFailure(op, failureOf(err), `${base}/${key}`, auth, err, signal);

  return {
    url: location.prefix === '' ? base : `${base}/${location.prefix}`,
    async put(key: string, body: Uint8Array, put?: PutOptions): Promise<void> {
      put?.signal?.throwIfAborted();
      checkObjectKey(key, base);
      const resumable = body.byteLength > partSize;
      try {
        await bucket.file(key).save(Buffer.from(body.buffer, body.byteOffset, body.byteLength), {
          resumable,
          ...(resumable ? { chunkSize: partSize } : {}),
          ...(put?.contentType !== undefined ? { contentType: put.contentType } : {}),
          // Without this the client may gzip on the wire and store the object gzip-encoded.
          gzip: false,
        });
      } catch (err) {
        throw fail('put', key, err, put?.signal);
      }
    },
    async get(key: string, signal?: AbortSignal): Promise<Uint8Array> {
      signal?.throwIfAborted();
      checkObjectKey(key, base);
      try {
        const [bytes] = await bucket.file(key).download();
        return bytes;
      } catch (err) {
        throw fail('get', key, err, signal);
      }
    },
    async *list(prefix: string, signal?: AbortSignal): AsyncIterable<ObjectInfo> {
      let pageToken: string | undefined;
      do {
        signal?.throwIfAborted();
        let files;
        let next;
        try {
          [files, next] = await bucket.getFiles({
            prefix,
            autoPaginate: false,
            maxResults: 1000,
            ...(pageToken !== undefined ? { pageToken } : {}),
          });
        } catch (err) {
          throw fail('list', prefix, err, signal);
        }
        for (const f of files) yield { key: f.name, size: Number(f.metadata.size ?? 0) };
        pageToken = (next as { pageToken?: string } | null | undefined)?.pageToken;
      } while (pageToken !== undefined && pageToken !== '');
    },
    async close(): Promise<void> {},
  };
}

/** The client's options for the credentials, and a description of them for error messages. */
function clientOptions(creds: GcsCredentials): { storageOptions: StorageOptions; auth: string } {
  // The pipeline retries whole puts (keys are deterministic, so a retry overwrites); the client
  // only retries briefly, so a dead store never holds a put for its default ten minutes.
  const retryOptions = { autoRetry: true, maxRetries: 2, maxRetryDelay: 4, totalTimeout: 60 };
  const common = { retryOptions, ...(creds.projectId !== undefined ? { projectId: creds.projectId } : {}) };
  if (creds.endpoint !== undefined) {
    // A custom endpoint gets no credentials unless useAuthWithCustomEndpoint: right for emulators.
    const apiEndpoint = /^https?:\/\//.test(creds.endpoint) ? creds.endpoint : `http://${creds.endpoint}`;
    return { storageOptions: { ...common, apiEndpoint }, auth: `emulator ${apiEndpoint}, no credentials` };
  }
  if (creds.serviceAccount !== undefined) {
    const sa = creds.serviceAccount as { client_email?: unknown; project_id?: unknown };
    return {
      storageOptions: {
        ...common,
        credentials: creds.serviceAccount as StorageOptions['credentials'],
        ...(creds.projectId === undefined && typeof sa.project_id === 'string'
          ? { projectId: sa.project_id }
          : {}),
      },
      auth: `service account ${typeof sa.client_email === 'string' ? sa.client_email : ''} from the storage config`,
    };
  }
  if (creds.keyFile !== undefined)
    return {
      storageOptions: { ...common, keyFilename: creds.keyFile },
      auth: `key file ${creds.keyFile} (GOOGLE_APPLICATION_CREDENTIALS)`,
    };
  if (creds.anonymous === true)
    // Naming the public endpoint explicitly makes it a custom endpoint, which gets no credentials.
    return { storageOptions: { ...common, apiEndpoint: `${PUBLIC_ENDPOINT}:443` }, auth: 'anonymous' };
  return {
    storageOptions: common,
    auth: 'application default credentials (set GOOGLE_APPLICATION_CREDENTIALS to a key file, or run with workload identity)',
  };
}

/** Status, code and message out of an ApiError (code = HTTP status) or a network error. */
function failureOf(err: unknown): StoreFailure {
  const e = (err ?? {}) as {
    code?: unknown;
    status?: unknown;
    message?: unknown;
    response?: { status?: unknown; headers?: Record<string, unknown> };
    cause?: { code?: unknown };
  };
  const status =
    typeof e.code === 'number' && e.code >= 100
      ? e.code
      : typeof e.response?.status === 'number'
        ? e.response.status
        : typeof e.status === 'number'
          ? e.status
          : undefined;
  const code =
    typeof e.code === 'string' ? e.code : typeof e.cause?.code === 'string' ? e.cause.code : undefined;
  const retryAfter = e.response?.headers?.['retry-after'];
  return {
    ...(status !== undefined ? { status } : {}),
    ...(code !== undefined ? { code } : {}),
    ...(typeof retryAfter === 'string' ? { retryAfter } : {}),
    message: typeof e.message === 'string' ? e.message : String(err),
  };
}
