/**
 * The `exchanges` layout's table: one row per exchange, typed columns. One list drives the
 * Parquet writer (encoder.ts), the readers (`inferlog query --from/--sql`) and the README table,
 * so they cannot disagree.
 *
 *   Exchange ──encoder.ts──▶ row of EXCHANGE_COLUMNS ──DuckDB COPY──▶ Parquet (zstd)
 *
 * Times are TIMESTAMP WITH TIME ZONE (Parquet: INT64 microseconds, isAdjustedToUTC), so Spark,
 * Trino, Athena, pyarrow and DuckDB all read an instant, not a wall-clock reading. Bodies are BLOB:
 * the captured bytes (already decoded from Content-Encoding unless `*_still_encoded`).
 */

export interface LakeColumn {
  readonly name: string;
  /** DuckDB type, as in CREATE TABLE. */
  readonly type: string;
  readonly doc: string;
}

const half = (h: 'request' | 'response'): LakeColumn[] => [
  { name: `${h}_body`, type: 'BLOB', doc: `the captured ${h} bytes (null when the mode does not log it)` },
  { name: `${h}_content_type`, type: 'VARCHAR', doc: 'Content-Type as sent' },
  { name: `${h}_content_encoding`, type: 'VARCHAR', doc: 'Content-Encoding as sent (the body is decoded)' },
  {
    name: `${h}_still_encoded`,
    type: 'BOOLEAN',
    doc: 'true when the body could not be decoded and is stored as sent',
  },
  { name: `${h}_size`, type: 'BIGINT', doc: 'bytes that crossed the wire' },
  { name: `${h}_truncated`, type: 'BOOLEAN', doc: 'true when only a prefix was captured' },
  { name: `${h}_sha256`, type: 'VARCHAR', doc: 'sha256 (hex) of the whole body, when truncated' },
];

export const EXCHANGE_COLUMNS: readonly LakeColumn[] = [
  { name: 'id', type: 'VARCHAR', doc: 'the exchange id (CloudEvents id)' },
  { name: 'time', type: 'TIMESTAMPTZ', doc: 'request arrival, UTC, microseconds' },
  { name: 'response_time', type: 'TIMESTAMPTZ', doc: 'response completion (or failure), UTC' },
  { name: 'latency_us', type: 'BIGINT', doc: 'response_time − time, microseconds' },
  { name: 'status', type: 'INTEGER', doc: 'HTTP status the client got; 0 when it got none' },
  { name: 'method', type: 'VARCHAR', doc: 'HTTP method' },
  { name: 'url', type: 'VARCHAR', doc: 'path and query as received' },
  { name: 'mode', type: 'VARCHAR', doc: 'logger mode: all, request or response' },
  { name: 'model', type: 'VARCHAR', doc: 'the model the V1/V2 path names, else the InferenceService' },
  { name: 'namespace', type: 'VARCHAR', doc: 'Kubernetes namespace' },
  { name: 'inferenceservice', type: 'VARCHAR', doc: 'InferenceService name' },
  { name: 'component', type: 'VARCHAR', doc: 'predictor, transformer or explainer' },
  { name: 'endpoint', type: 'VARCHAR', doc: 'KServe endpoint (default, canary)' },
  { name: 'source_uri', type: 'VARCHAR', doc: 'CloudEvents source' },
  { name: 'metadata', type: 'MAP(VARCHAR, VARCHAR[])', doc: 'allow-listed request headers' },
  { name: 'annotations', type: 'MAP(VARCHAR, VARCHAR)', doc: 'InferenceService annotations selected' },
  ...half('request'),
  ...half('response'),
  { name: 'error_code', type: 'VARCHAR', doc: 'why there is no proper response (UPSTREAM_…)' },
  { name: 'error_message', type: 'VARCHAR', doc: 'the failure, for humans' },
  { name: 'sample_weight', type: 'DOUBLE', doc: 'how many exchanges this row stands for (1/rate)' },
  {
    name: 'stream',
    type:
      'STRUCT(chunks INTEGER, ttfb_ms DOUBLE, ttlb_ms DOUBLE, partial BOOLEAN, reason VARCHAR, ' +
      'assembled_text VARCHAR, prompt_tokens BIGINT, completion_tokens BIGINT, total_tokens BIGINT)',
    doc: 'streamed (SSE/chunked) response summary',
  },
  { name: 'trace_id', type: 'VARCHAR', doc: 'W3C trace id (32 hex)' },
  { name: 'span_id', type: 'VARCHAR', doc: 'the span the exchange was logged under' },
  { name: 'parent_span_id', type: 'VARCHAR', doc: "the caller's span" },
  { name: 'trace_flags', type: 'INTEGER', doc: 'W3C trace flags' },
  { name: 'tracestate', type: 'VARCHAR', doc: 'W3C tracestate' },
  { name: 'trace_generated', type: 'BOOLEAN', doc: 'true when inferlog made the trace id (none came in)' },
  { name: 'batch_id', type: 'VARCHAR', doc: "request batcher: the merged model call's id" },
  { name: 'batch_size', type: 'INTEGER', doc: 'request batcher: exchanges merged' },
  { name: 'batch_position', type: 'INTEGER', doc: 'request batcher: place in the batch (−1: the call)' },
];

/** `CREATE TABLE <name> (…)` for the columns above. Names are ours, not user input. */
export function createTableSql(table: string): string {
  return `CREATE TABLE ${table} (${EXCHANGE_COLUMNS.map((c) => `"${c.name}" ${c.type}`).join(', ')})`;
}
