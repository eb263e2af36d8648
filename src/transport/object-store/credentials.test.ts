import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isInferlogError } from '../../core/errors.js';
import { readStorageConfig, resolveStoreCredentials } from './credentials.js';
import { parseBlobUrl } from './open.js';

const s3 = parseBlobUrl('s3://logger-output/logs');
const gs = parseBlobUrl('gs://logs/p');
const abfs = parseBlobUrl('abfs://logs@acct.dfs.core.windows.net/p');

/** KServe's own sample storage-config (config/overlays/test/s3-local-backend/storage-config-secret.yaml). */
const KSERVE_SAMPLE = {
  localS3: JSON.stringify({
    type: 's3',
    access_key_id: 's3admin',
    secret_access_key: 's3admin123',
    endpoint_url: 'http://s3-service.kserve:8333',
    bucket: 'mlpipeline',
    region: 'us-south',
    anonymous: 'False',
  }),
  loggerS3: `{
      "type": "s3",
      "access_key_id": "s3admin",
      "secret_access_key": "s3admin123",
      "endpoint_url": "http://s3-service.kserve:8333",
      "bucket": "logger-output",
      "region": "us-south",
      "anonymous": "False"
    }`,
};

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('resolveStoreCredentials: S3 (KServe env names and storage-config entries)', () => {
  it("maps KServe's storage-config s3 entry to S3 credentials, Python-style booleans included", () => {
    expect(resolveStoreCredentials(s3, 'loggerS3', KSERVE_SAMPLE, {})).toEqual({
      kind: 's3',
      endpoint: 'http://s3-service.kserve:8333',
      region: 'us-south',
      accessKeyId: 's3admin',
      secretAccessKey: 's3admin123',
      anonymous: false,
    });
  });

  it("reads KServe's environment: AWS_ENDPOINT_URL, AWS_DEFAULT_REGION, S3_USER_VIRTUAL_BUCKET=false, awsAnonymousCredential", () => {
    expect(
      resolveStoreCredentials(s3, undefined, undefined, {
        AWS_ENDPOINT_URL: 'http://127.0.0.1:9000',
        AWS_DEFAULT_REGION: 'eu-west-1',
        S3_USER_VIRTUAL_BUCKET: 'false',
        awsAnonymousCredential: 'true',
        S3_VERIFY_SSL: '0',
        AWS_ACCESS_KEY_ID: 'left-to-the-sdk-chain',
      }),
    ).toEqual({
      kind: 's3',
      endpoint: 'http://127.0.0.1:9000',
      region: 'eu-west-1',
      forcePathStyle: true,
      anonymous: true,
      verifySsl: false,
    });
  });

  it("builds the endpoint from KServe's S3_ENDPOINT + S3_USE_HTTPS=0 when AWS_ENDPOINT_URL is absent", () => {
    expect(
      resolveStoreCredentials(s3, undefined, undefined, { S3_ENDPOINT: 'minio:9000', S3_USE_HTTPS: '0' }),
    ).toEqual({ kind: 's3', endpoint: 'http://minio:9000' });
  });

  it('the entry wins over the environment, field by field', () => {
    const creds = resolveStoreCredentials(s3, 'loggerS3', KSERVE_SAMPLE, {
      AWS_ENDPOINT_URL: 'http://elsewhere:1',
      AWS_DEFAULT_REGION: 'eu-west-1',
      AWS_CA_BUNDLE: '/etc/ca.pem',
    });
    expect(creds).toMatchObject({
      endpoint: 'http://s3-service.kserve:8333',
      region: 'us-south',
      caBundleFile: '/etc/ca.pem',
    });
  });

  it("reads the entry KServe's webhook puts in STORAGE_CONFIG, with STORAGE_OVERRIDE_CONFIG over it", () => {
    const creds = resolveStoreCredentials(s3, undefined, undefined, {
      STORAGE_CONFIG: KSERVE_SAMPLE.loggerS3,
      STORAGE_OVERRIDE_CONFIG: JSON.stringify({ region: 'override-1' }),
    });
    expect(creds).toMatchObject({ accessKeyId: 's3admin', region: 'override-1' });
  });
});

