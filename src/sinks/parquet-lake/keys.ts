/**
 * Object keys of the `exchanges` layout: Hive-style partitions, so engines prune by directory.
 *
 *   <prefix>/namespace=<ns>/inferenceservice=<isvc>/date=YYYY-MM-DD/hour=HH/part-<origin>.parquet
 *
 * `date` and `hour` are the request's arrival in UTC. `<origin>` is the spool position of the
 * first record the object holds (core/record-origin.ts): re-sending the same records after a crash
 * names the same object, so the put overwrites it instead of adding a duplicate (sink.ts says why
 * that is enough). Namespace and InferenceService names come from configuration, and in `inferlog
 * up` a client's path can pick the model: values are escaped as Hive escapes partition values
 * (`%XX` for anything but letters, digits, `_`, `-` and `.`), so no value can add a path segment,
 * climb out of the prefix, or forge another partition.
 */
import type { Exchange } from '../../core/exchange.js';

/** 9999-12-31T23:59:59.999Z: the last instant a four-digit year (and a Parquet reader) takes. */
const MAX_TIME_MS = 253_402_300_799_999;

export interface Partition {
  readonly namespace: string;
  readonly inferenceservice: string;
  /** YYYY-MM-DD, UTC. */
  readonly date: string;
  /** 00..23, UTC. */
  readonly hour: string;
}

/** Hive's escaping of a partition value; the empty value is Hive's default partition name. */
export function escapePartitionValue(v: string): string {
  if (v === '') return '__HIVE_DEFAULT_PARTITION__';
  let out = '';
  for (const b of Buffer.from(v, 'utf8')) {
    const c = String.fromCharCode(b);
    // Each segment is `key=value`, so even `.` or `..` as a value is never a path step of its own.
    out += /[A-Za-z0-9_.-]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function unescapePartitionValue(v: string): string {
  if (v === '__HIVE_DEFAULT_PARTITION__') return '';
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

export function partitionOf(ex: Exchange): Partition {
  // Capture always sets a real time; an impossible one (from a damaged record) files under 1970.
  const ms = Number.isFinite(ex.requestTime) ? Math.min(Math.max(0, ex.requestTime), MAX_TIME_MS) : 0;
  const iso = new Date(Math.floor(ms)).toISOString(); // YYYY-MM-DDTHH:…Z
  return {
    namespace: ex.source.namespace,
    inferenceservice: ex.source.inferenceService,
    date: iso.slice(0, 10),
    hour: iso.slice(11, 13),
  };
}

/** `namespace=…/inferenceservice=…/date=…/hour=…` (no leading or trailing slash). */
export function partitionPath(p: Partition): string {
  return (
    `namespace=${escapePartitionValue(p.namespace)}/inferenceservice=${escapePartitionValue(p.inferenceservice)}` +
    `/date=${p.date}/hour=${p.hour}`
  );
}

/** The object key for a file of `partition` whose first record has `origin`. */
export function objectKey(prefix: string, partition: Partition, origin: string): string {
  const head = prefix === '' ? '' : `${prefix}/`;
  return `${head}${partitionPath(partition)}/part-${origin}.parquet`;
}
