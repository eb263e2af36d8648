/**
 * Which `logger.url` schemes inferlog writes to, and the pure checks of each URL: no factory,
 * no client library, no I/O. The config loader calls `sinkUrlProblem` at the edge, so
 * `inferlog validate` reports a bad sink URL without loading kafkajs or undici; the registry
 * builds the sink later from the same, already-checked URL (check at the edge, build later).
 */
import { InferlogError } from '../core/errors.js';
import { kafkaUrlProblem } from '../transport/kafka-url.js';
import { blobSinkConfig } from './blob/config.js';
import { fileSinkConfig } from './file/config.js';
import { otlpSinkConfig } from './otlp/config.js';

export const SINK_SCHEMES = [
  'stdout',
  'file',
  'http',
  'https',
  'kafka',
  'otlp+http',
  'otlp+https',
  'otlp+grpc',
  's3',
  'gs',
  'abfs',
] as const;
export type SinkScheme = (typeof SINK_SCHEMES)[number];

const supported = (): string => SINK_SCHEMES.join(', ');

/**
 * Whether the sink for this URL dials out with the client TLS settings (transport/tls.ts): the
 * http sink for https://, and the Kafka sink (its `tls` parameter decides). Only these read a CA
 * file, as KServe's agent reads its CA only for an https log URL (pkg/logger/worker.go).
 */
export function sinkUsesClientTls(url: string): boolean {
  return /^(https|kafka):/i.test(url);
}

/** A human message when the logger URL is unusable, else undefined. `stdout` and '' mean stdout. */
export function sinkUrlProblem(url: string): string | undefined {
  if (url === '' || url === 'stdout') return undefined;
  // kafka:// has parameters of its own (and a broker list that is not a valid URL authority).
  if (url.startsWith('kafka://')) return kafkaUrlProblem(url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `"${url}" is not a URL; supported: ${supported()} (e.g. http://collector:8090/ or stdout)`;
  }
  const scheme = parsed.protocol.replace(/:$/, '');
  switch (scheme) {
    case 'stdout':
      return undefined;
    case 'http':
    case 'https':
      if (parsed.username || parsed.password)
        return `credentials in the logger URL are not supported (${parsed.host}): they would be logged and sent in clear`;
      return undefined;
    case 'otlp+http':
    case 'otlp+https':
    case 'otlp+grpc':
      try {
        otlpSinkConfig(parsed);
        return undefined;
      } catch (err) {
        if (err instanceof InferlogError) return err.message;
        throw err;
      }
    case 'otlp':
      return `otlp:// needs a transport: otlp+http://, otlp+https:// or otlp+grpc:// (e.g. otlp+http://otel-collector:4318)`;
    case 'file':
      try {
        fileSinkConfig(parsed);
        return undefined;
      } catch (err) {
        if (err instanceof InferlogError) return err.message;
        throw err;
      }
    case 's3':
    case 'gs':
    case 'abfs':
      // KServe's blob-store logger (logger.storage): the URL names the bucket and key prefix.
      if (parsed.password)
        return `credentials in the logger URL are not supported (${scheme}://): use the environment or a storage secret`;
      try {
        blobSinkConfig(url, { batchSize: 1 });
        return undefined;
      } catch (err) {
        if (err instanceof InferlogError) return err.message;
        throw err;
      }
    default:
      return `unsupported URL scheme "${scheme}:"; supported schemes: ${supported()}`;
  }
}
