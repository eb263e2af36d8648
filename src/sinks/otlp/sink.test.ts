// The OTLP logs sink against a real OpenTelemetry Collector (scripts/peers/otelcol.sh): the shared
// sink contract over OTLP/HTTP and OTLP/gRPC, and what one exchange becomes as a LogRecord.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attrs, plain, startOtelCollector, type OtelCollector } from '../../../test/otel/otelcol.js';
import { InferlogError } from '../../core/errors.js';
import { contractExchange, sinkContract } from '../sink.contract.js';
import type { SinkOptions } from '../sink.js';
import { createSinkFor } from '../registry.js';
import { sinkUrlProblem } from '../schemes.js';
import { parseOtlpHeaders } from './config.js';

const options: SinkOptions = {
  batchSize: 1,
  batchIntervalMs: 0,
  timeoutMs: 10_000,
  tls: { skipVerify: false },
};

let collector: OtelCollector;
beforeAll(async () => {
  collector = await startOtelCollector();
}, 90_000);
afterAll(async () => {
  await collector?.close();
});

const deliveredIds = async (): Promise<string[]> =>
  collector.logs.map((l) => attrs(l.item.attributes)['inferlog.exchange.id'] as string);

for (const scheme of ['otlp+http', 'otlp+grpc'] as const) {
  sinkContract(scheme, {
    async create() {
      const endpoint = scheme === 'otlp+grpc' ? collector.grpcEndpoint : collector.httpEndpoint;
      return {
        sink: createSinkFor(`${scheme}://${endpoint}`, options),
        delivered: deliveredIds,
        close: async () => {},
      };
    },
  });
}

describe('OTLP log records', () => {
  const trace = {
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
    parentSpanId: '00f067aa0ba902b7',
    flags: 1,
  };

  it('one record per exchange: trace ids, severity from the level, body = the JSON line, conventions', async () => {
    const sink = createSinkFor(`otlp+grpc://${collector.grpcEndpoint}`, options);
    await sink.send(
      [
        contractExchange('rec-ok', { trace, sampleWeight: 4, url: '/v1/models/iris:predict?x=1' }),
        contractExchange('rec-4xx', { status: 404, trace }),
        contractExchange('rec-err', {
          status: 0,
          response: undefined,
          error: { code: 'UPSTREAM_UNREACHABLE', message: 'refused' },
        }),
      ],
      new AbortController().signal,
    );
    await sink.shutdown();
    const byId = new Map(collector.logs.map((l) => [attrs(l.item.attributes)['inferlog.exchange.id'], l]));
    const ok = byId.get('rec-ok')!;
    expect(ok.item.traceId).toBe(trace.traceId);
    expect(ok.item.spanId).toBe(trace.spanId);
    expect(ok.item.severityNumber).toBe(9);
    expect(ok.item.severityText).toBe('INFO');
    expect(ok.resource).toMatchObject({
      'service.name': 'iris',
      'k8s.namespace.name': 'ns',
      'inferlog.component': 'predictor',
    });
    expect(attrs(ok.item.attributes)).toMatchObject({
      'http.request.method': 'POST',
      'url.path': '/v1/models/iris:predict',
      'url.query': 'x=1',
      'http.response.status_code': 200,
      'inferlog.model': 'iris',
      'inferlog.status_class': '2xx',
      'inferlog.sample_weight': 4,
    });
    expect(plain(ok.item.body)).toMatchObject({
      level: 'info',
      id: 'rec-ok',
      requestBody: '{"instances":[[1,2]]}',
      traceId: trace.traceId,
      sampleWeight: 4,
    });
    expect(byId.get('rec-4xx')?.item.severityText).toBe('WARN');
    const err = byId.get('rec-err')!;
    expect([err.item.severityNumber, err.item.severityText]).toEqual([17, 'ERROR']);
    expect(attrs(err.item.attributes)['error.type']).toBe('UPSTREAM_UNREACHABLE');
  });

  it('a receiver that is not there is SINK_UNREACHABLE (retryable), over HTTP and gRPC', async () => {
    for (const url of ['otlp+http://127.0.0.1:9', 'otlp+grpc://127.0.0.1:9']) {
      const sink = createSinkFor(url, options);
      const err = await sink
        .send([contractExchange('nowhere')], new AbortController().signal)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InferlogError);
      expect((err as InferlogError).kind).toBe('retryable');
      await sink.shutdown();
    }
  });
});

describe('OTLP sink configuration', () => {
  it('checks logger URLs with a clear message', () => {
    expect(sinkUrlProblem('otlp+http://otel:4318')).toBeUndefined();
    expect(sinkUrlProblem('otlp+grpc://otel:4317')).toBeUndefined();
    expect(sinkUrlProblem('otlp://otel:4317')).toMatch(/otlp\+http/);
    expect(sinkUrlProblem('otlp+grpc://otel:4317/v1/logs')).toMatch(/no path/);
    expect(sinkUrlProblem('otlp+http://user:pw@otel:4318')).toMatch(/OTEL_EXPORTER_OTLP_HEADERS/);
  });

  it('reads OTEL_EXPORTER_OTLP_HEADERS as the spec says, and refuses what would break the protocol', () => {
    expect(parseOtlpHeaders('api-key=abc%20d,X-Tenant=t1', 'V')).toEqual({
      'api-key': 'abc d',
      'x-tenant': 't1',
    });
    expect(() => parseOtlpHeaders('content-type=text/plain', 'V')).toThrow(/cannot be set/);
    expect(() => parseOtlpHeaders('novalue', 'V')).toThrow(/key=value/);
    expect(() => parseOtlpHeaders('a=%0d%0aevil: 1', 'V')).toThrow(/line break/);
  });
});
