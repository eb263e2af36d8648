/**
 * `inferlog up` with `inferlog.dev/blob-layout: exchanges`: sampling and redaction happen before
 * anything is written, and the files land in the service's partition.
 *
 *   client ──▶ inferlog up (ONNX model) ──sampler → redactor → spool──▶ lake sink ──▶ DIR/namespace=lake-test/…
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/peers.js';
import { waitFor } from '../support/wait.js';
import { freePort, spawnCli, type Proc } from '../fault/harness.js';
import { parquetFiles, rowsPerId } from './lake-files.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('inferlog up with the exchanges layout', () => {
  it(
    'writes only sampled, redacted exchanges, under the service partition',
    { timeout: 90_000 },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'inferlog-lake-up-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      const lake = join(dir, 'lake');
      const yaml = join(dir, 'isvc.yaml');
      writeFileSync(
        yaml,
        [
          'apiVersion: serving.kserve.io/v1beta1',
          'kind: InferenceService',
          'metadata:',
          '  name: simple-model',
          '  namespace: lake-test',
          '  annotations:',
          '    inferlog.dev/blob-layout: exchanges',
          '    inferlog.dev/blob-max-age: 200ms',
          '    inferlog.dev/redact-json-paths: secret',
          "    inferlog.dev/sample-rate: '0'", // keep only what the always-keep rules keep (status ≥ 400)
          "    inferlog.dev/trust-inbound-id: 'true'",
          'spec:',
          '  predictor:',
          '    logger:',
          '      mode: all',
          `      url: file://${lake}`,
          '    model:',
          '      modelFormat:',
          '        name: onnx',
          `      storageUri: ${join(REPO_ROOT, 'examples/models/simple-model')}`,
          '',
        ].join('\n'),
      );
      const port = await freePort();
      const up: Proc = await spawnCli(['up', '-f', yaml, '--port', String(port)], /ready/, {
        XDG_STATE_HOME: join(dir, 'state'),
      });
      cleanups.push(() => up.kill('SIGTERM'));
      const post = async (id: string, body: string): Promise<number> => {
        const res = await fetch(`http://127.0.0.1:${port}/v1/models/simple-model:predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'ce-id': id },
          body,
        });
        await res.arrayBuffer();
        return res.status;
      };
      expect(await post('ok-1', '{"instances": [1.0, 2.0], "secret": "hunter2"}')).toBe(200);
      expect(await post('bad-1', '{"instances": "nope", "secret": "hunter2"}')).toBe(400);
      await waitFor(async () => (await rowsPerId(lake)).has('bad-1'), 'the 400 in the lake');
      expect([...(await rowsPerId(lake)).keys()]).toEqual(['bad-1']); // the 200 was sampled out
      expect(parquetFiles(lake)[0]).toContain(
        join(lake, 'namespace=lake-test', 'inferenceservice=simple-model', 'date='),
      );
      const db = await DuckDBInstance.create(':memory:');
      const conn = await db.connect();
      const r = await conn.runAndReadAll(
        `SELECT decode(request_body) AS body FROM read_parquet('${lake}/**/*.parquet')`,
      );
      conn.closeSync();
      db.closeSync();
      expect(r.getRowObjectsJS()).toEqual([{ body: '{"instances": "nope", "secret": "[REDACTED]"}' }]);
    },
  );
});
