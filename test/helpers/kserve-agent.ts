/**
 * KServe's real Go agent (v0.20.0, built by scripts/peers/kserve-agent.sh) as a child process,
 * in front of a model server, the way KServe injects it next to a predictor:
 *
 *   client ──▶ KServe agent :port ──(batcher, when on)──▶ 127.0.0.1:componentPort (model server)
 *                    └── logger: one binary CloudEvent per request and per 200 response ──▶ --log-url
 *
 * Two things about the agent shape how it is started (both from its cmd/agent/main.go):
 * - It listens on `":" + --port`, i.e. every interface; no flag narrows that. Everything it
 *   *sends to* is on 127.0.0.1: the component (hard-coded 127.0.0.1) and the --log-url we give.
 * - It also listens on the fixed abstract unix socket `@/kserve/agent.sock`, and exits when
 *   another agent holds it: one KServe agent per machine at a time. So it runs under
 *   `flock $TMPDIR/inferlog-kserve-agent.lock`, held for its whole life, and test files that want
 *   one take turns. `setpriv --pdeathsig` kills it (and frees the lock) if the test process dies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { kserveAgentLock } from '../../bench/lib/kserve-agent.js';
import { freePort, kserveAgentBin, portAnswers } from './peers.js';

export interface KserveAgentOptions {
  componentPort: number;
  /** More agent flags: --log-url, --log-mode, --enable-batcher, … */
  args: string[];
  /** How long to wait for another test's agent to let go of the machine-wide lock. */
  lockWaitSeconds?: number;
  /** More environment (e.g. the S3 variables of its storage logger). */
  env?: Record<string, string>;
}

export interface KserveAgent {
  port: number;
  proc: ChildProcess;
  /** What the agent wrote so far (zap's JSON lines, on both streams). */
  output(): string;
  /** SIGKILL: KServe's SIGTERM path sleeps 30 s to drain, which a test has no use for. */
  stop(): Promise<void>;
}

/** The readiness probe KServe's webhook writes for the component container, aimed at the component port. */
export function readinessProbe(componentPort: number): string {
  return JSON.stringify({ tcpSocket: { port: componentPort, host: '127.0.0.1' }, successThreshold: 1 });
}

export async function startKserveAgent(opts: KserveAgentOptions): Promise<KserveAgent> {
  const bin = kserveAgentBin();
  const lock = kserveAgentLock();
  const port = await freePort();
  const waitS = opts.lockWaitSeconds ?? 300;
  const proc = spawn(
    'setpriv',
    [
      '--pdeathsig',
      'KILL',
      'flock',
      '-w',
      String(waitS),
      lock,
      'setpriv',
      '--pdeathsig',
      'KILL',
      bin,
      '--port',
      String(port),
      '--component-port',
      String(opts.componentPort),
      ...opts.args,
    ],
    {
      // Its own process group, so stop() reaches flock and the agent together.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        ...opts.env,
        SERVING_READINESS_PROBE: readinessProbe(opts.componentPort),
      },
    },
  );
  let out = '';
  proc.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null && proc.pid !== undefined) {
      try {
        process.kill(-proc.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await exited;
  };
  const deadline = Date.now() + (waitS + 60) * 1000;
  // The lock serialises agents started here; one started by hand elsewhere still takes the unix
  // socket first, and then this agent exits right after its TCP port opens (output says so).
  while (!(await portAnswers(port))) {
    if (proc.exitCode !== null || proc.signalCode !== null)
      throw new Error(
        `KServe agent exited (${proc.exitCode ?? proc.signalCode}) before it was ready:\n${out}`,
      );
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`KServe agent not ready on port ${port} in time:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { port, proc, output: () => out, stop };
}
