/**
 * Group commit: requests that arrive together share one store transaction.
 *
 *   request A ─┐
 *   request B ─┼─▶ pending halves ──(next tick)──▶ store.putEvents(all) ──▶ resolve A, B, C
 *   request C ─┘
 *
 * Each caller's promise resolves only after the transaction holding its halves has
 * committed, so the HTTP 2xx still means "durably stored". At most one commit runs at
 * a time; what arrives meanwhile forms the next batch.
 */
import type { ExchangeHalf } from '../store/exchange-record.js';
import type { CollectorMetrics } from './metrics.js';
import type { ExchangeStore, PutResult } from '../store/store.js';

interface Waiter {
  halves: readonly ExchangeHalf[];
  resolve(r: PutResult): void;
  reject(err: unknown): void;
}

export interface CommitQueue {
  submit(halves: readonly ExchangeHalf[]): Promise<PutResult>;
  /** Resolves when everything submitted so far has been committed (or failed). */
  drain(): Promise<void>;
}

const MAX_BATCH_HALVES = 5000;

export function createCommitQueue(store: ExchangeStore, metrics: CollectorMetrics): CommitQueue {
  let pending: Waiter[] = [];
  let running: Promise<void> | undefined;

  async function flush(): Promise<void> {
    while (pending.length > 0) {
      // Take waiters up to the batch cap (a single large request may exceed it on its own).
      let n = 0;
      let count = 0;
      while (n < pending.length && (count === 0 || count + pending[n]!.halves.length <= MAX_BATCH_HALVES))
        count += pending[n++]!.halves.length;
      const batch = pending.slice(0, n);
      pending = pending.slice(n);
      const end = metrics.commitSeconds.startTimer();
      try {
        const all = batch.flatMap((w) => w.halves);
        const result = await store.putEvents(all);
        end();
        metrics.stored.inc(result.stored);
        metrics.duplicates.inc(result.duplicates);
        let at = 0;
        for (const w of batch) {
          const fresh = result.fresh.slice(at, (at += w.halves.length));
          const stored = fresh.filter(Boolean).length;
          w.resolve({ stored, duplicates: fresh.length - stored, fresh });
        }
      } catch (err) {
        end();
        for (const w of batch) w.reject(err);
      }
    }
  }

  function kick(): void {
    if (running) return;
    running = new Promise<void>((resolve) => setImmediate(resolve)).then(flush).finally(() => {
      running = undefined;
      if (pending.length > 0) kick();
    });
  }

  return {
    submit(halves) {
      return new Promise<PutResult>((resolve, reject) => {
        pending.push({ halves, resolve, reject });
        kick();
      });
    },
    async drain() {
      while (running || pending.length > 0) {
        if (!running) kick();
        await running;
      }
    },
  };
}
