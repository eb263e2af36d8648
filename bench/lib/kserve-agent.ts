/**
 * Scenario 11's subject: KServe's real Go agent (v0.20.0), built by scripts/peers/kserve-agent.sh.
 *
 *   wrk ──▶ KServe agent :port ──▶ model server :componentPort
 *                └── one binary CloudEvent POST per request and per response ──▶ collect
 *
 * It listens on the fixed abstract unix socket `@/kserve/agent.sock` as well as on its port, so
 * only one runs per machine: it runs under the same `flock` the tests take
 * (test/helpers/kserve-agent.ts), and waits its turn when a test holds it.
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export const KSERVE_AGENT_VERSION = 'v0.20.0';

/** The built agent, or undefined (then the scenario says how to build it). */
export function kserveAgentBinary(): string | undefined {
  const bin = process.env.INFERLOG_BENCH_KSERVE_AGENT ?? join(REPO, '.peers/kserve-agent/agent');
  return existsSync(bin) ? bin : undefined;
}

/** One lock per machine, like the agent's abstract socket (not per checkout, as .peers/ is). */
export function kserveAgentLock(): string {
  return join(tmpdir(), 'inferlog-kserve-agent.lock');
}

/** The command line: flock (the machine-wide turn) around the agent. */
export function kserveAgentCommand(
  bin: string,
  port: number,
  componentPort: number,
  args: readonly string[],
): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  return {
    command: 'flock',
    args: [
      '-w',
      '300',
      kserveAgentLock(),
      bin,
      '--port',
      String(port),
      '--component-port',
      String(componentPort),
      ...args,
    ],
    env: {
      ...process.env,
      // Required by the agent (KServe's webhook sets it from the predictor's readiness probe).
      SERVING_READINESS_PROBE: JSON.stringify({
        tcpSocket: { port: componentPort, host: '127.0.0.1' },
        successThreshold: 1,
      }),
    },
  };
}
