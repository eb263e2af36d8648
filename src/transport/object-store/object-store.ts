/**
 * One small interface for every object store inferlog writes to or reads from: S3 and its
 * look-alikes (MinIO, Ceph, R2), Google Cloud Storage, Azure Blob Storage, and a local directory
 * (a mounted volume). The blob sink writes through it; `query --from` reads through it.
 *
 *   blob URL ──parseBlobUrl──▶ BlobLocation ──openObjectStore──▶ ObjectStore (put / get / list)
 *
 * Keys are full object names inside the bucket (the URL's prefix included), `/`-separated,
 * exactly as KServe's storage code names them.
 */

export type BlobScheme = 's3' | 'gs' | 'abfs' | 'file';

export interface BlobLocation {
  readonly scheme: BlobScheme;
  /** Bucket (S3, GCS) or container (Azure); for `file`, the directory objects live under. */
  readonly bucket: string;
  /** Key prefix inside the bucket, without leading or trailing `/`; may be empty. */
  readonly prefix: string;
  /** Azure: the storage account named in `abfs://container@account.dfs.core.windows.net/…`. */
  readonly account?: string;
}

export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
}

export interface PutOptions {
  readonly contentType?: string;
  readonly signal?: AbortSignal;
}

export interface ObjectStore {
  /** The store's URL with no credentials, for messages and metrics labels. */
  readonly url: string;
  /**
   * Writes one whole object, replacing any object of that key (so a retried upload with a
   * deterministic key overwrites rather than duplicates). Large bodies go up in parts.
   * Throws an InferlogError (SINK_*) classified for retry.
   */
  put(key: string, body: Uint8Array, options?: PutOptions): Promise<void>;
  /** Reads one whole object; NOT_FOUND when it does not exist. */
  get(key: string, signal?: AbortSignal): Promise<Uint8Array>;
  /** Every object whose key starts with `prefix`, in key order. */
  list(prefix: string, signal?: AbortSignal): AsyncIterable<ObjectInfo>;
  close(): Promise<void>;
}

/**
 * S3 and its look-alikes (MinIO, Ceph, R2). Every field is optional: what is missing comes from
 * the AWS SDK's own default chain (environment, web identity/IRSA, profile, instance metadata).
 */
export interface S3Credentials {
  readonly kind: 's3';
  /** `AWS_ENDPOINT_URL` / storage-config `endpoint_url`: an S3-compatible server. */
  readonly endpoint?: string;
  /** `AWS_DEFAULT_REGION` / `region`. */
  readonly region?: string;
  readonly accessKeyId?: string;
  readonly secretAccessKey?: string;
  readonly sessionToken?: string;
  /** `awsAnonymousCredential=true` / `anonymous`: unsigned requests (public buckets). */
  readonly anonymous?: boolean;
  /** `S3_USER_VIRTUAL_BUCKET=false` (KServe's spelling): path-style URLs, as MinIO and Ceph want. */
  readonly forcePathStyle?: boolean;
  /** `S3_USE_ACCELERATE=true`. */
  readonly useAccelerate?: boolean;
  /** `S3_VERIFY_SSL=0|false` / `verify_ssl`: skip TLS verification (never the default). */
  readonly verifySsl?: boolean;
  /** `AWS_CA_BUNDLE` / `ca_bundle`: a PEM file of extra CAs to trust. */
  readonly caBundleFile?: string;
}

/** Google Cloud Storage. With nothing set, the client uses application default credentials. */
export interface GcsCredentials {
  readonly kind: 'gs';
  /** `STORAGE_EMULATOR_HOST` or storage-config `endpoint`: an emulator, sent no credentials. */
  readonly endpoint?: string;
  /** `GOOGLE_APPLICATION_CREDENTIALS`: a service-account (or external-account) JSON file. */
  readonly keyFile?: string;
  /** storage-config `base64_service_account` / `service_account_json`, decoded. */
  readonly serviceAccount?: Readonly<Record<string, unknown>>;
  readonly projectId?: string;
  /** storage-config `anonymous`: no credentials at all (public buckets). */
  readonly anonymous?: boolean;
}

/** Azure Blob Storage. Exactly one way to sign is used, in the order of the fields below. */
export interface AzureCredentials {
  readonly kind: 'abfs';
  /** `AZURE_STORAGE_CONNECTION_STRING` / `connection_string` (Azurite's usual form). */
  readonly connectionString?: string;
  /** `AZURE_SERVICE_URL`; otherwise https://<account>.blob.core.windows.net/. */
  readonly serviceUrl?: string;
  /** `AZURE_ACCOUNT_NAME` (KServe) or `AZURE_STORAGE_ACCOUNT`; else the account in the abfs URL. */
  readonly accountName?: string;
  /** `AZURE_STORAGE_ACCESS_KEY` / `account_key`: shared-key signing. */
  readonly accountKey?: string;
  /** `AZURE_ACCESS_TOKEN` (+ `AZURE_ACCESS_EXPIRES_ON_SECONDS`): a bearer token used as given. */
  readonly accessToken?: string;
  readonly accessTokenExpiresOnMs?: number;
  /** `AZURE_TENANT_ID`/`AZURE_CLIENT_ID`/`AZURE_CLIENT_SECRET` (or KServe's legacy `AZ_*`). */
  readonly tenantId?: string;
  readonly clientId?: string;
  readonly clientSecret?: string;
  /** storage-config `anonymous`: no signing (a public container, or a SAS in the service URL). */
  readonly anonymous?: boolean;
}

export type StoreCredentials = S3Credentials | GcsCredentials | AzureCredentials;

/**
 * What openObjectStore needs beyond the location. Every backend takes the same shape, so the
 * blob sink and `query --from` pass one object whatever the scheme.
 */
export interface ObjectStoreOptions {
  /**
   * Resolved credentials and endpoints (resolveStoreCredentials in credentials.ts). When absent,
   * they are resolved from the process environment alone.
   */
  readonly credentials?: StoreCredentials;
  /**
   * Bodies larger than this go up in parts (S3 multipart, GCS resumable chunks, Azure blocks).
   * Default 8 MiB; S3 needs at least 5 MiB, GCS rounds up to a multiple of 256 KiB.
   */
  readonly partSizeBytes?: number;
}

/** The default part size: large enough to keep request counts low, small enough to retry cheaply. */
export const DEFAULT_PART_SIZE_BYTES = 8 * 1024 * 1024;
