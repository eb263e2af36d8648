/**
 * Per-model request metrics: rate, errors and latency for every inference service, namespace,
 * component, model and status class, as the agent and `inferlog up` serve them.
 *
 *   request ──▶ capture ──finish/close──▶ observe(labels bound at config time, status, seconds)
 *
 * Every label value comes from configuration (flags, the InferenceService YAML) or from a fixed
 * set (status classes, `UNMATCHED_MODEL`), never from what a client sent: a client that sends
 * 10,000 model names or paths adds no series (principle 4). Labels are bound once per model
 * (`bind`), so an exchange costs a few additions into plain numbers: no label hashing, no lookup
 * from request data. prom-client reads the numbers at scrape time (the two metric objects below
 * implement its metric interface), which keeps the cost off the request path: prom-client's own
 * Counter and Histogram hash the label set on every observe, about 10% of `inferlog up`'s
 * throughput (BENCHMARKS.md).
 */
import type { Registry } from 'prom-client';

/** Status classes: the client's status by hundreds, or `aborted` when no response finished. */
export type StatusClass = '1xx' | '2xx' | '3xx' | '4xx' | '5xx' | 'aborted';
export const STATUS_CLASSES: readonly StatusClass[] = ['1xx', '2xx', '3xx', '4xx', '5xx', 'aborted'];

export function statusClassOf(status: number, finished: boolean): StatusClass {
  if (!finished || status < 100 || status > 599) return 'aborted';
  return `${Math.floor(status / 100)}xx` as StatusClass;
}

/** Where a request was served: all from configuration. */
export interface RequestLabels {
  inferenceService: string;
  namespace: string;
  component: string;
  model: string;
}

/** One model's series, bound at config time. */
export interface BoundRequestMetrics {
  observe(status: number, finished: boolean, seconds: number): void;
}

export interface RequestMetrics {
  bind(labels: RequestLabels): BoundRequestMetrics;
}

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** One series: a model and a status class. Bucket counts are per bucket (made cumulative when read). */
interface Series {
  labels: Record<string, string>;
  /** Shown from the start (as 0): success and failure series, so ratios and alerts never meet an absent series. */
  always: boolean;
  count: number;
  sum: number;
  buckets: Float64Array;
}

type MetricValue = { labels: Record<string, string | number>; value: number; metricName?: string };

/** The part of prom-client's metric interface a Registry reads. */
function exposedMetric(
  { name, help, type }: { name: string; help: string; type: 'counter' | 'histogram' },
  values: () => MetricValue[],
  reset: () => void,
): object {
  return {
    name,
    help,
    type,
    aggregator: 'sum',
    get: async () => ({ name, help, type, aggregator: 'sum', values: values() }),
    reset,
  };
}

export function createRequestMetrics(registry: Registry): RequestMetrics {
  const all: Series[] = [];
  registry.registerMetric(
    exposedMetric(
      {
        name: 'inferlog_requests_total',
        help: 'Inference requests served, by model and status class (aborted: no response finished).',
        type: 'counter',
      },
      () => all.filter((s) => s.always || s.count > 0).map((s) => ({ labels: s.labels, value: s.count })),
      () => all.forEach(zero),
    ) as Parameters<Registry['registerMetric']>[0],
  );
  const duration = {
    name: 'inferlog_request_duration_seconds',
    help: 'From request arrival to the last response byte (or the abort), by model and status class.',
    type: 'histogram',
  } as const;
  const durationName = duration.name;
  registry.registerMetric(
    exposedMetric(
      duration,
      () => {
        const out: MetricValue[] = [];
        for (const s of all) {
          if (s.count === 0) continue;
          let cumulative = 0;
          BUCKETS.forEach((le, i) => {
            cumulative += s.buckets[i] as number;
            out.push({
              labels: { le, ...s.labels },
              value: cumulative,
              metricName: `${durationName}_bucket`,
            });
          });
          out.push({
            labels: { le: '+Inf', ...s.labels },
            value: s.count,
            metricName: `${durationName}_bucket`,
          });
          out.push({ labels: s.labels, value: s.sum, metricName: `${durationName}_sum` });
          out.push({ labels: s.labels, value: s.count, metricName: `${durationName}_count` });
        }
        return out;
      },
      () => all.forEach(zero),
    ) as Parameters<Registry['registerMetric']>[0],
  );
  const bound = new Map<string, BoundRequestMetrics>();
  return {
    bind(labels) {
      const key = JSON.stringify(labels);
      const known = bound.get(key);
      if (known) return known;
      const base = {
        inference_service: labels.inferenceService,
        namespace: labels.namespace,
        component: labels.component,
        model: labels.model,
      };
      // Series per status class, made once: the hot path looks up nothing a client chose.
      const byClass = new Map<StatusClass, Series>();
      for (const status_class of STATUS_CLASSES) {
        const series: Series = {
          labels: { ...base, status_class },
          always: status_class === '2xx' || status_class === '5xx' || status_class === 'aborted',
          count: 0,
          sum: 0,
          buckets: new Float64Array(BUCKETS.length),
        };
        all.push(series);
        byClass.set(status_class, series);
      }
      const b: BoundRequestMetrics = {
        observe(status, finished, seconds) {
          const s = byClass.get(statusClassOf(status, finished));
          if (s === undefined) return;
          s.count++;
          s.sum += seconds;
          // Per bucket here; cumulative when read. Above the last bucket only +Inf (the count) has it.
          let i = 0;
          while (i < BUCKETS.length && seconds > (BUCKETS[i] as number)) i++;
          if (i < BUCKETS.length) s.buckets[i] = (s.buckets[i] ?? 0) + 1;
        },
      };
      bound.set(key, b);
      return b;
    },
  };
}

function zero(s: Series): void {
  s.count = 0;
  s.sum = 0;
  s.buckets.fill(0);
}
