/**
 * Credentials and endpoints for an object store, from the two places KServe puts them:
 *
 *   environment ───────────────▶ credentialsFromEnv ─┐   (what KServe's webhook injects from the
 *   (AWS_*, S3_*, awsAnonymous…,                      │    service account's secrets, and what a
 *    GOOGLE_APPLICATION_CREDENTIALS, AZURE_*)         │    user exports for `inferlog up`)
 *                                                     ├──▶ StoreCredentials ──▶ openObjectStore
 *   storage-config Secret ─▶ entry [storageKey] ──────┘   (the entry's fields win, as in KServe's
 *   (--storage-config FILE, or STORAGE_CONFIG env          storage code, which copies them over
 *    + STORAGE_OVERRIDE_CONFIG)                            the environment)
 *
 * The storage-config Secret (KServe's "storage spec") holds one JSON object per key, e.g.
 *   localMinIO: {"type": "s3", "access_key_id": …, "secret_access_key": …, "endpoint_url": …,
 *                "bucket": …, "region": …, "anonymous": "False"}
 * KServe defines the s3 fields; the gs and azure fields below are inferlog's, named like them.
 *
 * Nothing here talks to a network or logs a secret: errors name keys and files, never values.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { InferlogError } from '../../core/errors.js';
import type {
  AzureCredentials,
  BlobLocation,
  GcsCredentials,
  S3Credentials,
  StoreCredentials,
} from './object-store.js';

/** The storage-config Secret's data: key → that entry's JSON text (or an already-parsed object). */
export type StorageConfig = Readonly<Record<string, string | Readonly<Record<string, unknown>>>>;

type Env = Readonly<Record<string, string | undefined>>;

/** KServe's `STORAGE_CONFIG`: the one entry the webhook picked, as JSON. */
export const STORAGE_CONFIG_ENV = 'STORAGE_CONFIG';
/** KServe's `STORAGE_OVERRIDE_CONFIG`: the storage spec's parameters, as JSON, over the entry. */
export const STORAGE_OVERRIDE_CONFIG_ENV = 'STORAGE_OVERRIDE_CONFIG';

/** The `type` values an entry may carry for each scheme. */
const ENTRY_TYPES: Readonly<Record<BlobLocation['scheme'], readonly string[]>> = {
  s3: ['s3'],
  gs: ['gs', 'gcs'],
  abfs: ['azure', 'abfs', 'abfss'],
  file: [],
};

/**
 * The credentials for `location`: the environment, overridden field by field by the
 * storage-config entry `storageKey` (when `storageConfig` is given) or by KServe's
 * STORAGE_CONFIG / STORAGE_OVERRIDE_CONFIG variables (when it is not).
 *
 * A named key that the config lacks, an entry that is not a JSON object, or an entry whose type
 * names another kind of store is CONFIG_INVALID (option `storageKey` / `storageConfig`).
 */
export function resolveStoreCredentials(
  location: BlobLocation,
  storageKey?: string,
  storageConfig?: StorageConfig,
  env: Env = process.env,
): StoreCredentials | undefined {
  if (location.scheme === 'file') return undefined;
  const entry = pickEntry(location, storageKey, storageConfig, env);
  switch (location.scheme) {
    case 's3':
      return s3Credentials(env, entry);
    case 'gs':
      return gcsCredentials(env, entry);
    case 'abfs':
      return azureCredentials(env, entry);
  }
}

function pickEntry(
  location: BlobLocation,
  storageKey: string | undefined,
  storageConfig: StorageConfig | undefined,
  env: Env,
): Record<string, unknown> {
  let entry: Record<string, unknown> = {};
  let where: string;
  if (storageConfig !== undefined) {
    if (storageKey !== undefined && storageKey !== '') {
      const raw = Object.hasOwn(storageConfig, storageKey) ? storageConfig[storageKey] : undefined;
      if (raw === undefined)
        throw new InferlogError(
          'CONFIG_INVALID',
          `storage key "${storageKey}" is not in the storage config (it has: ${Object.keys(storageConfig).join(', ') || 'no keys'})`,
          { details: { option: 'storageKey' } },
        );
      where = `storage config key "${storageKey}"`;
      entry = parseEntry(raw, where, 'storageConfig');
    } else {
      // KServe's fallback when no key is named: "default_<type>", then "default"; neither is required.
      const type = ENTRY_TYPES[location.scheme][0] ?? '';
      const key = [`default_${type}`, 'default'].find((k) => Object.hasOwn(storageConfig, k));
      where = `storage config key "${key ?? 'default'}"`;
      if (key !== undefined) entry = parseEntry(storageConfig[key]!, where, 'storageConfig');
    }
  } else {
    where = STORAGE_CONFIG_ENV;
    const raw = env[STORAGE_CONFIG_ENV];
    if (raw !== undefined && raw !== '') entry = parseEntry(raw, where, 'storageConfig');
  }
  const overrides = env[STORAGE_OVERRIDE_CONFIG_ENV];
  if (overrides !== undefined && overrides !== '')
    entry = { ...entry, ...parseEntry(overrides, STORAGE_OVERRIDE_CONFIG_ENV, 'storageConfig') };
  const type = typeof entry.type === 'string' ? entry.type.toLowerCase() : undefined;
  if (type !== undefined && !ENTRY_TYPES[location.scheme].includes(type))
    throw new InferlogError(
      'CONFIG_INVALID',
      `${where} has type "${type}", but the log store is ${location.scheme}:// (type ${ENTRY_TYPES[location.scheme].join(' or ')})`,
      { details: { option: 'storageKey' } },
    );
  return entry;
}

