// Open Inference Protocol (V2) REST over real HTTP: typed JSON tensors and the binary tensor extension.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Running, call, exampleSpecs, makeModels, start } from './harness.js';

let models: ReturnType<typeof makeModels>;
let srv: Running;
beforeAll(async () => {
  models = makeModels();
  srv = await start({ models: exampleSpecs(models.dir) });
});
afterAll(async () => {
  await srv?.close();
  models?.cleanup();
});

interface InferResponse {
  model_name: string;
  id: string;
  outputs: Array<{
    name: string;
    shape: number[];
    datatype: string;
    data?: unknown[];
    parameters?: Record<string, number>;
  }>;
}

/** A binary-extension request: JSON header, then each input's raw bytes. */
function binaryRequest(
  header: unknown,
  ...blobs: Uint8Array[]
): { body: Buffer; headers: Record<string, string> } {
  const json = Buffer.from(JSON.stringify(header));
  return {
    body: Buffer.concat([json, ...blobs]),
    headers: {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': String(json.length),
    },
  };
}

const f32 = (...v: number[]): Uint8Array => new Uint8Array(Float32Array.from(v).buffer);

describe('V2 health and metadata', () => {
  it('answers live, ready, server metadata and the model list', async () => {
    expect((await call(srv.base, 'GET', '/v2/health/live')).json).toEqual({ live: true });
    expect((await call(srv.base, 'GET', '/v2/health/ready')).json).toEqual({ ready: true });
    expect((await call(srv.base, 'GET', '/v2')).json).toMatchObject({ extensions: ['binary_tensor_data'] });
    expect((await call(srv.base, 'GET', '/v2/models')).json).toEqual({
      models: ['simple-model', 'iris', 'echo'],
    });
    expect((await call(srv.base, 'GET', '/v2/models/iris/ready')).json).toEqual({
      name: 'iris',
      ready: true,
    });
    expect((await call(srv.base, 'GET', '/')).json).toEqual({ status: 'alive' });
  });

  it('describes the model inputs and outputs read from the ONNX file', async () => {
    const r = await call(srv.base, 'GET', '/v2/models/iris');
    expect(r.json).toEqual({
      name: 'iris',
      versions: [],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 4] }],
      outputs: [
        { name: 'label', datatype: 'INT64', shape: [-1] },
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
      ],
    });
    expect((await call(srv.base, 'GET', '/v2/models/nope')).status).toBe(404);
    expect((await call(srv.base, 'GET', '/v2/models/nope/ready')).json).toEqual({
      error: 'Model with name nope does not exist.',
    });
  });
});

describe('V2 infer with JSON tensors', () => {
  it('runs the model and answers typed outputs, echoing the request id', async () => {
    const r = await call(srv.base, 'POST', '/v2/models/simple-model/infer', {
      id: 'req-1',
      inputs: [{ name: 'x', shape: [3], datatype: 'FP32', data: [1, 2, 0.1] }],
    });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      model_name: 'simple-model',
      id: 'req-1',
      outputs: [{ name: 'y', shape: [3], datatype: 'FP32', data: [3, 5, 1.2] }],
    });
  });

  it('generates an id when none is sent, and takes nested data and FP64/INT numbers for an FP32 model', async () => {
    const r = await call(srv.base, 'POST', '/v2/models/iris/infer', {
      inputs: [
        {
          name: 'input',
          shape: [2, 4],
          datatype: 'FP64',
          data: [
            [6.8, 2.8, 4.8, 1.4],
            [6, 3, 5, 2],
          ],
        },
      ],
    });
    expect(r.status).toBe(200);
    const body = r.json as InferResponse;
    expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.outputs[0]).toEqual({ name: 'label', shape: [2], datatype: 'INT64', data: [1, 2] });
    expect(body.outputs[1]).toMatchObject({ name: 'probabilities', shape: [2, 3], datatype: 'FP32' });
  });

  it('returns only the requested outputs, and feeds a single input whatever its name (e.g. input-0)', async () => {
    const r = await call(srv.base, 'POST', '/v2/models/iris/infer', {
      inputs: [{ name: 'input-0', shape: [1, 4], datatype: 'FP32', data: [5.1, 3.5, 1.4, 0.2] }],
      outputs: [{ name: 'label' }],
    });
    expect((r.json as InferResponse).outputs).toEqual([
      { name: 'label', shape: [1], datatype: 'INT64', data: [0] },
    ]);
  });

  it('echo model returns BYTES inputs as outputs', async () => {
    const r = await call(srv.base, 'POST', '/v2/models/echo/infer', {
      inputs: [{ name: 'text_input', shape: [2], datatype: 'BYTES', data: ['hello', 'wörld'] }],
    });
    expect((r.json as InferResponse).outputs).toEqual([
      { name: 'text_input', shape: [2], datatype: 'BYTES', data: ['hello', 'wörld'] },
    ]);
  });

  it.each([
    [
      { inputs: [{ name: 'x', shape: [3], datatype: 'FP32', data: [1, 2] }] },
      /shape \[3\] holds 3 elements but data has 2/,
    ],
    [{ inputs: [{ name: 'x', shape: [2], datatype: 'FLOAT32', data: [1, 2] }] }, /invalid datatype FLOAT32/],
    [
      { inputs: [{ name: 'x', shape: [1], datatype: 'BYTES', data: ['a'] }] },
      /datatype BYTES, but model 'simple-model' expects FP32/,
    ],
    [
      { inputs: [{ name: 'x', shape: [2], datatype: 'FP32' }] },
      /'data' field is missing for input 'x' for model 'simple-model'/,
    ],
    [
      { inputs: [{ name: 'x', shape: [-1], datatype: 'FP32', data: [1] }] },
      /Invalid inference request: inputs\.0\.shape\.0/,
    ],
    [{ inputs: [] }, /Invalid inference request: inputs/],
    [
      { inputs: [{ name: 'x', shape: [1], datatype: 'FP32', data: [1] }], outputs: [{ name: 'z' }] },
      /no output named 'z'/,
    ],
  ])('answers 400 for a bad request %#', async (body, message) => {
    const r = await call(srv.base, 'POST', '/v2/models/simple-model/infer', body);
    expect(r.status).toBe(400);
    expect((r.json as { error: string }).error).toMatch(message);
  });

  it('names the expected inputs when a multi-name mismatch happens', async () => {
    const r = await call(srv.base, 'POST', '/v2/models/iris/infer', {
      inputs: [
        { name: 'a', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] },
        { name: 'b', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] },
      ],
    });
    expect(r.status).toBe(400);
    expect((r.json as { error: string }).error).toBe(
      "model 'iris' has no input named 'a'; its inputs are: input",
    );
  });
});

