/**
 * The agent's CPU per request, and where it goes (issue 10): a focused bench for the loaded
 * machine, where wall-clock throughput is noise but CPU per request and profile shares hold.
 *
 *   wrk (fixed duration) ──▶ agent (--cpu-prof) ──▶ tiny upstream (fixed 100 B JSON)
 *                                 └──▶ file sink | collect (per-event POSTs, or batched) | nothing
 *   CPU µs/request = agent's utime+stime delta (/proc) ÷ requests wrk completed
 *
 * Builds are compared in one run, their order alternating between rounds:
 *   npx tsx bench/agent-cpu.ts --bin /path/a/bin/inferlog.js --bin /path/b/bin/inferlog.js
 * nginx (plain proxy, one worker) is measured in the same rounds as the reference.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { summariseProfile } from './lib/cpu-profile.js';
import { nginxBinary, writeNginxConfig } from './lib/nginx.js';
import { cpuMs } from './lib/proc-stats.js';
import { BATCH_INTERVAL, BATCH_SIZE } from './lib/scenarios.js';
import { freePort } from './lib/ports.js';
import { waitForPort } from './lib/processes.js';

const { values } = parseArgs({
  options: {
    bin: { type: 'string', multiple: true },
    cases: { type: 'string', default: 'off,file,http,batch,nginx' },
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '32' },
    rounds: { type: 'string', default: '2' },
    profile: { type: 'boolean', default: false },
    top: { type: 'string', default: '12' },
  },
});
const bins = values.bin ?? ['bin/inferlog.js'];
const duration = Number(values.duration);
const tmp = mkdtempSync(join(tmpdir(), 'agent-cpu-'));

const UPSTREAM = `
const http = require('node:http');
const body = Buffer.from(JSON.stringify({ predictions: [[0.1, 0.2, 0.3, 0.4], [0.5, 0.6, 0.7, 0.8]], model: 'm' }));
http.createServer((req, res) => {
  req.resume();
  req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length }); res.end(body); });
}).listen(Number(process.argv[1]), '127.0.0.1');
`;
const PAYLOAD = JSON.stringify({
  instances: [
    [6.8, 2.8, 4.8, 1.4],
    [6.0, 3.4, 4.5, 1.6],
  ],
  pad: 'x'.repeat(40),
});

function wrk(url: string, seconds: number): number {
  const script = join(tmp, 'post.lua');
  execFileSync('sh', [
    '-c',
    `cat > ${script} <<'EOF'\nwrk.method = "POST"\nwrk.body = '${PAYLOAD}'\nwrk.headers["Content-Type"] = "application/json"\nEOF`,
  ]);
  const out = execFileSync(
    'wrk',
    ['-t', '1', '-c', String(values.connections), '-d', `${seconds}s`, '-s', script, url],
    { encoding: 'utf8' },
  );
  const m = /(\d+) requests in/.exec(out);
  if (/Non-2xx/.test(out)) throw new Error(`non-2xx answers:\n${out}`);
  return Number(m?.[1] ?? 0);
}

function start(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...env } });
  return p;
}

async function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
  if (p.exitCode === null) p.kill('SIGKILL');
}

interface Point {
  bin: string;
  kase: string;
  requests: number;
  cpuUsPerReq: number;
  profile?: string;
  /** µs between the end of the load and the subject's exit (the profile ends at its exit). */
  tailUs: number;
}

