/** The collector's Prometheus metrics, on a registry of its own (several collectors can share a process in tests). */
import client from 'prom-client';

export interface CollectorMetrics {
  registry: client.Registry;
  received: client.Counter;
  stored: client.Counter;
  duplicates: client.Counter;
  rejected: client.Counter<'reason'>;
  commitSeconds: client.Histogram;
}

export function createCollectorMetrics(withProcessMetrics: boolean): CollectorMetrics {
  const registry = new client.Registry();
  if (withProcessMetrics) client.collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const rejected = new client.Counter({
    name: 'inferlog_collector_events_rejected_total',
    help: 'Requests rejected, by reason.',
    labelNames: ['reason'],
    registers,
  });
  // The reasons the server itself decides are exported from the start (as 0), so dashboards and
  // alerts see a rejected series before the first rejection (decode reasons appear when they occur).
  for (const reason of [
    'too_large',
    'bad_request',
    'too_many_events',
    'store_unavailable',
    'unauthenticated',
    'rate_limited',
  ])
    rejected.inc({ reason }, 0);
  return {
    registry,
    received: new client.Counter({
      name: 'inferlog_collector_events_received_total',
      help: 'CloudEvents received (decoded or not).',
      registers,
    }),
    stored: new client.Counter({
      name: 'inferlog_collector_events_stored_total',
      help: 'Event halves newly committed to the store.',
      registers,
    }),
    duplicates: new client.Counter({
      name: 'inferlog_collector_events_duplicate_total',
      help: 'Events already stored (retries), acknowledged without a second copy.',
      registers,
    }),
    rejected,
    commitSeconds: new client.Histogram({
      name: 'inferlog_collector_store_commit_seconds',
      help: 'Time to commit one batch to the store.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
  };
}
