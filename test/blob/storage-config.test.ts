// Blob logger credentials end to end, through the real CLI:
//   - `inferlog up` with logger.storage.key + `--storage-config FILE` (KServe's storage-config
//     Secret): the keys are only in that file, not in the environment, and they sign the writes;
//   - `inferlog agent --storage-config DIR --storage-key K` (the Secret as a pod mounts it);
//   - `inferlog agent --log-url gs://…` (fake-gcs-server) and `abfs://…` (Azurite), with KServe's
//     environment, writing KServe-keyed objects the emulators serve back.
// A forwarding proxy (a real 127.0.0.1 server) in front of moto records the Authorization header:
// moto itself accepts any signature, so the proxy is what shows whose keys signed.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openObjectStore, parseBlobUrl } from '../../src/transport/object-store/open.js';
import type { ObjectStore, StoreCredentials } from '../../src/transport/object-store/object-store.js';
import { runCli, startCli } from '../helpers/cli.js';
import { startMoto, type Moto } from '../helpers/moto.js';
import { startAzurite, startFakeGcs } from '../helpers/object-store-emulators.js';
import { freePort, REPO_ROOT } from '../helpers/peers.js';

const BUCKET = 'from-storage-config';
const FILE_KEY_ID = 'AKIASTORAGECONFIGFILE';
const dir = mkdtempSync(path.join(tmpdir(), 'inferlog-storage-config-'));

/** No AWS keys anywhere but the storage-config file, and no instance-metadata probe. */
const NO_AWS_ENV: Record<string, string> = {
  AWS_ACCESS_KEY_ID: '',
  AWS_SECRET_ACCESS_KEY: '',
  AWS_SESSION_TOKEN: '',
  AWS_PROFILE: '',
  AWS_ENDPOINT_URL: '',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'none'),
  AWS_CONFIG_FILE: path.join(dir, 'none'),
  STORAGE_CONFIG: '',
  STORAGE_OVERRIDE_CONFIG: '',
};

let moto: Moto;
let proxy: Server;
let proxyUrl: string;
const seen: Array<{ url: string; headers: IncomingHttpHeaders }> = [];
let model: Server;
let modelPort: number;

beforeAll(async () => {
  moto = await startMoto();
  await moto.createBucket(BUCKET);
  const target = new URL(moto.endpoint);
  proxy = createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    const up = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  model = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"predictions":[1]}');
    });
  });
  await new Promise<void>((r) => model.listen(0, '127.0.0.1', r));
  modelPort = (model.address() as AddressInfo).port;
}, 120_000);

afterAll(async () => {
  await moto?.stop();
  await new Promise((r) => proxy?.close(r));
  await new Promise((r) => model?.close(r));
  rmSync(dir, { recursive: true, force: true });
});

/** Every object under `prefix` of a store, with its text. */
async function objectsIn(
  url: string,
  credentials: StoreCredentials,
  prefix: string,
): Promise<Array<{ key: string; text: string }>> {
  const store: ObjectStore = await openObjectStore(parseBlobUrl(url), { credentials });
  try {
    const out: Array<{ key: string; text: string }> = [];
    for await (const o of store.list(prefix))
      out.push({ key: o.key, text: Buffer.from(await store.get(o.key)).toString('utf8') });
    return out;
  } finally {
    await store.close();
  }
}

/** KServe's record key with the id replaced, so shapes compare. */
const keyShape = (key: string): string => key.replace(/[^/]+-(request|response)\.json$/, '<id>-$1.json');

function s3Entry(): string {
  return JSON.stringify({
    type: 's3',
    access_key_id: FILE_KEY_ID,
    secret_access_key: 'secret-only-in-the-file',
    endpoint_url: proxyUrl,
    region: 'us-east-1',
    bucket: BUCKET,
  });
}

function isvcYaml(name: string, storageKey: string, logUrl: string): string {
  return [
    'apiVersion: serving.kserve.io/v1beta1',
    'kind: InferenceService',
    `metadata: {name: ${name}, namespace: kserve-test}`,
    'spec:',
    '  predictor:',
    '    logger:',
    '      mode: all',
    `      url: ${logUrl}`,
    '      storage:',
    '        path: run',
    '        parameters: {format: json}',
    `        key: ${storageKey}`,
    '    model:',
    '      modelFormat: {name: onnx}',
    `      storageUri: ${path.join(REPO_ROOT, 'examples/models/simple-model')}`,
    '',
  ].join('\n');
}

