/**
 * Per-model request metrics: rate, errors and latency for every inference service, namespace,
 * component, model and status class, as the agent and `inferlog up` serve them.
 *
 *   request ──▶ capture ──finish/close──▶ observe(labels bound at config time, status, seconds)
 *
 * Every label value comes from configuration (flags, the InferenceService YAML) or from a fixed
 * set (status classes, `UNMATCHED_MODEL`), never from what a client sent: a client that sends
 * 10,000 model names or paths adds no series (principle 4). Labels are bound once per model
 * (`bind`), so an exchange costs two increments and no label lookup from request data.
 */
import { Counter, Histogram, type Registry } from 'prom-client';

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

const LABEL_NAMES = ['inference_service', 'namespace', 'component', 'model', 'status_class'] as const;

export function createRequestMetrics(registry: Registry): RequestMetrics {
  const requests = new Counter({
    name: 'inferlog_requests_total',
    help: 'Inference requests served, by model and status class (aborted: no response finished).',
    labelNames: LABEL_NAMES,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'inferlog_request_duration_seconds',
    help: 'From request arrival to the last response byte (or the abort), by model and status class.',
    labelNames: LABEL_NAMES,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
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
      // Children per status class, made once: the hot path looks up nothing a client chose.
      const counters = new Map<StatusClass, Counter.Internal>();
      const histograms = new Map<StatusClass, Histogram.Internal<(typeof LABEL_NAMES)[number]>>();
      for (const status_class of STATUS_CLASSES) {
        const child = requests.labels({ ...base, status_class });
        // Success and failure series exist from the start (as 0): error ratios and alerts never
        // meet an absent series.
        if (status_class === '2xx' || status_class === '5xx' || status_class === 'aborted') child.inc(0);
        counters.set(status_class, child);
        histograms.set(status_class, duration.labels({ ...base, status_class }));
      }
      const b: BoundRequestMetrics = {
        observe(status, finished, seconds) {
          const cls = statusClassOf(status, finished);
          counters.get(cls)?.inc();
          histograms.get(cls)?.observe(seconds);
        },
      };
      bound.set(key, b);
      return b;
    },
  };
}
