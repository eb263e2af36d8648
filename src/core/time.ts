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

/** Parses `50ms`, `5s`, `2m`, `1h`, `7d` (and Go's combined forms like `1m30s`) to milliseconds. */
export function parseDuration(text: string): number {
  const s = text.trim();
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)/gy;
  const unit: Record<string, number> = {
    ns: 1e-6,
    us: 1e-3,
    µs: 1e-3,
    ms: 1,
    s: 1000,
    m: 60_000,
    h: 3_600_000,
    d: 86_400_000,
  };
  let total = 0;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(s)) !== null) {
    total += Number(m[1]) * (unit[m[2] as string] as number);
    consumed = re.lastIndex;
  }
  if (consumed !== s.length || s.length === 0) {
    throw new RangeError(`invalid duration "${text}": use a number with a unit, e.g. 50ms, 5s, 2m, 7d`);
  }
  return total;
}
