/**
 * The batcher's Prometheus metrics, registered into the agent's (or `inferlog up`'s) registry.
 * Updated once per released batch, never per instance:
 *
 *   release ──▶ inferlog_batcher_batch_instances, _batch_requests (histograms)
 *           ──▶ inferlog_batcher_queue_wait_seconds (one observation per request)
 *           ──▶ inferlog_batcher_model_calls_total{outcome}, inferlog_batcher_model_calls_saved_total
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import type { BatchObserver } from './batcher.js';

const SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];

export function createBatcherMetrics(registry: Registry): BatchObserver {
  const instances = new Histogram({
    name: 'inferlog_batcher_batch_instances',
    help: 'Instances per merged model call.',
    buckets: SIZE_BUCKETS,
    registers: [registry],
  });
  const requests = new Histogram({
    name: 'inferlog_batcher_batch_requests',
    help: 'Client requests per merged model call.',
    buckets: SIZE_BUCKETS,
    registers: [registry],
  });
  const wait = new Histogram({
    name: 'inferlog_batcher_queue_wait_seconds',
    help: 'From a request joining a batch to the batch going to the model.',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const calls = new Counter({
    name: 'inferlog_batcher_model_calls_total',
    help: 'Merged model calls, by outcome (ok: the model answered 200; error: any other answer or none).',
    labelNames: ['outcome'],
    registers: [registry],
  });
  for (const outcome of ['ok', 'error']) calls.inc({ outcome }, 0);
  const saved = new Counter({
    name: 'inferlog_batcher_model_calls_saved_total',
    help: 'Model calls the batcher saved: client requests answered minus model calls made.',
    registers: [registry],
  });
  return {
    batched(e) {
      instances.observe(e.instances);
      requests.observe(e.requests);
      for (const ms of e.waitsMs) wait.observe(ms / 1000);
      calls.inc({ outcome: e.model?.status === 200 ? 'ok' : 'error' });
      saved.inc(e.requests - 1);
    },
  };
}
