import { describe, expect, it } from 'vitest';
import { createRateLimiter, parseRateLimit } from './rate-limit.js';

describe('rate limit', () => {
  it('parses N/s, N/m and N; refuses the rest', () => {
    expect(parseRateLimit('50/s')).toEqual({ perSecond: 50 });
    expect(parseRateLimit('600/m')).toEqual({ perSecond: 10 });
    expect(parseRateLimit('5')).toEqual({ perSecond: 5 });
    for (const bad of ['0/s', 'fast', '-1', '5/h']) expect(() => parseRateLimit(bad)).toThrow(/not a rate/);
  });

  it('allows a burst of one second, then one per 1/rate, per key', () => {
    const limiter = createRateLimiter({ perSecond: 2 });
    const t = 1_000_000;
    expect(limiter.take('a', t)).toBe(0);
    expect(limiter.take('a', t)).toBe(0);
    expect(limiter.take('a', t)).toBe(500);
    expect(limiter.take('b', t)).toBe(0);
    expect(limiter.take('a', t + 500)).toBe(0);
    expect(limiter.take('a', t + 500)).toBe(500);
    // Idle time refills up to the burst, not beyond.
    expect(limiter.take('a', t + 60_000)).toBe(0);
    expect(limiter.take('a', t + 60_000)).toBe(0);
    expect(limiter.take('a', t + 60_000)).toBeGreaterThan(0);
  });
});
