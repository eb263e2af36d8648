// autocannon runner (the fallback where wrk is not installed): its CLI in a child process, JSON out.
import { execFile, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { z } from 'zod';
import type { LoadResult, LoadSpec } from './generator.js';

const require = createRequire(import.meta.url);

function cliPath(): string {
  return require.resolve('autocannon/autocannon.js');
}

export function autocannonVersion(): string {
  const out = spawnSync(process.execPath, [cliPath(), '--version'], { encoding: 'utf8' });
  return /v?(\d+\.\d+\.\d+)/.exec(out.stdout)?.[1] ?? 'unknown';
}

const Pct = z.object({ p50: z.number(), p90: z.number(), p99: z.number(), max: z.number() });
const AutocannonJson = z.object({
  latency: Pct,
  requests: z.object({ total: z.number() }),
  duration: z.number(),
  errors: z.number(),
  timeouts: z.number(),
  non2xx: z.number(),
});

export function runAutocannon(spec: LoadSpec): Promise<LoadResult> {
  const args = [
    cliPath(),
    '-c',
    String(spec.connections),
    '-d',
    String(Math.max(1, Math.round(spec.durationS))),
    '-t',
    String(spec.timeoutS),
    '-m',
    'POST',
    '-H',
    'Content-Type=application/json',
    '-i',
    spec.bodyPath,
    '-j',
    '-n',
    spec.url,
  ];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { maxBuffer: 1 << 22 }, (err, stdout, stderr) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      let parsed: z.infer<typeof AutocannonJson>;
      try {
        parsed = AutocannonJson.parse(JSON.parse(line));
      } catch {
        reject(new Error(`autocannon gave no result${err ? `: ${err.message}` : ''}\n${stderr}`));
        return;
      }
      resolve({
        requests: parsed.requests.total,
        errors: parsed.errors + parsed.timeouts + parsed.non2xx,
        durationS: parsed.duration,
        rps: parsed.duration > 0 ? parsed.requests.total / parsed.duration : 0,
        p50Ms: parsed.latency.p50,
        p90Ms: parsed.latency.p90,
        p99Ms: parsed.latency.p99,
        maxMs: parsed.latency.max,
      });
    });
  });
}
