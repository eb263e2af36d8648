import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveModelPath } from './model-path.js';

let base: string;
beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'inferlog-path-'));
  mkdirSync(join(base, 'iris'));
  writeFileSync(join(base, 'iris', 'model.onnx'), 'x');
  mkdirSync(join(base, 'single'));
  writeFileSync(join(base, 'single', 'resnet.onnx'), 'x');
  mkdirSync(join(base, 'two'));
  writeFileSync(join(base, 'two', 'a.onnx'), 'x');
  writeFileSync(join(base, 'two', 'b.onnx'), 'x');
  mkdirSync(join(base, 'empty'));
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('resolveModelPath', () => {
  it('resolves relative paths against the YAML directory, and finds model.onnx in a directory', () => {
    expect(resolveModelPath('./iris', base)).toBe(join(base, 'iris', 'model.onnx'));
    expect(resolveModelPath('iris/model.onnx', base)).toBe(join(base, 'iris', 'model.onnx'));
  });

  it('accepts absolute paths and file:// URIs', () => {
    const abs = join(base, 'iris', 'model.onnx');
    expect(resolveModelPath(abs, '/elsewhere')).toBe(abs);
    expect(resolveModelPath(pathToFileURL(join(base, 'iris')).href, '/elsewhere')).toBe(abs);
  });

  it('takes the only .onnx file of a directory, and refuses to guess between several', () => {
    expect(resolveModelPath('single', base)).toBe(join(base, 'single', 'resnet.onnx'));
    expect(() => resolveModelPath('two', base)).toThrow(/several \.onnx files \(a\.onnx, b\.onnx\)/);
    expect(() => resolveModelPath('empty', base)).toThrow(/holds no model\.onnx/);
  });

  it('tells the user to copy remote models locally', () => {
    for (const uri of [
      'gs://kfserving-examples/models/sklearn/1.0/model',
      's3://b/m',
      'https://x/m.onnx',
      'pvc://claim/m',
    ]) {
      expect(() => resolveModelPath(uri, base)).toThrow(/needs a cluster: .*Copy the model locally/);
    }
  });

  it('names the resolved path when it does not exist', () => {
    expect(() => resolveModelPath('./missing', base)).toThrow(
      `storageUri './missing' resolves to ${join(base, 'missing')}, which does not exist (relative paths resolve against ${base})`,
    );
    expect(() => resolveModelPath('  ', base)).toThrow(/storageUri is empty/);
  });
});
