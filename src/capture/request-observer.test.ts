import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { modelLabelOf } from './request-observer.js';
import { UNMATCHED_MODEL } from '../core/exchange.js';
import { createRequestMetrics, statusClassOf } from '../pipeline/request-metrics.js';

describe('modelLabelOf: the model label is a configured name or (unmatched)', () => {
  const routes = { models: ['iris', 'mnist'], openaiModel: 'iris' };
  it.each([
    ['/v1/models/iris:predict', 'iris'],
    ['/v2/models/mnist/infer', 'mnist'],
    ['/v2/models/mnist/versions/2/infer', 'mnist'],
    ['/openai/v1/chat/completions', 'iris'],
    ['/v1/models/iris2:predict', UNMATCHED_MODEL],
    ['/v1/models/%ZZ:predict', UNMATCHED_MODEL], // a malformed escape names nothing (and throws nothing)
    ['/v2/health/ready', UNMATCHED_MODEL],
    ['/anything/else', UNMATCHED_MODEL],
  ])('%s → %s', (url, label) => {
    expect(modelLabelOf(url, routes)).toBe(label);
  });
});

describe('request metrics', () => {
  it('classes statuses, and a response that never finished is aborted', () => {
    expect(statusClassOf(200, true)).toBe('2xx');
    expect(statusClassOf(503, true)).toBe('5xx');
    expect(statusClassOf(200, false)).toBe('aborted');
    expect(statusClassOf(0, true)).toBe('aborted');
  });

  it('binds a model once and counts into fixed series', async () => {
    const registry = new Registry();
    const metrics = createRequestMetrics(registry);
    const where = { inferenceService: 'iris', namespace: 'ml', component: 'predictor', model: 'iris' };
    const bound = metrics.bind(where);
    expect(metrics.bind({ ...where })).toBe(bound);
    bound.observe(200, true, 0.02);
    bound.observe(502, true, 0.5);
    const text = await registry.metrics();
    expect(text).toContain(
      'inferlog_requests_total{inference_service="iris",namespace="ml",component="predictor",model="iris",status_class="2xx"} 1',
    );
    expect(text).toContain(
      'inferlog_requests_total{inference_service="iris",namespace="ml",component="predictor",model="iris",status_class="5xx"} 1',
    );
    expect(text).toContain(
      'inferlog_requests_total{inference_service="iris",namespace="ml",component="predictor",model="iris",status_class="aborted"} 0',
    );
  });
});
