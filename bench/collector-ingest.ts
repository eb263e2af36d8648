/**
 * Collector ingest at line rate: `inferlog collect` (SQLite, defaults) fed by wrk with keep-alive,
 * KServe's events with unique ids: one binary event per POST (KServe's agent), and batches of 100.
 * Compares builds in the same run, as ratios. The measurement itself is lib/ingest.ts, the same
 * one `npm run bench`'s collector section uses.
 *
 *   npx tsx bench/collector-ingest.ts [--bin A.js --bin B.js] [--duration 10] [--connections 32] [--rounds 2]
 *                                     [--workers N|auto] [--store postgres://…]
 *
 *   wrk (1 thread, keep-alive) ──POST──▶ inferlog collect --store sqlite:<tmp>/db ──▶ stored
 *     collector CPU from /proc (its process tree, µs per event), events/s from wrk, stored rows afterwards
 *
 * Each (build, mode) point gets a fresh SQLite database and a fresh collector. Rounds alternate the
 * builds, so a burst of other work on a shared machine does not land on one build only. With
 * `--store postgres://…` (a server the bench may CREATE DATABASE on, e.g. the test peer from
 * `bash scripts/peers/postgres.sh start`), each point gets a fresh database there, dropped after,
 * and the table adds PostgreSQL's own CPU per event (see bench/lib/pg-server.ts). Any other
 * `--store` URL is used as given, shared by the points.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { ProcessGroup } from './lib/processes.js';
import { ingestPoint, startCollect, type IngestMode } from './lib/ingest.js';
import { pgScratchDatabase, type PgScratch } from './lib/pg-server.js';

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
const modes = arg('modes', 'single,batch')[0]!.split(',') as IngestMode[];
const workersArg = arg('workers', '1')[0]!;
const workers = workersArg === 'auto' ? 'auto' : Number(workersArg);
const storeArg = arg('store', '')[0]!;
const onPostgres = /^postgres(ql)?:\/\//.test(storeArg);

interface Point {
  bin: string;
  mode: string;
  events: number;
  seconds: number;
  eventsPerS: number;
  cpuUsPerEvent: number;
  /** PostgreSQL's server CPU per event (NaN without a postgres:// store). */
  pgCpuUsPerEvent: number;
  stored: number;
  errors: number;
  load1: number;
}

const tmp = mkdtempSync(join(tmpdir(), 'inferlog-ingest-'));
mkdirSync(join(tmp, 'logs'));
const group = new ProcessGroup(join(tmp, 'logs'));

async function point(bin: string, mode: IngestMode, round: number): Promise<Point> {
  const db = join(tmp, `store-${round}-${mode}-${bins.indexOf(bin)}.db`);
  const pgDb: PgScratch | undefined = onPostgres ? await pgScratchDatabase(storeArg) : undefined;
  try {
    const c = await startCollect(group, {
      name: `collect-${round}-${mode}`,
      cliPath: bin,
      cwd: process.cwd(),
      store: pgDb ? pgDb.url : storeArg || `sqlite:${db}`,
      workers,
    });
    try {
      const load1 = loadavg()[0]!;
      // Warm-up apart, so PostgreSQL's CPU is read over the measured window only.
      await ingestPoint(c, { mode, durationS: 1, warmupS: 0, connections, tag: `w${round}` });
      const pg0 = await pgDb?.serverCpuMs();
      const p = await ingestPoint(c, { mode, durationS, warmupS: 0, connections, tag: `r${round}` });
      const pgMs = pgDb && pg0 ? (await pgDb.serverCpuMs(pg0)).ms : NaN;
      return {
        bin,
        mode,
        events: p.events,
        seconds: p.seconds,
        eventsPerS: p.eventsPerS,
        cpuUsPerEvent: p.cpuUsPerEvent,
        pgCpuUsPerEvent: (pgMs * 1000) / p.events,
        stored: p.stored,
        errors: p.errors,
        load1,
      };
    } finally {
      await group.stop(c.proc);
      for (const s of ['', '-wal', '-shm']) rmSync(db + s, { force: true });
    }
  } finally {
    await pgDb?.drop();
  }
}

const points: Point[] = [];
try {
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
} finally {
  await group.stopAll();
  group.dispose();
  rmSync(tmp, { recursive: true, force: true });
}

const base = bins[0]!;
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const lines = [
  `Collector ingest (${storeArg ? storeArg.replace(/\/\/[^@/]*@/, '//…@') : 'SQLite, synchronous=NORMAL'}${workers === 1 ? '' : `, --workers ${workers}`}), wrk 1 thread, ${connections} connections, ${durationS}s per point, ${rounds} round(s); ${cpus().length} cores (${cpus()[0]?.model ?? '?'})`,
  '',
  `| mode | build | events/s | × first | collector CPU µs/event | × first |${onPostgres ? ' PostgreSQL CPU µs/event | × first |' : ''} errors |`,
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
