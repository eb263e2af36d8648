/**
 * S3 and its look-alikes (MinIO, Ceph, R2, moto) as an ObjectStore, with KServe's environment
 * (pkg/agent/storage/utils.go GetProvider, pkg/credentials/s3), so the same pod spec works:
 *
 *   AWS_ENDPOINT_URL          endpoint of an S3-compatible server (else AWS's)
 *   AWS_DEFAULT_REGION        region (KServe's variable; AWS_REGION too, then us-east-1)
 *   S3_USER_VIRTUAL_BUCKET    `false` → path-style requests (KServe's spelling, sic)
 *   S3_USE_ACCELERATE         `true`  → the transfer-acceleration endpoint
 *   awsAnonymousCredential    `true`  → unsigned requests (public buckets)
 *
 * Credentials come from the standard chain (fromNodeProviderChain): AWS_ACCESS_KEY_ID /
 * AWS_SECRET_ACCESS_KEY (what KServe's storage secret injects), web identity (IRSA), SSO and
 * profiles, the ECS and EC2 instance metadata endpoints. Nothing is read until the first request.
 *
 * A put of a large body goes up as a multipart upload (lib-storage Upload); smaller ones are one
 * PutObject. Failures are classified for the pipeline's retry (classifyS3Error).
 */
import { InferlogError } from '../../core/errors.js';
import type { BlobLocation, ObjectInfo, ObjectStore, PutOptions } from './object-store.js';

/** Above this, a put is a multipart upload (S3's minimum part is 5 MiB). */
export const MULTIPART_THRESHOLD = 16 * 1024 * 1024;
const PART_SIZE = 8 * 1024 * 1024;

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

export interface S3Environment {
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
  useAccelerateEndpoint: boolean;
  anonymous: boolean;
}

/** KServe's S3 variables → client settings (utils.go GetProvider). */
export function s3Environment(env: NodeJS.ProcessEnv = process.env): S3Environment {
  const endpoint = env.AWS_ENDPOINT_URL;
  return {
    ...(endpoint ? { endpoint } : {}),
    region: env.AWS_DEFAULT_REGION || env.AWS_REGION || 'us-east-1',
    forcePathStyle: (env.S3_USER_VIRTUAL_BUCKET ?? '').toLowerCase() === 'false',
    useAccelerateEndpoint: (env.S3_USE_ACCELERATE ?? '').toLowerCase() === 'true',
    anonymous: (env.awsAnonymousCredential ?? '').toLowerCase() === 'true',
  };
}

export async function openS3ObjectStore(
  location: BlobLocation,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ObjectStore> {
  // The SDK warns on Node < 22 about *future* SDK releases; the lockfile pins one that runs on 20,
  // so the warning would only alarm operators reading the agent's log. The user's setting wins.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const s3 = await import('@aws-sdk/client-s3');
  const settings = s3Environment(env);
  const { fromNodeProviderChain } = await import('@aws-sdk/credential-providers');
  const client = new s3.S3Client({
    region: settings.region,
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    forcePathStyle: settings.forcePathStyle,
    useAccelerateEndpoint: settings.useAccelerateEndpoint,
    // The pipeline retries (with its own backoff and loss counting); one SDK retry smooths blips.
    maxAttempts: 2,
    ...(settings.anonymous
      ? { signer: { sign: (request: unknown) => Promise.resolve(request) } as never }
      : { credentials: fromNodeProviderChain() }),
  });
  const bucket = location.bucket;
  const where = `s3://${bucket}`;

  return {
    url: `s3://${bucket}${location.prefix ? '/' + location.prefix : ''}`,
    async put(key: string, body: Uint8Array, options?: PutOptions): Promise<void> {
      const signal = options?.signal;
      try {
        if (body.byteLength <= MULTIPART_THRESHOLD) {
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
          partSize: PART_SIZE,
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
