/**
 * The pipeline: what capture hands every exchange to, and the loop that delivers them.
 *
 *   capture ──submit (sync)──▶ stages (sampler → redactor) ──append──▶ buffer: disk spool | memory queue (+ loss counter)
 *                                                                          │ read ≤ sink.maxBatch
 *                                                                          ▼  (or a partial batch after batchIntervalMs)
 *        ack ◀── withRetry(withTimeout(sink)) ◀── dispatch (≤ maxInFlight batches) ◀── delivery loop
 *
 * Hot path (`submit`): stages, then one append — for the spool that is one framed record,
 * written to the page cache with the turn's other records in one write at the end of the turn;
 * capture writes the last bytes of the response after that (turn-end.ts), so the redacted
 * record is on disk first. Nothing on it awaits, throws or grows unbounded.
 *
 * Off the hot path: the loop reads batches and sends them. A batch that still fails after
 * its retries is held and re-sent after a capped pause; while every delivery slot holds such
 * a batch the loop reads nothing more, so records wait in the buffer (on disk for the
 * spool), never in an unbounded heap. Every exchange ends delivered, or dropped with a
 * counted reason (buffer.ts), or — spool only — left on disk for the next start.
 *
 * Shutdown, as in the OpenTelemetry Collector: stop retrying, drain (each batch tried
 * once) until empty or `drainTimeoutMs`, abort what is still in flight, close the sink,
 * close the buffer.
 */
import type { Exchange } from '../core/exchange.js';
import { InferlogError } from '../core/errors.js';
import type { OpLogger } from '../core/log.js';
import { nowMs } from '../core/time.js';
import type { LoggerSettings } from '../config/settings.js';
import type { Sink } from '../sinks/sink.js';
import type { DeliveryBuffer, DropCounter, ReadBatch } from './buffer.js';
import { MemoryQueue } from './memory-queue.js';
import { CountedMemoryBuffer } from './loss-counter.js';
import { makeDirs } from '../core/make-dirs.js';
import { assertOwnDirectory } from '../core/private-files.js';
import { createPipelineMetrics, type PipelineMetrics } from './metrics.js';
import { Spool, type SpoolConfig } from './spool/index.js';
import type { Pipeline, PipelineHealth, Stage } from './types.js';
import { withTimeout } from './with-timeout.js';
import { asSinkError, sleep, withRetry } from './with-retry.js';

export interface PipelineOptions {
  sink: Sink;
  /** Applied in order on the hot path; a stage returning undefined drops the exchange (and counts why). */
  stages: readonly Stage[];
  settings: LoggerSettings;
  log: OpLogger;
  metrics?: PipelineMetrics;
  /** Batches sent at once. Default 4. */
  maxInFlight?: number;
  /** Backoff of a single retry; a held batch waits up to `maxHoldDelayMs` between rounds. Defaults 100 ms, 30 s. */
  baseRetryDelayMs?: number;
  maxHoldDelayMs?: number;
}

/** Throws InferlogError CONFIG_INVALID when the spool directory cannot be used (permissions, another owner). */
export function createPipeline(options: PipelineOptions): Pipeline {
  return new DeliveryPipeline(options);
}

function openSpool(config: SpoolConfig): Spool {
  try {
    return Spool.open(config);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    // Named by its option key: the CLI words it as the flag or annotation the person used.
    throw new InferlogError('CONFIG_INVALID', `${config.dir}: cannot use it as the spool (${why})`, {
      cause: err,
      details: { option: 'spool-dir', setting: 'spool directory' },
    });
  }
}

function openCountedMemory(
  memory: MemoryQueue,
  dir: string,
  onDrop: DropCounter,
  log: OpLogger,
): DeliveryBuffer {
  try {
    makeDirs(dir);
    assertOwnDirectory(dir, 'spool directory');
    return new CountedMemoryBuffer(memory, dir, onDrop, log);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new InferlogError(
      'CONFIG_INVALID',
      `${dir}: cannot keep the memory buffer's loss counter there (${why})`,
      // Named by its option key: the CLI words it as the flag or annotation the person used.
      { cause: err, details: { option: 'spool-dir', setting: 'spool directory' } },
    );
  }
}

