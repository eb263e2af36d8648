/**
 * The SQLite store's writer thread, seen from the store: put() posts a batch and resolves when
 * the thread reports its commit (so a 2xx still means "committed").
 *
 *   put(batch) ──pack bodies, transfer──▶ Worker (sqlite-writer-worker.ts) ──reply──▶ resolve | reject
 *
 * A failed transaction rejects its own put only. A thread that dies (crash, out of memory)
 * rejects every put in flight (the collector answers 503, senders retry) and the next put starts
 * a new thread: nothing it had not reported committed is acknowledged.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import type { ExchangeHalf } from './exchange-record.js';
import type { PutResult } from './store.js';
import type { WriterData, WriterReply, WriterRequest } from './sqlite-writer-worker.js';

const BUILT = new URL('./sqlite-writer-worker.js', import.meta.url);
// Under vitest this module runs from src/ (TypeScript, which a worker cannot load); the test
// global setup builds dist/, where the same worker is compiled.
const WORKER_URL = existsSync(fileURLToPath(BUILT))
  ? BUILT
  : new URL('../../dist/store/sqlite-writer-worker.js', import.meta.url);

export interface SqliteWriter {
  put(batch: readonly ExchangeHalf[]): Promise<PutResult>;
  /** Waits for the puts in flight, then closes the thread's connection and ends it. */
  close(): Promise<void>;
}

export interface WriterOptions {
  /** The thread's heap limits (tests make it run out of memory). */
  resourceLimits?: ResourceLimits;
}

/** Every half's body in a message: one object, cloned once. */
const EMPTY = new Uint8Array(0);

interface Pending {
  resolve(r: PutResult): void;
  reject(err: Error): void;
}

export function createWorkerWriter(
  path: string,
  sync: 'full' | 'normal',
  options: WriterOptions = {},
): SqliteWriter {
  let worker: Worker | undefined;
  let nextId = 0;
  const pending = new Map<number, Pending>();
  const inFlight = new Set<Promise<unknown>>();

  function spawn(): Worker {
    const data: WriterData = { path, sync };
    const w = new Worker(WORKER_URL, {
      workerData: data,
      ...(options.resourceLimits ? { resourceLimits: options.resourceLimits } : {}),
    });
    // Idle, the thread does not keep the process alive; a put in flight does (see put()).
    w.unref();
    w.on('message', (r: WriterReply) => {
      const p = pending.get(r.id);
      if (!p) return;
      pending.delete(r.id);
      if (pending.size === 0) w.unref();
      if ('error' in r) {
        // Not catalogued: the thread's SqliteError, re-made on this side; receive.ts answers any store error as STORE_UNAVAILABLE.
        p.reject(Object.assign(new Error(r.error.message), r.error.code ? { code: r.error.code } : {}));
      } else p.resolve(r.result);
    });
    const died = (err: Error): void => {
      if (worker !== w) return;
      worker = undefined;
      // Whatever it had not reported committed is unacknowledged: its callers retry.
      const lost = [...pending.values()];
      pending.clear();
      for (const p of lost) p.reject(err);
    };
    // Not catalogued, like the store errors above: the callers' 503 STORE_UNAVAILABLE says it to senders.
    w.on('error', (err) =>
      died(new Error(`the sqlite writer thread failed: ${err.message}`, { cause: err })),
    );
    // Not catalogued, as above.
    w.on('exit', (code) => died(new Error(`the sqlite writer thread exited (code ${code})`)));
    return w;
  }

  return {
    put(batch) {
      worker ??= spawn();
      const w = worker;
      const id = nextId++;
      // One new buffer holds every body and is transferred, not copied: a body is often a view
      // into its whole request, which structured clone would copy whole, and cloning a view per
      // half costs more than this copy (~1.7 µs a half).
      let bytes = 0;
      for (const h of batch) bytes += h.body.byteLength;
      const packed = new Uint8Array(bytes);
      const ends = new Uint32Array(batch.length);
      const halves = batch.map((h, i) => {
        packed.set(h.body, i === 0 ? 0 : ends[i - 1]!);
        ends[i] = (i === 0 ? 0 : ends[i - 1]!) + h.body.byteLength;
        return { ...h, body: EMPTY };
      });
      const done = new Promise<PutResult>((resolve, reject) => {
        pending.set(id, { resolve, reject });
      });
      const message: WriterRequest = { id, batch: halves, bodies: packed.buffer, ends };
      w.ref();
      try {
        w.postMessage(message, [packed.buffer, ends.buffer]);
      } catch (err) {
        // Not sent (a value structured clone refuses): only this put fails; nothing was written.
        pending.delete(id);
        if (pending.size === 0) w.unref();
        // Not catalogued: structured clone's own error, answered as STORE_UNAVAILABLE like any store error.
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
      const settled = done.then(
        () => undefined,
        () => undefined,
      );
      inFlight.add(settled);
      void settled.then(() => inFlight.delete(settled));
      return done;
    },
    async close() {
      while (inFlight.size > 0) await Promise.all(inFlight);
      const w = worker;
      if (!w) return;
      worker = undefined;
      const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
      // An unreferenced thread would not keep the process alive until its 'exit' arrives.
      w.ref();
      w.postMessage({ close: true } satisfies WriterRequest);
      await exited;
    },
  };
}
