/**
 * The blob sink's settings, validated once (pure: no I/O, so `inferlog validate` can call it):
 *
 *   logger.url  s3://bucket/prefix | gs://bucket/prefix | abfs://container@account.dfs.core.windows.net/prefix
 *   + KServe's storage logger: --log-store-path, --log-store-format, --log-marshaller-url,
 *     --log-batch-size, --log-batch-interval (SinkOptions.store, batchSize, batchIntervalMs)
 *
 * Object keys are KServe's (store.go getObjectKey):
 *
 *   <prefix>/<namespace>/<inferenceservice>/<component>/<store path>/<id>-<request|response>.<ext>
 *
 * with empty parts left out and the directory part cleaned like Go's path.Join. The id is the
 * first record's: one object per batch, so a retried batch overwrites its object, never adds one.
 */
import { posix } from 'node:path';
import { InferlogError } from '../../core/errors.js';
import type { BlobLocation } from '../../transport/object-store/object-store.js';
import { parseBlobUrl } from '../../transport/object-store/open.js';
import type { BlobStoreOptions, SinkOptions } from '../sink.js';

export const BLOB_SCHEMES = ['s3', 'gs', 'abfs'] as const;

export interface BlobSinkConfig {
  /** The logger URL as given: KServe writes it into every record's `url`. */
  logUrl: string;
  location: BlobLocation;
  store: BlobStoreOptions;
  /** Records per object (KServe's --log-batch-size; 1 = one object per record). */
  recordsPerObject: number;
}

function invalid(problem: string): InferlogError {
  return new InferlogError('CONFIG_INVALID', `blob sink: ${problem}`, { details: { option: 'url' } });
}

export function blobSinkConfig(
  url: URL | string,
  options: Pick<SinkOptions, 'batchSize' | 'store'>,
): BlobSinkConfig {
  const logUrl = String(url);
  const scheme = logUrl.slice(0, logUrl.indexOf(':')).toLowerCase();
  if (!(BLOB_SCHEMES as readonly string[]).includes(scheme === 'abfss' ? 'abfs' : scheme))
    throw invalid(`"${logUrl.slice(0, 200)}" is not a blob URL (s3://, gs://, abfs://)`);
  const location = parseBlobUrl(logUrl);
  const batchSize = options.batchSize;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1)
    throw invalid(`batch size must be at least 1, not ${batchSize}`);
  return Object.freeze({
    logUrl,
    location,
    // No storage spec: KServe's agent would drop every record ("Logger store not configured");
    // inferlog writes them, as json, under the service's prefix.
    store: options.store ?? { path: '', format: 'json' as const },
    recordsPerObject: batchSize,
  });
}

/** Go's path.Join: the non-empty parts joined and cleaned (`.`/`..` resolved, no trailing `/`). */
export function goPathJoin(parts: readonly string[]): string {
  const kept = parts.filter((p) => p !== '');
  if (kept.length === 0) return '';
  const joined = posix.normalize(kept.join('/'));
  return joined.length > 1 && joined.endsWith('/') ? joined.slice(0, -1) : joined;
}

const UNSAFE_ID_CHAR = /[^A-Za-z0-9._~-]/g;

/**
 * An id as a key segment. Generated ids (UUIDs) are unchanged, as in KServe's keys; any other
 * character of a client-chosen id (`/`, `\`, `%`, control bytes) is percent-encoded, so an id
 * can never move its object to another service's prefix or split the key.
 */
export function idSegment(id: string): string {
  return id.replace(UNSAFE_ID_CHAR, (c) =>
    Array.from(Buffer.from(c, 'utf8'), (b) => '%' + b.toString(16).toUpperCase().padStart(2, '0')).join(''),
  );
}

/** The object key for a batch whose first record is `first` (store.go getObjectKey). */
export function objectKey(
  config: BlobSinkConfig,
  first: { id: string; reqType: string; namespace: string; inferenceService: string; component: string },
  extension: string,
): string {
  const prefix = goPathJoin([
    config.location.prefix,
    first.namespace,
    first.inferenceService,
    first.component,
    config.store.path,
  ]);
  const type = first.reqType.slice(first.reqType.lastIndexOf('.') + 1);
  return `${prefix}/${idSegment(first.id)}-${type}.${extension}`;
}
