/**
 * `GET /api/v1/timeseries`: the explorer's chart. Exchanges per time bucket by status class,
 * and p50/p99 latency, all weighted by sample weight (a record sampled at 1 in 10 counts 10).
 *
 *   window ──chooseStep──▶ step (a "nice" size, ≤ MAX_BUCKETS buckets) ──align──▶ [since, until)
 *          ──store.timeSeries──▶ groups (bucket × status × latency bucket) ──shape──▶ answer
 *
 * The window is widened to whole steps, so every bucket covers its full width and a step of
 * whole minutes is answered exactly from the rollups.
 */
import { bucketValue } from './exchange-record.js';
import { statusKey } from './stats.js';
import type { TimeSeriesGroup } from './store.js';

export const MAX_BUCKETS = 120;

const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;
const STEPS = [
  S, 2 * S, 5 * S, 10 * S, 15 * S, 30 * S,
  M, 2 * M, 5 * M, 10 * M, 15 * M, 30 * M,
  H, 2 * H, 3 * H, 6 * H, 12 * H,
  D, 2 * D, 7 * D, 30 * D,
]; // prettier-ignore

/** The smallest nice step that keeps the window within MAX_BUCKETS buckets. */
export function chooseStep(sinceMs: number, untilMs: number): number {
  const span = Math.max(1, untilMs - sinceMs);
  return STEPS.find((s) => span / s <= MAX_BUCKETS) ?? Math.ceil(span / MAX_BUCKETS / D) * D;
}

export function alignWindow(
  w: { sinceMs: number; untilMs: number },
  stepMs: number,
): { sinceMs: number; untilMs: number } {
  return {
    sinceMs: Math.floor(w.sinceMs / stepMs) * stepMs,
    untilMs: Math.ceil(w.untilMs / stepMs) * stepMs,
  };
}

/** The chart's series: status classes, then exchanges without an answer. */
export const SERIES = ['2xx', '3xx', '4xx', '5xx', '1xx', 'error', 'incomplete'] as const;
export type SeriesKey = (typeof SERIES)[number];

function seriesOf(status: number | null, error: boolean): SeriesKey {
  const k = statusKey(status, error);
  if (k === 'error' || k === 'incomplete') return k;
  return `${k.charAt(0)}xx` as SeriesKey;
}

export interface TimeSeriesBucket {
  /** Bucket start, RFC 3339. */
  time: string;
  /** Stored records in the bucket. */
  count: number;
  /** Weighted count per series (only series with exchanges). */
  weighted: Partial<Record<SeriesKey, number>>;
  /** Weighted latency percentiles of the bucket's exchanges with a latency, or null. */
  p50: number | null;
  p99: number | null;
}

export interface TimeSeriesAnswer {
  since: string;
  until: string;
  stepMs: number;
  series: SeriesKey[];
  buckets: TimeSeriesBucket[];
}

/** Weighted percentile from a latency histogram (bucket → weight). */
function percentile(hist: Map<number, number>, q: number): number | null {
  const sorted = [...hist.entries()].filter(([, w]) => w > 0).sort((a, b) => a[0] - b[0]);
  const total = sorted.reduce((s, [, w]) => s + w, 0);
  if (total <= 0) return null;
  let seen = 0;
  for (const [bucket, w] of sorted) {
    seen += w;
    if (seen >= q * total - 1e-9) return bucketValue(bucket);
  }
  return bucketValue(sorted[sorted.length - 1]![0]);
}

const round = (x: number): number => Math.round(x * 1000) / 1000;

/** Every bucket of the aligned window, empty ones included (a gap in traffic shows as zero). */
export function shapeTimeSeries(
  groups: readonly TimeSeriesGroup[],
  window: { sinceMs: number; untilMs: number },
  stepMs: number,
): TimeSeriesAnswer {
  const n = Math.max(0, Math.round((window.untilMs - window.sinceMs) / stepMs));
  const acc = Array.from({ length: n }, () => ({
    count: 0,
    weighted: new Map<SeriesKey, number>(),
    hist: new Map<number, number>(),
  }));
  const seen = new Set<SeriesKey>();
  for (const g of groups) {
    const a = acc[Math.floor((g.startMs - window.sinceMs) / stepMs)];
    if (!a) continue;
    const key = seriesOf(g.status, g.error);
    seen.add(key);
    a.count += g.count;
    a.weighted.set(key, (a.weighted.get(key) ?? 0) + g.weight);
    if (g.latencyBucket !== null) a.hist.set(g.latencyBucket, (a.hist.get(g.latencyBucket) ?? 0) + g.weight);
  }
  return {
    since: new Date(window.sinceMs).toISOString(),
    until: new Date(window.untilMs).toISOString(),
    stepMs,
    series: SERIES.filter((s) => seen.has(s)),
    buckets: acc.map((a, i) => ({
      time: new Date(window.sinceMs + i * stepMs).toISOString(),
      count: a.count,
      weighted: Object.fromEntries([...a.weighted].map(([k, w]) => [k, round(w)])),
      p50: percentile(a.hist, 0.5),
      p99: percentile(a.hist, 0.99),
    })),
  };
}
