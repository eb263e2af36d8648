/**
 * End to end: thousands of requests through a real `inferlog up` with `inferlog.dev/sample-rate`.
 * Each request carries its own Ce-Id, so this test can predict — with the documented hash, computed
 * here in another process — exactly which exchanges the server keeps: every error, plus the ids
 * scoring under the rate. The kept set must be that set, and its size within 5σ of the rate.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCli, type CliProcess } from '../helpers/cli.js';
import { freePort, REPO_ROOT } from '../helpers/peers.js';
import { sampleScore } from '../../src/pipeline/sampling.js';

const RATE = 0.1;
const N = 3000;

function isvcYaml(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'inferlog-sampling-'));
  const file = path.join(dir, 'isvc.yaml');
  writeFileSync(
    file,
    `apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: simple-model
  namespace: kserve-test
  annotations:
    inferlog.dev/sample-rate: "${RATE}"
    # The test predicts sampling from the ids it sends: trust them (off by default).
    inferlog.dev/trust-inbound-id: "true"
spec:
  predictor:
    logger:
      mode: all
    model:
      modelFormat:
        name: onnx
      storageUri: ${path.join(REPO_ROOT, 'examples/models/simple-model')}
`,
  );
  return file;
}

describe('inferlog up with inferlog.dev/sample-rate: "0.1"', () => {
  let up: CliProcess;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    up = await startCli(['up', '-f', isvcYaml(), '--port', String(port)]);
  });
  afterAll(async () => {
    await up?.stop();
  });

  it('keeps exactly the errors plus the ids that score under the rate, with the right weights', async () => {
    const isError = (i: number): boolean => i % 20 === 7; // 5% malformed requests → 400
    const send = async (i: number): Promise<number> => {
      const res = await fetch(`http://127.0.0.1:${port}/v1/models/simple-model:predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'ce-id': `e2e-${i}` },
        body: isError(i) ? '{"instances": [1.0,' : `{"instances": [${i}.0]}`,
      });
      await res.arrayBuffer();
      return res.status;
    };
    for (let start = 0; start < N; start += 50) {
      const statuses = await Promise.all(
        Array.from({ length: Math.min(50, N - start) }, (_, k) => send(start + k)),
      );
      statuses.forEach((s, k) => expect(s).toBe(isError(start + k) ? 400 : 200));
    }

    const expected = new Set<string>();
    let errors = 0;
    let sampledOk = 0;
    for (let i = 0; i < N; i++) {
      if (isError(i)) {
        expected.add(`e2e-${i}`);
        errors++;
      } else if (sampleScore(`e2e-${i}`) < RATE) {
        expected.add(`e2e-${i}`);
        sampledOk++;
      }
    }
    await up.waitFor((c) => c.jsonLines().length >= expected.size, `${expected.size} log lines`, 30_000);
    // Stopping drains the pipeline, so a line that should not exist would be there by now.
    expect(await up.stop('SIGTERM')).toBe(0);
    const lines = up.jsonLines();

    expect(new Set(lines.map((l) => l.id))).toEqual(expected);
    expect(lines.length).toBe(expected.size);
    for (const l of lines) {
      if (l.responseStatus === 400)
        expect(l).not.toHaveProperty('sampleWeight'); // weight 1
      else {
        expect(l.responseStatus).toBe(200);
        expect(l.sampleWeight).toBe(1 / RATE);
      }
    }
    const okTotal = N - errors;
    expect(Math.abs(sampledOk - okTotal * RATE)).toBeLessThanOrEqual(
      5 * Math.sqrt(okTotal * RATE * (1 - RATE)),
    );
    // The estimator recovers the traffic: Σ weights ≈ N, errors counted exactly.
    const weightSum = lines.reduce(
      (s, l) => s + (typeof l.sampleWeight === 'number' ? l.sampleWeight : 1),
      0,
    );
    expect(Math.abs(weightSum - N)).toBeLessThanOrEqual(5 * Math.sqrt((okTotal * (1 - RATE)) / RATE));
    expect(lines.filter((l) => l.responseStatus === 400).length).toBe(errors);
  });
});
