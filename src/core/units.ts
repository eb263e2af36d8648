/**
 * Units a user types: sizes (`512KiB`), durations (`5s`, `1m30s`) and RFC 3339 timestamps.
 * Pure functions shared by config, sinks and the collector's query parser; each throws (or, for
 * timestamps, returns undefined) with a message that says what a valid value looks like.
 */

/** Parses `1048576`, `512KiB`, `1MiB`, `10MB`, `2GiB` to bytes. */
export function parseBytes(v: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(B|KB|KiB|MB|MiB|GB|GiB)?\s*$/i.exec(v);
  if (!m) throw new RangeError(`"${v}" is not a size: use bytes or a unit, e.g. 1048576, 512KiB, 1MiB`);
  const units: Record<string, number> = {
    b: 1,
    kb: 1e3,
    kib: 1024,
    mb: 1e6,
    mib: 1024 ** 2,
    gb: 1e9,
    gib: 1024 ** 3,
  };
  return Math.floor(Number(m[1]) * (units[(m[2] ?? 'b').toLowerCase()] as number));
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

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|z|[+-]\d{2}:\d{2})$/;

/** RFC 3339 → epoch milliseconds with sub-millisecond fraction; undefined when malformed. */
export function parseRfc3339(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const base = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  if (
    Number.isNaN(base) ||
    Number(mo) > 12 ||
    Number(d) > 31 ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(s) > 60
  )
    return undefined;
  let offset = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const sign = zone!.startsWith('-') ? -1 : 1;
    offset = sign * (Number(zone!.slice(1, 3)) * 60 + Number(zone!.slice(4, 6))) * 60_000;
  }
  const fracMs = frac ? Number(`0.${frac}`) * 1000 : 0;
  return base - offset + fracMs;
}
