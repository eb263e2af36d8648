/**
 * Collector ingest at line rate, the way issue 10 measures it: `inferlog collect` fed by wrk
 * (one thread, keep-alive) with KServe's events, each exchange with a unique id.
 * Shared by `npm run bench` (lib/collector-bench.ts, lib/scaling.ts) and bench/collector-ingest.ts.
 *
 *   wrk -s load/ce-events.lua ──POST──▶ inferlog collect [--workers N] --store <sqlite:… | postgres://…>
 *     single: one binary-mode event per POST (KServe's agent: the request half, then the response half)
 *     batch:  100 structured events per POST (application/cloudevents-batch+json)
 *   collector CPU = /proc utime+stime of its process tree (cluster workers included) over the run
 *   stored = exchanges of this run's model name, asked of the collector's API afterwards
 *
 * Every run gets its own inference-service name (`model`), so what one run stored is counted apart
 * from a warm-up or a seeded store's rows; ids never repeat (prefix + wrk's counter).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { freePort } from './ports.js';
import { waitForLine, waitForPort, type ManagedProcess, type ProcessGroup } from './processes.js';
import { cpuMs } from './proc-stats.js';

const LUA = fileURLToPath(new URL('./load/ce-events.lua', import.meta.url));

/** Events per POST in batch mode (issue 10: "batched POSTs (100 events each)"). */
export const INGEST_BATCH = 100;

export type IngestMode = 'single' | 'batch';

export interface CeLoad {
  /** POSTs answered (any status). */
  requests: number;
  /** Events those POSTs carried. */
  events: number;
  durationS: number;
  /** Socket errors, timeouts and non-2xx answers. */
  errors: number;
  p99Ms: number;
}

const WrkJson = z.object({
  requests: z.number(),
  durationUs: z.number(),
  errors: z.record(z.string(), z.number()),
  latencyUs: z.object({ p99: z.number() }),
});

export interface CeLoadSpec {
  port: number;
  mode: IngestMode;
  /** The inference-service name of every event of this run (what `stored` counts). */
  model: string;
  /** Id prefix: unique per run. */
  prefix: string;
  durationS: number;
  connections: number;
  /** Stops wrk early (SIGINT: wrk then reports what it did so far). */
  signal?: AbortSignal;
}

/** One wrk run of KServe's events against a collector; resolves with wrk's own counts. */
export function runCeLoad(s: CeLoadSpec): Promise<CeLoad> {
  const args = [
    '-t1',
    `-c${s.connections}`,
    `-d${Math.max(1, Math.round(s.durationS))}s`,
    '--timeout',
    '30s',
    '-s',
    LUA,
    `http://127.0.0.1:${s.port}/`,
    '--',
    s.mode,
    s.prefix,
    String(INGEST_BATCH),
    s.model,
  ];
  return new Promise((resolve, reject) => {
    const child = execFile('wrk', args, { maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      const line = stdout.split('\n').find((l) => l.startsWith('BENCH_JSON '));
      if (!line) {
        reject(new Error(`wrk gave no result${err ? `: ${err.message}` : ''}\n${stdout}\n${stderr}`));
        return;
      }
      const r = WrkJson.parse(JSON.parse(line.slice('BENCH_JSON '.length)));
      resolve({
        requests: r.requests,
        events: r.requests * (s.mode === 'single' ? 1 : INGEST_BATCH),
        durationS: r.durationUs / 1e6,
        errors: Object.values(r.errors).reduce((a, b) => a + b, 0),
        p99Ms: r.latencyUs.p99 / 1000,
      });
    });
    s.signal?.addEventListener('abort', () => child.kill('SIGINT'), { once: true });
  });
}

export interface Collect {
  proc: ManagedProcess;
  port: number;
}

/** The CLI said it does not know `--workers` (a build without `collect --workers`). */
export class WorkersUnsupported extends Error {}

