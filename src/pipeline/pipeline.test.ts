import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultLoggerSettings, type LoggerSettings } from '../config/settings.js';
import type { Exchange } from '../core/exchange.js';
import { createOpLogger } from '../core/log.js';
import { exchange, RecordServer, recordSink } from '../../test/support/record-server.js';
import { metricValue, waitFor } from '../../test/support/wait.js';
import { createPipelineMetrics, type PipelineMetrics } from './metrics.js';
import { createPipeline } from './pipeline.js';
import type { Pipeline, Stage } from './types.js';

const log = createOpLogger('test', { write: () => true }, 'error');
const servers: RecordServer[] = [];
const pipelines: Pipeline[] = [];
afterEach(async () => {
  await Promise.all(pipelines.splice(0).map((p) => p.shutdown({ drainTimeoutMs: 0 })));
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

async function server(): Promise<RecordServer> {
  const s = await new RecordServer().start();
  servers.push(s);
  return s;
}

function settings(
  over: {
    spoolDir?: string;
    memoryQueueSize?: number;
    whenFull?: 'drop-newest' | 'drop-oldest';
    maxRetries?: number;
  } = {},
): LoggerSettings {
  const s = defaultLoggerSettings();
  s.spool.dir = over.spoolDir;
  s.spool.whenFull = over.whenFull ?? s.spool.whenFull;
  s.delivery.memoryQueueSize = over.memoryQueueSize ?? s.delivery.memoryQueueSize;
  s.delivery.maxRetries = over.maxRetries ?? 1;
  s.delivery.timeoutMs = 2000;
  return s;
}

async function start(
  url: string,
  s: LoggerSettings,
  stages: Stage[] = [],
  maxBatch = 16,
): Promise<{ pipeline: Pipeline; metrics: PipelineMetrics }> {
  const metrics = createPipelineMetrics({ processMetrics: false });
  const pipeline = createPipeline({
    sink: recordSink(url, maxBatch),
    stages,
    settings: s,
    log,
    metrics,
    baseRetryDelayMs: 5,
    maxHoldDelayMs: 50,
  });
  await pipeline.start();
  pipelines.push(pipeline);
  return { pipeline, metrics };
}

const spoolDir = (): string => mkdtempSync(join(tmpdir(), 'inferlog-pipe-'));
const many = (n: number): Exchange[] => Array.from({ length: n }, () => exchange());
const metric = async (m: PipelineMetrics, name: string, labels = ''): Promise<number> =>
  metricValue(await m.metricsText(), name, labels);

describe.each([
  ['memory queue', () => settings()],
  ['disk spool', () => settings({ spoolDir: spoolDir() })],
])('pipeline with the %s', (_name, make) => {
  it('delivers every submitted exchange exactly once, and counts it', async () => {
    const srv = await server();
    const { pipeline, metrics } = await start(srv.url, make());
    const sent = many(1000);
    for (const ex of sent) pipeline.submit(ex);
    await waitFor(() => srv.delivered === 1000, 'all delivered');
    await pipeline.shutdown();
    expect(srv.duplicates()).toBe(0);
    for (const ex of sent) expect(srv.counts.get(ex.id)).toBe(1);
    expect(await metric(metrics, 'inferlog_exchanges_captured_total')).toBe(1000);
    expect(await metric(metrics, 'inferlog_exchanges_delivered_total')).toBe(1000);
    expect(await metric(metrics, 'inferlog_spool_records')).toBe(0);
  });

  it('keeps records while the sink is down, reports it, holds few in flight, and delivers all once it is back', async () => {
    const srv = await server();
    srv.behaviour = { kind: 'status', status: 503 };
    const { pipeline, metrics } = await start(srv.url, make());
    for (const ex of many(500)) pipeline.submit(ex);
    await waitFor(() => !pipeline.health().sinkUp, 'sink reported down');
    const h = pipeline.health();
    expect(h.ok).toBe(false);
    expect(h.lastError).toMatch(/SINK_SERVER_ERROR/);
    expect(typeof h.downSince).toBe('string');
    expect(h.buffered).toBe(500);
    expect(await metric(metrics, 'inferlog_deliveries_in_flight')).toBeLessThanOrEqual(4);
    expect(await metric(metrics, 'inferlog_delivery_retries_total')).toBeGreaterThan(0);
    srv.behaviour = { kind: 'ok' };
    await waitFor(() => srv.delivered === 500, 'all delivered after recovery');
    await waitFor(() => pipeline.health().sinkUp, 'sink reported up');
    expect(pipeline.health().downSince).toBeUndefined();
    expect(srv.duplicates()).toBe(0);
  });

  it('drops a batch the sink rejects for good, without retrying, counted as rejected', async () => {
    const srv = await server();
    srv.behaviour = { kind: 'status', status: 400 };
    const { pipeline, metrics } = await start(srv.url, make(), [], 1);
    for (const ex of many(5)) pipeline.submit(ex);
    await waitFor(
      async () => (await metric(metrics, 'inferlog_exchanges_dropped_total', '{reason="rejected"}')) === 5,
      'rejections counted',
    );
    expect(srv.requests).toBe(5);
    expect(await metric(metrics, 'inferlog_delivery_retries_total')).toBe(0);
    expect(pipeline.health().sinkUp).toBe(true);
  });

  it('drains the buffer on shutdown before it closes the sink', async () => {
    const srv = await server();
    srv.behaviour = { kind: 'slow', ms: 30 };
    const { pipeline } = await start(srv.url, make());
    for (const ex of many(300)) pipeline.submit(ex);
    await pipeline.shutdown({ drainTimeoutMs: 20_000 });
    expect(srv.delivered).toBe(300);
    await pipeline.shutdown(); // idempotent
  });

  it('never throws from submit: a failing stage drops (counted), a dropping stage stops the exchange', async () => {
    const srv = await server();
    const boom: Stage = {
      name: 'boom',
      apply: (ex) =>
        ex.url === '/boom'
          ? (() => {
              throw new Error('bad rule');
            })()
          : ex,
    };
    const sampler: Stage = { name: 'sampler', apply: (ex) => (ex.url === '/skip' ? undefined : ex) };
    const { pipeline, metrics } = await start(srv.url, make(), [sampler, boom]);
    pipeline.submit({ ...exchange(), url: '/boom' });
    pipeline.submit({ ...exchange(), url: '/skip' });
    pipeline.submit(exchange());
    await waitFor(() => srv.delivered === 1, 'the good one delivered');
    expect(await metric(metrics, 'inferlog_exchanges_dropped_total', '{reason="stage_error"}')).toBe(1);
    await pipeline.shutdown();
    expect(() => pipeline.submit(exchange())).not.toThrow();
  });
});

describe('pipeline batching and accounting', () => {
  it('sends a partial batch once batchIntervalMs has passed, as one send', async () => {
    const srv = await server();
    const s = settings();
    s.batchIntervalMs = 50;
    const sink = recordSink(srv.url, 16);
    const pipeline = createPipeline({
      sink,
      stages: [],
      settings: s,
      log,
      metrics: createPipelineMetrics({ processMetrics: false }),
    });
    pipelines.push(pipeline);
    await pipeline.start();
    for (const ex of many(5)) pipeline.submit(ex);
    await waitFor(() => srv.delivered === 5, 'partial batch delivered');
    expect(sink.sends).toBe(1);
  });

  it('accounts for every captured exchange: sampled out + delivered + dropped + still buffered', async () => {
    const srv = await server();
    srv.behaviour = { kind: 'status', status: 400 };
    srv.remaining = 3; // the first three sends are rejected for good
    const metrics = createPipelineMetrics({ processMetrics: false });
    const sampler: Stage = {
      name: 'sampler',
      apply: (ex) => (ex.id.endsWith('0') ? (metrics.sampledOut(), undefined) : ex),
    };
    const s = settings({ memoryQueueSize: 50, whenFull: 'drop-newest' });
    const pipeline = createPipeline({
      sink: recordSink(srv.url, 1),
      stages: [sampler],
      settings: s,
      log,
      metrics,
    });
    pipelines.push(pipeline);
    await pipeline.start();
    for (const ex of many(400)) pipeline.submit(ex);
    await waitFor(async () => (await metric(metrics, 'inferlog_spool_records')) === 0, 'buffer empty');
    const text = await metrics.metricsText();
    const dropped = [
      'queue_full',
      'rejected',
      'stage_error',
      'shutdown',
      'spool_full',
      'spool_io',
      'corrupt',
    ].reduce((n, r) => n + metricValue(text, 'inferlog_exchanges_dropped_total', `{reason="${r}"}`), 0);
    const captured = metricValue(text, 'inferlog_exchanges_captured_total');
    const sampledOut = metricValue(text, 'inferlog_exchanges_sampled_out_total');
    const delivered = metricValue(text, 'inferlog_exchanges_delivered_total');
    expect(captured).toBe(400);
    expect(sampledOut).toBeGreaterThan(0);
    expect(metricValue(text, 'inferlog_exchanges_dropped_total', '{reason="rejected"}')).toBe(3);
    expect(sampledOut + delivered + dropped).toBe(captured);
    expect(srv.delivered).toBe(delivered);
  });
});

describe('pipeline, memory queue', () => {
  it('bounds memory while the sink hangs: drop-newest refuses past memoryQueueSize, counted', async () => {
    const srv = await server();
    srv.behaviour = { kind: 'hang' };
    const { pipeline, metrics } = await start(
      srv.url,
      settings({ memoryQueueSize: 100, whenFull: 'drop-newest' }),
    );
    for (const ex of many(1000)) pipeline.submit(ex);
    expect(pipeline.health().buffered).toBe(100);
    expect(await metric(metrics, 'inferlog_exchanges_dropped_total', '{reason="queue_full"}')).toBe(900);
  });

  it('counts what is still in memory at the end of the drain as dropped for shutdown', async () => {
    const srv = await server();
    srv.behaviour = { kind: 'hang' };
    const { pipeline, metrics } = await start(srv.url, settings());
    for (const ex of many(50)) pipeline.submit(ex);
    await pipeline.shutdown({ drainTimeoutMs: 200 });
    expect(await metric(metrics, 'inferlog_exchanges_dropped_total', '{reason="shutdown"}')).toBe(50);
  });
});

describe('pipeline, disk spool', () => {
  it('leaves what it could not deliver in the spool; the next start delivers it', async () => {
    const dir = spoolDir();
    const down = await server();
    down.behaviour = { kind: 'hang' };
    const first = await start(down.url, settings({ spoolDir: dir }));
    const sent = many(200);
    for (const ex of sent) first.pipeline.submit(ex);
    await first.pipeline.shutdown({ drainTimeoutMs: 200 });
    expect(await metric(first.metrics, 'inferlog_exchanges_dropped_total', '{reason="shutdown"}')).toBe(0);

    const up = await server();
    const second = await start(up.url, settings({ spoolDir: dir }));
    await waitFor(() => up.delivered === 200, 'leftovers delivered');
    for (const ex of sent) expect(up.counts.get(ex.id)).toBe(1);
    await second.pipeline.shutdown();
  });

  it('writes only what the stages produced: redacted data is what hits the disk', async () => {
    const dir = spoolDir();
    const srv = await server();
    srv.behaviour = { kind: 'hang' };
    const redactor: Stage = {
      name: 'redactor',
      apply: (ex) => ({
        ...ex,
        request: { ...ex.request!, bytes: new TextEncoder().encode('{"ssn":"[REDACTED]"}') },
      }),
    };
    const { pipeline } = await start(srv.url, settings({ spoolDir: dir }), [redactor]);
    pipeline.submit({
      ...exchange(),
      request: { bytes: new TextEncoder().encode('{"ssn":"123-45-6789"}'), size: 21, truncated: false },
    });
    await new Promise((r) => setImmediate(r)); // the spool writes a turn's records at its end
    const disk = readdirSync(dir)
      .filter((f) => f.startsWith('segment-'))
      .map((f) => readFileSync(join(dir, f)).toString('latin1'))
      .join('');
    expect(disk).toContain('[REDACTED]');
    expect(disk).not.toContain('123-45-6789');
  });

  it('bounds the spool while the sink hangs: drop-oldest keeps it under maxBytes, counted', async () => {
    const srv = await server();
    srv.behaviour = { kind: 'hang' };
    const s = settings({ spoolDir: spoolDir(), whenFull: 'drop-oldest' });
    s.spool.maxBytes = 512 * 1024;
    const { pipeline, metrics } = await start(srv.url, s);
    for (let i = 0; i < 2000; i++) pipeline.submit(exchange(undefined, 1024));
    const bytes = await metric(metrics, 'inferlog_spool_bytes');
    expect(bytes).toBeLessThanOrEqual(512 * 1024);
    const dropped = await metric(metrics, 'inferlog_exchanges_dropped_total', '{reason="spool_full"}');
    expect(dropped).toBeGreaterThan(0);
    expect(dropped + (await metric(metrics, 'inferlog_spool_records'))).toBe(2000);
  });
});

describe('pipeline feeding a sink with large batches (the exchanges lake)', () => {
  it.each([
    [
      'disk spool',
      (): LoggerSettings => {
        const s = settings({ spoolDir: spoolDir(), whenFull: 'drop-newest' });
        s.spool.maxBytes = 256 * 1024;
        return s;
      },
    ],
    ['memory queue', (): LoggerSettings => settings({ memoryQueueSize: 100 })],
  ])(
    'with the %s: sends once a batch holds half the buffer instead of waiting out the interval and dropping',
    async (_name, make) => {
      const got: Exchange[][] = [];
      const metrics = createPipelineMetrics({ processMetrics: false });
      const pipeline = createPipeline({
        sink: {
          name: 'big-batches',
          maxBatch: 1_000_000,
          maxInFlight: 1,
          maxBatchBytes: 1 << 30,
          batchIntervalMs: 600_000,
          start: async () => {},
          send: async (batch) => void got.push([...batch]),
          shutdown: async () => {},
        },
        stages: [],
        settings: make(),
        log,
        metrics,
      });
      await pipeline.start();
      pipelines.push(pipeline);
      // 300 exchanges of ~2 KiB: more than the spool (256 KiB) or the queue (100) holds at once.
      for (let i = 0; i < 300; i++) {
        pipeline.submit(exchange(`big-${i}`, 2000));
        if (i % 20 === 19) await new Promise((r) => setTimeout(r, 5));
      }
      // More than the buffer could ever hold went out without waiting for the interval; only the
      // last partial batch (under half the buffer) waits for it, as blob-max-age says.
      await waitFor(() => got.flat().length >= 200, 'batches sent long before the 10-minute interval');
      expect(await metric(metrics, 'inferlog_exchanges_dropped_total', '{reason="spool_full"}')).toBe(0);
      expect(await metric(metrics, 'inferlog_exchanges_dropped_total', '{reason="queue_full"}')).toBe(0);
    },
  );
});
