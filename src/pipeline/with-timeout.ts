/**
 * Policy as a wrapper: a Sink whose sends give up after `ms`.
 *
 *   send(batch) ──▶ sink.send(batch, signal ∪ timer) ──▶ resolves, or rejects SINK_TIMEOUT after ms
 *
 * The inner send gets an AbortSignal that fires at the deadline (and when the caller aborts);
 * the wrapper rejects at the deadline even if the inner sink ignores the signal, so a stuck
 * peer can never hold a delivery slot for longer than `ms`.
 *
 * @example
 *   const sink = withRetry(withTimeout(httpSink, 5_000), { maxRetries: 5 });
 */
import { InferlogError } from '../core/errors.js';
import type { Exchange } from '../core/exchange.js';
import type { Sink } from '../sinks/sink.js';

export function withTimeout(sink: Sink, ms: number): Sink {
  if (!(ms > 0)) return sink;
  return {
    name: sink.name,
    maxBatch: sink.maxBatch,
    start: () => sink.start(),
    shutdown: () => sink.shutdown(),
    send(batch: readonly Exchange[], signal: AbortSignal): Promise<void> {
      if (signal.aborted) return Promise.reject(signal.reason);
      const inner = new AbortController();
      return new Promise<void>((resolve, reject) => {
        const onAbort = (): void => {
          inner.abort(signal.reason);
          finish(() => reject(signal.reason));
        };
        const timer = setTimeout(() => {
          const err = new InferlogError(
            'SINK_TIMEOUT',
            `${sink.name} did not accept a batch of ${batch.length} within ${ms} ms`,
          );
          inner.abort(err);
          finish(() => reject(err));
        }, ms);
        let done = false;
        const finish = (settle: () => void): void => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          settle();
        };
        signal.addEventListener('abort', onAbort, { once: true });
        sink.send(batch, inner.signal).then(
          () => finish(resolve),
          (err: unknown) => finish(() => reject(err)),
        );
      });
    },
  };
}
