import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createRequestMetrics } from './request-metrics.js';

const labels = { inferenceService: 'iris', namespace: 'ns', component: 'predictor', model: 'iris' };

describe('per-model request metrics', () => {
  it("expose exactly what prom-client's own Counter and Histogram would for the same observations", async () => {
    const ours = new Registry();
    const m = createRequestMetrics(ours).bind(labels);
    const theirs = new Registry();
    const names = ['inference_service', 'namespace', 'component', 'model', 'status_class'];
    const counter = new Counter({
      name: 'inferlog_requests_total',
      help: 'Inference requests served, by model and status class (aborted: no response finished).',
      labelNames: names,
      registers: [theirs],
    });
    const histogram = new Histogram({
      name: 'inferlog_request_duration_seconds',
      help: 'From request arrival to the last response byte (or the abort), by model and status class.',
      labelNames: names,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [theirs],
    });
    const base = { inference_service: 'iris', namespace: 'ns', component: 'predictor', model: 'iris' };
    for (const cls of ['2xx', '5xx', 'aborted']) counter.labels({ ...base, status_class: cls }).inc(0);
    const observations: Array<[number, boolean, number]> = [
      [200, true, 0.003],
      [200, true, 0.005], // on a bucket's bound: counts in that bucket (le is inclusive)
      [200, true, 0.7],
      [404, true, 0.02],
      [503, true, 61],
      [200, false, 1.5],
    ];
    for (const [status, finished, seconds] of observations) {
      m.observe(status, finished, seconds);
      const cls = !finished ? 'aborted' : `${Math.floor(status / 100)}xx`;
      counter.labels({ ...base, status_class: cls }).inc();
      histogram.labels({ ...base, status_class: cls }).observe(seconds);
    }
    const sorted = async (r: Registry): Promise<string[]> => (await r.metrics()).split('\n').sort();
    expect(await sorted(ours)).toEqual(await sorted(theirs));
  });
});
