// wrk runner: one thread (the servers need the other core), latency from the Lua `done()` hook.
import { execFile, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { LoadResult, LoadSpec } from './generator.js';

const SCRIPT = fileURLToPath(new URL('./post.lua', import.meta.url));

const WrkJson = z.object({
  requests: z.number(),
  durationUs: z.number(),
  errors: z.object({
    connect: z.number(),
    read: z.number(),
    write: z.number(),
    status: z.number(),
    timeout: z.number(),
  }),
  latencyUs: z.object({
    p50: z.number(),
    p90: z.number(),
    p99: z.number(),
    max: z.number(),
    mean: z.number(),
  }),
});

export function wrkVersion(): string {
  // `wrk -v` prints its version banner and exits non-zero.
  const out = spawnSync('wrk', ['-v'], { encoding: 'utf8' });
  return /wrk\s+(\S+)/.exec(`${out.stdout}${out.stderr}`)?.[1] ?? 'unknown';
}

export function runWrk(spec: LoadSpec): Promise<LoadResult> {
  const args = [
    '-t1',
    `-c${spec.connections}`,
    `-d${Math.max(1, Math.round(spec.durationS))}s`,
    `--timeout`,
    `${spec.timeoutS}s`,
    '-s',
    SCRIPT,
    spec.url,
    '--',
    spec.bodyPath,
  ];
  return new Promise((resolve, reject) => {
    execFile('wrk', args, { maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      const line = stdout.split('\n').find((l) => l.startsWith('BENCH_JSON '));
      if (!line) {
        reject(new Error(`wrk gave no result${err ? `: ${err.message}` : ''}\n${stdout}\n${stderr}`));
        return;
      }
      const r = WrkJson.parse(JSON.parse(line.slice('BENCH_JSON '.length)));
      const e = r.errors;
      const durationS = r.durationUs / 1e6;
      resolve({
        requests: r.requests,
        errors: e.connect + e.read + e.write + e.status + e.timeout,
        durationS,
        rps: durationS > 0 ? r.requests / durationS : 0,
        p50Ms: r.latencyUs.p50 / 1000,
        p90Ms: r.latencyUs.p90 / 1000,
        p99Ms: r.latencyUs.p99 / 1000,
        maxMs: r.latencyUs.max / 1000,
      });
    });
  });
}
