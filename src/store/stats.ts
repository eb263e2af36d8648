/**
 * Stats groups (from any store) → the `/api/v1/stats` answer: counts by model and
 * status, sample-weighted estimates, and latency percentiles from the log histogram.
 *
 *   groups ──pass 1: count per (namespace, model)──▶ top N by count
 *          ──pass 2: accumulate──▶ N model rows + one `(other)` row summing the rest
 *
 * Model names come from senders, so their number is unbounded: 100,000 injected names made
 * every answer 15 MB (issue 16 item 8). The answer has at most N + 1 model rows whatever
 * arrives, and the rows still add up to the total. A model folded into `(other)` is exact
 * when asked for by name (`?model=`).
 */
import { bucketValue } from './exchange-record.js';
import type { StatsGroup } from './store.js';

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
}

export interface StatusCount {
  status: string;
  count: number;
  weightedCount: number;
}

/** Model rows in a stats answer before the rest are summed into `(other)`. */
export const DEFAULT_STATS_TOP_MODELS = 100;
/** The `model` of the row that sums every model past the top N (not a valid Kubernetes name). */
export const OTHER_MODEL = '(other)';

export interface ModelStats {
  model: string;
  namespace: string;
  count: number;
  weightedCount: number;
  byStatus: StatusCount[];
  latencyMs: Percentiles | null;
  /** Only on the `(other)` row. */
  other?: true;
  /** Only on the `(other)` row: how many (namespace, model) pairs it sums. */
  models?: number;
}

export interface StatsAnswer {
  since: string;
  until: string;
  total: { count: number; weightedCount: number; complete: number; latencyMs: Percentiles | null };
  byStatus: StatusCount[];
  /** Most exchanges first; then at most one `(other)` row. */
  byModel: ModelStats[];
}

/** The stats/filter label of a status: exact for 2xx, class otherwise, `error`, `incomplete`. */
export function statusKey(status: number | null, error: boolean): string {
  if (error || status === 0) return 'error';
  if (status === null) return 'incomplete';
  if (status >= 200 && status < 300) return String(status);
  return `${Math.floor(status / 100)}xx`;
}

class Acc {
  count = 0;
  weight = 0;
  complete = 0;
  readonly statuses = new Map<string, { count: number; weight: number }>();
  readonly buckets = new Map<number, number>();
  add(g: StatsGroup): void {
    this.count += g.count;
    this.weight += g.weight;
    if (g.complete) this.complete += g.count;
    const key = statusKey(g.status, g.error);
    const s = this.statuses.get(key) ?? { count: 0, weight: 0 };
    s.count += g.count;
    s.weight += g.weight;
    this.statuses.set(key, s);
    if (g.latencyBucket !== null)
      this.buckets.set(g.latencyBucket, (this.buckets.get(g.latencyBucket) ?? 0) + g.count);
  }
  byStatus(): StatusCount[] {
    return [...this.statuses.entries()]
      .sort((a, b) => b[1].count - a[1].count || a[0].localeCompare(b[0]))
      .map(([status, v]) => ({ status, count: v.count, weightedCount: round(v.weight) }));
  }
  percentiles(): Percentiles | null {
    const sorted = [...this.buckets.entries()].sort((a, b) => a[0] - b[0]);
    const n = sorted.reduce((s, [, c]) => s + c, 0);
    if (n === 0) return null;
    const at = (q: number): number => {
      const rank = Math.max(1, Math.ceil(q * n));
      let seen = 0;
      for (const [bucket, c] of sorted) {
        seen += c;
        if (seen >= rank) return bucketValue(bucket);
      }
      return bucketValue(sorted[sorted.length - 1]![0]);
    };
    return { p50: at(0.5), p90: at(0.9), p99: at(0.99) };
  }
}

const round = (x: number): number => Math.round(x * 1000) / 1000;

const modelKey = (g: StatsGroup): string => `${g.namespace}\u0000${g.model}`;

export function shapeStats(
  groups: readonly StatsGroup[],
  window: { sinceMs: number; untilMs: number },
  topModels: number = DEFAULT_STATS_TOP_MODELS,
): StatsAnswer {
  // Pass 1: counts only (one number per model), to pick the top N without an Acc per model.
  const counts = new Map<string, number>();
  for (const g of groups) counts.set(modelKey(g), (counts.get(modelKey(g)) ?? 0) + g.count);
  const top = new Set(
    [...counts.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, topModels)
      .map(([k]) => k),
  );

  const total = new Acc();
  const other = new Acc();
  const models = new Map<string, { model: string; namespace: string; acc: Acc }>();
  for (const g of groups) {
    total.add(g);
    const k = modelKey(g);
    if (!top.has(k)) {
      other.add(g);
      continue;
    }
    let m = models.get(k);
    if (!m) models.set(k, (m = { model: g.model, namespace: g.namespace, acc: new Acc() }));
    m.acc.add(g);
  }
  const row = (model: string, namespace: string, acc: Acc): ModelStats => ({
    model,
    namespace,
    count: acc.count,
    weightedCount: round(acc.weight),
    byStatus: acc.byStatus(),
    latencyMs: acc.percentiles(),
  });
  const byModel = [...models.values()]
    .sort((a, b) => b.acc.count - a.acc.count || a.model.localeCompare(b.model))
    .map((m) => row(m.model, m.namespace, m.acc));
  const folded = counts.size - top.size;
  if (folded > 0) byModel.push({ ...row(OTHER_MODEL, '', other), other: true, models: folded });
  return {
    since: new Date(window.sinceMs).toISOString(),
    until: new Date(window.untilMs).toISOString(),
    total: {
      count: total.count,
      weightedCount: round(total.weight),
      complete: total.complete,
      latencyMs: total.percentiles(),
    },
    byStatus: total.byStatus(),
    byModel,
  };
}
