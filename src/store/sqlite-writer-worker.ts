/**
 * The SQLite store's writer thread: its own connection to the store file runs every put
 * transaction, so a commit (tens of milliseconds for a 500-half slice) never holds the event
 * loop that parses requests and answers queries. WAL: the main thread's reads do not wait for it.
 *
 *   main thread ──{ id, batch }──▶ preparePut(connection)(batch) ──{ id, result } | { id, error }──▶ main thread
 *
 * The main thread migrated the file before starting this thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { ExchangeHalf } from './exchange-record.js';
import { configureConnection, preparePut } from './sqlite-put.js';

export interface WriterData {
  path: string;
  sync: 'full' | 'normal';
}
/** A batch to commit, or `close` (after the last batch: close the connection and end the thread). */
export type WriterRequest =
  | {
      id: number;
      /** The halves with an empty body: half i's body is bytes [ends[i-1], ends[i]) of `bodies`. */
      batch: ExchangeHalf[];
      bodies: ArrayBuffer;
      ends: Uint32Array;
    }
  | { close: true };
export type WriterReply =
  | { id: number; result: import('./store.js').PutResult }
  | { id: number; error: { message: string; code?: string } };

const { path, sync } = workerData as WriterData;
const db = new Database(path);
configureConnection(db, sync);
const put = preparePut(db);

parentPort!.on('message', (m: WriterRequest) => {
  if ('close' in m) {
    db.close();
    parentPort!.close();
    return;
  }
  const { id, batch, bodies, ends } = m;
  for (let i = 0, at = 0; i < batch.length; at = ends[i++]!) {
    batch[i]!.body = new Uint8Array(bodies, at, ends[i]! - at);
  }
  let reply: WriterReply;
  try {
    reply = { id, result: put(batch) };
  } catch (err) {
    // The transaction rolled back; only this request's callers hear about it.
    const e = err as { message?: unknown; code?: unknown };
    reply = {
      id,
      error: {
        message: typeof e.message === 'string' ? e.message : String(err),
        ...(typeof e.code === 'string' ? { code: e.code } : {}),
      },
    };
  }
  parentPort!.postMessage(reply);
});
