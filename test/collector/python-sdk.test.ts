/**
 * Events built by the real Python `cloudevents` SDK (binary and structured mode), sent
 * with `requests`, are accepted and stored. Python comes from the peers venv.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Collector } from '../../src/collector/server.js';
import { startCollector } from '../../src/collector/server.js';
import { createSqliteStore } from '../../src/store/sqlite-store.js';
import type { ExchangeView } from '../../src/api/view.js';
import { pythonBin } from '../helpers/peers.js';

const SCRIPT = `
import sys, requests
from cloudevents.http import CloudEvent, to_binary, to_structured
url = sys.argv[1]
attrs = {"type": "org.kubeflow.serving.inference.request", "source": "python-sdk", "id": "py-1",
         "time": "2026-11-25T10:00:00.123456Z", "datacontenttype": "application/json",
         "inferenceservicename": "py-model", "namespace": "py-ns", "component": "predictor",
         "metadata": '{"X-Request-Id":["abc"]}'}
headers, body = to_binary(CloudEvent(attrs, {"instances": [[1.0, 2.0]]}))
r1 = requests.post(url, headers=headers, data=body)
attrs2 = dict(attrs, type="org.kubeflow.serving.inference.response", time="2026-11-25T10:00:00.223456Z", statuscode="200")
headers, body = to_structured(CloudEvent(attrs2, {"predictions": [1]}))
r2 = requests.post(url, headers=headers, data=body)
bin_attrs = dict(attrs, id="py-2", datacontenttype="application/octet-stream")
headers, body = to_binary(CloudEvent(bin_attrs, bytes([0x89, 0x50, 0x4E, 0x47, 0x00, 0xFF])))
r3 = requests.post(url, headers=headers, data=body)
print(r1.status_code, r2.status_code, r3.status_code)
`;

function runPython(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(pythonBin(), ['-c', SCRIPT, url], { timeout: 60_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout.trim()),
    );
  });
}

describe('collector: events from the Python cloudevents SDK', () => {
  const dir = mkdtempSync(join(tmpdir(), 'inferlog-pysdk-'));
  let c: Collector;
  beforeAll(async () => {
    c = await startCollector({
      store: createSqliteStore(join(dir, 'py.db')),
      port: 0,
      log: { debug() {}, info() {}, warn() {}, error() {} },
    });
  });
  afterAll(async () => {
    await c.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts binary and structured events and joins them', async () => {
    expect(await runPython(c.url + '/')).toBe('200 200 200');
    const ex = (await (await fetch(c.url + '/api/v1/exchanges/py-1')).json()) as ExchangeView;
    expect(ex).toMatchObject({
      complete: true,
      model: 'py-model',
      namespace: 'py-ns',
      source: 'python-sdk',
      status: 200,
      latencyMs: 100,
      metadata: { 'X-Request-Id': ['abc'] },
      requestTime: '2026-11-25T10:00:00.123456Z',
    });
    expect(JSON.parse(ex.request!.body!)).toEqual({ instances: [[1.0, 2.0]] });
    expect(JSON.parse(ex.response!.body!)).toEqual({ predictions: [1] });
    const bin = (await (await fetch(c.url + '/api/v1/exchanges/py-2')).json()) as ExchangeView;
    expect(bin.request).toMatchObject({
      contentType: 'application/octet-stream',
      bodyEncoding: 'base64',
      body: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff]).toString('base64'),
    });
  });
});
