// KServe V1 protocol over real HTTP against real ONNX models.
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

describe('V1 protocol', () => {
  it('lists the models and reports each ready', async () => {
    expect((await call(srv.base, 'GET', '/v1/models')).json).toEqual({
      models: ['simple-model', 'iris', 'echo'],
    });
    const ready = await call(srv.base, 'GET', '/v1/models/iris');
    expect(ready.status).toBe(200);
    expect(ready.json).toEqual({ name: 'iris', ready: true });
    expect(srv.models.modelNames).toEqual(['simple-model', 'iris', 'echo']);
  });

  it('predicts with the seed tutorial request: y = 2x + 1', async () => {
    const r = await call(srv.base, 'POST', '/v1/models/simple-model:predict', '{"instances": [1.0, 2.0]}');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json');
    expect(r.json).toEqual({ predictions: [3, 5] });
  });

  it('classifies the KServe sklearn-iris sample like KServe does: {"predictions":[1,1]}', async () => {
    const r = await call(srv.base, 'POST', '/v1/models/iris:predict', {
      instances: [
        [6.8, 2.8, 4.8, 1.4],
        [6.0, 3.4, 4.5, 1.6],
      ],
    });
    expect(r.status).toBe(200);
    expect(r.text).toBe('{"predictions":[1,1]}');
  });

  it('accepts "inputs" in place of "instances"', async () => {
    const r = await call(srv.base, 'POST', '/v1/models/iris:predict', { inputs: [[5.1, 3.5, 1.4, 0.2]] });
    expect(r.json).toEqual({ predictions: [0] });
  });

  it('echo model returns its instances', async () => {
    const r = await call(srv.base, 'POST', '/v1/models/echo:predict', { instances: ['a b', { k: 1 }] });
    expect(r.json).toEqual({ predictions: ['a b', { k: 1 }] });
  });

  it('answers 400 with a reason for instances that do not fit the model', async () => {
    const wide = await call(srv.base, 'POST', '/v1/models/iris:predict', { instances: [[1, 2, 3]] });
    expect(wide.status).toBe(400);
    expect((wide.json as { error: string }).error).toMatch(
      /shape \[1, 3\] does not match the model's \[N, 4\]/,
    );

    const ragged = await call(srv.base, 'POST', '/v1/models/iris:predict', {
      instances: [
        [1, 2, 3, 4],
        [1, 2],
      ],
    });
    expect(ragged.status).toBe(400);
    expect((ragged.json as { error: string }).error).toMatch(/instances\[1\] should be a list of 4/);

    const text = await call(srv.base, 'POST', '/v1/models/simple-model:predict', { instances: [1, 'two'] });
    expect(text.status).toBe(400);
    expect((text.json as { error: string }).error).toMatch(/element 1 \("two"\) is not a number/);

    const none = await call(srv.base, 'POST', '/v1/models/simple-model:predict', { data: [1] });
    expect(none.status).toBe(400);
    expect(none.json).toEqual({ error: 'Expected "instances" (or "inputs") to be a non-empty list' });
  });

  it('answers 400 for malformed JSON and 404 for an unknown model, with KServe texts', async () => {
    const bad = await call(srv.base, 'POST', '/v1/models/iris:predict', '{"instances": [1,');
    expect(bad.status).toBe(400);
    expect((bad.json as { error: string }).error).toMatch(/^Unrecognized request format: /);

    const missing = await call(srv.base, 'POST', '/v1/models/nope:predict', { instances: [1] });
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({ error: 'Model with name nope does not exist.' });
    expect((await call(srv.base, 'GET', '/v1/models/nope')).status).toBe(404);
  });
});
