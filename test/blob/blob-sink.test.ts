// The blob sink (src/sinks/blob/) against moto's real S3 server: the shared Sink contract, KServe's
// object keys for every batch shape, a marshaller service of the user's own (KServe's HTTP
// marshaller protocol), hostile ids, and how S3 failures are classified for the pipeline's retry.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferlogError } from '../../src/core/errors.js';
import { createBlobSink } from '../../src/sinks/blob/sink.js';
import { contractExchange, sinkContract } from '../../src/sinks/sink.contract.js';
import type { BlobStoreOptions, SinkOptions } from '../../src/sinks/sink.js';
import { classifyS3Error, openS3ObjectStore } from '../../src/transport/object-store/s3.js';
import { parseBlobUrl } from '../../src/transport/object-store/open.js';
import type { ObjectStore } from '../../src/transport/object-store/object-store.js';
import { startMoto, type Moto } from '../helpers/moto.js';

let moto: Moto;
let reader: ObjectStore;
let bucketSeq = 0;
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  moto = await startMoto();
  // The sink reads KServe's variables from the environment, as the agent does.
  for (const [k, v] of Object.entries(moto.env)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  reader = await openS3ObjectStore(
    { scheme: 's3', bucket: 'unused', prefix: '' },
    { credentials: moto.credentials },
  );
}, 120_000);

