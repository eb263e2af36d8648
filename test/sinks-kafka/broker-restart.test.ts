// The Kafka sink while its broker goes away and comes back: a private broker (its own
// instance folder and ports, so the shared test broker is never stopped).
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferlogError } from '../../src/core/errors.js';
import { createKafkaSink } from '../../src/sinks/kafka/sink.js';
import type { Sink } from '../../src/sinks/sink.js';
import { ensureKafka, freePort, REPO_ROOT } from '../helpers/peers.js';
import { scenarioExchange } from '../sinks-http/kserve-scenario.js';
import { readTopic } from './read-topic.js';

const run = promisify(execFile);
const instance = `kafka-restart-${process.pid}`;
let env: NodeJS.ProcessEnv;
let broker: string;
let sink: Sink;

async function kafka(command: 'start' | 'kill'): Promise<void> {
  await run('bash', [join(REPO_ROOT, 'scripts/peers/kafka.sh'), command], { env, timeout: 90_000 });
}

beforeAll(async () => {
  await ensureKafka(); // installs the jars when missing
  const [port, controllerPort] = [await freePort(), await freePort()];
  env = {
    ...process.env,
    INFERLOG_KAFKA_INSTANCE: instance,
    INFERLOG_KAFKA_PORT: String(port),
    INFERLOG_KAFKA_CONTROLLER_PORT: String(controllerPort),
  };
  broker = `127.0.0.1:${port}`;
  await kafka('start');
  sink = createKafkaSink(new URL(`kafka://${broker}/restart`), {
    batchSize: 1,
    batchIntervalMs: 0,
    timeoutMs: 3000,
    tls: { skipVerify: false },
  });
  await sink.start();
}, 120_000);

afterAll(async () => {
  await sink?.shutdown();
  await kafka('kill').catch(() => {});
  rmSync(join(REPO_ROOT, '.peers', instance), { recursive: true, force: true });
}, 60_000);

describe('kafka sink: broker restart', () => {
  it('fails sends with a retryable error while the broker is down, and delivers again once it is back', async () => {
    const before = scenarioExchange({ id: randomUUID() });
    await sink.send([before], new AbortController().signal);

    await kafka('kill');
    const during = scenarioExchange({ id: randomUUID() });
    let caught: unknown;
    try {
      await sink.send([during], new AbortController().signal);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InferlogError);
    expect((caught as InferlogError).kind).toBe('retryable');

    await kafka('start');
    // What the pipeline's retry wrapper does: the same batch again, after the failure.
    await sink.send([during], new AbortController().signal);

    const records = await readTopic([broker], 'restart', 4);
    const ids = new Set(records.map((r) => r.key));
    expect(ids).toEqual(new Set([before.id, during.id]));
  }, 90_000);
});
