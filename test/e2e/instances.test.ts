// Issue 15: one row per prediction (`inferlog.dev/log-instances`, `collect --log-instances`), with
// real parts: the built-in ONNX server (iris) behind KServe's request batcher, the file sink, and
// the collector on SQLite and PostgreSQL.
//
//   clients (concurrent, 2 instances each) ──▶ inferlog up: batcher ──▶ iris (ONNX)
//        └─ file sink ──▶ requests.jsonl + requests.instances.jsonl
//        └─ http sink ──▶ inferlog collect --log-instances ──▶ GET /api/v1/instances
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli, type CliProcess } from '../helpers/cli.js';
import { ensurePostgres, freePort, REPO_ROOT } from '../helpers/peers.js';

const ROWS = [
  [6.8, 2.8, 4.8, 1.4],
  [5.1, 3.5, 1.4, 0.2],
  [6.3, 3.3, 6.0, 2.5],
  [5.9, 3.0, 5.1, 1.8],
];

function irisYaml(dir: string, loggerUrl: string, annotations: Record<string, string> = {}): string {
  const file = path.join(dir, `iris-${Math.random().toString(36).slice(2)}.yaml`);
  const ann = Object.entries(annotations)
    .map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`)
    .join('\n');
  writeFileSync(
    file,
    [
      'apiVersion: serving.kserve.io/v1beta1',
      'kind: InferenceService',
      'metadata:',
      '  name: iris',
      '  namespace: ml',
      ...(ann ? ['  annotations:', ann] : []),
      'spec:',
      '  predictor:',
      '    batcher: {maxBatchSize: 4, maxLatency: 50}',
      `    logger: {mode: all, url: ${JSON.stringify(loggerUrl)}}`,
      '    model:',
      '      modelFormat: {name: onnx}',
      `      storageUri: ${JSON.stringify(path.join(REPO_ROOT, 'examples/models/iris'))}`,
      '',
    ].join('\n'),
  );
  return file;
}

async function post(port: number, urlPath: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`http://127.0.0.1:${port}${urlPath}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return (await res.json()) as Record<string, unknown>;
}

/** Four clients at once, two instances each: the batcher merges them into model calls of ≤ 4. */
async function concurrentV1(port: number): Promise<unknown[][]> {
  const answers = await Promise.all(
    [0, 1, 2, 3].map((i) =>
      post(port, '/v1/models/iris:predict', { instances: [ROWS[i], ROWS[(i + 1) % 4]] }),
    ),
  );
  return answers.map((a) => a.predictions as unknown[]);
}

const V2_REQUEST = {
  inputs: [{ name: 'input', datatype: 'FP32', shape: [3, 4], data: [...ROWS[0]!, ...ROWS[1]!, ...ROWS[2]!] }],
};

interface Row {
  exchangeId: string;
  model: string;
  namespace: string;
  index: number;
  input: unknown;
  prediction?: unknown;
  batch?: { id: string; size: number; position: number };
}

async function until<T>(what: string, read: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const v = await read();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('inferlog up (iris, ONNX, batcher) with inferlog.dev/log-instances and a file sink', () => {
  let dir: string;
  let up: CliProcess;
  let port: number;
  let v1: unknown[][];
  let v2: Record<string, unknown>;
  const instancesFile = (): string => path.join(dir, 'requests.instances.jsonl');
  const rows = (): Row[] => {
    try {
      return readFileSync(instancesFile(), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Row);
    } catch {
      return [];
    }
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'inferlog-instances-'));
    port = await freePort();
    const yaml = irisYaml(dir, `file://${path.join(dir, 'requests.jsonl')}?format=record`, {
      'inferlog.dev/log-instances': 'true',
      // The petal width of every instance is withheld: instance rows come from the redacted bodies.
      'inferlog.dev/redact-json-paths': 'instances[*][3]',
    });
    up = await startCli(['up', '-f', yaml, '--host', '127.0.0.1', '--port', String(port)]);
    v1 = await concurrentV1(port);
    v2 = await post(port, '/v2/models/iris/infer', V2_REQUEST);
    // The model refuses a bad instance: the batcher answers predictions null, so no rows (counted).
    await post(port, '/v1/models/iris:predict', { instances: [[1, 2]] });
  }, 60_000);

  afterAll(async () => {
    await up?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('writes one row per V1 instance, paired with the prediction its client got, with the batch', async () => {
    await until('the instance rows', async () => (rows().length >= 4 * 2 + 3 ? true : undefined));
    const byExchange = new Map<string, Row[]>();
    for (const r of rows().filter((r) => Array.isArray(r.input)))
      byExchange.set(r.exchangeId, [...(byExchange.get(r.exchangeId) ?? []), r]);
    expect(byExchange.size).toBe(4);
    const seen = [...byExchange.values()].map((rs) => ({
      inputs: rs.map((r) => r.input),
      predictions: rs.map((r) => r.prediction),
      indexes: rs.map((r) => r.index),
      batched: rs.every((r) => r.batch !== undefined && r.batch.position >= 0),
    }));
    const expected = [0, 1, 2, 3].map((i) => ({
      inputs: [ROWS[i], ROWS[(i + 1) % 4]].map((r) => [...r!.slice(0, 3), '[REDACTED]']),
      predictions: v1[i],
      indexes: [0, 1],
      batched: true,
    }));
    expect(seen).toEqual(expect.arrayContaining(expected));
    expect(rows()[0]).toMatchObject({ kind: 'instance', model: 'iris', namespace: 'ml' });
  });

  it('cuts a V2 request along its first dimension, each output likewise', () => {
    const outputs = v2.outputs as Array<{ name: string; data: unknown[] }>;
    const label = outputs.find((o) => o.name === 'label')!.data;
    const probabilities = outputs.find((o) => o.name === 'probabilities')!.data;
    const v2rows = rows().filter((r) => !Array.isArray(r.input));
    expect(v2rows.map((r) => r.index)).toEqual([0, 1, 2]);
    expect(v2rows[1]).toMatchObject({
      input: { input: { datatype: 'FP32', shape: [4], data: ROWS[1] } },
      prediction: {
        label: { datatype: 'INT64', shape: [], data: [label[1]] },
        probabilities: { datatype: 'FP32', shape: [3], data: probabilities.slice(3, 6) },
      },
    });
  });

  it('leaves the exchange log as it was, and counts rows and skipped exchanges on /metrics', async () => {
    const exchanges = readFileSync(path.join(dir, 'requests.jsonl'), 'utf8').split('\n').filter(Boolean);
    expect(exchanges.every((l) => !('kind' in (JSON.parse(l) as object)))).toBe(true);
    const text = await until('the metrics', async () => {
      const t = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return /inferlog_instances_skipped_total\{reason="no_predictions"\} 1/.test(t) ? t : undefined;
    });
    expect(text).toMatch(/^inferlog_instance_rows_total 11$/m);
    expect(text).toMatch(/^inferlog_instances_skipped_total\{reason="too_many"\} 0$/m);
  });
});

