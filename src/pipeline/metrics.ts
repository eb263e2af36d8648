/**
 * The pipeline's Prometheus metrics, in a registry of their own (not prom-client's global one,
 * so embedding inferlog never clashes with a host's metrics).
 *
 *   submit ─captured─▶ stages ─sampled_out─▶ buffer ─dropped{reason}─▶ delivery ─retries, in_flight, latency─▶ delivered
 *
 * Hot-path counts are plain number increments that prom-client reads when scraped
 * (`collect`), so an exchange costs no metric work; the rest are updated per batch.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { DROP_REASONS, type DropReason } from './buffer.js';
import { createRequestMetrics, type RequestMetrics } from './request-metrics.js';

/** What a buffer reports at scrape time. */
export interface BufferLevel {
  bytes: number;
  records: number;
  /** The most bytes it holds before its when-full policy applies (the spool's maxBytes). */
  capacityBytes: number;
  /** False for a memory-only buffer: a crash loses what it holds. */
  persistent?: boolean;
}

export interface PipelineMetrics {
  readonly registry: Registry;
  /** Per-model request rate, errors and latency (capture feeds them; see request-metrics.ts). */
  readonly requests: RequestMetrics;
  /** Hot path: one exchange handed to `submit`. */
  captured(): void;
  /** For the sampler stage: exchanges it chose not to keep. */
  sampledOut(count?: number): void;
  dropped(reason: DropReason, count: number): void;
  delivered(count: number, latencySeconds: number): void;
  retried(): void;
  inFlight(delta: number): void;
  /** `log-instances`: instance rows a sink wrote, and exchanges it could not split (by reason). */
  instanceRows(count: number): void;
  instanceSkipped(reason: string, count?: number): void;
  /** Read at scrape time: a buffer's size (several pipelines may share one set of metrics; they add up). */
  watchBuffer(read: () => BufferLevel): void;
  /** Read at scrape time: whether a pipeline's sink is accepting deliveries. */
  watchSink(read: () => boolean): void;
  /** Prometheus text exposition of everything in the registry. */
  metricsText(): Promise<string>;
  /** Same as metricsText. */
  text(): Promise<string>;
}

export function createPipelineMetrics(
  options: { registry?: Registry; processMetrics?: boolean } = {},
): PipelineMetrics {
  const registry = options.registry ?? new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });

  let capturedCount = 0;
  let capturedReported = 0;
  let sampledOutCount = 0;
  let sampledOutReported = 0;
  // One registry may serve several pipelines (`inferlog up` with several models): gauges sum them.
  const buffers: (() => BufferLevel)[] = [];
  const sum = (k: 'bytes' | 'records' | 'capacityBytes'): number =>
    buffers.reduce((n, read) => n + read()[k], 0);
  const sinks: (() => boolean)[] = [];

  new Counter({
    name: 'inferlog_exchanges_captured_total',
    help: 'Exchanges handed to the pipeline by capture.',
    registers: [registry],
    collect() {
      this.inc(capturedCount - capturedReported);
      capturedReported = capturedCount;
    },
  });
  const delivered = new Counter({
    name: 'inferlog_exchanges_delivered_total',
    help: 'Exchanges the sink acknowledged.',
    registers: [registry],
  });
  const retries = new Counter({
    name: 'inferlog_delivery_retries_total',
    help: 'Sends retried after a retryable or throttle error.',
    registers: [registry],
  });
  const dropped = new Counter({
    name: 'inferlog_exchanges_dropped_total',
    help: 'Exchanges that will never reach the sink, by reason.',
    labelNames: ['reason'],
    registers: [registry],
  });
  // Every reason is exported from the start (as 0), so alerts can use rate() without absent().
  for (const reason of DROP_REASONS) dropped.inc({ reason }, 0);
  new Counter({
    name: 'inferlog_exchanges_sampled_out_total',
    help: 'Exchanges the sampler chose not to keep (each kept one carries its sample weight).',
    registers: [registry],
    collect() {
      this.inc(sampledOutCount - sampledOutReported);
      sampledOutReported = sampledOutCount;
    },
  });
  new Gauge({
    name: 'inferlog_spool_bytes',
    help: 'Bytes held by the delivery buffer (on disk for the spool).',
    registers: [registry],
    collect() {
      this.set(sum('bytes'));
    },
  });
  new Gauge({
    name: 'inferlog_spool_records',
    help: 'Exchanges held by the delivery buffer and not yet acknowledged by the sink.',
    registers: [registry],
    collect() {
      this.set(sum('records'));
    },
  });
  new Gauge({
    name: 'inferlog_spool_capacity_bytes',
    help: 'Bytes the delivery buffer may hold before its when-full policy applies (spool fill = spool_bytes / this).',
    registers: [registry],
    collect() {
      this.set(sum('capacityBytes'));
    },
  });
  new Gauge({
    name: 'inferlog_sinks_failing',
    help: 'Pipelines whose sink is failing deliveries now (0 when every sink accepts them).',
    registers: [registry],
    collect() {
      this.set(sinks.reduce((n, up) => n + (up() ? 0 : 1), 0));
    },
  });
  new Gauge({
    name: 'inferlog_buffer_memory_only',
    help: 'Pipelines whose delivery buffer is in memory only: a crash loses what it holds (counted at the next start as dropped{reason="crash"} when a state directory is writable).',
    registers: [registry],
    collect() {
      this.set(buffers.filter((read) => read().persistent === false).length);
    },
  });
  const latency = new Histogram({
    name: 'inferlog_delivery_latency_seconds',
    help: 'From the end of an exchange to the sink acknowledging it (observed per batch, for its oldest exchange).',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  const inFlight = new Gauge({
    name: 'inferlog_deliveries_in_flight',
    help: 'Batches being sent to the sink (including ones waiting to retry).',
    registers: [registry],
  });

  // Created on first use: only pipelines with `log-instances` export them.
  let instances: { rows: Counter; skipped: Counter<'reason'> } | undefined;
  const instanceCounters = (): { rows: Counter; skipped: Counter<'reason'> } =>
    (instances ??= {
      rows: new Counter({
        name: 'inferlog_instance_rows_total',
        help: 'Instance rows (one per prediction) the sink wrote (inferlog.dev/log-instances).',
        registers: [registry],
      }),
      skipped: new Counter({
        name: 'inferlog_instances_skipped_total',
        help: 'Exchanges the sink wrote without instance rows, by why they could not be split.',
        labelNames: ['reason'],
        registers: [registry],
      }),
    });

  return {
    registry,
    requests: createRequestMetrics(registry),
    captured() {
      capturedCount++;
    },
    sampledOut(count = 1) {
      sampledOutCount += count;
    },
    dropped(reason, count) {
      dropped.inc({ reason }, count);
    },
    delivered(count, latencySeconds) {
      delivered.inc(count);
      latency.observe(latencySeconds);
    },
    retried() {
      retries.inc();
    },
    inFlight(delta) {
      inFlight.inc(delta);
    },
    instanceRows(count) {
      instanceCounters().rows.inc(count);
    },
    instanceSkipped(reason, count = 1) {
      instanceCounters().skipped.inc({ reason }, count);
    },
    watchBuffer(read) {
      buffers.push(read);
    },
    watchSink(read) {
      sinks.push(read);
    },
    metricsText() {
      return registry.metrics();
    },
    text() {
      return registry.metrics();
    },
  };
}
