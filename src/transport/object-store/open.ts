/**
 * Blob URLs → a location, and a location → an ObjectStore. Each backend is loaded only when a
 * URL names it, so an agent that logs to a collector never loads a cloud SDK.
 *
 *   s3://bucket/prefix                                 (KServe's S3Prefix)
 *   gs://bucket/prefix                                 (KServe's GCSPrefix)
 *   abfs://container@account.dfs.core.windows.net/prefix  (KServe's AzurePrefix; bucket = URL user)
 *   file:///dir/prefix or a plain path                 (a mounted volume)
 */
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InferlogError } from '../../core/errors.js';
import { resolveStoreCredentials } from './credentials.js';
import type { BlobLocation, ObjectStore, ObjectStoreOptions } from './object-store.js';

function trimSlashes(s: string): string {
  return s.replace(/^\/+/, '').replace(/\/+$/, '');
}

/** Parses a blob URL as KServe's parseBlobStoreURL does; CONFIG_INVALID (option `url`) when it cannot. */
export function parseBlobUrl(raw: string): BlobLocation {
  if (!/^[a-z][a-z0-9+.-]*:/i.test(raw) || /^[a-z]:[\\/]/i.test(raw)) {
    // A plain path (a mounted volume). Relative paths are resolved once, here.
    const dir = isAbsolute(raw) ? raw : resolve(raw);
    return { scheme: 'file', bucket: dir, prefix: '' };
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid(raw, 'is not a URL');
  }
  const scheme = url.protocol.slice(0, -1).toLowerCase();
  const prefix = trimSlashes(decodeURIComponent(url.pathname));
  switch (scheme) {
    case 's3':
    case 'gs': {
      if (url.hostname === '') throw invalid(raw, 'names no bucket');
      return { scheme, bucket: url.hostname, prefix };
    }
    case 'abfs':
    case 'abfss': {
      // KServe: "azure URLs follow the format https://user@host/path/to/file where user is the bucket name".
      const container = decodeURIComponent(url.username);
      if (container === '')
        throw invalid(raw, 'names no container (abfs://container@account.dfs.core.windows.net/prefix)');
      const account = url.hostname.split('.', 1)[0];
      return { scheme: 'abfs', bucket: container, prefix, ...(account ? { account } : {}) };
    }
    case 'file':
      return { scheme: 'file', bucket: fileURLToPath(url), prefix: '' };
    default:
      throw invalid(raw, `has scheme "${scheme}:"; blob storage takes s3://, gs://, abfs:// or a local path`);
  }
}

function invalid(raw: string, why: string): InferlogError {
  return new InferlogError('CONFIG_INVALID', `blob storage URL "${raw.slice(0, 200)}" ${why}`, {
    details: { option: 'url' },
  });
}

/**
 * Opens the store a location names. Credentials are `options.credentials` when given
 * (resolveStoreCredentials with a storage config), else the environment's (see credentials.ts).
 */
export async function openObjectStore(
  location: BlobLocation,
  options: ObjectStoreOptions = {},
): Promise<ObjectStore> {
  const given = options.credentials?.kind;
  if (given !== undefined && given !== location.scheme)
    // A caller mixing up stores would otherwise open this one with no credentials at all.
    throw new InferlogError(
      'CONFIG_INVALID',
      `credentials for ${given}:// were given to open a ${location.scheme}:// store`,
      { details: { option: 'storageKey' } },
    );
  const resolved: ObjectStoreOptions =
    options.credentials !== undefined || location.scheme === 'file'
      ? options
      : { ...options, credentials: resolveStoreCredentials(location) };
  switch (location.scheme) {
    case 'file': {
      const { openLocalObjectStore } = await import('./local.js');
      return openLocalObjectStore(location);
    }
    case 'gs': {
      const { openGcsObjectStore } = await import('./gcs.js');
      return openGcsObjectStore(location, resolved);
    }
    case 'abfs': {
      const { openAzureObjectStore } = await import('./azure.js');
      return openAzureObjectStore(location, resolved);
    }
    case 's3': {
      const { openS3ObjectStore } = await import('./s3.js');
      return openS3ObjectStore(location, resolved);
    }
    default: {
      // Every BlobScheme has a case above: a new scheme fails to compile here until it has one.
      const unhandled: never = location.scheme;
      throw new InferlogError('CONFIG_INVALID', `blob storage "${String(unhandled)}://" has no backend`, {
        details: { option: 'url' },
      });
    }
  }
}
