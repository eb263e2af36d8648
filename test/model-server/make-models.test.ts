// scripts/make-models.js writes real ONNX files that onnxruntime-node loads and that compute what the docs promise.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { irisData } from '../../scripts/make-models.js';
import { makeModels, repoRoot } from './harness.js';

let models: ReturnType<typeof makeModels>;
beforeAll(() => {
  models = makeModels();
});
afterAll(() => models.cleanup());

describe('make-models', () => {
  it('prints one line per model written', () => {
    const lines = models.output.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^make-models: wrote .*simple-model[/\\]model\.onnx/);
    expect(lines[1]).toMatch(/^make-models: wrote .*iris[/\\]model\.onnx .*training accuracy/);
  });

  it('is idempotent: a rerun leaves identical files untouched', () => {
    const path = join(models.dir, 'iris', 'model.onnx');
    const before = readFileSync(path);
    const mtime = statSync(path).mtimeMs;
    const out = execFileSync(
      process.execPath,
      [join(repoRoot, 'scripts', 'make-models.js'), '--out', models.dir],
      {
        encoding: 'utf8',
      },
    );
    expect(out).toMatch(/unchanged .*simple-model/);
    expect(out).toMatch(/unchanged .*iris/);
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(statSync(path).mtimeMs).toBe(mtime);
  });

  it('simple-model computes y = 2x + 1 in onnxruntime', async () => {
    const session = await ort.InferenceSession.create(join(models.dir, 'simple-model', 'model.onnx'));
    expect(session.inputNames).toEqual(['x']);
    expect(session.outputNames).toEqual(['y']);
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2, -0.5, 10]), [4]) });
    expect(Array.from(out.y!.data as Float32Array)).toEqual([3, 5, 0, 21]);
    await session.release();
  });

  it('iris classifies the KServe sample and most of the data set correctly', async () => {
    const session = await ort.InferenceSession.create(join(models.dir, 'iris', 'model.onnx'));
    expect(session.outputNames).toEqual(['label', 'probabilities']);
    const sample = await session.run({
      input: new ort.Tensor('float32', Float32Array.from([6.8, 2.8, 4.8, 1.4, 6.0, 3.4, 4.5, 1.6]), [2, 4]),
    });
    expect(Array.from(sample.label!.data as BigInt64Array)).toEqual([1n, 1n]);
    const probs = sample.probabilities!.data as Float32Array;
    expect(probs[0]! + probs[1]! + probs[2]!).toBeCloseTo(1, 5);

    const { x, y } = irisData();
    const all = await session.run({
      input: new ort.Tensor('float32', Float32Array.from(x.flat()), [x.length, 4]),
    });
    const labels = Array.from(all.label!.data as BigInt64Array, Number);
    const correct = labels.filter((l, i) => l === y[i]).length;
    expect(correct / x.length).toBeGreaterThan(0.95);
    await session.release();
  });
});
