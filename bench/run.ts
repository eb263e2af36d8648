/**
 * `npm run bench`: what logging costs, against baselines measured in the same run.
 *
 *   payload files ─▶ for each scenario (lib/scenarios.ts): start processes ─▶ sanity POST
 *        ─▶ for each payload × connections: warm-up, measured run (lib/measure.ts) ─▶ stop, check the log
 *   ─▶ collector: wrk ingest (single, batch), queries idle and under ingest (lib/collector-bench.ts)
 *   ─▶ pg: batched wrk ingest into PostgreSQL, when one is given or found
 *   ─▶ scaling: agent --processes and collect --workers at 1, 2, auto (lib/scaling.ts)
 *   ─▶ lake: Parquet writes, bytes per exchange, DuckDB queries (lib/lake-bench.ts)
 *   ─▶ optional --profile: the agent and in-process capture under --cpu-prof
 *   ─▶ ratios to scenario 1, issue 10's targets (lib/report.ts) ─▶ table on stdout, JSON + markdown in bench/results/
 *
 * Loopback only; every child is stopped on exit, error or Ctrl-C; the temp dir is removed.
 * Exit 0 when every selected scenario ran, 1 when one failed to run, 2 on bad flags.
 */
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  readFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { cpus, freemem, totalmem, tmpdir, type as osType, release } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HELP, loadPoints, parseOptions, selected, wantsHelp, type BenchOptions } from './lib/options.js';
import { ProcessGroup } from './lib/processes.js';
import { hasWrk, pickGenerator, type LoadGenerator } from './lib/load/generator.js';
import { writePayload, type Payload } from './lib/payloads.js';
import { SCENARIOS, type BenchEnv, type RunningScenario, type Scenario } from './lib/scenarios.js';
import { measurePoint } from './lib/measure.js';
import { nginxBinary, nginxVersion } from './lib/nginx.js';
import { findPostgres, runCollectorBench, runPgIngest } from './lib/collector-bench.js';
import { runScaling } from './lib/scaling.js';
import { runLakeBench } from './lib/lake-bench.js';
import { summariseProfile } from './lib/cpu-profile.js';
import { addRatios, evaluateTargets, REFERENCE, renderMarkdown } from './lib/report.js';
import type { BenchReport, PointResult, ProfileSummary, ScenarioStatus } from './lib/results.js';

const REPO = resolve(fileURLToPath(new URL('..', import.meta.url)));
const progress = (line: string): void => void process.stderr.write(`bench: ${line}\n`);
/** wrk connections for collector ingest, as in bench/collector-ingest.ts. */
const INGEST_CONNECTIONS = 32;

function machineInfo(gen: LoadGenerator): Record<string, string | number> {
  const git = (args: string[]): string => {
    try {
      return execFileSync('git', args, {
        cwd: REPO,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim();
    } catch {
      return 'unknown';
    }
  };
  const nginx = nginxBinary();
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memGiB: Math.round(totalmem() / 2 ** 30),
    freeMemGiB: Math.round(freemem() / 2 ** 30),
    os: `${osType()} ${release()}`,
    node: process.versions.node,
    generator: `${gen.name} ${gen.version}`,
    nginx: nginx ? nginxVersion(nginx) : 'not installed',
    loadAverageAtStart: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
    commit: `${git(['rev-parse', '--short', 'HEAD'])}${git(['status', '--porcelain']) ? ' (+ uncommitted changes)' : ''}`,
  };
}

function loggedSize(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((n, f) => n + loggedSize(join(path, f)), 0);
}

async function sanityPost(url: string, payload: Payload): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: readFileSync(payload.path),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`sanity POST ${url} answered ${res.status}: ${text.slice(0, 200)}`);
}

async function collectorCount(port: number, status?: string): Promise<number | undefined> {
  try {
    const res = await fetch(
      `http://127.0.0.1:${port}/api/v1/stats?since=1h${status ? `&status=${status}` : ''}`,
    );
    const body = (await res.json()) as { total?: { count?: number } };
    return body.total?.count;
  } catch {
    return undefined;
  }
}

/**
 * Polls the collector until it holds `expected` complete exchanges (both halves), or its counts
 * have not moved for 3 s (at most 120 s): for proxies that deliver after their clients were
 * answered, with no drain (KServe's agent sends each half on its own, later).
 */
