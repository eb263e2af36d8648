/**
 * The exchanges lake: `inferlog.dev/blob-layout: exchanges`. One Parquet row per exchange, in
 * Hive partitions, in files sized for analytics rather than one small object per batch.
 *
 *   spool ──batch (≤ maxBatch, or what blob-max-age gathered)──▶ send: group by partition
 *         ──encoder (DuckDB → Parquet)──▶ ObjectStore.put(<partition>/part-<origin of first record>.parquet)
 *         ──resolve──▶ pipeline acks the spool records
 *
 * Redaction and sampling ran before the spool (pipeline stages): nothing unredacted is written.
 *
 * Why a crash neither loses nor duplicates (the pipeline gives this sink one batch at a time,
 * `maxInFlight` 1):
 *  1. The spool forgets records only after `send` resolved, i.e. after every object of the batch
 *     was written whole (an ObjectStore put is all or nothing). A crash before that re-sends them.
 *  2. A re-sent batch starts at the same record: the acked position is where the unacked batch began.
 *  3. Each object is named after the spool origin of its own first record (core/record-origin.ts).
 *     The object an interrupted batch left in partition P begins with P's first record at or after
 *     that start, and so does the object the re-sent records write to P — whether the new batch is
 *     longer or shorter — so it is overwritten, never joined by a second copy.
 * From a memory buffer (no spool) records have no origin: names are per process, and a crash loses
 * what memory held anyway (counted at the next start, pipeline/loss-counter.ts).
 */
import { randomBytes } from 'node:crypto';
import type { Exchange } from '../../core/exchange.js';
import { InferlogError } from '../../core/errors.js';
import { originOf } from '../../core/record-origin.js';
import { openObjectStore } from '../../transport/object-store/open.js';
import type { ObjectStore } from '../../transport/object-store/object-store.js';
import type { Sink, SinkOptions } from '../sink.js';
import { lakeConfig, locationUrl, type LakeConfig } from './config.js';
import { createParquetEncoder, type ParquetEncoder } from './encoder.js';
import { objectKey, partitionOf, partitionPath, type Partition } from './keys.js';

/** Rows in a file at most, whatever the sizes say. */
const MAX_ROWS = 1_000_000;
/** Captured body bytes held in memory for one file at most: a sidecar must stay small. */
const MAX_BATCH_MEMORY = 256 * 1024 * 1024;
/** Rows of the first file, before there is a measured size per row. */
const FIRST_BATCH_ROWS = 10_000;

export function createLakeSink(url: string, options: Pick<SinkOptions, 'blob'>): Sink {
  return new LakeSink(lakeConfig(url, options.blob));
}

class LakeSink implements Sink {
  readonly name: string;
  readonly maxInFlight = 1;
  /** The spool loads no more than this for one file, however many rows maxBatch allows. */
  readonly maxBatchBytes = MAX_BATCH_MEMORY;
  readonly batchIntervalMs: number;
  private store: ObjectStore | undefined;
  private encoder: ParquetEncoder | undefined;
  private starting: Promise<void> | undefined;
  private closed = false;
  /** Per-process names for records that have no spool origin (memory buffer). */
  private readonly runId = randomBytes(6).toString('hex');
  private memorySeq = 0;
  /** Measured on the files written so far: stored bytes and captured body bytes per row. */
  private storedPerRow = 0;
  private rawPerRow = 0;

  constructor(private readonly config: LakeConfig) {
    this.name = `${locationUrl(config.location)} (layout exchanges)`;
    this.batchIntervalMs = config.maxAgeMs;
  }

  /** As many rows as make a file of about blob-target-bytes, within the memory bound. */
  get maxBatch(): number {
    if (this.storedPerRow === 0) return FIRST_BATCH_ROWS;
    const bySize = Math.floor(this.config.targetBytes / this.storedPerRow);
    const byMemory = Math.floor(MAX_BATCH_MEMORY / Math.max(1, this.rawPerRow));
    return Math.max(1, Math.min(MAX_ROWS, bySize, byMemory));
  }

  start(): Promise<void> {
    this.starting ??= (async () => {
      this.store = await openObjectStore(this.config.location);
      this.encoder = await createParquetEncoder();
    })();
    return this.starting;
  }

  async send(batch: readonly Exchange[], signal: AbortSignal): Promise<void> {
    if (batch.length === 0) return;
    if (this.closed || !this.store || !this.encoder)
      throw new InferlogError('SINK_IO', `${this.name}: the sink is not open`);
    const { store, encoder } = this;
    // Every file is encoded before any is written: a batch DuckDB refuses is rejected whole, so
    // no part of a batch counted as dropped is in the lake.
    const files: { key: string; bytes: Uint8Array; rows: Exchange[] }[] = [];
    for (const group of byPartition(batch)) {
      const first = group.exchanges[0] as Exchange;
      const origin = originOf(first) ?? `mem${this.runId}-${String(this.memorySeq++).padStart(10, '0')}`;
      try {
        files.push({
          key: objectKey(this.config.location.prefix, group.partition, origin),
          bytes: await encoder.encode(group.exchanges),
          rows: group.exchanges,
        });
      } catch (err) {
        throw encodeError(this.name, err);
      }
    }
    for (const f of files) {
      if (signal.aborted) throw new InferlogError('SINK_TIMEOUT', `${this.name}: send aborted`);
      await store.put(f.key, f.bytes, { contentType: 'application/vnd.apache.parquet', signal });
      this.measure(f.rows, f.bytes.byteLength);
    }
  }

  async shutdown(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.starting?.catch(() => {});
    await this.encoder?.close();
    await this.store?.close();
  }

  private measure(rows: readonly Exchange[], stored: number): void {
    let raw = 0;
    for (const ex of rows)
      raw += 512 + (ex.request?.bytes.byteLength ?? 0) + (ex.response?.bytes.byteLength ?? 0);
    // A moving average: one odd file does not swing the next file's size.
    const w = this.storedPerRow === 0 ? 1 : 0.5;
    this.storedPerRow = (1 - w) * this.storedPerRow + w * (stored / rows.length);
    this.rawPerRow = (1 - w) * this.rawPerRow + w * (raw / rows.length);
  }
}

/** The batch split by partition, each part in spool order. */
function byPartition(batch: readonly Exchange[]): { partition: Partition; exchanges: Exchange[] }[] {
  const groups = new Map<string, { partition: Partition; exchanges: Exchange[] }>();
  for (const ex of batch) {
    const partition = partitionOf(ex);
    const path = partitionPath(partition);
    let g = groups.get(path);
    if (!g) groups.set(path, (g = { partition, exchanges: [] }));
    g.exchanges.push(ex);
  }
  return [...groups.values()];
}

/**
 * The local side of writing a file failed. A full or failing temp disk may recover: retry. Anything
 * else is a row DuckDB would refuse again: reject the batch for good (counted `rejected`), rather
 * than hold every later exchange behind it.
 */
function encodeError(name: string, err: unknown): InferlogError {
  const message = err instanceof Error ? err.message : String(err);
  const retry = /IO Error|Out of Memory|ENOSPC|EIO|EMFILE/i.test(message);
  return new InferlogError(
    retry ? 'SINK_IO' : 'SINK_REJECTED',
    `${name}: cannot write a Parquet file: ${message}`,
    { cause: err },
  );
}
