/**
 * The http(s) sink's settings, validated once when the sink is built.
 *
 *   logger.url + SinkOptions ──zod──▶ HttpSinkConfig (frozen) ──▶ client (pool, TLS) / sink (batching)
 */
import { z } from 'zod';
import { InferlogError } from '../../core/errors.js';
import type { SinkOptions } from '../sink.js';

/** How many exchanges one send takes in per-event mode; their events go out concurrently over the pool. */
export const DEFAULT_PER_EVENT_MAX_BATCH = 32;
/** Keep-alive connections to the destination. */
export const DEFAULT_CONNECTIONS = 8;

const optionsSchema = z.object({
  batchSize: z.number().int().min(1),
  batchIntervalMs: z.number().min(0),
  timeoutMs: z.number().positive(),
  tls: z.object({
    caCertFile: z.string().min(1).optional(),
    skipVerify: z.boolean(),
    clientCertFile: z.string().min(1).optional(),
    clientKeyFile: z.string().min(1).optional(),
  }),
  tokenFile: z.string().min(1).optional(),
});

export interface HttpSinkConfig {
  /** `http://host:port` — what the connection pool is keyed on. */
  origin: string;
  /** Path and query every event is POSTed to, e.g. `/` or `/default/default` (a Knative broker). */
  path: string;
  https: boolean;
  /** batchSize > 1: one POST of `application/cloudevents-batch+json` per send. */
  batched: boolean;
  /** Exchanges per send. */
  maxBatch: number;
  timeoutMs: number;
  connections: number;
  tls: {
    caCertFile: string | undefined;
    skipVerify: boolean;
    clientCertFile: string | undefined;
    clientKeyFile: string | undefined;
  };
  /** Sent as `Authorization: Bearer`, read from this file and re-read when it changes. */
  tokenFile: string | undefined;
}

export function httpSinkConfig(url: URL, options: SinkOptions): HttpSinkConfig {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InferlogError(
      'CONFIG_INVALID',
      `http sink: unsupported URL scheme "${url.protocol}" in ${url.href}`,
    );
  }
  if (url.username || url.password) {
    throw new InferlogError(
      'CONFIG_INVALID',
      `http sink: credentials in the logger URL are not supported (${url.host})`,
    );
  }
  const parsed = optionsSchema.safeParse(options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InferlogError(
      'CONFIG_INVALID',
      `http sink ${url.href}: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid options'}`,
    );
  }
  const o = parsed.data;
  return Object.freeze({
    origin: url.origin,
    path: (url.pathname || '/') + url.search,
    https: url.protocol === 'https:',
    batched: o.batchSize > 1,
    maxBatch: o.batchSize > 1 ? o.batchSize : DEFAULT_PER_EVENT_MAX_BATCH,
    timeoutMs: o.timeoutMs,
    connections: DEFAULT_CONNECTIONS,
    tls: Object.freeze({
      caCertFile: o.tls.caCertFile,
      skipVerify: o.tls.skipVerify,
      clientCertFile: o.tls.clientCertFile,
      clientKeyFile: o.tls.clientKeyFile,
    }),
    tokenFile: o.tokenFile,
  });
}
