/**
 * Turns one request and its response into an Exchange — shared by the agent proxy
 * (capture/proxy.ts) and the in-process hook (capture/in-process.ts), so both log the same.
 *
 *   request arrives ──▶ recorder.begin(req) ─▶ InFlight (id, arrival time, request BodyCapture)
 *   response chunks ──▶ inFlight.responseChunk()   (kept up to the cap; streams: timing, assembly)
 *   response ends   ──▶ inFlight.complete() ─▶ submitter.submit(Exchange)   (before the last byte is written)
 *
 * Nothing here awaits anything: the hot path copies bytes up to a cap and hands over.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type {
  BatchInfo,
  Exchange,
  ExchangeError,
  ExchangeSource,
  LogMode,
  StreamInfo,
} from '../core/exchange.js';
import { logsRequest, logsResponse } from '../core/exchange.js';
import type { ErrorCode } from '../core/errors.js';
import { nowMs } from '../core/time.js';
import { formatTraceparent, traceContextFromHeaders, type TraceContext } from '../core/trace-context.js';
import type { ExchangeSubmitter } from '../pipeline/types.js';
import { BodyCapture } from './body-capture.js';
import { createHeaderPolicy } from './header-policy.js';
import { createQueryPolicy, type QueryPolicy, type QueryPolicyOptions } from './query-policy.js';
import { createStreamAssembler, detectStreamKind } from '../formats/stream-assembler.js';

export interface RecorderOptions {
  source: ExchangeSource;
  mode: LogMode;
  maxCaptureBytes: number;
  /**
   * Use a client's `Ce-Id` as the exchange id (KServe's behaviour). Default false: the id is
   * generated here and the inbound value is kept as metadata `Ce-Id` (see config/settings.ts).
   */
  trustInboundId?: boolean;
  metadataHeaders: readonly string[];
  /** Secret headers (Authorization…) captured anyway: explicit opt-in. */
  forceHeaders: readonly string[];
  /** Secret query parameters of the url: withheld at capture (query-policy.ts). Default: the built-in list, marker [REDACTED]. */
  queryPolicy?: QueryPolicyOptions;
  submitter: ExchangeSubmitter;
  /** Spans (opt-in): one per exchange, child of the caller's span. Off when undefined. */
  spans?: ExchangeSpans;
}

/**
 * What capture needs from a tracer: a span started at the request's arrival (so its id can be the
 * model's parent) and ended with the finished exchange. Implemented over the OpenTelemetry SDK in
 * cli/tracing.ts; capture itself loads no tracing library.
 */
export interface ExchangeSpans {
  /**
   * Starts the exchange's span under `parent` (a root span when the trace was generated here);
   * returns its ids, sampled flag and an end function, called once the pipeline has decided
   * whether the exchange is logged (`kept`; its sampleWeight is then final).
   */
  start(
    parent: TraceContext,
    startTime: number,
  ): { traceId: string; spanId: string; flags: number; end(ex: Exchange, kept: boolean): void };
}

type Assembler = ReturnType<typeof createStreamAssembler>;

interface StreamState {
  assembler: Assembler | undefined;
  chunks: number;
  firstByteAt: number;
}

export class InFlight {
  readonly id: string;
  /** The client's `Ce-Id` when it was not used as the id: recorded as metadata, never as identity. */
  private readonly inboundId: string | undefined;
  readonly requestTime: number;
  readonly request: BodyCapture;
  private readonly response: BodyCapture;
  private status = 0;
  private responseContentType: string | undefined;
  private responseEncoding: string | undefined;
  private stream: StreamState | undefined;
  private done = false;
  /** W3C trace context of this exchange (the caller's, or a fresh one). */
  readonly trace: TraceContext;
  private span: { end(ex: Exchange, kept: boolean): void } | undefined;
  /** Set by the request batcher when the answer came from a merged model call. */
  batch: BatchInfo | undefined;

  constructor(
    private readonly rec: Recorder,
    private readonly req: IncomingMessage,
    requestTime: number,
  ) {
    this.requestTime = requestTime;
    // The id decides deduplication, pairing and sampling downstream: a client may only choose it
    // when the operator said its callers are trusted, and then only a sane one.
    const ceId = headerText(req.headers['ce-id']);
    if (ceId !== undefined && rec.options.trustInboundId === true && SANE_ID.test(ceId)) {
      this.id = ceId;
      this.inboundId = undefined;
    } else {
      this.id = randomUUID();
      this.inboundId = ceId !== undefined && ceId.length > 0 ? ceId : undefined;
    }
    const trace = traceContextFromHeaders({
      traceparent: req.headers.traceparent,
      tracestate: req.headers.tracestate,
    });
    const spans = rec.options.spans;
    if (spans !== undefined) {
      // Our span becomes the model's parent and the span the log is filed under; the caller's span stays its parent.
      const span = spans.start(trace, this.requestTime);
      trace.traceId = span.traceId;
      trace.spanId = span.spanId;
      trace.flags = span.flags;
      this.span = span;
    }
    this.trace = trace;
    this.request = new BodyCapture(rec.options.maxCaptureBytes, rec.logsRequest);
    this.response = new BodyCapture(rec.options.maxCaptureBytes, rec.logsResponse);
  }

