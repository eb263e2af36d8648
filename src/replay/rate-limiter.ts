/**
 * Spaces request starts evenly: with `--rate 50/s` the n-th request starts no earlier than
 * n × 20 ms after the first. No bursts — the point is to keep a candidate model's load
 * predictable while it is being tried.
 */
export interface RateLimiter {
  /** Resolves when the caller may start its request. */
  take(): Promise<void>;
}

export function createRateLimiter(perSecond: number | undefined): RateLimiter {
  if (perSecond === undefined) return { take: () => Promise.resolve() };
  const intervalMs = 1000 / perSecond;
  let next = 0;
  return {
    take() {
      const now = performance.now();
      const at = Math.max(now, next);
      next = at + intervalMs;
      const wait = at - now;
      return wait <= 0 ? Promise.resolve() : new Promise((r) => setTimeout(r, wait));
    },
  };
}
