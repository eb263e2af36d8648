/** `--retention 7d`: delete older exchanges once at start, then on a schedule. */
import type { OpLogger } from '../core/log.js';
import type { ExchangeStore } from '../store/store.js';

export interface Retention {
  stop(): void;
  /** One pass now; resolves with how many exchanges were deleted. */
  runOnce(): Promise<number>;
}

export function startRetention(
  store: ExchangeStore,
  retentionMs: number,
  log: OpLogger,
  now: () => number = Date.now,
): Retention {
  let busy = false;
  const runOnce = async (): Promise<number> => {
    if (busy) return 0;
    busy = true;
    try {
      const n = await store.deleteOlderThan(now() - retentionMs);
      if (n > 0) log.info('retention: deleted old exchanges', { deleted: n });
      return n;
    } catch (err) {
      log.warn('retention pass failed', { error: err instanceof Error ? err.message : String(err) });
      return 0;
    } finally {
      busy = false;
    }
  };
  // Often enough that the store never holds much more than the retention, at most hourly.
  const every = Math.max(1000, Math.min(3_600_000, Math.floor(retentionMs / 10)));
  const timer = setInterval(() => void runOnce(), every);
  timer.unref();
  return { stop: () => clearInterval(timer), runOnce };
}