afterAll(async () => {
  await reader?.close();
  await moto?.stop();
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

async function newBucket(): Promise<string> {
  const name = `blob-sink-${process.pid}-${++bucketSeq}`;
  await moto.createBucket(name);
  return name;
}

function options(batchSize: number, store?: BlobStoreOptions): SinkOptions {
  return {
    batchSize,
    batchIntervalMs: 0,
    timeoutMs: 10_000,
    tls: { skipVerify: false },
    ...(store ? { store } : {}),
  };
}

async function objects(bucket: string): Promise<Array<{ key: string; text: string }>> {
  const store = await openS3ObjectStore(
    { scheme: 's3', bucket, prefix: '' },
    { credentials: moto.credentials },
  );
  try {
    const out: Array<{ key: string; text: string }> = [];
    for await (const o of store.list(''))
      out.push({ key: o.key, text: Buffer.from(await store.get(o.key)).toString('utf8') });
    return out;
  } finally {
    await store.close();
  }
}

/** Record ids in json objects (an object or an array of them) and csv objects (the id column). */
function idsIn(objs: Array<{ key: string; text: string }>): string[] {
  const ids: string[] = [];
  for (const o of objs) {
    if (o.key.endsWith('.json')) {
      const doc = JSON.parse(o.text) as { id: string } | Array<{ id: string }>;
      for (const r of Array.isArray(doc) ? doc : [doc]) ids.push(r.id);
    } else if (o.key.endsWith('.csv')) {
      const lines = o.text.trim().split('\n').slice(1);
      for (const l of lines) ids.push(l.split(',')[4] as string);
    }
  }
  return ids;
}

for (const [label, batchSize, format] of [
  ['s3 json, one record per object', 1, 'json'],
  ['s3 json, batches of 3 records', 3, 'json'],
  ['s3 csv, batches of 4 records', 4, 'csv'],
] as const) {
  sinkContract(`blob (${label})`, {
    async create() {
      const bucket = await newBucket();
      return {
        sink: createBlobSink(new URL(`s3://${bucket}/logs`), options(batchSize, { path: 'p', format })),
        delivered: async () => idsIn(await objects(bucket)),
        close: async () => {},
      };
    },
  });
}

const live = (): AbortSignal => new AbortController().signal;

describe('blob sink object keys (KServe store.go getObjectKey)', () => {
  it('batch size 1: one object per record, <prefix>/<ns>/<isvc>/<component>/<path>/<id>-<request|response>.<ext>', async () => {
    const bucket = await newBucket();
    const sink = createBlobSink(
      new URL(`s3://${bucket}/a/b/`),
      options(1, { path: '/store/day/', format: 'json' }),
    );
    await sink.send([contractExchange('ex-1')], live());
    await sink.shutdown();
    const got = await objects(bucket);
    // Go's path.Join: empty parts dropped, doubled and trailing slashes cleaned.
    expect(got.map((o) => o.key).sort()).toEqual([
      'a/b/ns/iris/predictor/store/day/ex-1-request.json',
      'a/b/ns/iris/predictor/store/day/ex-1-response.json',
    ]);
    // One record: a JSON object, not an array (KServe's JSON marshaller).
    for (const o of got) expect(JSON.parse(o.text)).toMatchObject({ id: 'ex-1' });
  });

  it('mode response names the object after the response record; odd batch sizes split across objects', async () => {
    const bucket = await newBucket();
    const sink = createBlobSink(new URL(`s3://${bucket}`), options(3, { path: '', format: 'csv' }));
    await sink.send(
      [
        contractExchange('a'),
        contractExchange('b'),
        contractExchange('c', { mode: 'response', request: undefined }),
      ],
      live(),
    );
    await sink.shutdown();
    const got = await objects(bucket);
    // Records a-req a-res b-req | b-res c-res: two objects, each named by its first record.
    expect(got.map((o) => o.key).sort()).toEqual([
      'ns/iris/predictor/a-request.csv',
      'ns/iris/predictor/b-response.csv',
    ]);
    expect(idsIn(got).sort()).toEqual(['a', 'a', 'b', 'b', 'c']);
  });

  it('a retried batch overwrites its objects instead of adding new ones', async () => {
    const bucket = await newBucket();
    const sink = createBlobSink(new URL(`s3://${bucket}/x`), options(2, { path: 'p', format: 'json' }));
    const batch = [contractExchange('r1'), contractExchange('r2')];
    await sink.send(batch, live());
    await sink.send(batch, live());
    await sink.shutdown();
    expect((await objects(bucket)).map((o) => o.key).sort()).toEqual([
      'x/ns/iris/predictor/p/r1-request.json',
      'x/ns/iris/predictor/p/r2-request.json',
    ]);
  });

  it("a client-chosen id cannot move its object out of the service's prefix or split the key", async () => {
    const bucket = await newBucket();
    const sink = createBlobSink(new URL(`s3://${bucket}/logs`), options(1, { path: 'p', format: 'json' }));
    const hostile = ['../../other-ns/victim/predictor/p/x', 'a/b', '..', '%2e%2e', 'a\\b\u0000c'];
    await sink.send(
      hostile.map((id) => contractExchange(id, { mode: 'request' })),
      live(),
    );
    await sink.shutdown();
    const got = await objects(bucket);
    expect(got).toHaveLength(hostile.length);
    for (const o of got) {
      expect(o.key.startsWith('logs/ns/iris/predictor/p/')).toBe(true);
      expect(o.key.slice('logs/ns/iris/predictor/p/'.length)).not.toContain('/');
    }
    // The record keeps the id as the client sent it; only the key segment is encoded.
    expect(idsIn(got).sort()).toEqual([...hostile].sort());
  });
});

describe('a marshaller service of your own (--log-marshaller-url, KServe HTTPMarshaller protocol)', () => {
  let server: Server;
  let url: string;
  let received: Array<{ method: string; contentType: string; body: string }> = [];
  let answer: { status: number; extension?: string; body: string } = { status: 200, body: '' };

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({
          method: req.method ?? '',
          contentType: req.headers['content-type'] ?? '',
          body: Buffer.concat(chunks).toString('utf8'),
        });
        res.writeHead(answer.status, {
          'content-type': 'application/x-ndjson',
          ...(answer.extension !== undefined ? { 'x-log-marshal-extension': answer.extension } : {}),
        });
        res.end(answer.body);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/marshal`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('posts the batch as a JSON array of LogRequests and stores the answer under the extension it names', async () => {
    received = [];
    answer = { status: 200, extension: 'ndjson', body: '{"custom":1}\n{"custom":2}\n' };
    const bucket = await newBucket();
    const sink = createBlobSink(
      new URL(`s3://${bucket}/m`),
      options(2, { path: 'p', format: 'parquet', marshallerUrl: url }),
    );
    await sink.send([contractExchange('m1')], live());
    await sink.shutdown();
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ method: 'POST', contentType: 'application/json' });
    const batch = JSON.parse(received[0]?.body ?? '') as Array<Record<string, unknown>>;
    expect(batch.map((r) => [r.id, r.reqType])).toEqual([
      ['m1', 'org.kubeflow.serving.inference.request'],
      ['m1', 'org.kubeflow.serving.inference.response'],
    ]);
    expect(batch[0]).toMatchObject({
      url: { Scheme: 's3', Host: bucket, Path: '/m' },
      bytes: Buffer.from('{"instances":[[1,2]]}').toString('base64'),
      inferenceService: 'iris',
    });
    expect(await objects(bucket)).toEqual([
      { key: 'm/ns/iris/predictor/p/m1-request.ndjson', text: '{"custom":1}\n{"custom":2}\n' },
    ]);
  });

  it('defaults the extension to json; a 5xx is retryable, a 4xx is not, an unsafe extension is refused', async () => {
    const bucket = await newBucket();
    const sink = createBlobSink(
      new URL(`s3://${bucket}`),
      options(1, { path: '', format: 'json', marshallerUrl: url }),
    );
    answer = { status: 200, body: '{}' };
    await sink.send([contractExchange('d', { mode: 'request' })], live());
    expect((await objects(bucket)).map((o) => o.key)).toEqual(['ns/iris/predictor/d-request.json']);
    const failure = async (a: typeof answer): Promise<InferlogError> => {
      answer = a;
      const err = await sink
        .send([contractExchange('f', { mode: 'request' })], live())
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InferlogError);
      return err as InferlogError;
    };
    expect((await failure({ status: 503, body: 'busy' })).code).toBe('SINK_SERVER_ERROR');
    expect((await failure({ status: 400, body: 'bad' })).kind).toBe('permanent');
    const unsafe = await failure({ status: 200, extension: '../../x', body: '{}' });
    expect(unsafe.code).toBe('SINK_REJECTED');
    expect(unsafe.message).toMatch(/X-Log-Marshal-Extension/);
    await sink.shutdown();
    expect((await objects(bucket)).map((o) => o.key)).toEqual(['ns/iris/predictor/d-request.json']);
  });
});