  /**
   * The `traceparent` to send to the model instead of the client's, or undefined to forward the
   * client's headers unchanged (spans off). With spans on it names inferlog's span as the parent.
   */
  outboundTraceparent(): string | undefined {
    return this.span === undefined ? undefined : formatTraceparent(this.trace);
  }

  private metadata(): Record<string, string[]> {
    const m = this.rec.metadataOf(this.req.rawHeaders);
    if (this.inboundId !== undefined && m[INBOUND_ID_KEY] === undefined) m[INBOUND_ID_KEY] = [this.inboundId];
    return m;
  }

  /** Call once the response status and headers are known. */
  responseStart(
    status: number,
    contentType: string | undefined,
    contentEncoding: string | undefined,
    streaming: boolean,
  ): void {
    this.status = status;
    this.responseContentType = contentType;
    this.responseEncoding = contentEncoding;
    if (streaming) {
      const kind = detectStreamKind(this.req.url ?? '', contentType);
      this.stream = {
        assembler: kind ? createStreamAssembler(kind) : undefined,
        chunks: 0,
        firstByteAt: 0,
      };
    }
  }

  responseChunk(chunk: Buffer): void {
    this.response.push(chunk);
    const s = this.stream;
    if (s) {
      if (s.chunks === 0) s.firstByteAt = nowMs();
      s.chunks++;
      s.assembler?.push(chunk);
    }
  }

  /**
   * Builds the exchange and submits it. `failure` marks an exchange that did not finish
   * normally (upstream unreachable, reset, client gone); `status` overrides what the client got.
   */
  complete(failure?: { code: ErrorCode; message: string; status?: number }): void {
    if (this.done) return;
    this.done = true;
    const o = this.rec.options;
    const responseTime = nowMs();
    if (failure?.status !== undefined) this.status = failure.status;
    const ex: Exchange = {
      id: this.id,
      source: o.source,
      mode: o.mode,
      method: this.req.method ?? 'GET',
      url: this.rec.urlOf(this.req.url ?? '/'),
      metadata: this.metadata(),
      requestTime: this.requestTime,
      responseTime,
      status: this.status,
      sampleWeight: 1,
      trace: this.trace,
    };
    const reqHeaders = this.req.headers;
    const request = this.request.finish(
      reqHeaders['content-type'],
      headerText(reqHeaders['content-encoding']),
    );
    if (request) ex.request = request;
    if (this.status !== 0 || this.response.size > 0) {
      const response = this.response.finish(this.responseContentType, this.responseEncoding);
      if (response) ex.response = response;
    }
    if (failure) {
      const err: ExchangeError = { code: failure.code, message: failure.message };
      ex.error = err;
    }
    const s = this.stream;
    if (s) {
      const info: StreamInfo = {
        chunks: s.chunks,
        ttfbMs: s.chunks > 0 ? round3(s.firstByteAt - this.requestTime) : 0,
        ttlbMs: round3(responseTime - this.requestTime),
        partial: failure !== undefined,
      };
      if (failure) info.reason = failure.code;
      if (s.assembler) {
        const assembled = s.assembler.finish();
        if (assembled.assembledText !== undefined) info.assembledText = assembled.assembledText;
        if (assembled.usage !== undefined) info.usage = assembled.usage;
      }
      ex.stream = info;
    }
    if (this.batch) ex.batch = this.batch;
    if (this.span === undefined) {
      o.submitter.submit(ex);
      return;
    }
    // The span ends after the pipeline's synchronous sampling stage, so it carries the same
    // sample weight as the logged record (docs/opentelemetry.md, "Sampling").
    const kept = o.submitter.submit(ex) !== false;
    this.span.end(ex, kept);
  }
}

/** Metadata key of an untrusted inbound `Ce-Id` (Go-canonical, as an allow-listed header would be). */
const INBOUND_ID_KEY = 'Ce-Id';
/** A trusted inbound id: visible ASCII, no spaces, at most 256 characters (UUIDs, `replay-<uuid>`…). */
const SANE_ID = /^[\x21-\x7e]{1,256}$/;

export class Recorder {
  readonly logsRequest: boolean;
  readonly logsResponse: boolean;
  readonly metadataOf: (rawHeaders: string[]) => Record<string, string[]>;
  readonly urlOf: QueryPolicy;

  constructor(readonly options: RecorderOptions) {
    this.logsRequest = logsRequest(options.mode);
    this.logsResponse = logsResponse(options.mode);
    this.metadataOf = createHeaderPolicy({
      metadataHeaders: [...options.metadataHeaders],
      forceHeaders: [...options.forceHeaders],
    });
    this.urlOf = createQueryPolicy(options.queryPolicy ?? { marker: '[REDACTED]' });
  }

  /**
   * `requestTime`: when the request arrived, for a caller that could only pick the recorder
   * after reading the body (in-process capture of OpenAI routes, which name the model there).
   */
  begin(req: IncomingMessage, requestTime = nowMs()): InFlight {
    return new InFlight(this, req, requestTime);
  }
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function headerText(v: string | string[] | number | undefined): string | undefined {
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(', ') : String(v);
}

/** Whether a response is a stream worth timing chunk by chunk. */
export function isStreamingResponse(contentType: string | undefined): boolean {
  return (
    contentType !== undefined &&
    (contentType.startsWith('text/event-stream') || contentType.startsWith('application/x-ndjson'))
  );
}
