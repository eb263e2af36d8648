/**
 * S3 and its look-alikes (MinIO, Ceph, R2, moto) as an ObjectStore, with KServe's settings
 * (pkg/agent/storage/utils.go GetProvider, pkg/credentials/s3), so the same pod spec works.
 * They arrive as S3Credentials from resolveStoreCredentials (credentials.ts), the one place that
 * reads KServe's environment and storage-config Secret:
 *
 *   AWS_ENDPOINT_URL / endpoint_url        endpoint of an S3-compatible server (else AWS's)
 *   AWS_DEFAULT_REGION / region            region (AWS_REGION too, then us-east-1)
 *   S3_USER_VIRTUAL_BUCKET=false           path-style requests (KServe's spelling, sic)
 *   S3_USE_ACCELERATE=true                 the transfer-acceleration endpoint
 *   awsAnonymousCredential / anonymous     unsigned requests (public buckets)
 *   access_key_id + secret_access_key      static keys (+ session_token)
 *   S3_VERIFY_SSL=0 / verify_ssl           skip TLS verification (only when asked)
 *   AWS_CA_BUNDLE / ca_bundle              extra CAs to trust (a private CA)
 *
 * Without static keys, credentials come from the standard chain (fromNodeProviderChain):
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (what KServe's storage secret injects), web identity
 * (IRSA), SSO and profiles, the ECS and EC2 instance metadata endpoints. Nothing is read until
 * the first request.
 *
 * A body over the part size goes up as a multipart upload (lib-storage Upload); smaller ones are
 * one PutObject. Keys pass checkObjectKey first. Failures are classified for the pipeline's retry
 * (classifyS3Error).
 */
import { readFileSync } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import { rootCertificates } from 'node:tls';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { InferlogError } from '../../core/errors.js';
import { resolveStoreCredentials } from './credentials.js';
import { checkObjectKey } from './keys.js';
import {
  DEFAULT_PART_SIZE_BYTES,
  type BlobLocation,
  type ObjectInfo,
  type ObjectStore,
  type ObjectStoreOptions,
  type PutOptions,
  type S3Credentials,
} from './object-store.js';

/** S3's smallest part (every part of a multipart upload but the last). */
const MIN_PART_SIZE = 5 * 1024 * 1024;

const THROTTLE_NAMES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestLimitExceeded',
  'TooManyRequestsException',
]);
/** Credential trouble a refresh (IRSA token rotation, clock sync) can cure: retry, do not drop. */
const TRANSIENT_AUTH_NAMES = new Set([
  'ExpiredToken',
  'ExpiredTokenException',
  'RequestExpired',
  'RequestTimeTooSkewed',
  'CredentialsProviderError',
]);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

interface AwsErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
  $response?: { headers?: Record<string, string> };
}

/** An S3 SDK failure → InferlogError: throttling, 5xx, 4xx, network, timeout. */
export function classifyS3Error(err: unknown, where: string, signal?: AbortSignal): InferlogError {
  if (err instanceof InferlogError) return err;
  if (signal?.aborted) {
    if (signal.reason instanceof InferlogError) return signal.reason;
    return new InferlogError('SINK_TIMEOUT', `${where} did not answer before the send was aborted`, {
      cause: err,
    });
  }
  const e = (typeof err === 'object' && err !== null ? err : {}) as AwsErrorShape;
  const name = e.name ?? '';
  const status = e.$metadata?.httpStatusCode;
  const message = `${where}: ${name ? `${name}: ` : ''}${e.message ?? String(err)}`.slice(0, 1000);
  if (THROTTLE_NAMES.has(name) || e.$retryable?.throttling === true || status === 429 || status === 503) {
    const ra = e.$response?.headers?.['retry-after'];
    const retryAfterMs = ra !== undefined && /^\d+$/.test(ra) ? Number(ra) * 1000 : undefined;
    return new InferlogError('SINK_THROTTLED', message, { cause: err, retryAfterMs, status });
  }
  if (TRANSIENT_AUTH_NAMES.has(name))
    return new InferlogError('SINK_UNREACHABLE', message, { cause: err, status });
  // A bucket that does not exist *yet* (created by a later deploy step, or a store that restarted
  // empty): the exchanges wait in the spool, bounded and counted, instead of being dropped.
  if (name === 'NoSuchBucket')
    return new InferlogError('SINK_UNREACHABLE', `${message} (the exchanges wait in the buffer)`, {
      cause: err,
      status,
    });
  if (name === 'TimeoutError' || name === 'RequestTimeout' || status === 408 || e.code === 'ETIMEDOUT')
    return new InferlogError('SINK_TIMEOUT', message, { cause: err, status });
  if (status !== undefined && status >= 500)
    return new InferlogError('SINK_SERVER_ERROR', message, { cause: err, status });
  if (status !== undefined && status >= 300)
    return new InferlogError('SINK_REJECTED', message, { cause: err, status });
  if (e.code !== undefined && NETWORK_CODES.has(e.code))
    return new InferlogError('SINK_UNREACHABLE', message, { cause: err });
  // No HTTP answer and no known code: a network failure by elimination; retrying can help.
  return new InferlogError('SINK_UNREACHABLE', message, { cause: err });
}