describe('resolveStoreCredentials: errors name the key and the file, never a value', () => {
  it('a storage key the config lacks is CONFIG_INVALID listing the keys it has', () => {
    const err = errorOf(() => resolveStoreCredentials(s3, 'nope', KSERVE_SAMPLE, {}));
    expect(isInferlogError(err, 'CONFIG_INVALID')).toBe(true);
    expect((err as Error).message).toContain('"nope"');
    expect((err as Error).message).toContain('localS3, loggerS3');
  });

  it('an entry whose type names another store is CONFIG_INVALID', () => {
    const err = errorOf(() => resolveStoreCredentials(gs, 'loggerS3', KSERVE_SAMPLE, {}));
    expect(isInferlogError(err, 'CONFIG_INVALID')).toBe(true);
    expect((err as Error).message).toContain('type "s3"');
    expect((err as Error).message).toContain('gs://');
  });

  it('an entry that is not JSON is CONFIG_INVALID without echoing the entry', () => {
    const err = errorOf(() =>
      resolveStoreCredentials(s3, 'bad', { bad: '{"secret_access_key": "hunter2",' }, {}),
    );
    expect(isInferlogError(err, 'CONFIG_INVALID')).toBe(true);
    expect((err as Error).message).not.toContain('hunter2');
  });

  it("with no key named, KServe's fallbacks are used: default_<type>, then default; neither required", () => {
    expect(
      resolveStoreCredentials(s3, undefined, { default_s3: '{"region":"a"}', default: '{"region":"b"}' }, {}),
    ).toMatchObject({ region: 'a' });
    expect(resolveStoreCredentials(s3, undefined, { default: '{"region":"b"}' }, {})).toMatchObject({
      region: 'b',
    });
    expect(resolveStoreCredentials(s3, undefined, {}, {})).toEqual({ kind: 's3' });
  });
});

describe('resolveStoreCredentials: GCS', () => {
  it('STORAGE_EMULATOR_HOST and GOOGLE_APPLICATION_CREDENTIALS from the environment', () => {
    expect(
      resolveStoreCredentials(gs, undefined, undefined, {
        STORAGE_EMULATOR_HOST: 'http://127.0.0.1:4443',
        GOOGLE_APPLICATION_CREDENTIALS: '/var/secrets/gcloud-application-credentials.json',
      }),
    ).toEqual({
      kind: 'gs',
      endpoint: 'http://127.0.0.1:4443',
      keyFile: '/var/secrets/gcloud-application-credentials.json',
    });
  });

  it("a storage-config entry's base64_service_account is decoded, and replaces the key file", () => {
    const sa = { type: 'service_account', client_email: 'logger@p.iam.gserviceaccount.com', project_id: 'p' };
    const creds = resolveStoreCredentials(
      gs,
      'gcs',
      {
        gcs: JSON.stringify({
          type: 'gs',
          base64_service_account: Buffer.from(JSON.stringify(sa)).toString('base64'),
        }),
      },
      { GOOGLE_APPLICATION_CREDENTIALS: '/elsewhere.json' },
    );
    expect(creds).toEqual({ kind: 'gs', serviceAccount: sa });
  });
});

