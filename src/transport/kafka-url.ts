/**
 * A `kafka://` URL, validated once; the sink and the collector's Kafka source both read it:
 *
 *   kafka://broker1:9092/inference-log?brokers=broker2:9092,broker3:9092&acks=all&compression=gzip
 *
 * A URL holds one host:port, so further brokers go in `brokers=`. A host list without
 * ports (`kafka://b1,b2,b3/topic`) is accepted too; each gets the URL's port or 9092.
 * The path is the topic. Unknown parameters are rejected (a typo must not silently
 * change delivery guarantees).
 */
import { z } from 'zod';
import { InferlogError } from '../core/errors.js';

export const DEFAULT_KAFKA_PORT = 9092;

export interface KafkaUrlSettings {
  brokers: string[];
  topic: string;
  /** -1 = all in-sync replicas (default), 1 = the partition leader only. */
  acks: -1 | 1;
  compression: 'none' | 'gzip';
  /** Idempotent producer: the broker drops duplicates of kafkajs's own retries. Needs acks=all. */
  idempotent: boolean;
  clientId: string;
  /** TLS to the brokers; CA and verification come from the logger's tls options (caCertFile, skipVerify). */
  tls: boolean;
}

const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/;

const paramsSchema = z
  .object({
    brokers: z.string().optional(),
    acks: z.enum(['all', '-1', '1']).default('all'),
    compression: z.enum(['none', 'gzip']).default('none'),
    idempotent: z.enum(['true', 'false']).optional(),
    tls: z.enum(['true', 'false']).default('false'),
    clientId: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,100}$/, 'letters, digits, ".", "_" and "-" only')
      .default('inferlog'),
  })
  .strict();

function invalid(url: URL, problem: string): InferlogError {
  return new InferlogError('CONFIG_INVALID', `logger url ${redact(url)}: ${problem}`);
}

/** The URL as it may appear in logs: without a password. */
export function redact(url: URL): string {
  if (!url.password) return url.href;
  const copy = new URL(url.href);
  copy.password = '***';
  return copy.href;
}

/** Parses and validates a `kafka://` URL; throws CONFIG_INVALID saying what to fix. */
export function parseKafkaUrl(url: URL): KafkaUrlSettings {
  if (url.protocol !== 'kafka:') throw invalid(url, `expected kafka://, got ${url.protocol}//`);
  if (url.username || url.password)
    throw invalid(url, 'credentials in the URL are not supported (SASL is not implemented)');
  if (url.hash) throw invalid(url, 'a #fragment means nothing here; remove it');

  const topic = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!TOPIC.test(topic)) {
    throw invalid(url, `the path must be the topic name (1-249 of A-Z a-z 0-9 . _ -), got "${topic}"`);
  }

  const raw: Record<string, string> = {};
  for (const [key, value] of url.searchParams) {
    if (key in raw) throw invalid(url, `parameter "${key}" is given twice`);
    raw[key] = value;
  }
  const parsed = paramsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `parameter "${issue.path.join('.')}"` : 'parameters';
    const what =
      issue?.code === 'unrecognized_keys'
        ? `unknown parameter(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}; known: brokers, acks, compression, idempotent, clientId, tls`
        : `${where}: ${issue?.message ?? 'invalid'}`;
    throw invalid(url, what);
  }
  const params = parsed.data;

  const brokers: string[] = [];
  const port = url.port === '' ? DEFAULT_KAFKA_PORT : Number(url.port);
  for (const host of url.hostname.split(',')) {
    if (host === '') throw invalid(url, 'name at least one broker: kafka://host:9092/topic');
    brokers.push(`${host}:${port}`);
  }
  for (const extra of (params.brokers ?? '').split(',')) {
    const broker = extra.trim();
    if (broker === '') continue;
    const m = HOST_PORT.exec(broker);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) {
      throw invalid(url, `brokers: "${broker}" is not host:port`);
    }
    brokers.push(broker);
  }

  const acks = params.acks === '1' ? 1 : -1;
  const idempotent = params.idempotent === undefined ? acks === -1 : params.idempotent === 'true';
  if (idempotent && acks !== -1) throw invalid(url, 'idempotent=true needs acks=all');

  return {
    brokers: [...new Set(brokers)],
    topic,
    acks,
    compression: params.compression,
    idempotent,
    clientId: params.clientId,
    tls: params.tls === 'true',
  };
}

/** For the config validator: a human message when the URL is unusable, else undefined. */
export function kafkaUrlProblem(url: string): string | undefined {
  try {
    parseKafkaUrl(new URL(url));
    return undefined;
  } catch (err) {
    if (err instanceof InferlogError) return err.message;
    return `"${url}" is not a URL: a URL holds one host:port, name further brokers with ?brokers=host:port,host:port`;
  }
}
