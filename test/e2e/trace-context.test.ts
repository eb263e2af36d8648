// W3C trace context end to end: client ─traceparent─▶ inferlog up / agent ─CloudEvents─▶ inferlog collect
// ─▶ query --trace-id, API traceId/spanId, /healthz ui.traceUrl; and what the model behind the agent gets.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, type CliProcess } from '../helpers/cli.js';
import { freePort, REPO_ROOT } from '../helpers/peers.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
const TP = `00-${TRACE}-${PARENT}-01`;

async function predict(port: number, headers: Record<string, string> = {}): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/v1/models/simple-model:predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: '{"instances":[1.0]}',
  });
  await res.text();
  return res.status;
}

interface Item {
  id: string;
  complete: boolean;
  traceId?: string;
  spanId?: string;
  metadata: Record<string, string[]>;
}

async function waitItems(url: string, n: number, query = ''): Promise<Item[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const res = await fetch(`${url}/api/v1/exchanges?limit=100${query}`);
    const items = ((await res.json()) as { items: Item[] }).items;
    if (items.filter((i) => i.complete).length >= n || Date.now() > deadline) return items;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('trace context through inferlog up and the collector', () => {
  let dir: string;
  let collector: CliProcess;
  let up: CliProcess;
  let collectorUrl: string;
  let upPort: number;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'inferlog-trace-'));
    const cPort = await freePort();
    collectorUrl = `http://127.0.0.1:${cPort}`;
    collector = await startCli([
      'collect',
      '--port',
      String(cPort),
      '--store',
      `sqlite:${path.join(dir, 'x.db')}`,
      '--trace-url',
      'https://grafana.example/explore?traceId={traceId}',
    ]);
    const yaml = path.join(dir, 'isvc.yaml');
    writeFileSync(
      yaml,
      `apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata: { name: simple-model, namespace: traced }
spec:
  predictor:
    logger: { mode: all, url: "${collectorUrl}/" }
    model:
      modelFormat: { name: onnx }
      storageUri: ${path.join(REPO_ROOT, 'examples/models/simple-model')}
`,
    );
    upPort = await freePort();
    up = await startCli(['up', '-f', yaml, '--port', String(upPort)]);
  });
  afterAll(async () => {
    await up?.stop();
    await collector?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("stores the caller's trace id and span, finds the exchange with --trace-id, and serves the UI's link template", async () => {
    expect(await predict(upPort, { traceparent: TP, tracestate: 'rojo=1' })).toBe(200);
    expect(await predict(upPort)).toBe(200);
    // A hostile client: upper-case hex and an all-zero id are invalid, so they are ignored, never stored.
    expect(await predict(upPort, { traceparent: TP.toUpperCase() })).toBe(200);
    expect(await predict(upPort, { traceparent: `00-${'0'.repeat(32)}-${PARENT}-01` })).toBe(200);
    const items = await waitItems(collectorUrl, 4);
    expect(items.filter((i) => i.complete)).toHaveLength(4);
    const traced = items.filter((i) => i.traceId === TRACE);
    expect(traced).toHaveLength(1);
    expect(traced[0]?.spanId).toBe(PARENT);
    // Every exchange has a trace id, the untraced ones a fresh one each, so their halves joined.
    const ids = new Set(items.map((i) => i.traceId));
    expect(ids.size).toBe(4);
    for (const i of items) expect(i.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect([...ids].filter((t) => /^0+$/.test(t ?? ''))).toEqual([]);

    const q = runCli([
      'query',
      '--url',
      collectorUrl,
      '--trace-id',
      TRACE.toUpperCase(),
      '--format',
      'jsonl',
    ]);
    expect(await q.exited).toBe(0);
    const lines = q.stdout().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toMatchObject({ traceId: TRACE, spanId: PARENT });

    const tail = runCli([
      'tail',
      '--url',
      collectorUrl,
      '--since',
      '1h',
      '--trace-id',
      TRACE,
      '--json',
      '--interval',
      '100ms',
    ]);
    try {
      await tail.waitFor((c) => c.jsonLines().length >= 1, 'the traced exchange from tail');
      await new Promise((r) => setTimeout(r, 500));
      expect(tail.jsonLines().map((l) => l.traceId)).toEqual([TRACE]);
    } finally {
      await tail.stop();
    }

    const bad = runCli(['query', '--url', collectorUrl, '--trace-id', 'nope']);
    expect(await bad.exited).toBe(2);
    expect(bad.stderr()).toMatch(/traceId/);

    const health = (await (await fetch(`${collectorUrl}/healthz`)).json()) as { ui?: { traceUrl?: string } };
    expect(health.ui?.traceUrl).toBe('https://grafana.example/explore?traceId={traceId}');
  });

  it('refuses a --trace-url that is not an http(s) template', async () => {
    const c = runCli(['collect', '--port', '0', '--trace-url', 'javascript:alert(1)//{traceId}']);
    expect(await c.exited).toBe(2);
    expect(c.stderr()).toMatch(/--trace-url/);
  });
});

describe('the agent forwards trace context to the model unchanged (spans off)', () => {
  let model: Server;
  let agent: CliProcess;
  let agentPort: number;
  const seen: IncomingHttpHeaders[] = [];

  beforeAll(async () => {
    model = createServer((req, res) => {
      seen.push(req.headers);
      req.resume();
      req.on('end', () =>
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"predictions":[1]}'),
      );
    });
    await new Promise<void>((r) => model.listen(0, '127.0.0.1', r));
    agentPort = await freePort();
    agent = await startCli([
      'agent',
      '--port',
      String(agentPort),
      '--component-port',
      String((model.address() as AddressInfo).port),
      '--log-url',
      'stdout',
      '--log-mode',
      'all',
      '--inference-service',
      'simple-model',
      '--admin-port',
      String(await freePort()),
    ]);
  });
  afterAll(async () => {
    await agent?.stop();
    await new Promise((r) => model.close(r));
  });

  it('passes traceparent and tracestate through as sent, and logs traceId/spanId in the JSON line', async () => {
    expect(await predict(agentPort, { traceparent: TP, tracestate: 'rojo=1,congo=2' })).toBe(200);
    expect(await predict(agentPort, { traceparent: 'garbage' })).toBe(200);
    expect(await predict(agentPort)).toBe(200);
    await agent.waitFor((c) => c.jsonLines().length >= 3, 'three lines');
    expect(seen[0]?.traceparent).toBe(TP);
    expect(seen[0]?.tracestate).toBe('rojo=1,congo=2');
    expect(seen[1]?.traceparent).toBe('garbage');
    expect(seen[2]?.traceparent).toBeUndefined();
    const [a, b, c] = agent.jsonLines();
    expect(a).toMatchObject({ traceId: TRACE, spanId: PARENT });
    expect(b?.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(b?.traceId).not.toBe(TRACE);
    expect(c?.traceId).toMatch(/^[0-9a-f]{32}$/);
  });
});