async function settleCount(port: number, expected: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  let last = '';
  let still = 0;
  while (Date.now() < deadline) {
    const n = (await collectorCount(port)) ?? -1;
    const incomplete = (await collectorCount(port, 'incomplete')) ?? -1;
    // Requests the load generator cut off at the end of a run may stay incomplete for good.
    if (n - incomplete >= expected) return;
    const now = `${n}/${incomplete}`;
    still = now === last ? still + 1 : 0;
    if (still >= 6) return;
    last = now;
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function runScenario(
  s: Scenario,
  env: BenchEnv,
  o: BenchOptions,
  gen: LoadGenerator,
  payloads: Payload[],
  plan: { payload: Payload; connections: number }[],
  counter: { done: number; total: number },
): Promise<{ status: ScenarioStatus; points: PointResult[] }> {
  const status: ScenarioStatus = { id: s.id, n: s.n, title: s.title, status: 'ok' };
  const points: PointResult[] = [];
  let running: RunningScenario | undefined;
  // Requests that completed through this scenario (sanity + warm-ups + measured): what its log should hold.
  let sent = 0;
  try {
    running = await s.start(env);
    await sanityPost(running.url, payloads[0] as Payload);
    sent++;
    for (const { payload, connections } of plan) {
      {
        counter.done++;
        const base = {
          scenario: s.id,
          n: s.n,
          title: s.title,
          payload: payload.label,
          payloadBytes: payload.bytes,
          connections,
        };
        try {
          const m = await measurePoint(gen, running, payload, connections, {
            // Large bodies complete a few requests per second: give them a longer window.
            durationS: payload.bytes >= 512 * 1024 ? o.durationS * 2 : o.durationS,
            warmupS: o.warmupS,
            timeoutS: o.timeoutS,
            settleMs: 300,
          });
          sent += m.warmupRequests + m.load.requests;
          const perReq = (ms: number): number => (m.load.requests > 0 ? (ms * 1000) / m.load.requests : NaN);
          const errorRate = m.load.requests > 0 ? m.load.errors / m.load.requests : 1;
          const ok = m.load.requests > 0 && errorRate <= 0.01;
          points.push({
            ...base,
            ok,
            note: ok ? undefined : `${m.load.errors} errors in ${m.load.requests} requests`,
            load: m.load,
            subjectCpuUsPerReq: perReq(m.subject.cpuMs),
            totalCpuUsPerReq: perReq(m.processes.reduce((n, p) => n + p.cpuMs, 0)),
            subjectPeakRssMiB: m.subject.peakRssMiB,
            processes: m.processes,
            outsideCpuPct: m.outsideCpuPct,
            loadAverage1: m.loadAverage1,
          });
          const dead = running.processes.find((p) => p.hasExited());
          if (dead) throw new Error(`${dead.name} exited during the run:\n${dead.tail(10)}`);
          if (!ok) {
            status.status = 'failed';
            status.reason = `${payload.label} × ${connections}: ${m.load.errors} errors in ${m.load.requests} requests`;
          }
          progress(
            `[${counter.done}/${counter.total}] ${s.n} ${s.id} ${payload.label} c=${connections}: ${Math.round(m.load.rps)} req/s, p50 ${m.load.p50Ms.toFixed(2)} ms, p99 ${m.load.p99Ms.toFixed(2)} ms, proxy CPU ${perReq(m.subject.cpuMs).toFixed(1)} µs/req, RSS ${m.subject.peakRssMiB.toFixed(0)} MiB, outside CPU ${m.outsideCpuPct.toFixed(0)}%${m.load.errors ? `, ${m.load.errors} errors` : ''}`,
          );
        } catch (err) {
          const msg = err instanceof Error ? err.message.split('\n')[0] : String(err);
          points.push({ ...base, ok: false, note: msg });
          status.status = 'failed';
          status.reason = msg;
          progress(
            `[${counter.done}/${counter.total}] ${s.n} ${s.id} ${payload.label} c=${connections}: FAILED ${msg}`,
          );
        }
      }
    }
  } catch (err) {
    status.status = 'failed';
    status.reason = err instanceof Error ? err.message : String(err);
    progress(`${s.n} ${s.id}: FAILED to run: ${status.reason}`);
    counter.done += plan.length - points.length;
  } finally {
    // The proxy stops first (its shutdown drains what it buffered), then the collector is counted.
    const collector = running?.collector;
    if (collector && running?.settleBeforeStop) await settleCount(collector.port, sent);
    await Promise.all(
      (running?.processes ?? []).filter((p) => p !== collector?.proc).map((p) => env.group.stop(p)),
    );
    if (collector) {
      const n = await collectorCount(collector.port);
      // Stored with one half only: KServe's agent sends the halves apart, and one left behind shows here.
      const incomplete = await collectorCount(collector.port, 'incomplete');
      status.logged =
        n === undefined
          ? 'collector count unavailable'
          : `${n} exchanges stored (${incomplete ?? '?'} incomplete), ${sent} requests completed`;
      status.stored = n;
      status.completed = sent;
      status.incomplete = incomplete;
      await env.group.stop(collector.proc);
    }
    if (running?.logTarget) status.logged = `${loggedSize(running.logTarget)} bytes logged`;
  }
  return { status, points };
}

/** Runs one scenario at the reference point with --cpu-prof on its subject, and summarises the profile. */
async function profileScenario(
  s: Scenario,
  env: BenchEnv,
  o: BenchOptions,
  gen: LoadGenerator,
  payload: Payload,
  profDir: string,
): Promise<ProfileSummary | undefined> {
  const dir = join(profDir, s.id);
  mkdirSync(dir, { recursive: true });
  const profEnv: BenchEnv = {
    ...env,
    subjectNodeFlags: (id) => (id === s.id ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : []),
  };
  const running = await s.start(profEnv);
  const exitedAt = running.subject.exited.then(() => Date.now());
  let loadStart = 0;
  let loadEnd = 0;
  try {
    // Warm the JIT first; only the measured run's samples are counted.
    if (o.warmupS > 0)
      await gen.run({
        url: running.url,
        bodyPath: payload.path,
        connections: REFERENCE.connections,
        durationS: o.warmupS,
        timeoutS: o.timeoutS,
      });
    loadStart = Date.now();
    await gen.run({
      url: running.url,
      bodyPath: payload.path,
      connections: REFERENCE.connections,
      durationS: o.durationS,
      timeoutS: o.timeoutS,
    });
    loadEnd = Date.now();
  } finally {
    await Promise.all(running.processes.map((p) => env.group.stop(p)));
  }
  const exit = await exitedAt;
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) {
    progress(`profile ${s.id}: no .cpuprofile written (the process must exit cleanly on SIGTERM)`);
    return undefined;
  }
  const keep = join(o.out, `${s.id}.cpuprofile`);
  copyFileSync(join(dir, file), keep);
  return summariseProfile(keep, s.id, {
    fromEndUs: (exit - loadStart) * 1000,
    toEndUs: (exit - loadEnd) * 1000,
  });
}

async function main(): Promise<number> {
  if (wantsHelp(process.argv.slice(2))) {
    process.stdout.write(HELP);
    return 0;
  }
  let o: BenchOptions;
  try {
    o = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(
      `${err instanceof Error ? err.message : String(err)}\n(npm run bench -- --help lists the flags)\n`,
    );
    return 2;
  }
  const outDir = resolve(REPO, o.out);
  o = { ...o, out: outDir };
  const cliPath = resolve(REPO, o.bin);
  if (!existsSync(cliPath) || (o.bin === 'bin/inferlog.js' && !existsSync(join(REPO, 'dist/cli/main.js')))) {
    process.stderr.write(`bench: ${cliPath} or dist/ missing: run \`npm run build\` first\n`);
    return 1;
  }
  const baselineCliPath = o.baselineBin === undefined ? undefined : resolve(o.baselineBin);
  if (baselineCliPath !== undefined && !existsSync(baselineCliPath)) {
    process.stderr.write(`bench: --baseline-bin ${baselineCliPath} does not exist\n`);
    return 2;
  }
  mkdirSync(outDir, { recursive: true });
  const tmp = mkdtempSync(join(tmpdir(), 'inferlog-bench-'));
  mkdirSync(join(tmp, 'logs'));
  const group = new ProcessGroup(join(tmp, 'logs'));
  const cleanup = async (): Promise<void> => {
    await group.stopAll();
    group.dispose();
    if (!o.keep) rmSync(tmp, { recursive: true, force: true });
    else progress(`kept ${tmp}`);
  };
  const onSignal = (sig: NodeJS.Signals): void => {
    progress(`${sig}: stopping`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    const gen = pickGenerator(o.generator);
    const env: BenchEnv = {
      repo: REPO,
      cliPath,
      tmp,
      group,
      examplePath: resolve(REPO, o.example),
      subjectNodeFlags: () => [],
    };
    const payloads = o.sizes.map((b) => writePayload(tmp, b));
    const startedAt = new Date().toISOString();
    const machine = machineInfo(gen);
    progress(
      `${machine.generator}, ${o.durationS}s per point (+${o.warmupS}s warm-up), payloads ${payloads.map((p) => `${p.label}=${p.bytes}B`).join(' ')}, connections ${o.connections.join('/')}`,
    );

    const chosen = SCENARIOS.filter((s) => selected(o, s.id));
    const plan = loadPoints(o).map((p) => ({
      payload: payloads[o.sizes.indexOf(p.size)] as Payload,
      connections: p.connections,
    }));
    const counter = { done: 0, total: chosen.length * plan.length };
    const statuses: ScenarioStatus[] = [];
    const points: PointResult[] = [];
    for (const s of chosen) {
      const why = s.unavailable?.();
      if (why) {
        statuses.push({ id: s.id, n: s.n, title: s.title, status: 'skipped', reason: why });
        counter.done += plan.length;
        progress(`${s.n} ${s.id}: skipped (${why})`);
        continue;
      }
      const r = await runScenario(s, env, o, gen, payloads, plan, counter);
      statuses.push(r.status);
      points.push(...r.points);
    }

    // The collector parts send KServe's events with wrk's Lua script: autocannon cannot stand in.
    const noWrk = hasWrk() ? undefined : 'wrk is not installed (apt-get install wrk)';
    const skipPart = (id: string, title: string): boolean => {
      if (!selected(o, id)) return true;
      if (!noWrk) return false;
      statuses.push({ id, n: 0, title, status: 'skipped', reason: noWrk });
      progress(`${id}: skipped (${noWrk})`);
      return true;
    };

    let collector: BenchReport['collector'];
    if (!skipPart('collector', 'collector ingest and queries')) {
      progress(`collector: seeding ${o.seed.toLocaleString('en')} exchanges`);
      collector = await runCollectorBench(env, {
        seed: o.seed,
        ingestWarmupS: o.warmupS,
        ingestDurationS: o.durationS,
        ingestConnections: INGEST_CONNECTIONS,
        baselineCliPath,
        queryRequests: o.smoke ? 10 : 200,
        queryBudgetS: o.smoke ? 2 : 8,
        progress: (l) => progress(`collector: ${l}`),
        profileDir: o.profile ? join(tmp, 'profiles', 'collector') : undefined,
        // Smoke runs seed 2,000 exchanges in a second: caching is for the 1M store.
        seedCacheDir: o.smoke ? undefined : join(o.out, 'seed-cache'),
        reseed: o.reseed,
      });
      statuses.push({
        id: 'collector',
        n: 0,
        title: 'collector ingest and queries',
        status: collector.ok ? 'ok' : 'failed',
        reason: collector.note,
      });
    }

    let pg: BenchReport['pg'];
    if (!skipPart('pg', 'PostgreSQL batched ingest')) {
      const url = await findPostgres(o.pgUrl);
      if (url === undefined) {
        pg = { note: 'not measured: no PostgreSQL (--pg-url or INFERLOG_BENCH_PG)' };
        progress('pg: skipped (no PostgreSQL: --pg-url or INFERLOG_BENCH_PG)');
      } else {
        pg = await runPgIngest(env, url, {
          ingestWarmupS: o.warmupS,
          ingestDurationS: o.durationS,
          ingestConnections: INGEST_CONNECTIONS,
          progress: (l) => progress(`pg: ${l}`),
        });
      }
      statuses.push({
        id: 'pg',
        n: 0,
        title: 'PostgreSQL batched ingest',
        status: pg.ingest ? 'ok' : url === undefined ? 'skipped' : 'failed',
        ...(pg.note === undefined ? {} : { reason: pg.note }),
      });
    }

    let scaling: BenchReport['scaling'];
    if (!skipPart('scaling', 'agent --processes and collect --workers at 1, 2, auto')) {
      const small = payloads.find((p) => p.label === REFERENCE.payload) ?? (payloads[0] as Payload);
      scaling = await runScaling(env, gen, small, {
        durationS: o.durationS,
        warmupS: o.warmupS,
        timeoutS: o.timeoutS,
        agentConnections: REFERENCE.connections,
        collectorConnections: INGEST_CONNECTIONS,
        progress: (l) => progress(l),
      });
      // A count the build does not offer is reported, not a failure; a count that broke is.
      const broken = [scaling.agent?.note, scaling.collector?.note]
        .filter((n): n is string => n !== undefined)
        .flatMap((n) => n.split('; '))
        .filter((n) => !n.endsWith('not available in this build'));
      statuses.push({
        id: 'scaling',
        n: 0,
        title: 'agent --processes and collect --workers at 1, 2, auto',
        status: broken.length ? 'failed' : 'ok',
        ...(broken.length ? { reason: broken.join('; ') } : {}),
      });
    }

    let lake: BenchReport['lake'];
    if (selected(o, 'lake')) {
      try {
        lake = await runLakeBench(REPO, tmp, {
          n: o.lakeN,
          queryRequests: o.smoke ? 10 : 200,
          queryBudgetS: o.smoke ? 2 : 8,
          progress,
        });
      } catch (err) {
        lake = {
          exchanges: o.lakeN,
          files: 0,
          writeSeconds: 0,
          exchangesPerS: 0,
          exchangesPerCoreS: 0,
          parquetBytesPerExchange: 0,
          jsonlBytesPerExchange: 0,
          queries: [],
          note: err instanceof Error ? err.message : String(err),
        };
      }
      statuses.push({
        id: 'lake',
        n: 0,
        title: 'exchanges layout: Parquet writes, bytes, DuckDB queries',
        status: lake.note === undefined ? 'ok' : 'failed',
        ...(lake.note === undefined ? {} : { reason: lake.note }),
      });
    }

    const profiles: ProfileSummary[] = [];
    if (collector?.profilePath && collector.profileWindow) {
      const keep = join(o.out, 'collector.cpuprofile');
      copyFileSync(collector.profilePath, keep);
      collector.profilePath = keep;
      profiles.push(summariseProfile(keep, 'collector (batched ingest)', collector.profileWindow));
    }
    if (o.profile) {
      const small = payloads.find((p) => p.label === REFERENCE.payload) ?? (payloads[0] as Payload);
      for (const id of ['agent-http-batch', 'inproc-http-batch'].filter((x) => selected(o, x))) {
        const s = SCENARIOS.find((x) => x.id === id) as Scenario;
        progress(
          `profile ${id}: ${small.label}, ${REFERENCE.connections} connections, ${o.durationS}s under --cpu-prof`,
        );
        try {
          const p = await profileScenario(s, env, o, gen, small, join(tmp, 'profiles'));
          if (p) profiles.push(p);
        } catch (err) {
          progress(`profile ${id}: failed: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    }

    addRatios(points);
    const report: BenchReport = {
      startedAt,
      finishedAt: new Date().toISOString(),
      smoke: o.smoke,
      machine,
      settings: {
        durationS: o.durationS,
        warmupS: o.warmupS,
        connections: o.connections,
        payloadBytes: payloads.map((p) => p.bytes),
        timeoutS: o.timeoutS,
        seed: o.seed,
        lakeN: o.lakeN,
        loadThreads: 1,
        ingestConnections: INGEST_CONNECTIONS,
      },
      scenarios: statuses,
      points,
      collector,
      pg,
      scaling,
      lake,
      targets: evaluateTargets(points, collector, statuses, { pg, scaling, profiles }),
      profiles,
    };
    const stamp = startedAt.replace(/[:.]/g, '-');
    const md = renderMarkdown(report);
    writeFileSync(join(outDir, `${stamp}.json`), JSON.stringify(report, null, 2));
    writeFileSync(join(outDir, `${stamp}.md`), md);
    writeFileSync(join(outDir, 'latest.json'), JSON.stringify(report, null, 2));
    process.stdout.write(md);
    progress(`results: ${join(outDir, `${stamp}.json`)}`);
    const failed = statuses.filter((s) => s.status === 'failed');
    for (const f of failed) progress(`FAILED ${f.id}: ${f.reason ?? ''}`);
    return failed.length ? 1 : 0;
  } finally {
    await cleanup();
  }
}

process.exitCode = await main();
