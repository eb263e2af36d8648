/**
 * A real OpenTelemetry Collector for tests (built by scripts/peers/otelcol.sh), with its own ports:
 *
 *   inferlog ──OTLP gRPC / HTTP──▶ otelcol (otlp receiver) ──otlphttp exporter, JSON──▶ Readback (node:http, here)
 *
 * The collector's otlphttp exporter runs with no queue and no retries, so an export the receiver
 * accepted has already been forwarded here: a test reads what the collector received right after
 * its send resolved. Each test file starts its own collector, so files never see each other's data.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, PEERS_DIR, portAnswers } from '../helpers/peers.js';

export function otelcolBin(): string {
  const bin = process.env.INFERLOG_TEST_OTELCOL ?? join(PEERS_DIR, 'otelcol/otelcol');
  if (!existsSync(bin))
    throw new Error(
      `${bin} not found: run \`bash scripts/peers/otelcol.sh install\` ` +
        '(builds an OpenTelemetry Collector v0.165.0 from its Go modules; needs Go and the Go module proxy)',
    );
  return bin;
}

/** OTLP/JSON values as the collector's exporter writes them. */
export interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  kvlistValue?: { values: OtlpKeyValue[] };
  arrayValue?: { values: OtlpValue[] };
}
export interface OtlpKeyValue {
  key: string;
  value: OtlpValue;
}
export interface OtlpLogRecord {
  timeUnixNano: string;
  observedTimeUnixNano?: string;
  severityNumber?: number;
  severityText?: string;
  body?: OtlpValue;
  attributes?: OtlpKeyValue[];
  traceId?: string;
  spanId?: string;
  flags?: number;
}
export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: OtlpKeyValue[];
  status?: { code?: number; message?: string };
}

/** One received record with its resource attributes beside it. */
export interface Received<T> {
  resource: Record<string, unknown>;
  item: T;
}

export function plain(v: OtlpValue | undefined): unknown {
  if (v === undefined) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.kvlistValue) return attrs(v.kvlistValue.values);
  if (v.arrayValue) return v.arrayValue.values.map(plain);
  return undefined;
}

export function attrs(list: OtlpKeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of list ?? []) out[kv.key] = plain(kv.value);
  return out;
}

export interface OtelCollector {
  grpcEndpoint: string;
  httpEndpoint: string;
  logs: Received<OtlpLogRecord>[];
  spans: Received<OtlpSpan>[];
  /** Waits until pred holds for what was received (15 s at most). */
  waitFor(pred: () => boolean, what: string): Promise<void>;
  log(): string;
  close(): Promise<void>;
}

export async function startOtelCollector(): Promise<OtelCollector> {
  const bin = otelcolBin();
  const logs: Received<OtlpLogRecord>[] = [];
  const spans: Received<OtlpSpan>[] = [];
  const readback: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as {
        resourceLogs?: {
          resource?: { attributes?: OtlpKeyValue[] };
          scopeLogs?: { logRecords?: OtlpLogRecord[] }[];
        }[];
        resourceSpans?: {
          resource?: { attributes?: OtlpKeyValue[] };
          scopeSpans?: { spans?: OtlpSpan[] }[];
        }[];
      };
      for (const rl of body.resourceLogs ?? [])
        for (const sl of rl.scopeLogs ?? [])
          for (const item of sl.logRecords ?? [])
            logs.push({ resource: attrs(rl.resource?.attributes), item });
      for (const rs of body.resourceSpans ?? [])
        for (const ss of rs.scopeSpans ?? [])
          for (const item of ss.spans ?? []) spans.push({ resource: attrs(rs.resource?.attributes), item });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => readback.listen(0, '127.0.0.1', r));
  const readbackPort = (readback.address() as AddressInfo).port;
  const grpcPort = await freePort();
  const httpPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'inferlog-otelcol-'));
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    `receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:${grpcPort}" }
      http: { endpoint: "127.0.0.1:${httpPort}" }
exporters:
  otlphttp:
    endpoint: "http://127.0.0.1:${readbackPort}"
    encoding: json
    compression: none
    retry_on_failure: { enabled: false }
    sending_queue: { enabled: false }
service:
  telemetry: { metrics: { level: none } }
  pipelines:
    traces: { receivers: [otlp], exporters: [otlphttp] }
    logs: { receivers: [otlp], exporters: [otlphttp] }
`,
  );
  let out = '';
  const proc: ChildProcess = spawn(bin, ['--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const deadline = Date.now() + 60_000;
  while (!(await portAnswers(httpPort)) || !(await portAnswers(grpcPort))) {
    if (proc.exitCode !== null) throw new Error(`otelcol exited (${proc.exitCode}):\n${out}`);
    if (Date.now() > deadline) throw new Error(`otelcol did not open its ports:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    grpcEndpoint: `127.0.0.1:${grpcPort}`,
    httpEndpoint: `127.0.0.1:${httpPort}`,
    logs,
    spans,
    log: () => out,
    async waitFor(pred, what) {
      const until = Date.now() + 15_000;
      while (!pred()) {
        if (Date.now() > until)
          throw new Error(`timed out waiting for ${what}; collector log:\n${out.slice(-4000)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async close() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await exited;
      }
      await new Promise((r) => readback.close(r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