describe.each(['sqlite', 'postgres'] as const)(
  'inferlog up (iris, batcher) ──http──▶ inferlog collect --log-instances (%s)',
  (kind) => {
    let dir: string;
    let up: CliProcess;
    let collector: CliProcess;
    let port: number;
    let collectorPort: number;
    let schema: string | undefined;
    let baseUrl = '';

    beforeAll(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'inferlog-instances-'));
      let store = `sqlite:${path.join(dir, 'inferlog.db')}`;
      if (kind === 'postgres') {
        baseUrl = (await ensurePostgres()).url;
        schema = `inst_${process.pid}_${Date.now().toString(36)}`;
        const c = new pg.Client({ connectionString: baseUrl });
        await c.connect();
        await c.query(`CREATE SCHEMA ${schema}`);
        await c.end();
        const u = new URL(baseUrl);
        u.searchParams.set('options', `-c search_path=${schema}`);
        store = u.toString();
      }
      collectorPort = await freePort();
      collector = await startCli([
        'collect',
        '--port',
        String(collectorPort),
        '--store',
        store,
        '--log-instances',
      ]);
      port = await freePort();
      const yaml = irisYaml(dir, `http://127.0.0.1:${collectorPort}/`);
      up = await startCli(['up', '-f', yaml, '--host', '127.0.0.1', '--port', String(port)]);
    }, 180_000);

    afterAll(async () => {
      await up?.stop();
      await collector?.stop();
      if (schema) {
        const c = new pg.Client({ connectionString: baseUrl });
        await c.connect();
        await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await c.end();
      }
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('stores one row per prediction, listed by model and per exchange', async () => {
      const predictions = await concurrentV1(port);
      const api = `http://127.0.0.1:${collectorPort}/api/v1/instances?model=iris&limit=1000`;
      const items = await until('8 instance rows', async () => {
        const r = (await (await fetch(api)).json()) as { items: Row[] };
        return r.items.length >= 8 ? r.items : undefined;
      });
      expect(items).toHaveLength(8);
      const byExchange = new Map<string, Row[]>();
      for (const r of items) byExchange.set(r.exchangeId, [...(byExchange.get(r.exchangeId) ?? []), r]);
      expect([...byExchange.values()].map((rs) => rs.map((r) => [r.index, r.input, r.prediction]))).toEqual(
        expect.arrayContaining(
          [0, 1, 2, 3].map((i) => [
            [0, ROWS[i], predictions[i]![0]],
            [1, ROWS[(i + 1) % 4], predictions[i]![1]],
          ]),
        ),
      );
      const [id] = byExchange.keys();
      const one = (await (
        await fetch(`http://127.0.0.1:${collectorPort}/api/v1/exchanges/${id}/instances`)
      ).json()) as { items: Row[] };
      expect(one.items.map((r) => r.index)).toEqual([0, 1]);
      const metrics = await (await fetch(`http://127.0.0.1:${collectorPort}/metrics`)).text();
      expect(metrics).toMatch(/^inferlog_collector_instance_rows_total 8$/m);
    });
  },
);
