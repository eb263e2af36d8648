/**
 * Real peers for tests: PostgreSQL, a Kafka broker, the Python venv with KServe's model server,
 * KServe's Go agent built from its module.
 *
 *   test file ──ensureKafka()──▶ port answers? ──yes──▶ { brokers }
 *                                   │ no
 *                                   └─▶ flock .peers/kafka.lock scripts/peers/kafka.sh start ──▶ { brokers }
 *
 * The scripts are idempotent and run under flock, so test files that start at the same time
 * (vitest forks) start one server between them. Peers outlive the test run on purpose: the next
 * run finds them up and pays nothing. Environment overrides point tests at servers of your own:
 * INFERLOG_TEST_PG_URL, INFERLOG_TEST_KAFKA_BROKERS (comma-separated host:port).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const PEERS_DIR = process.env.INFERLOG_PEERS_DIR ?? join(REPO_ROOT, '.peers');

const PG_PORT = Number(process.env.INFERLOG_PG_PORT ?? 54329);
const KAFKA_PORT = Number(process.env.INFERLOG_KAFKA_PORT ?? 19092);

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not read the port of a listening server'));
        return;
      }
      server.close(() => resolvePort(address.port));
    });
  });
}

/** True when something accepts a TCP connection on 127.0.0.1:port. */
export function portAnswers(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolveAnswer) => {
    const socket = createConnection({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolveAnswer(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Runs `scripts/peers/<peer>.sh start` under a lock file, so concurrent test files start it once.
 * `--close`: the server the script starts must not inherit the lock (it would hold it forever).
 */
function startPeer(peer: 'postgres' | 'kafka'): Promise<void> {
  mkdirSync(PEERS_DIR, { recursive: true });
  const script = join(REPO_ROOT, 'scripts/peers', `${peer}.sh`);
  const lock = join(PEERS_DIR, `${peer}.lock`);
  return new Promise((resolveStart, reject) => {
    execFile(
      'flock',
      ['--close', lock, 'bash', script, 'start'],
      { timeout: 180_000 },
      (err, stdout, stderr) => {
        if (err) {
          reject(
            new Error(
              `could not start the ${peer} peer with \`bash scripts/peers/${peer}.sh start\` ` +
                `(install it first: \`bash scripts/peers/${peer === 'postgres' ? 'apt' : 'kafka'}.sh install\`):\n${stdout}${stderr}`,
            ),
          );
          return;
        }
        resolveStart();
      },
    );
  });
}

/** PostgreSQL with database `inferlog_test`, trust auth on loopback. */
export async function ensurePostgres(): Promise<{ url: string }> {
  const override = process.env.INFERLOG_TEST_PG_URL;
  if (override) return { url: override };
  // Always through the (idempotent, ~0.2 s) script: it also creates inferlog_test when a
  // cluster is up but the database is not.
  await startPeer('postgres');
  return { url: `postgres://postgres@127.0.0.1:${PG_PORT}/inferlog_test` };
}

/** A single-node KRaft Kafka broker; topics are auto-created with 3 partitions. */
export async function ensureKafka(): Promise<{ brokers: string[] }> {
  const override = process.env.INFERLOG_TEST_KAFKA_BROKERS;
  if (override)
    return {
      brokers: override
        .split(',')
        .map((b) => b.trim())
        .filter(Boolean),
    };
  if (!(await portAnswers(KAFKA_PORT))) await startPeer('kafka');
  return { brokers: [`127.0.0.1:${KAFKA_PORT}`] };
}

/** The venv's python (kserve, scikit-learn, cloudevents). Throws how to make it when it is missing. */
export function pythonBin(): string {
  const bin = process.env.INFERLOG_TEST_PYTHON ?? join(PEERS_DIR, 'venv/bin/python');
  if (!existsSync(bin)) {
    throw new Error(
      `${bin} not found: run \`bash scripts/peers/python.sh install\` (creates .peers/venv with kserve)`,
    );
  }
  return bin;
}

/**
 * KServe's real Go agent (`github.com/kserve/kserve/cmd/agent`), built by
 * scripts/peers/kserve-agent.sh. Throws how to build it when it is missing.
 */
export function kserveAgentBin(): string {
  const bin = process.env.INFERLOG_TEST_KSERVE_AGENT ?? join(PEERS_DIR, 'kserve-agent/agent');
  if (!existsSync(bin)) {
    throw new Error(
      `${bin} not found: run \`bash scripts/peers/kserve-agent.sh install\` ` +
        '(builds KServe v0.20.0 ./cmd/agent from its Go module; needs Go and the Go module proxy)',
    );
  }
  return bin;
}
