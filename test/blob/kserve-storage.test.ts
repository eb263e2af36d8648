// Issue 11 (part 1): KServe 0.20's storage logger, end to end, against real peers.
//
//   client ──▶ inferlog agent (the FULL argument list KServe 0.20's webhook passes) ──▶ model (127.0.0.1)
//                   └── blob sink ──S3 API──▶ moto_server (127.0.0.1) ◀── boto3 + pyarrow + duckdb (Python)
//
//   same requests ──▶ KServe's real Go agent (same flags) ──▶ the same moto ──▶ compared key for key,
//                                                                              column for column
//
// Every column of every record is compared with what was served (request and response bytes,
// metadata, names), read back by two independent readers. Against KServe's own objects: the key
// layout and every column must match except the ids (each agent makes its own) and
// tlsSkipVerify: KServe's agent parses the webhook's `--logger-tls-skip-verify false` with pflag,
// which takes `false` as a positional argument and sets the flag to true; inferlog reads `false`.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, type CliProcess } from '../helpers/cli.js';
import { startKserveAgent } from '../helpers/kserve-agent.js';
import { startMoto, type Moto } from '../helpers/moto.js';
import { freePort, kserveAgentBin, pythonBin, REPO_ROOT } from '../helpers/peers.js';

let kserveMissing: string | undefined;
try {
  kserveAgentBin();
} catch (err) {
  if (process.env.CI) throw err;
  kserveMissing = (err as Error).message;
}

const BUCKET = 'inference-logs';
const LOG_URL = `s3://${BUCKET}/kserve`;
const FORMATS = ['json', 'csv', 'parquet'] as const;
type Format = (typeof FORMATS)[number];

/** Requests chosen to exercise every encoding: JSON, CSV quoting (comma, quote, newline, leading space), binary. */
const REQUESTS: Array<{ rid: string; body: Buffer; contentType: string }> = [
  { rid: 'r1', body: Buffer.from('{"instances":[[6.8,2.8,4.8,1.4]]}'), contentType: 'application/json' },
  { rid: 'r2', body: Buffer.from(' a,b "quoted"\nline two'), contentType: 'text/plain' },
  { rid: 'r3', body: Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80]), contentType: 'application/octet-stream' },
  { rid: 'r4', body: Buffer.from('{"instances":["<&>"]}'), contentType: 'application/json' },
];

/** The model's answer to a body: deterministic, different from the request. */
const answerTo = (body: Buffer): Buffer => Buffer.from(JSON.stringify({ predictions: [body.length] }));

interface ReadObject {
  key: string;
  size: number;
  text?: string;
  schema?: Array<[string, string, boolean]>;
  pyarrow?: Array<Record<string, unknown>>;
  duckdb?: Array<Record<string, unknown>>;
  duckdb_types?: Array<[string, string]>;
  json?: Array<Record<string, unknown>>;
  single?: boolean;
}

function readObjects(moto: Moto, prefix: string): Promise<ReadObject[]> {
  return new Promise((resolve, reject) => {
    execFile(
      pythonBin(),
      [path.join(REPO_ROOT, 'test/blob/read-objects.py'), BUCKET, prefix],
      { env: { ...process.env, ...moto.env }, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`read-objects.py failed: ${err.message}\n${stderr}`));
        else resolve((JSON.parse(stdout) as { objects: ReadObject[] }).objects);
      },
    );
  });
}

/** What KServe's 0.20 webhook passes a storage logger's agent (agent_injector.go), in its order. */
function webhookArgs(format: Format, storePath: string): string[] {
  return [
    '--log-url',
    LOG_URL,
    '--source-uri',
    'sklearn-iris-predictor-00001-deployment-7c9f8d',
    '--log-mode',
    'all',
    '--inference-service',
    'sklearn-iris',
    '--namespace',
    'kserve-test',
    '--endpoint',
    'default',
    '--component',
    'predictor',
    '--log-store-path',
    storePath,
    '--log-store-format',
    format,
    '--log-batch-size',
    '2',
    '--log-batch-interval',
    '1s',
    '--metadata-headers',
    'X-Request-Id',
    '--metadata-annotations',
    'serving.kserve.io/deploymentMode=RawDeployment',
    '--logger-tls-skip-verify',
    'false',
  ];
}