describe('V2 binary tensor data extension', () => {
  it('reads raw FP32 input bytes after the JSON header', async () => {
    const { body, headers } = binaryRequest(
      { inputs: [{ name: 'x', shape: [2], datatype: 'FP32', parameters: { binary_data_size: 8 } }] },
      f32(1, 2),
    );
    const r = await call(srv.base, 'POST', '/v2/models/simple-model/infer', body, headers);
    expect(r.status).toBe(200);
    expect((r.json as InferResponse).outputs[0]).toEqual({
      name: 'y',
      shape: [2],
      datatype: 'FP32',
      data: [3, 5],
    });
  });

  it('mixes binary and JSON inputs and reads BYTES elements (4-byte length + bytes)', async () => {
    const word = Buffer.from('héllo');
    const len = Buffer.alloc(4);
    len.writeUInt32LE(word.length);
    const bytes = Buffer.concat([len, word]);
    const { body, headers } = binaryRequest(
      {
        inputs: [
          { name: 'a', shape: [1], datatype: 'BYTES', parameters: { binary_data_size: bytes.length } },
          { name: 'b', shape: [2], datatype: 'INT32', data: [7, 8] },
        ],
      },
      bytes,
    );
    const r = await call(srv.base, 'POST', '/v2/models/echo/infer', body, headers);
    expect((r.json as InferResponse).outputs).toEqual([
      { name: 'a', shape: [1], datatype: 'BYTES', data: ['héllo'] },
      { name: 'b', shape: [2], datatype: 'INT32', data: [7, 8] },
    ]);
  });

  it('answers binary outputs when asked, with Inference-Header-Content-Length', async () => {
    const { body, headers } = binaryRequest(
      {
        inputs: [{ name: 'x', shape: [3], datatype: 'FP32', parameters: { binary_data_size: 12 } }],
        outputs: [{ name: 'y', parameters: { binary_data: true } }],
      },
      f32(0, 1, 2),
    );
    const r = await fetch(srv.base + '/v2/models/simple-model/infer', { method: 'POST', body, headers });
    expect(r.status).toBe(200);
    const raw = Buffer.from(await r.arrayBuffer());
    const jsonLength = Number(r.headers.get('inference-header-content-length'));
    const head = JSON.parse(raw.subarray(0, jsonLength).toString()) as InferResponse;
    expect(head.outputs).toEqual([
      { name: 'y', shape: [3], datatype: 'FP32', parameters: { binary_data_size: 12 } },
    ]);
    const tail = raw.subarray(jsonLength);
    expect(Array.from(new Float32Array(tail.buffer.slice(tail.byteOffset, tail.byteOffset + 12)))).toEqual([
      1, 3, 5,
    ]);
  });

  it('answers 400 when the binary sizes do not add up', async () => {
    const short = binaryRequest(
      { inputs: [{ name: 'x', shape: [2], datatype: 'FP32', parameters: { binary_data_size: 8 } }] },
      f32(1),
    );
    const r1 = await call(srv.base, 'POST', '/v2/models/simple-model/infer', short.body, short.headers);
    expect(r1.status).toBe(400);
    expect((r1.json as { error: string }).error).toMatch(
      /declares binary_data_size 8, but only 4 bytes follow/,
    );

    const wrong = binaryRequest(
      { inputs: [{ name: 'x', shape: [3], datatype: 'FP32', parameters: { binary_data_size: 8 } }] },
      f32(1, 2),
    );
    const r2 = await call(srv.base, 'POST', '/v2/models/simple-model/infer', wrong.body, wrong.headers);
    expect(r2.status).toBe(400);
    expect((r2.json as { error: string }).error).toMatch(/needs 12 bytes but binary_data_size is 8/);

    const fp64 = binaryRequest(
      { inputs: [{ name: 'x', shape: [1], datatype: 'FP64', parameters: { binary_data_size: 8 } }] },
      new Uint8Array(Float64Array.from([1]).buffer),
    );
    const r3 = await call(srv.base, 'POST', '/v2/models/simple-model/infer', fp64.body, fp64.headers);
    expect(r3.status).toBe(400);
    expect((r3.json as { error: string }).error).toMatch(
      /datatype FP64, but model 'simple-model' expects FP32/,
    );

    const r4 = await call(srv.base, 'POST', '/v2/models/simple-model/infer', '{}', {
      'inference-header-content-length': '999',
    });
    expect(r4.status).toBe(400);
    expect((r4.json as { error: string }).error).toMatch(/Inference-Header-Content-Length is "999"/);
  });
});
