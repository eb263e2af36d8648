// Issues 10 and 15: KServe's real Go agent (v0.20.0, built from its module by
// scripts/peers/kserve-agent.sh) as a peer.
//
//   client ──▶ KServe agent ──▶ inferlog up (built-in model server, simple-model: y = 2x + 1)
//                   └──binary CloudEvents, one POST per event──▶ inferlog collect (SQLite)
//
// 1. Compatibility: every exchange KServe's agent logs is stored completely by our collector.
// 2. KServe's batcher (--enable-batcher): the exact answers it gives, the reference our agent's
//    batcher (issue 15) must match. BATCHER_REFERENCE below is what those answers look like.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli, type CliProcess } from '../helpers/cli.js';
import { PREDICT, runBatcherCases, withoutBatchIds, type RecordedAnswer } from '../helpers/batcher-cases.js';
import { startKserveAgent, type KserveAgent } from '../helpers/kserve-agent.js';
import { freePort, kserveAgentBin, REPO_ROOT } from '../helpers/peers.js';

// Absent binary: a clear skip on a developer machine, a failure in CI (which builds it).
let missing: string | undefined;
try {
  kserveAgentBin();
} catch (err) {
  if (process.env.CI) throw err;
  missing = (err as Error).message;
  console.warn(`skipping KServe Go agent tests: ${missing}`);
}

const MODEL_PATH = '/v1/models/simple-model:predict';
const EXCHANGES = 300;
const CONCURRENCY = 16;

interface Answer {
  status: number;
  contentType: string | null;
  body: string;
}

async function post(port: number, urlPath: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(`http://127.0.0.1:${port}${urlPath}`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...headers },
  });
  return { status: res.status, contentType: res.headers.get('content-type'), body: await res.text() };
}

/** Runs `jobs` with at most `limit` in flight. */
async function pool<T>(count: number, limit: number, job: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array<T>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < count) {
        const i = next++;
        out[i] = await job(i);
      }
    }),
  );
  return out;
}

/**
 * The example model as a plain model server (`inferlog up`). With `logModelCalls`, it also writes
 * one JSON line per call it serves to stdout, to show what the agent sent it.
 */