let moto: Moto;
let model: Server;
let modelPort: number;

beforeAll(async () => {
  moto = await startMoto();
  await moto.createBucket(BUCKET);
  model = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(answerTo(Buffer.concat(chunks)));
    });
  });
  await new Promise<void>((r) => model.listen(0, '127.0.0.1', r));
  modelPort = (model.address() as AddressInfo).port;
}, 120_000);

afterAll(async () => {
  await moto?.stop();
  await new Promise((r) => model?.close(r));
});

/** Sends REQUESTS one at a time (so both agents batch them the same way). */
async function sendAll(port: number): Promise<void> {
  for (const r of REQUESTS) {
    const res = await fetch(`http://127.0.0.1:${port}/v1/models/sklearn-iris:predict`, {
      method: 'POST',
      body: r.body,
      headers: { 'content-type': r.contentType, 'x-request-id': r.rid },
    });
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(answerTo(r.body));
  }
}

async function startOurAgent(args: string[]): Promise<{ cli: CliProcess; port: number }> {
  const port = await freePort();
  const cli = runCli(
    ['agent', '--port', String(port), '--host', '127.0.0.1', '--component-port', String(modelPort), ...args],
    moto.env,
  );
  await cli.waitFor((c) => /ready/.test(c.stderr() + c.stdout()), 'agent ready', 30_000);
  return { cli, port };
}

/** A record in the form every reader gives back: column → text (tlsSkipVerify as given). */
type Row = Record<string, unknown>;

/** The records the served exchanges must have produced, keyed by `<X-Request-Id>/<request|response>`. */
function expectedRows(): Map<string, Row> {
  const out = new Map<string, Row>();
  for (const r of REQUESTS) {
    const common = {
      url: LOG_URL,
      contentType: r.contentType, // the request's, on both records (KServe)
      sourceUri: 'sklearn-iris-predictor-00001-deployment-7c9f8d',
      inferenceService: 'sklearn-iris',
      namespace: 'kserve-test',
      component: 'predictor',
      endpoint: 'default',
      metadata: `{"X-Request-Id":["${r.rid}"]}`,
      annotations: '{"serving.kserve.io/deploymentMode":"RawDeployment"}',
      certName: 'service-ca.crt',
    };
    out.set(`${r.rid}/request`, {
      ...common,
      bytes: r.body.toString('base64'),
      reqType: 'org.kubeflow.serving.inference.request',
    });
    out.set(`${r.rid}/response`, {
      ...common,
      bytes: answerTo(r.body).toString('base64'),
      reqType: 'org.kubeflow.serving.inference.response',
    });
  }
  return out;
}

/** Tabular rows (csv, parquet) of every object, checked, keyed like expectedRows. */
function rowsByRequest(objects: ReadObject[], reader: 'pyarrow' | 'duckdb'): Map<string, Row> {
  const out = new Map<string, Row>();
  for (const o of objects) {
    for (const row of o[reader] ?? []) {
      const rid = (JSON.parse(String(row.metadata)) as { 'X-Request-Id': string[] })['X-Request-Id'][0];
      const half = String(row.reqType).endsWith('request') ? 'request' : 'response';
      out.set(`${rid}/${half}`, row);
    }
  }
  return out;
}

/** KServe's key layout with the id made a placeholder (each agent makes its own ids). */
function keyShape(key: string): string {
  return key.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/, '<id>');
}

function withoutIds(row: Row): Row {
  const { id: _id, tlsSkipVerify: _tls, ...rest } = row;
  return rest;
}