async function measure(bin: string, kase: string, upstreamPort: number, round: number): Promise<Point> {
  const port = await freePort();
  const dir = join(tmp, `${kase}-${round}-${bins.indexOf(bin)}`);
  mkdirSync(dir, { recursive: true });
  const extra: ChildProcess[] = [];
  let subject: ChildProcess;
  if (kase === 'nginx') {
    const bin = nginxBinary();
    if (!bin) throw new Error('nginx not found');
    subject = start(bin, ['-c', writeNginxConfig(dir, port, upstreamPort), '-p', dir]);
  } else {
    const args = ['agent', '--port', String(port), '--host', '127.0.0.1'];
    args.push('--component-port', String(upstreamPort), '--inference-service', 'm');
    if (kase === 'file') args.push('--log-url', `file://${dir}/log.jsonl`, '--log-mode', 'all');
    if (kase === 'http' || kase === 'batch') {
      const cport = await freePort();
      const db = `sqlite:${join(dir, 'c.db')}`;
      const c = start('node', [
        bin,
        'collect',
        '--host',
        '127.0.0.1',
        '--port',
        String(cport),
        '--store',
        db,
      ]);
      extra.push(c);
      await waitForPort(cport, undefined, 30_000);
      args.push('--log-url', `http://127.0.0.1:${cport}/`, '--log-mode', 'all');
      // As bench scenario 6 (agent → collect, batched): a CloudEvents batch per POST.
      if (kase === 'batch')
        args.push('--log-batch-size', String(BATCH_SIZE), '--log-batch-interval', BATCH_INTERVAL);
    }
    const flags = values.profile ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
    // The default spool (zero loss with default settings) goes under this run's state home.
    subject = start('node', [...flags, bin, ...args], { XDG_STATE_HOME: join(dir, 'state') });
  }
  await waitForPort(port, undefined, 30_000);
  const url = `http://127.0.0.1:${port}/v1/models/m:predict`;
  wrk(url, 1); // warm-up: JIT, pools, spool files
  const pid = subject.pid as number;
  const before = cpuMs(pid);
  const requests = wrk(url, duration);
  const loadEnd = Date.now();
  // CPU until exit: what the agent still delivers after the load (its backlog) is its cost too.
  let after = cpuMs(pid);
  const poll = setInterval(() => {
    const now = cpuMs(pid);
    if (now > after) after = now;
  }, 50);
  await stop(subject);
  clearInterval(poll);
  const tailUs = (Date.now() - loadEnd) * 1000;
  for (const c of extra) await stop(c);
  const point: Point = { bin, kase, requests, cpuUsPerReq: ((after - before) * 1000) / requests, tailUs };
  if (values.profile && kase !== 'nginx') {
    const f = readdirSync(dir).find((n) => n.endsWith('.cpuprofile'));
    if (f) point.profile = join(dir, f);
  }
  return point;
}

const upstreamPort = await freePort();
const upstream = start('node', ['-e', UPSTREAM, String(upstreamPort)]);
await waitForPort(upstreamPort, undefined, 10_000);
const points: Point[] = [];
try {
  for (let round = 0; round < Number(values.rounds); round++) {
    const order = round % 2 === 0 ? bins : [...bins].reverse();
    for (const kase of values.cases!.split(',')) {
      for (const bin of kase === 'nginx' ? [bins[0] as string] : order) {
        const p = await measure(bin, kase, upstreamPort, round);
        points.push(p);
        console.error(
          `round ${round} ${kase.padEnd(5)} ${kase === 'nginx' ? 'nginx' : bin}: ${p.requests} req, ${p.cpuUsPerReq.toFixed(1)} µs/req`,
        );
      }
    }
  }
} finally {
  await stop(upstream);
}

console.log('\n| case | build | µs/request (each round) | mean |\n|---|---|---|---|');
for (const kase of values.cases!.split(',')) {
  for (const bin of kase === 'nginx' ? ['nginx'] : bins) {
    const ps = points.filter((p) => p.kase === kase && (kase === 'nginx' || p.bin === bin));
    const mean = ps.reduce((s, p) => s + p.cpuUsPerReq, 0) / ps.length;
    console.log(
      `| ${kase} | ${bin} | ${ps.map((p) => p.cpuUsPerReq.toFixed(1)).join(' / ')} | ${mean.toFixed(1)} |`,
    );
  }
}
if (values.profile) {
  for (const p of points.filter((x) => x.profile && x.bin)) {
    const s = summariseProfile(p.profile as string, p.kase, {
      fromEndUs: p.tailUs + duration * 1e6,
      toEndUs: p.tailUs,
    });
    console.log(`\n### ${p.kase} — ${p.bin} (${s.totalMs.toFixed(0)} ms busy)`);
    for (const f of s.topSelf.slice(0, Number(values.top)))
      console.log(`- ${f.pct.toFixed(1)}% ${f.fn} (${f.where})`);
    console.log('by area: ' + s.byArea.map((a) => `${a.area} ${a.pct.toFixed(1)}%`).join(', '));
    console.log('nearest inferlog frame:');
    for (const f of s.byInferlogFrame.slice(0, 8)) console.log(`- ${f.pct.toFixed(1)}% ${f.frame}`);
  }
}
if (!process.env.KEEP) rmSync(tmp, { recursive: true, force: true });
