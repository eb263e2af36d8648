/**
 * Collector ingest at line rate: `inferlog collect` (SQLite, defaults) fed by wrk with keep-alive,
 * KServe's events with unique ids: one binary event per POST (KServe's agent), and batches of 100.
 * Compares builds in the same run, as ratios.
 *
 *   npx tsx bench/collector-ingest.ts [--bin A.js --bin B.js] [--duration 10] [--connections 32] [--rounds 2]
 *                                     [--store postgres://postgres@127.0.0.1:54329/postgres]
 *
 *   wrk (1 thread, keep-alive) ──POST──▶ inferlog collect --store sqlite:<tmp>/db ──▶ stored
 *     collector CPU from /proc/<pid>/stat (µs per event), events/s from wrk, stored rows afterwards
 *
 * Each (build, mode) point gets a fresh database and a fresh collector. Rounds alternate the
 * builds, so a burst of other work on a shared machine does not land on one build only.
 * With `--store postgres://…` (a server the bench may CREATE DATABASE on, e.g. the test peer from
 * `bash scripts/peers/postgres.sh start`), each point gets a fresh database there, dropped after,
 * and the table adds PostgreSQL's own CPU per event (see bench/lib/pg-server.ts).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { cpuMs } from './lib/proc-stats.js';
import { pgScratchDatabase, type PgScratch } from './lib/pg-server.js';
import { freePort } from './lib/ports.js';

const LUA = fileURLToPath(new URL('./lib/load/ce-events.lua', import.meta.url));

function arg(name: string, fallback: string): string[] {
  const out: string[] = [];
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) if (argv[i] === `--${name}`) out.push(argv[i + 1] ?? '');
  return out.length > 0 ? out : [fallback];
}

const bins = arg('bin', 'bin/inferlog.js').map((b) => resolve(b));
const durationS = Number(arg('duration', '10')[0]);
const connections = Number(arg('connections', '32')[0]);
const rounds = Number(arg('rounds', '1')[0]);
const modes = arg('modes', 'single,batch')[0]!.split(',');
/** `sqlite` (a fresh file per point) or a PostgreSQL server URL (a fresh database per point). */
const storeArg = arg('store', 'sqlite')[0]!;
const onPostgres = /^postgres(ql)?:\/\//.test(storeArg);

interface Point {
  bin: string;
  mode: string;
  events: number;
  seconds: number;
  eventsPerS: number;
  cpuUsPerEvent: number;
  /** PostgreSQL's server CPU per event (NaN on SQLite). */
  pgCpuUsPerEvent: number;
  stored: number;
  errors: number;
  load1: number;
}

async function startCollector(
  bin: string,
  store: string,
): Promise<{ pid: number; port: number; stop(): Promise<void> }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [bin, 'collect', '--host', '127.0.0.1', '--port', String(port), '--store', store],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let err = '';
  child.stderr.setEncoding('utf8');
  await new Promise<void>((ok, fail) => {
    const t = setTimeout(() => fail(new Error(`collector not ready:\n${err}`)), 20_000);
    child.stderr.on('data', (d: string) => {
      err += d;
      if (/ready/.test(err)) {
        clearTimeout(t);
        ok();
      }
    });
    child.once('exit', (code) => fail(new Error(`collector exited ${code}:\n${err}`)));
  });
  child.removeAllListeners('exit');
  return {
    pid: child.pid!,
    port,
    stop: () =>
      new Promise<void>((r) => {
        if (child.exitCode !== null || child.signalCode !== null) return r();
        child.once('exit', () => r());
        child.kill('SIGTERM');
      }),
  };
}

function wrk(
  port: number,
  mode: string,
  prefix: string,
  seconds: number,
): { requests: number; durationS: number; errors: number } {
  const out = spawnSync(
    'wrk',
    [
      '-t1',
      `-c${connections}`,
      `-d${seconds}s`,
      '--timeout',
      '30s',
      '-s',
      LUA,
      `http://127.0.0.1:${port}/`,
      '--',
      mode,
      prefix,
      '100',
    ],
    { encoding: 'utf8' },
  );
  const line = out.stdout.split('\n').find((l) => l.startsWith('BENCH_JSON '));
  if (!line) throw new Error(`wrk gave no result\n${out.stdout}\n${out.stderr}`);
  const r = JSON.parse(line.slice(11)) as {
    requests: number;
    durationUs: number;
    errors: Record<string, number>;
  };
  return {
    requests: r.requests,
    durationS: r.durationUs / 1e6,
    errors: Object.values(r.errors).reduce((a, b) => a + b, 0),
  };
}

