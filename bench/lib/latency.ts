/** Latency samples (ms) → the p50 / p99 / max the reports print; one definition for every part. */
import type { LatencySummary } from './results.js';

/** Nearest-rank percentile of an ascending list; NaN when it is empty. */
export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

export function summarise(samples: number[]): LatencySummary {
  const s = [...samples].sort((a, b) => a - b);
  return { n: s.length, p50Ms: percentile(s, 50), p99Ms: percentile(s, 99), maxMs: s[s.length - 1] ?? NaN };
}
