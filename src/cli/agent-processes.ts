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
 * Rules:
 * 1. A spool belongs to one index, never to two live processes: the successor of index i starts
 *    only after i's process exited, and the spool's lock refuses a live holder anyway.
 * 2. A worker that exits before it ever got ready (bad flags, a taken port) stops the agent with
 *    its exit code: restarting it would only loop.
 * 3. Restarts back off when a worker keeps dying young, so a crash loop costs little CPU.
 * 4. Workers answer IPC requests only from the primary (node:cluster's channel, not a socket).
 */
import cluster, { type Worker } from 'node:cluster';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { availableParallelism } from 'node:os';
import { AggregatorRegistry, Counter, Gauge, Registry } from 'prom-client';
import { InferlogError } from '../core/errors.js';
import type { OpLogger } from '../core/log.js';
import { onShutdownSignal } from './logging-runtime.js';
import { listen } from './util.js';

/** Environment variable that tells a forked process its index (read only in a cluster worker). */
const INDEX_ENV = 'INFERLOG_AGENT_PROCESS';
const MAX_PROCESSES = 256;
/** A worker that dies younger than this counts as a crash loop (rule 3). */
const YOUNG_MS = 10_000;
const MAX_BACKOFF_MS = 30_000;
/** How long a scrape waits for one worker's answer. */
const ASK_TIMEOUT_MS = 3_000;

/** `--processes`: a count from 1 to 256, or `auto` (one per available core). */
export function processCount(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 1;
  if (raw === 'auto') return Math.min(MAX_PROCESSES, availableParallelism());
  const n = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_PROCESSES)
    throw new InferlogError(
      'USAGE_INVALID',
      `--processes must be an integer from 1 to ${MAX_PROCESSES} or auto, not "${raw}"`,
    );
  return n;
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
  if (!cluster.isWorker) return undefined;
  const n = Number(process.env[INDEX_ENV]);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

type Ask = { type: 'inferlog:ask'; id: number; what: 'metrics' | 'health' };
type Answer = { type: 'inferlog:answer'; id: number; value: unknown };
type Ready = { type: 'inferlog:ready'; port: number; describe: string };
type Shutdown = { type: 'inferlog:shutdown' };

const isObject = (m: unknown): m is Record<string, unknown> => typeof m === 'object' && m !== null;

/** Worker side: answers the primary's questions, reports ready, and drains when told to stop. */
export function serveWorker(o: {
  registry: Registry;
  health: () => unknown;
  shutdown: (why: string) => void;
}): { ready(port: number, describe: string): void } {
  process.on('message', (m: unknown) => {
    if (!isObject(m)) return;
    if (m.type === 'inferlog:shutdown') o.shutdown('told to stop by the primary');
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
  return {
    ready(port, describe) {
      process.send?.({ type: 'inferlog:ready', port, describe } satisfies Ready);
    },
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
 * Primary side: forks `count` workers, prints `ready` once all listen, serves the admin port,
 * restarts the dead, and drains all on SIGTERM. Resolves once ready; exits the process itself.
 */
export async function runPrimary(o: {
  count: number;
  adminPort: number;
  host: string;
  log: OpLogger;
  /** The ready line, given the port workers listen on and the first worker's description. */
  readyLine: (port: number, describe: string) => string;
}): Promise<void> {
  const { log } = o;
  const slots = new Map<number, Slot>();
  let stopping = false;
  let everyoneReady = false;
  let askSeq = 0;

  const own = new Registry();
  new Gauge({
    name: 'inferlog_agent_processes',
    help: 'Agent processes configured (--processes); each has its own spool directory worker-<i>.',
    registers: [own],
  }).set(o.count);
  new Gauge({
    name: 'inferlog_agent_processes_ready',
    help: 'Agent processes listening now (below inferlog_agent_processes while one restarts).',
    registers: [own],
    collect() {
      this.set([...slots.values()].filter((s) => s.ready).length);
    },
  });
  const restarts = new Counter({
    name: 'inferlog_agent_process_restarts_total',
    help: 'Agent processes that died and were started again (their spool is recovered by the successor).',
    registers: [own],
  });

  let firstReady: (v: { port: number; describe: string }) => void = () => {};
  let startFailed: (e: Error) => void = () => {};
  const allReady = new Promise<{ port: number; describe: string }>((resolve, reject) => {
    firstReady = resolve;
    startFailed = reject;
  });
  let readyInfo: { port: number; describe: string } | undefined;

  const fork = (index: number, youngDeaths: number): void => {
    const worker = cluster.fork({ [INDEX_ENV]: String(index) });
    const slot: Slot = { index, worker, startedAt: Date.now(), ready: false, youngDeaths };
    slots.set(index, slot);
    // A send racing the worker's death fails on the channel: that worker is handled by 'exit';
    // an unhandled 'error' here would take the primary (and every other worker) down with it.
    worker.on('error', (err: Error) => log.debug(`process ${index}: ${err.message}`));
    worker.on('message', (m: unknown) => {
      if (!isObject(m) || m.type !== 'inferlog:ready') return;
      const r = m as Ready;
      slot.ready = true;
      slot.youngDeaths = 0;
      log.info(`process ${index} (pid ${worker.process.pid}) listening`);
      readyInfo ??= { port: r.port, describe: r.describe };
      if (!everyoneReady && [...slots.values()].every((s) => s.ready)) firstReady(readyInfo);
    });
    worker.on('exit', (code, signal) => {
      const how = signal ? `signal ${signal}` : `code ${code}`;
      if (stopping) return;
      if (!everyoneReady && !slot.ready) {
        // Rule 2: it never got ready; a restart would fail the same way.
        startFailed(
          Object.assign(new Error(`agent process ${index} exited with ${how} before it was ready`), {
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
        `process ${index} (pid ${worker.process.pid}) died (${how}); restarting it${delay ? ` in ${delay} ms` : ''} — its spool is recovered by the successor`,
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
    if (failed > 0) throw new Error(`${failed} of ${codes.length} agent processes did not stop cleanly`);
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

  let admin: Server | undefined;
  if (o.adminPort > 0) {
    const http = await import('node:http');
    admin = http.createServer((req: IncomingMessage, res: ServerResponse) => {
      const url = req.url ?? '';
      if (req.method === 'GET' && url === '/metrics') {
        void (async () => {
          // Counters, histograms and the buffer gauges add up over workers (prom-client's
          // aggregators; process_* metrics use theirs, e.g. the version is taken once).
          const perWorker = (await askAll('metrics')) as Parameters<typeof AggregatorRegistry.aggregate>[0];
          const summed = AggregatorRegistry.aggregate(perWorker);
          return (await summed.metrics()) + (await own.metrics());
        })().then(
          (text) => {
            res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
            res.end(text);
          },
          (err: Error) => {
            res.writeHead(500, { 'content-type': 'text/plain' });
            res.end(err.message);
          },
        );
        return;
      }
      if (req.method === 'GET' && url === '/healthz') {
        void askAll('health').then((answers) => {
          const sinks = (answers as { sinks?: unknown[] }[]).flatMap((a) => a.sinks ?? []);
          const listening = [...slots.values()].filter((s) => s.ready).length;
          const ok =
            listening === o.count &&
            (answers as { ok?: boolean }[]).every((a) => a.ok !== false) &&
            answers.length === listening;
          res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ ok, processes: { configured: o.count, listening }, sinks }));
        });
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":"not found: the admin port serves GET /metrics and GET /healthz"}');
    });
    await listen(admin, o.adminPort, o.host);
  }

  log.info(o.readyLine(info.port, info.describe));
  onShutdownSignal(log, async () => {
    admin?.close();
    await stopAll();
  });
}