function parseEntry(
  raw: string | Readonly<Record<string, unknown>>,
  where: string,
  option: string,
): Record<string, unknown> {
  let value: unknown = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch (err) {
      throw new InferlogError('CONFIG_INVALID', `${where} is not valid JSON: ${(err as Error).message}`, {
        details: { option },
      });
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new InferlogError('CONFIG_INVALID', `${where} is not a JSON object`, { details: { option } });
  return { ...(value as Record<string, unknown>) };
}

// ── one function per scheme: environment first, the entry's fields over it ────────────────────

/** A non-empty string, or undefined. Empty env values count as unset (a Secret key left blank). */
function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v === '' ? undefined : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

/** KServe and boto write booleans as "true"/"True"/"False" strings; JSON may hold real ones. */
function bool(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  const s = str(v)?.toLowerCase();
  if (s === undefined) return undefined;
  if (s === 'true' || s === '1' || s === 'yes') return true;
  if (s === 'false' || s === '0' || s === 'no') return false;
  return undefined;
}

function first(...values: unknown[]): string | undefined {
  for (const v of values) {
    const s = str(v);
    if (s !== undefined) return s;
  }
  return undefined;
}

/** Drops undefined fields, so `{...a, ...b}` and deep equality in tests see only what was set. */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function s3Credentials(env: Env, e: Record<string, unknown>): S3Credentials {
  // KServe's webhook sets both AWS_ENDPOINT_URL and S3_ENDPOINT (host only) + S3_USE_HTTPS.
  const s3Endpoint = str(env.S3_ENDPOINT);
  const legacyEndpoint =
    s3Endpoint === undefined
      ? undefined
      : /^https?:\/\//.test(s3Endpoint)
        ? s3Endpoint
        : `${bool(env.S3_USE_HTTPS) === false ? 'http' : 'https'}://${s3Endpoint}`;
  const virtual = bool(env.S3_USER_VIRTUAL_BUCKET);
  // Keys in the environment are left to the AWS SDK's default chain (which reads them, and also
  // web identity, profiles and instance metadata); only the entry's keys are passed explicitly.
  return defined<S3Credentials>({
    kind: 's3',
    endpoint: first(e.endpoint_url, env.AWS_ENDPOINT_URL, legacyEndpoint),
    region: first(e.region, env.AWS_DEFAULT_REGION, env.AWS_REGION),
    accessKeyId: str(e.access_key_id),
    secretAccessKey: str(e.secret_access_key),
    sessionToken: str(e.session_token),
    anonymous: bool(e.anonymous) ?? bool(env.awsAnonymousCredential),
    forcePathStyle: virtual === undefined ? undefined : !virtual,
    useAccelerate: bool(env.S3_USE_ACCELERATE),
    verifySsl: bool(e.verify_ssl) ?? bool(env.S3_VERIFY_SSL),
    caBundleFile: first(e.ca_bundle, env.AWS_CA_BUNDLE),
  });
}

function gcsCredentials(env: Env, e: Record<string, unknown>): GcsCredentials {
  let serviceAccount: Record<string, unknown> | undefined;
  const b64 = str(e.base64_service_account);
  const json = e.service_account_json ?? e.service_account;
  if (b64 !== undefined) {
    serviceAccount = parseEntry(
      Buffer.from(b64, 'base64').toString('utf8'),
      'the storage config\'s "base64_service_account" (decoded)',
      'storageConfig',
    );
  } else if (json !== undefined) {
    serviceAccount = parseEntry(
      json as string | Record<string, unknown>,
      'the storage config\'s "service_account_json"',
      'storageConfig',
    );
  }
  return defined<GcsCredentials>({
    kind: 'gs',
    endpoint: first(e.endpoint, e.endpoint_url, e.emulator_host, env.STORAGE_EMULATOR_HOST),
    keyFile:
      serviceAccount === undefined
        ? first(e.credentials_file, env.GOOGLE_APPLICATION_CREDENTIALS)
        : undefined,
    serviceAccount,
    projectId: first(e.project_id, env.GOOGLE_CLOUD_PROJECT, env.GCLOUD_PROJECT),
    anonymous: bool(e.anonymous),
  });
}

function azureCredentials(env: Env, e: Record<string, unknown>): AzureCredentials {
  const expires = first(e.access_token_expires_on_seconds, env.AZURE_ACCESS_EXPIRES_ON_SECONDS);
  let accessTokenExpiresOnMs: number | undefined;
  if (expires !== undefined) {
    if (!/^\d+$/.test(expires))
      throw new InferlogError(
        'CONFIG_INVALID',
        `AZURE_ACCESS_EXPIRES_ON_SECONDS must be seconds since the epoch, not "${expires.slice(0, 40)}"`,
        { details: { option: 'storageConfig' } },
      );
    accessTokenExpiresOnMs = Number(expires) * 1000;
  }
  // An entry that names its own way to sign replaces the environment's ways to sign, so a key
  // in the environment never silently wins over the connection string the entry chose.
  const entrySigns = ['connection_string', 'account_key', 'access_key', 'access_token', 'client_secret'].some(
    (k) => str(e[k]) !== undefined,
  );
  const fromEnv = entrySigns || bool(e.anonymous) === true ? {} : env;
  return defined<AzureCredentials>({
    kind: 'abfs',
    connectionString: first(e.connection_string, fromEnv.AZURE_STORAGE_CONNECTION_STRING),
    serviceUrl: first(e.service_url, env.AZURE_SERVICE_URL),
    accountName: first(
      e.account_name,
      env.AZURE_ACCOUNT_NAME,
      env.AZURE_STORAGE_ACCOUNT,
      env.AZURE_STORAGE_ACCOUNT_NAME,
    ),
    accountKey: first(
      e.account_key,
      e.access_key,
      fromEnv.AZURE_STORAGE_ACCESS_KEY,
      fromEnv.AZURE_STORAGE_KEY,
    ),
    accessToken: first(e.access_token, fromEnv.AZURE_ACCESS_TOKEN),
    accessTokenExpiresOnMs,
    tenantId: first(e.tenant_id, env.AZURE_TENANT_ID, env.AZ_TENANT_ID),
    clientId: first(e.client_id, env.AZURE_CLIENT_ID, env.AZ_CLIENT_ID),
    clientSecret: first(e.client_secret, fromEnv.AZURE_CLIENT_SECRET, fromEnv.AZ_CLIENT_SECRET),
    anonymous: bool(e.anonymous),
  });
}

// ── the storage-config file (`inferlog up --storage-config FILE`) ──────────────────────────────

/**
 * Reads the storage-config Secret's data from what an operator has at hand:
 *   - a Kubernetes Secret manifest (YAML or JSON) with `stringData` and/or base64 `data`;
 *   - a plain map of key → entry (YAML or JSON), entries as JSON text or as objects;
 *   - a directory, as the Secret is mounted in a pod: one file per key.
 * CONFIG_INVALID (option `storageConfig`) names the file and what is wrong, never a value.
 */
export function readStorageConfig(path: string): StorageConfig {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch (err) {
    throw new InferlogError('CONFIG_INVALID', `storage config ${path}: ${(err as Error).message}`, {
      cause: err,
      details: { option: 'storageConfig' },
    });
  }
  if (isDir) {
    const out: Record<string, string> = {};
    // A mounted Secret also holds ..data and timestamped dot-directories: keys never start with a dot.
    for (const name of readdirSync(path)) {
      if (name.startsWith('.')) continue;
      const full = join(path, name);
      if (statSync(full).isFile()) out[name] = readFileSync(full, 'utf8');
    }
    return out;
  }
  let doc: unknown;
  try {
    // YAML is a superset of JSON: one parser reads both.
    doc = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new InferlogError(
      'CONFIG_INVALID',
      `storage config ${path} is not YAML or JSON: ${(err as Error).message}`,
      {
        cause: err,
        details: { option: 'storageConfig' },
      },
    );
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw new InferlogError('CONFIG_INVALID', `storage config ${path} is not a map of keys to entries`, {
      details: { option: 'storageConfig' },
    });
  const map = doc as Record<string, unknown>;
  if (map.kind === 'Secret' || map.apiVersion !== undefined) {
    const out: Record<string, string | Record<string, unknown>> = {};
    const data = map.data ?? {};
    const stringData = map.stringData ?? {};
    if (typeof data !== 'object' || typeof stringData !== 'object' || data === null || stringData === null)
      throw new InferlogError('CONFIG_INVALID', `storage config ${path}: data and stringData must be maps`, {
        details: { option: 'storageConfig' },
      });
    for (const [k, v] of Object.entries(data as Record<string, unknown>)) {
      if (typeof v !== 'string')
        throw new InferlogError(
          'CONFIG_INVALID',
          `storage config ${path}: data.${k} is not a base64 string`,
          {
            details: { option: 'storageConfig' },
          },
        );
      out[k] = Buffer.from(v, 'base64').toString('utf8');
    }
    // As in Kubernetes, stringData wins over data for the same key.
    for (const [k, v] of Object.entries(stringData as Record<string, unknown>))
      out[k] = entryValue(v, path, k);
    return out;
  }
  const out: Record<string, string | Record<string, unknown>> = {};
  for (const [k, v] of Object.entries(map)) out[k] = entryValue(v, path, k);
  return out;
}

function entryValue(v: unknown, path: string, key: string): string | Record<string, unknown> {
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  throw new InferlogError(
    'CONFIG_INVALID',
    `storage config ${path}: key "${key}" is not a JSON object or JSON text`,
    {
      details: { option: 'storageConfig' },
    },
  );
}
