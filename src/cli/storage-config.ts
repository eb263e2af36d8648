/**
 * `--storage-config FILE` for `inferlog up` and `inferlog agent`: the credentials of a blob
 * logger (s3://, gs://, abfs://) from KServe's storage-config Secret, picked by `storage.key`
 * (`--storage-key` for the agent):
 *
 *   FILE ──readStorageConfig──▶ entries ──resolveStoreCredentials(url, key)──▶ StoreCredentials
 *        (Secret manifest,                  (the environment, the entry's
 *         key → entry map,                   fields over it)
 *         or the mounted Secret directory)
 *
 * Resolved once at start-up, so a missing key or a malformed entry stops the command with a
 * message naming the file and the key, before anything is served. Without the flag nothing is
 * read here: the store resolves its credentials from the environment, as KServe's agent does
 * (its webhook injects the service account's secrets as variables and never passes the key).
 */
import { InferlogError, isInferlogError } from '../core/errors.js';
import {
  readStorageConfig,
  resolveStoreCredentials,
  type StorageConfig,
} from '../transport/object-store/credentials.js';
import type { StoreCredentials } from '../transport/object-store/object-store.js';
import { parseBlobUrl } from '../transport/object-store/open.js';

const BLOB_URL = /^(s3|gs|abfss?):\/\//i;

export interface StorageConfigReader {
  /**
   * The credentials for a logger URL, or undefined when no `--storage-config` was given or the
   * URL is not a blob store. CONFIG_INVALID names `who`, the file and the key; never a value.
   */
  credentialsFor(url: string | undefined, key: string | undefined, who: string): StoreCredentials | undefined;
}

export function storageConfigReader(file: string | undefined, keyFlag: string): StorageConfigReader {
  let config: StorageConfig | undefined;
  return {
    credentialsFor(url, key, who) {
      if (file === undefined || url === undefined || !BLOB_URL.test(url)) return undefined;
      try {
        config ??= readStorageConfig(file);
        return resolveStoreCredentials(parseBlobUrl(url), key, config);
      } catch (e) {
        if (!isInferlogError(e, 'CONFIG_INVALID')) throw e;
        const option = e.details.option === 'storageKey' ? keyFlag : '--storage-config';
        throw new InferlogError('CONFIG_INVALID', `${who}: --storage-config ${file}: ${e.message}`, {
          cause: e,
          details: { option },
        });
      }
    },
  };
}