type Waker = () => void;

class DeliveryPipeline implements Pipeline {
  private readonly sink: Sink;
  private readonly sender: Sink;
  private readonly buffer: DeliveryBuffer;
  private readonly metrics: PipelineMetrics;
  private readonly stages: readonly Stage[];
  private readonly log: OpLogger;
  private readonly settings: LoggerSettings;
  private readonly maxInFlight: number;
  private readonly maxHoldDelayMs: number;
  /**
   * For a sink of large batches (it sets maxBatchBytes: the exchanges lake): the most one batch may
   * gather, half the buffer's room, so that waiting to fill a batch never fills the buffer.
   */
  private readonly batchCaps: { records: number; bytes: number } | undefined;
  private readonly stopRetrying = new AbortController();
  private readonly abortSends = new AbortController();
  private inFlight = 0;
  private readonly dispatches = new Set<Promise<void>>();
  private dataWaker: Waker | undefined;
  private slotWaker: Waker | undefined;
  private started = false;
  private draining = false;
  private drainFailed = false;
  private loopDone: Promise<void> = Promise.resolve();
  private closing: Promise<void> | undefined;
  private sinkUp = true;
  private lastError: string | undefined;
  private downSince: number | undefined;
  private stageErrorsLogged = 0;

  constructor(o: PipelineOptions) {
    this.sink = o.sink;
    this.stages = o.stages;
    this.log = o.log;
    this.settings = o.settings;
    this.metrics = o.metrics ?? createPipelineMetrics();
    this.maxInFlight = Math.max(1, o.maxInFlight ?? o.sink.maxInFlight ?? 4);
    this.maxHoldDelayMs = o.maxHoldDelayMs ?? 30_000;
    const { spool, delivery } = o.settings;
    const onDrop = (reason: Parameters<PipelineMetrics['dropped']>[0], count: number): void =>
      this.metrics.dropped(reason, count);
    if (spool.dir !== undefined && spool.durability !== 'none') {
      this.buffer = openSpool({ ...spool, dir: spool.dir, durability: spool.durability, onDrop, log: o.log });
    } else {
      const memory = new MemoryQueue(
        delivery.memoryQueueSize,
        spool.whenFull,
        onDrop,
        delivery.memoryQueueBytes,
      );
      // Memory only, with a directory: count there what a SIGKILL would lose (loss-counter.ts).
      this.buffer = spool.dir === undefined ? memory : openCountedMemory(memory, spool.dir, onDrop, o.log);
    }
    const capacityBytes = this.buffer.persistent ? spool.maxBytes : delivery.memoryQueueBytes;
    if (o.sink.maxBatchBytes !== undefined)
      this.batchCaps = {
        bytes: Math.max(1, Math.min(o.sink.maxBatchBytes, Math.floor(capacityBytes / 2))),
        records: this.buffer.persistent ? Infinity : Math.max(1, Math.floor(delivery.memoryQueueSize / 2)),
      };
    this.metrics.watchBuffer(() => ({
      bytes: this.buffer.bytes,
      records: this.buffer.records,
      capacityBytes,
      persistent: this.buffer.persistent,
    }));
    this.metrics.watchSink(() => this.sinkUp);
    this.sender = withRetry(withTimeout(o.sink, delivery.timeoutMs), {
      maxRetries: delivery.maxRetries,
      baseDelayMs: o.baseRetryDelayMs ?? 100,
      maxDelayMs: this.maxHoldDelayMs,
      stop: this.stopRetrying.signal,
      onRetry: (_n, err) => {
        this.metrics.retried();
        this.markDown(err); // health reports a failing sink from its first failed attempt
      },
    });
  }

  get persistent(): boolean {
    return this.buffer.persistent;
  }

  submit(exchange: Exchange): boolean {
    // Never throws, never awaits: this runs before capture writes the response's last bytes.
    try {
      this.metrics.captured();
      let ex: Exchange | undefined = exchange;
      for (const stage of this.stages) {
        ex = stage.apply(ex);
        if (ex === undefined) return false;
      }
      this.buffer.append(ex);
      this.wakeData();
      return true;
    } catch (err) {
      this.metrics.dropped('stage_error', 1);
      if (this.stageErrorsLogged++ < 10)
        this.log.error('a pipeline stage failed; exchange dropped', { id: exchange.id, error: String(err) });
      return false;
    }
  }

