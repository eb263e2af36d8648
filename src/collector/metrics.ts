/** The collector's Prometheus metrics, on a registry of its own (several collectors can share a process in tests). */
import client from 'prom-client';
import type { PutResult } from '../store/store.js';

export interface CollectorMetrics {
  registry: client.Registry;
  received: client.Counter;
  stored: client.Counter;
  duplicates: client.Counter;
  rejected: client.Counter<'reason'>;
  commitSeconds: client.Histogram;
  /** Audit lines written (collector/audit.ts), by action. */
  auditEvents: client.Counter<'action'>;
  /** Audit lines that could not be written: the request they describe was refused (503). */
  auditFailures: client.Counter;
  /** `--log-instances`: rows stored, and exchanges that got none, by reason (formats/instances.ts). */
  instanceRows: client.Counter;
  instancesSkipped: client.Counter<'reason'>;
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
    'forbidden',
    'unauthenticated',
    'rate_limited',
  ])
    rejected.inc({ reason }, 0);
  const auditEvents = new client.Counter({
    name: 'inferlog_collector_audit_events_total',
    help: 'Audit lines written (body reads, listings with previews, erasures), by action.',
    labelNames: ['action'],
    registers,
  });
  for (const action of ['read', 'list', 'erase']) auditEvents.inc({ action }, 0);
  const instancesSkipped = new client.Counter({
    name: 'inferlog_collector_instances_skipped_total',
    help: 'Exchanges stored without instance rows (--log-instances), by why they could not be split.',
    labelNames: ['reason'],
    registers,
  });
  return {
    registry,
    instanceRows: new client.Counter({
      name: 'inferlog_collector_instance_rows_total',
      help: 'Instance rows (one per prediction) stored with --log-instances.',
      registers,
    }),
    instancesSkipped,
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
    auditEvents,
    auditFailures: new client.Counter({
      name: 'inferlog_collector_audit_failures_total',
      help: 'Audit lines that could not be written; the requests they describe were answered 503.',
      registers,
    }),
  };
}

/** Counts a commit's instance rows and skipped exchanges (`--log-instances`; HTTP and Kafka alike). */
export function countInstances(metrics: CollectorMetrics, result: PutResult): void {
  if (!result.instances) return;
  metrics.instanceRows.inc(result.instances.rows);
  for (const [reason, n] of Object.entries(result.instances.skipped))
    metrics.instancesSkipped.inc({ reason }, n);
}