/**
 * Starts `inferlog collect` on 127.0.0.1 and waits until it listens. `workers` is passed only
 * when it is not 1, so builds without `--workers` still run the one-process case.
 */
export async function startCollect(
  group: ProcessGroup,
  o: {
    name: string;
    cliPath: string;
    cwd: string;
    store: string;
    workers?: number | 'auto';
    nodeFlags?: string[];
  },
): Promise<Collect> {
  const port = await freePort();
  const workers = o.workers === undefined || o.workers === 1 ? [] : ['--workers', String(o.workers)];
  const proc = group.spawn(
    o.name,
    process.execPath,
    [
      ...(o.nodeFlags ?? []),
      o.cliPath,
      'collect',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--store',
      o.store,
      ...workers,
    ],
    { cwd: o.cwd },
  );
  try {
    await waitForPort(port, proc, 120_000);
  } catch (err) {
    await proc.exited;
    // commander prints the error first, then the whole help: look at every line, not the tail.
    if (workers.length && /unknown option '--workers'/.test(proc.tail(1000)))
      throw new WorkersUnsupported('collect --workers is not available in this build');
    throw err;
  }
  // With workers, the port answers once the first one listens: wait for the ready line too.
  if (workers.length) await waitForLine(proc, /^inferlog collect: ready/, 120_000);
  return { proc, port };
}

const StatsAnswer = z.object({ total: z.object({ count: z.number() }) });

/** Exchanges the collector holds for one model (optionally one status filter), over the last day. */
export async function storedExchanges(port: number, model: string, status?: string): Promise<number> {
  const q = new URLSearchParams({ since: '24h', model });
  if (status) q.set('status', status);
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/stats?${q.toString()}`);
  if (res.status !== 200) throw new Error(`/api/v1/stats answered ${res.status}: ${await res.text()}`);
  return StatsAnswer.parse(await res.json()).total.count;
}

export interface IngestPoint {
  mode: IngestMode;
  events: number;
  seconds: number;
  eventsPerS: number;
  /** CPU of the collector's process tree per event. */
  cpuUsPerEvent: number;
  /** Collector CPU time ÷ wall time: how many cores it kept busy. */
  coresUsed: number;
  errors: number;
  p99Ms: number;
  /** Exchanges found stored for this run afterwards (≥ events/2: wrk leaves some answers unread at its end). */
  stored: number;
}

/**
 * One measured point against a running collector: a warm-up (JIT, connections, page cache)
 * under its own model name, then the measured run. Stored exchanges are counted through the API.
 */
export async function ingestPoint(
  c: Collect,
  o: { mode: IngestMode; durationS: number; warmupS: number; connections: number; tag: string },
): Promise<IngestPoint> {
  const run = `${o.tag}-${o.mode}-${Date.now().toString(36)}`;
  if (o.warmupS > 0)
    await runCeLoad({
      port: c.port,
      mode: o.mode,
      model: `${run}-warm`,
      prefix: `${run}-warm`,
      durationS: o.warmupS,
      connections: o.connections,
    });
  const cpu0 = cpuMs(c.proc.pid);
  const t0 = performance.now();
  const r = await runCeLoad({
    port: c.port,
    mode: o.mode,
    model: run,
    prefix: run,
    durationS: o.durationS,
    connections: o.connections,
  });
  const cpu = cpuMs(c.proc.pid) - cpu0;
  const wallMs = performance.now() - t0;
  if (c.proc.hasExited()) throw new Error(`collector exited during the run:\n${c.proc.tail(5)}`);
  return {
    mode: o.mode,
    events: r.events,
    seconds: r.durationS,
    eventsPerS: r.durationS > 0 ? r.events / r.durationS : 0,
    cpuUsPerEvent: r.events > 0 ? (cpu * 1000) / r.events : NaN,
    coresUsed: cpu / wallMs,
    errors: r.errors,
    p99Ms: r.p99Ms,
    stored: await storedExchanges(c.port, run),
  };
}
