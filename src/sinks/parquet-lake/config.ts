/**
 * The exchanges lake's settings, checked once (pure: `inferlog validate` can call it).
 *
 *   logger.url (s3://bucket/prefix, gs://…, abfs://…, file:///dir, /dir) + inferlog.dev/blob-* ──▶ LakeConfig
 */
import { parseBlobUrl } from '../../transport/object-store/open.js';
import type { BlobLocation } from '../../transport/object-store/object-store.js';
import type { BlobSinkOptions } from '../sink.js';

export interface LakeConfig {
  readonly location: BlobLocation;
  readonly targetBytes: number;
  readonly maxAgeMs: number;
}

export const DEFAULT_TARGET_BYTES = 128 * 1024 * 1024;
export const DEFAULT_MAX_AGE_MS = 5 * 60_000;

/** Throws InferlogError CONFIG_INVALID (option `url`) for a URL that names no blob store. */
export function lakeConfig(url: string, blob: BlobSinkOptions | undefined): LakeConfig {
  // file:///dir is a directory here (a mounted volume), not the file sink's JSON lines file.
  const location = parseBlobUrl(url);
  return {
    location,
    targetBytes: blob?.targetBytes ?? DEFAULT_TARGET_BYTES,
    maxAgeMs: blob?.maxAgeMs ?? DEFAULT_MAX_AGE_MS,
  };
}

/** The location as a URL without credentials, for the sink's name. */
export function locationUrl(l: BlobLocation): string {
  const tail = l.prefix === '' ? '' : `/${l.prefix}`;
  switch (l.scheme) {
    case 'file':
      return `file://${l.bucket}`;
    case 'abfs':
      return `abfs://${l.bucket}@${l.account ?? ''}${tail}`;
    default:
      return `${l.scheme}://${l.bucket}${tail}`;
  }
}