async function point(bin: string, mode: string, round: number): Promise<Point> {
  const dir = mkdtempSync(join(tmpdir(), 'inferlog-ingest-'));
  const db = join(dir, 'store.db');
  let pgDb: PgScratch | undefined;
  try {
    if (onPostgres) pgDb = await pgScratchDatabase(storeArg);
    const c = await startCollector(bin, pgDb ? pgDb.url : `sqlite:${db}`);
    try {
      wrk(c.port, mode, `warm${round}`, 1); // warm-up: JIT, page cache, connections
      const load1 = loadavg()[0]!;
      const cpu0 = cpuMs(c.pid);
      const pg0 = await pgDb?.serverCpuMs();
      const r = wrk(c.port, mode, `run${round}`, durationS);
      const cpu = cpuMs(c.pid) - cpu0;
      const pgCpu = pgDb && pg0 ? (await pgDb.serverCpuMs(pg0)).ms : NaN;
      const events = r.requests * (mode === 'single' ? 1 : 100);
      await c.stop();
      let stored: number;
      if (pgDb) stored = await pgDb.count('exchanges');
      else {
        const d = new Database(db, { readonly: true });
        stored = (d.prepare('SELECT count(*) AS n FROM exchanges').get() as { n: number }).n;
        d.close();
      }
      return {
        bin,
        mode,
        events,
        seconds: r.durationS,
        eventsPerS: events / r.durationS,
        cpuUsPerEvent: (cpu * 1000) / events,
        pgCpuUsPerEvent: (pgCpu * 1000) / events,
        stored,
        errors: r.errors,
        load1,
      };
    } finally {
      await c.stop().catch(() => {});
    }
  } finally {
    await pgDb?.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const points: Point[] = [];
for (let round = 0; round < rounds; round++) {
  for (const mode of modes) {
    for (const bin of round % 2 === 0 ? bins : [...bins].reverse()) {
      const p = await point(bin, mode, round);
      points.push(p);
      process.stderr.write(
        `${mode} ${bin}: ${Math.round(p.eventsPerS)} events/s, ${p.cpuUsPerEvent.toFixed(1)} µs CPU/event${onPostgres ? ` (+ PostgreSQL ${p.pgCpuUsPerEvent.toFixed(1)})` : ''}, stored ${p.stored} exchanges, errors ${p.errors}, load ${p.load1.toFixed(1)}\n`,
      );
    }
  }
}

const base = bins[0]!;
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const pgCols = onPostgres ? ' PostgreSQL CPU µs/event | × first |' : '';
const lines = [
  `Collector ingest (${onPostgres ? 'PostgreSQL, a fresh database per point' : 'SQLite, synchronous=NORMAL'}), wrk 1 thread, ${connections} connections, ${durationS}s per point, ${rounds} round(s); ${cpus().length} cores (${cpus()[0]?.model ?? '?'})`,
  '',
  `| mode | build | events/s | × first | collector CPU µs/event | × first |${pgCols} errors |`,
  `|---|---|---|---|---|---|${onPostgres ? '---|---|' : ''}---|`,
];
for (const mode of modes) {
  const b = points.filter((p) => p.mode === mode && p.bin === base);
  for (const bin of bins) {
    const ps = points.filter((p) => p.mode === mode && p.bin === bin);
    const rate = mean(ps.map((p) => p.eventsPerS));
    const cpu = mean(ps.map((p) => p.cpuUsPerEvent));
    const pgCpu = mean(ps.map((p) => p.pgCpuUsPerEvent));
    const pgCells = onPostgres
      ? ` ${pgCpu.toFixed(1)} | ${(pgCpu / mean(b.map((p) => p.pgCpuUsPerEvent))).toFixed(2)}× |`
      : '';
    lines.push(
      `| ${mode} | ${bin} | ${Math.round(rate)} | ${(rate / mean(b.map((p) => p.eventsPerS))).toFixed(2)}× | ${cpu.toFixed(1)} | ${(cpu / mean(b.map((p) => p.cpuUsPerEvent))).toFixed(2)}× |${pgCells} ${ps.reduce((n, p) => n + p.errors, 0)} |`,
    );
  }
}
process.stdout.write(lines.join('\n') + '\n');
