import { describe, expect, it } from 'vitest';
import { addressKey, createRateLimiter, parseRateLimit } from './rate-limit.js';

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

  it('keys an IPv6 caller by its /64 (one host holds a whole /64, so each address is not a new caller)', () => {
    expect(addressKey('2001:db8:1:2::1')).toBe(addressKey('2001:db8:1:2:ffff:0:0:7'));
    expect(addressKey('2001:db8:1:2::1')).not.toBe(addressKey('2001:db8:1:3::1'));
    expect(addressKey('2001:DB8:0001:0002:0:0:0:1')).toBe(addressKey('2001:db8:1:2::9'));
    expect(addressKey('fe80::1%eth0')).toBe(addressKey('fe80::2'));
    // IPv4 (and IPv4-mapped IPv6) stays per address.
    expect(addressKey('10.0.0.1')).not.toBe(addressKey('10.0.0.2'));
    expect(addressKey('::ffff:10.0.0.1')).toBe(addressKey('10.0.0.1'));
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
  });
});