describe('S3 failures, classified for the pipeline (real moto)', () => {
  it('a missing bucket and a stopped server are retryable (the exchanges wait); access denied is not', async () => {
    const missing = createBlobSink(
      new URL('s3://no-such-bucket-here/x'),
      options(1, { path: '', format: 'json' }),
    );
    const err = (await missing
      .send([contractExchange('n')], live())
      .catch((e: unknown) => e)) as InferlogError;
    expect(err).toBeInstanceOf(InferlogError);
    expect([err.code, err.kind]).toEqual(['SINK_UNREACHABLE', 'retryable']);
    expect(err.message).toMatch(/NoSuchBucket/);
    expect(classifyS3Error({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }, 'w').code).toBe(
      'SINK_REJECTED',
    );
    expect(classifyS3Error({ name: 'SlowDown', $metadata: { httpStatusCode: 503 } }, 'w').code).toBe(
      'SINK_THROTTLED',
    );
    expect(classifyS3Error({ name: 'InternalError', $metadata: { httpStatusCode: 500 } }, 'w').code).toBe(
      'SINK_SERVER_ERROR',
    );
    expect(classifyS3Error({ name: 'ExpiredToken', $metadata: { httpStatusCode: 400 } }, 'w').kind).toBe(
      'retryable',
    );
    await missing.shutdown();

    const other = await startMoto();
    const bucket = 'soon-gone';
    await other.createBucket(bucket);
    const store = await openS3ObjectStore(parseBlobUrl(`s3://${bucket}`), { credentials: other.credentials });
    await store.put('k', new Uint8Array([1]));
    await other.stop();
    const down = (await store.put('k', new Uint8Array([1])).catch((e: unknown) => e)) as InferlogError;
    expect(down).toBeInstanceOf(InferlogError);
    expect(down.kind).toBe('retryable');
    await store.close();
  }, 120_000);

  it('large objects go up as multipart uploads and read back whole', async () => {
    const bucket = await newBucket();
    const store = await openS3ObjectStore(parseBlobUrl(`s3://${bucket}`), { credentials: moto.credentials });
    const big = new Uint8Array(20 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4096) big[i] = i % 251;
    await store.put('big.bin', big);
    const back = await store.get('big.bin');
    expect(back.byteLength).toBe(big.byteLength);
    expect(Buffer.compare(Buffer.from(back), Buffer.from(big))).toBe(0);
    const err = (await store.get('absent').catch((e: unknown) => e)) as InferlogError;
    expect(err.code).toBe('NOT_FOUND');
    await store.close();
  }, 120_000);
});
