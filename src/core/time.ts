/**
 * Clock helpers. Capture stamps times as epoch milliseconds with a sub-millisecond
 * fraction (cheap: one addition); formatting to RFC 3339 happens off the hot path.
 */
const origin = performance.timeOrigin;

/** Now, as epoch milliseconds with microsecond-ish precision. */
export function nowMs(): number {
  return origin + performance.now();
}

/**
 * RFC 3339 UTC with nanosecond digits, like Go's time.RFC3339Nano (trailing zeros trimmed),
 * which is what KServe's agent writes in Ce-Time.
 */
export function rfc3339Nano(epochMs: number): string {
  const whole = Math.floor(epochMs);
  const iso = new Date(whole).toISOString(); // 2026-08-21T10:15:30.001Z
  const ns = Math.min(999_999_999, Math.round((epochMs - whole) * 1e6) + (whole % 1000) * 1e6);
  const frac = String(ns).padStart(9, '0').replace(/0+$/, '');
  return iso.slice(0, 19) + (frac ? '.' + frac : '') + 'Z';
}