/**
 * Unsigned requests (KServe's awsAnonymousCredential, aws.AnonymousCredentials in Go). The SDK
 * picks an auth scheme per request and resolves its identity before signing, so a no-op signer
 * alone still fails with "Could not load credentials": the only scheme offered is smithy's
 * noAuth, whose identity is empty and whose signer leaves the request as it is.
 */
const ANONYMOUS: Pick<S3ClientConfig, 'httpAuthSchemeProvider' | 'httpAuthSchemes'> = {
  httpAuthSchemeProvider: (() => [{ schemeId: 'smithy.api#noAuth' }]) as never,
  httpAuthSchemes: [
    {
      schemeId: 'smithy.api#noAuth',
      identityProvider: () => async () => ({}),
      signer: { sign: async (request) => request },
    },
  ],
};

/**
 * S3Credentials → the client's settings. Everything comes from resolveStoreCredentials (KServe's
 * env names and storage-config entry); this reads no environment of its own. What is not set is
 * left to the AWS SDK's defaults: the region us-east-1, keys from its provider chain.
 */
async function clientConfig(c: S3Credentials): Promise<S3ClientConfig> {
  const where = `the S3 credentials${c.endpoint ? ` for ${c.endpoint}` : ''}`;
  if ((c.accessKeyId === undefined) !== (c.secretAccessKey === undefined))
    // Half a key pair would fall back to the provider chain and sign as someone else, or fail
    // much later with a puzzling 403.
    throw new InferlogError(
      'CONFIG_INVALID',
      `${where} give ${c.accessKeyId === undefined ? 'secret_access_key without access_key_id' : 'access_key_id without secret_access_key'}; give both or neither`,
      { details: { option: 'storageConfig' } },
    );
  let credentials: S3ClientConfig['credentials'];
  if (c.anonymous === true) credentials = undefined;
  else if (c.accessKeyId !== undefined && c.secretAccessKey !== undefined)
    credentials = {
      accessKeyId: c.accessKeyId,
      secretAccessKey: c.secretAccessKey,
      ...(c.sessionToken !== undefined ? { sessionToken: c.sessionToken } : {}),
    };
  else {
    const { fromNodeProviderChain } = await import('@aws-sdk/credential-providers');
    credentials = fromNodeProviderChain();
  }
  // TLS: verification stays on unless verifySsl is explicitly false; a CA bundle adds to the
  // system's roots (a private CA for MinIO or Ceph) rather than replacing them.
  let httpsAgent: HttpsAgent | undefined;
  if (c.verifySsl === false || c.caBundleFile !== undefined) {
    let ca: string[] | undefined;
    if (c.caBundleFile !== undefined) {
      try {
        ca = [...rootCertificates, readFileSync(c.caBundleFile, 'utf8')];
      } catch (err) {
        throw new InferlogError(
          'CONFIG_INVALID',
          `S3 CA bundle ${c.caBundleFile} (AWS_CA_BUNDLE / ca_bundle) cannot be read: ${(err as Error).message}`,
          { cause: err, details: { option: 'storageConfig' } },
        );
      }
    }
    httpsAgent = new HttpsAgent({
      keepAlive: true,
      ...(c.verifySsl === false ? { rejectUnauthorized: false } : {}),
      ...(ca ? { ca } : {}),
    });
  }
  return {
    region: c.region ?? 'us-east-1',
    ...(c.endpoint ? { endpoint: c.endpoint } : {}),
    forcePathStyle: c.forcePathStyle === true,
    useAccelerateEndpoint: c.useAccelerate === true,
    // The pipeline retries (with its own backoff and loss counting); one SDK retry smooths blips.
    maxAttempts: 2,
    ...(httpsAgent ? { requestHandler: { httpsAgent } } : {}),
    ...(c.anonymous === true ? ANONYMOUS : { credentials }),
  };
}

