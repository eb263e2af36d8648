/**
 * Body-idle deadlines (nginx's client_body_timeout) for many requests, kept by one sweeping
 * interval instead of a timer per request: arming and clearing a socket timer for every request
 * cost about 13% of `inferlog up`'s throughput (BENCHMARKS.md), where this costs a Set insert,
 * a clock read per chunk and a delete.
 *
 *   add(onIdle) ──▶ watched set ◀── touch() on every chunk
 *                        │ sweep every max(50 ms, min(1 s, timeout / 4))
 *                        └─▶ idle ≥ timeout: removed, onIdle()
 *
 * A request is cut between `timeoutMs` and `timeoutMs` + one sweep after its last chunk.
 */
export interface BodyWatch {
  /** Starts watching a body; `onIdle` runs once if it then stays silent for the timeout. */
  add(onIdle: () => void): WatchedBody;
}

export interface WatchedBody {
  /** A chunk arrived. */
  touch(): void;
  /** The body is complete (or the request gone): stop watching. Idempotent. */
  done(): void;
}

export function createBodyWatch(timeoutMs: number): BodyWatch {
  const watched = new Set<Entry>();
  let sweeper: NodeJS.Timeout | undefined;
  const sweep = (): void => {
    const now = Date.now();
    for (const w of watched) {
      if (now - w.last < timeoutMs) continue;
      watched.delete(w);
      w.onIdle();
    }
  };
  interface Entry extends WatchedBody {
    last: number;
    onIdle(): void;
  }
  return {
    add(onIdle) {
      // Made on first use and kept: unref'd, it never holds the process open.
      sweeper ??= setInterval(sweep, Math.max(50, Math.min(1000, timeoutMs / 4))).unref();
      const entry: Entry = {
        last: Date.now(),
        onIdle,
        touch() {
          entry.last = Date.now();
        },
        done() {
          watched.delete(entry);
        },
      };
      watched.add(entry);
      return entry;
    },
  };
}
