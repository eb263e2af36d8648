/**
 * The load generator every scenario shares: wrk when installed, otherwise autocannon.
 *
 *   run.ts ──LoadSpec──▶ wrk (C, one thread) | autocannon (Node) ──▶ LoadResult (req/s, p50/p99, errors)
 *
 * One generator, one set of settings and one payload file per point, so the only thing
 * that differs between scenarios is what sits behind the URL.
 */
import { execFileSync } from 'node:child_process';
import { runWrk, wrkVersion } from './wrk.js';
import { runAutocannon, autocannonVersion } from './autocannon.js';

export interface LoadSpec {
  url: string;
  /** Path of the JSON body to POST. */
  bodyPath: string;
  connections: number;
  durationS: number;
  /** Per-request timeout: a request slower than this counts as an error. */
  timeoutS: number;
}

export interface LoadResult {
  /** Responses received (any status). */
  requests: number;
  /** Non-2xx responses plus socket errors and timeouts. */
  errors: number;
  durationS: number;
  rps: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface LoadGenerator {
  readonly name: 'wrk' | 'autocannon';
  readonly version: string;
  run(spec: LoadSpec): Promise<LoadResult>;
}

export function hasWrk(): boolean {
  try {
    execFileSync('wrk', ['-v'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    // `wrk -v` prints its version and exits 1; only a missing binary throws ENOENT.
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

export function pickGenerator(preferred: 'auto' | 'wrk' | 'autocannon'): LoadGenerator {
  const useWrk = preferred === 'wrk' || (preferred === 'auto' && hasWrk());
  if (useWrk) return { name: 'wrk', version: wrkVersion(), run: runWrk };
  return { name: 'autocannon', version: autocannonVersion(), run: runAutocannon };
}
