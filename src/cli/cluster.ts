/**
 * N copies of one command (node:cluster) sharing its listening ports, so it uses every core:
 * `inferlog agent --processes N` (agent-processes.ts) and `inferlog collect --workers N`
 * (collect-workers.ts). This module is what both share; each names its flag, environment
 * variable and metrics in a `ClusterKind`.
 *
 *   primary ──fork(index i)──▶ worker i
 *     │  ◀── ready {port, describe} ───┘
 *     ├─ /metrics = sum over workers (asked over IPC at scrape time) + the primary's own gauges,
 *     │  served on the primary's admin port, or to a worker that asks (the collector's /metrics)
 *     ├─ a worker that dies ──▶ forked again with the same index
 *     └─ SIGTERM/SIGINT ──▶ `shutdown` to every worker ──▶ each drains ──▶ exit
 *
 * Rules:
 * 1. The successor of index i starts only after i's process exited (so per-index state, such
 *    as the agent's spool, never has two live owners).
 * 2. A worker that exits before it ever got ready (bad flags, a taken port) stops the whole
 *    command with its exit code: restarting it would only loop.
 * 3. Restarts back off when a worker keeps dying young, so a crash loop costs little CPU.
 * 4. Workers answer IPC requests only from the primary (node:cluster's channel, not a socket).
 */
import cluster, { type Worker } from 'node:cluster';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { availableParallelism } from 'node:os';
import { AggregatorRegistry, Counter, Gauge, Registry } from 'prom-client';
import { InferlogError } from '../core/errors.js';
import type { OpLogger } from '../core/log.js';
import { answerMetrics, onShutdownSignal } from './logging-runtime.js';
import { listen } from './util.js';

export const MAX_PROCESSES = 256;
/** A worker that dies younger than this counts as a crash loop (rule 3). */
const YOUNG_MS = 10_000;
const MAX_BACKOFF_MS = 30_000;
/** How long a scrape waits for one worker's answer. */
const ASK_TIMEOUT_MS = 3_000;

/** What a clustered command calls its processes, and the metrics its primary exports. */
export interface ClusterKind {
  /** The flag, for error messages: `--processes`, `--workers`. */
  flag: string;
  /** Environment variable that tells a forked process its index (read only in a cluster worker). */
  env: string;
  /** In log lines: `agent process`, `collector worker`. */
  noun: string;
  /** What a successor does with its predecessor's state, said when it is restarted. */
  restartNote?: string;
  /** What stopping waits for, in the shutdown line (default: the agent's log buffer). */
  draining?: string;
  metrics: {
    configured: { name: string; help: string };
    ready: { name: string; help: string };
    restarts: { name: string; help: string };
  };
}

/** A count from 1 to 256, or `auto` (one per available core); anything else names `flag`. */
export function parseProcessCount(raw: string | undefined, flag: string): number {
  if (raw === undefined || raw === '') return 1;
  if (raw === 'auto') return Math.min(MAX_PROCESSES, availableParallelism());
  const n = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_PROCESSES)
    throw new InferlogError(
      'USAGE_INVALID',
      `${flag} must be an integer from 1 to ${MAX_PROCESSES} or auto, not "${raw}"`,
    );
  return n;
}