  async start(): Promise<void> {
    if (this.started) return;
    await this.sink.start();
    this.started = true;
    this.loopDone = this.loop().catch((err: unknown) =>
      this.log.error('delivery loop stopped', { error: String(err) }),
    );
  }

  shutdown(options: { drainTimeoutMs?: number } = {}): Promise<void> {
    this.closing ??= this.close(options.drainTimeoutMs ?? this.settings.delivery.drainTimeoutMs);
    return this.closing;
  }

  health(): PipelineHealth {
    const h: PipelineHealth = {
      ok: this.sinkUp && this.closing === undefined,
      sink: this.sink.name,
      sinkUp: this.sinkUp,
      buffered: this.buffer.records,
    };
    if (this.lastError !== undefined) h.lastError = this.lastError;
    if (this.downSince !== undefined) h.downSince = new Date(this.downSince).toISOString();
    return h;
  }

  // ── delivery loop ───────────────────────────────────────────────────────────

  private async loop(): Promise<void> {
    for (;;) {
      if (this.abortSends.signal.aborted) return;
      if (this.draining && (this.drainFailed || (this.buffer.unread() === 0 && this.inFlight === 0))) return;
      if (this.inFlight >= this.maxInFlight) {
        await new Promise<void>((r) => (this.slotWaker = r));
        continue;
      }
      if (this.draining && this.buffer.unread() === 0) {
        await new Promise<void>((r) => (this.slotWaker = r));
        continue;
      }
      let batch: ReadBatch | undefined;
      try {
        batch = await this.nextBatch();
      } catch (err) {
        // A buffer read failed (disk error): the records stay where they are; try again shortly.
        this.log.error('cannot read the delivery buffer; retrying in 1 s', { error: String(err) });
        await sleep(1000, this.abortSends.signal).catch(() => {});
        continue;
      }
      if (batch) this.dispatch(batch);
    }
  }

  /**
   * Up to sink.maxBatch records (within batchCaps); a partial batch once batchIntervalMs has passed
   * since it began waiting, or once the batch holds half of what the buffer can.
   */
  private async nextBatch(): Promise<ReadBatch | undefined> {
    const max = Math.max(1, Math.min(this.sink.maxBatch, this.batchCaps?.records ?? Infinity));
    const full = (): boolean =>
      this.buffer.unread() >= max ||
      (this.batchCaps !== undefined && this.buffer.bytes >= this.batchCaps.bytes);
    if (this.buffer.unread() === 0) {
      await this.waitData(60_000);
      if (this.buffer.unread() === 0) return undefined;
    }
    // Let the rest of this event-loop turn's exchanges arrive first: under load one send then
    // carries many exchanges (one write, one timer) instead of one each. Costs at most one turn.
    if (max > 1 && this.buffer.unread() < max) await new Promise<void>((r) => setImmediate(r));
    const interval = this.sink.batchIntervalMs ?? this.settings.batchIntervalMs;
    if (max > 1 && interval > 0 && !this.draining) {
      const deadline = Date.now() + interval;
      while (!full() && !this.draining && !this.abortSends.signal.aborted) {
        const left = deadline - Date.now();
        if (left <= 0) break;
        await this.waitData(left);
      }
    }
    if (this.abortSends.signal.aborted) return undefined;
    return this.buffer.read(max, this.batchCaps?.bytes);
  }

  private dispatch(batch: ReadBatch): void {
    this.inFlight++;
    this.metrics.inFlight(1);
    const p = this.deliver(batch).finally(() => {
      this.inFlight--;
      this.metrics.inFlight(-1);
      this.dispatches.delete(p);
      const w = this.slotWaker;
      this.slotWaker = undefined;
      w?.();
    });
    this.dispatches.add(p);
  }

