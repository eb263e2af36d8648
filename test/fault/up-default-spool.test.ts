/**
 * `inferlog up` with default settings survives a SIGKILL: it spools to its per-service default
 * directory, and a restart on the same port delivers what the killed process had answered.
 *
 *   client ──▶ inferlog up (logger.url → collector, not running yet) ──spool──▶ <state>/inferlog/up-<port>/…
 *   SIGKILL up; start the collector; start up again (same port, same XDG_STATE_HOME) ──▶ all stored
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/peers.js';
import { waitFor } from '../support/wait.js';
import { freePort, spawnCli, startCollector, storedIds, type Proc } from './harness.js';

const procs: Proc[] = [];
afterEach(async () => {
  for (const p of procs.splice(0).reverse()) await p.kill('SIGKILL').catch(() => {});
});

describe('inferlog up with default settings', () => {
  it(
    'SIGKILLed while the collector is down: the next start on the same port delivers every answered request',
    { timeout: 90_000 },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'inferlog-up-spool-'));
      const stateHome = join(dir, 'state');
      const db = join(dir, 'store.db');
      const [port, collectorPort] = [await freePort(), await freePort()];
      const yaml = join(dir, 'isvc.yaml');
      writeFileSync(
        yaml,
        [
          'apiVersion: serving.kserve.io/v1beta1',
          'kind: InferenceService',
          'metadata:',
          '  name: simple-model',
          '  namespace: spool-test',
          '  annotations:',
          "    inferlog.dev/trust-inbound-id: 'true'", // so the test knows the ids it sent
          'spec:',
          '  predictor:',
          '    logger:',
          '      mode: all',
          `      url: http://127.0.0.1:${collectorPort}/`,
          '    model:',
          '      modelFormat:',
          '        name: onnx',
          `      storageUri: ${join(REPO_ROOT, 'examples/models/simple-model')}`,
          '',
        ].join('\n'),
      );
      const startUp = async (): Promise<Proc> => {
        const p = await spawnCli(['up', '-f', yaml, '--port', String(port)], /ready/, {
          XDG_STATE_HOME: stateHome,
        });
        procs.push(p);
        return p;
      };
      const up = await startUp();
      expect(up.stderr()).toContain(join(stateHome, 'inferlog', `up-${port}`, 'spool-test.simple-model'));

      const answered: string[] = [];
      for (let i = 0; i < 30; i++) {
        const res = await fetch(`http://127.0.0.1:${port}/v1/models/simple-model:predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'ce-id': `u-${i}` },
          body: '{"instances": [1.0, 2.0]}',
        });
        await res.text();
        if (res.status === 200) answered.push(`u-${i}`);
      }
      expect(answered).toHaveLength(30);
      await up.kill('SIGKILL');

      procs.push(await startCollector(collectorPort, db));
      await startUp();
      await waitFor(
        () => answered.every((id) => storedIds(db).has(id)),
        'all 30 answered exchanges stored',
        45_000,
      );
    },
  );
});
