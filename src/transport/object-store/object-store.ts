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