  private async deliver(batch: ReadBatch): Promise<void> {
    const n = batch.exchanges.length;
    for (let round = 0; ; round++) {
      try {
        await this.sender.send(batch.exchanges, this.abortSends.signal);
        this.buffer.ack(batch);
        const oldest = batch.exchanges[0] as Exchange;
        this.metrics.delivered(n, Math.max(0, (nowMs() - oldest.responseTime) / 1000));
        this.markUp();
        return;
      } catch (raw) {
        if (this.abortSends.signal.aborted) return; // shutdown: the batch stays in the buffer
        const err = asSinkError(raw, this.sink.name);
        if (err.kind === 'permanent') {
          this.buffer.ack(batch);
          this.metrics.dropped('rejected', n);
          this.log.warn('sink rejected a batch for good; dropped', {
            sink: this.sink.name,
            exchanges: n,
            code: err.code,
            error: err.message,
          });
          return;
        }
        this.markDown(err);
        if (this.draining) {
          this.drainFailed = true; // the sink is failing: what is left stays buffered
          return;
        }
        // Retries exhausted: hold the batch (it stays unacked) and try again after a pause.
        const pause = Math.min(this.maxHoldDelayMs, 1000 * 2 ** Math.min(round, 5));
        try {
          await sleep(pause, AbortSignal.any([this.stopRetrying.signal, this.abortSends.signal]));
        } catch {
          if (this.abortSends.signal.aborted) return;
          // stopRetrying during shutdown: one more try as part of the drain
        }
      }
    }
  }

  private markDown(err: InferlogError): void {
    this.lastError = `${err.code}: ${err.message}`;
    if (!this.sinkUp) return;
    this.sinkUp = false;
    this.downSince = Date.now();
    this.log.warn('sink is failing; exchanges wait in the buffer', {
      sink: this.sink.name,
      error: this.lastError,
      buffer: this.buffer.persistent ? 'spool' : 'memory',
    });
  }

  private markUp(): void {
    if (this.sinkUp) return;
    const downMs = Date.now() - (this.downSince ?? Date.now());
    this.sinkUp = true;
    this.downSince = undefined;
    this.log.info('sink is back', { sink: this.sink.name, downMs, buffered: this.buffer.records });
  }

  private waitData(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.dataWaker = undefined;
        resolve();
      }, ms);
      this.dataWaker = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  private wakeData(): void {
    const w = this.dataWaker;
    if (w) {
      this.dataWaker = undefined;
      w();
    }
  }

  private wakeAll(): void {
    this.wakeData();
    const s = this.slotWaker;
    this.slotWaker = undefined;
    s?.();
  }

  // ── shutdown ────────────────────────────────────────────────────────────────

  private async close(drainTimeoutMs: number): Promise<void> {
    const began = Date.now();
    // 1. stop retrying: held batches get one last try, retry sleeps end.
    // Abort reasons, not reported errors (plain on purpose: a sink classifies an abort whose
    // reason is not an InferlogError as its own timeout).
    this.stopRetrying.abort(new Error('shutdown: no more retries'));
    // 2. drain: the loop sends what is buffered (once each) until empty, failing, or out of time.
    this.draining = true;
    this.wakeAll();
    if (this.started) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.loopDone,
        new Promise<void>((r) => (timer = setTimeout(r, Math.max(0, drainTimeoutMs)))),
      ]);
      clearTimeout(timer);
    }
    // 3. abort what is still in flight; those batches stay unacked.
    this.abortSends.abort(new Error('shutdown: drain time is over'));
    this.wakeAll();
    await this.loopDone;
    await Promise.allSettled([...this.dispatches]);
    // 4. close the sink, then the buffer.
    try {
      await this.sink.shutdown();
    } catch (err) {
      this.log.warn('sink did not close cleanly', { sink: this.sink.name, error: String(err) });
    }
    const { lost, kept } = await this.buffer.close();
    if (lost > 0) this.metrics.dropped('shutdown', lost);
    const fields = { sink: this.sink.name, drainMs: Date.now() - began, lost, keptInSpool: kept };
    if (lost > 0) this.log.warn('pipeline stopped; undelivered exchanges in memory were dropped', fields);
    else this.log.info('pipeline stopped', fields);
  }
}
