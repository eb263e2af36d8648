/**
 * The scenarios of one run: what sits between the load generator and the model.
 *
 *   1 direct           wrk ──▶ up (no logger)
 *   2 agent-off        wrk ──▶ agent (no --log-url) ──▶ up
 *   3 agent-stdout     wrk ──▶ agent (request → stdout, redirected to a file) ──▶ up
 *   4 agent-file       wrk ──▶ agent (all → file://) ──▶ up
 *   5 agent-http       wrk ──▶ agent (all → collect, one POST per event) ──▶ up
 *   6 agent-http-batch wrk ──▶ agent (all → collect, batched) ──▶ up
 *   7 agent-spool      wrk ──▶ agent (all → dead http sink, disk spool) ──▶ up
 *   8 nginx            wrk ──▶ nginx (plain proxy, no logging) ──▶ up
 *   9 inproc-file      wrk ──▶ up (in-process capture, all → file://)
 *  10 inproc-http-batch wrk ──▶ up (in-process capture, all → collect, batched)
 *  11 kserve-agent-http wrk ──▶ KServe's real Go agent (all → collect, one POST per event) ──▶ up
 *  12 agent-batcher    wrk ──▶ agent (logging off, --enable-batcher, 32 instances or 5 ms) ──▶ up
 *                      (compare with 2: what merging requests into one model call saves or costs)
 *
 * Every scenario starts its own processes and stops them afterwards, so none inherits
 * another's heap or queue. "subject" is the process whose CPU and RSS are reported as
 * the proxy's cost (the model server itself in scenario 1 and for in-process capture).
 */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { ManagedProcess, ProcessGroup } from './processes.js';
import { waitForPort } from './processes.js';
import { freePort } from './ports.js';
import { writeIsvcYaml, type LoggerSection } from './isvc-yaml.js';
import { nginxBinary, writeNginxConfig } from './nginx.js';
import { KSERVE_AGENT_VERSION, kserveAgentBinary, kserveAgentCommand } from './kserve-agent.js';

export const BATCH_SIZE = 100;
export const BATCH_INTERVAL = '50ms';
export const MODEL_PATH = '/v1/models/simple-model:predict';

export interface BenchEnv {
  repo: string;
  /** `node bin/inferlog.js` or a replacement given with --bin. */
  cliPath: string;
  tmp: string;
  group: ProcessGroup;
  examplePath: string;
  /** Extra node flags for the subject process (e.g. --cpu-prof when profiling). */
  subjectNodeFlags: (scenarioId: string) => string[];
}

export interface RunningScenario {
  url: string;
  subject: ManagedProcess;
  /** Every process this scenario started: their CPU adds up to the scenario's total. */
  processes: ManagedProcess[];
  /** Where the scenario's exchange log goes (file or spool dir), to check that logging happened. */
  logTarget?: string;
  /** The collector, when the scenario logs to one: stopped last, after its count is read. */
  collector?: { proc: ManagedProcess; port: number };
  /**
   * The proxy has no shutdown drain that fits the bench's stop grace (KServe's agent sleeps 30 s
   * on SIGTERM, then exits with its queue): wait until the collector's count stops growing
   * before stopping it, so what it still holds is counted as delivered, not lost.
   */
  settleBeforeStop?: boolean;
}

export interface Scenario {
  id: string;
  n: number;
  title: string;
  /** Why the scenario cannot run here, or undefined. */
  unavailable?: () => string | undefined;
  start(env: BenchEnv): Promise<RunningScenario>;
}

export async function startUp(
  env: BenchEnv,
  name: string,
  logger: LoggerSection | undefined,
  nodeFlags: string[] = [],
): Promise<{ proc: ManagedProcess; port: number }> {
  const port = await freePort();
  const yamlPath = join(env.tmp, `${name}.yaml`);
  writeIsvcYaml(env.examplePath, yamlPath, logger);
  const proc = env.group.spawn(
    name,
    process.execPath,
    [...nodeFlags, env.cliPath, 'up', '-f', yamlPath, '--host', '127.0.0.1', '--port', String(port)],
    {
      cwd: env.repo,
      stdoutPath: join(env.tmp, `${name}.stdout`),
    },
  );
  await waitForPort(port, proc);
  return { proc, port };
}

