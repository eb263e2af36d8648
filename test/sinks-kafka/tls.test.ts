// The Kafka sink over TLS (`?tls=true`) to a broker with a TLS listener and a self-signed
// certificate made here with openssl; CA and verification use the logger's tls options.
import { execFile, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferlogError } from '../../src/core/errors.js';
import { createKafkaSink } from '../../src/sinks/kafka/sink.js';
import type { SinkOptions } from '../../src/sinks/sink.js';
import { ensureKafka, freePort, REPO_ROOT } from '../helpers/peers.js';
import { scenarioExchange } from '../sinks-http/kserve-scenario.js';
import { readTopic } from './read-topic.js';

const run = promisify(execFile);
const instance = `kafka-tls-${process.pid}`;
let dir: string;
let env: NodeJS.ProcessEnv;
let plain: string;
let tlsBroker: string;

function options(tls: SinkOptions['tls']): SinkOptions {
  return { batchSize: 1, batchIntervalMs: 0, timeoutMs: 5000, tls };
}

beforeAll(async () => {
  await ensureKafka(); // installs the jars when missing
  dir = mkdtempSync(join(tmpdir(), 'inferlog-kafka-tls-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'ca.pem'),
    ],
    { stdio: 'ignore' },
  );
  writeFileSync(
    join(dir, 'server.pem'),
    readFileSync(join(dir, 'key.pem'), 'utf8') + readFileSync(join(dir, 'ca.pem'), 'utf8'),
  );
  const [port, controller, ssl] = [await freePort(), await freePort(), await freePort()];
  env = {
    ...process.env,
    INFERLOG_KAFKA_INSTANCE: instance,
    INFERLOG_KAFKA_PORT: String(port),
    INFERLOG_KAFKA_CONTROLLER_PORT: String(controller),
    INFERLOG_KAFKA_SSL_PORT: String(ssl),
    INFERLOG_KAFKA_SSL_PEM: join(dir, 'server.pem'),
  };
  plain = `127.0.0.1:${port}`;
  tlsBroker = `127.0.0.1:${ssl}`;
  await run('bash', [join(REPO_ROOT, 'scripts/peers/kafka.sh'), 'start'], { env, timeout: 90_000 });
}, 120_000);

afterAll(async () => {
  if (env) await run('bash', [join(REPO_ROOT, 'scripts/peers/kafka.sh'), 'kill'], { env }).catch(() => {});
  rmSync(join(REPO_ROOT, '.peers', instance), { recursive: true, force: true });
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('kafka sink over TLS', () => {
  it('delivers when the broker certificate is signed by tls.caCertFile', async () => {
    const topic = `tls-${randomUUID()}`;
    const sink = createKafkaSink(
      new URL(`kafka://${tlsBroker}/${topic}?tls=true`),
      options({ caCertFile: join(dir, 'ca.pem'), skipVerify: false }),
    );
    await sink.start();
    const ex = scenarioExchange({ id: randomUUID() });
    await sink.send([ex], new AbortController().signal);
    await sink.shutdown();
    const records = await readTopic([plain], topic, 2);
    expect(records.map((r) => r.key)).toEqual([ex.id, ex.id]);
  });

  it('refuses an unknown certificate with a retryable SINK_UNREACHABLE, and accepts it with tls.skipVerify', async () => {
    const topic = `tls-${randomUUID()}`;
    const strict = createKafkaSink(
      new URL(`kafka://${tlsBroker}/${topic}?tls=true`),
      options({ skipVerify: false }),
    );
    await strict.start();
    const err = await strict
      .send([scenarioExchange({ id: randomUUID() })], new AbortController().signal)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    await strict.shutdown();
    expect(err).toBeInstanceOf(InferlogError);
    expect((err as InferlogError).code).toBe('SINK_UNREACHABLE');
    expect((err as InferlogError).message).toContain('tls.caCertFile');

    const lax = createKafkaSink(
      new URL(`kafka://${tlsBroker}/${topic}?tls=true`),
      options({ skipVerify: true }),
    );
    await lax.start();
    await lax.send([scenarioExchange({ id: randomUUID() })], new AbortController().signal);
    await lax.shutdown();
  });

  it('fails start with CONFIG_INVALID when the CA file cannot be read', async () => {
    const sink = createKafkaSink(
      new URL(`kafka://${tlsBroker}/t?tls=true`),
      options({ caCertFile: join(dir, 'missing.pem'), skipVerify: false }),
    );
    await expect(sink.start()).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});
