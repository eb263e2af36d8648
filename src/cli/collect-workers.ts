/**
 * `inferlog collect --workers N`: N collector processes (node:cluster) sharing the main port and
 * `--ingest-port`, so HTTP parsing, auth, decoding and the store's own work use every core.
 *
 *   primary: checks the flags, runs the store's migrations once, then forks
 *     ├─ worker i: HTTP (both listeners), auth, decode, commit queue ──▶ its own store connection
 *     │    (SQLite: BEGIN IMMEDIATE, seq read under the write lock; PostgreSQL: a pool per worker)
 *     ├─ /metrics on any worker ──▶ asks the primary ──▶ sum over workers + inferlog_collector_workers*
 *     ├─ /healthz on any worker ──▶ 200 only when every worker listens and answers
 *     └─ SIGTERM ──▶ every worker drains its commit queue ──▶ exit 0
 *
 * Jobs that must run once: migrations run in the primary before any fork (two workers starting at
 * once then find nothing to migrate); retention runs in worker 0 only, as does the Kafka consumer
 * of `--from`. The audit log is opened by every worker with O_APPEND: each line is one write of a
 * whole line, and each worker reopens it on its own when it is rotated. TLS and --auth-file are
 * reloaded by each worker; rate limits count per worker.
 *
 * Why each worker writes SQLite itself rather than sending decoded halves to one owner over IPC:
 * both were measured in the same runs (bench/collector-ingest.ts --workers, 2 workers): the IPC
 * owner cost more CPU per event than waiting for the write lock, for single events and batches.
 */
import { type ClusterKind, clusterIndex, parseProcessCount } from './cluster.js';

export const COLLECTOR_WORKERS: ClusterKind = {
  flag: '--workers',
  env: 'INFERLOG_COLLECTOR_WORKER',
  noun: 'worker',
  draining: "every worker finishing its in-flight requests' commits",
  metrics: {
    configured: {
      name: 'inferlog_collector_workers',
      help: 'Collector worker processes configured (--workers).',
    },
    ready: {
      name: 'inferlog_collector_workers_ready',
      help: 'Collector worker processes listening now (below inferlog_collector_workers while one restarts).',
    },
    restarts: {
      name: 'inferlog_collector_worker_restarts_total',
      help: 'Collector worker processes that died and were started again.',
    },
  },
};

/** `--workers`: a count from 1 to 256, or `auto` (one per available core); 1 = one process, as before. */
export function collectorWorkers(raw: string | undefined): number {
  return parseProcessCount(raw, COLLECTOR_WORKERS.flag);
}

/** This process's index when it is a collector worker; otherwise undefined (the primary, or --workers 1). */
export function collectorWorkerIndex(): number | undefined {
  return clusterIndex(COLLECTOR_WORKERS);
}
