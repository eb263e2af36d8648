/**
 * Clock helpers. Capture stamps times as epoch milliseconds with a sub-millisecond
 * fraction (cheap: one addition); formatting to RFC 3339 happens off the hot path.
 */
const origin = performance.timeOrigin;

/** Now, as epoch milliseconds with microsecond-ish precision. */
export function nowMs(): number {
  return origin + performance.now();
}

/** The "YYYY-MM-DDTHH:MM:SS" of the last second formatted: most stamps fall in the same second. */
let cachedSecond = NaN;
let cachedSecondText = '';

/**
 * RFC 3339 UTC with nanosecond digits, like Go's time.RFC3339Nano (trailing zeros trimmed),
 * which is what KServe's agent writes in Ce-Time. Runs for every record the spool and the
 * JSON formats write, so the date part is formatted once per second, not once per call.
 */
export function rfc3339Nano(epochMs: number): string {
  const whole = Math.floor(epochMs);
  const second = Math.floor(whole / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cachedSecondText = new Date(second * 1000).toISOString().slice(0, 19);
  }
  const ns = Math.min(999_999_999, Math.round((epochMs - whole) * 1e6) + (whole - second * 1000) * 1e6);
  if (ns === 0) return cachedSecondText + 'Z';
  const frac = String(ns).padStart(9, '0').replace(/0+$/, '');
  return cachedSecondText + '.' + frac + 'Z';
}
