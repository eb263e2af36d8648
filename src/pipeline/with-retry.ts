/**
 * Policy as a wrapper: a Sink that retries retryable failures with capped, jittered
 * exponential backoff.
 *
 *   send(batch) ─▶ sink.send ─ok──────────────────────────────▶ resolve
 *                     │ permanent (4xx): rethrow at once, never retried
 *                     │ throttle: wait the peer's retryAfterMs ─┐
 *                     │ retryable: wait backoff(attempt) ───────┴─▶ again, at most maxRetries times, then rethrow
 *
 * The wait is cancellable: aborting `signal` rejects at once; aborting `policy.stop`
 * (shutdown's "stop retrying") lets the current attempt finish but starts no other.
 * The policy is one replaceable function, `delayMs`.
 *
 * @example
 *   const sink = withRetry(withTimeout(httpSink, 5_000), { maxRetries: 5, onRetry: () => metrics.retried() });
 */
import { InferlogError, isInferlogError } from '../core/errors.js';
import type { Exchange } from '../core/exchange.js';
import type { Sink } from '../sinks/sink.js';

export interface RetryPolicy {
  /** Retries after the first attempt; 0 = one attempt. */
  maxRetries: number;
  /** First backoff; doubles per attempt. Default 100 ms. */
  baseDelayMs?: number;
  /** Cap on one backoff (and on a peer's Retry-After). Default 30 s. */
  maxDelayMs?: number;
  /** The delay before retry number `attempt` (1-based). Default: full-jitter exponential backoff, Retry-After honoured. */
  delayMs?: (attempt: number, err: InferlogError) => number;
  /** Aborting it stops retrying (shutdown's first step): the attempt in progress finishes, no new one starts. */
  stop?: AbortSignal;
  /** Called before each retry (metrics, logs). */
  onRetry?: (attempt: number, err: InferlogError, delayMs: number) => void;
}

/** Full jitter (AWS architecture blog): uniform in [base·2^(n-1)/2, base·2^(n-1)], capped; throttles wait what the peer asked. */
export function backoffDelay(
  attempt: number,
  err: InferlogError,
  baseDelayMs = 100,
  maxDelayMs = 30_000,
): number {
  if (err.kind === 'throttle' && err.retryAfterMs !== undefined)
    return Math.min(err.retryAfterMs, maxDelayMs);
  const exp = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
  return exp / 2 + Math.random() * (exp / 2);
}

/** Anything a sink throws that is not an InferlogError is treated as a retryable I/O failure. */
export function asSinkError(err: unknown, sinkName: string): InferlogError {
  if (isInferlogError(err)) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new InferlogError('SINK_IO', `${sinkName}: ${msg}`, { cause: err });
}

export function withRetry(sink: Sink, policy: RetryPolicy): Sink {
  const delayOf =
    policy.delayMs ??
    ((n: number, e: InferlogError) => backoffDelay(n, e, policy.baseDelayMs, policy.maxDelayMs));
  return {
    name: sink.name,
    maxBatch: sink.maxBatch,
    start: () => sink.start(),
    shutdown: () => sink.shutdown(),
    async send(batch: readonly Exchange[], signal: AbortSignal): Promise<void> {
      for (let attempt = 0; ; attempt++) {
        try {
          await sink.send(batch, signal);
          return;
        } catch (raw) {
          if (signal.aborted) throw signal.reason;
          const err = asSinkError(raw, sink.name);
          if (err.kind === 'permanent' || attempt >= policy.maxRetries || policy.stop?.aborted) throw err;
          const wait = delayOf(attempt + 1, err);
          policy.onRetry?.(attempt + 1, err, wait);
          try {
            await sleep(wait, policy.stop ? AbortSignal.any([signal, policy.stop]) : signal);
          } catch {
            if (signal.aborted) throw signal.reason;
            throw err; // stopped retrying: the last error stands
          }
        }
      }
    },
  };
}

/** Resolves after `ms`, or rejects with the abort reason as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
