/**
 * `inferlog agent --processes N`: N agent processes (node:cluster) sharing the listening port, so
 * capture uses every core. KServe's own `--workers` (its log dispatcher count, default 5, which
 * the webhook may pass) keeps its meaning; the process count has a name of its own.
 *
 *   primary ──fork(index i)──▶ worker i: proxy + pipeline, spool <spool-dir>/worker-<i>
 *     │  ◀── ready {port, describe} ───┘
 *     ├─ admin port: /metrics = sum over workers (asked over IPC at scrape time) + the primary's own
 *     ├─ a worker that dies ──▶ forked again with the same index ──▶ recovers the same spool
 *     └─ SIGTERM/SIGINT ──▶ `shutdown` to every worker ──▶ each drains its buffer ──▶ exit
 *
 * The cluster itself (fork, restart, summed metrics, drain) is src/cli/cluster.ts, shared with
 * `inferlog collect --workers`. Rules:
 * 1. A spool belongs to one index, never to two live processes: the successor of index i starts
 *    only after i's process exited, and the spool's lock refuses a live holder anyway.
 * 2. A worker that exits before it ever got ready (bad flags, a taken port) stops the agent with
 *    its exit code: restarting it would only loop.
 * 3. Restarts back off when a worker keeps dying young, so a crash loop costs little CPU.
 * 4. Workers answer IPC requests only from the primary (node:cluster's channel, not a socket).
 */
import type { OpLogger } from '../core/log.js';
import { type ClusterKind, clusterIndex, parseProcessCount, runPrimary as runCluster } from './cluster.js';

export { serveWorker } from './cluster.js';

const AGENT: ClusterKind = {
  flag: '--processes',
  env: 'INFERLOG_AGENT_PROCESS',
  noun: 'process',
  restartNote: 'its spool is recovered by the successor',
  metrics: {
    configured: {
      name: 'inferlog_agent_processes',
      help: 'Agent processes configured (--processes); each has its own spool directory worker-<i>.',
    },
    ready: {
      name: 'inferlog_agent_processes_ready',
      help: 'Agent processes listening now (below inferlog_agent_processes while one restarts).',
    },
    restarts: {
      name: 'inferlog_agent_process_restarts_total',
      help: 'Agent processes that died and were started again (their spool is recovered by the successor).',
    },
  },
};

/** `--processes`: a count from 1 to 256, or `auto` (one per available core). */
export function processCount(raw: string | undefined): number {
  return parseProcessCount(raw, AGENT.flag);
}

/**
 * The log URL of process `index`. A file:// sink gets a file per process (`requests.jsonl` →
 * `requests.worker-1.jsonl`): each process rotates its own file by its own size count, which in
 * one shared file would rename it under the others' feet. Other sinks are shared as they are:
 * an HTTP or Kafka client per process, and blob keys are named by exchange id.
 */
export function processLogUrl(url: string, index: number): string {
  if (!/^file:/i.test(url)) return url;
  const u = new URL(url);
  const slash = u.pathname.lastIndexOf('/');
  const name = u.pathname.slice(slash + 1);
  const dot = name.lastIndexOf('.');
  const stem = dot > 0 ? name.slice(0, dot) : name;
  const ext = dot > 0 ? name.slice(dot) : '';
  u.pathname = `${u.pathname.slice(0, slash + 1)}${stem}.worker-${index}${ext}`;
  return u.toString();
}

/**
 * Why `url` cannot be shared by several processes, or undefined. stdout is one pipe: lines
 * longer than the pipe's atomic write size (4 KiB) from two processes could interleave and
 * corrupt each other.
 */
export function sharedLogUrlProblem(url: string | undefined): string | undefined {
  if (url === undefined || !/^stdout$/i.test(url.trim())) return undefined;
  return '--log-url stdout cannot be shared by several --processes (long lines from two processes could interleave); use file:// (one file per process) or --processes 1';
}

/** This process's index when it is an agent worker forked by `runPrimary`; otherwise undefined. */
export function workerIndex(): number | undefined {
  return clusterIndex(AGENT);
}

/**
 * Primary side: forks `count` agent processes, prints `ready` once all listen, serves the admin
 * port, restarts the dead, and drains all on SIGTERM. Resolves once ready; exits the process itself.
 */
export function runPrimary(o: {
  count: number;
  adminPort: number;
  host: string;
  log: OpLogger;
  readyLine: (port: number, describe: string) => string;
}): Promise<void> {
  return runCluster({ ...o, kind: AGENT });
}
