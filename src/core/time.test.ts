import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rfc3339Nano } from './time.js';

/** The plain formula, one Date per call: what the per-second cache must reproduce exactly. */
function reference(epochMs: number): string {
  const whole = Math.floor(epochMs);
  const iso = new Date(whole).toISOString();
  const ns = Math.min(999_999_999, Math.round((epochMs - whole) * 1e6) + (whole % 1000) * 1e6);
  const frac = String(ns).padStart(9, '0').replace(/0+$/, '');
  return iso.slice(0, 19) + (frac ? '.' + frac : '') + 'Z';
}

describe('rfc3339Nano', () => {
  it('formats like Go RFC3339Nano whether or not the second is cached', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 4e12, noNaN: true }),
        fc.integer({ min: 0, max: 2000 }),
        (t, step) => {
          expect(rfc3339Nano(t)).toBe(reference(t));
          expect(rfc3339Nano(t + step / 7)).toBe(reference(t + step / 7));
        },
      ),
      { numRuns: 2000 },
    );
    expect(rfc3339Nano(Date.UTC(2026, 7, 21, 10, 15, 30))).toBe('2026-08-21T10:15:30Z');
  });
});