/**
 * Opens `location` with `options.credentials` (resolveStoreCredentials: the environment with
 * KServe's names, overridden by a storage-config entry); without them, the environment's.
 */
export async function openS3ObjectStore(
  location: BlobLocation,
  options: ObjectStoreOptions = {},
): Promise<ObjectStore> {
  const given = options.credentials ?? resolveStoreCredentials(location);
  if (given !== undefined && given.kind !== 's3')
    throw new InferlogError(
      'CONFIG_INVALID',
      `credentials for ${given.kind}:// were given to open an s3:// store`,
      {
        details: { option: 'storageKey' },
      },
    );
  // The SDK warns on Node < 22 about *future* SDK releases; the lockfile pins one that runs on 20,
  // so the warning would only alarm operators reading the agent's log. The user's setting wins.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const s3 = await import('@aws-sdk/client-s3');
  const client = new s3.S3Client(await clientConfig(given ?? { kind: 's3' }));
  // S3 refuses parts under 5 MiB (except the last), so a smaller setting is raised to that.
  const partSize = Math.max(MIN_PART_SIZE, options.partSizeBytes ?? DEFAULT_PART_SIZE_BYTES);
  const bucket = location.bucket;
  const where = `s3://${bucket}`;

  return {
    url: `s3://${bucket}${location.prefix ? '/' + location.prefix : ''}`,
    async put(key: string, body: Uint8Array, options?: PutOptions): Promise<void> {
      checkObjectKey(key, `${where}/${key}`);
      const signal = options?.signal;
      try {
        if (signal?.aborted) throw signal.reason;
        if (body.byteLength <= partSize) {
          await client.send(
            new s3.PutObjectCommand({
              Bucket: bucket,
              Key: key,
              Body: body,
              ContentLength: body.byteLength,
              ...(options?.contentType ? { ContentType: options.contentType } : {}),
            }),
            signal ? { abortSignal: signal } : {},
          );
          return;
        }
        const { Upload } = await import('@aws-sdk/lib-storage');
        const upload = new Upload({
          client,
          params: {
            Bucket: bucket,
            Key: key,
            Body: body,
            ...(options?.contentType ? { ContentType: options.contentType } : {}),
          },
          partSize,
          queueSize: 4,
          // A failed multipart upload is aborted, so no orphan parts are billed.
          leavePartsOnError: false,
        });
        const onAbort = (): void => void upload.abort().catch(() => undefined);
        signal?.addEventListener('abort', onAbort, { once: true });
        try {
          await upload.done();
        } finally {
          signal?.removeEventListener('abort', onAbort);
        }
      } catch (err) {
        throw classifyS3Error(err, `${where}/${key}`, signal);
      }
    },
    async get(key: string, signal?: AbortSignal): Promise<Uint8Array> {
      checkObjectKey(key, `${where}/${key}`);
      try {
        const out = await client.send(
          new s3.GetObjectCommand({ Bucket: bucket, Key: key }),
          signal ? { abortSignal: signal } : {},
        );
        if (!out.Body) return new Uint8Array(0);
        return await out.Body.transformToByteArray();
      } catch (err) {
        const name = (err as AwsErrorShape).name;
        if (name === 'NoSuchKey' || (err as AwsErrorShape).$metadata?.httpStatusCode === 404)
          throw new InferlogError('NOT_FOUND', `no object ${key} in ${where}`, { status: 404 });
        throw classifyS3Error(err, `${where}/${key}`, signal);
      }
    },
    async *list(prefix: string, signal?: AbortSignal): AsyncIterable<ObjectInfo> {
      let token: string | undefined;
      do {
        let page;
        try {
          page = await client.send(
            new s3.ListObjectsV2Command({
              Bucket: bucket,
              Prefix: prefix,
              ...(token ? { ContinuationToken: token } : {}),
            }),
            signal ? { abortSignal: signal } : {},
          );
        } catch (err) {
          throw classifyS3Error(err, where, signal);
        }
        for (const o of page.Contents ?? [])
          if (o.Key !== undefined) yield { key: o.Key, size: Number(o.Size ?? 0) };
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    },
    async close(): Promise<void> {
      client.destroy();
    },
  };
}
