/**
 * Group commit in bounded slices: requests that arrive together share one store transaction, and
 * no transaction holds more than MAX_TX_HALVES halves or MAX_TX_BYTES body bytes.
 *
 *   request A (3 halves) ──────┐
 *   request B (10,000 halves) ─┼─▶ slices ≤ 500 ──▶ tx 1: A + B[0..497] ──yield──▶ tx 2: B[497..997] ──yield──▶ …
 *   request C (1 half) ────────┘                                                   └─ C joins the next tx with room
 *
 * Rules:
 * 1. A caller's promise resolves only after every transaction holding its halves has committed,
 *    so the HTTP 2xx still means "durably stored".
 * 2. Between transactions the queue yields to the event loop (setImmediate): SQLite commits
 *    synchronously, and one transaction of a whole 10,000-event batch held the loop for seconds,
 *    so /healthz timed out behind it (issue 16 item 8). A slice costs tens of milliseconds.
 * 3. At most one transaction runs at a time; what arrives meanwhile forms the next one.
 * 4. A failed transaction rejects every caller with halves in it, and their remaining slices are
 *    dropped. Slices that committed earlier stay stored: the sender's retry finds them as
 *    duplicates (the store is idempotent), so nothing is stored twice and nothing is lost.
 * 5. Except that one sender's halves must not fail its neighbours' (a value the database refuses:
 *    PostgreSQL's limit on an index entry, say): when a transaction holding several callers fails,
 *    each caller's slices go back to the head of the queue to be committed alone, and rule 4
 *    applies to those lone transactions. Nothing of the failed one was committed, so this is a
 *    plain second try.
 */
import type { ExchangeHalf } from '../store/exchange-record.js';
import { countInstances, type CollectorMetrics } from './metrics.js';
import type { ExchangeStore, PutResult } from '../store/store.js';

interface Waiter {
  /** Per half of the request, in order; filled in as its slices commit. */
  readonly fresh: boolean[];
  /** Halves not yet committed. */
  left: number;
  failed: boolean;
  resolve(r: PutResult): void;
  reject(err: unknown): void;
}

interface Slice {
  waiter: Waiter;
  /** Offset of these halves in the waiter's request. */
  at: number;
  halves: readonly ExchangeHalf[];
  /** Retried after a shared transaction failed: committed in a transaction of its caller's only (rule 5). */
  alone?: boolean;
}

export interface CommitQueue {
  submit(halves: readonly ExchangeHalf[]): Promise<PutResult>;
  /** Resolves when everything submitted so far has been committed (or failed). */
  drain(): Promise<void>;
}

export const MAX_TX_HALVES = 500;
/** Body bytes per transaction: writing and indexing bodies is most of a commit's cost. */
export const MAX_TX_BYTES = 512 * 1024;
/**
 * What a byte of a half that asks for instance rows (`--log-instances`) counts against MAX_TX_BYTES.
 * A request can make one row per two bytes (`[0,0,…]`), and a row costs ~10 µs to write (SQLite, 2
 * cores): 512 KiB of such bodies was seconds of event loop in one transaction. Weighted, a
 * transaction holds at most 32 KiB of them: ≤ 16,000 rows, under 200 ms.
 */
export const INSTANCE_BYTE_WEIGHT = 16;

const cost = (h: ExchangeHalf): number => h.body.byteLength * (h.instances ? INSTANCE_BYTE_WEIGHT : 1);

const nextTick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export function createCommitQueue(store: ExchangeStore, metrics: CollectorMetrics): CommitQueue {
  const pending: Slice[] = [];
  let running: Promise<void> | undefined;

  /** The next transaction: slices in arrival order, up to MAX_TX_HALVES halves and MAX_TX_BYTES body bytes. */
  function take(): Slice[] {
    const tx: Slice[] = [];
    let count = 0;
    let bytes = 0;
    while (pending.length > 0 && count < MAX_TX_HALVES && bytes < MAX_TX_BYTES) {
      const s = pending[0]!;
      if (s.waiter.failed) {
        pending.shift();
        continue;
      }
      if ((s.alone || tx[0]?.alone) && tx.length > 0 && tx[0]!.waiter !== s.waiter) break;
      // How many of this slice's halves fit (always at least one, so a huge half still goes).
      let n = 0;
      while (
        n < s.halves.length &&
        count < MAX_TX_HALVES &&
        (count === 0 || bytes + cost(s.halves[n]!) <= MAX_TX_BYTES)
      ) {
        bytes += cost(s.halves[n]!);
        count++;
        n++;
      }
      if (n === 0) break;
      if (n === s.halves.length) tx.push(pending.shift()!);
      else {
        // Split: fill this transaction, leave the rest at the head of the queue.
        tx.push({ waiter: s.waiter, at: s.at, halves: s.halves.slice(0, n) });
        pending[0] = { waiter: s.waiter, at: s.at + n, halves: s.halves.slice(n) };
      }
    }
    return tx;
  }

  async function flush(): Promise<void> {
    for (let tx = take(); tx.length > 0; tx = take()) {
      const end = metrics.commitSeconds.startTimer();
      try {
        const result = await store.putEvents(tx.flatMap((s) => s.halves));
        end();
        metrics.stored.inc(result.stored);
        metrics.duplicates.inc(result.duplicates);
        countInstances(metrics, result);
        let at = 0;
        for (const s of tx) {
          for (let i = 0; i < s.halves.length; i++) s.waiter.fresh[s.at + i] = result.fresh[at + i]!;
          at += s.halves.length;
          s.waiter.left -= s.halves.length;
          if (s.waiter.left === 0) {
            const stored = s.waiter.fresh.filter(Boolean).length;
            s.waiter.resolve({ stored, duplicates: s.waiter.fresh.length - stored, fresh: s.waiter.fresh });
          }
        }
      } catch (err) {
        end();
        if (new Set(tx.map((s) => s.waiter)).size > 1) {
          pending.unshift(...tx.map((s) => ({ ...s, alone: true })));
        } else {
          for (const s of tx) {
            if (s.waiter.failed) continue;
            s.waiter.failed = true;
            s.waiter.reject(err);
          }
        }
      }
      await nextTick();
    }
  }

  function kick(): void {
    if (running) return;
    running = nextTick()
      .then(flush)
      .finally(() => {
        running = undefined;
        if (pending.length > 0) kick();
      });
  }

  return {
    submit(halves) {
      return new Promise<PutResult>((resolve, reject) => {
        const waiter: Waiter = {
          fresh: new Array<boolean>(halves.length),
          left: halves.length,
          failed: false,
          resolve,
          reject,
        };
        if (halves.length === 0) return resolve({ stored: 0, duplicates: 0, fresh: [] });
        pending.push({ waiter, at: 0, halves });
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