async function predict(port: number, model: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await fetch(`http://127.0.0.1:${port}/v1/models/${model}:predict`, {
      method: 'POST',
      body: JSON.stringify({ instances: [[i]] }),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  }
}

describe('inferlog up --storage-config FILE with logger.storage.key', () => {
  it('writes with the keys of the named entry, which are in no environment variable', async () => {
    const secret = path.join(dir, 'storage-config.yaml');
    // KServe's storage-config Secret, with a decoy entry that must not be used.
    writeFileSync(
      secret,
      [
        'apiVersion: v1',
        'kind: Secret',
        'metadata: {name: storage-config}',
        'stringData:',
        `  loggerS3: '${s3Entry()}'`,
        `  default: '${JSON.stringify({ type: 's3', access_key_id: 'AKIADECOY', secret_access_key: 'x' })}'`,
        '',
      ].join('\n'),
    );
    const file = path.join(dir, 'up.yaml');
    writeFileSync(file, isvcYaml('simple-model', 'loggerS3', `s3://${BUCKET}/up`));
    seen.length = 0;
    const port = await freePort();
    const up = await startCli(['up', '-f', file, '--port', String(port), '--storage-config', secret], {
      ...NO_AWS_ENV,
      S3_USER_VIRTUAL_BUCKET: 'false',
    });
    try {
      await predict(port, 'simple-model', 3);
    } finally {
      expect(await up.stop('SIGTERM')).toBe(0);
    }
    const objects = await objectsIn(`s3://${BUCKET}`, moto.credentials, 'up/');
    // One request and one response object per exchange (batch size 1), KServe's keys.
    expect(objects).toHaveLength(6);
    for (const o of objects)
      expect(keyShape(o.key)).toMatch(
        /^up\/kserve-test\/simple-model\/predictor\/run\/<id>-(request|response)\.json$/,
      );
    const puts = seen.filter((s) => s.url.startsWith(`/${BUCKET}/up/`));
    expect(puts.length).toBeGreaterThanOrEqual(6);
    for (const s of puts) expect(String(s.headers.authorization)).toContain(`Credential=${FILE_KEY_ID}/`);
  }, 120_000);

  it('a storage key the file does not have stops up before serving, naming the key, the file and the keys it has', async () => {
    const secret = path.join(dir, 'other-config.json');
    writeFileSync(secret, JSON.stringify({ someOtherKey: s3Entry() }));
    const file = path.join(dir, 'missing-key.yaml');
    writeFileSync(file, isvcYaml('simple-model', 'loggerS3', `s3://${BUCKET}/never`));
    const up = runCli(
      ['up', '-f', file, '--port', String(await freePort()), '--storage-config', secret],
      NO_AWS_ENV,
    );
    expect(await up.exited).not.toBe(0);
    expect(up.stderr()).toContain(
      'storage key "loggerS3" is not in the storage config (it has: someOtherKey)',
    );
    expect(up.stderr()).toContain(secret);
    expect(up.stderr()).not.toContain('secret-only-in-the-file');
    expect(up.stderr()).not.toMatch(/\bready\b/);
  }, 60_000);
});

describe('inferlog agent', () => {
  async function agent(
    args: string[],
    env: Record<string, string>,
  ): Promise<{ port: number; stop: () => Promise<number | null> }> {
    const port = await freePort();
    const cli = runCli(
      [
        'agent',
        '--port',
        String(port),
        '--host',
        '127.0.0.1',
        '--component-port',
        String(modelPort),
        '--inference-service',
        'sklearn-iris',
        '--namespace',
        'kserve-test',
        '--component',
        'predictor',
        '--log-store-path',
        'run',
        '--log-store-format',
        'json',
        ...args,
      ],
      env,
    );
    await cli.waitFor((c) => /ready/.test(c.stderr() + c.stdout()), 'agent ready', 30_000);
    return { port, stop: () => cli.stop('SIGTERM') };
  }

  it('--storage-config DIR (the Secret as mounted in a pod) + --storage-key sign the S3 writes', async () => {
    const mounted = path.join(dir, 'mounted');
    mkdirSync(mounted);
    writeFileSync(path.join(mounted, 'loggerS3'), s3Entry());
    seen.length = 0;
    const a = await agent(
      ['--log-url', `s3://${BUCKET}/agent`, '--storage-config', mounted, '--storage-key', 'loggerS3'],
      { ...NO_AWS_ENV, S3_USER_VIRTUAL_BUCKET: 'false' },
    );
    await predict(a.port, 'sklearn-iris', 2);
    expect(await a.stop()).toBe(0);
    const objects = await objectsIn(`s3://${BUCKET}`, moto.credentials, 'agent/');
    expect(objects).toHaveLength(4);
    for (const s of seen.filter((x) => x.url.startsWith(`/${BUCKET}/agent/`)))
      expect(String(s.headers.authorization)).toContain(`Credential=${FILE_KEY_ID}/`);
  }, 120_000);

  it('--storage-key without --storage-config is refused, not ignored', async () => {
    const cli = runCli(
      [
        'agent',
        '--port',
        String(await freePort()),
        '--component-port',
        String(modelPort),
        '--log-url',
        `s3://${BUCKET}/x`,
        '--storage-key',
        'loggerS3',
      ],
      NO_AWS_ENV,
    );
    expect(await cli.exited).not.toBe(0);
    expect(cli.stderr()).toContain('--storage-key');
    expect(cli.stderr()).toContain('--storage-config');
  }, 60_000);

  it('--log-url gs://… writes KServe-keyed objects that fake-gcs-server serves back', async () => {
    const gcs = await startFakeGcs();
    try {
      await gcs.createBucket('gcs-logs');
      const a = await agent(['--log-url', 'gs://gcs-logs/kserve'], { STORAGE_EMULATOR_HOST: gcs.endpoint });
      await predict(a.port, 'sklearn-iris', 2);
      expect(await a.stop()).toBe(0);
      const objects = await objectsIn('gs://gcs-logs', { kind: 'gs', endpoint: gcs.endpoint }, 'kserve/');
      expect(objects).toHaveLength(4);
      for (const o of objects) {
        expect(keyShape(o.key)).toMatch(
          /^kserve\/kserve-test\/sklearn-iris\/predictor\/run\/<id>-(request|response)\.json$/,
        );
        // KServe's json record: url is Go's url.URL struct.
        expect(JSON.parse(o.text)).toMatchObject({
          url: { Scheme: 'gs', Host: 'gcs-logs', Path: '/kserve' },
          inferenceService: 'sklearn-iris',
          namespace: 'kserve-test',
        });
      }
    } finally {
      await gcs.stop();
    }
  }, 120_000);

  it('--log-url abfs://… writes KServe-keyed objects that Azurite serves back', async () => {
    const az = await startAzurite();
    try {
      await az.createContainer('azlogs');
      const url = `abfs://azlogs@${az.account}.dfs.core.windows.net/kserve`;
      const a = await agent(['--log-url', url], { AZURE_STORAGE_CONNECTION_STRING: az.connectionString });
      await predict(a.port, 'sklearn-iris', 2);
      expect(await a.stop()).toBe(0);
      const objects = await objectsIn(
        url,
        { kind: 'abfs', connectionString: az.connectionString },
        'kserve/',
      );
      expect(objects).toHaveLength(4);
      for (const o of objects) {
        expect(keyShape(o.key)).toMatch(
          /^kserve\/kserve-test\/sklearn-iris\/predictor\/run\/<id>-(request|response)\.json$/,
        );
        expect(JSON.parse(o.text)).toMatchObject({
          url: { Scheme: 'abfs', Host: `${az.account}.dfs.core.windows.net`, Path: '/kserve' },
          inferenceService: 'sklearn-iris',
          namespace: 'kserve-test',
        });
      }
    } finally {
      await az.stop();
    }
  }, 120_000);
});
