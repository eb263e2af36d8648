// HTTP-level errors: 404/405 routing, 413 body limit (read here or handed over by capture), 500 runtime failures.
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ONNX_FLOAT, floatTensor, model, node, valueInfo } from '../../scripts/make-models.js';
import { type Running, call, exampleSpecs, makeModels, start } from './harness.js';

let models: ReturnType<typeof makeModels>;
let srv: Running;
const LIMIT = 1024;

beforeAll(async () => {
  models = makeModels();
  // Loads fine, fails at run time unless x has 1 or 3 elements: [N] + [3] cannot broadcast.
  writeFileSync(
    join(models.dir, 'broken.onnx'),
    model({
      graphName: 'broken',
      doc: 'fails for most N',
      nodes: [node('Add', ['x', 'c'], ['y'], 'add')],
      initializers: [floatTensor('c', [3], [1, 2, 3])],
      inputs: [valueInfo('x', ONNX_FLOAT, ['N'])],
      outputs: [valueInfo('y', ONNX_FLOAT, ['M'])],
    }),
  );
  srv = await start({
    models: [
      ...exampleSpecs(models.dir),
      { name: 'broken', modelFormat: 'onnx', storageUri: 'broken.onnx', baseDir: models.dir },
    ],
    maxBodyBytes: LIMIT,
  });
});
afterAll(async () => {
  await srv?.close();
  models?.cleanup();
});

describe('routing errors', () => {
  it('answers 404 for unknown routes', async () => {
    for (const path of [
      '/v3/models',
      '/v1/models/iris:explain',
      '/v2/models/iris/versions/1/infer',
      '/v1/models/iris/x',
    ]) {
      const r = await call(srv.base, 'POST', path, {});
      expect(r.status, path).toBe(404);
      expect(r.json).toEqual({ error: 'Not Found' });
    }
  });

  it('answers 405 with Allow for a known route and the wrong method', async () => {
    const get = await call(srv.base, 'GET', '/v1/models/iris:predict');
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect(get.json).toEqual({ error: 'Method Not Allowed' });
    const post = await call(srv.base, 'POST', '/v2/health/ready', {});
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
    const openai = await call(srv.base, 'GET', '/openai/v1/chat/completions');
    expect(openai.status).toBe(405);
    expect(openai.json).toMatchObject({ error: { message: 'Method Not Allowed', code: '405' } });
  });
});

describe('body limit', () => {
  const big = JSON.stringify({ instances: Array.from({ length: 400 }, (_, i) => i) });

  it('answers 413 when Content-Length is over the limit', async () => {
    expect(big.length).toBeGreaterThan(LIMIT);
    const r = await call(srv.base, 'POST', '/v1/models/simple-model:predict', big);
    expect(r.status).toBe(413);
    expect(r.json).toEqual({ error: `Request body is larger than the limit of ${LIMIT} bytes` });
  });

  it('answers 413 for a chunked body that grows over the limit', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${srv.base}/v2/models/simple-model/infer`, { method: 'POST' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write(big.slice(0, 600)); // no Content-Length: chunked transfer
      req.end(big.slice(600));
    });
    expect(status).toBe(413);
  });

  it('holds a body handed over by a capture wrapper to the same limit', async () => {
    const over = Buffer.from(big);
    const under = Buffer.from('{"instances":[1]}');
    const wrapped = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => srv.models.handle(req, res, req.url?.includes('under') ? under : over));
    });
    await new Promise<void>((resolve) => wrapped.listen(0, '127.0.0.1', resolve));
    const port = (wrapped.address() as { port: number }).port;
    try {
      const a = await call(`http://127.0.0.1:${port}`, 'POST', '/v1/models/simple-model:predict?over', '');
      expect(a.status).toBe(413);
      const b = await call(`http://127.0.0.1:${port}`, 'POST', '/v1/models/simple-model:predict?under', '');
      expect(b.json).toEqual({ predictions: [3] });
    } finally {
      wrapped.closeAllConnections();
      await new Promise((resolve) => wrapped.close(resolve));
    }
  });
});

describe('runtime failures', () => {
  it('answers 500 with the runtime message when the model fails, and keeps serving', async () => {
    const r = await call(srv.base, 'POST', '/v1/models/broken:predict', { instances: [1, 2] });
    expect(r.status).toBe(500);
    expect((r.json as { error: string }).error).toMatch(/^model 'broken' failed: /);
    const ok = await call(srv.base, 'POST', '/v1/models/broken:predict', { instances: [1, 2, 3] });
    expect(ok.json).toEqual({ predictions: [2, 4, 6] });
  });
});
