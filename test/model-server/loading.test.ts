// createModelServer refuses to start with a clear message naming the model and the path.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SUPPORTED_MODEL_FORMATS,
  createModelServer,
  modelFormatNeedsStorage,
} from '../../src/model-server/index.js';
import { makeModels } from './harness.js';

let models: ReturnType<typeof makeModels>;
let scratch: string;
beforeAll(() => {
  models = makeModels();
  scratch = mkdtempSync(join(tmpdir(), 'inferlog-bad-'));
  writeFileSync(join(scratch, 'garbage.onnx'), 'this is not a protobuf');
});
afterAll(() => {
  models?.cleanup();
  rmSync(scratch, { recursive: true, force: true });
});

describe('createModelServer', () => {
  it('loads ONNX and echo models, case-insensitively by format', async () => {
    const server = await createModelServer({
      models: [
        { name: 'iris', modelFormat: 'ONNX', storageUri: 'iris', baseDir: models.dir },
        { name: 'chat', modelFormat: 'inferlog-echo', storageUri: '', baseDir: models.dir },
      ],
    });
    expect(server.modelNames).toEqual(['iris', 'chat']);
    await server.close();
    await server.close(); // idempotent
  });

  it('rejects a file that is not ONNX, naming the model and the path', async () => {
    await expect(
      createModelServer({
        models: [{ name: 'bad', modelFormat: 'onnx', storageUri: 'garbage.onnx', baseDir: scratch }],
      }),
    ).rejects.toThrow(`model 'bad': cannot load ${join(scratch, 'garbage.onnx')} as ONNX: `);
  });

  it('rejects a missing path and a remote storageUri', async () => {
    await expect(
      createModelServer({
        models: [{ name: 'm', modelFormat: 'onnx', storageUri: './nowhere', baseDir: scratch }],
      }),
    ).rejects.toThrow(
      `model 'm': storageUri './nowhere' resolves to ${join(scratch, 'nowhere')}, which does not exist`,
    );
    await expect(
      createModelServer({
        models: [
          {
            name: 'sk',
            modelFormat: 'onnx',
            storageUri: 'gs://kfserving-examples/models/sklearn/1.0/model',
            baseDir: scratch,
          },
        ],
      }),
    ).rejects.toThrow(/^model 'sk': storageUri 'gs:\/\/.*' needs a cluster/);
  });

  it('rejects unsupported formats and duplicate names', async () => {
    await expect(
      createModelServer({
        models: [{ name: 'sk', modelFormat: 'sklearn', storageUri: 'x', baseDir: scratch }],
      }),
    ).rejects.toThrow(
      `model 'sk': modelFormat 'sklearn' is not supported; supported formats: onnx, inferlog-echo`,
    );
    await expect(
      createModelServer({
        models: [
          { name: 'a', modelFormat: 'inferlog-echo', storageUri: '', baseDir: scratch },
          { name: 'a', modelFormat: 'inferlog-echo', storageUri: '', baseDir: scratch },
        ],
      }),
    ).rejects.toThrow(/declared twice/);
  });

  it('exports the formats for config validation', () => {
    expect(SUPPORTED_MODEL_FORMATS).toEqual(['onnx', 'inferlog-echo']);
    expect(modelFormatNeedsStorage('onnx')).toBe(true);
    expect(modelFormatNeedsStorage('inferlog-echo')).toBe(false);
  });
});
