/**
 * The OTLP logs sink's URL and environment, validated once (pure: no I/O, so `inferlog validate`
 * can call it):
 *
 *   otlp+http://otel-collector:4318          → POST http://otel-collector:4318/v1/logs   (OTLP/HTTP, protobuf)
 *   otlp+https://otlp.example/otlp/v1/logs   → POST https://otlp.example/otlp/v1/logs    (a path is used as given)
 *   otlp+grpc://otel-collector:4317          → gRPC LogsService/Export over HTTP/2 (cleartext, h2c)
 *
 * The standard OpenTelemetry environment variables apply (the SDK's names and formats):
 * `OTEL_EXPORTER_OTLP_LOGS_HEADERS` or else `OTEL_EXPORTER_OTLP_HEADERS` (`key=value,…`, values
 * URL-decoded) are sent with every export; `OTEL_RESOURCE_ATTRIBUTES` and `OTEL_SERVICE_NAME` fill
 * resource attributes the exchange does not set (encoder.ts). The endpoint itself is the
 * logger URL: KServe users configure one URL per InferenceService, so an
 * `OTEL_EXPORTER_OTLP_ENDPOINT` does not silently redirect it.
 */
import { InferlogError } from '../../core/errors.js';

export type OtlpProtocol = 'http' | 'https' | 'grpc';

export interface OtlpSinkConfig {
  protocol: OtlpProtocol;
  /** `http(s)://host:port`: what the connection is keyed on. */
  origin: string;
  /** HTTP: the path logs are POSTed to. gRPC: the service method path. */
  path: string;
  /** Extra request headers from OTEL_EXPORTER_OTLP(_LOGS)_HEADERS, lower-case names. */
  headers: Readonly<Record<string, string>>;
}

export const OTLP_SCHEMES = ['otlp+http', 'otlp+https', 'otlp+grpc'] as const;
export const GRPC_LOGS_PATH = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';
const DEFAULT_HTTP_PATH = '/v1/logs';
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Headers an exporter must not be told to override: they are the protocol. */
const RESERVED = new Set(['content-type', 'content-length', 'host', 'te', 'transfer-encoding', 'connection']);

function invalid(problem: string): InferlogError {
  return new InferlogError('CONFIG_INVALID', `otlp sink: ${problem}`);
}

/**
 * `OTEL_EXPORTER_OTLP_HEADERS` as the OpenTelemetry spec defines it: comma-separated `key=value`,
 * both URL-encoded. A malformed entry is a configuration error (a silently dropped auth header
 * would turn every export into a 401).
 */
export function parseOtlpHeaders(text: string | undefined, variable: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (text === undefined || text.trim() === '') return out;
  for (const part of text.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    let name: string;
    let value: string;
    try {
      name = decodeURIComponent(part.slice(0, eq).trim()).toLowerCase();
      value = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      throw invalid(`${variable}: "${part.trim().slice(0, 40)}" is not URL-encoded key=value`);
    }
    if (eq <= 0 || !HEADER_NAME.test(name))
      throw invalid(`${variable}: "${part.trim().slice(0, 40)}" is not key=value with a header name`);
    if (/[\r\n\0]/.test(value)) throw invalid(`${variable}: the value of ${name} has a line break`);
    if (RESERVED.has(name) || name.startsWith(':')) throw invalid(`${variable}: ${name} cannot be set`);
    out[name] = value;
  }
  return out;
}

export function otlpSinkConfig(url: URL, env: NodeJS.ProcessEnv = process.env): OtlpSinkConfig {
  const scheme = url.protocol.replace(/:$/, '');
  if (!(OTLP_SCHEMES as readonly string[]).includes(scheme))
    throw invalid(`unsupported URL scheme "${url.protocol}" in ${url.href}`);
  if (url.username || url.password)
    throw invalid(
      `credentials in the logger URL are not supported (${url.host}): use OTEL_EXPORTER_OTLP_HEADERS`,
    );
  if (url.hostname === '') throw invalid(`${url.href} has no host`);
  if (url.search !== '' || url.hash !== '')
    throw invalid(
      `${url.href}: query parameters are not supported (OTLP settings come from OTEL_* variables)`,
    );
  const protocol = scheme.slice('otlp+'.length) as OtlpProtocol;
  const headerVar =
    env.OTEL_EXPORTER_OTLP_LOGS_HEADERS !== undefined
      ? 'OTEL_EXPORTER_OTLP_LOGS_HEADERS'
      : 'OTEL_EXPORTER_OTLP_HEADERS';
  const headers = Object.freeze(parseOtlpHeaders(env[headerVar], headerVar));
  const web = protocol === 'https' ? 'https' : 'http';
  const origin = `${web}://${url.host}`;
  if (protocol === 'grpc') {
    if (url.pathname !== '' && url.pathname !== '/')
      throw invalid(`${url.href}: a gRPC endpoint has no path (the service is fixed)`);
    return Object.freeze({ protocol, origin, path: GRPC_LOGS_PATH, headers });
  }
  const path = url.pathname === '' || url.pathname === '/' ? DEFAULT_HTTP_PATH : url.pathname;
  return Object.freeze({ protocol, origin, path, headers });
}