export async function startAgent(
  env: BenchEnv,
  scenarioId: string,
  componentPort: number,
  logArgs: string[],
): Promise<{ proc: ManagedProcess; port: number; stdout: string }> {
  const port = await freePort();
  const stdout = join(env.tmp, `agent-${scenarioId}.stdout`);
  const proc = env.group.spawn(
    `agent-${scenarioId}`,
    process.execPath,
    [
      ...env.subjectNodeFlags(scenarioId),
      env.cliPath,
      'agent',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--component-port',
      String(componentPort),
      ...logArgs,
    ],
    { cwd: env.repo, stdoutPath: stdout },
  );
  await waitForPort(port, proc);
  return { proc, port, stdout };
}

async function startCollector(env: BenchEnv, name: string): Promise<{ proc: ManagedProcess; port: number }> {
  const port = await freePort();
  const dbPath = join(env.tmp, `${name}.db`);
  const proc = env.group.spawn(
    name,
    process.execPath,
    [env.cliPath, 'collect', '--host', '127.0.0.1', '--port', String(port), '--store', `sqlite:${dbPath}`],
    {
      cwd: env.repo,
    },
  );
  await waitForPort(port, proc);
  return { proc, port };
}

const url = (port: number): string => `http://127.0.0.1:${port}${MODEL_PATH}`;
const batchArgs = ['--log-batch-size', String(BATCH_SIZE), '--log-batch-interval', BATCH_INTERVAL];

interface AgentLogging {
  args: string[];
  extra: ManagedProcess[];
  /** A file or directory the log lands in; `stdout` = the agent's redirected stdout. */
  logTarget?: string;
  collector?: { proc: ManagedProcess; port: number };
}

function agentScenario(
  n: number,
  id: string,
  title: string,
  logArgs: (env: BenchEnv) => Promise<AgentLogging>,
): Scenario {
  return {
    id,
    n,
    title,
    async start(env) {
      // The model server and the log destination start side by side: startup is most of a smoke run.
      const [model, { args, extra, logTarget, collector }] = await Promise.all([
        startUp(env, `model-${id}`, undefined),
        logArgs(env),
      ]);
      const agent = await startAgent(env, id, model.port, args);
      return {
        url: url(agent.port),
        subject: agent.proc,
        processes: [model.proc, agent.proc, ...extra],
        logTarget: logTarget === 'stdout' ? agent.stdout : logTarget,
        collector,
      };
    },
  };
}