/** This process's index when it is a worker of `kind` forked by `runPrimary`; otherwise undefined. */
export function clusterIndex(kind: Pick<ClusterKind, 'env'>): number | undefined {
  if (!cluster.isWorker) return undefined;
  const n = Number(process.env[kind.env]);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

type Ask = { type: 'inferlog:ask'; id: number; what: 'metrics' | 'health' };
type Answer = { type: 'inferlog:answer'; id: number; value: unknown };
type Ready = { type: 'inferlog:ready'; port: number; describe: string };
type Shutdown = { type: 'inferlog:shutdown' };
/** A worker asking the primary for the whole cluster's view (the collector serves /metrics itself). */
type AskPrimary = { type: 'inferlog:ask-primary'; id: number; what: 'metrics' | 'health' };
type PrimaryAnswer = { type: 'inferlog:primary-answer'; id: number; value: unknown };

/** The whole cluster's health, as the primary sees it. */
export interface ClusterHealth {
  ok: boolean;
  configured: number;
  listening: number;
  /** Each answering worker's own health. */
  answers: unknown[];
}

const isObject = (m: unknown): m is Record<string, unknown> => typeof m === 'object' && m !== null;

export interface WorkerHandle {
  ready(port: number, describe: string): void;
  /**
   * Asks the primary for every worker's metrics summed (Prometheus text, with the primary's own
   * gauges) or for the cluster's health. Rejects when the primary does not answer in time.
   */
  askPrimary(what: 'metrics'): Promise<string>;
  askPrimary(what: 'health'): Promise<ClusterHealth>;
}

/** Worker side: answers the primary's questions, reports ready, and drains when told to stop. */
export function serveWorker(o: {
  registry: Registry;
  health: () => unknown;
  shutdown: (why: string) => void;
}): WorkerHandle {
  let askSeq = 0;
  const pending = new Map<number, (v: unknown) => void>();
  process.on('message', (m: unknown) => {
    if (!isObject(m)) return;
    if (m.type === 'inferlog:shutdown') o.shutdown('told to stop by the primary');
    if (m.type === 'inferlog:primary-answer') {
      const a = m as PrimaryAnswer;
      pending.get(a.id)?.(a.value);
      return;
    }
    if (m.type !== 'inferlog:ask') return;
    const ask = m as Ask;
    const value = ask.what === 'metrics' ? o.registry.getMetricsAsJSON() : Promise.resolve(o.health());
    void value.then(
      (v) => process.send?.({ type: 'inferlog:answer', id: ask.id, value: v } satisfies Answer),
      () => process.send?.({ type: 'inferlog:answer', id: ask.id, value: undefined } satisfies Answer),
    );
  });
  // The primary is gone (SIGKILL): drain and exit rather than run on unsupervised.
  process.on('disconnect', () => o.shutdown('primary process gone'));
  const askPrimary = (what: AskPrimary['what']): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = ++askSeq;
      // The primary waits up to ASK_TIMEOUT_MS for each worker; give it that and a margin.
      const timer = setTimeout(() => {
        pending.delete(id);
        // Not catalogued: /metrics answers it as a 500 (an overloaded or stuck primary, not a client's error).
        reject(new Error('the primary process did not answer'));
      }, ASK_TIMEOUT_MS * 2);
      pending.set(id, (v) => {
        clearTimeout(timer);
        pending.delete(id);
        resolve(v);
      });
      if (!process.send?.({ type: 'inferlog:ask-primary', id, what } satisfies AskPrimary)) {
        clearTimeout(timer);
        pending.delete(id);
        // Not catalogued, as above: the worker is about to exit with its primary gone.
        reject(new Error('no channel to the primary process'));
      }
    });
  return {
    ready(port, describe) {
      process.send?.({ type: 'inferlog:ready', port, describe } satisfies Ready);
    },
    askPrimary: askPrimary as WorkerHandle['askPrimary'],
  };
}

interface Slot {
  index: number;
  worker: Worker;
  startedAt: number;
  ready: boolean;
  /** Deaths in a row, each younger than YOUNG_MS. */
  youngDeaths: number;
}

/**
 * Primary side: forks `count` workers, prints `ready` once all listen, serves the admin port
 * (when given), answers workers' questions about the whole cluster, restarts the dead, and drains
 * all on SIGTERM. Resolves once ready; exits the process itself.
 */
