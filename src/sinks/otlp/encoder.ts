/**
 * Exchange → one OTLP LogRecord, serialised with the OpenTelemetry JS protobuf serializer
 * (`@opentelemetry/otlp-transformer`): the same bytes the SDK's OTLP exporters send.
 *
 *   Exchange ──toLogRecord──▶ ReadableLogRecord (resource per ExchangeSource) ──serialize──▶ ExportLogsServiceRequest
 *
 * What a record holds (docs/opentelemetry.md, "OTLP logs"):
 * - time = request arrival, observed time = response end; trace id, span id and flags from the
 *   exchange's W3C trace context (the caller's span, or inferlog's span when spans are on);
 * - severity follows the JSON line's level: info → INFO (9), warn (4xx) → WARN (13), error (5xx,
 *   no response) → ERROR (17);
 * - body = the JSON line (formats/json-line.ts) as a map: the same fields stdout shows;
 * - attributes: HTTP semantic conventions (`http.request.method`, `url.path`, `url.query`,
 *   `http.response.status_code`, `error.type`) and `inferlog.*` (exchange id, model, component,
 *   status class, latency, sample weight, mode);
 * - resource: `service.name` = the inference service, `k8s.namespace.name`, `inferlog.component`,
 *   `inferlog.endpoint`, over whatever `OTEL_RESOURCE_ATTRIBUTES` / `OTEL_SERVICE_NAME` set.
 */
import type { Attributes } from '@opentelemetry/api';
import { ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import { envDetector, resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVICE_NAME,
  ATTR_URL_PATH,
  ATTR_URL_QUERY,
} from '@opentelemetry/semantic-conventions';
import type { Exchange, ExchangeSource } from '../../core/exchange.js';
import { latencyMs } from '../../core/exchange.js';
import { levelForStatus, toJsonLine } from '../../formats/json-line.js';

/** Incubating semantic conventions, copied as the package advises (they are not stable exports). */
export const ATTR_K8S_NAMESPACE_NAME = 'k8s.namespace.name';

/** The exchange attributes inferlog adds, for spans and log records alike. */
export const INFERLOG_ATTR = {
  exchangeId: 'inferlog.exchange.id',
  model: 'inferlog.model',
  inferenceService: 'inferlog.inference_service',
  namespace: 'inferlog.namespace',
  component: 'inferlog.component',
  endpoint: 'inferlog.endpoint',
  statusClass: 'inferlog.status_class',
  latencyMs: 'inferlog.latency_ms',
  sampleWeight: 'inferlog.sample_weight',
  mode: 'inferlog.mode',
} as const;

const SEVERITY = {
  info: { number: 9, text: 'INFO' },
  warn: { number: 13, text: 'WARN' },
  error: { number: 17, text: 'ERROR' },
} as const;

/** `2xx`…`5xx`, or `error` when the client got no HTTP response. */
export function statusClass(ex: Pick<Exchange, 'status' | 'error'>): string {
  if (ex.status === 0) return 'error';
  return `${Math.floor(ex.status / 100)}xx`;
}

/** HTTP and inferlog attributes of one exchange: shared by its log record and its span. */
export function exchangeAttributes(ex: Exchange): Attributes {
  const q = ex.url.indexOf('?');
  const a: Attributes = {
    [ATTR_HTTP_REQUEST_METHOD]: ex.method,
    [ATTR_URL_PATH]: q < 0 ? ex.url : ex.url.slice(0, q),
    [INFERLOG_ATTR.exchangeId]: ex.id,
    [INFERLOG_ATTR.model]: ex.source.inferenceService,
    [INFERLOG_ATTR.inferenceService]: ex.source.inferenceService,
    [INFERLOG_ATTR.namespace]: ex.source.namespace,
    [INFERLOG_ATTR.component]: ex.source.component,
    [INFERLOG_ATTR.statusClass]: statusClass(ex),
    [INFERLOG_ATTR.latencyMs]: latencyMs(ex),
    [INFERLOG_ATTR.sampleWeight]: ex.sampleWeight,
    [INFERLOG_ATTR.mode]: ex.mode,
  };
  // The query as logged: secret parameters were already withheld at capture (capture/query-policy.ts).
  if (q >= 0) a[ATTR_URL_QUERY] = ex.url.slice(q + 1);
  if (ex.status !== 0) a[ATTR_HTTP_RESPONSE_STATUS_CODE] = ex.status;
  // HTTP conventions: error.type is the error's class, or the status code for a server error.
  if (ex.error) a[ATTR_ERROR_TYPE] = ex.error.code;
  else if (ex.status >= 500) a[ATTR_ERROR_TYPE] = String(ex.status);
  return a;
}

let envResource: Resource | undefined;

/** OTEL_RESOURCE_ATTRIBUTES / OTEL_SERVICE_NAME, read once (the SDK's own parser). */
function fromEnvironment(): Resource {
  envResource ??= resourceFromAttributes(envDetector.detect().attributes ?? {});
  return envResource;
}

const resources = new WeakMap<ExchangeSource, Resource>();

/**
 * The resource of an exchange's source, one object per ExchangeSource: the serializer groups
 * records by resource identity, so a batch from one service is one ResourceLogs.
 */
export function resourceOf(src: ExchangeSource): Resource {
  let r = resources.get(src);
  if (r === undefined) {
    const own: Attributes = {
      [ATTR_SERVICE_NAME]: src.inferenceService,
      [ATTR_K8S_NAMESPACE_NAME]: src.namespace,
      [INFERLOG_ATTR.component]: src.component,
    };
    if (src.endpoint !== '') own[INFERLOG_ATTR.endpoint] = src.endpoint;
    r = fromEnvironment().merge(resourceFromAttributes(own));
    resources.set(src, r);
  }
  return r;
}

const SCOPE = { name: 'inferlog', version: '0.1.0' };

function hrTime(epochMs: number): [number, number] {
  const s = Math.floor(epochMs / 1000);
  return [s, Math.min(999_999_999, Math.round((epochMs - s * 1000) * 1e6))];
}

export function toLogRecord(ex: Exchange): ReadableLogRecord {
  const level = levelForStatus(ex.status);
  const record: ReadableLogRecord = {
    hrTime: hrTime(ex.requestTime),
    hrTimeObserved: hrTime(ex.responseTime),
    severityNumber: SEVERITY[level].number,
    severityText: SEVERITY[level].text,
    // A plain JSON value (no undefined members): what every OTLP backend can show.
    body: JSON.parse(JSON.stringify(toJsonLine(ex))) as ReadableLogRecord['body'],
    resource: resourceOf(ex.source),
    instrumentationScope: SCOPE,
    attributes: exchangeAttributes(ex) as ReadableLogRecord['attributes'],
    droppedAttributesCount: 0,
    ...(ex.trace
      ? {
          spanContext: {
            traceId: ex.trace.traceId,
            spanId: ex.trace.spanId,
            traceFlags: ex.trace.flags & 1,
          },
        }
      : {}),
  };
  return record;
}

/** One ExportLogsServiceRequest (protobuf) for a batch. */
export function encodeLogsRequest(batch: readonly Exchange[]): Uint8Array {
  const bytes = ProtobufLogsSerializer.serializeRequest(batch.map(toLogRecord));
  // Internal invariant (the serializer returns bytes for any request); the sink classifies it.
  if (bytes === undefined) throw new Error('the OTLP serializer returned nothing');
  return bytes;
}
