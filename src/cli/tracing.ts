/**
 * Spans (opt-in, `inferlog.dev/spans` / `--spans`): one OpenTelemetry SERVER span per exchange,
 * made with the official SDK and exported over OTLP/HTTP as the standard variables say
 * (OTEL_EXPORTER_OTLP_ENDPOINT / _TRACES_ENDPOINT, _HEADERS, OTEL_TRACES_SAMPLER(_ARG),
 * OTEL_RESOURCE_ATTRIBUTES, OTEL_BSP_*).
 *
 *   request arrives ─▶ start(caller's trace context) ─▶ span id ─▶ traceparent to the model, log's spanId
 *   exchange done   ─▶ submit to the pipeline (sampling decides the weight) ─▶ end(exchange): attributes, status
 *
 * The span is the caller's span's child (a root span when the request had no valid traceparent)
 * and follows the HTTP server semantic conventions, plus inferlog's attributes (service, namespace,
 * component, model, status class, sample weight: the same as the OTLP log record's, see
 * sinks/otlp/encoder.ts). Export runs in the SDK's BatchSpanProcessor, off the request path: a slow or
 * dead trace backend costs the client nothing (spans are dropped when its queue is full).
 */
import {
  createTraceState,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Tracer,
} from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ExchangeSpans } from '../capture/recorder.js';
import type { Exchange, ExchangeSource } from '../core/exchange.js';
import { exchangeAttributes, resourceOf } from '../sinks/otlp/encoder.js';

export interface SpanRuntime {
  spans: ExchangeSpans;
  /** Flushes what is buffered and stops exporting. Idempotent. */
  shutdown(): Promise<void>;
}

/** The spans of one source (one inference service): its own provider, so `service.name` is right. */
export function startSpans(source: ExchangeSource): SpanRuntime {
  const provider = new BasicTracerProvider({
    resource: resourceOf(source),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  const tracer: Tracer = provider.getTracer('inferlog', '0.1.0');
  let closing: Promise<void> | undefined;
  return {
    spans: {
      start(parent, startTime) {
        const ctx =
          parent.generated === true || parent.parentSpanId === undefined
            ? ROOT_CONTEXT
            : trace.setSpanContext(ROOT_CONTEXT, {
                traceId: parent.traceId,
                spanId: parent.parentSpanId,
                traceFlags: parent.flags & TraceFlags.SAMPLED,
                isRemote: true,
                ...(parent.tracestate !== undefined
                  ? { traceState: createTraceState(parent.tracestate) }
                  : {}),
              });
        const span = tracer.startSpan('inference', { kind: SpanKind.SERVER, startTime }, ctx);
        const sc = span.spanContext();
        return {
          traceId: sc.traceId,
          spanId: sc.spanId,
          flags: sc.traceFlags,
          end(ex: Exchange, kept: boolean) {
            // HTTP server span name: the method (the route template is not known to a proxy).
            span.updateName(ex.method);
            const a = exchangeAttributes(ex);
            // Only a logged exchange has a sample weight; a sampled-out one says so instead.
            if (!kept) delete a['inferlog.sample_weight'];
            a['inferlog.logged'] = kept;
            span.setAttributes(a);
            // Server spans: 5xx and no response are errors, 4xx is the client's (semantic conventions).
            if (ex.status === 0 || ex.status >= 500)
              span.setStatus({ code: SpanStatusCode.ERROR, message: ex.error?.code ?? String(ex.status) });
            span.end(ex.responseTime);
          },
        };
      },
    },
    shutdown() {
      closing ??= provider.shutdown().catch(() => undefined);
      return closing;
    },
  };
}