export async function runPrimary(o: {
  kind: ClusterKind;
  count: number;
  /** 0 or undefined: no admin port (the workers serve /metrics and /healthz themselves). */
  adminPort?: number;
  host: string;
  log: OpLogger;
  /**
   * The ready line, given the port workers listen on and the first worker's description: a
   * message, or a message with the structured fields a single process would log.
   */
  readyLine: (
    port: number,
    describe: string,
  ) => string | { message: string; fields: Record<string, unknown> };
}): Promise<void> {
  const { log, kind } = o;
  const slots = new Map<number, Slot>();
  let stopping = false;
  let everyoneReady = false;
  let askSeq = 0;

  const own = new Registry();
  new Gauge({ ...kind.metrics.configured, registers: [own] }).set(o.count);
  new Gauge({
    ...kind.metrics.ready,
    registers: [own],
    collect() {
      this.set([...slots.values()].filter((s) => s.ready).length);
    },
  });
  const restarts = new Counter({ ...kind.metrics.restarts, registers: [own] });

  let firstReady: (v: { port: number; describe: string }) => void = () => {};
  let startFailed: (e: Error) => void = () => {};
  const allReady = new Promise<{ port: number; describe: string }>((resolve, reject) => {
    firstReady = resolve;
    startFailed = reject;
  });
  let readyInfo: { port: number; describe: string } | undefined;

  /** Asks every listening worker; a worker that does not answer in time is left out. */
  const askAll = async (what: Ask['what']): Promise<unknown[]> => {
    const id = ++askSeq;
    const live = [...slots.values()].filter((s) => s.ready && s.worker.isConnected());
    const answers = await Promise.all(
      live.map(
        (s) =>
          new Promise<unknown>((resolve) => {
            const onMessage = (m: unknown): void => {
              if (!isObject(m) || m.type !== 'inferlog:answer' || m.id !== id) return;
              done((m as Answer).value);
            };
            const timer = setTimeout(() => done(undefined), ASK_TIMEOUT_MS);
            const done = (v: unknown): void => {
              clearTimeout(timer);
              s.worker.off('message', onMessage);
              resolve(v);
            };
            s.worker.on('message', onMessage);
            s.worker.send({ type: 'inferlog:ask', id, what } satisfies Ask);
          }),
      ),
    );
    return answers.filter((a) => a !== undefined);
  };

  const metricsText = async (): Promise<string> => {
    // Counters, histograms and gauges add up over workers (prom-client's aggregators; process_*
    // metrics use theirs, e.g. the version is taken once).
    const perWorker = (await askAll('metrics')) as Parameters<typeof AggregatorRegistry.aggregate>[0];
    const summed = AggregatorRegistry.aggregate(perWorker);
    return (await summed.metrics()) + (await own.metrics());
  };
  const health = async (): Promise<ClusterHealth> => {
    const answers = await askAll('health');
    const listening = [...slots.values()].filter((s) => s.ready).length;
    const ok =
      listening === o.count &&
      (answers as { ok?: boolean }[]).every((a) => a.ok !== false) &&
      answers.length === listening;
    return { ok, configured: o.count, listening, answers };
  };

  const fork = (index: number, youngDeaths: number): void => {
    const worker = cluster.fork({ [kind.env]: String(index) });
    const slot: Slot = { index, worker, startedAt: Date.now(), ready: false, youngDeaths };
    slots.set(index, slot);
    // A send racing the worker's death fails on the channel: that worker is handled by 'exit';
    // an unhandled 'error' here would take the primary (and every other worker) down with it.
    worker.on('error', (err: Error) => log.debug(`${kind.noun} ${index}: ${err.message}`));
    worker.on('message', (m: unknown) => {
      if (!isObject(m)) return;
      if (m.type === 'inferlog:ask-primary') {
        const ask = m as AskPrimary;
        void (ask.what === 'metrics' ? metricsText() : health())
          .then(
            (value) => value,
            () => undefined,
          )
          .then((value) => {
            if (worker.isConnected())
              worker.send({ type: 'inferlog:primary-answer', id: ask.id, value } satisfies PrimaryAnswer);
          });
        return;
      }
      if (m.type !== 'inferlog:ready') return;
      const r = m as Ready;
      slot.ready = true;
      slot.youngDeaths = 0;
      log.info(`${kind.noun} ${index} (pid ${worker.process.pid}) listening`);
      readyInfo ??= { port: r.port, describe: r.describe };
      if (!everyoneReady && [...slots.values()].every((s) => s.ready)) firstReady(readyInfo);
    });
    worker.on('exit', (code, signal) => {
      const how = signal ? `signal ${signal}` : `code ${code}`;
      if (stopping) return;
      if (!everyoneReady && !slot.ready) {
        // Rule 2: it never got ready; a restart would fail the same way.
        startFailed(
          Object.assign(new Error(`${kind.noun} ${index} exited with ${how} before it was ready`), {
            exitCode: code ?? 70,
          }),
        );
        return;
      }
      slot.ready = false;
      restarts.inc();
      const young = Date.now() - slot.startedAt < YOUNG_MS;
      const deaths = young ? slot.youngDeaths + 1 : 0;
      // Rule 3: the first death restarts at once; repeated young deaths back off exponentially.
      const delay = deaths <= 1 ? 0 : Math.min(MAX_BACKOFF_MS, 250 * 2 ** (deaths - 1));
      log.warn(
        `${kind.noun} ${index} (pid ${worker.process.pid}) died (${how}); restarting it${delay ? ` in ${delay} ms` : ''}${kind.restartNote ? ` — ${kind.restartNote}` : ''}`,
      );
      setTimeout(() => {
        if (!stopping) fork(index, deaths);
      }, delay).unref();
    });
  };

  // Worker output goes to the primary's stderr as is: each line names its process (`agent[i]`).
  for (let i = 0; i < o.count; i++) fork(i, 0);

  const stopAll = async (): Promise<void> => {
    stopping = true;
    const exits = [...slots.values()].map(
      (s) =>
        new Promise<number>((resolve) => {
          if (s.worker.isDead()) return resolve(0);
          s.worker.once('exit', (code, signal) => resolve(signal ? 1 : (code ?? 1)));
          if (s.worker.isConnected()) s.worker.send({ type: 'inferlog:shutdown' } satisfies Shutdown);
          else s.worker.process.kill('SIGTERM');
        }),
    );
    const codes = await Promise.all(exits);
    const failed = codes.filter((c) => c !== 0).length;
    // Not a catalogued error: the shutdown handler reports it and exits non-zero; each process
    // has already logged why it did not stop cleanly.
    if (failed > 0) throw new Error(`${failed} of ${codes.length} processes did not stop cleanly`);
  };

  let info: { port: number; describe: string };
  try {
    info = await allReady;
  } catch (e) {
    log.error((e as Error).message);
    await stopAll().catch(() => {});
    process.exit((e as { exitCode?: number }).exitCode ?? 70);
  }
  everyoneReady = true;

  let admin: Server | undefined;
  if ((o.adminPort ?? 0) > 0) {
    const http = await import('node:http');
    admin = http.createServer((req: IncomingMessage, res: ServerResponse) => {
      const url = req.url ?? '';
      if (req.method === 'GET' && url === '/metrics') {
        answerMetrics(res, metricsText);
        return;
      }
      if (req.method === 'GET' && url === '/healthz') {
        void health().then((h) => {
          const sinks = (h.answers as { sinks?: unknown[] }[]).flatMap((a) => a.sinks ?? []);
          res.writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              ok: h.ok,
              processes: { configured: h.configured, listening: h.listening },
              sinks,
            }),
          );
        });
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":"not found: the admin port serves GET /metrics and GET /healthz"}');
    });
    await listen(admin, o.adminPort!, o.host);
  }

  const line = o.readyLine(info.port, info.describe);
  if (typeof line === 'string') log.info(line);
  else log.info(line.message, line.fields);
  onShutdownSignal(
    log,
    async () => {
      admin?.close();
      await stopAll();
    },
    kind.draining,
  );
}
