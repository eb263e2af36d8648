/**
 * Contracts of the pipeline: what capture hands over, and the stages in between.
 *
 *   capture ──submit(Exchange)──▶ [Stage: sampler] ─▶ [Stage: redactor] ─▶ buffer (memory | disk spool)
 *                                                                              │
 *                                                  sink ◀── retry ◀── timeout ◀┘ (delivery loop, off the hot path)
 */
import type { Exchange } from '../core/exchange.js';

/**
 * A transform between capture and delivery. Rules are compiled when the config loads;
 * `apply` runs per exchange and must be synchronous and cheap. Returning undefined drops
 * the exchange (the sampler does that), and the stage counts why.
 */
export interface Stage {
  readonly name: string;
  apply(exchange: Exchange): Exchange | undefined;
}

/** What capture sees of the pipeline: one synchronous call that never blocks and never throws. */
export interface ExchangeSubmitter {
  /** Returns `false` when the exchange was not buffered (sampled out, or a stage failed); anything else means kept. */
  submit(exchange: Exchange): unknown;
}

export interface PipelineHealth {
  ok: boolean;
  sink: string;
  /** False while the sink is failing sends. */
  sinkUp: boolean;
  lastError?: string;
  /** When the sink started failing (RFC 3339), while it is down. */
  downSince?: string;
  buffered: number;
}

export interface Pipeline extends ExchangeSubmitter {
  start(): Promise<void>;
  /**
   * Stops accepting, then drains the buffer to the sink for at most `drainTimeoutMs`.
   * What is left stays in the spool (disk buffer) for the next start, or is counted as
   * dropped with reason `shutdown` (memory buffer). Idempotent.
   */
  shutdown(options?: { drainTimeoutMs?: number }): Promise<void>;
  health(): PipelineHealth;
  /** Whether the buffer survives a crash (the disk spool) or is memory only. */
  readonly persistent: boolean;
}
