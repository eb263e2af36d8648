// inferlog with a real OpenTelemetry Collector: `inferlog up` and `inferlog agent` with spans on and
// the OTLP logs sink; the collector must receive the spans (right parent, attributes) and the log
// records (matching trace and span ids).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli, type CliProcess } from '../helpers/cli.js';
import { freePort, REPO_ROOT } from '../helpers/peers.js';
import { attrs, plain, startOtelCollector, type OtelCollector } from './otelcol.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER = '00f067aa0ba902b7';
const TP = `00-${TRACE}-${CALLER}-01`;

async function predict(
  port: number,
  headers: Record<string, string> = {},
  model = 'simple-model',
): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/v1/models/${model}:predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: '{"instances":[1.0]}',
  });
  await res.text();
  return res.status;
}

let otel: OtelCollector;
let dir: string;
beforeAll(async () => {
  otel = await startOtelCollector();
  dir = mkdtempSync(path.join(tmpdir(), 'inferlog-otel-'));
}, 90_000);
afterAll(async () => {
  await otel?.close();
  rmSync(dir, { recursive: true, force: true });
});

const otelEnv = (): Record<string, string> => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: `http://${otel.httpEndpoint}`,
  OTEL_BSP_SCHEDULE_DELAY: '100',
  OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test',
});

describe('inferlog up: spans and OTLP logs (gRPC) into the OpenTelemetry Collector', () => {
  let up: CliProcess;
  let port: number;
  beforeAll(async () => {
    const yaml = path.join(dir, 'isvc.yaml');
    writeFileSync(
      yaml,
      `apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: simple-model
  namespace: traced
  annotations:
    inferlog.dev/spans: "true"
spec:
  predictor:
    logger: { mode: all, url: "otlp+grpc://${otel.grpcEndpoint}" }
    model:
      modelFormat: { name: onnx }
      storageUri: ${path.join(REPO_ROOT, 'examples/models/simple-model')}
`,
    );
    port = await freePort();
    up = await startCli(['up', '-f', yaml, '--port', String(port)], otelEnv());
  });
  afterAll(async () => {
    await up?.stop();
  });

  it("makes a SERVER span under the caller's span and a log record filed under that span", async () => {
    expect(await predict(port, { traceparent: TP, tracestate: 'rojo=1' })).toBe(200);
    // No traceparent, and a bad body: a 400 of this model (WARN).
    const bad = await fetch(`http://127.0.0.1:${port}/v1/models/simple-model:predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"instances": [1.0,',
    });
    await bad.text();
    expect(bad.status).toBe(400);
    await otel.waitFor(
      () => otel.spans.length >= 2 && otel.logs.length >= 2,
      'two spans and two log records',
    );
    const span = otel.spans.find((s) => s.item.traceId === TRACE);
    expect(span).toBeDefined();
    expect(span!.item.parentSpanId).toBe(CALLER);
    expect(span!.item.spanId).not.toBe(CALLER);
    expect(span!.item.kind).toBe(2); // SPAN_KIND_SERVER
    expect(span!.item.name).toBe('POST');
    expect(span!.resource).toMatchObject({
      'service.name': 'simple-model',
      'k8s.namespace.name': 'traced',
      'deployment.environment.name': 'test',
    });
    expect(attrs(span!.item.attributes)).toMatchObject({
      'http.request.method': 'POST',
      'url.path': '/v1/models/simple-model:predict',
      'http.response.status_code': 200,
      'inferlog.model': 'simple-model',
      'inferlog.namespace': 'traced',
      'inferlog.component': 'predictor',
      'inferlog.status_class': '2xx',
      'inferlog.sample_weight': 1,
      'inferlog.logged': true,
    });
    const log = otel.logs.find((l) => l.item.traceId === TRACE);
    expect(log?.item.spanId).toBe(span!.item.spanId);
    expect(log?.resource['service.name']).toBe('simple-model');
    expect(plain(log?.item.body)).toMatchObject({ traceId: TRACE, spanId: span!.item.spanId });
    // No traceparent: a root span, and its log record carries the span's own (new) trace.
    const other = otel.logs.find((l) => l.item.traceId !== TRACE)!;
    expect(other.item.severityText).toBe('WARN');
    const root = otel.spans.find((s) => s.item.traceId === other.item.traceId);
    expect(root?.item.parentSpanId ?? '').toBe('');
    expect(root?.item.spanId).toBe(other.item.spanId);
  });
});

describe('inferlog agent: spans on, OTLP/HTTP logs; the model sees the agent span as parent', () => {
  let model: Server;
  let agent: CliProcess;
  let port: number;
  const seen: IncomingHttpHeaders[] = [];
  beforeAll(async () => {
    model = createServer((req, res) => {
      seen.push(req.headers);
      req.resume();
      req.on('end', () => res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"boom"}'));
    });
    await new Promise<void>((r) => model.listen(0, '127.0.0.1', r));
    port = await freePort();
    agent = await startCli(
      [
        'agent',
        '--port',
        String(port),
        '--component-port',
        String((model.address() as AddressInfo).port),
        '--log-url',
        `otlp+http://${otel.httpEndpoint}`,
        '--inference-service',
        'iris',
        '--namespace',
        'ml',
        '--spans',
        'true',
        '--admin-port',
        String(await freePort()),
      ],
      otelEnv(),
    );
  });
  afterAll(async () => {
    await agent?.stop();
    await new Promise((r) => model.close(r));
  });

  it('forwards traceparent with its own span as parent and tracestate unchanged', async () => {
    const trace = 'abcdef0123456789abcdef0123456789';
    expect(
      await predict(port, { traceparent: `00-${trace}-${CALLER}-01`, tracestate: 'congo=t61' }, 'iris'),
    ).toBe(500);
    await otel.waitFor(
      () =>
        otel.spans.some((s) => s.item.traceId === trace) && otel.logs.some((l) => l.item.traceId === trace),
      'the agent span and log record',
    );
    const span = otel.spans.find((s) => s.item.traceId === trace)!;
    expect(span.item.parentSpanId).toBe(CALLER);
    expect(span.item.status?.code).toBe(2); // STATUS_CODE_ERROR for a 5xx
    expect(attrs(span.item.attributes)).toMatchObject({
      'error.type': '500',
      'inferlog.status_class': '5xx',
    });
    expect(seen.at(-1)?.traceparent).toBe(`00-${trace}-${span.item.spanId}-01`);
    expect(seen.at(-1)?.tracestate).toBe('congo=t61');
    const log = otel.logs.find((l) => l.item.traceId === trace)!;
    expect(log.item.spanId).toBe(span.item.spanId);
    expect([log.item.severityNumber, log.item.severityText]).toEqual([17, 'ERROR']);
    expect(log.resource).toMatchObject({ 'service.name': 'iris', 'k8s.namespace.name': 'ml' });
  });
});