describe('resolveStoreCredentials: Azure', () => {
  it("KServe's names: AZURE_ACCOUNT_NAME, AZURE_SERVICE_URL, AZURE_STORAGE_ACCESS_KEY, AZURE_ACCESS_TOKEN + expiry", () => {
    expect(
      resolveStoreCredentials(abfs, undefined, undefined, {
        AZURE_ACCOUNT_NAME: 'acct',
        AZURE_SERVICE_URL: 'https://acct.blob.core.windows.net/',
        AZURE_STORAGE_ACCESS_KEY: 'a2V5',
        AZURE_ACCESS_TOKEN: 'tok',
        AZURE_ACCESS_EXPIRES_ON_SECONDS: '1800000000',
      }),
    ).toEqual({
      kind: 'abfs',
      accountName: 'acct',
      serviceUrl: 'https://acct.blob.core.windows.net/',
      accountKey: 'a2V5',
      accessToken: 'tok',
      accessTokenExpiresOnMs: 1_800_000_000_000,
    });
  });

  it("KServe's legacy AZ_* service-principal names work like the AZURE_* ones", () => {
    expect(
      resolveStoreCredentials(abfs, undefined, undefined, {
        AZ_TENANT_ID: 't',
        AZ_CLIENT_ID: 'c',
        AZ_CLIENT_SECRET: 's',
      }),
    ).toEqual({ kind: 'abfs', tenantId: 't', clientId: 'c', clientSecret: 's' });
  });

  it("an entry's own way to sign replaces the environment's: its connection string is not overruled by an env key", () => {
    const creds = resolveStoreCredentials(
      abfs,
      'az',
      { az: JSON.stringify({ type: 'azure', connection_string: 'UseDevelopmentStorage=true' }) },
      { AZURE_STORAGE_ACCESS_KEY: 'env-key', AZURE_ACCESS_TOKEN: 'env-token' },
    );
    expect(creds).toEqual({ kind: 'abfs', connectionString: 'UseDevelopmentStorage=true' });
  });

  it('an expiry that is not seconds since the epoch is CONFIG_INVALID', () => {
    const err = errorOf(() =>
      resolveStoreCredentials(abfs, undefined, undefined, {
        AZURE_ACCESS_TOKEN: 't',
        AZURE_ACCESS_EXPIRES_ON_SECONDS: 'soon',
      }),
    );
    expect(isInferlogError(err, 'CONFIG_INVALID')).toBe(true);
  });
});

describe('readStorageConfig: the Secret as a file or a mounted directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'inferlog-storage-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a Secret manifest: base64 data and stringData (which wins for the same key)', () => {
    const file = join(dir, 'secret.yaml');
    writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Secret',
        'metadata: { name: storage-config }',
        'type: Opaque',
        'data:',
        `  fromData: ${Buffer.from('{"type":"s3","region":"from-data"}').toString('base64')}`,
        `  both: ${Buffer.from('{"region":"data"}').toString('base64')}`,
        'stringData:',
        '  loggerS3: |',
        '    {"type": "s3", "bucket": "logger-output", "anonymous": "False"}',
        '  both: \'{"region":"stringData"}\'',
      ].join('\n'),
    );
    const config = readStorageConfig(file);
    expect(Object.keys(config).sort()).toEqual(['both', 'fromData', 'loggerS3']);
    expect(resolveStoreCredentials(s3, 'fromData', config, {})).toMatchObject({ region: 'from-data' });
    expect(resolveStoreCredentials(s3, 'both', config, {})).toMatchObject({ region: 'stringData' });
    expect(resolveStoreCredentials(s3, 'loggerS3', config, {})).toEqual({ kind: 's3', anonymous: false });
  });

  it('a plain JSON map of key → entry object', () => {
    const file = join(dir, 'plain.json');
    writeFileSync(file, JSON.stringify({ gcs: { type: 'gs', endpoint: 'http://127.0.0.1:1' } }));
    expect(resolveStoreCredentials(gs, 'gcs', readStorageConfig(file), {})).toEqual({
      kind: 'gs',
      endpoint: 'http://127.0.0.1:1',
    });
  });

  it("a mounted Secret volume: one file per key; Kubernetes' ..data links are skipped", () => {
    const mount = join(dir, 'mount');
    const real = join(mount, '..2026_11_30_12_00_00.000');
    mkdirSync(real, { recursive: true });
    writeFileSync(join(real, 'loggerS3'), KSERVE_SAMPLE.loggerS3);
    symlinkSync('..2026_11_30_12_00_00.000', join(mount, '..data'));
    symlinkSync('..data/loggerS3', join(mount, 'loggerS3'));
    const config = readStorageConfig(mount);
    expect(Object.keys(config)).toEqual(['loggerS3']);
    expect(resolveStoreCredentials(s3, 'loggerS3', config, {})).toMatchObject({ region: 'us-south' });
  });

  it('a missing file, or one that is not a map, is CONFIG_INVALID naming the file', () => {
    const missing = errorOf(() => readStorageConfig(join(dir, 'nope.yaml')));
    expect(isInferlogError(missing, 'CONFIG_INVALID')).toBe(true);
    expect((missing as Error).message).toContain('nope.yaml');
    const list = join(dir, 'list.yaml');
    writeFileSync(list, '- a\n- b\n');
    expect(
      isInferlogError(
        errorOf(() => readStorageConfig(list)),
        'CONFIG_INVALID',
      ),
    ).toBe(true);
  });
});