async function startModelServer(
  dir: string,
  logModelCalls = false,
): Promise<{ cli: CliProcess; port: number }> {
  const yaml = path.join(dir, logModelCalls ? 'model-logged.yaml' : 'model.yaml');
  writeFileSync(
    yaml,
    [
      'apiVersion: serving.kserve.io/v1beta1',
      'kind: InferenceService',
      'metadata: {name: simple-model, namespace: kserve-test}',
      'spec:',
      '  predictor:',
      ...(logModelCalls ? ['    logger: {mode: all}'] : []),
      '    model:',
      '      modelFormat: {name: onnx}',
      `      storageUri: ${JSON.stringify(path.join(REPO_ROOT, 'examples/models/simple-model'))}`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const cli = await startCli(['up', '-f', yaml, '--host', '127.0.0.1', '--port', String(port)]);
  return { cli, port };
}

interface ExchangeView {
  id: string;
  complete: boolean;
  model: string;
  namespace: string;
  component: string;
  status: number | null;
  metadata: Record<string, string[]>;
  request: { body?: string; contentType?: string } | null;
  response: { body?: string; contentType?: string } | null;
}

async function listAll(collectorPort: number): Promise<ExchangeView[]> {
  const items: ExchangeView[] = [];
  let cursor: string | null = null;
  do {
    const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const page = (await (
      await fetch(`http://127.0.0.1:${collectorPort}/api/v1/exchanges?limit=1000${q}`)
    ).json()) as { items: ExchangeView[]; nextCursor: string | null };
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

async function metric(collectorPort: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${collectorPort}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(name))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

describe.skipIf(missing !== undefined)('KServe’s Go agent → inferlog collect', () => {
  let dir: string;
  let model: { cli: CliProcess; port: number };
  let collector: CliProcess;
  let collectorPort: number;
  let agent: KserveAgent;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'inferlog-kagent-'));
    collectorPort = await freePort();
    [model, collector] = await Promise.all([
      startModelServer(dir),
      startCli([
        'collect',
        '--host',
        '127.0.0.1',
        '--port',
        String(collectorPort),
        '--store',
        `sqlite:${path.join(dir, 'inferlog.db')}`,
      ]),
    ]);
    // The flags KServe's webhook passes for `logger: {mode: all, url: …, metadataHeaders: [X-Request-Id]}`.
    agent = await startKserveAgent({
      componentPort: model.port,
      args: [
        '--log-url',
        `http://127.0.0.1:${collectorPort}/`,
        '--log-mode',
        'all',
        '--source-uri',
        'http://simple-model-predictor.kserve-test/',
        '--inference-service',
        'simple-model',
        '--namespace',
        'kserve-test',
        '--endpoint',
        'default',
        '--component',
        'predictor',
        '--metadata-headers',
        'X-Request-Id',
      ],
    });
  }, 360_000);

  afterAll(async () => {
    await agent?.stop();
    await collector?.stop();
    await model?.cli.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(`stores all ${EXCHANGES} exchanges, ${CONCURRENCY} at a time, with exact request and response bodies`, async () => {
    // Bodies differ in values and in layout (spaces, newlines), so each stored body proves its bytes.
    const bodyOf = (i: number): string =>
      i % 3 === 0
        ? `{"instances": [${i}, ${i + 0.5}]}`
        : i % 3 === 1
          ? `{"instances":[${i}]}`
          : `{\n  "instances": [ ${i}, ${-i}, 0 ]\n}`;
    const answers = await pool<Answer>(EXCHANGES, CONCURRENCY, (i) =>
      post(agent.port, MODEL_PATH, bodyOf(i), { 'X-Request-Id': `kagent-${i}` }),
    );
    // The agent passes the model's answer through: check it against the model itself.
    for (let i = 0; i < EXCHANGES; i++) {
      expect(answers[i]?.status, `request ${i}`).toBe(200);
      const instances = (JSON.parse(bodyOf(i)) as { instances: number[] }).instances;
      expect(JSON.parse(answers[i]?.body ?? ''), `request ${i}`).toEqual({
        predictions: instances.map((x) => 2 * x + 1),
      });
    }

    let items: ExchangeView[] = [];
    const deadline = Date.now() + 60_000;
    for (;;) {
      items = await listAll(collectorPort);
      if (items.filter((x) => x.complete).length >= EXCHANGES || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    // Exactly one stored exchange per request: none lost, none doubled, none half-paired.
    expect(items.length).toBe(EXCHANGES);
    expect(items.filter((x) => !x.complete).map((x) => x.id)).toEqual([]);
    const byRequestId = new Map(items.map((x) => [x.metadata['X-Request-Id']?.[0], x]));
    expect(byRequestId.size).toBe(EXCHANGES);

    await pool(EXCHANGES, 8, async (i) => {
      const listed = byRequestId.get(`kagent-${i}`);
      expect(listed, `request ${i} stored`).toBeDefined();
      expect(listed).toMatchObject({
        model: 'simple-model',
        namespace: 'kserve-test',
        component: 'predictor',
        status: 200,
      });
      const full = (await (
        await fetch(`http://127.0.0.1:${collectorPort}/api/v1/exchanges/${listed?.id}`)
      ).json()) as ExchangeView;
      expect(full.request?.body, `request ${i}`).toBe(bodyOf(i));
      expect(full.response?.body, `response ${i}`).toBe(answers[i]?.body);
    });
    // Two events per exchange, every one stored once, none rejected.
    expect(await metric(collectorPort, 'inferlog_collector_events_stored_total')).toBe(2 * EXCHANGES);
    expect(await metric(collectorPort, 'inferlog_collector_events_rejected_total')).toBe(0);
  }, 180_000);
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

interface BatchAnswer {
  message: string;
  batchId: string;
  predictions: unknown[] | null;
}

/** A batched answer: KServe's shape, its keys in KServe's order. */
function batchAnswer(a: RecordedAnswer | undefined): BatchAnswer {
  expect(a?.status).toBe(200);
  const parsed = JSON.parse(a?.body ?? '') as BatchAnswer;
  expect(Object.keys(parsed)).toEqual(['message', 'batchId', 'predictions']);
  return parsed;
}

describe.skipIf(missing !== undefined)(
  'KServe’s Go agent with --enable-batcher --max-batchsize 4 --max-latency 50 (the reference for issue 15)',
  () => {
    let dir: string;
    let model: { cli: CliProcess; port: number };
    let agent: KserveAgent;
    let recorded: Record<string, RecordedAnswer[]>;

    beforeAll(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'inferlog-kagent-batch-'));
      model = await startModelServer(dir, true);
      agent = await startKserveAgent({
        componentPort: model.port,
        args: ['--enable-batcher', '--max-batchsize', '4', '--max-latency', '50'],
      });
      recorded = await runBatcherCases(agent.port);
      if (process.env.INFERLOG_PRINT_BATCHER_REFERENCE)
        console.log(JSON.stringify(withoutBatchIds(recorded), null, 1));
    }, 360_000);

    afterAll(async () => {
      await agent?.stop();
      await model?.cli.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('answers a lone request after maxLatency with {message, batchId, predictions}', () => {
      const a = recorded.single?.[0];
      // KServe writes the JSON without a Content-Type; Go's sniffing labels it text/plain.
      expect(a?.contentType).toBe('text/plain; charset=utf-8');
      const parsed = batchAnswer(a);
      expect(parsed.message).toBe('');
      expect(parsed.batchId).toMatch(UUID);
      expect(parsed.predictions).toEqual([3, 5]);
      expect(a?.body).toBe(`{"message":"","batchId":"${parsed.batchId}","predictions":[3,5]}`);
    });

    it('merges concurrent requests into batches of at most 4 instances and splits the predictions back', () => {
      const answers = (recorded['eight-concurrent'] ?? []).map(batchAnswer);
      expect(answers.map((a) => a.predictions)).toEqual(Array.from({ length: 8 }, (_, i) => [2 * i + 1]));
      const sizes = new Map<string, number>();
      for (const a of answers) {
        expect(a.batchId).toMatch(UUID);
        sizes.set(a.batchId, (sizes.get(a.batchId) ?? 0) + 1);
      }
      expect(sizes.size).toBeGreaterThanOrEqual(2);
      for (const size of sizes.values()) expect(size).toBeLessThanOrEqual(4);
      // Multi-instance requests keep their own slice, in order, whatever batch they landed in.
      expect((recorded.overshoot ?? []).map((a) => batchAnswer(a).predictions)).toEqual([
        [21, 23, 25],
        [41, 43, 45],
      ]);
      expect(batchAnswer(recorded['extra-fields']?.[0]).predictions).toEqual([11]);
    });

    it('sends the model only {"instances":[…]}, fewer calls than clients', () => {
      const calls = model.cli
        .jsonLines()
        .filter((l) => l.url === PREDICT && l.responseStatus === 200)
        .map((l) => String(l.requestBody));
      for (const body of calls) expect(body).toMatch(/^\{"instances":\[.*\]\}$/);
      expect(calls.some((b) => b.includes('parameters'))).toBe(false);
      const clientRequests = ['single', 'eight-concurrent', 'overshoot', 'extra-fields']
        .map((name) => recorded[name]?.length ?? 0)
        .reduce((x, y) => x + y, 0);
      expect(calls.length).toBeLessThan(clientRequests);
    });

    it('rejects bodies it cannot batch with 400 and a text reason, before the model', () => {
      const plain = (body: string): Partial<RecordedAnswer> => ({
        status: 400,
        contentType: 'text/plain; charset=utf-8',
        body,
      });
      expect(recorded['not-json']?.[0]).toEqual(plain("can't Unmarshal body\n"));
      expect(recorded['instances-not-a-list']?.[0]).toEqual(plain("can't Unmarshal body\n"));
      expect(recorded['no-instances']?.[0]).toEqual(plain('no instances in the request\n'));
      expect(recorded['no-instances-key']?.[0]).toEqual(plain('no instances in the request\n'));
    });

    it('answers 200 with the model’s error body as message when the model fails', async () => {
      for (const [name, urlPath, body] of [
        ['model-404', '/v1/models/no-such-model:predict', '{"instances":[1]}'],
        ['model-400', PREDICT, '{"instances":["a"]}'],
      ] as const) {
        const direct = await post(model.port, urlPath, body);
        expect(direct.status, name).not.toBe(200);
        expect(JSON.parse(recorded[name]?.[0]?.body ?? ''), name).toEqual({
          message: direct.body,
          batchId: '',
          predictions: null,
        });
        expect(recorded[name]?.[0]?.status, name).toBe(200);
      }
    });

    it('passes other paths through unbatched, as the model answered', async () => {
      const meta = await fetch(`http://127.0.0.1:${model.port}/v1/models/simple-model`);
      expect(recorded['metadata-get']?.[0]).toEqual({
        status: meta.status,
        contentType: meta.headers.get('content-type'),
        body: await meta.text(),
      });
      const v2 = await post(
        model.port,
        '/v2/models/simple-model/infer',
        '{"id":"v2-1","inputs":[{"name":"x","shape":[2],"datatype":"FP32","data":[1,2]}]}',
      );
      expect(recorded['v2-infer']?.[0]).toEqual(v2);
    });
  },
);