describe('inferlog agent with KServe 0.20 storage logger flags (s3:// on moto)', () => {
  const ours = new Map<Format, ReadObject[]>();

  it.each(FORMATS)(
    "serves and logs with the webhook's full argument list, format %s: KServe's keys, every column as served (pyarrow and duckdb)",
    async (format) => {
      const storePath = `ours-${format}`;
      const { cli, port } = await startOurAgent(webhookArgs(format, storePath));
      try {
        await sendAll(port);
      } finally {
        // SIGTERM drains the pipeline: every batch is stored before the agent exits.
        expect(await cli.stop('SIGTERM')).toBe(0);
      }
      const objects = await readObjects(moto, `kserve/kserve-test/sklearn-iris/predictor/${storePath}/`);
      ours.set(format, objects);
      // Batch size 2, requests one at a time: one object per exchange, named after its request record.
      expect(objects.map((o) => keyShape(o.key)).sort()).toEqual(
        Array.from(
          { length: REQUESTS.length },
          () => `kserve/kserve-test/sklearn-iris/predictor/${storePath}/<id>-request.${format}`,
        ),
      );
      const expected = expectedRows();
      if (format === 'json') {
        for (const o of objects) {
          expect(o.single).toBe(false); // two records: a JSON array, as KServe's marshaller writes
          const [req, res] = o.json as Row[];
          expect(o.key).toContain(`/${String(req?.id)}-request.json`);
          expect(res?.id).toBe(req?.id);
          for (const rec of [req, res] as Row[]) {
            const rid = (rec.metadata as { 'X-Request-Id': string[] })['X-Request-Id'][0];
            const half = String(rec.reqType).endsWith('request') ? 'request' : 'response';
            const want = expected.get(`${rid}/${half}`) as Row;
            expect(rec).toMatchObject({
              url: { Scheme: 's3', Host: BUCKET, Path: '/kserve' },
              bytes: want.bytes,
              contentType: want.contentType,
              reqType: want.reqType,
              sourceUri: { Scheme: '', Path: 'sklearn-iris-predictor-00001-deployment-7c9f8d' },
              inferenceService: 'sklearn-iris',
              namespace: 'kserve-test',
              component: 'predictor',
              endpoint: 'default',
              metadata: { 'X-Request-Id': [rid] },
              annotations: { 'serving.kserve.io/deploymentMode': 'RawDeployment' },
              certName: 'service-ca.crt',
            });
            expect(rec.tlsSkipVerify).toBeUndefined(); // false: omitted (omitempty)
            expect(String(rec.occurrenceTime)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
          }
          // DuckDB reads the same records.
          expect((o.duckdb ?? []).map((r) => r.bytes)).toEqual([req?.bytes, res?.bytes]);
        }
        return;
      }
      for (const reader of ['pyarrow', 'duckdb'] as const) {
        const got = rowsByRequest(objects, reader);
        expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
        for (const [k, want] of expected) {
          const row = got.get(k) as Row;
          expect([reader, k, withoutIds(row)]).toEqual([reader, k, want]);
          expect(row.tlsSkipVerify).toBe(format === 'csv' ? 'false' : false);
          expect(String(row.id)).toMatch(/^[0-9a-f-]{36}$/);
        }
      }
      if (format === 'parquet') {
        // parquet-go's types: every string BYTE_ARRAY/UTF8, the bool BOOLEAN. parquet-go marks
        // them REQUIRED; DuckDB 1.5 (the pinned @duckdb/node-api) writes OPTIONAL whatever the
        // table says, so readers see nullable columns that never hold a null (README: Blob storage).
        for (const o of objects) {
          expect(o.schema).toEqual([
            ...[
              'url',
              'bytes',
              'contentType',
              'reqType',
              'id',
              'sourceUri',
              'inferenceService',
              'namespace',
              'component',
              'endpoint',
              'metadata',
              'annotations',
              'certName',
            ].map((n) => [n, 'string', true]),
            ['tlsSkipVerify', 'bool', true],
          ]);
        }
      }
    },
    120_000,
  );

  it.skipIf(kserveMissing !== undefined).each(FORMATS)(
    "writes what KServe's own Go agent writes for the same requests, format %s",
    async (format) => {
      const mine = ours.get(format);
      expect(mine, 'the inferlog run of this format ran first').toBeDefined();
      const storePath = `kserve-${format}`;
      const marshallerPort = await freePort();
      const agent = await startKserveAgent({
        componentPort: modelPort,
        env: moto.env,
        args: [
          ...webhookArgs(format, storePath),
          // Its embedded marshaller listens on every interface: a free port, not 9083.
          '--log-marshaller-port',
          String(marshallerPort),
          '--log-marshaller-url',
          `http://localhost:${marshallerPort}/marshal`,
        ],
      });
      // KServe's agent has no drain we can wait for (SIGTERM sleeps 30 s): wait for its objects.
      const prefix = `kserve/kserve-test/sklearn-iris/predictor/${storePath}/`;
      let theirs: ReadObject[] = [];
      try {
        await sendAll(agent.port);
        const deadline = Date.now() + 30_000;
        while (Date.now() < deadline) {
          theirs = await readObjects(moto, prefix);
          if (theirs.length >= REQUESTS.length) break;
          await new Promise((r) => setTimeout(r, 500));
        }
      } finally {
        await agent.stop();
      }
      const shapes = (objs: ReadObject[], p: string): string[] =>
        objs.map((o) => keyShape(o.key).replace(p, '<prefix>/')).sort();
      expect(shapes(mine as ReadObject[], prefix.replace(storePath, `ours-${format}`))).toEqual(
        shapes(theirs, prefix),
      );
      if (format === 'json') {
        // Byte for byte, once ids, times and the tlsSkipVerify quirk are set aside.
        const norm = (o: ReadObject): string =>
          String(o.text)
            .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>')
            .replace(/"occurrenceTime":"[^"]+"/g, '"occurrenceTime":"<t>"')
            .replace(/"tlsSkipVerify":true,/g, '');
        const byBody = (objs: ReadObject[]): string[] => objs.map(norm).sort();
        expect(byBody(mine as ReadObject[])).toEqual(byBody(theirs));
        return;
      }
      if (format === 'csv') {
        const norm = (o: ReadObject): string =>
          String(o.text)
            .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>')
            .replace(/,(true|false)\n/g, ',<tls>\n');
        expect((mine as ReadObject[]).map(norm).sort()).toEqual(theirs.map(norm).sort());
      }
      if (format === 'parquet') {
        // Same names, order and types; only nullability differs (see the test above).
        const shape = (o: ReadObject | undefined): string[] => (o?.schema ?? []).map(([n, t]) => `${n}:${t}`);
        expect(shape((mine as ReadObject[])[0])).toEqual(shape(theirs[0]));
        expect(theirs[0]?.schema?.every(([, , nullable]) => !nullable)).toBe(true);
      }
      for (const reader of ['pyarrow', 'duckdb'] as const) {
        const a = rowsByRequest(mine as ReadObject[], reader);
        const b = rowsByRequest(theirs, reader);
        expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
        for (const [k, row] of a)
          expect([reader, k, withoutIds(row)]).toEqual([reader, k, withoutIds(b.get(k) as Row)]);
        // The pflag quirk: KServe's agent runs with tlsSkipVerify true although the webhook said false.
        for (const row of b.values()) expect(String(row.tlsSkipVerify)).toBe('true');
      }
    },
    360_000,
  );
});

describe("every flag of KServe 0.20's agent (cmd/agent/main.go)", () => {
  it('is accepted with its meaning, and the agent serves and logs', async () => {
    const storePath = 'all-flags';
    const { cli, port } = await startOurAgent([
      '--enable-puller=false',
      '--config-dir',
      '/mnt/configs',
      '--model-dir',
      '/mnt/models',
      '--log-url',
      LOG_URL,
      '--workers',
      '5',
      '--source-uri',
      'http://localhost:9081/',
      '--log-mode',
      'request',
      '--log-store-path',
      storePath,
      '--log-store-format',
      'csv',
      '--log-marshaller-url',
      'http://localhost:9083/marshal',
      '--log-marshaller-port',
      '9083',
      '--log-batch-size',
      '1',
      '--log-batch-interval',
      '0s',
      '--inference-service',
      'sklearn-iris',
      '--namespace',
      'kserve-test',
      '--endpoint',
      'default',
      '--component',
      'predictor',
      '--metadata-headers',
      'X-Request-Id',
      '--metadata-annotations',
      'team=ml',
      '--enable-batcher=false',
      '--max-batchsize',
      '32',
      '--max-latency',
      '5000',
      '--probe-period=-1s',
      '--logger-ca-cert-file',
      'my-ca.crt',
      '--logger-tls-skip-verify=false',
    ]);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/v1/models/sklearn-iris:predict`, {
        method: 'POST',
        body: '{"instances":[[1]]}',
        headers: { 'content-type': 'application/json', 'x-request-id': 'all' },
      });
      expect(res.status).toBe(200);
    } finally {
      expect(await cli.stop('SIGTERM')).toBe(0);
    }
    // Nothing listens on the embedded marshaller's port: inferlog marshals in-process.
    expect(cli.stderr()).not.toMatch(/9083/);
    const objects = await readObjects(moto, `kserve/kserve-test/sklearn-iris/predictor/${storePath}/`);
    expect(objects.map((o) => keyShape(o.key))).toEqual([
      `kserve/kserve-test/sklearn-iris/predictor/${storePath}/<id>-request.csv`,
    ]);
    expect(objects[0]?.pyarrow).toEqual([
      expect.objectContaining({
        reqType: 'org.kubeflow.serving.inference.request',
        sourceUri: 'http://localhost:9081/',
        metadata: '{"X-Request-Id":["all"]}',
        annotations: '{"team":"ml"}',
        certName: 'my-ca.crt',
        tlsSkipVerify: 'false',
      }),
    ]);
  }, 120_000);

  it('refuses a format KServe has no marshaller for, naming the flag', async () => {
    const cli = runCli([
      'agent',
      '--port',
      String(await freePort()),
      '--log-url',
      LOG_URL,
      '--log-store-format',
      'avro',
    ]);
    expect(await cli.exited).not.toBe(0);
    expect(cli.stderr()).toMatch(/--log-store-format: "avro" must be one of json, csv, parquet/);
  });
});

describe('inferlog up with logger.storage (s3://, parquet)', () => {
  it('validates, serves and writes KServe-named Parquet objects', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'inferlog-blob-up-'));
    try {
      const file = path.join(dir, 'isvc.yaml');
      writeFileSync(
        file,
        [
          'apiVersion: serving.kserve.io/v1beta1',
          'kind: InferenceService',
          'metadata: {name: simple-model, namespace: kserve-test}',
          'spec:',
          '  predictor:',
          '    logger:',
          '      mode: all',
          `      url: ${LOG_URL}`,
          '      storage:',
          '        path: up-run',
          '        parameters: {format: parquet}',
          '        key: default',
          '      batchSize: 4',
          '      batchInterval: 200ms',
          '    model:',
          '      modelFormat: {name: onnx}',
          `      storageUri: ${path.join(REPO_ROOT, 'examples/models/simple-model')}`,
          '',
        ].join('\n'),
      );
      const validate = runCli(['validate', '-f', file]);
      expect(await validate.exited).toBe(0);
      const port = await freePort();
      const up = await startCli(['up', '-f', file, '--port', String(port)], moto.env);
      const bodies: string[] = [];
      try {
        for (let i = 0; i < 3; i++) {
          const body = JSON.stringify({ instances: [[i]] });
          bodies.push(body);
          const res = await fetch(`http://127.0.0.1:${port}/v1/models/simple-model:predict`, {
            method: 'POST',
            body,
            headers: { 'content-type': 'application/json' },
          });
          expect(res.status).toBe(200);
        }
      } finally {
        expect(await up.stop('SIGTERM')).toBe(0);
      }
      const objects = await readObjects(moto, 'kserve/kserve-test/simple-model/predictor/up-run/');
      expect(objects.length).toBeGreaterThan(0);
      for (const o of objects) expect(keyShape(o.key)).toMatch(/\/up-run\/<id>-(request|response)\.parquet$/);
      const rows = objects.flatMap((o) => o.pyarrow ?? []);
      const duck = objects.flatMap((o) => o.duckdb ?? []);
      expect(duck).toEqual(rows);
      const requests = rows.filter((r) => r.reqType === 'org.kubeflow.serving.inference.request');
      expect(requests.map((r) => Buffer.from(String(r.bytes), 'base64').toString()).sort()).toEqual(
        bodies.sort(),
      );
      expect(rows.filter((r) => r.reqType === 'org.kubeflow.serving.inference.response')).toHaveLength(3);
      for (const r of rows)
        expect(r).toMatchObject({ url: LOG_URL, inferenceService: 'simple-model', namespace: 'kserve-test' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
