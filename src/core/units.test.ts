import { describe, expect, it } from 'vitest';
import { parseBytes, parseDuration, parseRfc3339 } from './units.js';

describe('parseBytes', () => {
  it('parses sizes with binary and decimal units, and reject junk with an example', () => {
    expect(parseBytes('1MiB')).toBe(1024 * 1024);
    expect(parseBytes('512KiB')).toBe(512 * 1024);
    expect(parseBytes('10MB')).toBe(10_000_000);
    expect(parseBytes('2048')).toBe(2048);
    expect(() => parseBytes('lots')).toThrow(/e\.g\. 1048576, 512KiB, 1MiB/);
  });
});

describe('parseDuration', () => {
  it('reads Go-style durations and rejects a bare number with an example', () => {
    expect(parseDuration('50ms')).toBe(50);
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('7d')).toBe(7 * 86_400_000);
    expect(parseDuration('0')).toBe(0);
    expect(() => parseDuration('15')).toThrow(/e\.g\. 50ms, 5s/);
  });
});

describe('parseRfc3339', () => {
  it('keeps sub-millisecond digits and honours offsets', () => {
    expect(parseRfc3339('2026-08-21T10:15:30.001873512Z')).toBeCloseTo(
      Date.UTC(2026, 7, 21, 10, 15, 30) + 1.873512,
      3,
    );
    expect(parseRfc3339('2026-08-21T12:15:30+02:00')).toBe(Date.UTC(2026, 7, 21, 10, 15, 30));
    expect(parseRfc3339('2026-13-01T00:00:00Z')).toBeUndefined();
    expect(parseRfc3339('15m')).toBeUndefined();
  });
});