export const SCENARIOS: readonly Scenario[] = [
  {
    id: 'direct',
    n: 1,
    title: 'direct to the model server',
    async start(env) {
      const model = await startUp(env, 'model-direct', undefined, env.subjectNodeFlags('direct'));
      return { url: url(model.port), subject: model.proc, processes: [model.proc] };
    },
  },
  // Logging off: no --log-url, as in KServe. Its stdout is checked to stay empty.
  agentScenario(2, 'agent-off', 'agent, logging off', async () => ({
    args: [],
    extra: [],
    logTarget: 'stdout',
  })),
  agentScenario(3, 'agent-stdout', 'agent, request → stdout', async () => ({
    args: ['--log-url', 'stdout', '--log-mode', 'request'],
    extra: [],
    logTarget: 'stdout',
  })),
  agentScenario(4, 'agent-file', 'agent, all → file', async (env) => {
    // Its own directory: the file sink rotates (requests.jsonl → requests.1.jsonl …), all of it counts.
    const dir = join(env.tmp, 'agent-file-log');
    mkdirSync(dir, { recursive: true });
    return {
      args: ['--log-url', `file://${dir}/requests.jsonl`, '--log-mode', 'all'],
      extra: [],
      logTarget: dir,
    };
  }),
  agentScenario(5, 'agent-http', 'agent, all → collect (per event)', async (env) => {
    const c = await startCollector(env, 'collect-agent-http');
    return {
      args: ['--log-url', `http://127.0.0.1:${c.port}/`, '--log-mode', 'all'],
      extra: [c.proc],
      collector: c,
    };
  }),
  agentScenario(6, 'agent-http-batch', `agent, all → collect (batch ${BATCH_SIZE})`, async (env) => {
    const c = await startCollector(env, 'collect-agent-http-batch');
    return {
      args: ['--log-url', `http://127.0.0.1:${c.port}/`, '--log-mode', 'all', ...batchArgs],
      extra: [c.proc],
      collector: c,
    };
  }),
  agentScenario(7, 'agent-spool', 'agent, all → dead sink (spool)', async (env) => {
    const dead = await freePort(); // nothing listens here: every send is refused
    const spool = join(env.tmp, 'spool');
    mkdirSync(spool, { recursive: true });
    return {
      args: [
        '--log-url',
        `http://127.0.0.1:${dead}/`,
        '--log-mode',
        'all',
        ...batchArgs,
        '--spool-dir',
        spool,
      ],
      extra: [],
      logTarget: spool,
    };
  }),
  {
    id: 'nginx',
    n: 8,
    title: 'nginx proxy, no logging',
    unavailable: () => (nginxBinary() ? undefined : 'nginx is not installed'),
    async start(env) {
      const model = await startUp(env, 'model-nginx', undefined);
      const port = await freePort();
      const dir = join(env.tmp, 'nginx');
      const conf = writeNginxConfig(dir, port, model.port);
      const proc = env.group.spawn('nginx', nginxBinary() as string, ['-p', dir, '-c', conf]);
      await waitForPort(port, proc);
      return { url: url(port), subject: proc, processes: [model.proc, proc] };
    },
  },
  {
    id: 'inproc-file',
    n: 9,
    title: 'in-process capture, all → file',
    async start(env) {
      const dir = join(env.tmp, 'inproc-file-log');
      mkdirSync(dir, { recursive: true });
      const file = join(dir, 'requests.jsonl');
      const up = await startUp(
        env,
        'model-inproc-file',
        { mode: 'all', url: `file://${file}` },
        env.subjectNodeFlags('inproc-file'),
      );
      return { url: url(up.port), subject: up.proc, processes: [up.proc], logTarget: dir };
    },
  },
  {
    id: 'inproc-http-batch',
    n: 10,
    title: `in-process capture, all → collect (batch ${BATCH_SIZE})`,
    async start(env) {
      const c = await startCollector(env, 'collect-inproc');
      const up = await startUp(
        env,
        'model-inproc-http-batch',
        {
          mode: 'all',
          url: `http://127.0.0.1:${c.port}/`,
          batchSize: BATCH_SIZE,
          batchInterval: BATCH_INTERVAL,
        },
        env.subjectNodeFlags('inproc-http-batch'),
      );
      return { url: url(up.port), subject: up.proc, processes: [up.proc, c.proc], collector: c };
    },
  },
  {
    id: 'kserve-agent-http',
    n: 11,
    title: `KServe's agent ${KSERVE_AGENT_VERSION}, all → collect (per event)`,
    unavailable: () =>
      kserveAgentBinary() ? undefined : 'not built: run `bash scripts/peers/kserve-agent.sh install`',
    async start(env) {
      const bin = kserveAgentBinary();
      if (!bin) throw new Error('KServe agent not built: run `bash scripts/peers/kserve-agent.sh install`');
      const [model, c] = await Promise.all([
        startUp(env, 'model-kserve-agent-http', undefined),
        startCollector(env, 'collect-kserve-agent-http'),
      ]);
      const port = await freePort();
      // KServe's default --workers (5) and queue: the agent as its webhook starts it.
      const cmd = kserveAgentCommand(bin, port, model.port, [
        '--log-url',
        `http://127.0.0.1:${c.port}/`,
        '--log-mode',
        'all',
        '--inference-service',
        'simple-model',
        '--namespace',
        'bench',
        '--component',
        'predictor',
      ]);
      const proc = env.group.spawn('agent-kserve-agent-http', cmd.command, cmd.args, {
        cwd: env.repo,
        env: cmd.env,
      });
      // Up to 300 s in flock when a test holds the machine's one KServe agent.
      await waitForPort(port, proc, 330_000);
      return {
        url: url(port),
        subject: proc,
        processes: [model.proc, proc, c.proc],
        collector: c,
        settleBeforeStop: true,
      };
    },
  },
  // Issue 15: KServe's batcher, logging off (like 2), so the difference is the batching alone.
  // maxLatency 5 ms: at low concurrency a lone request waits it out; at high concurrency batches fill.
  agentScenario(12, 'agent-batcher', 'agent, logging off, batcher (32 instances / 5 ms)', async () => ({
    args: ['--enable-batcher', '--max-batchsize', '32', '--max-latency', '5'],
    extra: [],
    logTarget: 'stdout',
  })),
];
