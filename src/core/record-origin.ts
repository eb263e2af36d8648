/**
 * Where a buffered exchange came from: its place in the disk spool, as a stable string.
 *
 *   spool.read ──setOrigin(exchange, "<spool id>-<segment>-<offset>")──▶ batch ──▶ sink: originOf(exchange)
 *
 * Why a side table and not a field of Exchange: the origin belongs to one process's buffer, not
 * to the exchange (it is never encoded, never sent, and a memory queue has none). A sink that
 * names what it writes by the records it holds (the exchanges lake names each Parquet object
 * after its first record) uses it so that re-sending the same records after a crash writes the
 * same object again instead of a second copy. A WeakMap keeps it free: nothing outlives the
 * exchange, and no interface between the buffer and the sink changes.
 */
import type { Exchange } from './exchange.js';

const origins = new WeakMap<Exchange, string>();

/** Records where `exchange` sits in a durable buffer (called by the spool when it reads it). */
export function setOrigin(exchange: Exchange, origin: string): void {
  origins.set(exchange, origin);
}

/** The durable buffer position of `exchange`; undefined when it came from memory only. */
export function originOf(exchange: Exchange): string | undefined {
  return origins.get(exchange);
}
